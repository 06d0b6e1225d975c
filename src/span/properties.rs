//! Fields and typed properties applied to a span after its creation: the fields the layer's
//! `on_record` sees, and the properties the integrations set on their request spans without
//! declaring them as span fields.
//!
//! `sentry.*` fields set span properties, others become span data, and a local root's name
//! also names its transaction (and the head dynamic sampling context until it is frozen).

use std::borrow::Cow;
use std::sync::Arc;

use tracing_subscriber::registry::{LookupSpan, SpanRef};
use tracing_subscriber::Registry;

use crate::field::FieldValue;
use crate::span::access::with_registry_span;
use crate::span::data::SpanData;
use crate::span::lazy_root::{is_lazy, materialize, LazyRoot};
use crate::span::recording::{requested_name, Property};

/// Applies recorded `fields` to `span`: `sentry.*` fields set span properties, others become
/// span data, and a root renames its transaction (recorded or not: an unrecorded root still
/// names the head DSC's transaction until it is frozen).
pub(crate) fn apply_fields<'a, R: LookupSpan<'a>>(
    span: &SpanRef<'a, R>,
    is_root: bool,
    fields: Vec<(Cow<'static, str>, FieldValue)>,
) {
    let requested = is_root.then(|| requested_name(&fields));

    let mut ext = span.extensions_mut();
    let Some(data) = ext.get_mut::<SpanData>() else {
        return;
    };
    if let Some(rec) = data.recording.as_mut() {
        rec.absorb(fields);
    }
    let root = match requested {
        Some(requested) if !requested.is_empty() => (Arc::clone(&data.root), requested),
        _ => return,
    };
    drop(ext);
    root.0.set_name(root.1);
}

/// Sets Sentry properties (`sentry.op`, `sentry.name`, `sentry.source`, `sentry.status`,
/// `sentry.origin`) and data on `span` through the layer, without declaring them as span
/// fields: they reach Sentry but stay out of other layers' output (the fmt layer prints every
/// declared field on every line logged inside the span).
///
/// Does nothing when `span` is disabled, the subscriber is not a [`Registry`], or no
/// [`SentryLayer`](crate::SentryLayer) records the span (an unsampled trace).
///
/// `fields` is called only when the span is recorded (or is a local root, whose name the head
/// dynamic sampling context carries), so that unsampled spans cost one lookup.
#[cfg(feature = "tower")]
pub(crate) fn set_span_properties(
    span: &tracing::Span,
    fields: impl FnOnce() -> Vec<(Cow<'static, str>, FieldValue)>,
) {
    let _ = with_registry_span(span, |span| set_properties_on(&span, fields));
}

/// [`set_span_properties`] for a span already looked up.
pub(crate) fn set_properties_on(
    span: &SpanRef<'_, Registry>,
    fields: impl FnOnce() -> Vec<(Cow<'static, str>, FieldValue)>,
) {
    if is_lazy(span) {
        // A root names its transaction (and the head DSC): it needs its `RootState`.
        materialize(span);
    }
    let (records, is_root) = match span.extensions().get::<SpanData>() {
        Some(data) => (data.records(), data.is_local_root),
        None => return,
    };
    if records || is_root {
        apply_fields(span, is_root, fields());
    }
}

/// Sets typed `properties` on `span`: for a recorded span that is not a local root, in one
/// write of its extensions and without string fields; a local root goes through
/// [`set_properties_on`] (its name also names the head dynamic sampling context).
///
/// `properties` is called only when the span is recorded or a local root.
pub(crate) fn set_typed_properties_on<I: IntoIterator<Item = Property>>(
    span: &SpanRef<'_, Registry>,
    properties: impl FnOnce() -> I,
) {
    let mut ext = span.extensions_mut();
    let Some(data) = ext.get_mut::<SpanData>() else {
        if ext.get_mut::<LazyRoot>().is_some() {
            drop(ext);
            return set_properties_on(span, || {
                properties().into_iter().map(Property::into_field).collect()
            });
        }
        return;
    };
    if data.is_local_root {
        drop(ext);
        return set_properties_on(span, || {
            properties().into_iter().map(Property::into_field).collect()
        });
    }
    if let Some(rec) = data.recording.as_mut() {
        for property in properties() {
            rec.set(property);
        }
    }
}

/// [`set_typed_properties_on`] for a [`tracing::Span`].
pub(crate) fn set_typed_properties<I: IntoIterator<Item = Property>>(
    span: &tracing::Span,
    properties: impl FnOnce() -> I,
) {
    let _ = with_registry_span(span, |span| set_typed_properties_on(&span, properties));
}
