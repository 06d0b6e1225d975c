//! [`RootState`]: what every span of one local root shares, and the sending of its
//! transaction.
//!
//! One `RootState` exists per local root (a span with no parent for the layer, or one given a
//! remote parent), behind an `Arc` held by the [`SpanData`](crate::span::data::SpanData) of the
//! root and of each of its descendants that has data. It holds the head-sampling decision, the
//! frozen dynamic sampling context, the transaction's name, and the buffer of finished
//! children. The transaction is sent when the last `Arc` goes (`Drop for RootState`): the root
//! and all its children have finished by then. A new-trace root that records nothing gets its
//! `RootState` only once something needs it (see `lazy_root.rs`).

use std::borrow::Cow;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use crate::clock::Clock;

use crate::config::Config;
use crate::export::record::{
    SpanRecord, StreamedSpan, TransactionDsc, TransactionRecord, TransactionSource,
};
use crate::id::{SpanId, TraceId};
use crate::lifecycle::TraceLifecycle;
use crate::propagation::{DynamicSamplingContext, HeadFacts};
use crate::sampling::Decision;
use crate::span::recording::{default_source, Recording, RequestedName};
use crate::stats::StatsInner;

/// Room for the first finished children of a transaction, reserved at the first one.
const FIRST_CHILDREN: usize = 16;

/// State shared by every span of one local root (one future transaction).
pub(crate) struct RootState {
    pub(crate) config: Arc<Config>,
    pub(crate) trace_id: TraceId,
    pub(crate) sample_rand: f64,
    pub(crate) decision: Decision,
    /// The root matched an `ignore_spans` rule: not sampled, counted and reported `ignored`
    /// when it was created (so not reported again as `sample_rate`).
    ignored: bool,
    /// Set at creation for a continued trace (the incoming DSC is frozen at once); built from
    /// the options and the root's name the first time it leaves the process otherwise.
    dsc: OnceLock<Arc<DynamicSamplingContext>>,
    /// The `baggage` header value for the frozen DSC, computed once. Boxed: a root that never
    /// propagates (most unsampled ones) carries one pointer for it, not a whole `HeaderValue`.
    baggage: OnceLock<Option<Box<http::HeaderValue>>>,
    /// The name and source the head DSC and the transaction are built with. Written only by
    /// [`RootState::set_name`] after creation.
    name: Mutex<(Cow<'static, str>, TransactionSource)>,
    /// Incoming third-party members (joined with `,`), kept only when forwarding them is
    /// configured.
    third_party: Box<str>,
    /// What only a recording root needs; `None` when the root does not record. Boxed: an
    /// unrecorded root (the common case at low sample rates) carries one pointer for it.
    tx: Option<Box<Recorded>>,
}

/// The part of a [`RootState`] that exists only while its local root records.
struct Recorded {
    /// Wall clock and monotonic clock read together when the root started recording, so child
    /// spans need only a monotonic read for their wall-clock start.
    clock: Clock,
    /// Finished children waiting for the root to close.
    buffer: Mutex<TxBuffer>,
}

struct TxBuffer {
    spans: Vec<SpanRecord>,
    dropped: u32,
    /// The local root's own record, once it closed. The transaction is sent when the last span
    /// of this local root is gone (see `Drop for RootState`): tracing-subscriber closes a
    /// parent before it drops the data of a child that outlived the parent's handle.
    root: Option<SpanRecord>,
    closed: bool,
    /// The local root's span id (`sentry.segment.id` of streamed spans); here, where only a
    /// recording root pays for it.
    segment_id: SpanId,
}

/// Everything a [`RootState`] starts with.
pub(crate) struct RootParts {
    pub(crate) config: Arc<Config>,
    pub(crate) trace_id: TraceId,
    pub(crate) sample_rand: f64,
    pub(crate) decision: Decision,
    /// The local root's span id.
    pub(crate) segment_id: SpanId,
    /// The incoming (frozen) DSC of a continued trace.
    pub(crate) frozen_dsc: Option<Arc<DynamicSamplingContext>>,
    pub(crate) name: Cow<'static, str>,
    pub(crate) source: Option<TransactionSource>,
    pub(crate) third_party: String,
    /// When the root started recording (earlier than now if it recorded before a remote parent
    /// arrived); `None` when it does not record.
    pub(crate) recording_since: Option<Instant>,
    /// The root matched an `ignore_spans` rule (its decision is `not sampled`).
    pub(crate) ignored: bool,
}

impl RootState {
    pub(crate) fn new(parts: RootParts) -> Self {
        Self::with_recorded(parts, None)
    }

    /// Makes this state that of a new local root built from `parts`, in place: a root given a
    /// remote parent before anything saw its state (no child, not propagated). What only a
    /// recording root needs is kept, and its clock too when the recording started at the same
    /// instant; the old state ends as a replaced root does (its transaction abandoned, an
    /// unsampled trace counted).
    pub(crate) fn renew(&mut self, parts: RootParts) {
        let recorded = self.tx.take();
        *self = Self::with_recorded(parts, recorded);
    }

    /// [`RootState::new`], reusing `recorded` (an abandoned root's) if the root records.
    fn with_recorded(parts: RootParts, recorded: Option<Box<Recorded>>) -> Self {
        let buffer = || {
            Mutex::new(TxBuffer {
                spans: Vec::new(),
                dropped: 0,
                root: None,
                closed: false,
                segment_id: parts.segment_id,
            })
        };
        let tx = parts.recording_since.map(|mono| match recorded {
            Some(mut tx) => {
                if tx.clock.mono() != mono {
                    tx.clock = Clock::anchored_at(mono);
                }
                tx.buffer = buffer();
                tx
            }
            None => Box::new(Recorded {
                clock: Clock::anchored_at(mono),
                buffer: buffer(),
            }),
        });
        let dsc = OnceLock::new();
        if let Some(frozen) = parts.frozen_dsc {
            let _ = dsc.set(frozen);
        }
        let source = parts.source.unwrap_or_else(|| default_source(&parts.name));
        Self {
            config: parts.config,
            trace_id: parts.trace_id,
            sample_rand: parts.sample_rand,
            decision: parts.decision,
            ignored: parts.ignored,
            dsc,
            baggage: OnceLock::new(),
            name: Mutex::new((parts.name, source)),
            third_party: parts.third_party.into_boxed_str(),
            tx,
        }
    }

    /// The frozen DSC, building (and so freezing) the head-of-trace DSC on first use.
    pub(crate) fn dsc(&self) -> &Arc<DynamicSamplingContext> {
        self.dsc.get_or_init(|| Arc::new(self.head_dsc()))
    }

    /// The DSC as it is, or as it would be if it froze now, without freezing it (a read-only
    /// look, for logging). The second value says whether it is frozen.
    pub(crate) fn peek_dsc(&self) -> (Arc<DynamicSamplingContext>, bool) {
        match self.dsc.get() {
            Some(dsc) => (Arc::clone(dsc), true),
            None => (Arc::new(self.head_dsc()), false),
        }
    }

    /// The `baggage` header value of the frozen DSC (plus forwarded third-party members).
    pub(crate) fn baggage(&self) -> Option<&http::HeaderValue> {
        self.baggage.get_or_init(|| self.build_baggage()).as_deref()
    }

    /// The `baggage` header value, built once (see [`RootState::baggage`]).
    #[cold]
    #[inline(never)]
    fn build_baggage(&self) -> Option<Box<http::HeaderValue>> {
        let sentry = self.dsc().to_baggage();
        let value = if self.third_party.is_empty() {
            sentry
        } else {
            crate::propagation::merge_baggage(
                Some(&self.third_party),
                sentry.as_deref().unwrap_or(""),
            )
        };
        // From the `String` itself: no copy of the value.
        value.and_then(|v| http::HeaderValue::try_from(v).ok().map(Box::new))
    }

    fn head_dsc(&self) -> DynamicSamplingContext {
        match self.name.lock() {
            Ok(name) => {
                let is_url = name.1 == TransactionSource::Url;
                self.head_facts().build(self.trace_id, &name.0, is_url)
            }
            // No name can be trusted: none goes into the DSC.
            Err(_) => self.head_facts().build(self.trace_id, "", true),
        }
    }

    /// This trace's values for its head DSC, for building it now or on the export sender.
    fn head_facts(&self) -> HeadFacts {
        HeadFacts {
            options: Arc::clone(&self.config.head),
            sample_rate: self.decision.applied_rate,
            sampled: self.decision.sampled,
            sample_rand: self.sample_rand,
        }
    }

    /// Names the transaction from what a span of this root asked for (`sentry.name`,
    /// `sentry.source`, at creation or with `span.record(..)`): the one place the name changes.
    /// A name without a source gets the default source for it. The head DSC keeps the name it
    /// was frozen with.
    pub(crate) fn set_name(&self, requested: RequestedName) {
        if requested.is_empty() {
            return;
        }
        if let Ok(mut slot) = self.name.lock() {
            if let Some(name) = requested.name {
                slot.1 = default_source(&name);
                slot.0 = Cow::Owned(name);
            }
            if let Some(source) = requested.source {
                slot.1 = source;
            }
        }
    }

    /// Closes the transaction buffer without sending (the root was re-parented).
    pub(crate) fn abandon(&self) {
        if let Some(tx) = &self.tx {
            if let Ok(mut tx) = tx.buffer.lock() {
                tx.closed = true;
            }
        }
    }

    /// Adds a finished child to the transaction (bounded; a full or already sent transaction
    /// drops it and counts).
    /// The record is built in the transaction's list, under the lock, from the recording: one
    /// copy of it, and none for a child that is dropped.
    #[inline]
    pub(crate) fn push_child(
        &self,
        recording: Recording,
        span_id: SpanId,
        parent_span_id: Option<SpanId>,
    ) {
        let stats = &self.config.stats;
        let Some(tx) = &self.tx else { return };
        // The end is read before the lock, so that waiting for it does not lengthen the span.
        let end = Instant::now();
        if self.config.lifecycle == TraceLifecycle::Stream {
            return self.stream(recording.finish_at(span_id, parent_span_id, end), false);
        }
        let Ok(mut tx) = tx.buffer.lock() else {
            return;
        };
        if tx.closed {
            StatsInner::incr(&stats.spans_dropped_late);
        } else if tx.spans.len() >= self.config.max_spans {
            tx.dropped = tx.dropped.saturating_add(1);
            StatsInner::incr(&stats.spans_dropped_limit);
        } else {
            if tx.spans.capacity() == 0 {
                // One allocation for the first children instead of growing through 4 and 8:
                // each growth copies the records and, freed later on the export thread, costs
                // this thread a slow `malloc`.
                tx.spans
                    .reserve_exact(FIRST_CHILDREN.min(self.config.max_spans.max(1)));
            }
            tx.spans
                .push(recording.finish_at(span_id, parent_span_id, end));
        }
    }

    /// Keeps the local root's record; the transaction goes out when the last span of this
    /// local root is dropped.
    pub(crate) fn finish_root(&self, root: SpanRecord) {
        if self.config.lifecycle == TraceLifecycle::Stream {
            return self.stream(root, true);
        }
        if let Some(Ok(mut tx)) = self.tx.as_deref().map(|tx| tx.buffer.lock()) {
            tx.root = Some(root);
        }
    }

    /// Hands a finished span to the span buffer (the stream lifecycle): nothing of it stays
    /// here, so a long-lived root keeps none of its finished children.
    fn stream(&self, record: SpanRecord, is_segment: bool) {
        let Some(export) = &self.config.export else {
            return;
        };
        let Some(tx) = self.tx.as_deref() else {
            return;
        };
        let Ok(segment_id) = tx.buffer.lock().map(|buffer| buffer.segment_id) else {
            return;
        };
        let clock = tx.clock;
        let (segment_name, source) = match self.name.lock() {
            Ok(name) => (Arc::<str>::from(name.0.as_ref()), name.1),
            Err(_) => return,
        };
        let span = StreamedSpan {
            record,
            clock,
            segment_id,
            segment_name,
            source,
            is_segment,
        };
        export.submit_span(self.trace_id, self.dsc(), span);
    }

    fn send(&self) {
        let Some(tx) = &self.tx else {
            if !self.ignored {
                count_unsampled(&self.config, &self.decision);
            }
            return;
        };
        if self.config.lifecycle == TraceLifecycle::Stream {
            // The segment ended: its spans went out as they finished; send what waits.
            if let Some(export) = &self.config.export {
                export.end_segment(&self.trace_id);
            }
            return;
        }
        let (root, spans, dropped_spans) = match tx.buffer.lock() {
            Ok(mut tx) => {
                if tx.closed {
                    return;
                }
                tx.closed = true;
                let Some(root) = tx.root.take() else {
                    // The root span never finished normally (for example the layer was
                    // removed while it was open).
                    StatsInner::incr(&self.config.stats.transactions_unfinished);
                    return;
                };
                (root, std::mem::take(&mut tx.spans), tx.dropped)
            }
            Err(_) => return,
        };
        let (name, source) = match self.name.lock() {
            Ok(name) => (name.0.clone(), name.1),
            Err(_) => return,
        };
        let record = TransactionRecord {
            trace_id: self.trace_id,
            name,
            source,
            root,
            spans,
            dropped_spans,
            clock: tx.clock,
            // A DSC that never left the process is built by the export sender, not here.
            dsc: match self.dsc.get() {
                Some(frozen) => TransactionDsc::Frozen(Arc::clone(frozen)),
                None => TransactionDsc::Head(self.head_facts()),
            },
        };
        if let Some(export) = &self.config.export {
            export.submit(record);
        }
    }
}

/// Counts a local root that records nothing because the sampler decided against it: a
/// transaction (or, streaming, a segment span) Sentry's SDKs report in their client reports
/// (`sample_rate`, or `backpressure` when only downsampling dropped it). The children of an
/// unsampled root are not counted: they store nothing, so that unsampled spans stay almost
/// free.
pub(crate) fn count_unsampled(config: &Config, decision: &Decision) {
    if decision.sampled != Some(false) {
        return;
    }
    if let Some(export) = &config.export {
        let stream = config.lifecycle == TraceLifecycle::Stream;
        if decision.downsampled {
            export.record_backpressure(stream);
        } else {
            export.record_sampled_out(stream);
        }
    }
}

impl Drop for RootState {
    fn drop(&mut self) {
        // Every span of this local root is gone: its root and all its children have finished.
        self.send();
    }
}
