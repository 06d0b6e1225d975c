//! Regression tests for the hardening issue: what Sentry's ingestion (Relay) and hostile input
//! showed. Each test failed before its fix.

use tracing_sentry::SentryLayer;
use tracing_subscriber::prelude::*;

use crate::support::*;

/// The transactions sent, read straight from the transport (no second reader: sentry-types
/// does not know every name Relay keeps, such as the status `unknown`).
fn sent(
    guard: &tracing_sentry::ExportGuard,
    transport: &tracing_sentry::export::InMemoryTransport,
) -> Vec<serde_json::Value> {
    assert!(guard.flush(std::time::Duration::from_secs(5)));
    transport
        .envelopes()
        .iter()
        // Envelopes that only carry client reports hold no transaction.
        .filter(|e| e.item_types().any(|t| t == "transaction"))
        .map(|e| e.transaction().expect("a transaction item"))
        .collect()
}

#[test]
fn status_unknown_is_sent_as_unknown_the_name_relay_keeps() {
    let (layer, guard, transport) = exporting(SentryLayer::builder().traces_sample_rate(1.0));
    with_layer(layer, || {
        let root = tracing::info_span!("root", sentry.status = "unknown");
        let _g = root.enter();
        tracing::info_span!("child", sentry.status = "unknown_error").in_scope(|| {});
    });
    let tx = sent(&guard, &transport);
    assert_eq!(tx[0]["contexts"]["trace"]["status"], "unknown");
    assert_eq!(span_named(&tx[0], "child")["status"], "unknown");
}

#[test]
fn a_release_or_environment_that_ingestion_refuses_is_a_build_error() {
    for bad in [
        "latest",
        ".",
        "..",
        "a/b",
        "1.0\n",
        "tab\there",
        &"r".repeat(201),
    ] {
        let err = SentryLayer::builder().release(bad).build().unwrap_err();
        assert!(
            err.is_release() && !err.is_environment(),
            "{bad:?}: {err:?}"
        );
        // The error never echoes the value.
        assert!(!format!("{err} {err:?}").contains(bad), "{bad:?}");
    }
    for bad in ["none", "NONE", ".", "eu/west", "prod\r", &"e".repeat(65)] {
        let err = SentryLayer::builder().environment(bad).build().unwrap_err();
        assert!(
            err.is_environment() && !err.is_release(),
            "{bad:?}: {err:?}"
        );
    }
    // What ingestion keeps builds, and reaches the DSC unchanged.
    let layer = layer(
        SentryLayer::builder()
            .release("checkout@1.4.2+build 7")
            .environment("staging-eu"),
    );
    let dsc = with_layer(layer, || {
        let _g = tracing::info_span!("root").entered();
        dsc_of(&tracing_sentry::current_headers())
    });
    assert_eq!(dsc["release"], "checkout@1.4.2+build 7");
    assert_eq!(dsc["environment"], "staging-eu");
}

#[test]
fn a_third_party_member_that_breaks_the_w3c_grammar_is_dropped_alone_and_counted() {
    let layer = layer(SentryLayer::builder().forward_third_party_baggage(true));
    let stats = layer.clone();
    let incoming = tracing_sentry::PropagationContext::from_pairs([
        ("sentry-trace", &*format!("{TRACE}-{PARENT}-1")),
        (
            "baggage",
            "ctl=a\u{1}b,ok=1;p,utf8=caf\u{e9},sentry-release=r1,sentry-trace_id=771a43a4192642f0b136d5159a501700",
        ),
    ])
    .unwrap()
    .unwrap();
    let outgoing = with_layer(layer, || {
        tracing_sentry::continue_trace(incoming, || {
            let _g = tracing::info_span!("request").entered();
            tracing_sentry::current_headers()
        })
    });
    assert_eq!(dsc_of(&outgoing)["release"], "r1", "the DSC is kept");
    assert_eq!(foreign_members(&outgoing), ["ok=1;p"]);
    assert_eq!(stats.stats().baggage_members_dropped, 2);
}

#[test]
fn incoming_baggage_members_dropped_while_parsing_are_counted() {
    let layer = layer(SentryLayer::builder());
    let stats = layer.clone();
    with_layer(layer, || {
        let span = tracing::info_span!("request");
        tracing_sentry::SentrySpanExt::set_parent_from_headers(
            &span,
            &headers(&[
                ("sentry-trace", &format!("{TRACE}-{PARENT}")),
                ("baggage", "novalue,sentry-release=100%,ok=1"),
            ]),
        )
        .unwrap();
    });
    assert_eq!(stats.stats().baggage_members_dropped, 2);
}

#[test]
fn set_parent_from_headers_honours_the_layers_accept_traceparent() {
    let incoming = headers(&[("traceparent", &format!("00-{TRACE}-{PARENT}-01"))]);
    for accept in [false, true] {
        let layer = layer(SentryLayer::builder().accept_traceparent(accept));
        let trace = with_layer(layer, || {
            let span = tracing::info_span!("request");
            tracing_sentry::SentrySpanExt::set_parent_from_headers(&span, &incoming).unwrap();
            tracing_sentry::SentrySpanExt::trace_context(&span)
                .unwrap()
                .trace_id()
                .to_string()
        });
        assert_eq!(trace == TRACE, accept, "accept_traceparent({accept})");
    }
}

#[test]
fn a_panicking_sampler_is_caught_counted_and_the_span_is_not_sampled() {
    let (layer, guard, transport) = exporting(SentryLayer::builder().traces_sampler(
        |ctx: &tracing_sentry::SamplingContext<'_>| {
            if ctx.name() == "request" {
                panic!("a bug in the user's sampler");
            }
            1.0
        },
    ));
    let stats = layer.clone();
    let (set_parent, sampled, fresh_sampled) = with_layer(layer, || {
        // While set_parent runs.
        let span = tracing::info_span!("request");
        let set_parent = tracing_sentry::SentrySpanExt::set_parent_from_headers(
            &span,
            &headers(&[("sentry-trace", &format!("{TRACE}-{PARENT}-1"))]),
        );
        let ctx = tracing_sentry::SentrySpanExt::trace_context(&span).unwrap();
        // And at span creation.
        let fresh = tracing::info_span!("request");
        let fresh_sampled = tracing_sentry::SentrySpanExt::trace_context(&fresh)
            .unwrap()
            .sampled();
        (
            set_parent,
            (ctx.trace_id().to_string(), ctx.sampled()),
            fresh_sampled,
        )
    });
    assert_eq!(set_parent, Ok(()));
    assert_eq!(
        sampled,
        (TRACE.to_owned(), Some(false)),
        "continued, not sampled"
    );
    assert_eq!(fresh_sampled, Some(false));
    assert_eq!(
        stats.stats().sampler_panics,
        3,
        "creation, set_parent, creation"
    );
    assert!(sent(&guard, &transport).is_empty());
    assert_eq!(stats.stats().transactions_unfinished, 0);
}

#[test]
fn an_org_mismatch_says_so_and_leaves_the_span_alone() {
    let layer = layer(SentryLayer::builder().org_id("1"));
    with_layer(layer, || {
        let span = tracing::info_span!("request");
        let before = tracing_sentry::SentrySpanExt::trace_context(&span);
        let result = tracing_sentry::SentrySpanExt::set_parent_from_headers(
            &span,
            &headers(&[
                ("sentry-trace", &format!("{TRACE}-{PARENT}-1")),
                ("baggage", "sentry-org_id=2"),
            ]),
        );
        assert_eq!(result, Err(tracing_sentry::SetParentError::OrgMismatch));
        assert_eq!(tracing_sentry::SentrySpanExt::trace_context(&span), before);
    });
}

#[test]
fn peeking_at_the_context_freezes_nothing() {
    let layer = layer(SentryLayer::builder().traces_sample_rate(1.0));
    let (peeked, dsc) = with_layer(layer, || {
        let root = tracing::info_span!("first name", sentry.name = tracing::field::Empty);
        let _g = root.enter();
        let child = tracing::info_span!("child");
        let _c = child.enter();
        let peek = tracing_sentry::peek_current_context().unwrap();
        root.record("sentry.name", "GET /users/:id");
        let dsc = dsc_of(&tracing_sentry::current_headers());
        (peek, dsc)
    });
    assert_eq!(peeked.dsc().transaction(), Some("first name"));
    assert!(!peeked.is_dsc_frozen());
    assert_eq!(
        peeked.span_id(),
        None,
        "the unrecorded child got no id from a peek"
    );
    assert_eq!(
        dsc["transaction"], "GET /users/:id",
        "the peek did not freeze the DSC"
    );
    assert_eq!(dsc["trace_id"], peeked.trace_id().to_string());
}

/// The rule (documented in the crate docs): a span finishes when its last handle is dropped,
/// on any thread, because the handle carries the dispatcher that created it.
#[test]
fn a_span_dropped_on_a_thread_where_the_subscriber_is_not_the_default_still_finishes() {
    for moved in ["root", "child"] {
        let (layer, guard, transport) = exporting(SentryLayer::builder().traces_sample_rate(1.0));
        let stats = layer.clone();
        let subscriber = tracing_subscriber::registry().with(layer);
        // A scoped default on a thread of its own; the span leaves it.
        let span = std::thread::spawn(move || {
            tracing::subscriber::with_default(subscriber, || {
                let root = tracing::info_span!("moved root");
                let child = tracing::info_span!(parent: &root, "child");
                child.in_scope(|| {});
                if moved == "root" {
                    root
                } else {
                    child
                }
            })
        })
        .join()
        .unwrap();
        std::thread::spawn(move || {
            span.in_scope(|| {});
            drop(span);
        })
        .join()
        .unwrap();
        let tx = sent(&guard, &transport);
        assert_eq!(tx.len(), 1, "moved {moved}");
        assert_eq!(tx[0]["transaction"], "moved root");
        assert_eq!(tx[0]["spans"].as_array().unwrap().len(), 1, "moved {moved}");
        assert_eq!(stats.stats().transactions_unfinished, 0);
    }
}
