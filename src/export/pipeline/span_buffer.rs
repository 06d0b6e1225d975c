//! The stream lifecycle's span buffer: finished spans grouped per trace until a batch is due.
//!
//! A trace's batch is handed to the queue (one `span` item in one envelope) when it holds
//! [`MAX_SPANS_PER_ITEM`] spans, when its estimated size reaches [`FLUSH_BYTES`] (5 MiB; a
//! batch never grows past [`MAX_SPAN_ITEM_BYTES`], 10 MiB), [`FLUSH_AFTER`] (5 s) after its first
//! span, when its segment ends, and at flush and shutdown — the rules of the spec and of
//! `@sentry/node`'s and `sentry-sdk`'s buffers. The whole buffer is bounded in spans
//! ([`MAX_BUFFERED_SPANS`]) and estimated bytes ([`MAX_BUFFERED_BYTES`]); a span that does
//! not fit is handed back to be dropped and counted.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::weight::streamed_span_weight;
use crate::export::record::{SpanBatch, StreamedSpan};
use crate::export::wire::limits::{MAX_SPANS_PER_ITEM, MAX_SPAN_ITEM_BYTES};
use crate::id::TraceId;
use crate::propagation::DynamicSamplingContext;

/// A batch is sent once its estimated size reaches this.
pub(crate) const FLUSH_BYTES: usize = 5 * 1024 * 1024;
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
    /// Whether `next_due` is set, kept under the lock: while not (always, in the static
    /// lifecycle), [`take_due`](Self::take_due) answers without the lock.
    may_be_due: AtomicBool,
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
        let weight = streamed_span_weight(&span);
        let mut state = lock(&self.state);
        if state.spans >= MAX_BUFFERED_SPANS || state.bytes + weight > MAX_BUFFERED_BYTES {
            return Pushed::Full(Box::new(span));
        }
        // A batch that this span would take over the item limit goes first.
        let over = state
            .traces
            .get(&trace_id)
            .is_some_and(|p| p.batch.bytes + weight > MAX_SPAN_ITEM_BYTES);
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
            self.may_be_due.store(true, Ordering::Release);
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
        if !self.may_be_due.load(Ordering::Acquire) {
            return Vec::new();
        }
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
        self.may_be_due
            .store(state.next_due.is_some(), Ordering::Release);
        batches
    }

    /// Takes every batch (flush and shutdown).
    pub(crate) fn take_all(&self) -> Vec<SpanBatch> {
        let mut state = lock(&self.state);
        state.spans = 0;
        state.bytes = 0;
        state.next_due = None;
        self.may_be_due.store(false, Ordering::Release);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::test_support::{sample_record, span, ROOT};

    fn one(name_len: usize) -> StreamedSpan {
        let mut record = span(ROOT, None, "op", 0, 1);
        record.details_mut().description = Some("x".repeat(name_len));
        StreamedSpan {
            record,
            clock: crate::export::test_support::test_clock(),
            segment_id: ROOT.parse().unwrap(),
            segment_name: Arc::from("seg"),
            source: crate::export::record::TransactionSource::Custom,
            is_segment: false,
        }
    }

    fn trace(n: u8) -> TraceId {
        TraceId::from_bytes([n; 16])
    }

    #[test]
    fn a_trace_is_due_at_1000_spans_and_traces_stay_apart() {
        let buffer = SpanBuffer::default();
        let dsc = Arc::new(sample_record().dsc().into_owned());
        let now = Instant::now();
        for i in 0..MAX_SPANS_PER_ITEM - 1 {
            assert!(
                matches!(buffer.push(trace(1), &dsc, one(0), now), Pushed::Kept),
                "{i}"
            );
            assert!(matches!(
                buffer.push(trace(2), &dsc, one(0), now),
                Pushed::Kept
            ));
        }
        match buffer.push(trace(1), &dsc, one(0), now) {
            Pushed::Due(batch) => {
                assert_eq!(batch.spans.len(), MAX_SPANS_PER_ITEM);
                assert_eq!(batch.trace_id, trace(1));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(buffer.len(), MAX_SPANS_PER_ITEM - 1);
        assert_eq!(buffer.take_trace(&trace(2)).unwrap().spans.len(), 999);
        assert!(buffer.take_trace(&trace(2)).is_none());
        assert_eq!(buffer.len(), 0);
    }

    #[test]
    fn a_trace_is_due_5_s_after_its_first_span() {
        let buffer = SpanBuffer::default();
        let dsc = Arc::new(sample_record().dsc().into_owned());
        let t0 = Instant::now();
        buffer.push(trace(1), &dsc, one(0), t0);
        buffer.push(trace(2), &dsc, one(0), t0 + Duration::from_secs(3));
        assert!(buffer.take_due(t0 + Duration::from_millis(4999)).is_empty());
        let due = buffer.take_due(t0 + FLUSH_AFTER);
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].trace_id, trace(1));
        assert!(buffer.take_due(t0 + Duration::from_secs(7)).is_empty());
        assert_eq!(buffer.take_due(t0 + Duration::from_secs(8)).len(), 1);
    }

    #[test]
    fn spans_pushed_after_the_buffer_emptied_become_due_again() {
        let buffer = SpanBuffer::default();
        let dsc = Arc::new(sample_record().dsc().into_owned());
        let t0 = Instant::now();
        let late = t0 + Duration::from_secs(60);
        assert!(buffer.take_due(late).is_empty(), "nothing buffered yet");
        buffer.push(trace(1), &dsc, one(0), t0);
        assert_eq!(buffer.take_due(late).len(), 1);
        assert!(buffer.take_due(late).is_empty(), "taken");
        // Emptied by take_due; then by take_all.
        buffer.push(trace(2), &dsc, one(0), t0);
        assert_eq!(buffer.take_due(late).len(), 1);
        buffer.push(trace(3), &dsc, one(0), t0);
        assert_eq!(buffer.take_all().len(), 1);
        assert!(buffer.take_due(late).is_empty());
        buffer.push(trace(4), &dsc, one(0), t0);
        let due = buffer.take_due(late);
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].trace_id, trace(4));
    }

    #[test]
    fn batches_go_at_5_mib_and_the_buffer_is_bounded_in_bytes_and_spans() {
        let buffer = SpanBuffer::default();
        let dsc = Arc::new(sample_record().dsc().into_owned());
        let now = Instant::now();
        // About 64 KiB a span: a batch is due between 5 and 10 MiB.
        let mut due = None;
        for _ in 0..200 {
            if let Pushed::Due(batch) = buffer.push(trace(1), &dsc, one(64 * 1024), now) {
                due = Some(batch);
                break;
            }
        }
        let batch = due.expect("a batch is due by size");
        assert!(batch.bytes >= FLUSH_BYTES && batch.bytes <= MAX_SPAN_ITEM_BYTES);
        assert!(batch.spans.len() < MAX_SPANS_PER_ITEM);
        // Over all traces: at most MAX_BUFFERED_BYTES, then spans come back to be counted.
        let mut full = 0;
        for n in 0..=255u8 {
            if let Pushed::Full(_) = buffer.push(trace(n), &dsc, one(512 * 1024), now) {
                full += 1;
            }
        }
        assert!(full > 0);
        let all = buffer.take_all();
        let bytes: usize = all.iter().map(|b| b.bytes).sum();
        assert!(bytes <= MAX_BUFFERED_BYTES, "{bytes}");
        // And at most MAX_BUFFERED_SPANS spans.
        let mut full = 0;
        for i in 0..MAX_BUFFERED_SPANS + 10 {
            let t = trace(u8::try_from(i % 200).unwrap());
            if let Pushed::Full(_) = buffer.push(t, &dsc, one(0), now) {
                full += 1;
            }
        }
        assert_eq!(full, 10);
        assert_eq!(buffer.len(), MAX_BUFFERED_SPANS);
    }
}
