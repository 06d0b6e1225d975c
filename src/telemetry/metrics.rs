//! The metric side: which fields are metrics, what Sentry accepts as a name and a unit, and the
//! metrics an event records.

use std::borrow::Cow;
use std::time::SystemTime;

use super::{EventFields, MetricType, SentryMetric};
use crate::export::ExportHandle;
use crate::id::{SpanId, TraceId};
use crate::stats::StatsInner;

/// The field that gives the unit of an event's metrics.
pub(crate) const UNIT_FIELD: &str = "unit";

/// The longest metric name Sentry keeps: 150 bytes (Relay's `CUSTOM_METRIC_NAME_MAX_SIZE`).
pub(crate) const MAX_NAME_BYTES: usize = 150;
/// The longest unit Sentry keeps: 15 bytes (Relay's custom `MetricUnit`).
pub(crate) const MAX_UNIT_BYTES: usize = 15;

/// The prefixes, their type and whether the value may not decrease.
const PREFIXES: &[(&str, MetricType, bool)] = &[
    ("counter.", MetricType::Counter, false),
    ("monotonic_counter.", MetricType::Counter, true),
    ("gauge.", MetricType::Gauge, false),
    ("distribution.", MetricType::Distribution, false),
    ("histogram.", MetricType::Distribution, false),
];

/// Splits a metric field's name into its type, whether it is monotonic, and the metric's name.
#[inline]
pub(crate) fn split_prefix(field: &'static str) -> Option<(MetricType, bool, &'static str)> {
    // Every prefix starts with one of these letters: one comparison for most fields.
    if !matches!(
        field.as_bytes().first(),
        Some(b'c' | b'm' | b'g' | b'd' | b'h')
    ) {
        return None;
    }
    PREFIXES.iter().find_map(|&(prefix, kind, monotonic)| {
        field
            .strip_prefix(prefix)
            .map(|name| (kind, monotonic, name))
    })
}

/// Whether the callsite declares a metric field.
#[inline]
pub(crate) fn has_metric_field(metadata: &tracing_core::Metadata<'_>) -> bool {
    metadata
        .fields()
        .iter()
        .any(|field| split_prefix(field.name()).is_some())
}

/// Whether Relay accepts `name` as a metric name: 1 to 150 bytes of ASCII letters, digits,
/// `_`, `-` and `.` (relay-event-normalization's `normalize_metric_name`).
pub(crate) fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_BYTES
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// Whether Relay accepts `unit`: 1 to 15 bytes of ASCII letters, digits and `_` (its
/// `CustomUnit`).
pub(crate) fn valid_unit(unit: &str) -> bool {
    !unit.is_empty()
        && unit.len() <= MAX_UNIT_BYTES
        && unit.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Sends the metrics an event recorded; invalid ones are counted.
pub(crate) fn submit(
    fields: EventFields,
    trace_id: TraceId,
    span_id: Option<SpanId>,
    timestamp: SystemTime,
    export: &ExportHandle,
    stats: &StatsInner,
) {
    let unit = match fields.unit {
        None => None,
        Some(Some(unit)) if valid_unit(&unit) => Some(Cow::Owned(unit)),
        Some(_) => {
            StatsInner::incr(&stats.metric_units_dropped);
            None
        }
    };
    let valid = |f: &super::MetricField| {
        f.value
            .is_some_and(|v| v.is_finite() && !(f.monotonic && v < 0.0))
            && valid_name(f.name)
    };
    let count = fields.metric_fields.iter().filter(|f| valid(f)).count();
    let invalid = fields.metric_fields.len() - count;
    StatsInner::add(&stats.metrics_dropped_invalid, invalid as u64);
    let mut attributes = Some(fields.attributes);
    let mut left = count;
    for field in fields.metric_fields.iter().filter(|f| valid(f)) {
        left -= 1;
        // The last metric takes the attributes; the others share copies.
        let attributes = if left == 0 {
            attributes.take().unwrap_or_default()
        } else {
            attributes.clone().unwrap_or_default()
        };
        export.submit_metric(SentryMetric {
            name: Cow::Borrowed(field.name),
            kind: field.kind,
            value: field.value.unwrap_or_default(),
            unit: unit.clone(),
            attributes,
            trace_id,
            span_id,
            timestamp,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_give_the_type_and_the_name() {
        assert_eq!(
            split_prefix("counter.http.requests"),
            Some((MetricType::Counter, false, "http.requests"))
        );
        assert_eq!(
            split_prefix("monotonic_counter.jobs"),
            Some((MetricType::Counter, true, "jobs"))
        );
        assert_eq!(
            split_prefix("gauge.queue.depth"),
            Some((MetricType::Gauge, false, "queue.depth"))
        );
        assert_eq!(
            split_prefix("distribution.latency"),
            Some((MetricType::Distribution, false, "latency"))
        );
        assert_eq!(
            split_prefix("histogram.latency"),
            Some((MetricType::Distribution, false, "latency"))
        );
        for other in [
            "counter",
            "counters.x",
            "message",
            "gauge",
            "histograms.x",
            "",
        ] {
            assert_eq!(split_prefix(other), None, "{other}");
        }
        // An empty name is a metric field with a name Sentry refuses.
        assert_eq!(split_prefix("gauge."), Some((MetricType::Gauge, false, "")));
        assert!(!valid_name(""));
    }

    #[test]
    fn names_and_units_follow_relay() {
        assert!(valid_name("http.server.duration"));
        assert!(valid_name("a-b_c.D9"));
        assert!(valid_name(&"n".repeat(150)));
        assert!(!valid_name(&"n".repeat(151)));
        assert!(!valid_name("with space"));
        assert!(!valid_name("é"));
        assert!(valid_unit("millisecond"));
        assert!(valid_unit("custom_unit_15c"));
        assert!(!valid_unit("custom_unit_16ch"));
        assert!(!valid_unit("ms/s"));
        assert!(!valid_unit(""));
    }
}
