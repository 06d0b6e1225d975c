//! Transactions as the layer builds them, read back from the in-memory transport.

use std::collections::HashSet;
use std::time::Duration;

use tracing::instrument::WithSubscriber;
use tracing::Instrument;
use tracing_sentry::{SentryLayer, SentrySpanExt};
use tracing_subscriber::prelude::*;

use crate::support::*;

fn sampled() -> tracing_sentry::SentryLayerBuilder {
    SentryLayer::builder()
        .release("svc@1")
        .environment("test")
        .traces_sample_rate(1.0)
}

#[test]
fn nested_spans_become_one_transaction_with_the_right_parents() {
    let (layer, guard, transport) = exporting(sampled());
    let (root_ctx, child_ctx, grandchild_ctx) = with_layer(layer, || {
        let root = tracing::info_span!(
            "checkout",
            order.id = 42_u64,
            vip = true,
            ratio = 0.5,
            who = "ana"
        );
        let _r = root.enter();
        let child = tracing::info_span!("load cart");
        let grandchild = child.in_scope(|| tracing::info_span!("query"));
        let ctxs = (
            root.trace_context().unwrap(),
            child.trace_context().unwrap(),
            grandchild.trace_context().unwrap(),
        );
        drop(grandchild);
        drop(child);
        ctxs
    });
    let sent = sent_transactions(&guard, &transport);
    assert_eq!(sent.len(), 1, "one local root, one transaction");
    let (header, tx) = &sent[0];
    assert_eq!(tx["type"], "transaction");
    assert_eq!(tx["transaction"], "checkout");
    assert_eq!(tx["transaction_info"]["source"], "custom");
    assert_eq!(tx["release"], "svc@1");
    assert_eq!(tx["environment"], "test");
    assert_eq!(tx["event_id"], header["event_id"]);
    let trace = &tx["contexts"]["trace"];
    assert_eq!(trace["trace_id"], root_ctx.trace_id().to_string());
    assert_eq!(trace["span_id"], root_ctx.span_id().to_string());
    assert!(
        trace.get("parent_span_id").map_or(true, |p| p.is_null()),
        "a new trace"
    );
    assert_eq!(trace["origin"], "auto.tracing");
    assert_eq!(trace["data"]["order.id"], 42);
    assert_eq!(trace["data"]["vip"], true);
    assert_eq!(trace["data"]["ratio"], 0.5);
    assert_eq!(trace["data"]["who"], "ana");

    let child = span_named(tx, "load cart");
    let grandchild = span_named(tx, "query");
    assert_eq!(child["span_id"], child_ctx.span_id().to_string());
    assert_eq!(child["parent_span_id"], root_ctx.span_id().to_string());
    assert_eq!(grandchild["span_id"], grandchild_ctx.span_id().to_string());
    assert_eq!(
        grandchild["parent_span_id"],
        child_ctx.span_id().to_string()
    );
    for span in [child, grandchild] {
        assert_eq!(span["trace_id"], root_ctx.trace_id().to_string());
        assert!(
            span["op"].as_str().unwrap().ends_with("::load cart")
                || span["op"].as_str().unwrap().ends_with("::query")
        );
    }
    // The envelope carries the DSC that would have been propagated.
    assert_eq!(header["trace"]["trace_id"], root_ctx.trace_id().to_string());
    assert_eq!(header["trace"]["sampled"], "true");
    assert_eq!(header["trace"]["transaction"], "checkout");
}

#[test]
fn child_timestamps_lie_within_the_root() {
    let (layer, guard, transport) = exporting(sampled());
    with_layer(layer, || {
        let root = tracing::info_span!("root");
        let _r = root.enter();
        std::thread::sleep(Duration::from_millis(2));
        tracing::info_span!("child").in_scope(|| std::thread::sleep(Duration::from_millis(5)));
    });
    let (_, tx) = &sent_transactions(&guard, &transport)[0];
    let secs = |v: &serde_json::Value| -> f64 {
        let s = v.as_str().unwrap();
        // RFC 3339 UTC with fractional seconds: compare the time of day.
        let t = s.split('T').nth(1).unwrap().trim_end_matches('Z');
        let mut parts = t.split(':');
        let h: f64 = parts.next().unwrap().parse().unwrap();
        let m: f64 = parts.next().unwrap().parse().unwrap();
        let sec: f64 = parts.next().unwrap().parse().unwrap();
        h * 3600.0 + m * 60.0 + sec
    };
    let (rs, re) = (secs(&tx["start_timestamp"]), secs(&tx["timestamp"]));
    let child = span_named(tx, "child");
    let (cs, ce) = (secs(&child["start_timestamp"]), secs(&child["timestamp"]));
    assert!(
        rs <= cs && cs <= ce && ce <= re,
        "root {rs}..{re}, child {cs}..{ce}"
    );
    assert!(ce - cs >= 0.004, "the child slept 5 ms: {}", ce - cs);
}

#[test]
fn a_continued_trace_reports_the_callers_span_as_parent_and_the_frozen_dsc() {
    let (layer, guard, transport) = exporting(sampled().dsn_str(DSN));
    let incoming = headers(&[
        ("sentry-trace", &format!("{TRACE}-{PARENT}-1")),
        ("baggage", "sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-public_key=upstream,sentry-sample_rate=0.25,sentry-sampled=true,sentry-sample_rand=0.123456,sentry-release=up%401,vendor=x"),
    ]);
    with_layer(layer, || {
        let span = tracing::info_span!("GET /orders");
        span.set_parent_from_headers(&incoming).unwrap();
        let _g = span.enter();
        tracing::info_span!("child").in_scope(|| {});
    });
    let (header, tx) = &sent_transactions(&guard, &transport)[0];
    assert_eq!(tx["contexts"]["trace"]["trace_id"], TRACE);
    assert_eq!(tx["contexts"]["trace"]["parent_span_id"], PARENT);
    let dsc = header["trace"].as_object().unwrap();
    let keys: HashSet<&str> = dsc.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "trace_id",
            "public_key",
            "sample_rate",
            "sampled",
            "sample_rand",
            "release"
        ]
        .into_iter()
        .collect(),
        "the incoming DSC, frozen; no local values, no third-party members"
    );
    assert_eq!(dsc["public_key"], "upstream");
    assert_eq!(dsc["release"], "up@1");
    assert_eq!(dsc["sample_rate"], "0.25");
}

#[test]
fn unsampled_traces_send_nothing_but_still_propagate() {
    let (layer, guard, transport) = exporting(SentryLayer::builder().traces_sample_rate(0.0));
    let stats_layer = layer.clone();
    with_layer(layer, || {
        let root = tracing::info_span!("root");
        let _g = root.enter();
        tracing::info_span!("child").in_scope(|| {
            assert_eq!(
                sentry_trace(&tracing_sentry::current_headers())
                    .2
                    .as_deref(),
                Some("0")
            );
        });
        let continued = tracing::info_span!(parent: None, "continued");
        continued
            .set_parent_from_headers(&headers(&[(
                "sentry-trace",
                &format!("{TRACE}-{PARENT}-0"),
            )]))
            .unwrap();
    });
    assert!(sent_transactions(&guard, &transport).is_empty());
    assert_eq!(stats_layer.stats().transactions_sent, 0);
}

#[test]
fn every_unsampled_root_is_reported_once_whatever_read_its_context() {
    let (layer, guard, transport) = exporting(
        SentryLayer::builder()
            .release("svc@1")
            .traces_sample_rate(0.0),
    );
    let (root_headers, child_headers) = with_layer(layer, || {
        // Left alone, read by its children, propagated, looked at, linked.
        drop(tracing::info_span!("quiet"));
        tracing::info_span!("parent").in_scope(|| tracing::info_span!("child").in_scope(|| {}));
        let root = tracing::info_span!("propagating");
        let root_headers = root.in_scope(tracing_sentry::current_headers);
        let child_headers = root
            .in_scope(|| tracing::info_span!("inner").in_scope(tracing_sentry::current_headers));
        let looked_at = tracing::info_span!("looked at");
        assert_eq!(
            looked_at.trace_context().and_then(|c| c.sampled()),
            Some(false)
        );
        drop(looked_at);
        let linked = tracing::info_span!("linked");
        tracing::info_span!("follower").follows_from(&linked);
        (root_headers, child_headers)
    });
    let (root_trace, root_span, root_sampled) = sentry_trace(&root_headers);
    let (child_trace, child_span, _) = sentry_trace(&child_headers);
    assert_eq!(root_trace, child_trace, "one trace");
    assert_ne!(root_span, child_span, "the child has its own id");
    assert_eq!(root_sampled.as_deref(), Some("0"));
    let dsc = dsc_of(&child_headers);
    assert_eq!(
        dsc.get("transaction").map(String::as_str),
        Some("propagating")
    );
    assert_eq!(dsc.get("sampled").map(String::as_str), Some("false"));
    assert_eq!(dsc.get("trace_id"), Some(&root_trace));
    assert_eq!(dsc_of(&root_headers), dsc, "the root's DSC, frozen once");
    assert!(sent_transactions(&guard, &transport).is_empty());
    assert_eq!(
        crate::privacy::reported(&transport.envelopes(), "sample_rate", "transaction"),
        6,
        "quiet, parent, propagating, looked at, linked, follower"
    );
}

#[test]
fn an_incoming_positive_decision_is_exported_even_at_rate_zero() {
    let (layer, guard, transport) = exporting(SentryLayer::builder().traces_sample_rate(0.0));
    with_layer(layer, || {
        let span = tracing::info_span!("request", route = "/a");
        span.set_parent_from_headers(&headers(&[(
            "sentry-trace",
            &format!("{TRACE}-{PARENT}-1"),
        )]))
        .unwrap();
        let _g = span.enter();
        tracing::info_span!("work").in_scope(|| {});
    });
    let sent = sent_transactions(&guard, &transport);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].1["contexts"]["trace"]["trace_id"], TRACE);
    assert_eq!(sent[0].1["spans"].as_array().unwrap().len(), 1);
}

#[test]
fn continue_trace_keeps_the_creation_fields_of_the_server_span() {
    let (layer, guard, transport) = exporting(SentryLayer::builder().traces_sample_rate(0.0));
    with_layer(layer, || {
        let parent = tracing_sentry::PropagationContext::from_headers(&headers(&[(
            "sentry-trace",
            &format!("{TRACE}-{PARENT}-1"),
        )]))
        .unwrap()
        .unwrap();
        let span = tracing_sentry::continue_trace(parent, || {
            tracing::info_span!(
                "http.server",
                sentry.name = "GET /users/:id",
                sentry.source = "route",
                http.method = "GET"
            )
        });
        span.in_scope(|| {});
    });
    let (_, tx) = &sent_transactions(&guard, &transport)[0];
    assert_eq!(tx["transaction"], "GET /users/:id");
    assert_eq!(tx["transaction_info"]["source"], "route");
    assert_eq!(tx["contexts"]["trace"]["data"]["http.method"], "GET");
}

#[test]
fn special_fields_set_op_name_description_and_status() {
    let (layer, guard, transport) = exporting(sampled());
    with_layer(layer, || {
        let root = tracing::info_span!(
            "handler",
            sentry.op = "http.server",
            sentry.name = "POST /pay",
            sentry.status = tracing::field::Empty,
        );
        let _g = root.enter();
        tracing::info_span!(
            "db",
            sentry.op = "db.query",
            sentry.description = "SELECT 1"
        )
        .in_scope(|| {});
        tracing::info_span!("bad status", sentry.status = "teapot").in_scope(|| {});
        tracing::info_span!("failing").in_scope(|| tracing::error!("boom"));
        tracing::info_span!("explicit", sentry.status = "not_found")
            .in_scope(|| tracing::error!("an error does not override an explicit status"));
        root.record("sentry.status", "unavailable");
    });
    let (header, tx) = &sent_transactions(&guard, &transport)[0];
    assert_eq!(tx["transaction"], "POST /pay");
    assert_eq!(header["trace"]["transaction"], "POST /pay");
    assert_eq!(tx["contexts"]["trace"]["op"], "http.server");
    assert_eq!(
        tx["contexts"]["trace"]["status"], "unavailable",
        "recorded later"
    );
    let db = span_named(tx, "SELECT 1");
    assert_eq!(db["op"], "db.query");
    assert!(
        span_named(tx, "bad status").get("status").is_none(),
        "invalid statuses are ignored"
    );
    assert_eq!(span_named(tx, "failing")["status"], "internal_error");
    assert_eq!(span_named(tx, "explicit")["status"], "not_found");
    for span in tx["spans"].as_array().unwrap() {
        let data = &span["data"];
        assert!(
            data.get("sentry.op").is_none() && data.get("sentry.status").is_none(),
            "special fields are not data: {data}"
        );
    }
}

#[test]
fn the_span_limit_drops_and_counts_extra_children() {
    let (layer, guard, transport) = exporting(sampled().max_spans(3));
    let stats_layer = layer.clone();
    with_layer(layer, || {
        let _g = tracing::info_span!("root").entered();
        for i in 0..5 {
            tracing::info_span!("child", i).in_scope(|| {});
        }
    });
    let (_, tx) = &sent_transactions(&guard, &transport)[0];
    assert_eq!(tx["spans"].as_array().unwrap().len(), 3);
    assert_eq!(stats_layer.stats().spans_dropped_limit, 2);
}

#[test]
fn follows_from_is_recorded_as_a_link() {
    let (layer, guard, transport) = exporting(sampled());
    let cause = with_layer(layer, || {
        let cause = tracing::info_span!(parent: None, "producer");
        let effect = tracing::info_span!(parent: None, "consumer");
        effect.follows_from(&cause);
        let ctx = cause.trace_context().unwrap();
        drop(effect);
        ctx
    });
    let sent = sent_transactions(&guard, &transport);
    let consumer = sent
        .iter()
        .map(|(_, tx)| tx)
        .find(|tx| tx["transaction"] == "consumer")
        .unwrap();
    let links = consumer["contexts"]["trace"]["links"]
        .as_array()
        .or_else(|| consumer["links"].as_array());
    let text = consumer.to_string();
    assert!(
        links.is_some() || text.contains(&cause.span_id().to_string()),
        "the consumer links to the producer: {text}"
    );
    assert!(text.contains(&cause.span_id().to_string()));
}

#[test]
fn spans_of_spawned_tasks_join_their_transaction() {
    let (layer, guard, transport) = exporting(sampled());
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(
        async {
            let root = tracing::info_span!("fan out");
            async {
                let mut tasks = Vec::new();
                for i in 0..4 {
                    tasks.push(tokio::spawn(
                        async move { tokio::task::yield_now().await }
                            .instrument(tracing::info_span!("task", i))
                            .with_current_subscriber(),
                    ));
                }
                for t in tasks {
                    t.await.unwrap();
                }
            }
            .instrument(root)
            .await;
        }
        .with_subscriber(dispatch),
    );
    let sent = sent_transactions(&guard, &transport);
    assert_eq!(sent.len(), 1, "one transaction for the whole fan-out");
    let tx = &sent[0].1;
    let root_id = tx["contexts"]["trace"]["span_id"].clone();
    let spans = tx["spans"].as_array().unwrap();
    assert_eq!(spans.len(), 4);
    assert!(spans.iter().all(|s| s["parent_span_id"] == root_id));
}

#[test]
fn a_full_queue_drops_and_counts_without_blocking() {
    let (layer, guard, transport) = exporting(sampled().queue_capacity(1));
    let stats_layer = layer.clone();
    with_layer(layer, || {
        for _ in 0..200 {
            tracing::info_span!("burst").in_scope(|| {});
        }
    });
    let sent = sent_transactions(&guard, &transport).len() as u64;
    let stats = stats_layer.stats();
    assert_eq!(
        sent + stats.transactions_dropped_queue_full,
        200,
        "{stats:?}"
    );
    assert_eq!(stats.transactions_sent, sent);
}

/// A transport that holds every send until the test lets them go (an ingest that hangs).
#[derive(Clone, Default)]
struct Held {
    open: std::sync::Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>,
}

impl Held {
    fn release(&self) {
        let (open, changed) = &*self.open;
        *open.lock().unwrap() = true;
        changed.notify_all();
    }
}

impl tracing_sentry::export::EnvelopeTransport for Held {
    fn send(
        &self,
        _: &tracing_sentry::export::EnvelopeBytes,
    ) -> Result<tracing_sentry::export::TransportResponse, tracing_sentry::export::TransportError>
    {
        let (open, changed) = &*self.open;
        let mut open = open.lock().unwrap();
        while !*open {
            open = changed.wait(open).unwrap();
        }
        Ok(tracing_sentry::export::TransportResponse::new(200))
    }
}

/// Spans with a 1 KB field each, while the ingest hangs, against a byte budget; returns the
/// transactions the queue refused.
fn refused_under_budget(budget: Option<usize>) -> u64 {
    let held = Held::default();
    let mut builder = sampled()
        .queue_capacity(100_000)
        .max_requests_in_flight(1)
        .transport(held.clone());
    if let Some(bytes) = budget {
        builder = builder.max_queued_bytes(bytes);
    }
    let (layer, guard) = builder.build().unwrap();
    let stats_layer = layer.clone();
    let payload = "x".repeat(1024);
    with_layer(layer, || {
        for _ in 0..200 {
            tracing::info_span!("burst", payload = payload.as_str()).in_scope(|| {});
        }
    });
    let refused = stats_layer.stats().transactions_dropped_queue_full;
    held.release();
    drop(guard);
    refused
}

#[test]
fn the_byte_budget_bounds_the_queue_and_the_default_holds_a_burst() {
    // 200 transactions of about 2.5 KB each: over a 256 KiB budget, well within the default.
    let refused = refused_under_budget(Some(256 * 1024));
    assert!((50..200).contains(&refused), "refused {refused} of 200");
    assert_eq!(refused_under_budget(None), 0);
}

#[test]
fn a_recording_root_given_a_remote_parent_keeps_its_start_and_fields_and_sends_once() {
    let (layer, guard, transport) = exporting(sampled());
    let stats_layer = layer.clone();
    let root_ctx = with_layer(layer, || {
        let span = tracing::info_span!("GET /orders", route = "/orders");
        std::thread::sleep(Duration::from_millis(20));
        span.set_parent_from_headers(&headers(&[(
            "sentry-trace",
            &format!("{TRACE}-{PARENT}-1"),
        )]))
        .unwrap();
        let _g = span.enter();
        tracing::info_span!("child").in_scope(|| {});
        span.trace_context().unwrap()
    });
    let sent = sent_transactions(&guard, &transport);
    assert_eq!(sent.len(), 1, "the trace the root left sends nothing");
    let (header, tx) = &sent[0];
    let trace = &tx["contexts"]["trace"];
    assert_eq!(trace["trace_id"], TRACE);
    assert_eq!(trace["parent_span_id"], PARENT);
    assert_eq!(trace["span_id"], root_ctx.span_id().to_string());
    assert_eq!(trace["data"]["route"], "/orders", "creation fields kept");
    assert_eq!(
        span_named(tx, "child")["parent_span_id"],
        root_ctx.span_id().to_string()
    );
    assert!(
        header
            .get("trace")
            .map_or(true, |t| t.as_object().is_some_and(|t| t.is_empty())),
        "the incoming DSC, frozen empty (no baggage arrived)"
    );
    let secs = |v: &serde_json::Value| -> f64 {
        let t = v
            .as_str()
            .unwrap()
            .split('T')
            .nth(1)
            .unwrap()
            .trim_end_matches('Z');
        let mut parts = t.split(':');
        let h: f64 = parts.next().unwrap().parse().unwrap();
        let m: f64 = parts.next().unwrap().parse().unwrap();
        let s: f64 = parts.next().unwrap().parse().unwrap();
        h * 3600.0 + m * 60.0 + s
    };
    let duration = secs(&tx["timestamp"]) - secs(&tx["start_timestamp"]);
    assert!(
        duration >= 0.015,
        "the root started when it was created, not when its parent arrived: {duration}"
    );
    let stats = stats_layer.stats();
    assert_eq!(stats.transactions_sent, 1);
    assert_eq!(stats.transactions_unfinished, 0);
}
