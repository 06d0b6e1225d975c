//! [`SpanData`]: the private per-span extension, a span's identity in its trace.
//!
//! Which spans carry a [`SpanData`]:
//! - every local root (a span with no parent for this layer, or one given a remote parent),
//!   except a new-trace root that records nothing: it holds a [`LazyRoot`] until something
//!   needs its `RootState` (`lazy_root.rs`);
//! - every child of a recorded (sampled and exported) span;
//! - any other span only once something asks for its own trace context (an outgoing header,
//!   [`TraceContext`](crate::TraceContext)); until then it borrows its nearest ancestor's.
//!
//! - every `ignore_spans`-ignored child of a recorded span: it records nothing and carries its
//!   parent's ids, so its own children attach to its nearest recorded ancestor.
//!
//! So a child span in an unsampled trace costs one read of its parent's extensions and no
//! allocation: it gets an id only if it ever propagates.
//!
//! What the spans of one local root share lives in [`RootState`] (`root.rs`); what a recorded
//! span accumulates lives in [`Recording`] (`recording.rs`). A span finishes when the registry
//! drops its extensions (`Drop for SpanData`), which it does when the span closes.

use crate::span::started::Started;
use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

use tracing_core::span::Attributes;
use tracing_core::Metadata;
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use crate::config::Config;
use crate::export::record::{SpanLink, TransactionSource};
use crate::id::{SpanId, TraceId};
use crate::propagation::{
    continued_sample_rand, is_w3c_member, sample_rand_from_trace_id, DynamicSamplingContext,
    PropagationContext,
};
use crate::rng;
use crate::sampling::{Decision, SamplingContext};
use crate::span::lazy_root::LazyRoot;
use crate::span::recording::{declares_name, ensure_fields, requested_name, Fields, Recording};
use crate::span::root::{RootParts, RootState};
use crate::stats::StatsInner;

/// Marks a span without [`SpanData`] that has had children, so that a later remote parent can
/// be refused (its children may already carry the old trace).
pub(crate) struct HasChildren;

/// The trace context of one span (private; users see [`TraceContext`](crate::TraceContext)).
///
/// The trace id and the sampling decision are the local root's (in [`RootState`]), so they
/// are not repeated here: every open recorded span pays for each byte of this struct.
pub(crate) struct SpanData {
    pub(crate) span_id: SpanId,
    pub(crate) parent_span_id: Option<SpanId>,
    /// Set once the span has a child or its context has left the process.
    started: Started,
    pub(crate) is_local_root: bool,
    pub(crate) root: Arc<RootState>,
    pub(crate) recording: Option<Recording>,
    /// An ignored child (an `ignore_spans` rule matched it): it records nothing and carries its
    /// parent's ids, so its children are recorded as children of its nearest recorded ancestor.
    ignored: bool,
}

/// Everything needed to create a local root.
pub(crate) struct RootInit<'a> {
    pub(crate) config: &'a Arc<Config>,
    pub(crate) metadata: &'static Metadata<'static>,
    /// The span's attributes, visited only if a sampler runs or the span records.
    pub(crate) attrs: Option<&'a tracing_core::span::Attributes<'a>>,
    /// The remote parent; the caller has already applied the org-id rule (see
    /// [`admit_remote`](crate::remote_parent::admit_remote)).
    pub(crate) remote: Option<PropagationContext>,
    /// The span's recording so far, when a span that already records is given a remote parent:
    /// its start time and fields are kept.
    pub(crate) previous: Option<Recording>,
}

/// What a new local root stores in its extensions.
pub(crate) enum NewRoot {
    /// Its data, with its `RootState`.
    Full(SpanData),
    /// A new-trace root that records nothing, without its `RootState` yet.
    Lazy(LazyRoot),
}

/// A new local root, decided, before its `RootState` exists (see
/// [`SpanData::plan_local_root`]).
pub(crate) enum RootPlan {
    /// A root with a `RootState`, not yet allocated.
    Full(FullRoot),
    /// A new-trace root that records nothing.
    Lazy(LazyRoot),
}

/// The parts of a local root's [`SpanData`] and of its `RootState`.
pub(crate) struct FullRoot {
    span_id: SpanId,
    parent_span_id: Option<SpanId>,
    recording: Option<Recording>,
    parts: RootParts,
}

impl FullRoot {
    /// The root's data, with a new `RootState`.
    #[inline(always)]
    pub(crate) fn into_data(self) -> SpanData {
        SpanData {
            span_id: self.span_id,
            parent_span_id: self.parent_span_id,
            started: Started::new(false),
            is_local_root: true,
            root: Arc::new(RootState::new(self.parts)),
            recording: self.recording,
            ignored: false,
        }
    }

    /// Makes `slot` (the data of a span given a remote parent, its recording already taken)
    /// this root. A local root's `RootState` that nothing else shares is renewed where it is,
    /// keeping its allocations, rather than dropped and allocated again: nothing has seen it
    /// (the span has no child and has not propagated).
    #[inline(always)]
    pub(crate) fn install(self, slot: &mut SpanData) {
        let renewable = if slot.is_local_root {
            Arc::get_mut(&mut slot.root)
        } else {
            None
        };
        match renewable {
            Some(root) => root.renew(self.parts),
            None => {
                if slot.is_local_root {
                    // Its transaction goes without being counted as unfinished.
                    slot.root.abandon();
                }
                slot.root = Arc::new(RootState::new(self.parts));
            }
        }
        slot.span_id = self.span_id;
        slot.parent_span_id = self.parent_span_id;
        slot.started = Started::new(false);
        slot.is_local_root = true;
        slot.recording = self.recording;
        slot.ignored = false;
    }
}

/// Where a local root's trace comes from: the remote parent, or a new trace.
struct TraceOrigin {
    trace_id: TraceId,
    parent_span_id: Option<SpanId>,
    parent_sampled: Option<bool>,
    /// The incoming DSC's `sample_rate`, parsed once.
    parent_sample_rate: Option<f64>,
    /// The incoming DSC, frozen (continued traces only).
    dsc: Option<Arc<DynamicSamplingContext>>,
    sample_rand: f64,
    /// Whether `sample_rand` was backfilled (and so belongs in the frozen DSC).
    rand_backfilled: bool,
    /// The third-party members to forward, joined with `,`.
    third_party: String,
}

impl TraceOrigin {
    fn new(config: &Config, remote: Option<PropagationContext>) -> Self {
        let Some(remote) = remote else {
            let trace_id = TraceId::random();
            return Self {
                trace_id,
                parent_span_id: None,
                parent_sampled: None,
                parent_sample_rate: None,
                dsc: None,
                sample_rand: sample_rand_from_trace_id(trace_id),
                rand_backfilled: false,
                third_party: String::new(),
            };
        };
        let parent_sample_rate = remote.dsc.sample_rate();
        let (sample_rand, rand_backfilled) = continued_sample_rand(
            remote.dsc.sample_rand(),
            remote.sampled(),
            parent_sample_rate,
            rng::next_f64(),
        );
        Self {
            trace_id: remote.trace_id(),
            parent_span_id: Some(remote.parent_span_id()),
            parent_sampled: remote.sampled(),
            parent_sample_rate,
            sample_rand,
            rand_backfilled,
            third_party: if config.forward_third_party_baggage {
                forwardable(config, remote.third_party_baggage())
            } else {
                String::new()
            },
            dsc: Some(remote.dsc),
        }
    }
}

/// The incoming third-party members that may be forwarded: a member that breaks the W3C
/// grammar (a control character, a byte that is not visible ASCII) is dropped alone and
/// counted, so it cannot take the outgoing `baggage` (and the DSC in it) down with it.
fn forwardable(config: &Config, members: &str) -> String {
    let mut kept = String::with_capacity(members.len());
    let mut dropped = 0u64;
    for member in members.split(',').filter(|m| !m.is_empty()) {
        if !is_w3c_member(member) {
            dropped += 1;
            continue;
        }
        if !kept.is_empty() {
            kept.push(',');
        }
        kept.push_str(member);
    }
    StatsInner::add(&config.stats.baggage_members_dropped, dropped);
    kept
}

// === impl SpanData ===

impl SpanData {
    /// Creates the data of a local root: continues `init.remote` (or starts a trace), makes the
    /// head-sampling decision, and starts recording if the trace is sampled and exported. A
    /// new-trace root that records nothing, was not ignored and is named after its span stays
    /// a [`LazyRoot`] (no `RootState` until one is needed).
    pub(crate) fn new_local_root(init: RootInit<'_>) -> NewRoot {
        match Self::plan_local_root(init) {
            RootPlan::Full(full) => NewRoot::Full(full.into_data()),
            RootPlan::Lazy(lazy) => NewRoot::Lazy(lazy),
        }
    }

    /// Everything a new local root is made of, decided (origin, head sampling, recording,
    /// name), without its `RootState` yet: [`FullRoot::into_data`] allocates one,
    /// [`FullRoot::install`] reuses the one a re-parented root had.
    #[inline(always)]
    pub(crate) fn plan_local_root(init: RootInit<'_>) -> RootPlan {
        let config = init.config;
        let mut origin = TraceOrigin::new(config, init.remote);

        // The creation fields are visited at most once, and only if the sampler or the
        // recording needs them.
        let mut previous = init.previous;
        let recording_since = previous.as_ref().map(|p| p.start);
        let mut fields = None;

        let decision = decide(
            config,
            &origin,
            init.metadata,
            init.attrs,
            previous.as_ref(),
            &mut fields,
        );
        if let Some(dsc) = origin.dsc.as_mut() {
            let backfilled = origin.rand_backfilled.then_some(origin.sample_rand);
            DynamicSamplingContext::apply_local_decision(dsc, decision.applied_rate, backfilled);
        }

        let mut decision = decision;
        let records = decision.sampled == Some(true) && config.records();
        let mut recording = records.then(|| {
            // A span given a remote parent keeps what it recorded, as it is.
            if let Some(rec) = previous.take() {
                return rec;
            }
            match (fields.take(), init.attrs) {
                // Not visited yet (no sampler ran): straight into the recording.
                (None, Some(attrs)) => Recording::from_attrs(init.metadata, Instant::now(), attrs),
                (fields, _) => {
                    let mut rec = Recording::new(init.metadata, Instant::now());
                    if let Some(fields) = fields {
                        rec.absorb(fields);
                    }
                    rec
                }
            }
        });
        // An ignored root is not sampled (it propagates `-0`, as the JavaScript SDK's
        // non-recording segment), and is counted and reported once, here.
        let ignored = match (&config.ignore, &recording) {
            (Some(rules), Some(rec)) => rules.matches(rec, &config.stats),
            _ => false,
        };
        if ignored {
            recording = None;
            decision.sampled = Some(false);
            StatsInner::incr(&config.stats.transactions_ignored);
            StatsInner::incr(&config.stats.spans_ignored);
            if let Some(export) = &config.export {
                export.record_ignored(true);
            }
        }
        let span_id = SpanId::random();
        if recording.is_none()
            && !ignored
            && origin.dsc.is_none()
            && origin.third_party.is_empty()
            && !declares_name(init.metadata)
        {
            return RootPlan::Lazy(LazyRoot::new(config, origin.trace_id, span_id, decision));
        }
        let (name, source) = initial_name(recording.as_ref(), init.metadata, init.attrs, fields);
        let parts = RootParts {
            config: Arc::clone(config),
            trace_id: origin.trace_id,
            sample_rand: origin.sample_rand,
            decision,
            segment_id: span_id,
            frozen_dsc: origin.dsc,
            name,
            source,
            third_party: origin.third_party,
            recording_since: recording
                .as_ref()
                .map(|rec| recording_since.unwrap_or(rec.start)),
            ignored,
        };
        RootPlan::Full(FullRoot {
            span_id,
            parent_span_id: origin.parent_span_id,
            recording,
            parts,
        })
    }

    /// The data of a new-trace local root that records nothing (a [`LazyRoot`] made whole).
    pub(crate) fn unrecorded_root(span_id: SpanId, started: bool, root: Arc<RootState>) -> Self {
        Self {
            span_id,
            parent_span_id: None,
            started: Started::new(started),
            is_local_root: true,
            root,
            recording: None,
            ignored: false,
        }
    }

    /// The data of a new span whose parent for this layer is `parent`: a child of a recorded
    /// span records (unless an `ignore_spans` rule matches it); any other child gets no data
    /// (`None`) and borrows its ancestor's context until it propagates. Marks `parent` as
    /// started, or as having children when it has no data, so it no longer takes a remote
    /// parent.
    #[inline]
    pub(crate) fn for_new_child<'a, R: LookupSpan<'a>>(
        parent: &SpanRef<'a, R>,
        attrs: &Attributes<'_>,
        config: &Config,
    ) -> Option<Self> {
        let ext = parent.extensions();
        // A root that records nothing has nothing for its children: looked for first where
        // such roots are the likely parents, so that each kind of child costs one lookup in
        // the common case.
        if config.roots_mostly_lazy {
            if let Some(lazy) = ext.get::<LazyRoot>() {
                lazy.mark_started();
                return None;
            }
        }
        let Some(parent_data) = ext.get::<SpanData>() else {
            if let Some(lazy) = ext.get::<LazyRoot>() {
                lazy.mark_started();
                return None;
            }
            let marked = ext.get::<HasChildren>().is_some();
            drop(ext);
            if !marked {
                let _ = parent.extensions_mut().replace(HasChildren);
            }
            return None;
        };
        parent_data.mark_started();
        if !parent_data.records_children() {
            // An unsampled (or unrecorded) trace: nothing to store.
            return None;
        }
        let rec = Recording::from_attrs(attrs.metadata(), Instant::now(), attrs);
        Some(match &config.ignore {
            None => SpanData::child_of(parent_data, Some(rec)),
            Some(_) => SpanData::child_unless_ignored(parent_data, rec, config),
        })
    }

    /// Creates the data of a child of `parent`, recording it if the parent records.
    #[inline]
    pub(crate) fn child_of(parent: &SpanData, recording: Option<Recording>) -> Self {
        Self {
            span_id: SpanId::random(),
            parent_span_id: Some(parent.span_id),
            started: Started::new(false),
            is_local_root: false,
            root: Arc::clone(&parent.root),
            recording,
            ignored: false,
        }
    }

    /// Creates the data of a recorded child of `parent` when `ignore_spans` rules are
    /// configured: an ignored child (see [`SpanData::ignored`]) is counted and reported, and
    /// records nothing. Kept out of line, so the layer's span creation stays small (and its
    /// registry lookups inlined) when no rule is configured.
    #[cold]
    #[inline(never)]
    pub(crate) fn child_unless_ignored(
        parent: &SpanData,
        recording: Recording,
        config: &Config,
    ) -> Self {
        let ignored = config
            .ignore
            .as_ref()
            .is_some_and(|rules| rules.matches(&recording, &config.stats));
        if !ignored {
            return Self::child_of(parent, Some(recording));
        }
        StatsInner::incr(&config.stats.spans_ignored);
        if let Some(export) = &config.export {
            export.record_ignored(false);
        }
        Self {
            span_id: parent.span_id,
            parent_span_id: parent.parent_span_id,
            started: Started::new(false),
            is_local_root: false,
            root: Arc::clone(&parent.root),
            recording: None,
            ignored: true,
        }
    }

    /// The trace this span belongs to (its local root's).
    #[inline]
    pub(crate) fn trace_id(&self) -> TraceId {
        self.root.trace_id
    }

    /// The sampling decision of this span's trace (its local root's head decision).
    #[inline]
    pub(crate) fn sampled(&self) -> Option<bool> {
        self.root.decision.sampled
    }

    /// Whether this span records.
    #[inline]
    pub(crate) fn records(&self) -> bool {
        self.recording.is_some()
    }

    /// Whether children of this span are recorded: it records, or it is an ignored child of a
    /// recorded span (its children attach to its nearest recorded ancestor).
    #[inline]
    pub(crate) fn records_children(&self) -> bool {
        self.recording.is_some() || self.ignored
    }

    /// Marks that the span has a child or has propagated; a remote parent is refused after this.
    #[inline]
    pub(crate) fn mark_started(&self) {
        self.started.mark();
    }

    pub(crate) fn is_started(&self) -> bool {
        self.started.get()
    }

    /// Takes this span's recording, when it is to be replaced by a continued local root
    /// ([`FullRoot::install`], which lets the old transaction go).
    pub(crate) fn take_for_reparent(&mut self) -> Option<Recording> {
        self.recording.take()
    }

    /// The link recorded for `follows_from`.
    pub(crate) fn as_link(&self) -> SpanLink {
        SpanLink {
            trace_id: self.trace_id(),
            span_id: self.span_id,
            sampled: self.sampled(),
        }
    }

    /// Finishes a recorded span: a child goes into its transaction's buffer, a local root's
    /// record waits there for the transaction to be sent. Called from `Drop`, when the registry
    /// clears the span's extensions as it closes the span, so spans that record nothing cost
    /// nothing at close.
    fn finish(&mut self) {
        let Some(recording) = self.recording.take() else {
            return;
        };
        if self.is_local_root {
            self.root
                .finish_root(recording.finish(self.span_id, self.parent_span_id));
        } else {
            self.root
                .push_child(recording, self.span_id, self.parent_span_id);
        }
    }
}

impl Drop for SpanData {
    fn drop(&mut self) {
        self.finish();
    }
}

/// Head sampling for a new local root: the sampler (shown the creation fields, visited now if
/// not yet), the incoming decision, or the rate.
fn decide(
    config: &Config,
    origin: &TraceOrigin,
    metadata: &'static Metadata<'static>,
    attrs: Option<&tracing_core::span::Attributes<'_>>,
    previous: Option<&Recording>,
    fields: &mut Option<Fields>,
) -> Decision {
    let parent_sampled = origin.parent_sampled;
    let parent_sample_rate = origin.parent_sample_rate;
    // Backpressure handling: one relaxed atomic load.
    let factor = config
        .export
        .as_ref()
        .map_or(0, crate::export::ExportHandle::downsample_factor);
    config
        .sampling
        .decide(origin.sample_rand, parent_sampled, || {
            // A span given a remote parent shows what it recorded.
            if fields.is_none() {
                *fields = previous.map(Recording::data_list);
            }
            let ctx = SamplingContext {
                metadata,
                fields: ensure_fields(fields, attrs),
                parent_sampled,
                parent_sample_rate,
            };
            config.sampling.run_sampler(&ctx, &config.stats)
        })
        .downsample(origin.sample_rand, factor)
}

/// The transaction name a new local root starts with: what its recording asked for, or (an
/// unrecorded root still names the head DSC's transaction) `sentry.name`/`sentry.source` if
/// the callsite declares them; else the span's name.
fn initial_name(
    recording: Option<&Recording>,
    metadata: &'static Metadata<'static>,
    attrs: Option<&tracing_core::span::Attributes<'_>>,
    mut fields: Option<Fields>,
) -> (Cow<'static, str>, Option<TransactionSource>) {
    let (name, source) = match recording {
        Some(rec) => (rec.name().map(str::to_owned), rec.source()),
        None if declares_name(metadata) => {
            let requested = requested_name(ensure_fields(&mut fields, attrs));
            (requested.name, requested.source)
        }
        None => (None, None),
    };
    let name = name.map_or(Cow::Borrowed(metadata.name()), Cow::Owned);
    (name, source)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_span_data_stays_small() {
        // Every open recorded span, and every root, holds one `SpanData` in the registry (and a
        // root one `RootState` besides): the heap per open span in `benches/peers` counts them.
        assert!(std::mem::size_of::<SpanData>() <= 96);
        assert!(std::mem::size_of::<RootState>() <= 160);
        // Every finished child is moved into its transaction's list on the instrumented
        // thread (and the list grows by copying them).
        assert!(std::mem::size_of::<crate::export::record::SpanRecord>() <= 96);
    }
}
