//! The metric side: which fields are metrics, what Sentry accepts as a name and a unit, and the
//! metrics an event records.

use std::borrow::Cow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::SystemTime;

use tracing_core::Metadata;

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

/// Splits a metric field's name into its type, whether it is monotonic, and the metric's name.
///
/// The prefixes (`counter.`, `monotonic_counter.`, `gauge.`, `distribution.`, `histogram.`)
/// start with different letters: one comparison for most fields, one prefix compared for the
/// rest.
#[inline]
pub(crate) fn split_prefix(field: &'static str) -> Option<(MetricType, bool, &'static str)> {
    let (prefix, kind, monotonic) = match field.as_bytes().first()? {
        b'c' => ("counter.", MetricType::Counter, false),
        b'm' => ("monotonic_counter.", MetricType::Counter, true),
        b'g' => ("gauge.", MetricType::Gauge, false),
        b'd' => ("distribution.", MetricType::Distribution, false),
        b'h' => ("histogram.", MetricType::Distribution, false),
        _ => return None,
    };
    field
        .strip_prefix(prefix)
        .map(|name| (kind, monotonic, name))
}

/// Whether the callsite declares a metric field, by looking at its field names.
fn scan(metadata: &Metadata<'_>) -> bool {
    metadata
        .fields()
        .iter()
        .any(|field| split_prefix(field.name()).is_some())
}

/// Whether the callsite declares a metric field: the answer kept when the callsite registered
/// ([`register_callsite`]), or else a look at its field names.
#[inline]
pub(crate) fn has_metric_field(metadata: &Metadata<'_>) -> bool {
    CALLSITES.get(metadata).unwrap_or_else(|| scan(metadata))
}

/// Whether the callsite has a metric field, if its answer was kept at its registration.
#[inline]
pub(crate) fn known_metric_field(metadata: &Metadata<'_>) -> Option<bool> {
    CALLSITES.get(metadata)
}

/// Keeps whether an event callsite declares a metric field, so its events need not look at
/// their field names (called from the layer's `register_callsite`, once per callsite).
pub(crate) fn register_callsite(metadata: &'static Metadata<'static>) {
    CALLSITES.insert(metadata, scan(metadata));
}

/// The answers of [`register_callsite`], shared by every layer (the answer depends on the
/// callsite alone).
static CALLSITES: CallsiteCache = CallsiteCache::new();

/// Slots of a [`CallsiteCache`] (a power of two): 8 KiB on 64-bit targets.
const CACHE_SLOTS: usize = 1 << CACHE_BITS;
const CACHE_BITS: u32 = 10;

// Bit 0 of a metadata address is free for the answer.
const _: () = assert!(std::mem::align_of::<Metadata<'static>>() >= 2);

/// A fixed-size, direct-mapped map from callsites to a `bool`, keyed by the address of their
/// `'static` metadata (one per callsite, never freed, so never reused by another): a slot holds
/// the address with the answer in bit 0, or 0. It is never wrong, only incomplete: a callsite
/// whose slot another took (or that never registered) is not found, and its caller looks at
/// the field names as without the cache. One relaxed load per lookup; no lock, no allocation.
pub(crate) struct CallsiteCache {
    slots: [AtomicUsize; CACHE_SLOTS],
}

impl CallsiteCache {
    pub(crate) const fn new() -> Self {
        Self {
            slots: [const { AtomicUsize::new(0) }; CACHE_SLOTS],
        }
    }

    /// The slot of an address: Fibonacci hashing of the address without its alignment bits.
    #[inline]
    fn slot(&self, addr: usize) -> Option<&AtomicUsize> {
        let hash = ((addr as u64) >> 3).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - CACHE_BITS);
        self.slots.get(hash as usize)
    }

    /// The answer kept for `metadata`, if its slot holds it.
    #[inline]
    pub(crate) fn get(&self, metadata: &Metadata<'_>) -> Option<bool> {
        let addr = std::ptr::from_ref(metadata) as usize;
        let entry = self.slot(addr)?.load(Ordering::Relaxed);
        (entry & !1 == addr).then_some(entry & 1 == 1)
    }

    /// Keeps `answer` for `metadata`, in place of whatever its slot held.
    pub(crate) fn insert(&self, metadata: &'static Metadata<'static>, answer: bool) {
        let addr = std::ptr::from_ref(metadata) as usize;
        if let Some(slot) = self.slot(addr) {
            slot.store(addr | usize::from(answer), Ordering::Relaxed);
        }
    }
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

    /// Callsites for the cache tests: one with a metric field, one without.
    static METRIC: tracing::callsite::DefaultCallsite =
        tracing::callsite::DefaultCallsite::new(&tracing::Metadata::new(
            "metric event",
            "cache_test",
            tracing::Level::INFO,
            None,
            None,
            None,
            tracing::field::FieldSet::new(
                &["message", "route", "histogram.latency"],
                tracing_core::identify_callsite!(&METRIC),
            ),
            tracing::metadata::Kind::EVENT,
        ));
    static PLAIN: tracing::callsite::DefaultCallsite =
        tracing::callsite::DefaultCallsite::new(&tracing::Metadata::new(
            "plain event",
            "cache_test",
            tracing::Level::INFO,
            None,
            None,
            None,
            tracing::field::FieldSet::new(
                &["message", "http.method", "monotonic", "counter"],
                tracing_core::identify_callsite!(&PLAIN),
            ),
            tracing::metadata::Kind::EVENT,
        ));

    #[test]
    fn field_names_decide_without_the_cache() {
        use tracing_core::Callsite as _;
        assert!(scan(METRIC.metadata()));
        assert!(!scan(PLAIN.metadata()));
    }

    #[test]
    fn the_cache_answers_what_was_inserted_for_that_callsite_only() {
        use tracing_core::Callsite as _;
        let cache = CallsiteCache::new();
        let (metric, plain) = (METRIC.metadata(), PLAIN.metadata());
        assert_eq!(cache.get(metric), None);
        assert_eq!(cache.get(plain), None);
        cache.insert(metric, true);
        cache.insert(plain, false);
        // Each callsite gets its own answer back (unless both share a slot, where only the
        // later one is kept and the other is not found, never given the other's answer).
        let shared = cache
            .slot(std::ptr::from_ref(metric) as usize)
            .map(std::ptr::from_ref)
            == cache
                .slot(std::ptr::from_ref(plain) as usize)
                .map(std::ptr::from_ref);
        assert_eq!(cache.get(plain), Some(false));
        assert_eq!(cache.get(metric), if shared { None } else { Some(true) });
        // The cache is what answers: a kept answer wins over the field names.
        cache.insert(plain, true);
        assert_eq!(cache.get(plain), Some(true));
        // Metadata at another address, with the same fields, is not found.
        let other = tracing::Metadata::new(
            "plain event",
            "cache_test",
            tracing::Level::INFO,
            None,
            None,
            None,
            tracing::field::FieldSet::new(
                &["message", "http.method", "monotonic", "counter"],
                tracing_core::identify_callsite!(&PLAIN),
            ),
            tracing::metadata::Kind::EVENT,
        );
        assert_eq!(cache.get(&other), None);
    }

    #[test]
    fn registered_callsites_are_answered_right() {
        use tracing_core::Callsite as _;
        register_callsite(METRIC.metadata());
        register_callsite(PLAIN.metadata());
        assert!(has_metric_field(METRIC.metadata()));
        assert!(!has_metric_field(PLAIN.metadata()));
    }

    /// A `DEBUG` callsite without metric fields, for the layer's fast path.
    static DEBUG_PLAIN: tracing::callsite::DefaultCallsite =
        tracing::callsite::DefaultCallsite::new(&tracing::Metadata::new(
            "debug event",
            "cache_test",
            tracing::Level::DEBUG,
            None,
            None,
            None,
            tracing::field::FieldSet::new(
                &["message", "user.id"],
                tracing_core::identify_callsite!(&DEBUG_PLAIN),
            ),
            tracing::metadata::Kind::EVENT,
        ));

    #[test]
    fn the_fast_path_ignores_only_events_that_are_surely_nothing() {
        use tracing_core::Callsite as _;
        let config = |logs: Option<tracing::Level>, metrics: bool| super::super::TelemetryConfig {
            logs,
            metrics,
            span_fields: false,
            fallback_trace: TraceId::from_bytes([1; 16]),
        };
        let debug = DEBUG_PLAIN.metadata();
        let info = config(Some(tracing::Level::INFO), true);
        // Before its callsite registered, a `DEBUG` event is looked at out of line.
        assert!(config(Some(tracing::Level::INFO), false).ignores(debug));
        if known_metric_field(debug).is_none() {
            assert!(!info.ignores(debug));
        }
        register_callsite(debug);
        // (Unless another test's callsite took the same slot since: then it is not found.)
        let kept = known_metric_field(debug).is_some();
        assert!(
            info.ignores(debug) || !kept,
            "below the logs level, no metric field"
        );
        assert!(config(None, true).ignores(debug) || !kept);
        assert!(!config(Some(tracing::Level::DEBUG), true).ignores(debug));
        assert!(!config(Some(tracing::Level::TRACE), false).ignores(debug));
        // A metric callsite is never ignored, at any level; nor an event at the logs level.
        register_callsite(METRIC.metadata());
        assert!(!config(Some(tracing::Level::ERROR), true).ignores(METRIC.metadata()));
        assert!(!info.ignores(PLAIN.metadata()));
        assert_eq!(info.wants(debug), None);
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
