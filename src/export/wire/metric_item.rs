//! Metrics ([`MetricBatch`]) become one `trace_metric` item (develop docs, "Metrics"
//! telemetry): `{"version":2,"items":[...]}` with `item_count` in the item header (the
//! container `sentry-sdk` 2.75.0 and `@sentry/node` 11.12.0 send).
//!
//! The content type is `application/vnd.sentry.items.trace-metric+json`, as `sentry-sdk` 2.75.0
//! and the `sentry` crate 0.49 send it (the develop docs' envelope-items page writes
//! `trace_metric+json`). Each metric carries `timestamp` (float seconds), `trace_id`,
//! `span_id`, `name`, `type` (`counter`, `gauge`, `distribution`), `value` (a float), `unit`
//! when one was given, and typed `attributes`: the event's other fields, then
//! `sentry.sdk.name`/`version`, `sentry.environment`, `sentry.release`, `server.address`
//! (when there is a server name) and `process.runtime.name`/`version`, the attributes
//! `sentry-sdk` gives every metric.

use crate::export::record::{MetricBatch, SentryMetric};
use crate::export::wire::json::{push_epoch_seconds, push_f64, push_str};
use crate::export::wire::log_item::{
    push_ids, since_epoch, write_common, write_user_attributes, CONTAINER_OPEN,
};
use crate::export::wire::span_item::Attributes;
use crate::export::wire::transaction::EventMeta;

/// The item's content type.
pub(crate) const METRIC_CONTENT_TYPE: &str = "application/vnd.sentry.items.trace-metric+json";

/// Writes the item payload for `batch` into `out`.
pub(crate) fn write_metric_payload(out: &mut Vec<u8>, batch: &MetricBatch, meta: &EventMeta) {
    out.extend_from_slice(CONTAINER_OPEN);
    for (i, metric) in batch.items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_metric(out, metric, meta);
    }
    out.extend_from_slice(b"]}");
}

fn write_metric(out: &mut Vec<u8>, metric: &SentryMetric, meta: &EventMeta) {
    out.extend_from_slice(br#"{"timestamp":"#);
    push_epoch_seconds(out, since_epoch(metric.timestamp));
    push_ids(out, metric.trace_id, metric.span_id);
    out.extend_from_slice(br#","name":"#);
    push_str(out, &metric.name);
    out.extend_from_slice(br#","type":"#);
    push_str(out, metric.kind.as_str());
    out.extend_from_slice(br#","value":"#);
    // Finite by construction; a hook may have set anything: JSON has no NaN.
    push_f64(
        out,
        if metric.value.is_finite() {
            metric.value
        } else {
            0.0
        },
    );
    if let Some(unit) = &metric.unit {
        out.extend_from_slice(br#","unit":"#);
        push_str(out, unit);
    }
    out.extend_from_slice(br#","attributes":{"#);
    let mut attrs = Attributes { out, first: true };
    write_user_attributes(&mut attrs, &metric.attributes, &[]);
    write_common(&mut attrs, meta);
    out.extend_from_slice(b"}}");
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::time::{Duration, UNIX_EPOCH};

    use serde_json::Value;

    use super::*;
    use crate::export::record::{MetricType, TelemetryBatch};
    use crate::export::wire::transaction::Host;
    use crate::id::{SpanId, TraceId};

    fn metric(name: &'static str, kind: MetricType, unit: Option<&'static str>) -> SentryMetric {
        SentryMetric {
            name: Cow::Borrowed(name),
            kind,
            value: 12.5,
            unit: unit.map(Cow::Borrowed),
            attributes: Vec::new(),
            trace_id: TraceId::from_bytes([0x11; 16]),
            span_id: Some(SpanId::from_bytes([0x22; 8])),
            timestamp: UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        }
    }

    /// `sentry-sdk` 2.75.0 and `@sentry/node` 11.12.0 both send `{"version": 2, "items": [...]}`
    /// for trace metrics (observed by the interop suite); the container once lacked `version`.
    #[test]
    fn the_container_has_version_2_and_the_items() {
        let batch = TelemetryBatch {
            items: vec![
                metric("jobs", MetricType::Counter, None),
                metric("took", MetricType::Distribution, Some("millisecond")),
            ],
            bytes: 0,
        };
        let meta = EventMeta {
            environment: "production".to_owned(),
            ..EventMeta::default()
        };
        let mut out = Vec::new();
        write_metric_payload(&mut out, &batch, &meta);
        let payload: Value = serde_json::from_slice(&out).unwrap();
        let mut keys: Vec<&str> = payload
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(keys, ["items", "version"]);
        assert_eq!(payload["version"], 2);
        let items = payload["items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0]["type"], "counter");
        assert!(items[0].get("unit").is_none());
        assert_eq!(items[1]["type"], "distribution");
        assert_eq!(items[1]["unit"], "millisecond");
        assert_eq!(items[1]["value"], 12.5);
    }

    /// `sentry-sdk` 2.75.0 puts its runtime on every metric (seen by the interop suite); they
    /// once lacked it.
    #[test]
    fn metrics_carry_the_runtime_as_sentry_sdk_does() {
        let batch = TelemetryBatch {
            items: vec![metric("jobs", MetricType::Counter, None)],
            bytes: 0,
        };
        let meta = EventMeta {
            host: Host {
                rustc_version: Some("1.90.0".to_owned()),
                ..Host::default()
            },
            ..EventMeta::default()
        };
        let mut out = Vec::new();
        write_metric_payload(&mut out, &batch, &meta);
        let payload: Value = serde_json::from_slice(&out).unwrap();
        let attributes = &payload["items"][0]["attributes"];
        assert_eq!(attributes["process.runtime.name"]["value"], "rustc");
        assert_eq!(attributes["process.runtime.version"]["value"], "1.90.0");
        assert_eq!(attributes["process.runtime.version"]["type"], "string");
    }
}
