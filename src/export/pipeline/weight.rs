//! What the queue and the span buffer reserve for a unit of work: about its serialised size,
//! estimated without serialising (fixed costs plus the strings it carries), on the
//! instrumented thread. One estimate of a span serves transactions and streamed spans.

use crate::export::record::{FieldValue, SpanRecord, StreamedSpan, TransactionRecord};

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
    let data: usize = s
        .data
        .iter()
        .map(|(key, value)| {
            key.len()
                + 8
                + match value {
                    FieldValue::Str(s) => s.len(),
                    _ => 16,
                }
        })
        .sum();
    SPAN_OVERHEAD + s.description.as_ref().map_or(0, String::len) + data
}
