//! The buffers of logs and metrics: recorded items wait here until their batch is due, then
//! go to the queue as one `log` or `trace_metric` item.
//!
//! A batch is due when it holds [`Limits::flush_items`] items (100 logs, 1,000 metrics: the
//! flush sizes of `sentry-sdk`'s `LogBatcher` and `MetricsBatcher` and of the `sentry` crate's
//! batcher), when its estimated size reaches [`FLUSH_BYTES`], [`FLUSH_AFTER`] (5 s, the spec's
//! interval) after its first item, and at flush and shutdown. A due batch leaves the buffer at
//! once, so a buffer never holds more than one batch: what is bounded beyond that is the
//! export queue, where a batch that does not fit is dropped and counted.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::export::record::TelemetryBatch;

/// A batch is handed on once its estimated size reaches this.
pub(crate) const FLUSH_BYTES: usize = 1024 * 1024;
/// A batch is handed on this long after its first item at the latest.
pub(crate) const FLUSH_AFTER: Duration = Duration::from_secs(5);

/// How many items make a batch due.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub(crate) flush_items: usize,
}

/// Logs: 100 per batch.
pub(crate) const LOG_LIMITS: Limits = Limits { flush_items: 100 };
/// Metrics: 1,000 per batch.
pub(crate) const METRIC_LIMITS: Limits = Limits { flush_items: 1000 };

#[derive(Debug)]
struct State<T> {
    items: Vec<T>,
    bytes: usize,
    since: Option<Instant>,
}

/// Items of one kind waiting for their batch.
#[derive(Debug)]
pub(crate) struct TelemetryBuffer<T> {
    state: Mutex<State<T>>,
    /// Whether anything is buffered: while not, [`take_due`](Self::take_due) answers without
    /// the lock.
    pending: AtomicBool,
    limits: Limits,
}

impl<T> TelemetryBuffer<T> {
    pub(crate) fn new(limits: Limits) -> Self {
        Self {
            state: Mutex::new(State {
                items: Vec::new(),
                bytes: 0,
                since: None,
            }),
            pending: AtomicBool::new(false),
            limits,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds an item of estimated serialised size `weight`; returns the batch if it is now due.
    pub(crate) fn push(&self, item: T, weight: usize, now: Instant) -> Option<TelemetryBatch<T>> {
        let mut state = self.lock();
        if state.items.is_empty() {
            state.items.reserve(self.limits.flush_items.min(64));
            state.since = Some(now);
            self.pending.store(true, Ordering::Release);
        }
        state.items.push(item);
        state.bytes += weight;
        let due = state.items.len() >= self.limits.flush_items
            || state.bytes >= FLUSH_BYTES
            || state.since.is_some_and(|since| now >= since + FLUSH_AFTER);
        due.then(|| self.take_locked(&mut state)).flatten()
    }

    /// Takes the batch if its first item waited [`FLUSH_AFTER`]; cheap when nothing waits.
    pub(crate) fn take_due(&self, now: Instant) -> Option<TelemetryBatch<T>> {
        if !self.pending.load(Ordering::Acquire) {
            return None;
        }
        let mut state = self.lock();
        let due = state.since.is_some_and(|since| now >= since + FLUSH_AFTER);
        due.then(|| self.take_locked(&mut state)).flatten()
    }

    /// Takes whatever is buffered (flush and shutdown).
    pub(crate) fn take_all(&self) -> Option<TelemetryBatch<T>> {
        if !self.pending.load(Ordering::Acquire) {
            return None;
        }
        self.take_locked(&mut self.lock())
    }

    fn take_locked(&self, state: &mut State<T>) -> Option<TelemetryBatch<T>> {
        if state.items.is_empty() {
            return None;
        }
        let items = std::mem::take(&mut state.items);
        let bytes = std::mem::take(&mut state.bytes);
        state.since = None;
        self.pending.store(false, Ordering::Release);
        Some(TelemetryBatch { items, bytes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_is_due_at_its_item_count() {
        let buffer = TelemetryBuffer::new(Limits { flush_items: 3 });
        let now = Instant::now();
        assert!(buffer.push(1, 10, now).is_none());
        assert!(buffer.push(2, 10, now).is_none());
        let batch = buffer.push(3, 10, now).expect("due at 3 items");
        assert_eq!(batch.items, [1, 2, 3]);
        assert_eq!(batch.bytes, 30);
        assert!(buffer.take_all().is_none(), "the buffer is empty again");
    }

    #[test]
    fn a_batch_is_due_at_its_size() {
        let buffer = TelemetryBuffer::new(Limits { flush_items: 100 });
        let now = Instant::now();
        assert!(buffer.push(1, FLUSH_BYTES - 1, now).is_none());
        assert_eq!(buffer.push(2, 1, now).map(|b| b.items), Some(vec![1, 2]));
    }

    #[test]
    fn a_batch_is_due_after_the_interval() {
        let buffer = TelemetryBuffer::new(LOG_LIMITS);
        let start = Instant::now();
        assert!(buffer.push("a", 1, start).is_none());
        assert!(buffer.take_due(start + FLUSH_AFTER / 2).is_none());
        assert!(buffer.push("b", 1, start + FLUSH_AFTER / 2).is_none());
        let batch = buffer
            .take_due(start + FLUSH_AFTER)
            .expect("5 s after the first");
        assert_eq!(batch.items, ["a", "b"]);
        assert!(buffer.take_due(start + FLUSH_AFTER * 3).is_none());
        // A push after the interval hands the batch on by itself.
        assert!(buffer.push("c", 1, start).is_none());
        assert_eq!(
            buffer.push("d", 1, start + FLUSH_AFTER).map(|b| b.items),
            Some(vec!["c", "d"])
        );
    }

    #[test]
    fn take_all_takes_what_is_buffered() {
        let buffer = TelemetryBuffer::new(METRIC_LIMITS);
        assert!(buffer.take_all().is_none());
        for i in 0..999 {
            assert!(buffer.push(i, 1, Instant::now()).is_none());
        }
        assert_eq!(buffer.take_all().map(|b| b.items.len()), Some(999));
    }
}
