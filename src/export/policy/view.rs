//! [`SpanView`] and [`TransactionView`]: what the
//! [`before_send_span`](crate::SentryLayerBuilder::before_send_span),
//! [`before_send_transaction`](crate::SentryLayerBuilder::before_send_transaction) and
//! [`ignore_spans_where`](crate::SentryLayerBuilder::ignore_spans_where) callbacks see of a
//! finished span about to be sent: an editable view over the export record, on the export
//! worker.
//!
//! The views borrow the records the worker serialises next, so an edit is exactly what goes on
//! the wire. A [`SpanView`] is made from one span record and nothing else: whatever sends spans
//! (the transaction's root and children, and each span of a streamed batch) builds one
//! per span and runs the span hook through `privacy::Privacy::process_span`, the one entry
//! point for a single span.

use std::borrow::Cow;

use crate::export::record::{FieldValue, SpanRecord, TransactionRecord};
use crate::id::{SpanId, TraceId};
use crate::status::SpanStatus;

/// An editable view of one finished span, as it will be sent.
///
/// Reading gives what would be written on the wire: [`op`](Self::op) and
/// [`description`](Self::description) fall back to the callsite's `{target}::{name}` and name
/// as the export does. The `code.*` data the export adds from the callsite is not part of
/// [`data`](Self::data).
///
/// # Examples
///
/// ```
/// use tracing_sentry::FieldValue;
///
/// let (layer, _guard) = tracing_sentry::SentryLayer::builder()
///     .transport(tracing_sentry::export::InMemoryTransport::new())
///     .before_send_span(|span| {
///         if span.op() == "db.query" {
///             span.set_data("db.statement", FieldValue::Str("<redacted>".into()));
///         }
///         span.remove_data("customer.email");
///     })
///     .build()?;
/// # drop(layer);
/// # Ok::<(), tracing_sentry::BuildError>(())
/// ```
pub struct SpanView<'a> {
    record: &'a mut SpanRecord,
}

impl<'a> SpanView<'a> {
    pub(crate) fn new(record: &'a mut SpanRecord) -> Self {
        // A hook reads and edits the data as a plain list: decoded here, once.
        let _ = record.data_mut();
        Self { record }
    }

    /// The data entries (plain since [`SpanView::new`]).
    fn entries(&self) -> &[(Cow<'static, str>, FieldValue)] {
        self.record.data.owned().map_or(&[], Vec::as_slice)
    }

    /// The span's id.
    pub fn span_id(&self) -> SpanId {
        self.record.span_id
    }

    /// The parent span's id (for a transaction's root, the remote parent's, if any).
    pub fn parent_span_id(&self) -> Option<SpanId> {
        self.record.parent_span_id
    }

    /// The `tracing` span's name (its callsite's), or `""` for a span without a callsite.
    pub fn name(&self) -> &str {
        self.record.metadata.map_or("", |m| m.name())
    }

    /// The `tracing` span's target (its callsite's), or `""` for a span without a callsite.
    pub fn target(&self) -> &str {
        self.record.metadata.map_or("", |m| m.target())
    }

    /// The operation sent: `sentry.op` if the span set one, else `{target}::{name}`.
    pub fn op(&self) -> Cow<'_, str> {
        match (self.record.op(), self.record.metadata) {
            (op, _) if !op.is_empty() => Cow::Borrowed(op),
            (_, Some(m)) => Cow::Owned(format!("{}::{}", m.target(), m.name())),
            (_, None) => Cow::Borrowed(""),
        }
    }

    /// Replaces the operation.
    pub fn set_op(&mut self, op: impl Into<String>) {
        self.record.details_mut().op = Some(Cow::Owned(op.into()));
    }

    /// The description sent: `sentry.name` if the span set one, else the span's name.
    pub fn description(&self) -> &str {
        match self.record.description() {
            Some(description) => description,
            None => self.name(),
        }
    }

    /// Replaces the description.
    pub fn set_description(&mut self, description: impl Into<String>) {
        self.record.details_mut().description = Some(description.into());
    }

    /// The status sent, if any.
    pub fn status(&self) -> Option<SpanStatus> {
        self.record.status
    }

    /// Replaces the status (`None`: no status is sent).
    pub fn set_status(&mut self, status: Option<SpanStatus>) {
        self.record.status = status;
    }

    /// The span's data (its recorded fields), in the order they were recorded.
    pub fn data(&self) -> impl Iterator<Item = (&str, &FieldValue)> + '_ {
        self.entries().iter().map(|(k, v)| (k.as_ref(), v))
    }

    /// The value of one data entry (the last one, if the key repeats).
    pub fn get_data(&self, key: &str) -> Option<&FieldValue> {
        self.entries()
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// Sets a data entry, replacing every entry with the same key.
    pub fn set_data(&mut self, key: impl Into<String>, value: FieldValue) {
        let key = key.into();
        let data = self.record.data_mut();
        data.retain(|(k, _)| *k != key);
        data.push((Cow::Owned(key), value));
    }

    /// Removes every entry with this key; returns the last value it had.
    pub fn remove_data(&mut self, key: &str) -> Option<FieldValue> {
        let mut removed = None;
        let mut i = 0;
        let data = self.record.data_mut();
        while i < data.len() {
            if data.get(i).is_some_and(|(k, _)| k == key) {
                removed = Some(data.remove(i).1);
            } else {
                i += 1;
            }
        }
        removed
    }

    /// Keeps only the data entries for which `keep` returns `true`.
    pub fn retain_data(&mut self, mut keep: impl FnMut(&str, &FieldValue) -> bool) {
        self.record.data_mut().retain(|(k, v)| keep(k, v));
    }
}

impl std::fmt::Debug for SpanView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Keys only: values may be what a hook is about to scrub.
        f.debug_struct("SpanView")
            .field("span_id", &self.record.span_id)
            .field("op", &self.op())
            .field("description", &self.description())
            .field("status", &self.record.status)
            .field(
                "data_keys",
                &self.entries().iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// An editable view of a finished transaction about to be sent: its name, its root span (op,
/// status, data: Sentry's trace context) and its child spans.
///
/// # Examples
///
/// ```
/// let (layer, _guard) = tracing_sentry::SentryLayer::builder()
///     .transport(tracing_sentry::export::InMemoryTransport::new())
///     .before_send_transaction(|tx| {
///         // Drop health checks; keep only the database spans of the rest.
///         if tx.name() == "GET /health" {
///             return false;
///         }
///         tx.retain_spans(|span| span.op().starts_with("db"));
///         true
///     })
///     .build()?;
/// # drop(layer);
/// # Ok::<(), tracing_sentry::BuildError>(())
/// ```
pub struct TransactionView<'a> {
    tx: &'a mut TransactionRecord,
}

impl<'a> TransactionView<'a> {
    pub(crate) fn new(tx: &'a mut TransactionRecord) -> Self {
        Self { tx }
    }

    /// The trace id.
    pub fn trace_id(&self) -> TraceId {
        self.tx.trace_id
    }

    /// The transaction's name.
    pub fn name(&self) -> &str {
        &self.tx.name
    }

    /// Renames the transaction (its source stays as it was).
    pub fn set_name(&mut self, name: impl Into<String>) {
        self.tx.name = Cow::Owned(name.into());
    }

    /// The root span: its op, status and data are the trace context's.
    pub fn root(&mut self) -> SpanView<'_> {
        SpanView::new(&mut self.tx.root)
    }

    /// The number of child spans.
    pub fn span_count(&self) -> usize {
        self.tx.spans.len()
    }

    /// The child spans, in the order they finished.
    pub fn spans(&mut self) -> impl Iterator<Item = SpanView<'_>> + '_ {
        self.tx.spans.iter_mut().map(SpanView::new)
    }

    /// Keeps only the child spans for which `keep` returns `true`. Removed spans are counted in
    /// [`Stats::spans_dropped_before_send`](crate::Stats::spans_dropped_before_send) and reported
    /// to Sentry as `before_send` spans; their children keep their parent ids.
    pub fn retain_spans(&mut self, mut keep: impl FnMut(&mut SpanView<'_>) -> bool) {
        self.tx
            .spans
            .retain_mut(|span| keep(&mut SpanView::new(span)));
    }
}

impl std::fmt::Debug for TransactionView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransactionView")
            .field("trace_id", &self.tx.trace_id)
            .field("name", &self.tx.name)
            .field("spans", &self.tx.spans.len())
            .finish_non_exhaustive()
    }
}
