//! Metrics ([`MetricBatch`]) become one `trace_metric` item (develop docs, "Metrics"
//! telemetry): `{"items":[...]}` with `item_count` in the item header.
//!
//! The content type is `application/vnd.sentry.items.trace-metric+json`, as `sentry-sdk` 2.75.0
//! and the `sentry` crate 0.49 send it (the develop docs' envelope-items page writes
//! `trace_metric+json`). Each metric carries `timestamp` (float seconds), `trace_id`,
//! `span_id`, `name`, `type` (`counter`, `gauge`, `distribution`), `value` (a float), `unit`
//! when one was given, and typed `attributes`: the event's other fields, then
//! `sentry.sdk.name`/`version`, `sentry.environment`, `sentry.release` and `server.address`
//! (when a server name is configured), the attributes `sentry-sdk` gives every metric.

use crate::export::record::{MetricBatch, SentryMetric};
use crate::export::wire::json::{push_f64, push_str};
use crate::export::wire::log_item::{push_ids, seconds, write_common, write_user_attributes};
use crate::export::wire::span_item::Attributes;
use crate::export::wire::transaction::EventMeta;

/// The item's content type.
pub(crate) const METRIC_CONTENT_TYPE: &str = "application/vnd.sentry.items.trace-metric+json";

/// Attribute keys this module writes itself.
const RESERVED: &[&str] = &[
    "sentry.sdk.name",
    "sentry.sdk.version",
    "sentry.environment",
    "sentry.release",
    "server.address",
];

/// Writes the item payload for `batch` into `out`.
pub(crate) fn write_metric_payload(out: &mut Vec<u8>, batch: &MetricBatch, meta: &EventMeta) {
    out.extend_from_slice(br#"{"items":["#);
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
    push_f64(out, seconds(metric.timestamp));
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
    write_user_attributes(&mut attrs, &metric.attributes, RESERVED);
    write_common(&mut attrs, meta);
    out.extend_from_slice(b"}}");
}
