//! `tracing` events as Sentry telemetry: [logs](crate::SentryLayerBuilder::enable_logs) and
//! trace-connected [metrics](crate::SentryLayerBuilder::enable_metrics), without the `sentry`
//! crate.
//!
//! # Logs
//!
//! With [`enable_logs(true)`](crate::SentryLayerBuilder::enable_logs) (or
//! `SENTRY_ENABLE_LOGS=true` read by [`from_env`](crate::SentryLayerBuilder::from_env)), every
//! event at or above [`logs_level`](crate::SentryLayerBuilder::logs_level) (`INFO` by default)
//! becomes a Sentry log, inside sampled **and unsampled** spans alike, on its span's trace.
//! Its `message` is the body, its other fields are typed attributes (integers, floats,
//! booleans and strings as they were recorded; `Debug`/`Display` values as strings, cut at 8
//! KiB as span fields are). See [`SentryLog`] for what a `before_send_log` hook sees.
//!
//! **Message templates.** A `tracing` macro hands its format string and arguments to the layer
//! as one `fmt::Arguments`, visited as a `&dyn Debug`: only the formatted text is readable,
//! neither the template nor the arguments (a `Visit` cannot downcast it, and the callsite's
//! metadata does not keep the format string). So no `sentry.message.template` or
//! `sentry.message.parameter.N` is sent for `info!("user {} logged in", id)`. Write the
//! parameters as fields instead, `info!(user.id = id, "user logged in")`: the body stays
//! constant (Sentry groups by it) and `user.id` is a searchable attribute.
//!
//! # Metrics
//!
//! An event with a field named `counter.<name>`, `gauge.<name>` or `distribution.<name>`
//! (`monotonic_counter.<name>` and `histogram.<name>` too, tracing-opentelemetry's
//! `MetricsLayer` names) records a metric `<name>` of that type, whatever the event's level
//! (metrics are on by default when the layer exports; see
//! [`enable_metrics`](crate::SentryLayerBuilder::enable_metrics)). The value must be a number
//! (`i64`, `u64` or `f64`), finite, and not negative for a `monotonic_counter.`; the name
//! must be what Sentry accepts (1 to 150 bytes of ASCII letters, digits, `_`, `-` and `.`).
//! Anything else is dropped and counted in
//! [`Stats::metrics_dropped_invalid`](crate::Stats::metrics_dropped_invalid).
//!
//! **Units.** A string field named `unit` gives the unit of every metric of the event
//! (`unit = "millisecond"`, Sentry's unit names: `nanosecond` ... `week`, `byte`,
//! `kilobyte` ..., `ratio`, `percent`, or your own of up to 15 ASCII letters, digits or `_`). A
//! unit Sentry would refuse is left out and counted in
//! [`Stats::metric_units_dropped`](crate::Stats::metric_units_dropped).
//!
//! The event's other fields (its message included, as `message`) are the metric's attributes.
//! An event that records a metric is not also sent as a log.
//!
//! ```
//! use tracing::info;
//!
//! # fn handle() {
//! info!(counter.http.requests = 1, http.route = "/users", "request handled");
//! info!(distribution.http.duration = 12.5, unit = "millisecond", http.route = "/users");
//! info!(gauge.queue.depth = 42_u64);
//! # }
//! ```
//!
//! # Delivery
//!
//! Both go through the export queue and senders as transactions do: logs in batches of up to
//! 100, metrics of up to 1,000, each batch sent at the latest 5 s after its first item, at
//! [`ExportGuard::flush`](crate::ExportGuard::flush) and at shutdown; under the rate limits of
//! their categories (`log_item` and `log_byte`, `trace_metric`); losses are counted in the
//! `logs_*` and `metrics_*` counters of [`Stats`](crate::Stats) and reported to Sentry in
//! client reports with the same categories. Events recorded on the export's own threads (by a
//! transport or a hook) are never sent, so a failing transport cannot feed itself.
//!
//! # With sentry-tracing's `LogLayer` (feature `sentry`)
//!
//! Both layers turn events into logs: use one. With our logs on, leave the `sentry` client's
//! `enable_logs` off (or do not add `sentry_tracing`'s layer with an event filter that maps
//! events to logs); with theirs, leave [`enable_logs`](crate::SentryLayerBuilder::enable_logs)
//! off here. Our layer still gives theirs the trace context (see the `sentry` integration).

pub(crate) mod logs;
pub(crate) mod metrics;

use std::borrow::Cow;
use std::time::SystemTime;

use tracing_core::field::Field;
use tracing_core::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::registry::{LookupSpan, SpanRef};

pub use crate::export::record::{MetricType, SentryLog, SentryMetric};
use crate::field::FieldValue;
use crate::id::{SpanId, TraceId};

/// The most attributes a log takes from its spans (with `log_span_fields`).
pub(crate) const MAX_SPAN_ATTRIBUTES: usize = 64;

/// What the layer sends of events, resolved by the builder.
#[derive(Clone, Debug)]
pub(crate) struct TelemetryConfig {
    /// The least severe level sent as a log; `None`: logs are off.
    pub(crate) logs: Option<Level>,
    pub(crate) metrics: bool,
    /// Whether logs carry their spans' fields (kept in [`SpanFields`] for every span).
    pub(crate) span_fields: bool,
    /// The trace of events outside any span.
    pub(crate) fallback_trace: TraceId,
}

/// What an event becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Wanted {
    log: bool,
    metric: bool,
}

impl TelemetryConfig {
    /// Whether an event of this callsite is surely neither a log nor a metric: below the logs
    /// level, and (with metrics on) a callsite known from its registration to have no metric
    /// field. A comparison and a cache lookup, no call: the layer's `on_event` returns at once
    /// for such an event (and decides the rest with [`wants`](Self::wants) out of line).
    #[inline]
    pub(crate) fn ignores(&self, metadata: &Metadata<'_>) -> bool {
        !self.logs.is_some_and(|least| *metadata.level() <= least)
            && (!self.metrics || metrics::known_metric_field(metadata) == Some(false))
    }

    /// What `event` becomes, if anything: with metrics on, whether its callsite has a metric
    /// field (kept at its registration, or its field names looked at); then its level against
    /// the logs level.
    pub(crate) fn wants(&self, metadata: &Metadata<'_>) -> Option<Wanted> {
        let metric = self.metrics && metrics::has_metric_field(metadata);
        let log = !metric && self.logs.is_some_and(|least| *metadata.level() <= least);
        if !log && !metric {
            return None;
        }
        if crate::export::on_sender_thread() {
            return None;
        }
        Some(Wanted { log, metric })
    }
}

/// The fields of a span, kept for its logs when `log_span_fields` is on.
#[derive(Debug, Default)]
pub(crate) struct SpanFields(pub(crate) Vec<(Cow<'static, str>, FieldValue)>);

/// Where an event belongs: its trace and span.
fn trace_of<'a, S>(
    config: &TelemetryConfig,
    span: Option<&SpanRef<'a, S>>,
) -> (TraceId, Option<SpanId>)
where
    S: Subscriber + LookupSpan<'a>,
{
    span.and_then(|span| {
        crate::span::access::with_span_data(span, |data| (data.trace_id(), Some(data.span_id)))
    })
    .unwrap_or((config.fallback_trace, None))
}

/// Records `event` as a log or metrics, into the export's buffers.
pub(crate) fn record<'a, S>(
    wanted: Wanted,
    config: &crate::config::Config,
    event: &Event<'_>,
    span: Option<&SpanRef<'a, S>>,
) where
    S: Subscriber + LookupSpan<'a>,
{
    let (Some(telemetry), Some(export)) = (&config.telemetry, &config.export) else {
        return;
    };
    let (trace_id, span_id) = trace_of(telemetry, span);
    let timestamp = SystemTime::now();
    let mut fields = EventFields::new(event.metadata(), wanted.metric);
    event.record(&mut fields);
    if wanted.metric {
        metrics::submit(fields, trace_id, span_id, timestamp, export, &config.stats);
        return;
    }
    let mut attributes = Vec::new();
    if telemetry.span_fields {
        if let Some(span) = span {
            attributes = logs::span_attributes(span);
        }
    }
    attributes.append(&mut fields.attributes);
    export.submit_log(SentryLog {
        level: *event.metadata().level(),
        body: fields.body.unwrap_or_default(),
        attributes,
        trace_id,
        span_id,
        timestamp,
        metadata: Some(event.metadata()),
    });
}

/// A visited metric field: its type, its name, and its value if it was a valid number.
pub(crate) struct MetricField {
    pub(crate) kind: MetricType,
    pub(crate) monotonic: bool,
    pub(crate) name: &'static str,
    pub(crate) value: Option<f64>,
}

/// An event's fields: the message, the attributes, and (for metrics) the metric fields and the
/// unit.
pub(crate) struct EventFields {
    pub(crate) body: Option<String>,
    pub(crate) attributes: Vec<(Cow<'static, str>, FieldValue)>,
    metrics: bool,
    pub(crate) metric_fields: Vec<MetricField>,
    /// The `unit` field: `Some(None)` when it was not a string.
    pub(crate) unit: Option<Option<String>>,
}

impl EventFields {
    fn new(metadata: &Metadata<'_>, metrics: bool) -> Self {
        Self {
            body: None,
            attributes: Vec::with_capacity(metadata.fields().len()),
            metrics,
            metric_fields: Vec::new(),
            unit: None,
        }
    }

    fn push(&mut self, field: &Field, value: FieldValue) {
        if self.metrics {
            if let Some((kind, monotonic, name)) = metrics::split_prefix(field.name()) {
                let value = match value {
                    FieldValue::I64(n) => Some(n as f64),
                    FieldValue::U64(n) => Some(n as f64),
                    FieldValue::F64(f) => Some(f),
                    _ => None,
                };
                self.metric_fields.push(MetricField {
                    kind,
                    monotonic,
                    name,
                    value,
                });
                return;
            }
            if field.name() == metrics::UNIT_FIELD {
                self.unit = Some(match value {
                    FieldValue::Str(s) => Some(s),
                    _ => None,
                });
                return;
            }
        } else if field.name() == "message" {
            self.body = Some(match value {
                FieldValue::Str(s) => s,
                other => format!("{other:?}"),
            });
            return;
        }
        self.attributes.push((Cow::Borrowed(field.name()), value));
    }
}

crate::field::visit_as_field_values!(EventFields);
