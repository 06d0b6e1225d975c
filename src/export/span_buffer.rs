//! The stream lifecycle's span buffer: finished spans grouped per trace until a batch is due.
//!
//! A trace's batch is handed to the queue (one `span` item in one envelope) when it holds
//! [`MAX_SPANS_PER_ITEM`] spans, when its estimated size reaches [`FLUSH_BYTES`] (5 MiB; a
//! batch never grows past [`MAX_BATCH_BYTES`], 10 MiB), [`FLUSH_AFTER`] (5 s) after its first
//! span, when its segment ends, and at flush and shutdown — the rules of the spec and of
//! `@sentry/node`'s and `sentry-sdk`'s buffers. The whole buffer is bounded in spans
//! ([`MAX_BUFFERED_SPANS`]) and estimated bytes ([`MAX_BUFFERED_BYTES`]); a span that does
//! not fit is handed back to be dropped and counted.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::record::{SpanBatch, StreamedSpan};
use super::span_item::{span_weight, MAX_SPANS_PER_ITEM};
use crate::id::TraceId;
use crate::propagation::DynamicSamplingContext;

/// A batch is sent once its estimated size reaches this.
pub(crate) const FLUSH_BYTES: usize = 5 * 1024 * 1024;
/// A batch never grows past this (the span item limit of Sentry's ingestion).
pub(crate) const MAX_BATCH_BYTES: usize = 10 * 1024 * 1024;
/// A batch is sent this long after its first span at the latest.
pub(crate) const FLUSH_AFTER: Duration = Duration::from_secs(5);
/// The most spans buffered over all traces.
pub(crate) const MAX_BUFFERED_SPANS: usize = 10_000;
/// The most estimated bytes buffered over all traces.
pub(crate) const MAX_BUFFERED_BYTES: usize = 16 * 1024 * 1024;

/// What [`SpanBuffer::push`] did with a span.
#[derive(Debug)]
pub(crate) enum Pushed {
    /// Buffered.
    Kept,
    /// Buffered, and its trace's batch is due: send it.
    Due(SpanBatch),
    /// The buffer is full: the span is handed back, to be dropped and counted.
    Full(Box<StreamedSpan>),
}

#[derive(Debug)]
struct Pending {
    batch: SpanBatch,
    since: Instant,
}

#[derive(Debug, Default)]
struct State {
    traces: HashMap<TraceId, Pending>,
    spans: usize,
    bytes: usize,
    /// The earliest time a batch becomes due by age.
    next_due: Option<Instant>,
}

/// Finished spans of the stream lifecycle, per trace.
#[derive(Debug, Default)]
pub(crate) struct SpanBuffer {
    state: Mutex<State>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl SpanBuffer {
    /// Adds a span of `trace_id` (whose frozen DSC is `dsc`).
    pub(crate) fn push(
        &self,
        trace_id: TraceId,
        dsc: &Arc<DynamicSamplingContext>,
        span: StreamedSpan,
        now: Instant,
    ) -> Pushed {
        let weight = span_weight(&span);
        let mut state = lock(&self.state);
        if state.spans >= MAX_BUFFERED_SPANS || state.bytes + weight > MAX_BUFFERED_BYTES {
            return Pushed::Full(Box::new(span));
        }
        // A batch that this span would take over the item limit goes first.
        let over = state
            .traces
            .get(&trace_id)
            .is_some_and(|p| p.batch.bytes + weight > MAX_BATCH_BYTES);
        let early = if over {
            take(&mut state, &trace_id)
        } else {
            None
        };
        state.spans += 1;
        state.bytes += weight;
        let pending = state.traces.entry(trace_id).or_insert_with(|| Pending {
            batch: SpanBatch {
                trace_id,
                dsc: Arc::clone(dsc),
                spans: Vec::new(),
                bytes: 0,
            },
            since: now,
        });
        pending.batch.spans.push(span);
        pending.batch.bytes += weight;
        let full =
            pending.batch.spans.len() >= MAX_SPANS_PER_ITEM || pending.batch.bytes >= FLUSH_BYTES;
        let due_at = pending.since + FLUSH_AFTER;
        if state.next_due.map_or(true, |next| due_at < next) {
            state.next_due = Some(due_at);
        }
        match (early, full) {
            (Some(batch), _) => Pushed::Due(batch),
            (None, true) => take(&mut state, &trace_id).map_or(Pushed::Kept, Pushed::Due),
            (None, false) => Pushed::Kept,
        }
    }

    /// Takes the batch of `trace_id` (its segment ended).
    pub(crate) fn take_trace(&self, trace_id: &TraceId) -> Option<SpanBatch> {
        take(&mut lock(&self.state), trace_id)
    }

    /// Takes every batch whose first span is [`FLUSH_AFTER`] old; cheap when none is.
    pub(crate) fn take_due(&self, now: Instant) -> Vec<SpanBatch> {
        let mut state = lock(&self.state);
        if state.next_due.map_or(true, |next| now < next) {
            return Vec::new();
        }
        let due: Vec<TraceId> = state
            .traces
            .iter()
            .filter(|(_, p)| p.since + FLUSH_AFTER <= now)
            .map(|(id, _)| *id)
            .collect();
        let batches = due.iter().filter_map(|id| take(&mut state, id)).collect();
        state.next_due = state.traces.values().map(|p| p.since + FLUSH_AFTER).min();
        batches
    }

    /// Takes every batch (flush and shutdown).
    pub(crate) fn take_all(&self) -> Vec<SpanBatch> {
        let mut state = lock(&self.state);
        state.spans = 0;
        state.bytes = 0;
        state.next_due = None;
        state.traces.drain().map(|(_, p)| p.batch).collect()
    }

    /// Spans buffered now.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        lock(&self.state).spans
    }
}

fn take(state: &mut State, trace_id: &TraceId) -> Option<SpanBatch> {
    let pending = state.traces.remove(trace_id)?;
    state.spans = state.spans.saturating_sub(pending.batch.spans.len());
    state.bytes = state.bytes.saturating_sub(pending.batch.bytes);
    Some(pending.batch)
}
