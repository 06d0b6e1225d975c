//! Reaching a span's [`SpanData`] from outside the layer's callbacks: from a `tracing::Span`
//! handle ([`SentrySpanExt`](crate::SentrySpanExt)) or from the current span
//! ([`current_headers`](crate::current_headers) and friends).
//!
//! The span's dispatcher is downcast to [`tracing_subscriber::Registry`] (which `Layered`,
//! `Filtered`, `Option`, `Box` and `reload` all forward to) and the span's extensions are read
//! there. This needs no `unsafe` and works through every wrapper, including `reload::Layer`;
//! the per-layer options travel with the span data itself. The trade-off: the root subscriber
//! must be a `Registry`.

use std::sync::Arc;

use http::header::{Entry, HeaderMap, HeaderValue};
use tracing::Span;
use tracing_subscriber::registry::{Extensions, LookupSpan, SpanRef};
use tracing_subscriber::Registry;

use crate::config::Config;
use crate::propagation::{
    merge_baggage, SentryTrace, Traceparent, BAGGAGE, SENTRY_TRACE, TRACEPARENT,
};
use crate::span::data::SpanData;
use crate::span::lazy_root::{is_lazy, materialize};

/// Why a span handle could not be reached in the registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Unreachable {
    /// The root subscriber is not a `Registry`.
    NoRegistry,
    /// The span is disabled or already closed.
    Disabled,
}

/// Runs `f` with the registry's view of `span`.
pub(crate) fn with_registry_span<R>(
    span: &Span,
    f: impl FnOnce(SpanRef<'_, Registry>) -> R,
) -> Result<R, Unreachable> {
    span.with_subscriber(|(id, dispatch)| {
        let registry = dispatch
            .downcast_ref::<Registry>()
            .ok_or(Unreachable::NoRegistry)?;
        let span = registry.span(id).ok_or(Unreachable::Disabled)?;
        Ok(f(span))
    })
    .unwrap_or(Err(Unreachable::Disabled))
}

/// Runs `f` with the registry's view of the current span of the default dispatcher, if any.
pub(crate) fn with_current_span(f: impl FnOnce(SpanRef<'_, Registry>)) {
    let mut f = Some(f);
    tracing::dispatcher::get_default(|dispatch| {
        let Some(f) = f.take() else { return };
        let current = dispatch.current_span();
        let Some(id) = current.id() else { return };
        let Some(registry) = dispatch.downcast_ref::<Registry>() else {
            return;
        };
        if let Some(span) = registry.span(id) {
            f(span);
        }
    });
}

/// Runs `f` with the current span's data (created on demand, see [`with_span_data`]).
pub(crate) fn with_current(f: impl FnOnce(&SpanData)) {
    with_current_span(|span| {
        with_span_data(&span, f);
    });
}

/// Runs `f` with the span's own data, creating it from the nearest recorded ancestor if the span
/// has none yet (a span in an unrecorded trace gets an id only when someone asks for it). A span
/// whose nearest recorded ancestor records its children was excluded by a filter: it uses that
/// ancestor's context. Returns `None` if no ancestor has data (no layer records this span).
#[inline]
pub(crate) fn with_span_data<'a, S: LookupSpan<'a>, R>(
    span: &SpanRef<'a, S>,
    f: impl FnOnce(&SpanData) -> R,
) -> Option<R> {
    if let Some(data) = span.extensions().get::<SpanData>() {
        return Some(f(data));
    }
    if is_lazy(span) {
        materialize(span);
        return span.extensions().get::<SpanData>().map(f);
    }
    let mut materialized = None;
    for ancestor in span.scope().skip(1) {
        let Some(ext) = data_ext(&ancestor) else {
            continue;
        };
        let Some(data) = ext.get::<SpanData>() else {
            continue;
        };
        if data.records_children() {
            return Some(f(data));
        }
        data.mark_started();
        materialized = Some(SpanData::child_of(data, None));
        break;
    }
    let data = materialized?;
    let mut ext = span.extensions_mut();
    // Another thread may have given the span its data meanwhile: keep the first one, so every
    // caller sees the same span id.
    if ext.get_mut::<SpanData>().is_none() {
        let _ = ext.replace(data);
    }
    drop(ext);
    span.extensions().get::<SpanData>().map(f)
}

/// Runs `f` with the data of `span` or of its nearest ancestor that has data, without creating
/// any (a read-only look).
pub(crate) fn with_nearest_data<R>(
    span: &SpanRef<'_, Registry>,
    f: impl FnOnce(&SpanData, bool) -> R,
) -> Option<R> {
    let mut f = Some(f);
    span.scope().enumerate().find_map(|(depth, s)| {
        let ext = data_ext(&s)?;
        let data = ext.get::<SpanData>()?;
        f.take().map(|f| f(data, depth == 0))
    })
}

/// The extensions of `span` if it has [`SpanData`], making a [`LazyRoot`](crate::span::lazy_root::LazyRoot)
/// whole first; `None` if it has neither.
fn data_ext<'a, 's, S: LookupSpan<'a>>(span: &'s SpanRef<'a, S>) -> Option<Extensions<'s>> {
    let ext = span.extensions();
    if ext.get::<SpanData>().is_some() {
        return Some(ext);
    }
    drop(ext);
    if !is_lazy(span) {
        return None;
    }
    materialize(span);
    Some(span.extensions())
}

/// The configuration of the [`SentryLayer`](crate::SentryLayer) of the current default
/// dispatcher: its extraction options and the counters, for the `tower` server layer, which
/// reads incoming headers before any span exists.
#[cfg(feature = "tower")]
pub(crate) fn current_config() -> Option<Arc<Config>> {
    tracing::dispatcher::get_default(|dispatch| {
        dispatch
            .downcast_ref::<crate::SentryLayer>()
            .map(crate::SentryLayer::config)
    })
}

/// The options of the layer that records `span` or its nearest recorded ancestor.
pub(crate) fn config_of(span: &SpanRef<'_, Registry>) -> Option<Arc<Config>> {
    with_nearest_data(span, |data, _| Arc::clone(&data.root.config))
}

/// Writes the outgoing headers naming `data`'s span as the parent. With `merge`, an existing
/// `baggage` keeps its foreign members and an existing `traceparent` is kept.
///
/// The context leaves the process: the span no longer accepts a remote parent, and the DSC
/// (built now for a new trace) is frozen.
pub(crate) fn insert_headers(data: &SpanData, headers: &mut HeaderMap, merge: bool) {
    data.mark_started();
    let root = &data.root;
    let sentry_trace = SentryTrace::new(data.trace_id(), data.span_id, data.sampled());
    if let Some(value) = sentry_trace.header_value() {
        headers.insert(SENTRY_TRACE, value);
    }
    if root.config.propagate_traceparent && !(merge && headers.contains_key(TRACEPARENT)) {
        let traceparent =
            Traceparent::new(data.trace_id(), data.span_id, data.sampled() == Some(true));
        if let Ok(value) = HeaderValue::from_str(&traceparent.to_string()) {
            headers.insert(TRACEPARENT, value);
        }
    }
    let Some(ours) = root.baggage() else { return };
    if !merge {
        headers.insert(BAGGAGE, ours.clone());
        return;
    }
    // One lookup of `baggage`, whether it is there or not.
    match headers.entry(BAGGAGE) {
        Entry::Occupied(mut entry) => {
            let existing: Vec<&str> = entry.iter().filter_map(|v| v.to_str().ok()).collect();
            let existing = existing.join(",");
            let merged = merge_baggage(Some(&existing), ours.to_str().unwrap_or(""));
            match merged.and_then(|m| HeaderValue::from_str(&m).ok()) {
                Some(value) => {
                    entry.insert(value);
                }
                None => {
                    entry.remove_entry_mult();
                }
            }
        }
        Entry::Vacant(entry) => {
            entry.insert(ours.clone());
        }
    }
}

#[cfg(all(test, feature = "tower"))]
mod tests {
    use tracing_subscriber::prelude::*;

    use super::*;

    #[test]
    fn the_current_layers_config_is_found_through_the_layers() {
        assert!(current_config().is_none(), "no layer");
        let (layer, _guard) = crate::SentryLayer::builder()
            .accept_traceparent(true)
            .build()
            .unwrap();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_subscriber::fmt::layer().with_writer(std::io::sink))
            .with(layer);
        tracing::subscriber::with_default(subscriber, || {
            let config = current_config().expect("the layer under the fmt layer");
            assert!(config.extract_options().accept_traceparent);
        });
    }
}
