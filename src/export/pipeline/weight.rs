//! What the queue and the span buffer reserve for a unit of work: about its serialised size,
//! estimated without serialising (fixed costs plus the strings it carries), on the
//! instrumented thread. One estimate of a span serves transactions and streamed spans.

use crate::export::record::{
    FieldValue, SentryLog, SentryMetric, SpanRecord, StreamedSpan, TransactionRecord,
};
use crate::field::ValueRef;

/// About the serialised size of a transaction.
pub(crate) fn transaction_weight(tx: &TransactionRecord) -> usize {
    const TRANSACTION_OVERHEAD: usize = 1024;
    TRANSACTION_OVERHEAD
        + tx.name.len()
        + span_weight(&tx.root)
        + tx.spans.iter().map(span_weight).sum::<usize>()
}

/// About the serialised size of one streamed span: the span, its attributes (the span v2
/// item writes the transaction's fields as typed attributes) and its segment's name.
pub(crate) fn streamed_span_weight(span: &StreamedSpan) -> usize {
    const ATTRIBUTES_OVERHEAD: usize = 768;
    span_weight(&span.record) + ATTRIBUTES_OVERHEAD + span.segment_name.len()
}

/// About the serialised size of one span: a fixed cost plus the strings it carries.
fn span_weight(s: &SpanRecord) -> usize {
    const SPAN_OVERHEAD: usize = 256;
    let data = s.data.estimate(s.metadata, entry_weight);
    SPAN_OVERHEAD + s.description().map_or(0, String::len) + data
}

/// About the serialised size of one log: the fixed fields and the attributes every log
/// carries (SDK, environment, origin, severity, `code.*`), its body and its attributes.
pub(crate) fn log_weight(log: &SentryLog) -> usize {
    const LOG_OVERHEAD: usize = 640;
    LOG_OVERHEAD + log.body.len() + attributes_weight(&log.attributes)
}

/// About the serialised size of one metric.
pub(crate) fn metric_weight(metric: &SentryMetric) -> usize {
    const METRIC_OVERHEAD: usize = 384;
    METRIC_OVERHEAD + metric.name.len() + attributes_weight(&metric.attributes)
}

/// Typed attributes carry `{"type":"…","value":…}` around each value.
fn attributes_weight(data: &[(std::borrow::Cow<'static, str>, FieldValue)]) -> usize {
    data_weight(data) + 32 * data.len()
}

fn data_weight(data: &[(std::borrow::Cow<'static, str>, FieldValue)]) -> usize {
    data.iter()
        .map(|(key, value)| entry_weight(key, value.into()))
        .sum()
}

fn entry_weight(key: &str, value: ValueRef<'_>) -> usize {
    key.len()
        + 8
        + match value {
            ValueRef::Str(s) => s.len(),
            _ => 16,
        }
}
