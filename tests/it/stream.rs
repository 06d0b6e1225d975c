//! The stream lifecycle: spans go out as span v2 items, carrying what their transaction would.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use serde_json::Value;
use tracing::Instrument as _;
use tracing_sentry::export::InMemoryTransport;
use tracing_sentry::{SentryLayer, SentrySpanExt, TraceLifecycle};

use crate::support::*;

fn builder(lifecycle: TraceLifecycle) -> tracing_sentry::SentryLayerBuilder {
    SentryLayer::builder()
        .release("svc@1")
        .environment("test")
        .traces_sample_rate(1.0)
        .trace_lifecycle(lifecycle)
}

/// Every span of every span item sent, with the envelope headers they came in.
fn streamed(guard: &tracing_sentry::ExportGuard, transport: &InMemoryTransport) -> Vec<Value> {
    assert!(guard.flush(Duration::from_secs(5)), "flush timed out");
    transport
        .envelopes()
        .iter()
        .flat_map(|envelope| envelope.spans())
        .collect()
}

fn attr<'a>(span: &'a Value, key: &str) -> Option<&'a Value> {
    span["attributes"].get(key).map(|a| &a["value"])
}

/// Nested, async, remote-parent and outliving-root spans: the same workload for both
/// lifecycles.
fn workload(transport_layer: SentryLayer) {
    let incoming = headers(&[
        ("sentry-trace", &format!("{TRACE}-{PARENT}-1")),
        ("baggage", "sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-public_key=upstream,sentry-sample_rate=1,sentry-sampled=true,sentry-sample_rand=0.5"),
    ]);
    with_layer(transport_layer, || {
        let outliving = {
            let root = tracing::info_span!(
                "request",
                sentry.name = "GET /items",
                sentry.op = "http.server",
                sentry.source = "route"
            );
            root.set_parent_from_headers(&incoming).unwrap();
            let _g = root.enter();
            tracing::info_span!("load").in_scope(|| {
                tracing::info_span!("db", sentry.op = "db.query", rows = 3_u64, ok = true)
                    .in_scope(|| std::thread::sleep(Duration::from_millis(2)));
            });
            tracing::info_span!("fails", sentry.status = "internal_error").in_scope(|| {});
            let runtime = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            runtime.block_on(async {
                let a = async {
                    tokio::task::yield_now().await;
                    async { tokio::task::yield_now().await }
                        .instrument(tracing::info_span!("task.a.inner"))
                        .await;
                }
                .instrument(tracing::info_span!("task.a"));
                let b = async { tokio::task::yield_now().await }
                    .instrument(tracing::info_span!("task.b", attempt = -1_i64));
                tokio::join!(a, b);
            });
            tracing::info_span!("background")
        };
        // The root's handle is gone; this child finishes after it.
        std::thread::sleep(Duration::from_millis(2));
        drop(outliving);
    });
}

/// (name, op, detailed status, parent's name) per span, the root's parent as its id.
type Shape = BTreeMap<String, (String, String, String)>;

fn static_shape(tx: &Value) -> Shape {
    let root_id = tx["contexts"]["trace"]["span_id"].as_str().unwrap();
    let mut names: HashMap<&str, &str> = HashMap::new();
    names.insert(root_id, tx["transaction"].as_str().unwrap());
    for span in tx["spans"].as_array().unwrap() {
        names.insert(
            span["span_id"].as_str().unwrap(),
            span["description"].as_str().unwrap(),
        );
    }
    let status = |v: &Value| v["status"].as_str().unwrap_or("ok").to_owned();
    let mut shape = Shape::new();
    let trace = &tx["contexts"]["trace"];
    shape.insert(
        tx["transaction"].as_str().unwrap().to_owned(),
        (
            trace["op"].as_str().unwrap().to_owned(),
            status(trace),
            trace["parent_span_id"].as_str().unwrap().to_owned(),
        ),
    );
    for span in tx["spans"].as_array().unwrap() {
        let parent = span["parent_span_id"].as_str().unwrap();
        shape.insert(
            span["description"].as_str().unwrap().to_owned(),
            (
                span["op"].as_str().unwrap().to_owned(),
                status(span),
                names[parent].to_owned(),
            ),
        );
    }
    shape
}

fn stream_shape(spans: &[Value]) -> Shape {
    let names: HashMap<&str, &str> = spans
        .iter()
        .map(|s| (s["span_id"].as_str().unwrap(), s["name"].as_str().unwrap()))
        .collect();
    spans
        .iter()
        .map(|s| {
            let parent = s["parent_span_id"].as_str().unwrap();
            let status = match s["status"].as_str().unwrap() {
                "ok" => "ok".to_owned(),
                "error" => attr(s, "sentry.status.message")
                    .and_then(Value::as_str)
                    .unwrap()
                    .to_owned(),
                other => panic!("span v2 status {other}"),
            };
            (
                s["name"].as_str().unwrap().to_owned(),
                (
                    attr(s, "sentry.op")
                        .and_then(Value::as_str)
                        .unwrap()
                        .to_owned(),
                    status,
                    names.get(parent).copied().unwrap_or(parent).to_owned(),
                ),
            )
        })
        .collect()
}

#[test]
fn both_lifecycles_send_the_same_spans() {
    let (layer, guard, transport) = exporting(builder(TraceLifecycle::Static));
    workload(layer);
    let txs = sent_transactions(&guard, &transport);
    assert_eq!(txs.len(), 1);
    let expected = static_shape(&txs[0].1);
    assert_eq!(expected.len(), 8, "{expected:#?}");

    let (layer, guard, transport) = exporting(builder(TraceLifecycle::Stream));
    workload(layer);
    let spans = streamed(&guard, &transport);
    assert!(transport
        .envelopes()
        .iter()
        .all(|e| e.transaction().is_none()));
    assert_eq!(stream_shape(&spans), expected);

    // The remote parent and the trace, exactly; one segment, with the segment attributes.
    assert!(spans.iter().all(|s| s["trace_id"] == TRACE));
    let segments: Vec<&Value> = spans.iter().filter(|s| s["is_segment"] == true).collect();
    assert_eq!(segments.len(), 1);
    let segment = segments[0];
    assert_eq!(segment["parent_span_id"], PARENT);
    assert_eq!(segment["name"], "GET /items");
    assert_eq!(
        attr(segment, "sentry.segment.name.source").unwrap(),
        "route"
    );
    for span in &spans {
        assert_eq!(
            attr(span, "sentry.segment.id").unwrap(),
            &segment["span_id"]
        );
        assert_eq!(attr(span, "sentry.segment.name").unwrap(), "GET /items");
        assert_eq!(attr(span, "sentry.release").unwrap(), "svc@1");
        assert_eq!(attr(span, "sentry.environment").unwrap(), "test");
        assert_eq!(attr(span, "sentry.trace_lifecycle").unwrap(), "stream");
        assert_eq!(attr(span, "sentry.origin").unwrap(), "auto.tracing");
        assert_eq!(
            attr(span, "sentry.sdk.name").unwrap(),
            "sentry.rust.tracing-sentry"
        );
        let (start, end) = (
            span["start_timestamp"].as_f64().unwrap(),
            span["end_timestamp"].as_f64().unwrap(),
        );
        assert!(start <= end, "{span}");
        // Children start and end within their parent, as in the transaction.
        if let Some(parent) = spans
            .iter()
            .find(|p| p["span_id"] == span["parent_span_id"])
        {
            let ps = parent["start_timestamp"].as_f64().unwrap();
            assert!(ps <= start, "{span} starts before {parent}");
        }
    }
    let db = spans.iter().find(|s| s["name"] == "db").unwrap();
    assert_eq!(db["is_segment"], false);
    assert_eq!(
        db["attributes"]["rows"],
        serde_json::json!({"type": "integer", "value": 3})
    );
    assert_eq!(
        db["attributes"]["ok"],
        serde_json::json!({"type": "boolean", "value": true})
    );
    let b = spans.iter().find(|s| s["name"] == "task.b").unwrap();
    assert_eq!(b["attributes"]["attempt"]["value"], -1);

    // Span items: one per envelope, the v2 container, the frozen DSC in the header.
    for envelope in transport.envelopes() {
        let types: Vec<&str> = envelope.item_types().collect();
        if types.contains(&"span") {
            assert_eq!(types.iter().filter(|t| **t == "span").count(), 1);
            assert_eq!(envelope.trace().get("public_key"), Some("upstream"));
            assert_eq!(envelope.event_id(), None);
            let raw = String::from_utf8(envelope.to_bytes()).unwrap();
            let item_header: Value = serde_json::from_str(raw.lines().nth(1).unwrap()).unwrap();
            assert_eq!(item_header["type"], "span");
            assert_eq!(
                item_header["content_type"],
                "application/vnd.sentry.items.span.v2+json"
            );
            assert_eq!(
                item_header["item_count"].as_u64().unwrap() as usize,
                envelope.spans().len()
            );
            let payload: Value = serde_json::from_str(raw.lines().nth(2).unwrap()).unwrap();
            assert_eq!(payload["version"], 2);
        }
    }
    assert_eq!(guard.stats().spans_sent, 8);
}

#[test]
fn a_long_lived_roots_children_stream_before_it_closes_and_are_not_kept() {
    // A transaction would keep 5 children; the stream keeps none and sends all 40.
    let (layer, guard, transport) = exporting(builder(TraceLifecycle::Stream).max_spans(5));
    with_layer(layer, || {
        let root = tracing::info_span!("consumer loop");
        let _g = root.enter();
        for i in 0..40_u64 {
            tracing::info_span!("message", i).in_scope(|| {});
        }
        // Flushing empties the span buffer while the root is still open.
        let spans = streamed(&guard, &transport);
        assert_eq!(spans.len(), 40);
        assert!(spans.iter().all(|s| s["is_segment"] == false));
        let stats = guard.stats();
        assert_eq!(stats.spans_dropped_limit, 0);
        assert_eq!(stats.spans_sent, 40);
    });
    let spans = streamed(&guard, &transport);
    assert_eq!(spans.len(), 41);
    assert_eq!(spans.last().unwrap()["name"], "consumer loop");
    assert_eq!(spans.last().unwrap()["is_segment"], true);
}

#[test]
fn a_segment_end_sends_its_trace_without_a_flush() {
    let (layer, guard, transport) = exporting(builder(TraceLifecycle::Stream));
    with_layer(layer, || {
        tracing::info_span!("job").in_scope(|| tracing::info_span!("step").in_scope(|| {}));
    });
    // No flush: the segment's end queued the batch; wait for the sender to deliver it.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while guard.stats().spans_sent < 2 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(guard.stats().spans_sent, 2);
    let envelopes = transport.envelopes();
    assert_eq!(envelopes.len(), 1, "one envelope for the trace");
    assert_eq!(envelopes[0].spans().len(), 2);
}

#[test]
fn unsampled_spans_are_never_streamed() {
    let (layer, guard, transport) =
        exporting(builder(TraceLifecycle::Stream).traces_sample_rate(0.0));
    with_layer(layer, || {
        tracing::info_span!("job").in_scope(|| tracing::info_span!("step").in_scope(|| {}));
    });
    assert!(streamed(&guard, &transport).is_empty());
}

/// Answers every envelope with 200 and a rate limit on category `span` for 60 s, keeping what
/// it was given.
#[derive(Clone, Default)]
struct SpanLimited(std::sync::Arc<std::sync::Mutex<Vec<tracing_sentry::export::EnvelopeBytes>>>);

impl tracing_sentry::export::EnvelopeTransport for SpanLimited {
    fn send(
        &self,
        envelope: &tracing_sentry::export::EnvelopeBytes,
    ) -> Result<tracing_sentry::export::TransportResponse, tracing_sentry::export::TransportError>
    {
        self.0.lock().unwrap().push(envelope.clone());
        Ok(tracing_sentry::export::TransportResponse::new(200).with_rate_limits("60:span:key"))
    }
}

#[test]
fn a_span_rate_limit_drops_streamed_spans_counts_and_reports_them() {
    let transport = SpanLimited::default();
    let (layer, guard) = builder(TraceLifecycle::Stream)
        .transport(transport.clone())
        .build()
        .unwrap();
    with_layer(layer, || {
        tracing::info_span!("first").in_scope(|| {});
        // Sent: the limit arrives with its answer.
        assert!(guard.flush(Duration::from_secs(5)));
        tracing::info_span!("second").in_scope(|| tracing::info_span!("child").in_scope(|| {}));
    });
    assert!(guard.flush(Duration::from_secs(5)));
    let stats = guard.stats();
    assert_eq!(stats.spans_sent, 1);
    assert_eq!(stats.spans_dropped_rate_limited, 2);
    let sent = transport.0.lock().unwrap().clone();
    let span_envelopes = sent.iter().filter(|e| !e.spans().is_empty()).count();
    assert_eq!(span_envelopes, 1, "nothing is sent for a limited category");
    // The loss is reported as `ratelimit_backoff`, category `span`, quantity 2.
    let reports: Vec<String> = sent
        .iter()
        .map(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
        .filter(|raw| raw.contains("client_report"))
        .collect();
    assert!(
        reports.iter().any(|r| r.contains(
            r#"{"reason":"ratelimit_backoff","category":"span","quantity":2}"#
        )),
        "{reports:?}"
    );
}

#[test]
fn streamed_spans_go_through_before_send_span_and_a_panicking_hook_drops_and_counts() {
    let (layer, guard, transport) =
        exporting(builder(TraceLifecycle::Stream).before_send_span(|span| {
            if span.name() == "boom" {
                panic!("scrubber failed");
            }
            span.remove_data("secret");
            span.set_description("scrubbed");
        }));
    with_layer(layer, || {
        tracing::info_span!("job").in_scope(|| {
            tracing::info_span!("step", secret = "hunter2", kept = 1_u64).in_scope(|| {});
            tracing::info_span!("boom").in_scope(|| {});
        });
    });
    let spans = streamed(&guard, &transport);
    assert_eq!(spans.len(), 2, "{spans:?}");
    let step = spans
        .iter()
        .find(|s| s["attributes"]["kept"].is_object())
        .unwrap();
    assert_eq!(step["name"], "scrubbed");
    assert!(step["attributes"].get("secret").is_none());
    let stats = guard.stats();
    assert_eq!(stats.before_send_panics, 1);
    assert_eq!(stats.spans_dropped_before_send, 1);
    assert_eq!(stats.spans_sent, 2);
}
