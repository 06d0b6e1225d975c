//! Events as Sentry logs and metrics: what each carries, where it belongs, what is refused,
//! and that the layer's interest in callsites is not widened. Every envelope is also read by
//! an independent reader of Sentry's protocol (the `sentry` crate's `sentry-types` 0.49).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tracing_sentry::export::{EnvelopeBytes, InMemoryTransport};
use tracing_sentry::telemetry::MetricType;
use tracing_sentry::{ExportGuard, SentryLayer, SentryLayerBuilder};

use crate::support::*;

fn builder() -> SentryLayerBuilder {
    SentryLayer::builder()
        .release("svc@1")
        .environment("test")
        .traces_sample_rate(1.0)
        .enable_logs(true)
}

/// Flushes; returns every log and every metric sent, after `sentry-types` read each envelope
/// and agreed on the item counts.
fn sent(guard: &ExportGuard, transport: &InMemoryTransport) -> (Vec<Value>, Vec<Value>) {
    assert!(guard.flush(Duration::from_secs(5)), "flush timed out");
    let (mut logs, mut metrics) = (Vec::new(), Vec::new());
    for envelope in transport.envelopes() {
        check_with_sentry_types(&envelope);
        logs.extend(envelope.logs());
        metrics.extend(envelope.metrics());
    }
    (logs, metrics)
}

fn check_with_sentry_types(envelope: &EnvelopeBytes) {
    use sentry::protocol::{EnvelopeItem, ItemContainer};
    let theirs = sentry::Envelope::from_slice(envelope.as_bytes())
        .unwrap_or_else(|e| panic!("sentry-types reads the envelope: {e}"));
    for item in theirs.items() {
        match item {
            EnvelopeItem::ItemContainer(ItemContainer::Logs(logs)) => {
                assert_eq!(logs.len(), envelope.logs().len());
            }
            EnvelopeItem::ItemContainer(ItemContainer::Metrics(metrics)) => {
                assert_eq!(metrics.len(), envelope.metrics().len());
            }
            _ => {}
        }
    }
}

fn attr<'a>(item: &'a Value, key: &str) -> Option<&'a Value> {
    item["attributes"].get(key).map(|a| &a["value"])
}

fn attr_type<'a>(item: &'a Value, key: &str) -> Option<&'a str> {
    item["attributes"].get(key).and_then(|a| a["type"].as_str())
}

#[test]
fn a_log_carries_level_body_typed_fields_and_its_span() {
    let (layer, guard, transport) = exporting(builder());
    let (trace, span) = with_layer(layer, || {
        let root = tracing::info_span!("request");
        let _g = root.enter();
        let headers = tracing_sentry::current_headers();
        let (trace, span, _) = sentry_trace(&headers);
        tracing::warn!(order.id = 42_u64, ratio = 0.5, cached = true, who = %"ada", "took {}ms", 12);
        (trace, span)
    });
    let (logs, metrics) = sent(&guard, &transport);
    assert!(metrics.is_empty());
    assert_eq!(logs.len(), 1);
    let log = &logs[0];
    assert_eq!(log["level"], "warn");
    assert_eq!(log["body"], "took 12ms");
    assert_eq!(log["trace_id"], trace.as_str());
    assert_eq!(log["span_id"], span.as_str());
    assert!(log["timestamp"].as_f64().unwrap() > 1.7e9);
    assert_eq!(attr(log, "order.id"), Some(&Value::from(42)));
    assert_eq!(attr_type(log, "order.id"), Some("integer"));
    assert_eq!(attr(log, "ratio"), Some(&Value::from(0.5)));
    assert_eq!(attr_type(log, "ratio"), Some("double"));
    assert_eq!(attr(log, "cached"), Some(&Value::from(true)));
    assert_eq!(attr(log, "who"), Some(&Value::from("ada")));
    assert_eq!(attr(log, "sentry.severity_number"), Some(&Value::from(13)));
    assert_eq!(
        attr(log, "sentry.severity_text"),
        Some(&Value::from("warn"))
    );
    assert_eq!(
        attr(log, "sentry.origin"),
        Some(&Value::from("auto.log.tracing"))
    );
    assert_eq!(attr(log, "sentry.release"), Some(&Value::from("svc@1")));
    assert_eq!(attr(log, "sentry.environment"), Some(&Value::from("test")));
    assert_eq!(
        attr(log, "sentry.sdk.name"),
        Some(&Value::from("sentry.rust.tracing-sentry"))
    );
    assert_eq!(attr(log, "code.file.path"), Some(&Value::from(file!())));
    assert_eq!(attr_type(log, "code.line.number"), Some("integer"));
    assert_eq!(
        attr(log, "code.module.name"),
        Some(&Value::from(module_path!()))
    );
    // No template: `tracing` hands the layer the formatted message only.
    assert_eq!(attr(log, "sentry.message.template"), None);
    assert_eq!(attr(log, "message"), None, "the message is the body");
}

#[test]
fn the_item_header_counts_the_logs_and_names_the_container() {
    let (layer, guard, transport) = exporting(builder());
    with_layer(layer, || {
        for i in 0..250 {
            tracing::info!(i, "tick");
        }
    });
    let (logs, _) = sent(&guard, &transport);
    assert_eq!(logs.len(), 250);
    let mut counts = Vec::new();
    for envelope in transport.envelopes() {
        let bytes = envelope.as_bytes();
        let lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
        let header: Value = serde_json::from_slice(lines[0]).unwrap();
        assert!(header.get("trace").is_none(), "no DSC on a batch of traces");
        assert!(header["sent_at"].is_string());
        let item: Value = serde_json::from_slice(lines[1]).unwrap();
        if item["type"] != "log" {
            continue;
        }
        assert_eq!(
            item["content_type"],
            "application/vnd.sentry.items.log+json"
        );
        let payload: Value = serde_json::from_slice(lines[2]).unwrap();
        let mut keys: Vec<&str> = payload
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(keys, ["items", "version"]);
        assert_eq!(payload["version"], 2);
        assert_eq!(
            item["item_count"],
            payload["items"].as_array().unwrap().len()
        );
        counts.push(item["item_count"].as_u64().unwrap());
    }
    counts.sort_unstable();
    assert_eq!(counts, [50, 100, 100], "batches of 100 at most");
    assert_eq!(guard.stats().logs_sent, 250);
}

#[test]
fn levels_below_the_logs_level_are_not_logs() {
    let (layer, guard, transport) = exporting(builder().logs_level(tracing::Level::WARN));
    with_layer(layer, || {
        tracing::info!("below");
        tracing::debug!("below");
        tracing::error!("at");
        tracing::warn!("at");
    });
    let (logs, _) = sent(&guard, &transport);
    let bodies: Vec<&str> = logs.iter().map(|l| l["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, ["at", "at"]);
    assert_eq!(logs[0]["level"], "error");
    assert_eq!(
        attr(&logs[0], "sentry.severity_number"),
        Some(&Value::from(17))
    );
}

#[test]
fn logs_are_off_by_default() {
    let (layer, guard, transport) = exporting(SentryLayer::builder().traces_sample_rate(1.0));
    with_layer(layer, || tracing::error!("not a log"));
    let (logs, _) = sent(&guard, &transport);
    assert!(logs.is_empty());
}

#[test]
fn logs_in_unsampled_spans_are_sent_on_their_trace() {
    let (layer, guard, transport) = exporting(builder().traces_sample_rate(0.0));
    let (trace, span) = with_layer(layer, || {
        let root = tracing::info_span!("request");
        let _g = root.enter();
        let child = tracing::info_span!("child");
        let _c = child.enter();
        tracing::info!("inside");
        let headers = tracing_sentry::current_headers();
        let (trace, span, flag) = sentry_trace(&headers);
        assert_eq!(flag.as_deref(), Some("0"));
        (trace, span)
    });
    let (logs, _) = sent(&guard, &transport);
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0]["trace_id"], trace.as_str());
    assert_eq!(logs[0]["span_id"], span.as_str(), "the child's own id");
    assert!(
        transport
            .envelopes()
            .iter()
            .all(|e| e.transaction().is_none()),
        "no transaction"
    );
}

#[test]
fn events_outside_spans_share_the_layers_trace() {
    let (layer, guard, transport) = exporting(builder());
    with_layer(layer, || {
        tracing::info!("one");
        tracing::info!("two");
    });
    let (logs, _) = sent(&guard, &transport);
    assert_eq!(logs.len(), 2);
    assert_eq!(logs[0]["trace_id"], logs[1]["trace_id"]);
    assert_eq!(logs[0]["trace_id"].as_str().unwrap().len(), 32);
    assert!(logs[0].get("span_id").is_none());
}

#[test]
fn span_fields_reach_logs_when_asked_even_unsampled() {
    for rate in [1.0, 0.0] {
        let (layer, guard, transport) =
            exporting(builder().traces_sample_rate(rate).log_span_fields(true));
        with_layer(layer, || {
            let root = tracing::info_span!(
                "request",
                tenant = "acme",
                shared = "root",
                late = tracing::field::Empty
            );
            let _g = root.enter();
            root.record("late", 7_i64);
            let child = tracing::info_span!("load", shared = "child");
            let _c = child.enter();
            tracing::info!(own = 1_i64, "inside");
        });
        let (logs, _) = sent(&guard, &transport);
        let log = &logs[0];
        assert_eq!(
            attr(log, "tenant"),
            Some(&Value::from("acme")),
            "rate {rate}"
        );
        assert_eq!(attr(log, "late"), Some(&Value::from(7)), "rate {rate}");
        assert_eq!(
            attr(log, "shared"),
            Some(&Value::from("child")),
            "rate {rate}"
        );
        assert_eq!(attr(log, "own"), Some(&Value::from(1)), "rate {rate}");
    }
    // Off by default.
    let (layer, guard, transport) = exporting(builder());
    with_layer(layer, || {
        tracing::info_span!("request", tenant = "acme").in_scope(|| tracing::info!("inside"));
    });
    let (logs, _) = sent(&guard, &transport);
    assert_eq!(attr(&logs[0], "tenant"), None);
}

#[test]
fn private_data_and_the_denylist_apply_to_logs_before_the_hook() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let hook_seen = Arc::clone(&seen);
    let (layer, guard, transport) = exporting(builder().before_send_log(move |log| {
        hook_seen
            .lock()
            .unwrap()
            .extend(log.attributes.iter().map(|(k, _)| k.to_string()));
        if log.body == "drop me" {
            return false;
        }
        if log.body == "panic" {
            panic!("hook bug (expected by the test)");
        }
        log.body.push_str(" (edited)");
        log.attributes
            .push(("added".into(), tracing_sentry::FieldValue::Bool(true)));
        true
    }));
    with_layer(layer, || {
        tracing::info!(
            user.email = "a@b.c",
            db.password = "hunter2",
            kept = 1_i64,
            "keep me"
        );
        tracing::info!("drop me");
        tracing::info!("panic");
    });
    let (logs, _) = sent(&guard, &transport);
    assert_eq!(logs.len(), 1);
    let log = &logs[0];
    assert_eq!(log["body"], "keep me (edited)");
    assert_eq!(attr(log, "user.email"), None, "private data removed");
    assert_eq!(attr(log, "db.password"), Some(&Value::from("[Filtered]")));
    assert_eq!(attr(log, "kept"), Some(&Value::from(1)));
    assert_eq!(attr(log, "added"), Some(&Value::from(true)));
    assert!(!seen.lock().unwrap().iter().any(|k| k == "user.email"));
    let stats = guard.stats();
    assert_eq!(stats.logs_dropped_before_send, 2);
    assert_eq!(stats.before_send_panics, 1);
    assert_eq!(stats.logs_sent, 1);
}

#[test]
fn metrics_from_prefixed_fields() {
    let (layer, guard, transport) = exporting(builder());
    let (trace, span) = with_layer(layer, || {
        let root = tracing::info_span!("request");
        let _g = root.enter();
        let (trace, span, _) = sentry_trace(&tracing_sentry::current_headers());
        tracing::info!(
            counter.http.requests = 1_u64,
            http.route = "/users",
            "handled"
        );
        tracing::debug!(distribution.http.duration = 12.5, unit = "millisecond");
        tracing::trace!(histogram.db.rows = 3_i64, monotonic_counter.jobs = 2_u64);
        tracing::info!(gauge.queue.depth = -4_i64);
        (trace, span)
    });
    let (logs, metrics) = sent(&guard, &transport);
    assert!(logs.is_empty(), "a metric event is not also a log");
    let by_name = |name: &str| {
        metrics
            .iter()
            .find(|m| m["name"] == name)
            .unwrap_or_else(|| panic!("metric {name} in {metrics:?}"))
    };
    assert_eq!(metrics.len(), 5);
    let requests = by_name("http.requests");
    assert_eq!(requests["type"], "counter");
    assert_eq!(requests["value"], 1.0);
    assert_eq!(requests["trace_id"], trace.as_str());
    assert_eq!(requests["span_id"], span.as_str());
    assert_eq!(attr(requests, "http.route"), Some(&Value::from("/users")));
    assert_eq!(attr(requests, "message"), Some(&Value::from("handled")));
    assert_eq!(
        attr(requests, "sentry.release"),
        Some(&Value::from("svc@1"))
    );
    assert!(requests.get("unit").is_none());
    let duration = by_name("http.duration");
    assert_eq!(duration["type"], "distribution");
    assert_eq!(duration["value"], 12.5);
    assert_eq!(duration["unit"], "millisecond");
    assert_eq!(attr(duration, "unit"), None, "the unit is not an attribute");
    assert_eq!(by_name("db.rows")["type"], "distribution");
    assert_eq!(by_name("jobs")["type"], "counter");
    assert_eq!(by_name("queue.depth")["type"], "gauge");
    assert_eq!(by_name("queue.depth")["value"], -4.0);
    assert_eq!(guard.stats().metrics_sent, 5);
    let kinds = [
        MetricType::Counter,
        MetricType::Gauge,
        MetricType::Distribution,
    ];
    assert_eq!(
        kinds.map(MetricType::as_str),
        ["counter", "gauge", "distribution"]
    );
}

#[test]
fn bad_metric_values_and_names_are_refused_and_counted() {
    let (layer, guard, transport) = exporting(builder());
    with_layer(layer, || {
        tracing::info!(counter.not_a_number = "seven");
        tracing::info!(gauge.nan = f64::NAN);
        tracing::info!(gauge.inf = f64::INFINITY);
        tracing::info!(monotonic_counter.down = -1_i64);
        tracing::info!(counter.ok = 1_u64, counter.bad = true);
        tracing::info!("gauge.has space" = 1_u64);
        tracing::info!(gauge.unit_bad = 1_u64, unit = "milli/second");
        tracing::info!(gauge.unit_number = 1_u64, unit = 5_u64);
    });
    let (_, metrics) = sent(&guard, &transport);
    let names: Vec<&str> = metrics
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ok", "unit_bad", "unit_number"]);
    assert!(metrics.iter().all(|m| m.get("unit").is_none()));
    let stats = guard.stats();
    assert_eq!(stats.metrics_dropped_invalid, 6);
    assert_eq!(stats.metric_units_dropped, 2);
}

#[test]
fn before_send_metric_edits_and_drops() {
    let (layer, guard, transport) = exporting(builder().before_send_metric(|metric| {
        metric.value *= 2.0;
        metric.name.as_ref() != "secret"
    }));
    with_layer(layer, || {
        tracing::info!(counter.visible = 2_u64);
        tracing::info!(counter.secret = 1_u64);
    });
    let (_, metrics) = sent(&guard, &transport);
    assert_eq!(metrics.len(), 1);
    assert_eq!(metrics[0]["value"], 4.0);
    assert_eq!(guard.stats().metrics_dropped_before_send, 1);
}

#[test]
fn metrics_can_be_turned_off() {
    let (layer, guard, transport) = exporting(builder().enable_metrics(false));
    with_layer(layer, || {
        tracing::info!(counter.requests = 1_u64, "handled")
    });
    let (logs, metrics) = sent(&guard, &transport);
    assert!(metrics.is_empty());
    assert_eq!(logs.len(), 1, "without metrics the event is a log");
    assert_eq!(attr(&logs[0], "counter.requests"), Some(&Value::from(1)));
}

/// A transport that records a `tracing` event on every send through the layer under test, as
/// a transport with logging would: it must not become a log or a metric, or the transport
/// would feed itself.
#[derive(Clone, Default)]
struct Chatty {
    inner: InMemoryTransport,
    sends: Arc<AtomicUsize>,
    dispatch: Arc<std::sync::OnceLock<tracing::Dispatch>>,
}

impl tracing_sentry::export::EnvelopeTransport for Chatty {
    fn send(
        &self,
        envelope: &EnvelopeBytes,
    ) -> Result<tracing_sentry::export::TransportResponse, tracing_sentry::export::TransportError>
    {
        self.sends.fetch_add(1, Ordering::SeqCst);
        if let Some(dispatch) = self.dispatch.get() {
            tracing::dispatcher::with_default(dispatch, || {
                tracing::error!("sending an envelope");
                tracing::error!(counter.sends = 1_u64);
            });
        }
        self.inner.send(envelope)
    }
}

#[test]
fn events_on_the_export_threads_are_not_sent() {
    let chatty = Chatty::default();
    let (layer, guard) = builder().transport(chatty.clone()).build().unwrap();
    let dispatch = {
        use tracing_subscriber::prelude::*;
        tracing::Dispatch::new(tracing_subscriber::registry().with(layer))
    };
    let _ = chatty.dispatch.set(dispatch.clone());
    tracing::dispatcher::with_default(&dispatch, || tracing::info!("one"));
    for _ in 0..3 {
        assert!(guard.flush(Duration::from_secs(5)));
    }
    let logs: usize = chatty
        .inner
        .envelopes()
        .iter()
        .map(|e| e.logs().len())
        .sum();
    let metrics: usize = chatty
        .inner
        .envelopes()
        .iter()
        .map(|e| e.metrics().len())
        .sum();
    assert_eq!((logs, metrics), (1, 0));
    assert_eq!(chatty.sends.load(Ordering::SeqCst), 1);
    // The same events on the program's thread are sent.
    tracing::dispatcher::with_default(&dispatch, || {
        tracing::error!("sending an envelope");
        tracing::error!(counter.sends = 1_u64);
    });
    assert!(guard.flush(Duration::from_secs(5)));
    assert_eq!(guard.stats().logs_sent, 2);
    assert_eq!(guard.stats().metrics_sent, 1);
}

/// The layer must not widen what `tracing` enables: with logs and metrics on at any level,
/// the subscriber's max level hint and its interest in a disabled callsite are what they are
/// without our layer, so a `debug!` under an `INFO` filter stays a disabled callsite (no
/// dispatch at all), and our layer adds no per-callsite filtering of its own.
#[test]
fn callsite_interest_and_the_level_hint_are_not_widened() {
    use tracing::level_filters::LevelFilter;
    use tracing_core::callsite::Callsite as _;
    use tracing_subscriber::prelude::*;

    static DEBUG_EVENT: tracing::callsite::DefaultCallsite =
        tracing::callsite::DefaultCallsite::new(&tracing::Metadata::new(
            "debug event",
            "telemetry_test",
            tracing::Level::DEBUG,
            Some(file!()),
            Some(line!()),
            Some(module_path!()),
            tracing::field::FieldSet::new(
                &["message", "counter.hits"],
                tracing_core::identify_callsite!(&DEBUG_EVENT),
            ),
            tracing::metadata::Kind::EVENT,
        ));
    static INFO_EVENT: tracing::callsite::DefaultCallsite =
        tracing::callsite::DefaultCallsite::new(&tracing::Metadata::new(
            "info event",
            "telemetry_test",
            tracing::Level::INFO,
            Some(file!()),
            Some(line!()),
            Some(module_path!()),
            tracing::field::FieldSet::new(
                &["message"],
                tracing_core::identify_callsite!(&INFO_EVENT),
            ),
            tracing::metadata::Kind::EVENT,
        ));

    let configs = [
        builder().logs_level(tracing::Level::TRACE),
        builder()
            .logs_level(tracing::Level::ERROR)
            .log_span_fields(true),
        SentryLayer::builder().traces_sample_rate(1.0),
    ];
    use tracing_core::Subscriber as _;
    let without = tracing_subscriber::registry().with(LevelFilter::INFO);
    for builder in configs {
        let (layer, _guard, _transport) = exporting(builder);
        // Our layer alone: no hint, and an interest that leaves filtering to the filters.
        let hint =
            tracing_subscriber::Layer::<tracing_subscriber::Registry>::max_level_hint(&layer);
        assert_eq!(hint, None, "the layer gives no level hint");
        let with = tracing_subscriber::registry()
            .with(LevelFilter::INFO)
            .with(layer);
        assert_eq!(with.max_level_hint(), without.max_level_hint());
        assert_eq!(with.max_level_hint(), Some(LevelFilter::INFO));
        for callsite in [&DEBUG_EVENT, &INFO_EVENT] {
            let metadata = callsite.metadata();
            let ours = with.register_callsite(metadata);
            let theirs = without.register_callsite(metadata);
            assert_eq!(
                (ours.is_never(), ours.is_always(), ours.is_sometimes()),
                (theirs.is_never(), theirs.is_always(), theirs.is_sometimes()),
                "{}",
                metadata.name()
            );
            assert_eq!(with.enabled(metadata), without.enabled(metadata));
        }
        assert!(with.register_callsite(DEBUG_EVENT.metadata()).is_never());
    }
}
