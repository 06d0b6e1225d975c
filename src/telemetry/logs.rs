//! The log side: the fields of an event's spans, kept for its logs when `log_span_fields` is on.
//!
//! The layer records fields only for sampled spans; logs are sent in unsampled spans too, so
//! with the option on every span keeps its own fields in a [`SpanFields`] extension (visited
//! when the span is created and on each `record`), whatever its sampling decision. With the
//! option off nothing is stored.

use tracing_core::span::{Attributes, Record};
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use super::{SpanFields, MAX_SPAN_ATTRIBUTES};
use crate::field::FieldValue;
use crate::span::recording::FieldVisitor;

/// Keeps the creation fields of a new span.
pub(crate) fn store_span_fields<'a, S: LookupSpan<'a>>(
    span: &SpanRef<'a, S>,
    attrs: &Attributes<'_>,
) {
    let mut visitor = FieldVisitor::for_metadata(attrs.metadata());
    attrs.record(&mut visitor);
    let _ = span.extensions_mut().replace(SpanFields(visitor.fields));
}

/// Adds fields recorded on a span later (a later value of a field wins when sent).
pub(crate) fn record_span_fields<'a, S: LookupSpan<'a>>(
    span: &SpanRef<'a, S>,
    values: &Record<'_>,
) {
    let mut visitor = FieldVisitor::default();
    values.record(&mut visitor);
    let mut ext = span.extensions_mut();
    match ext.get_mut::<SpanFields>() {
        Some(fields) => {
            // Bounded: a field recorded again replaces its earlier value.
            for (key, value) in visitor.fields {
                match fields.0.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, slot)) => *slot = value,
                    None => fields.0.push((key, value)),
                }
            }
        }
        None => {
            let _ = ext.replace(SpanFields(visitor.fields));
        }
    }
}

/// The fields of `span` and its ancestors, the root's first (so the nearest span's value of a
/// field wins), at most [`MAX_SPAN_ATTRIBUTES`].
pub(crate) fn span_attributes<'a, S: LookupSpan<'a>>(
    span: &SpanRef<'a, S>,
) -> Vec<(std::borrow::Cow<'static, str>, FieldValue)> {
    let mut chain: Vec<Vec<(std::borrow::Cow<'static, str>, FieldValue)>> = Vec::new();
    let mut total = 0;
    for s in span.scope() {
        if total >= MAX_SPAN_ATTRIBUTES {
            break;
        }
        let ext = s.extensions();
        if let Some(fields) = ext.get::<SpanFields>() {
            let take = fields.0.len().min(MAX_SPAN_ATTRIBUTES - total);
            total += take;
            chain.push(fields.0.iter().take(take).cloned().collect());
        }
    }
    chain.into_iter().rev().flatten().collect()
}
