//! Continuing an incoming trace: `set_parent`, `set_parent_from_headers`, `continue_trace`.

use tracing_sentry::propagation::PropagationContext;
use tracing_sentry::{SentryLayer, SentrySpanExt, SetParentError};

use crate::support::*;

const FULL_BAGGAGE: &str = "sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-public_key=49d0f7386ad645858ae85020e393bef3,sentry-sample_rate=0.25,sentry-sampled=true,sentry-sample_rand=0.123456,sentry-environment=prod,sentry-release=up%401,sentry-transaction=GET%20%2Fup,other=x";

fn incoming(flag: &str, baggage: Option<&str>) -> http::HeaderMap {
    let trace = format!("{TRACE}-{PARENT}{flag}");
    let mut pairs = vec![("sentry-trace", trace.as_str())];
    if let Some(b) = baggage {
        pairs.push(("baggage", b));
    }
    headers(&pairs)
}

#[test]
fn an_entered_instrumented_span_continues_the_callers_trace() {
    #[tracing::instrument(skip_all)]
    fn handler(incoming: &http::HeaderMap) -> (http::HeaderMap, tracing_sentry::TraceContext) {
        let span = tracing::Span::current();
        span.set_parent_from_headers(incoming)
            .expect("a fresh span accepts a parent");
        let child = tracing::info_span!("db");
        let _g = child.enter();
        (
            tracing_sentry::current_headers(),
            span.trace_context().unwrap(),
        )
    }
    let layer = layer(SentryLayer::builder().traces_sample_rate(1.0));
    with_layer(layer, || {
        let (out, ctx) = handler(&incoming("-1", Some(FULL_BAGGAGE)));
        assert_eq!(ctx.trace_id().to_string(), TRACE);
        assert_eq!(
            ctx.parent_span_id().map(|s| s.to_string()).as_deref(),
            Some(PARENT)
        );
        let (trace, span, flag) = sentry_trace(&out);
        assert_eq!(trace, TRACE);
        assert_ne!(
            span, PARENT,
            "the outgoing parent is our span, never the caller's"
        );
        assert_ne!(span, ctx.span_id().to_string(), "the child made the call");
        assert_eq!(flag.as_deref(), Some("1"));
        // The incoming DSC is frozen and forwarded as is, without third-party members.
        let dsc = dsc_of(&out);
        let expected: std::collections::BTreeMap<String, String> = [
            ("trace_id", TRACE),
            ("public_key", "49d0f7386ad645858ae85020e393bef3"),
            ("sample_rate", "0.25"),
            ("sampled", "true"),
            ("sample_rand", "0.123456"),
            ("environment", "prod"),
            ("release", "up@1"),
            ("transaction", "GET /up"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(dsc, expected);
        assert!(foreign_members(&out).is_empty(), "other=x is not forwarded");
    });
}

#[test]
fn the_incoming_decision_wins_over_the_local_rate() {
    for (flag, rate, expected) in [("-1", 0.0, "1"), ("-0", 1.0, "0")] {
        let layer = layer(SentryLayer::builder().traces_sample_rate(rate));
        with_layer(layer, || {
            let span = tracing::info_span!("request");
            span.set_parent_from_headers(&incoming(flag, Some(FULL_BAGGAGE)))
                .unwrap();
            let out = span.propagation_headers();
            assert_eq!(sentry_trace(&out).2.as_deref(), Some(expected));
            assert_eq!(
                dsc_of(&out)["sample_rate"],
                "0.25",
                "inherited: the rate is kept"
            );
        });
    }
}

#[test]
fn a_deferred_parent_is_sampled_locally_with_the_incoming_sample_rand() {
    let baggage = "sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-sample_rand=0.9";
    for (rand_baggage, rate, flag) in [
        (baggage, 0.5, "0"),
        (&*baggage.replace("0.9", "0.1"), 0.5, "1"),
    ] {
        let layer = layer(SentryLayer::builder().traces_sample_rate(rate));
        with_layer(layer, || {
            let span = tracing::info_span!("request");
            span.set_parent_from_headers(&incoming("", Some(rand_baggage)))
                .unwrap();
            let out = span.propagation_headers();
            assert_eq!(sentry_trace(&out).2.as_deref(), Some(flag));
            let dsc = dsc_of(&out);
            assert_eq!(
                dsc["sample_rate"], "0.5",
                "the locally applied rate is written"
            );
            assert!(
                !dsc.contains_key("sampled"),
                "sampled is not added to a frozen DSC"
            );
        });
    }
}

#[test]
fn a_missing_sample_rand_is_backfilled_consistently_with_the_incoming_decision() {
    let layer = layer(SentryLayer::builder().traces_sample_rate(1.0));
    with_layer(layer, || {
        for (flag, lo, hi) in [("-1", 0.0, 0.01), ("-0", 0.01, 1.0)] {
            let span = tracing::info_span!("request");
            let baggage =
                "sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-sample_rate=0.01";
            span.set_parent_from_headers(&incoming(flag, Some(baggage)))
                .unwrap();
            let dsc = dsc_of(&span.propagation_headers());
            let rand: f64 = dsc["sample_rand"].parse().unwrap();
            assert!(
                rand >= lo && rand < hi,
                "{flag}: {rand} not in [{lo}, {hi})"
            );
        }
    });
}

#[test]
fn sentry_trace_without_sentry_baggage_freezes_an_empty_dsc() {
    let layer = layer(
        SentryLayer::builder()
            .dsn_str(DSN)
            .release("r1")
            .traces_sample_rate(1.0),
    );
    with_layer(layer, || {
        let span = tracing::info_span!("request");
        span.set_parent_from_headers(&incoming("-1", Some("vendor=a")))
            .unwrap();
        let out = span.propagation_headers();
        assert_eq!(sentry_trace(&out).0, TRACE);
        assert!(
            !out.contains_key("baggage"),
            "no Sentry baggage for this trace: {out:?}"
        );
    });
}

#[test]
fn a_missing_sentry_trace_leaves_the_span_a_new_root() {
    with_layer(SentryLayer::new(), || {
        let span = tracing::info_span!("request");
        let before = span.trace_context().unwrap();
        let result = span.set_parent_from_headers(&headers(&[("baggage", FULL_BAGGAGE)]));
        assert_eq!(result, Ok(()));
        assert_eq!(
            span.trace_context(),
            Some(before),
            "baggage alone is ignored"
        );
    });
}

#[test]
fn malformed_headers_are_a_typed_error_and_the_span_keeps_working() {
    let layer = layer(SentryLayer::builder());
    let stats_layer = layer.clone();
    with_layer(layer, || {
        let span = tracing::info_span!("request");
        let err = span
            .set_parent_from_headers(&headers(&[("sentry-trace", "secret-garbage-1")]))
            .unwrap_err();
        assert!(matches!(err, SetParentError::InvalidHeaders(_)), "{err:?}");
        assert!(
            !format!("{err:?}{err}").contains("secret"),
            "errors never echo header bytes"
        );
        let ctx = span.trace_context().unwrap();
        assert_ne!(ctx.trace_id().to_string(), TRACE);
        assert_eq!(ctx.parent_span_id(), None);
    });
    assert_eq!(stats_layer.stats().invalid_incoming_headers, 1);
}

#[test]
fn a_span_with_children_refuses_a_remote_parent() {
    with_layer(SentryLayer::new(), || {
        let span = tracing::info_span!("request");
        let _child = tracing::info_span!(parent: &span, "child");
        assert_eq!(
            span.set_parent_from_headers(&incoming("-1", None)),
            Err(SetParentError::AlreadyStarted)
        );
    });
}

#[test]
fn a_span_that_propagated_refuses_a_remote_parent() {
    with_layer(SentryLayer::new(), || {
        let span = tracing::info_span!("request");
        let _ = span.propagation_headers();
        assert_eq!(
            span.set_parent_from_headers(&incoming("-1", None)),
            Err(SetParentError::AlreadyStarted)
        );
        let other = tracing::info_span!("other");
        let _ = other.trace_context();
        assert_eq!(
            other.set_parent_from_headers(&incoming("-1", None)),
            Ok(()),
            "reading the context is not propagating"
        );
    });
}

#[test]
fn an_unsampled_child_can_become_a_local_root_until_it_has_children() {
    let layer = layer(SentryLayer::builder().traces_sample_rate(0.0));
    with_layer(layer, || {
        let server = tracing::info_span!("server");
        let handler = tracing::info_span!(parent: &server, "handler");
        handler
            .set_parent_from_headers(&incoming("-1", None))
            .unwrap();
        let ctx = handler.trace_context().unwrap();
        assert_eq!(ctx.trace_id().to_string(), TRACE);
        assert_eq!(ctx.sampled(), Some(true));

        let busy = tracing::info_span!(parent: &server, "busy");
        let _grandchild = tracing::info_span!(parent: &busy, "grandchild");
        assert_eq!(
            busy.set_parent_from_headers(&incoming("-1", None)),
            Err(SetParentError::AlreadyStarted)
        );
    });
}

#[test]
fn children_created_after_set_parent_join_the_continued_trace() {
    with_layer(SentryLayer::new(), || {
        let span = tracing::info_span!("request");
        span.set_parent_from_headers(&incoming("-1", None)).unwrap();
        let child = tracing::info_span!(parent: &span, "child");
        assert_eq!(child.trace_context().unwrap().trace_id().to_string(), TRACE);
    });
}

#[test]
fn disabled_spans_and_missing_layers_are_typed_errors() {
    let ctx = PropagationContext::from_headers(&incoming("-1", None))
        .unwrap()
        .unwrap();
    assert_eq!(
        tracing::Span::none().set_parent(ctx.clone()),
        Err(SetParentError::SpanDisabled)
    );
    tracing::subscriber::with_default(tracing_subscriber::registry(), || {
        let span = tracing::info_span!("no layer");
        assert_eq!(
            span.set_parent(ctx.clone()),
            Err(SetParentError::LayerNotFound)
        );
    });
}

#[test]
fn continue_trace_makes_the_first_new_span_a_continued_root() {
    with_layer(SentryLayer::new(), || {
        let outer = tracing::info_span!("connection");
        let _g = outer.enter();
        let ctx = PropagationContext::from_headers(&incoming("-0", None))
            .unwrap()
            .unwrap();
        let (first, second) = tracing_sentry::continue_trace(ctx, || {
            (tracing::info_span!("request"), tracing::info_span!("other"))
        });
        let first = first.trace_context().unwrap();
        assert_eq!(first.trace_id().to_string(), TRACE);
        assert_eq!(first.parent_span_id().unwrap().to_string(), PARENT);
        assert_eq!(first.sampled(), Some(false));
        let second = second.trace_context().unwrap();
        assert_ne!(
            second.trace_id().to_string(),
            TRACE,
            "only the first span continues"
        );
        let after = tracing::info_span!(parent: None, "after");
        assert_ne!(after.trace_context().unwrap().trace_id().to_string(), TRACE);
    });
}

#[test]
fn a_waiting_remote_parent_belongs_to_its_thread_and_outlives_a_nested_empty_continue_trace() {
    with_layer(SentryLayer::new(), || {
        let ctx = || {
            PropagationContext::from_headers(&incoming("-1", None))
                .unwrap()
                .unwrap()
        };
        let dispatch = tracing::dispatcher::get_default(Clone::clone);
        let (elsewhere, nested, first) = tracing_sentry::continue_trace(ctx(), || {
            // A span made on another thread meanwhile starts its own trace.
            let elsewhere = std::thread::spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    tracing::info_span!("elsewhere").trace_context().unwrap()
                })
            })
            .join()
            .unwrap();
            // A nested call that creates no span leaves the outer parent waiting.
            let nested = tracing_sentry::continue_trace(ctx(), || 7);
            let first = tracing::info_span!("request").trace_context().unwrap();
            (elsewhere, nested, first)
        });
        assert_ne!(elsewhere.trace_id().to_string(), TRACE);
        assert_eq!(nested, 7);
        assert_eq!(first.trace_id().to_string(), TRACE);
        assert_eq!(first.parent_span_id().unwrap().to_string(), PARENT);

        // A closure that panics discards its parent: the next span starts a new trace.
        let caught = std::panic::catch_unwind(|| {
            tracing_sentry::continue_trace(ctx(), || panic!("before any span"))
        });
        assert!(caught.is_err());
        let after = tracing::info_span!("after").trace_context().unwrap();
        assert_ne!(after.trace_id().to_string(), TRACE);
    });
}

#[test]
fn strict_trace_continuation_refuses_foreign_or_missing_org_ids() {
    let cases = [
        // (strict, incoming org, continue?)
        (false, Some("42"), true),
        (false, None, true),
        (false, Some("7"), false),
        (true, Some("42"), true),
        (true, None, false),
        (true, Some("7"), false),
    ];
    for (strict, org, continues) in cases {
        let layer = layer(
            SentryLayer::builder()
                .dsn_str(DSN)
                .strict_trace_continuation(strict),
        );
        with_layer(layer, || {
            let span = tracing::info_span!("request");
            let baggage = match org {
                Some(org) => format!("sentry-trace_id={TRACE},sentry-org_id={org}"),
                None => format!("sentry-trace_id={TRACE}"),
            };
            let result = span.set_parent_from_headers(&incoming("-1", Some(&baggage)));
            let expected = if continues {
                Ok(())
            } else {
                Err(SetParentError::OrgMismatch)
            };
            assert_eq!(result, expected, "strict={strict} org={org:?}");
            let continued = span.trace_context().unwrap().trace_id().to_string() == TRACE;
            assert_eq!(continued, continues, "strict={strict} org={org:?}");
            if !continued {
                let dsc = dsc_of(&span.propagation_headers());
                assert_eq!(dsc["org_id"], "42", "a new head DSC with our own org");
            }
        });
    }
}

#[test]
fn traceparent_is_accepted_only_when_configured_and_only_without_sentry_trace() {
    let tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    with_layer(SentryLayer::new(), || {
        let span = tracing::info_span!("request");
        span.set_parent_from_headers(&headers(&[("traceparent", tp)]))
            .unwrap();
        assert_ne!(
            span.trace_context().unwrap().trace_id().to_string(),
            "0af7651916cd43dd8448eb211c80319c"
        );
    });
    let layer = layer(SentryLayer::builder().accept_traceparent(true));
    with_layer(layer, || {
        let span = tracing::info_span!("request");
        span.set_parent_from_headers(&headers(&[("traceparent", tp)]))
            .unwrap();
        let ctx = span.trace_context().unwrap();
        assert_eq!(
            ctx.trace_id().to_string(),
            "0af7651916cd43dd8448eb211c80319c"
        );
        assert_eq!(ctx.sampled(), Some(true));

        let both = tracing::info_span!("both");
        both.set_parent_from_headers(&headers(&[
            ("traceparent", tp),
            ("sentry-trace", &format!("{TRACE}-{PARENT}-0")),
        ]))
        .unwrap();
        assert_eq!(both.trace_context().unwrap().trace_id().to_string(), TRACE);
    });
}

#[test]
fn third_party_baggage_is_forwarded_only_when_asked() {
    let layer = layer(SentryLayer::builder().forward_third_party_baggage(true));
    with_layer(layer, || {
        let span = tracing::info_span!("request");
        span.set_parent_from_headers(&incoming("-1", Some(FULL_BAGGAGE)))
            .unwrap();
        let out = span.propagation_headers();
        assert_eq!(foreign_members(&out), ["other=x"]);
        assert_eq!(dsc_of(&out)["trace_id"], TRACE);
    });
}
