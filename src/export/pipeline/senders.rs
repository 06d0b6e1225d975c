//! The sender pool: spawning, growing and retiring the sender threads, and nothing else.
//!
//! One sender starts with the pipeline; a sender starts another when work is waiting, no
//! sender is idle and either the transport is slow (the last two sends took a millisecond or
//! more each: parallel requests hide its latency) or the queue is half full (up to `max_in_flight`); idle
//! senders retire down to one, so a quiet service keeps one thread. The queue counts the
//! senders; each runs [`run`].

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use super::queue::Pop;
use super::{Pipeline, Work};
use crate::export::wire::envelope::Scratch;

/// The sender threads' name.
pub(crate) const SENDER_THREAD_NAME: &str = "tracing-sentry-export";

/// How long a sender waits for work before it looks at the client-report interval again.
const IDLE_TICK: Duration = Duration::from_secs(1);
/// How many idle ticks in a row make a surplus sender retire.
const RETIRE_AFTER_IDLE_TICKS: u32 = 10;
/// How often a busy sender looks for due batches (span, log and metric buffers) and runs the
/// health check; an idle one does at every tick.
const DUE_CHECK_EVERY: Duration = Duration::from_millis(1);

/// How many senders may run.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SenderPool {
    /// At least 1.
    max_in_flight: usize,
}

impl SenderPool {
    pub(crate) fn new(max_in_flight: usize) -> Self {
        Self {
            max_in_flight: max_in_flight.max(1),
        }
    }

    /// Starts one more sender if fewer than `max_in_flight` run; the error is the thread
    /// spawn's.
    pub(crate) fn spawn(&self, pipeline: &Arc<Pipeline>) -> std::io::Result<()> {
        if !pipeline.queue.add_consumer(self.max_in_flight) {
            return Ok(());
        }
        let sender = Arc::clone(pipeline);
        let spawned = thread::Builder::new()
            .name(SENDER_THREAD_NAME.to_owned())
            .spawn(move || run(sender));
        spawned
            .map(drop)
            .inspect_err(|_| pipeline.queue.remove_consumer())
    }

    /// [`spawn`](Self::spawn) when work is waiting: a failed spawn only means fewer requests
    /// in flight.
    fn grow(&self, pipeline: &Arc<Pipeline>) {
        let _ = self.spawn(pipeline);
    }
}

thread_local! {
    /// Set on the sender threads: events recorded there (by a transport, a hook or a library
    /// they call) do not become logs or metrics, which would feed the queue they drain.
    static ON_SENDER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether the calling thread is a sender.
#[inline]
pub(crate) fn on_sender_thread() -> bool {
    ON_SENDER.with(std::cell::Cell::get)
}

/// Whether waiting work is worth another sender: the transport is slow, or the queue is half
/// full. One sender writes envelopes faster than a program makes transactions, except in a
/// burst, and a thread started for a short backlog costs more than it saves (its start, its
/// cold caches, its exit); a queue filling up is worth it, before it sheds.
fn worth_another(pipeline: &Pipeline) -> bool {
    pipeline.delivery.sending_is_slow() || pipeline.queue.half_full()
}

/// One sender: takes work off the queue until the queue closes or the sender retires.
fn run(pipeline: Arc<Pipeline>) {
    ON_SENDER.with(|on| on.set(true));
    let mut scratch = Scratch::default();
    let mut idle_ticks = 0u32;
    // When this sender next looks for due batches and runs the health check.
    let mut next_due_check: Option<Instant> = None;
    // Where the queue puts each item and where it is handled and freed; between items it holds `ClientReport`, the variant that holds nothing.
    let mut item = Work::ClientReport;
    // The ticket of the item just handled: the next pop marks it done under its own lock.
    let mut finished = None;
    loop {
        match pipeline
            .queue
            .pop_into(IDLE_TICK, finished.take(), &mut item)
        {
            Pop::Item { ticket, grow } => {
                idle_ticks = 0;
                // More senders help against latency, not against a failing ingest: while
                // the shared backoff runs they would only wait too.
                if grow && !pipeline.delivery.backing_off() && worth_another(&pipeline) {
                    pipeline.senders.grow(&pipeline);
                }
                // `handle` does not panic, but if a bug made it, the sender must survive
                // and the item must still be done. One clock read after the work serves
                // the report interval and the span buffer.
                let now = catch_unwind(AssertUnwindSafe(|| {
                    let report = matches!(item, Work::ClientReport);
                    pipeline
                        .delivery
                        .handle(&mut item, &mut scratch, &pipeline.queue);
                    let now = Instant::now();
                    if !report {
                        pipeline
                            .delivery
                            .send_reports_if_due(now, &mut scratch.reports_not_due_before);
                    }
                    now
                }))
                .unwrap_or_else(|_| Instant::now());
                if let Some(since) = scratch.sending_since.take() {
                    pipeline.delivery.note_send(since, now);
                }
                // Frees what the item still holds before it is done.
                item = Work::ClientReport;
                finished = Some(ticket);
                // Batches fall due seconds apart: under a stream of work, looking once per
                // `DUE_CHECK_EVERY` is as timely and spares every item the buffers' locks.
                if next_due_check.map_or(true, |next| now >= next) {
                    pipeline.submit_due_spans(now);
                    pipeline.check_health(now);
                    next_due_check = now.checked_add(DUE_CHECK_EVERY);
                }
            }
            Pop::Idle => {
                let now = Instant::now();
                pipeline.submit_due_spans(now);
                pipeline
                    .delivery
                    .send_reports_if_due(now, &mut scratch.reports_not_due_before);
                pipeline.check_health(now);
                idle_ticks += 1;
                if idle_ticks >= RETIRE_AFTER_IDLE_TICKS && pipeline.queue.retire_idle_consumer(1) {
                    return;
                }
            }
            Pop::Closed => break,
        }
    }
    pipeline.queue.remove_consumer();
}
