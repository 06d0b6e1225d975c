//! [`LazyRoot`]: the extension of a local root that starts a new trace and records nothing,
//! until something needs its shared [`RootState`].
//!
//! Most roots at a low sample rate are such roots, and most of them end without a child with
//! data, an outgoing header or a rename: they keep only what their descendants' reads and the
//! log formatters need (trace id, span id, decision, options) inline, and no `RootState`.
//! The first reader that needs more (a child's own context, the DSC for `baggage`, a rename)
//! turns it into a [`SpanData`] with its `RootState` in place ([`materialize`]); a remote
//! parent replaces it with the continued root's data without that; a `LazyRoot` that ends as
//! it is (or is replaced) still counts its trace as sampled out.

use crate::span::started::Started;
use std::sync::Arc;

use tracing_core::Metadata;
use tracing_subscriber::registry::{ExtensionsMut, LookupSpan, SpanRef};

use crate::config::Config;
use crate::export::record::SpanLink;
use crate::id::{SpanId, TraceId};
use crate::propagation::sample_rand_from_trace_id;
use crate::sampling::Decision;
use crate::span::data::SpanData;
use crate::span::root::{count_unsampled, RootParts, RootState};
use crate::span::trace_context::TraceContext;

/// A new-trace local root that does not record, without its [`RootState`] yet. Its
/// `sample_rand` is not kept: a new trace's is derived from its trace id.
pub(crate) struct LazyRoot {
    config: Arc<Config>,
    trace_id: TraceId,
    span_id: SpanId,
    /// The decision's `applied_rate`, when `has_rate` (flattened: no `Option` padding).
    applied_rate: f64,
    has_rate: bool,
    sampled: Option<bool>,
    downsampled: bool,
    /// Set once the span has a child or its context has left the process.
    started: Started,
    /// Cleared when the root became a [`SpanData`]: its `RootState` counts the trace then.
    counts: bool,
}

impl LazyRoot {
    /// Whether a root with this origin and outcome may stay lazy: it starts a new trace (no
    /// frozen DSC, no forwarded members), records nothing, was not ignored, and its
    /// transaction name is the span's name (its callsite declares no `sentry.name`).
    pub(crate) fn new(
        config: &Arc<Config>,
        trace_id: TraceId,
        span_id: SpanId,
        decision: Decision,
    ) -> Self {
        Self {
            config: Arc::clone(config),
            trace_id,
            span_id,
            applied_rate: decision.applied_rate.unwrap_or(0.0),
            has_rate: decision.applied_rate.is_some(),
            sampled: decision.sampled,
            downsampled: decision.downsampled,
            started: Started::new(false),
            counts: true,
        }
    }

    fn decision(&self) -> Decision {
        Decision {
            sampled: self.sampled,
            applied_rate: self.has_rate.then_some(self.applied_rate),
            downsampled: self.downsampled,
        }
    }

    /// Marks that the span has a child or has propagated.
    #[inline]
    pub(crate) fn mark_started(&self) {
        self.started.mark();
    }

    /// Whether the span has a child or has propagated: a remote parent is refused then.
    pub(crate) fn is_started(&self) -> bool {
        self.started.get()
    }

    /// The options of the layer that created the root.
    pub(crate) fn config(&self) -> &Arc<Config> {
        &self.config
    }

    /// The span's trace context.
    pub(crate) fn trace_context(&self) -> TraceContext {
        TraceContext::new(self.trace_id, self.span_id, None, self.sampled)
    }

    /// The link recorded for `follows_from`.
    pub(crate) fn as_link(&self) -> SpanLink {
        SpanLink {
            trace_id: self.trace_id,
            span_id: self.span_id,
            sampled: self.sampled,
        }
    }

    /// The root's full data, with its `RootState` as `SpanData::new_local_root` builds it for
    /// such a root (named after the span, source by default).
    pub(crate) fn into_span_data(mut self, metadata: &'static Metadata<'static>) -> SpanData {
        self.counts = false;
        let root = RootState::new(RootParts {
            config: Arc::clone(&self.config),
            trace_id: self.trace_id,
            sample_rand: sample_rand_from_trace_id(self.trace_id),
            decision: self.decision(),
            segment_id: self.span_id,
            frozen_dsc: None,
            name: std::borrow::Cow::Borrowed(metadata.name()),
            source: None,
            third_party: String::new(),
            recording_since: None,
            ignored: false,
        });
        SpanData::unrecorded_root(self.span_id, self.started.get(), Arc::new(root))
    }
}

impl Drop for LazyRoot {
    fn drop(&mut self) {
        if self.counts {
            count_unsampled(&self.config, &self.decision());
        }
    }
}

/// Turns `span`'s [`LazyRoot`], if it has one, into its [`SpanData`] (see the module docs).
/// Another thread may have done it meanwhile: then there is nothing left to do.
pub(crate) fn materialize<'a, S: LookupSpan<'a>>(span: &SpanRef<'a, S>) {
    materialize_in(&mut span.extensions_mut(), span.metadata());
}

/// [`materialize`] under a write lock the caller already holds (`metadata` is the span's).
pub(crate) fn materialize_in(ext: &mut ExtensionsMut<'_>, metadata: &'static Metadata<'static>) {
    if let Some(lazy) = ext.remove::<LazyRoot>() {
        let _ = ext.replace(lazy.into_span_data(metadata));
    }
}

/// Whether `span` holds a [`LazyRoot`].
#[inline]
pub(crate) fn is_lazy<'a, S: LookupSpan<'a>>(span: &SpanRef<'a, S>) -> bool {
    span.extensions().get::<LazyRoot>().is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lazy_root_fits_beside_the_registrys_table_in_300_bytes() {
        // The registry's slot (96 bytes) and extension table (148) plus this box: the heap
        // per open unsampled root in `benches/peers`.
        assert!(std::mem::size_of::<LazyRoot>() <= 56);
    }
}
