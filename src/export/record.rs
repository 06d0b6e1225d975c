//! What the layer hands to the exporter: finished spans, grouped into a transaction.
//!
//! These are plain data, built on the instrumented thread when a local root closes and
//! serialised on the export worker, so JSON encoding never runs on the caller's thread.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use crate::clock::Clock;
pub(crate) use crate::field::FieldValue;
use crate::field::{DataFields, Fields};
use crate::id::{SpanId, TraceId};
use crate::propagation::{DynamicSamplingContext, HeadFacts};
use crate::status::SpanStatus;
use crate::thread::ThreadTag;

/// A span's `origin` unless the user set `sentry.origin`: what Sentry shows as the
/// instrumentation that made it.
pub(crate) const DEFAULT_ORIGIN: &str = "auto.tracing";

/// A link recorded with `follows_from`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SpanLink {
    pub(crate) trace_id: TraceId,
    pub(crate) span_id: SpanId,
    pub(crate) sampled: Option<bool>,
}

/// One finished span (the transaction's root or one of its children). Kept small: it is
/// moved into its transaction's child list on the instrumented thread; what few spans set
/// (op, description, origin, links) lives behind one optional box.
#[derive(Clone, Debug)]
pub(crate) struct SpanRecord {
    pub(crate) span_id: SpanId,
    /// The local parent; for the root, the remote parent (if the trace was continued).
    pub(crate) parent_span_id: Option<SpanId>,
    pub(crate) status: Option<SpanStatus>,
    /// Monotonic start and end: the sender turns them into wall-clock times with the
    /// [`Clock`] of the span's local root (so `start <= end` always holds).
    pub(crate) start: Instant,
    pub(crate) end: Instant,
    /// Encoded as recorded; a plain list once something edits it ([`SpanRecord::data_mut`]).
    pub(crate) data: DataFields,
    /// The op, description, origin and links the span set, if any (see the accessors).
    pub(crate) details: Option<Box<SpanDetails>>,
    /// The span's callsite: the default `op` (`{target}::{name}`) and the `code.*` data are
    /// written from it on the export worker, so the instrumented thread formats nothing.
    pub(crate) metadata: Option<&'static tracing_core::Metadata<'static>>,
    /// The thread the span started on (`thread.id`, `thread.name`).
    pub(crate) thread: ThreadTag,
}

/// What few spans set: special-field overrides (`sentry.op`, `sentry.name`,
/// `sentry.description`, `sentry.origin`, `sentry.source`) and links. Built by the recording
/// and handed to the record as it is.
#[derive(Clone, Debug, Default)]
pub(crate) struct SpanDetails {
    pub(crate) op: Option<Cow<'static, str>>,
    /// The transaction name the span asked for; the description when none is set.
    pub(crate) name: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) origin: Option<Cow<'static, str>>,
    pub(crate) source: Option<TransactionSource>,
    pub(crate) links: Vec<SpanLink>,
}

/// The op of a span that set none (the callsite's is written).
const NO_OP: &Cow<'static, str> = &Cow::Borrowed("");
/// The origin of a span that set none.
const AUTO_ORIGIN: &Cow<'static, str> = &Cow::Borrowed(DEFAULT_ORIGIN);

impl SpanRecord {
    /// The op the span set (`sentry.op`), empty if none.
    pub(crate) fn op(&self) -> &Cow<'static, str> {
        self.details
            .as_ref()
            .and_then(|d| d.op.as_ref())
            .unwrap_or(NO_OP)
    }

    /// The description the span set, else the transaction name it asked for; `None` falls
    /// back to the span's name when it is written.
    pub(crate) fn description(&self) -> Option<&String> {
        let details = self.details.as_deref()?;
        details.description.as_ref().or(details.name.as_ref())
    }

    /// `auto.tracing` unless the user set `sentry.origin`.
    pub(crate) fn origin(&self) -> &Cow<'static, str> {
        self.details
            .as_ref()
            .and_then(|d| d.origin.as_ref())
            .unwrap_or(AUTO_ORIGIN)
    }

    /// The links recorded with `follows_from`.
    pub(crate) fn links(&self) -> &[SpanLink] {
        self.details.as_ref().map_or(&[], |d| d.links.as_slice())
    }

    /// The details, to edit (created on first edit).
    pub(crate) fn details_mut(&mut self) -> &mut SpanDetails {
        self.details.get_or_insert_with(Box::default)
    }

    /// The data as a plain list, to edit.
    pub(crate) fn data_mut(&mut self) -> &mut Fields {
        self.data.to_mut(self.metadata)
    }

    /// The data as a plain list, decoded into `scratch` unless it is one already.
    pub(crate) fn data_slice<'s>(
        &'s self,
        scratch: &'s mut Fields,
    ) -> &'s [(Cow<'static, str>, FieldValue)] {
        self.data.as_slice(self.metadata, scratch)
    }
}

/// How the transaction got its name (`transaction_info.source`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TransactionSource {
    Custom,
    Url,
    Route,
    View,
    Component,
    Task,
}

impl TransactionSource {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Custom => "custom",
            Self::Url => "url",
            Self::Route => "route",
            Self::View => "view",
            Self::Component => "component",
            Self::Task => "task",
        }
    }
}

/// A finished local root with its finished children: one Sentry transaction.
#[derive(Clone, Debug)]
pub(crate) struct TransactionRecord {
    pub(crate) trace_id: TraceId,
    /// Borrowed when it is the root's callsite name: no copy per transaction.
    pub(crate) name: Cow<'static, str>,
    pub(crate) source: TransactionSource,
    /// The root span: its id and parent go into `contexts.trace`.
    pub(crate) root: SpanRecord,
    /// Finished descendants, in the order they closed (at most the configured maximum).
    pub(crate) spans: Vec<SpanRecord>,
    /// Children dropped because the transaction was full (already counted in stats).
    pub(crate) dropped_spans: u32,
    /// Turns the spans' instants into wall-clock times.
    pub(crate) clock: Clock,
    /// The dynamic sampling context, the envelope header `trace`: read it with
    /// [`TransactionRecord::dsc`].
    pub(crate) dsc: TransactionDsc,
}

/// A transaction's dynamic sampling context, as its local root left it.
#[derive(Clone, Debug)]
pub(crate) enum TransactionDsc {
    /// Frozen while the trace ran: it came with a remote parent, or left the process.
    Frozen(Arc<DynamicSamplingContext>),
    /// A head DSC that never left the process: built from these values and the transaction's
    /// name when the envelope is written (on the export sender), as it would have been when
    /// the root ended.
    Head(HeadFacts),
}

impl TransactionRecord {
    /// The transaction's DSC: the frozen one, or the head DSC built now. The envelope writer
    /// writes a head DSC without building it; its tests compare the two.
    #[cfg(test)]
    pub(crate) fn dsc(&self) -> Cow<'_, DynamicSamplingContext> {
        match &self.dsc {
            TransactionDsc::Frozen(dsc) => Cow::Borrowed(dsc),
            TransactionDsc::Head(facts) => Cow::Owned(facts.build(
                self.trace_id,
                &self.name,
                self.source == TransactionSource::Url,
            )),
        }
    }
}

/// One finished span of the stream lifecycle, with what its segment gives it.
#[derive(Clone, Debug)]
pub(crate) struct StreamedSpan {
    pub(crate) record: SpanRecord,
    /// Turns the span's instants into wall-clock times (its local root's clock).
    pub(crate) clock: Clock,
    /// The local root's span id (`sentry.segment.id`).
    pub(crate) segment_id: SpanId,
    /// The local root's transaction name when the span finished (`sentry.segment.name`; the
    /// segment's own `name`).
    pub(crate) segment_name: Arc<str>,
    /// How the segment got its name (`sentry.segment.name.source`, on the segment).
    pub(crate) source: TransactionSource,
    /// Whether this is the local root itself.
    pub(crate) is_segment: bool,
}

/// Streamed spans of one trace, sent as one `span` item in one envelope.
#[derive(Clone, Debug)]
pub(crate) struct SpanBatch {
    pub(crate) trace_id: TraceId,
    /// The trace's frozen DSC: the envelope header `trace`.
    pub(crate) dsc: Arc<DynamicSamplingContext>,
    pub(crate) spans: Vec<StreamedSpan>,
    /// The estimated serialised size of `spans`.
    pub(crate) bytes: usize,
}

/// A `tracing` event on its way to Sentry as a log (an item of a `log` envelope item), as the
/// [`before_send_log`](crate::SentryLayerBuilder::before_send_log) hook sees it.
///
/// The hook may change the body, the level and the attributes; the trace and span ids, the
/// timestamp and the attributes the exporter adds itself (`sentry.sdk.*`, `sentry.release`,
/// `sentry.environment`, `sentry.origin`, `sentry.severity_*`, `code.*`) are not part of it.
///
/// # Examples
///
/// ```
/// use tracing_sentry::telemetry::SentryLog;
/// use tracing_sentry::FieldValue;
///
/// fn scrub(log: &mut SentryLog) -> bool {
///     log.attributes.retain(|(key, _)| key != "card_number");
///     if let Some((_, FieldValue::Str(user))) = log.attributes.iter_mut().find(|(k, _)| k == "user") {
///         *user = "[redacted]".to_owned();
///     }
///     !log.body.starts_with("healthcheck") // `false` drops the log
/// }
/// # let _ = scrub;
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SentryLog {
    /// The event's level (`level` and `sentry.severity_number` on the wire).
    pub level: tracing_core::Level,
    /// The message: the event's `message` field, formatted.
    pub body: String,
    /// The event's other fields (and, with
    /// [`log_span_fields`](crate::SentryLayerBuilder::log_span_fields), its spans'), in the
    /// order they were recorded; a later entry of the same key wins.
    pub attributes: Vec<(Cow<'static, str>, FieldValue)>,
    /// The trace the event belongs to: its span's, else the layer's own trace for events
    /// outside any span.
    pub trace_id: TraceId,
    /// The span the event was recorded in, if any.
    pub span_id: Option<SpanId>,
    /// When the event was recorded.
    pub timestamp: SystemTime,
    /// The event's callsite: `code.*` are written from it on the export worker.
    pub(crate) metadata: Option<&'static tracing_core::Metadata<'static>>,
}

/// The kind of a [`SentryMetric`], from its field's prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MetricType {
    /// `counter.` or `monotonic_counter.`: the value is added to a sum.
    Counter,
    /// `gauge.`: the value replaces the last one.
    Gauge,
    /// `distribution.` or `histogram.`: every value counts (percentiles, averages).
    Distribution,
}

impl MetricType {
    /// The wire name: `counter`, `gauge` or `distribution`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Counter => "counter",
            Self::Gauge => "gauge",
            Self::Distribution => "distribution",
        }
    }
}

/// A metric recorded by a `tracing` event (an item of a `trace_metric` envelope item), as the
/// [`before_send_metric`](crate::SentryLayerBuilder::before_send_metric) hook sees it.
///
/// # Examples
///
/// ```
/// use tracing_sentry::telemetry::SentryMetric;
///
/// fn only_http(metric: &mut SentryMetric) -> bool {
///     metric.name.starts_with("http.")
/// }
/// # let _ = only_http;
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SentryMetric {
    /// The field's name after the prefix (`counter.http.requests` gives `http.requests`).
    pub name: Cow<'static, str>,
    /// From the prefix.
    pub kind: MetricType,
    /// The field's value (always finite).
    pub value: f64,
    /// The event's `unit` field, if it had one.
    pub unit: Option<Cow<'static, str>>,
    /// The event's other fields.
    pub attributes: Vec<(Cow<'static, str>, FieldValue)>,
    /// The trace the event belongs to (see [`SentryLog::trace_id`]).
    pub trace_id: TraceId,
    /// The span the event was recorded in, if any.
    pub span_id: Option<SpanId>,
    /// When the event was recorded.
    pub timestamp: SystemTime,
}

/// Logs or metrics waiting to be sent together as one item.
#[derive(Clone, Debug)]
pub(crate) struct TelemetryBatch<T> {
    pub(crate) items: Vec<T>,
    /// The estimated serialised size of `items`.
    pub(crate) bytes: usize,
}

/// A batch of logs: one `log` item.
pub(crate) type LogBatch = TelemetryBatch<SentryLog>;
/// A batch of metrics: one `trace_metric` item.
pub(crate) type MetricBatch = TelemetryBatch<SentryMetric>;
