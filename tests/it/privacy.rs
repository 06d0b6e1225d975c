//! What leaves the process: the data denylist, `send_default_pii`, `ignore_spans` and the
//! `before_send_*` hooks, checked on the bytes the transport receives.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tracing_sentry::export::{EnvelopeBytes, InMemoryTransport};
use tracing_sentry::{FieldValue, SentryLayer, SentryLayerBuilder, SpanStatus};

use crate::support::*;

fn sampled() -> SentryLayerBuilder {
    SentryLayer::builder().traces_sample_rate(1.0)
}

/// Every byte the transport received, after a flush (client reports included).
fn wire(guard: &tracing_sentry::ExportGuard, transport: &InMemoryTransport) -> String {
    assert!(guard.flush(Duration::from_secs(5)), "flush timed out");
    let bytes: Vec<u8> = transport
        .envelopes()
        .iter()
        .flat_map(|e| e.as_bytes().to_vec())
        .collect();
    String::from_utf8(bytes).expect("envelopes are UTF-8")
}

/// The quantity client reports gave for `reason` and `category`, over every envelope.
pub(crate) fn reported(envelopes: &[EnvelopeBytes], reason: &str, category: &str) -> u64 {
    let mut total = 0;
    for envelope in envelopes {
        let text = String::from_utf8_lossy(envelope.as_bytes()).into_owned();
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            if !line.contains(r#""type":"client_report""#) {
                continue;
            }
            let payload: serde_json::Value =
                serde_json::from_str(lines.next().expect("a payload")).expect("JSON");
            for entry in payload["discarded_events"].as_array().expect("an array") {
                if entry["reason"] == reason && entry["category"] == category {
                    total += entry["quantity"].as_u64().expect("a quantity");
                }
            }
        }
    }
    total
}

/// One root with one child, both with fields named like credentials.
fn credentials_trace() {
    let root = tracing::info_span!(
        "login",
        password = "hunter2-root",
        user.count = 3_u64,
        Authorization = "Bearer sk-live-abc"
    );
    root.in_scope(|| {
        let _child = tracing::info_span!(
            "call upstream",
            api_key = "AKIA-secret-1",
            db.Password = %"pg-secret-2",
            refresh_token = 77_u64,
            http.request.header.cookie = "sid=cookie-secret-3",
            session_id = "sess-secret-4",
            x_csrf_token = "csrf-secret-5",
            url.path = "/v1/login",
        )
        .entered();
    });
}

#[test]
fn credential_like_fields_never_reach_the_wire() {
    let (layer, guard, transport) = exporting(sampled().send_default_pii(true));
    with_layer(layer, credentials_trace);
    let bytes = wire(&guard, &transport);
    for secret in [
        "hunter2-root",
        "sk-live-abc",
        "AKIA-secret-1",
        "pg-secret-2",
        "cookie-secret-3",
        "sess-secret-4",
        "csrf-secret-5",
        "\"refresh_token\":77",
    ] {
        assert!(!bytes.contains(secret), "{secret} was sent: {bytes}");
    }
    let sent = sent_transactions(&guard, &transport);
    let (_, tx) = &sent[0];
    let root = &tx["contexts"]["trace"]["data"];
    assert_eq!(root["password"], "[Filtered]");
    assert_eq!(root["Authorization"], "[Filtered]");
    assert_eq!(root["user.count"], 3, "other data is kept");
    let child = &span_named(tx, "call upstream")["data"];
    for key in [
        "api_key",
        "db.Password",
        "refresh_token",
        "http.request.header.cookie",
        "session_id",
        "x_csrf_token",
    ] {
        assert_eq!(child[key], "[Filtered]", "{key}");
    }
    assert_eq!(child["url.path"], "/v1/login");
}

#[test]
fn the_denylist_is_configurable() {
    let (layer, guard, transport) = exporting(sampled().data_denylist(["IBAN"]));
    with_layer(layer, || {
        let _s = tracing::info_span!("pay", payer.iban = "DE00-1234", password = "kept").entered();
    });
    let sent = sent_transactions(&guard, &transport);
    let data = &sent[0].1["contexts"]["trace"]["data"];
    assert_eq!(data["payer.iban"], "[Filtered]");
    assert_eq!(data["password"], "kept", "the list was replaced");

    let (layer, guard, transport) = exporting(sampled().data_denylist(Vec::<String>::new()));
    with_layer(layer, || {
        let _s = tracing::info_span!("pay", password = "sent").entered();
    });
    let sent = sent_transactions(&guard, &transport);
    assert_eq!(sent[0].1["contexts"]["trace"]["data"]["password"], "sent");
}

fn pii_trace() {
    let _s = tracing::info_span!(
        "request",
        http.query = "email=ana@example.com",
        client.address = "203.0.113.7",
        user_agent.original = "Mozilla/5.0",
        http.request.header.x_forwarded_for = "198.51.100.1",
        user.id = 42_u64,
        http.request.method = "GET",
    )
    .entered();
}

#[test]
fn without_send_default_pii_user_data_is_removed() {
    let (layer, guard, transport) = exporting(sampled());
    with_layer(layer, pii_trace);
    let bytes = wire(&guard, &transport);
    for value in [
        "ana@example.com",
        "203.0.113.7",
        "Mozilla",
        "198.51.100.1",
        "\"user.id\"",
    ] {
        assert!(!bytes.contains(value), "{value} was sent");
    }
    let sent = sent_transactions(&guard, &transport);
    assert_eq!(
        sent[0].1["contexts"]["trace"]["data"]["http.request.method"],
        "GET"
    );

    let (layer, guard, transport) = exporting(sampled().send_default_pii(true));
    with_layer(layer, pii_trace);
    let sent = sent_transactions(&guard, &transport);
    let data = &sent[0].1["contexts"]["trace"]["data"];
    assert_eq!(data["http.query"], "email=ana@example.com");
    assert_eq!(data["client.address"], "203.0.113.7");
    assert_eq!(data["user.id"], 42);
}

#[test]
fn before_send_span_edits_the_root_and_every_child_after_scrubbing() {
    let seen_password = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = Arc::clone(&seen_password);
    let (layer, guard, transport) = exporting(sampled().before_send_span(move |span| {
        if let Some(v) = span.get_data("password") {
            seen.lock().unwrap().push(v.clone());
        }
        span.set_data("scrubbed", FieldValue::Bool(true));
        span.remove_data("email");
        if span.name() == "child" {
            span.set_op("db.query");
            span.set_description("SELECT ?");
            span.set_status(Some(SpanStatus::Ok));
        }
    }));
    with_layer(layer, || {
        let root = tracing::info_span!("root", email = "ana@example.com", password = "pw");
        root.in_scope(|| {
            let _c = tracing::info_span!("child", email = "bo@example.com").entered();
        });
    });
    let sent = sent_transactions(&guard, &transport);
    let (_, tx) = &sent[0];
    let root = &tx["contexts"]["trace"];
    assert_eq!(root["data"]["scrubbed"], true);
    assert!(root["data"].get("email").is_none());
    let child = &tx["spans"][0];
    assert_eq!(child["op"], "db.query");
    assert_eq!(child["description"], "SELECT ?");
    assert_eq!(child["status"], "ok");
    assert_eq!(child["data"]["scrubbed"], true);
    assert!(child["data"].get("email").is_none());
    assert_eq!(
        *seen_password.lock().unwrap(),
        vec![FieldValue::Str("[Filtered]".into())],
        "the hook sees the data after the denylist"
    );
}

#[test]
fn before_send_transaction_renames_and_removes_spans() {
    let (layer, guard, transport) = exporting(sampled().before_send_transaction(|tx| {
        tx.set_name("renamed");
        tx.root().set_data("edited", FieldValue::I64(1));
        tx.retain_spans(|span| span.name() != "noise");
        tx.name() != "never"
    }));
    with_layer(layer, || {
        let root = tracing::info_span!("work");
        root.in_scope(|| {
            drop(tracing::info_span!("noise"));
            drop(tracing::info_span!("noise"));
            drop(tracing::info_span!("kept"));
        });
    });
    let sent = sent_transactions(&guard, &transport);
    assert_eq!(sent.len(), 1);
    let (_, tx) = &sent[0];
    assert_eq!(tx["transaction"], "renamed");
    assert_eq!(tx["contexts"]["trace"]["data"]["edited"], 1);
    let spans = tx["spans"].as_array().unwrap();
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0]["description"], "kept");
    let envelopes = transport.envelopes();
    assert_eq!(reported(&envelopes, "before_send", "span"), 2);
    assert_eq!(reported(&envelopes, "before_send", "transaction"), 0);
    assert_eq!(guard.stats().spans_dropped_before_send, 2);
}

#[test]
fn a_dropped_transaction_is_reported_as_before_send_with_all_its_spans() {
    let (layer, guard, transport) =
        exporting(sampled().before_send_transaction(|tx| tx.name() != "health"));
    with_layer(layer, || {
        tracing::info_span!("health").in_scope(|| {
            drop(tracing::info_span!("a"));
            drop(tracing::info_span!("b"));
        });
        let _kept = tracing::info_span!("orders").entered();
    });
    let sent = sent_transactions(&guard, &transport);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].1["transaction"], "orders");
    let envelopes = transport.envelopes();
    assert_eq!(reported(&envelopes, "before_send", "transaction"), 1);
    assert_eq!(
        reported(&envelopes, "before_send", "span"),
        3,
        "root included"
    );
    let stats = guard.stats();
    assert_eq!(stats.transactions_dropped_before_send, 1);
    assert_eq!(stats.spans_dropped_before_send, 3);
    assert_eq!(stats.transactions_sent, 1);
}

#[test]
fn panicking_hooks_are_contained_counted_and_drop_the_transaction() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let (layer, guard, transport) = exporting(sampled().before_send_span(move |span| {
        counted.fetch_add(1, Ordering::Relaxed);
        if span.name() == "boom" {
            panic!("a scrubber bug");
        }
    }));
    with_layer(layer, || {
        let _a = tracing::info_span!("boom", password = "x").entered();
    });
    let _ = guard.flush(Duration::from_secs(5));
    let (layer2, guard2, transport2) = exporting(sampled().before_send_transaction(|tx| {
        assert!(tx.name() != "boom", "a failing hook");
        true
    }));
    with_layer(layer2, || {
        drop(tracing::info_span!("boom"));
        drop(tracing::info_span!("fine"));
    });
    let sent = sent_transactions(&guard2, &transport2);
    assert_eq!(sent.len(), 1, "the sender survived the panic");
    assert_eq!(sent[0].1["transaction"], "fine");
    let stats = guard2.stats();
    assert_eq!(stats.before_send_panics, 1);
    assert_eq!(stats.transactions_dropped_before_send, 1);
    assert_eq!(
        reported(&transport2.envelopes(), "before_send", "transaction"),
        1
    );

    assert!(calls.load(Ordering::Relaxed) >= 1);
    assert_eq!(guard.stats().before_send_panics, 1);
    assert_eq!(guard.stats().transactions_sent, 0);
    assert!(transport
        .envelopes()
        .iter()
        .all(|e| !e.item_types().any(|t| t == "transaction")));
}

#[test]
fn an_ignored_child_is_left_out_and_its_children_move_up() {
    let (layer, guard, transport) = exporting(sampled().ignore_spans(["poll"]));
    let (root_id, grandchild_id) = with_layer(layer, || {
        use tracing_sentry::SentrySpanExt;
        let root = tracing::info_span!("job");
        let _r = root.enter();
        let ignored = tracing::info_span!("poll queue");
        let grandchild = ignored.in_scope(|| tracing::info_span!("decode"));
        let ids = (
            root.trace_context().unwrap().span_id().to_string(),
            grandchild.trace_context().unwrap().span_id().to_string(),
        );
        drop(grandchild);
        drop(ignored);
        ids
    });
    let sent = sent_transactions(&guard, &transport);
    let (_, tx) = &sent[0];
    let spans = tx["spans"].as_array().unwrap();
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0]["span_id"], grandchild_id);
    assert_eq!(spans[0]["parent_span_id"], root_id, "attached to the root");
    assert_eq!(reported(&transport.envelopes(), "ignored", "span"), 1);
    assert_eq!(guard.stats().spans_ignored, 1);
}

#[test]
fn an_ignored_root_is_not_sampled_and_a_predicate_sees_creation_fields() {
    let (layer, guard, transport) = exporting(
        sampled()
            .ignore_spans(["health"])
            .ignore_spans_where(|span| span.get_data("cache.hit") == Some(&FieldValue::Bool(true))),
    );
    let sampled_flag = with_layer(layer, || {
        let flag = tracing::info_span!("GET /health").in_scope(|| {
            let _check = tracing::info_span!("check").entered();
            sentry_trace(&tracing_sentry::current_headers()).2
        });
        tracing::info_span!("orders").in_scope(|| {
            drop(tracing::info_span!("lookup", cache.hit = true));
            drop(tracing::info_span!("lookup", cache.hit = false));
        });
        flag
    });
    assert_eq!(
        sampled_flag.as_deref(),
        Some("0"),
        "an ignored root propagates not sampled"
    );
    let sent = sent_transactions(&guard, &transport);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].1["transaction"], "orders");
    assert_eq!(sent[0].1["spans"].as_array().unwrap().len(), 1);
    let envelopes = transport.envelopes();
    assert_eq!(reported(&envelopes, "ignored", "transaction"), 1);
    assert_eq!(
        reported(&envelopes, "ignored", "span"),
        2,
        "the root + one child"
    );
    assert_eq!(
        reported(&envelopes, "sample_rate", "transaction"),
        0,
        "reported once, as ignored"
    );
    let stats = guard.stats();
    assert_eq!(stats.transactions_ignored, 1);
    assert_eq!(stats.spans_ignored, 2);
}

#[test]
fn ignored_children_take_no_max_spans_place() {
    let (layer, guard, transport) = exporting(sampled().max_spans(2).ignore_spans(["poll"]));
    with_layer(layer, || {
        tracing::info_span!("consumer").in_scope(|| {
            for _ in 0..10 {
                drop(tracing::info_span!("poll"));
            }
            drop(tracing::info_span!("handle a"));
            drop(tracing::info_span!("handle b"));
        });
    });
    let sent = sent_transactions(&guard, &transport);
    let spans = sent[0].1["spans"].as_array().unwrap();
    assert_eq!(spans.len(), 2);
    let stats = guard.stats();
    assert_eq!(stats.spans_dropped_limit, 0);
    assert_eq!(stats.spans_ignored, 10);
}

#[test]
fn a_panicking_predicate_ignores_nothing_and_is_counted() {
    let (layer, guard, transport) = exporting(sampled().ignore_spans_where(|span| {
        assert!(span.get_data("boom").is_none(), "a predicate bug");
        false
    }));
    with_layer(layer, || {
        tracing::info_span!("root").in_scope(|| drop(tracing::info_span!("child", boom = 1)));
    });
    let sent = sent_transactions(&guard, &transport);
    assert_eq!(sent[0].1["spans"].as_array().unwrap().len(), 1);
    assert_eq!(guard.stats().ignore_predicate_panics, 1);
    assert_eq!(guard.stats().spans_ignored, 0);
}

#[test]
fn streamed_spans_follow_ignore_spans() {
    let (layer, guard, transport) = exporting(
        sampled()
            .trace_lifecycle(tracing_sentry::TraceLifecycle::Stream)
            .ignore_spans(["poll"]),
    );
    let (root_id, kept_id) = with_layer(layer, || {
        use tracing_sentry::SentrySpanExt;
        let root = tracing::info_span!("job");
        let _r = root.enter();
        let ignored = tracing::info_span!("poll queue");
        let kept = ignored.in_scope(|| tracing::info_span!("decode"));
        let ids = (
            root.trace_context().unwrap().span_id().to_string(),
            kept.trace_context().unwrap().span_id().to_string(),
        );
        drop(kept);
        drop(ignored);
        ids
    });
    assert!(guard.flush(Duration::from_secs(5)));
    let envelopes = transport.envelopes();
    let spans: Vec<_> = envelopes.iter().flat_map(|e| e.spans()).collect();
    assert_eq!(spans.len(), 2, "{spans:?}");
    let kept = spans
        .iter()
        .find(|s| s["span_id"] == kept_id.as_str())
        .unwrap();
    assert_eq!(kept["parent_span_id"], root_id.as_str());
    assert!(spans.iter().all(|s| s["name"] != "poll queue"));
    assert_eq!(reported(&envelopes, "ignored", "span"), 1);
}

#[test]
fn the_client_integrations_query_follows_send_default_pii() {
    use tracing_sentry::integrations::http_client::OutgoingRequest;
    let call = |builder: SentryLayerBuilder| {
        let (layer, guard, transport) = exporting(builder);
        let mut request = http::Request::get("https://api.internal/search?email=ana%40example.com")
            .body(())
            .unwrap();
        with_layer(layer, || {
            let _handler = tracing::info_span!("handler").entered();
            OutgoingRequest::start(&mut request).finish(http::StatusCode::OK);
        });
        let sent = sent_transactions(&guard, &transport);
        sent[0].1["spans"][0]["data"].clone()
    };
    let off = call(sampled());
    assert_eq!(off["url.full"], "https://api.internal/search");
    assert!(off.get("http.query").is_none(), "{off}");
    let on = call(sampled().send_default_pii(true));
    assert_eq!(on["http.query"], "email=ana%40example.com");
}
