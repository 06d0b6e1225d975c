//! The delivery policy: what the export senders do with each unit of work taken from the
//! [`Queue`], identically for every [`Transport`].
//!
//! - **Senders.** Up to `max_in_flight` threads (`tracing-sentry-export`) take work from the
//!   queue, each serialising its own envelope and making its own request, so up to that many
//!   requests are in flight over the transport's pooled keep-alive connections. One sender
//!   starts with the pipeline; a sender starts another when work is waiting and no sender is
//!   idle, and idle senders retire down to one, so a quiet service keeps one thread.
//! - **One shared state.** Rate limits (per [`DataCategory`]) and the network backoff live
//!   behind one lock each and are shared by every sender: a `429` stops all of them at once.
//! - **Answers** (develop docs: sdk/expected-features, "Dealing with network failures"):
//!   `2xx` delivered; `429` dropped, no client report (Sentry records it); any other `4xx` or
//!   `5xx` dropped and reported as `send_error`, not retried; no response at all (connect,
//!   timeout, I/O) retried after a shared, growing backoff, then reported as `network_error`;
//!   a panicking transport is caught, counted in `transport_panics` and reported as
//!   `internal_sdk_error`.
//! - **Client reports** go at most every `client_report_interval` (30 s), riding along on an
//!   outgoing envelope or alone, and at each flush and at shutdown, never while the backoff
//!   runs. Their counts are only cleared when an envelope carrying them was accepted.
//! - **Debug output** (`debug(true)`): one line when dropping starts, then at most one summary
//!   per [`SUMMARY_EVERY`] while it goes on; never one line per drop.

use std::fmt;
use std::io::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use super::category::DataCategory;
use super::client_report::{ClientReports, DiscardReason, Report};
use super::envelope::{Envelope, Scratch, TooLarge};
use super::queue::{Pop, PushError, Queue};
use super::ratelimit::RateLimiter;
use super::record::{FieldValue, SpanBatch, StreamedSpan, TransactionRecord};
use super::span_buffer::{Pushed, SpanBuffer};
use super::transaction::EventMeta;
use super::{Transport, TransportResponse};
use crate::stats::StatsInner;

/// The sender threads' name.
pub(crate) const SENDER_THREAD_NAME: &str = "tracing-sentry-export";

/// How long a sender waits for work before it looks at the client-report interval again.
const IDLE_TICK: Duration = Duration::from_secs(1);
/// How many idle ticks in a row make a surplus sender retire.
const RETIRE_AFTER_IDLE_TICKS: u32 = 10;
/// The longest shared backoff after failures without a response.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// At most one debug summary of drops this often.
pub(crate) const SUMMARY_EVERY: Duration = Duration::from_secs(10);
/// Drops this far apart count as a new episode (a new "dropping started" line).
const QUIET_AFTER: Duration = Duration::from_secs(30);

/// One unit of work for a sender. Issue-driven growth: streamed span batches join here (each
/// span through `Privacy::process_span` before it is written, as transactions go through
/// `Privacy::process_transaction` in `handle`).
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // transactions are the common case; boxing costs an allocation each
pub(crate) enum Work {
    /// A finished transaction: serialised and sent as one envelope.
    Transaction(TransactionRecord),
    /// Streamed spans of one trace (the stream lifecycle): one `span` item in one envelope.
    Spans(SpanBatch),
    /// Send pending client reports on their own (flush and shutdown).
    ClientReport,
}

impl Work {
    /// The estimated bytes the queue reserves for it: about the serialised size.
    fn weight(&self) -> usize {
        match self {
            Self::Transaction(tx) => transaction_weight(tx),
            Self::Spans(batch) => batch.bytes,
            Self::ClientReport => 0,
        }
    }
}

/// How failed attempts are retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RetryPolicy {
    /// Retries after the first attempt (so `max_retries + 1` attempts at most).
    pub(crate) max_retries: u32,
    /// The first backoff after a failure without a response; it doubles with each further
    /// consecutive failure, up to [`MAX_BACKOFF`].
    pub(crate) backoff: Duration,
}

/// Everything the senders share, fixed at start.
pub(crate) struct DeliveryConfig {
    pub(crate) transport: Arc<dyn Transport>,
    pub(crate) meta: EventMeta,
    /// The DSN as written in the envelope header (without secret).
    pub(crate) dsn: Option<String>,
    pub(crate) retry: RetryPolicy,
    /// At least 1.
    pub(crate) max_in_flight: usize,
    pub(crate) client_report_interval: Duration,
    pub(crate) debug: bool,
    /// Ignored spans, private data, the denylist and the `before_send_*` hooks.
    pub(crate) privacy: super::Privacy,
}

/// The queue, the shared delivery state, and the counters: what the handle, the guard and
/// every sender hold.
pub(crate) struct Pipeline {
    queue: Queue<Work>,
    config: DeliveryConfig,
    limiter: Mutex<RateLimiter>,
    /// Whether the limiter may hold a limit in force: set (under the limiter's lock) by every
    /// response that can limit, cleared (under it) when a check finds none in force. While
    /// clear, [`limited`](Self::limited) answers without the lock or the clock.
    limits_set: AtomicBool,
    backoff: Mutex<Backoff>,
    /// Whether the backoff holds anything (failures or a deadline): set and cleared under its
    /// lock. While clear, the backoff checks answer without the lock or the clock.
    backoff_set: AtomicBool,
    reports: ClientReports,
    /// When client reports were last sent (or the pipeline started), in nanoseconds since
    /// `started`: every sender reads it without a lock.
    last_report: AtomicU64,
    /// When the pipeline was made: the origin of `last_report`.
    started: Instant,
    stats: Arc<StatsInner>,
    drops: DropLog,
    /// Streamed spans waiting for their trace's batch to be due.
    spans: SpanBuffer,
}

#[derive(Debug, Default)]
struct Backoff {
    /// No sender attempts a request before this.
    until: Option<Instant>,
    /// Consecutive failures without a response (reset by any response).
    failures: u32,
}

/// What happened to one transaction; each outcome maps to one `Stats` counter and at most one
/// client-report reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Sent,
    /// Not sent: a rate limit was active (reported as `ratelimit_backoff`).
    RateLimited,
    /// Sent and answered `429` (Sentry records it; no client report).
    Answered429,
    /// Answered with another 4xx (reported as `send_error`).
    Rejected(u16),
    /// Answered 5xx (reported as `send_error`).
    ServerError(u16),
    /// No response after every allowed attempt (reported as `network_error`).
    NetworkError,
    /// The transport panicked (reported as `internal_sdk_error`).
    Panicked,
    /// Larger than Sentry accepts (reported as `send_error`, as a `413` would be).
    TooLarge(usize),
}

/// What one request attempt gave.
enum Attempt {
    Response(TransportResponse),
    NoResponse,
    Panicked,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Pipeline {
    /// A pipeline with its queue; no sender runs until [`start`](Self::start).
    pub(crate) fn new(
        config: DeliveryConfig,
        max_items: usize,
        max_bytes: usize,
        stats: Arc<StatsInner>,
    ) -> Self {
        let debug = config.debug;
        Self {
            queue: Queue::new(max_items, max_bytes),
            config,
            limiter: Mutex::new(RateLimiter::default()),
            limits_set: AtomicBool::new(false),
            backoff: Mutex::new(Backoff::default()),
            backoff_set: AtomicBool::new(false),
            reports: ClientReports::default(),
            last_report: AtomicU64::new(0),
            started: Instant::now(),
            stats,
            drops: DropLog::new(debug),
            spans: SpanBuffer::default(),
        }
    }

    /// Starts the first sender; the error is the thread spawn's.
    pub(crate) fn start(self: &Arc<Self>) -> std::io::Result<()> {
        if !self.queue.add_consumer(self.config.max_in_flight) {
            return Ok(());
        }
        let pipeline = Arc::clone(self);
        let spawned = thread::Builder::new()
            .name(SENDER_THREAD_NAME.to_owned())
            .spawn(move || pipeline.run_sender());
        spawned
            .map(drop)
            .inspect_err(|_| self.queue.remove_consumer())
    }

    /// Starts one more sender if fewer than `max_in_flight` run. A failed spawn only means
    /// fewer requests in flight.
    fn grow(self: &Arc<Self>) {
        if !self.queue.add_consumer(self.config.max_in_flight) {
            return;
        }
        let pipeline = Arc::clone(self);
        let spawned = thread::Builder::new()
            .name(SENDER_THREAD_NAME.to_owned())
            .spawn(move || pipeline.run_sender());
        if spawned.is_err() {
            self.queue.remove_consumer();
        }
    }

    /// Queues a finished transaction. Never blocks: a full queue drops it, counts
    /// `transactions_dropped_queue_full` and reports `queue_overflow`; after shutdown,
    /// `transactions_dropped_shutdown`.
    pub(crate) fn submit(&self, tx: TransactionRecord) {
        // Children over the transaction's maximum were dropped by the layer (and counted in
        // `spans_dropped_limit`); Sentry's SDKs report them as `buffer_overflow` spans.
        if tx.dropped_spans > 0 {
            self.reports.record(
                DiscardReason::BufferOverflow,
                DataCategory::Span,
                u64::from(tx.dropped_spans),
            );
        }
        let work = Work::Transaction(tx);
        let weight = work.weight();
        match self.queue.push(work, weight) {
            Ok(()) => {}
            Err(PushError::Full(work)) => self.discard(
                &work,
                &self.stats.transactions_dropped_queue_full,
                Some(DiscardReason::QueueOverflow),
            ),
            Err(PushError::Closed(work)) => self.discard(
                &work,
                &self.stats.transactions_dropped_shutdown,
                Some(DiscardReason::QueueOverflow),
            ),
        }
    }

    /// Records a transaction the sampler decided against, for the client reports
    /// (`sample_rate`, as Sentry's SDKs report it). One relaxed atomic add.
    pub(crate) fn record_sampled_out(&self) {
        self.reports
            .record(DiscardReason::SampleRate, DataCategory::Transaction, 1);
    }

    /// Records, for the client reports, an ignored root (a transaction of one span) or child.
    pub(crate) fn record_ignored(&self, root: bool) {
        if root {
            self.reports.record_transaction(DiscardReason::Ignored, 1);
        } else {
            self.reports
                .record(DiscardReason::Ignored, DataCategory::Span, 1);
        }
    }

    /// Buffers a finished span of the stream lifecycle; queues its trace's batch when it is
    /// due. Never blocks: a full buffer drops the span, counts `spans_dropped_buffer_full` and
    /// reports `buffer_overflow` (category `span`).
    pub(crate) fn submit_span(
        &self,
        trace_id: crate::id::TraceId,
        dsc: &Arc<crate::propagation::DynamicSamplingContext>,
        span: StreamedSpan,
    ) {
        let now = Instant::now();
        match self.spans.push(trace_id, dsc, span, now) {
            Pushed::Kept => {}
            Pushed::Due(batch) => self.submit_batch(batch),
            Pushed::Full(span) => {
                drop(span);
                StatsInner::incr(&self.stats.spans_dropped_buffer_full);
                self.reports
                    .record(DiscardReason::BufferOverflow, DataCategory::Span, 1);
                self.drops.record(self.config.debug, "span_buffer_full");
            }
        }
        self.submit_due_spans(now);
    }

    /// Queues the batch of a trace whose segment ended.
    pub(crate) fn end_segment(&self, trace_id: &crate::id::TraceId) {
        if let Some(batch) = self.spans.take_trace(trace_id) {
            self.submit_batch(batch);
        }
    }

    /// Queues the batches that waited [`FLUSH_AFTER`](super::span_buffer::FLUSH_AFTER).
    fn submit_due_spans(&self, now: Instant) {
        for batch in self.spans.take_due(now) {
            self.submit_batch(batch);
        }
    }

    fn submit_batch(&self, batch: SpanBatch) {
        let work = Work::Spans(batch);
        let weight = work.weight();
        match self.queue.push(work, weight) {
            Ok(()) => {}
            Err(PushError::Full(work) | PushError::Closed(work)) => self.discard(
                &work,
                &self.stats.transactions_dropped_queue_full,
                Some(DiscardReason::QueueOverflow),
            ),
        }
    }

    /// Waits until everything queued before the call was handled, then sends the pending
    /// client reports, all before `deadline`. Returns whether both happened in time. Buffered
    /// streamed spans are queued first.
    pub(crate) fn flush_until(&self, deadline: Option<Instant>) -> bool {
        for batch in self.spans.take_all() {
            self.submit_batch(batch);
        }
        if !self.queue.flush_until(deadline) {
            return false;
        }
        if self.reports.is_empty() {
            return true;
        }
        // A full queue leaves the reports for the next envelope; the flush still succeeded.
        let _ = self.queue.push(Work::ClientReport, 0);
        self.queue.flush_until(deadline)
    }

    /// Closes the queue: what is still queued is dropped (counted as
    /// `transactions_dropped_shutdown` and reported), a last client report is queued, and the
    /// senders exit once they are done. Waits for them until `deadline`; returns whether they
    /// all exited.
    pub(crate) fn shut_down(&self, deadline: Option<Instant>) -> bool {
        let mut drained = self.queue.close(Some(Work::ClientReport));
        drained.extend(self.spans.take_all().into_iter().map(Work::Spans));
        for work in &drained {
            self.discard(
                work,
                &self.stats.transactions_dropped_shutdown,
                Some(DiscardReason::QueueOverflow),
            );
        }
        drop(drained);
        let exited = self.queue.wait_consumers_exited(deadline);
        self.drops.summarise_now(self.config.debug);
        exited
    }

    // === the sender ===

    fn run_sender(self: Arc<Self>) {
        let mut scratch = Scratch::default();
        let mut idle_ticks = 0u32;
        loop {
            match self.queue.pop(IDLE_TICK) {
                Pop::Item {
                    ticket,
                    mut item,
                    grow,
                } => {
                    idle_ticks = 0;
                    // More senders help against latency, not against a failing ingest: while
                    // the shared backoff runs they would only wait too.
                    if grow && !self.backing_off() {
                        self.grow();
                    }
                    // `handle` does not panic, but if a bug made it, the sender must survive
                    // and the item must still be done. One clock read after the work serves
                    // the report interval and the span buffer.
                    let now = catch_unwind(AssertUnwindSafe(|| {
                        let report = matches!(item, Work::ClientReport);
                        self.handle(&mut item, &mut scratch);
                        let now = Instant::now();
                        if !report {
                            self.send_reports_if_due(now);
                        }
                        now
                    }))
                    .unwrap_or_else(|_| Instant::now());
                    drop(item);
                    self.queue.done(ticket);
                    self.submit_due_spans(now);
                }
                Pop::Idle => {
                    let now = Instant::now();
                    self.submit_due_spans(now);
                    self.send_reports_if_due(now);
                    idle_ticks += 1;
                    if idle_ticks >= RETIRE_AFTER_IDLE_TICKS && self.queue.retire_idle_consumer(1) {
                        return;
                    }
                }
                Pop::Closed => break,
            }
        }
        self.queue.remove_consumer();
    }

    /// Handles one unit of work in place (a transaction is large: no copies of it), dropping
    /// what it held once sent; the sender then sends client reports if they are due.
    fn handle(&self, work: &mut Work, scratch: &mut Scratch) {
        match work {
            Work::Transaction(tx) => {
                // The user's rules and hooks run here, on the sender, never on the
                // instrumented thread; a dropped transaction is counted and reported there.
                if !self.config.privacy.process_transaction(
                    tx,
                    &self.reports,
                    &self.stats,
                    &mut scratch.spans.keys,
                ) {
                    return;
                }
                let spans = span_quantity(tx);
                let outcome = self.deliver_transaction(tx, scratch);
                // Frees the transaction in place before it is counted, as before: `ClientReport`
                // is the variant that holds nothing (nothing handles this item again).
                *work = Work::ClientReport;
                self.account(outcome, spans);
            }
            Work::Spans(batch) => {
                // The denylist and `before_send_span` on each streamed span, as for the spans
                // of a transaction; a span the hook refuses is counted and reported.
                let before = batch.spans.len();
                batch.spans.retain_mut(|span| {
                    self.config.privacy.process_span(
                        &mut span.record,
                        &self.stats,
                        &mut scratch.spans.keys,
                    )
                });
                let removed = before.saturating_sub(batch.spans.len()) as u64;
                if removed > 0 {
                    self.reports
                        .record(DiscardReason::BeforeSend, DataCategory::Span, removed);
                    StatsInner::add(&self.stats.spans_dropped_before_send, removed);
                }
                if batch.spans.is_empty() {
                    return;
                }
                let spans = batch.spans.len() as u64;
                let outcome = self.deliver_spans(batch, scratch);
                // Frees the batch in place, as for a transaction.
                *work = Work::ClientReport;
                self.account_spans(outcome, spans);
            }
            Work::ClientReport => self.send_reports(),
        }
    }

    fn deliver_spans(&self, batch: &SpanBatch, scratch: &mut Scratch) -> Outcome {
        self.deliver(DataCategory::Span, scratch, |meta, dsn, now, scratch| {
            Envelope::from_spans(batch, meta, dsn, now, scratch)
        })
    }

    /// Counts what happened to a batch of `spans` streamed spans, as [`account`](Self::account)
    /// does for a transaction, in the `spans_*` counters and category `span`.
    fn account_spans(&self, outcome: Outcome, spans: u64) {
        let stats = &self.stats;
        let (counter, reason) = match outcome {
            Outcome::Sent => {
                StatsInner::add(&stats.spans_sent, spans);
                return;
            }
            Outcome::RateLimited => (
                &stats.spans_dropped_rate_limited,
                Some(DiscardReason::RatelimitBackoff),
            ),
            Outcome::Answered429 => (&stats.spans_dropped_rate_limited, None),
            Outcome::Rejected(_) | Outcome::ServerError(_) | Outcome::TooLarge(_) => (
                &stats.spans_dropped_send_failed,
                Some(DiscardReason::SendError),
            ),
            Outcome::NetworkError => (
                &stats.spans_dropped_send_failed,
                Some(DiscardReason::NetworkError),
            ),
            Outcome::Panicked => (
                &stats.spans_dropped_send_failed,
                Some(DiscardReason::InternalSdkError),
            ),
        };
        self.record_span_loss(counter, reason, spans, outcome_label(outcome));
    }

    fn record_span_loss(
        &self,
        counter: &AtomicU64,
        reason: Option<DiscardReason>,
        spans: u64,
        label: &'static str,
    ) {
        StatsInner::add(counter, spans);
        if let Some(reason) = reason {
            self.reports.record(reason, DataCategory::Span, spans);
        }
        self.drops.record(self.config.debug, label);
    }

    fn deliver_transaction(&self, tx: &TransactionRecord, scratch: &mut Scratch) -> Outcome {
        // Without hooks, `process_transaction` left the private data and denied values to the
        // writer.
        let scrub = self.config.privacy.scrubs_when_written();
        self.deliver(
            DataCategory::Transaction,
            scratch,
            |meta, dsn, now, scratch| {
                Envelope::from_transaction(tx, meta, dsn, now, scratch, scrub)
            },
        )
    }

    /// Builds the envelope of one unit of work in `category` with `build` (given the event
    /// fields, the DSN, `sent_at` and the sender's scratch) and sends it, a due client report
    /// riding along; its buffer then goes back to the scratch.
    fn deliver(
        &self,
        category: DataCategory,
        scratch: &mut Scratch,
        build: impl FnOnce(
            &EventMeta,
            Option<&str>,
            SystemTime,
            &mut Scratch,
        ) -> Result<Envelope, TooLarge>,
    ) -> Outcome {
        // Wait out a running backoff first, so the envelope is built (and a report attached)
        // when it can go.
        if !self.wait_for_backoff() {
            return Outcome::NetworkError;
        }
        if self.limited(category) {
            return Outcome::RateLimited;
        }
        let envelope = build(
            &self.config.meta,
            self.config.dsn.as_deref(),
            SystemTime::now(),
            scratch,
        );
        let mut envelope = match envelope {
            Ok(envelope) => envelope,
            Err(too_large) => return Outcome::TooLarge(too_large.payload_len),
        };
        // Pending client reports ride along once the interval has passed (Sentry's SDKs send
        // them at most every 30 s); exempt from the transaction limit, but not from one on
        // their own category.
        let report = if self.reports_due(Instant::now()) && self.reports_allowed() {
            self.take_report(&mut envelope)
        } else {
            None
        };
        let outcome = self.send_with_retries(&envelope, category);
        scratch.recycle(envelope);
        if let Some(report) = report {
            if outcome == Outcome::Sent {
                StatsInner::incr(&self.stats.client_reports_sent);
            } else {
                self.reports.restore(&report);
            }
        }
        outcome
    }

    /// Moves the pending reports into `envelope`; returns them to restore on failure.
    fn take_report(&self, envelope: &mut Envelope) -> Option<Report> {
        let report = self.reports.take()?;
        let mut payload = Vec::with_capacity(256);
        report.write_payload(&mut payload, SystemTime::now());
        envelope.push_item("client_report", &payload);
        let at = self.since_start(Instant::now());
        self.last_report.store(at, Ordering::Relaxed);
        Some(report)
    }

    /// Nanoseconds from the pipeline's start to `now` (584 years fit).
    fn since_start(&self, now: Instant) -> u64 {
        u64::try_from(now.saturating_duration_since(self.started).as_nanos()).unwrap_or(u64::MAX)
    }

    fn reports_due(&self, now: Instant) -> bool {
        let elapsed = self
            .since_start(now)
            .saturating_sub(self.last_report.load(Ordering::Relaxed));
        u128::from(elapsed) >= self.config.client_report_interval.as_nanos()
    }

    fn send_reports_if_due(&self, now: Instant) {
        if self.reports_due(now) && !self.reports.is_empty() {
            self.send_reports();
        }
    }

    /// Whether client reports may go now: the transport carries them, no limit on their own
    /// category is active, and the shared backoff is not running (a report never jumps it).
    fn reports_allowed(&self) -> bool {
        self.config.transport.sends_client_reports()
            && !self.limited(DataCategory::Internal)
            && !self.backing_off()
    }

    /// Sends the pending client reports in an envelope of their own.
    fn send_reports(&self) {
        if !self.reports_allowed() {
            return;
        }
        let mut envelope = Envelope::without_event(self.config.dsn.as_deref(), SystemTime::now());
        let Some(report) = self.take_report(&mut envelope) else {
            return;
        };
        // One attempt: a report that does not get through waits for the next envelope.
        match self.attempt(&envelope) {
            Attempt::Response(response) if response.is_success() => {
                self.apply_limits(&response);
                StatsInner::incr(&self.stats.client_reports_sent);
            }
            Attempt::Response(response) => {
                self.apply_limits(&response);
                self.reports.restore(&report);
            }
            Attempt::NoResponse | Attempt::Panicked => self.reports.restore(&report),
        }
    }

    /// Sends `envelope`, retrying only when there was no response; every wait honours the
    /// shared backoff and ends early at shutdown.
    fn send_with_retries(&self, envelope: &Envelope, category: DataCategory) -> Outcome {
        let mut retries = 0;
        loop {
            if !self.wait_for_backoff() {
                return Outcome::NetworkError;
            }
            if self.limited(category) {
                return Outcome::RateLimited;
            }
            match self.attempt(envelope) {
                Attempt::Panicked => return Outcome::Panicked,
                Attempt::Response(response) => {
                    self.apply_limits(&response);
                    return match response.status() {
                        200..=299 => Outcome::Sent,
                        429 => Outcome::Answered429,
                        status @ 500..=599 => {
                            StatsInner::incr(&self.stats.send_failures);
                            self.back_off();
                            Outcome::ServerError(status)
                        }
                        status => Outcome::Rejected(status),
                    };
                }
                Attempt::NoResponse => {
                    self.back_off();
                    if retries >= self.config.retry.max_retries || self.queue.is_closed() {
                        return Outcome::NetworkError;
                    }
                    retries += 1;
                }
            }
        }
    }

    /// One call of the transport, contained: a panic is caught and counted.
    fn attempt(&self, envelope: &Envelope) -> Attempt {
        let transport = &self.config.transport;
        match catch_unwind(AssertUnwindSafe(|| transport.send(envelope))) {
            Err(_panic) => {
                StatsInner::incr(&self.stats.transport_panics);
                StatsInner::incr(&self.stats.send_failures);
                self.drops
                    .note(self.config.debug, format_args!("the transport panicked"));
                Attempt::Panicked
            }
            Ok(Err(error)) => {
                StatsInner::incr(&self.stats.send_failures);
                self.drops.note(
                    self.config.debug,
                    format_args!("send attempt failed: {error}"),
                );
                Attempt::NoResponse
            }
            Ok(Ok(response)) => {
                if !(500..=599).contains(&response.status()) {
                    self.reset_failures();
                }
                Attempt::Response(response)
            }
        }
    }

    #[inline]
    fn limited(&self, category: DataCategory) -> bool {
        self.limits_set.load(Ordering::Acquire) && self.limited_now(category)
    }

    /// [`limited`](Self::limited) once a limit may be in force: under the limiter's lock.
    #[cold]
    fn limited_now(&self, category: DataCategory) -> bool {
        let now = Instant::now();
        let limiter = lock(&self.limiter);
        if limiter.limit(category, now).is_some() {
            return true;
        }
        if !limiter.any_in_force(now) {
            self.limits_set.store(false, Ordering::Release);
        }
        false
    }

    #[inline]
    fn apply_limits(&self, response: &TransportResponse) {
        if RateLimiter::may_limit(response) {
            self.apply_limits_now(response);
        }
    }

    #[cold]
    fn apply_limits_now(&self, response: &TransportResponse) {
        let mut limiter = lock(&self.limiter);
        let changed = limiter.update(response, Instant::now(), SystemTime::now());
        self.limits_set.store(true, Ordering::Release);
        drop(limiter);
        if changed {
            StatsInner::incr(&self.stats.rate_limit_responses);
        }
    }

    /// A response came: the consecutive failures start again from zero, and a deadline
    /// already past is forgotten (it no longer holds anyone back).
    #[inline]
    fn reset_failures(&self) {
        if self.backoff_set.load(Ordering::Acquire) {
            self.reset_failures_now();
        }
    }

    #[cold]
    fn reset_failures_now(&self) {
        let mut backoff = lock(&self.backoff);
        backoff.failures = 0;
        if backoff.until.map_or(true, |until| until <= Instant::now()) {
            backoff.until = None;
            self.backoff_set.store(false, Ordering::Release);
        }
    }

    /// Starts (or extends) the shared backoff after a failure.
    fn back_off(&self) {
        let mut backoff = lock(&self.backoff);
        let now = Instant::now();
        // Failures of senders that were already in flight when the backoff started do not
        // grow it again.
        if backoff.until.is_some_and(|until| until > now) {
            return;
        }
        backoff.failures = backoff.failures.saturating_add(1);
        let factor = 1u32 << backoff.failures.saturating_sub(1).min(16);
        let delay = self
            .config
            .retry
            .backoff
            .saturating_mul(factor)
            .min(MAX_BACKOFF);
        backoff.until = now.checked_add(delay);
        self.backoff_set.store(true, Ordering::Release);
    }

    /// Whether the shared backoff is running.
    fn backing_off(&self) -> bool {
        self.backoff_set.load(Ordering::Acquire)
            && lock(&self.backoff)
                .until
                .is_some_and(|until| until > Instant::now())
    }

    /// Waits out the shared backoff; `false` if the queue was closed meanwhile.
    #[inline]
    fn wait_for_backoff(&self) -> bool {
        !self.backoff_set.load(Ordering::Acquire) || self.wait_out_backoff()
    }

    /// [`wait_for_backoff`](Self::wait_for_backoff) once a backoff may run.
    #[cold]
    fn wait_out_backoff(&self) -> bool {
        let until = lock(&self.backoff).until;
        match until.map(|until| until.saturating_duration_since(Instant::now())) {
            Some(delay) if !delay.is_zero() => self.queue.sleep_unless_closed(delay),
            _ => true,
        }
    }

    // === accounting ===

    fn account(&self, outcome: Outcome, spans: u64) {
        let stats = &self.stats;
        let (counter, reason): (&AtomicU64, Option<DiscardReason>) = match outcome {
            Outcome::Sent => {
                StatsInner::incr(&stats.transactions_sent);
                return;
            }
            Outcome::RateLimited => (
                &stats.transactions_dropped_rate_limited,
                Some(DiscardReason::RatelimitBackoff),
            ),
            Outcome::Answered429 => (&stats.transactions_dropped_rate_limited, None),
            Outcome::Rejected(_) => (
                &stats.transactions_dropped_rejected,
                Some(DiscardReason::SendError),
            ),
            Outcome::ServerError(_) => (
                &stats.transactions_dropped_send_failed,
                Some(DiscardReason::SendError),
            ),
            Outcome::NetworkError => (
                &stats.transactions_dropped_send_failed,
                Some(DiscardReason::NetworkError),
            ),
            Outcome::Panicked => (
                &stats.transactions_dropped_send_failed,
                Some(DiscardReason::InternalSdkError),
            ),
            Outcome::TooLarge(len) => {
                self.drops.note(
                    self.config.debug,
                    format_args!("a transaction of {len} bytes exceeds Sentry's 1 MiB item limit"),
                );
                (
                    &stats.transactions_dropped_too_large,
                    Some(DiscardReason::SendError),
                )
            }
        };
        self.record_loss(counter, reason, spans, outcome_label(outcome));
    }

    /// Counts a unit of work dropped before it was sent: a transaction in `counter`, streamed
    /// spans in `spans_dropped_queue_full`.
    fn discard(&self, work: &Work, counter: &AtomicU64, reason: Option<DiscardReason>) {
        let label = match reason {
            Some(reason) => reason.as_str(),
            None => "dropped",
        };
        match work {
            Work::Transaction(tx) => self.record_loss(counter, reason, span_quantity(tx), label),
            Work::Spans(batch) => self.record_span_loss(
                &self.stats.spans_dropped_queue_full,
                reason,
                batch.spans.len() as u64,
                label,
            ),
            Work::ClientReport => {}
        }
    }

    fn record_loss(
        &self,
        counter: &AtomicU64,
        reason: Option<DiscardReason>,
        spans: u64,
        label: &'static str,
    ) {
        StatsInner::incr(counter);
        if let Some(reason) = reason {
            self.reports.record_transaction(reason, spans);
        }
        self.drops.record(self.config.debug, label);
    }
}

impl fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pipeline")
            .field("queue", &self.queue)
            .field("max_in_flight", &self.config.max_in_flight)
            .finish_non_exhaustive()
    }
}

fn outcome_label(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Sent => "sent",
        Outcome::RateLimited => "ratelimit_backoff",
        Outcome::Answered429 => "http_429",
        Outcome::Rejected(_) => "rejected",
        Outcome::ServerError(_) => "server_error",
        Outcome::NetworkError => "network_error",
        Outcome::Panicked => "transport_panic",
        Outcome::TooLarge(_) => "too_large",
    }
}

/// The spans a transaction stands for in client reports: its children and its root.
fn span_quantity(tx: &TransactionRecord) -> u64 {
    tx.spans.len() as u64 + 1
}

/// About the serialised size of a transaction, counted without serialising: fixed costs plus
/// the strings it carries.
fn transaction_weight(tx: &TransactionRecord) -> usize {
    const TRANSACTION_OVERHEAD: usize = 1024;
    TRANSACTION_OVERHEAD
        + tx.name.len()
        + span_weight(&tx.root)
        + tx.spans.iter().map(span_weight).sum::<usize>()
}

/// About the serialised size of one span: a fixed cost plus the strings it carries.
pub(crate) fn span_weight(s: &super::record::SpanRecord) -> usize {
    const SPAN_OVERHEAD: usize = 256;
    let data: usize = s
        .data
        .iter()
        .map(|(key, value)| {
            key.len()
                + 8
                + match value {
                    FieldValue::Str(s) => s.len(),
                    _ => 16,
                }
        })
        .sum();
    SPAN_OVERHEAD + s.description.as_ref().map_or(0, String::len) + data
}

// === debug output ===

/// Rate-limited debug lines about drops: one when dropping starts, a summary at most every
/// [`SUMMARY_EVERY`] while it goes on.
struct DropLog {
    state: Mutex<DropLogState>,
}

#[derive(Default)]
struct DropLogState {
    last_drop: Option<Instant>,
    last_line: Option<Instant>,
    /// Drops since the last line, by label.
    pending: Vec<(&'static str, u64)>,
    /// Failure notes since the last line (only the first is kept).
    note: Option<String>,
}

impl DropLog {
    fn new(_debug: bool) -> Self {
        Self {
            state: Mutex::new(DropLogState::default()),
        }
    }

    /// Counts one drop under `label`; prints the start line or a due summary.
    fn record(&self, debug: bool, label: &'static str) {
        if !debug {
            return;
        }
        let now = Instant::now();
        let mut state = lock(&self.state);
        let new_episode = state
            .last_drop
            .map_or(true, |last| now.duration_since(last) >= QUIET_AFTER);
        state.last_drop = Some(now);
        match state.pending.iter_mut().find(|(l, _)| *l == label) {
            Some((_, n)) => *n += 1,
            None => state.pending.push((label, 1)),
        }
        if new_episode {
            let note = state.note.take();
            state.pending.clear();
            state.last_line = Some(now);
            drop(state);
            let cause = note.map(|n| format!(" ({n})")).unwrap_or_default();
            debug_line(format_args!(
                "started dropping transactions: {label}{cause}; a summary follows at most every {}s while it goes on",
                SUMMARY_EVERY.as_secs()
            ));
            return;
        }
        let due = state
            .last_line
            .map_or(true, |last| now.duration_since(last) >= SUMMARY_EVERY);
        if due {
            let line = summary(&mut state);
            state.last_line = Some(now);
            drop(state);
            debug_line(format_args!("{line}"));
        }
    }

    /// Keeps the first failure detail for the next line.
    fn note(&self, debug: bool, detail: fmt::Arguments<'_>) {
        if !debug {
            return;
        }
        let mut state = lock(&self.state);
        if state.note.is_none() {
            state.note = Some(detail.to_string());
        }
    }

    /// Prints what is pending (at shutdown).
    fn summarise_now(&self, debug: bool) {
        if !debug {
            return;
        }
        let mut state = lock(&self.state);
        if state.pending.is_empty() {
            return;
        }
        let line = summary(&mut state);
        drop(state);
        debug_line(format_args!("{line}"));
    }
}

fn summary(state: &mut DropLogState) -> String {
    let total: u64 = state.pending.iter().map(|(_, n)| n).sum();
    let by: Vec<String> = state
        .pending
        .drain(..)
        .map(|(label, n)| format!("{label}: {n}"))
        .collect();
    let note = state
        .note
        .take()
        .map(|n| format!("; last failure: {n}"))
        .unwrap_or_default();
    format!(
        "still dropping transactions: {total} since the last line ({}){note}",
        by.join(", ")
    )
}

/// One line on stderr. Written with `write!` (not `eprintln!`, which panics when stderr is
/// closed).
fn debug_line(message: fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr().lock(), "[tracing-sentry] {message}");
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc;

    use std::sync::Mutex;
    use std::time::Instant;

    use super::*;
    use crate::export::test_support::{assert_sentry_types_reads, fast_retries, sample_record};
    use crate::export::{
        start, start_with, ExportConfig, ExportGuard, ExportHandle, ExportOptions,
        InMemoryTransport, TransportError, TransportErrorKind, TransportResponse,
    };
    use crate::stats::Stats;

    /// One scripted answer of [`Scripted`].
    #[derive(Clone, Debug)]
    enum Answer {
        Status(u16),
        StatusWith(u16, Option<&'static str>, Option<&'static str>),
        NetworkError,
        Panic,
        /// Blocks until the test sends on (or drops) the gate, then answers 200.
        Block,
    }

    /// A transport that answers from a script (the last answer repeats), records envelopes, and
    /// reports each call on a channel.
    struct Scripted {
        answers: Mutex<VecDeque<Answer>>,
        calls: AtomicUsize,
        seen: InMemoryTransport,
        called: Mutex<mpsc::Sender<()>>,
        gate: Mutex<mpsc::Receiver<()>>,
    }

    struct Script {
        transport: Arc<Scripted>,
        called: mpsc::Receiver<()>,
        gate: mpsc::Sender<()>,
    }

    impl Script {
        fn new(answers: impl IntoIterator<Item = Answer>) -> Self {
            let (called_tx, called_rx) = mpsc::channel();
            let (gate_tx, gate_rx) = mpsc::channel();
            Self {
                transport: Arc::new(Scripted {
                    answers: Mutex::new(answers.into_iter().collect()),
                    calls: AtomicUsize::new(0),
                    seen: InMemoryTransport::new(),
                    called: Mutex::new(called_tx),
                    gate: Mutex::new(gate_rx),
                }),
                called: called_rx,
                gate: gate_tx,
            }
        }

        fn calls(&self) -> usize {
            self.transport.calls.load(Ordering::SeqCst)
        }

        /// Calls that carried a transaction (client reports may go alone).
        fn tx_calls(&self) -> usize {
            self.transport
                .seen
                .envelopes()
                .iter()
                .filter(|e| e.transaction().is_some())
                .count()
        }

        /// The quantity reported for `reason`/`category` over every envelope seen.
        fn reported(&self, reason: &str, category: &str) -> u64 {
            reported(&self.transport.seen, reason, category)
        }

        fn wait_called(&self) {
            self.called
                .recv_timeout(Duration::from_secs(5))
                .expect("transport called");
        }
    }

    impl Transport for Scripted {
        fn send(&self, envelope: &Envelope) -> Result<TransportResponse, TransportError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            assert!(
                envelope.header()["sent_at"].is_string(),
                "stamped before sending"
            );
            let _ = self.called.lock().unwrap().send(());
            let answer = {
                let mut answers = self.answers.lock().unwrap();
                if answers.len() > 1 {
                    answers.pop_front().unwrap()
                } else {
                    answers.front().cloned().unwrap_or(Answer::Status(200))
                }
            };
            self.seen.send(envelope).unwrap();
            match answer {
                Answer::Status(status) => Ok(TransportResponse::new(status)),
                Answer::StatusWith(status, retry_after, rate_limits) => {
                    let mut response = TransportResponse::new(status);
                    if let Some(v) = retry_after {
                        response = response.with_retry_after(v);
                    }
                    if let Some(v) = rate_limits {
                        response = response.with_rate_limits(v);
                    }
                    Ok(response)
                }
                Answer::NetworkError => Err(TransportError::new(
                    TransportErrorKind::Connect,
                    "connection refused",
                )),
                Answer::Panic => panic!("transport bug (expected by the test)"),
                Answer::Block => {
                    let _ = self.gate.lock().unwrap().recv();
                    Ok(TransportResponse::new(200))
                }
            }
        }
    }

    /// The quantity reported for `reason`/`category` in the client reports of every envelope.
    fn reported(seen: &InMemoryTransport, reason: &str, category: &str) -> u64 {
        let mut total = 0;
        for envelope in seen.envelopes() {
            let bytes = envelope.as_bytes();
            for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
                let Ok(value) = serde_json::from_slice::<serde_json::Value>(line) else {
                    continue;
                };
                let Some(events) = value["discarded_events"].as_array() else {
                    continue;
                };
                assert!(i >= 2, "a client report payload follows its item header");
                for event in events {
                    if event["reason"] == reason && event["category"] == category {
                        total += event["quantity"].as_u64().unwrap();
                    }
                }
            }
        }
        total
    }

    struct Pipeline {
        handle: ExportHandle,
        guard: Option<ExportGuard>,
        stats: Arc<StatsInner>,
    }

    impl Pipeline {
        fn stats(&self) -> Stats {
            self.stats.snapshot()
        }
        fn submit(&self, n: usize) {
            for _ in 0..n {
                self.handle.submit(sample_record());
            }
        }
        fn flush(&self) -> bool {
            self.guard.as_ref().unwrap().flush(Duration::from_secs(5))
        }
    }

    fn pipeline(
        transport: Arc<dyn Transport>,
        tweak: impl FnOnce(&mut ExportConfig, &mut ExportOptions),
    ) -> Pipeline {
        let stats = Arc::new(StatsInner::default());
        let mut config = ExportConfig {
            transport: Some(transport),
            stats: Arc::clone(&stats),
            shutdown_timeout: Duration::from_secs(5),
            ..ExportConfig::default()
        };
        let mut options = fast_retries();
        tweak(&mut config, &mut options);
        let (handle, guard) = start_with(config, options).unwrap();
        Pipeline {
            handle,
            guard: Some(guard),
            stats,
        }
    }

    #[test]
    fn delivered_transactions_are_counted_and_stamped() {
        let transport = InMemoryTransport::new();
        let p = pipeline(Arc::new(transport.clone()), |c, _| {
            c.dsn = Some("https://key:secret@example.com/1".parse().unwrap());
        });
        p.submit(3);
        assert!(p.flush());
        assert_eq!(p.stats().transactions_sent, 3);
        let envelopes = transport.envelopes();
        assert_eq!(envelopes.len(), 3);
        for envelope in &envelopes {
            assert_sentry_types_reads(envelope, &sample_record());
            let header = envelope.header();
            assert!(header["sent_at"].is_string(), "stamped before sending");
            assert_eq!(header["dsn"], "https://key@example.com/1", "no secret");
        }
        assert_eq!(transport.transactions().len(), 3);
    }

    #[test]
    fn a_429_drops_and_later_transactions_are_dropped_without_sending_while_limited() {
        let script = Script::new([Answer::StatusWith(429, Some("60"), None)]);
        let p = pipeline(script.transport.clone(), |_, _| {});
        p.submit(1);
        assert!(p.flush());
        p.submit(2);
        assert!(p.flush());
        assert_eq!(
            script.calls(),
            1,
            "no send while rate limited, not even a client report"
        );
        let stats = p.stats();
        assert_eq!(stats.transactions_dropped_rate_limited, 3);
        assert_eq!(stats.rate_limit_responses, 1);
        assert_eq!(stats.transactions_sent, 0);
        assert_eq!(stats.send_failures, 0, "a 429 is not a failure to retry");
    }

    #[test]
    fn sentry_rate_limits_on_a_success_limit_the_next_transactions() {
        let script = Script::new([Answer::StatusWith(200, None, Some("60:transaction:key"))]);
        let p = pipeline(script.transport.clone(), |_, _| {});
        p.submit(1);
        assert!(p.flush());
        p.submit(1);
        assert!(p.flush());
        assert_eq!(script.tx_calls(), 1);
        let stats = p.stats();
        assert_eq!(stats.transactions_sent, 1);
        assert_eq!(stats.transactions_dropped_rate_limited, 1);
        assert_eq!(
            stats.rate_limit_responses, 2,
            "the report's answer repeated the limit"
        );
        // The flush sent the loss on its own: client reports are exempt from the limit.
        assert_eq!(script.calls(), 2);
        assert_eq!(script.reported("ratelimit_backoff", "transaction"), 1);
        assert_eq!(script.reported("ratelimit_backoff", "span"), 3);
        assert_eq!(stats.client_reports_sent, 1);
    }

    #[test]
    fn a_limit_that_ran_out_lets_transactions_go_and_a_new_one_stops_them_again() {
        let script = Script::new([
            Answer::StatusWith(200, None, Some("1:transaction:key")),
            Answer::Status(200),
            Answer::StatusWith(200, None, Some("60:transaction:key")),
            Answer::Status(200),
        ]);
        let p = pipeline(script.transport.clone(), |_, _| {});
        p.submit(1);
        assert!(p.flush());
        p.submit(1);
        assert!(p.flush());
        assert_eq!(script.tx_calls(), 1, "limited for a second");
        std::thread::sleep(Duration::from_millis(1100));
        p.submit(1);
        assert!(p.flush());
        assert_eq!(script.tx_calls(), 2, "the limit ran out");
        p.submit(1);
        assert!(p.flush());
        assert_eq!(script.tx_calls(), 2, "the new limit holds");
        let stats = p.stats();
        assert_eq!(stats.transactions_sent, 2);
        assert_eq!(stats.transactions_dropped_rate_limited, 2);
    }

    #[test]
    fn transactions_the_sampler_drops_are_reported_as_sample_rate() {
        use tracing_subscriber::layer::SubscriberExt as _;
        let transport = InMemoryTransport::new();
        let (layer, guard) = crate::SentryLayer::builder()
            .transport(transport.clone())
            .traces_sample_rate(0.0)
            .build()
            .unwrap();
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            for _ in 0..3 {
                tracing::info_span!("root").in_scope(|| {
                    tracing::info_span!("child").in_scope(|| {});
                });
            }
        });
        assert!(guard.flush(Duration::from_secs(5)));
        assert_eq!(reported(&transport, "sample_rate", "transaction"), 3);
        assert_eq!(
            reported(&transport, "sample_rate", "span"),
            0,
            "unrecorded spans are not counted"
        );
        assert!(transport.transactions().is_empty());
    }

    #[test]
    fn children_over_the_maximum_are_reported_as_buffer_overflow_spans() {
        let transport = InMemoryTransport::new();
        let p = pipeline(Arc::new(transport.clone()), |_, _| {});
        let mut record = sample_record();
        record.dropped_spans = 7;
        p.handle.submit(record);
        assert!(p.flush());
        assert_eq!(reported(&transport, "buffer_overflow", "span"), 7);
        assert_eq!(reported(&transport, "buffer_overflow", "transaction"), 0);
        assert_eq!(p.stats().transactions_sent, 1);
    }

    #[test]
    fn reports_ride_along_only_once_the_interval_passed() {
        let script = Script::new([Answer::Block, Answer::Status(200)]);
        let p = pipeline(script.transport.clone(), |c, o| {
            c.queue_capacity = 1;
            o.client_report_interval = Duration::from_secs(3600);
        });
        p.submit(1);
        script.wait_called();
        p.submit(1); // queued
        p.submit(1); // dropped: queue_overflow
        script.gate.send(()).unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while p.stats().transactions_sent < 2 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(
            script.reported("queue_overflow", "transaction"),
            0,
            "not yet due"
        );
        assert!(p.flush());
        assert_eq!(
            script.reported("queue_overflow", "transaction"),
            1,
            "a flush sends them whatever the interval"
        );
    }

    #[test]
    fn a_transport_without_client_reports_gets_none() {
        struct NoReports(Scripted);
        impl Transport for NoReports {
            fn send(&self, envelope: &Envelope) -> Result<TransportResponse, TransportError> {
                self.0.send(envelope)
            }
            fn sends_client_reports(&self) -> bool {
                false
            }
        }
        let script = Script::new([Answer::StatusWith(200, None, Some("60:transaction:key"))]);
        let inner = Arc::try_unwrap(script.transport).ok().unwrap();
        let transport = Arc::new(NoReports(inner));
        let p = pipeline(transport.clone(), |_, _| {});
        p.submit(1);
        assert!(p.flush());
        p.submit(2);
        assert!(p.flush());
        let seen = transport.0.seen.envelopes();
        assert_eq!(seen.len(), 1, "the first transaction only: {seen:?}");
        assert!(seen
            .iter()
            .all(|e| e.item_types().all(|t| t == "transaction")));
        assert_eq!(
            p.stats().transactions_dropped_rate_limited,
            2,
            "still counted"
        );
    }

    #[test]
    fn a_limit_on_client_reports_keeps_them_pending() {
        let script = Script::new([Answer::StatusWith(
            200,
            None,
            Some("60:transaction:key, 60:internal:key"),
        )]);
        let p = pipeline(script.transport.clone(), |_, _| {});
        p.submit(1);
        assert!(p.flush());
        p.submit(1);
        assert!(p.flush());
        assert_eq!(
            script.calls(),
            1,
            "neither the transaction nor the report goes"
        );
        assert_eq!(p.stats().client_reports_sent, 0);
    }

    #[test]
    fn limits_for_other_categories_do_not_stop_transactions() {
        let script = Script::new([Answer::StatusWith(200, None, Some("60:error;session:key"))]);
        let p = pipeline(script.transport.clone(), |_, _| {});
        p.submit(2);
        assert!(p.flush());
        assert_eq!(script.calls(), 2);
        assert_eq!(p.stats().transactions_sent, 2);
        assert_eq!(p.stats().rate_limit_responses, 0);
    }

    #[test]
    fn server_errors_are_dropped_without_retry_and_reported_later() {
        let script = Script::new([Answer::Status(500), Answer::Status(200)]);
        let p = pipeline(script.transport.clone(), |_, o| o.max_retries = 2);
        p.submit(1);
        assert!(p.flush());
        // The 5xx started the shared backoff (1 ms here), which a report does not jump: once
        // it is over, the next flush sends the report.
        std::thread::sleep(Duration::from_millis(20));
        assert!(p.flush());
        assert_eq!(script.tx_calls(), 1, "a 5xx is not retried (develop docs)");
        let stats = p.stats();
        assert_eq!(stats.send_failures, 1);
        assert_eq!(stats.transactions_dropped_send_failed, 1);
        assert_eq!(stats.transactions_sent, 0);
        assert_eq!(script.reported("send_error", "transaction"), 1);
        assert_eq!(script.reported("send_error", "span"), 3);
    }

    #[test]
    fn network_errors_are_retried_with_the_same_envelope() {
        let script = Script::new([Answer::NetworkError]);
        let p = pipeline(script.transport.clone(), |_, o| o.max_retries = 2);
        p.submit(1);
        assert!(p.flush());
        assert_eq!(script.tx_calls(), 3, "one attempt and two retries");
        let stats = p.stats();
        assert_eq!(stats.transactions_dropped_send_failed, 1);
        // Every attempt carries the same envelope, stamped once.
        let envelopes = script.transport.seen.envelopes();
        let tx: Vec<_> = envelopes
            .iter()
            .filter(|e| e.transaction().is_some())
            .collect();
        assert!(tx.windows(2).all(|w| w[0] == w[1]));
        // The report never got through either: it is still pending, not lost.
        assert_eq!(stats.client_reports_sent, 0);
    }

    #[test]
    fn a_retry_that_succeeds_counts_as_sent() {
        let script = Script::new([
            Answer::NetworkError,
            Answer::NetworkError,
            Answer::Status(200),
        ]);
        let p = pipeline(script.transport.clone(), |_, _| {});
        p.submit(1);
        assert!(p.flush());
        assert_eq!(script.calls(), 3);
        let stats = p.stats();
        assert_eq!(stats.send_failures, 2);
        assert_eq!(stats.transactions_sent, 1);
        assert_eq!(stats.transactions_dropped_send_failed, 0);
    }

    #[test]
    fn a_5xx_with_a_rate_limit_stops_every_later_send() {
        let script = Script::new([Answer::StatusWith(503, None, Some("30::organization"))]);
        let p = pipeline(script.transport.clone(), |_, _| {});
        p.submit(1);
        assert!(p.flush());
        p.submit(1);
        assert!(p.flush());
        assert_eq!(script.calls(), 1);
        assert_eq!(p.stats().transactions_dropped_send_failed, 1);
        assert_eq!(p.stats().transactions_dropped_rate_limited, 1);
    }

    #[test]
    fn other_client_errors_are_rejected_without_retry() {
        for status in [400, 401, 403, 413, 302] {
            let script = Script::new([Answer::Status(status)]);
            let p = pipeline(script.transport.clone(), |_, _| {});
            p.submit(1);
            assert!(p.flush());
            assert_eq!(script.tx_calls(), 1, "HTTP {status}");
            assert_eq!(p.stats().transactions_dropped_rejected, 1, "HTTP {status}");
        }
    }

    #[test]
    fn the_worker_survives_a_panicking_transport() {
        let script = Script::new([Answer::Panic, Answer::Status(200)]);
        // Debug mode on, to show it does not get in the way either.
        let p = pipeline(script.transport.clone(), |c, _| c.debug = true);
        p.submit(2);
        assert!(p.flush(), "the worker still answers flushes");
        let stats = p.stats();
        assert_eq!(script.tx_calls(), 2, "a panic is not retried");
        assert_eq!(stats.send_failures, 1);
        assert_eq!(stats.transport_panics, 1);
        assert_eq!(stats.transactions_dropped_send_failed, 1);
        assert_eq!(stats.transactions_sent, 1);
        assert_eq!(
            script.reported("internal_sdk_error", "transaction"),
            1,
            "the loss is reported, not silent"
        );
    }

    #[test]
    fn a_full_queue_drops_and_counts_without_blocking() {
        let script = Script::new([Answer::Block, Answer::Status(200)]);
        let p = pipeline(script.transport.clone(), |c, _| c.queue_capacity = 4);
        p.submit(1);
        script.wait_called(); // the first transaction is in flight, the queue is empty
        let started = Instant::now();
        p.submit(4 + 3);
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "submit never blocks"
        );
        assert_eq!(p.stats().transactions_dropped_queue_full, 3);
        script.gate.send(()).unwrap();
        assert!(p.flush());
        assert_eq!(p.stats().transactions_sent, 5);
        assert_eq!(script.reported("queue_overflow", "transaction"), 3);
        assert_eq!(script.reported("queue_overflow", "span"), 9);
    }

    #[test]
    fn flush_times_out_on_a_hanging_transport_and_succeeds_afterwards() {
        let script = Script::new([Answer::Block, Answer::Status(200)]);
        let p = pipeline(script.transport.clone(), |_, _| {});
        p.submit(1);
        script.wait_called();
        let started = Instant::now();
        assert!(!p.guard.as_ref().unwrap().flush(Duration::from_millis(50)));
        assert!(started.elapsed() < Duration::from_secs(2));
        script.gate.send(()).unwrap();
        assert!(p.flush());
        assert_eq!(p.stats().transactions_sent, 1);
    }

    #[test]
    fn flush_with_nothing_queued_returns_at_once() {
        let p = pipeline(Arc::new(InMemoryTransport::new()), |_, _| {});
        assert!(p.guard.as_ref().unwrap().flush(Duration::ZERO));
    }

    #[test]
    fn dropping_the_guard_never_waits_longer_than_the_shutdown_timeout() {
        let script = Script::new([Answer::Block]);
        let mut p = pipeline(script.transport.clone(), |c, _| {
            c.shutdown_timeout = Duration::from_millis(100);
        });
        p.submit(1);
        script.wait_called();
        p.submit(3); // queued behind the stuck one
        let started = Instant::now();
        drop(p.guard.take());
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(100),
            "it did try to flush ({took:?})"
        );
        assert!(
            took < Duration::from_secs(2),
            "bounded by the timeout ({took:?})"
        );
        assert_eq!(
            p.stats().transactions_dropped_shutdown,
            3,
            "the queued ones"
        );
        p.submit(1);
        assert_eq!(
            p.stats().transactions_dropped_shutdown,
            4,
            "submits after shutdown"
        );
        drop(script.gate); // let the detached worker finish
    }

    #[test]
    fn shutdown_cuts_the_retry_backoff_short() {
        let script = Script::new([Answer::NetworkError]);
        let mut p = pipeline(script.transport.clone(), |c, o| {
            o.retry_backoff = Duration::from_secs(30);
            c.shutdown_timeout = Duration::from_millis(300);
        });
        p.submit(1);
        script.wait_called();
        let started = Instant::now();
        drop(p.guard.take());
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(script.tx_calls(), 1);
        let stats = p.stats();
        assert_eq!(stats.transactions_dropped_send_failed, 1);
        assert_eq!(
            stats.send_failures, 1,
            "no client report jumps the running backoff"
        );
    }

    #[test]
    fn dropping_the_guard_delivers_what_is_queued() {
        let transport = InMemoryTransport::new();
        let mut p = pipeline(Arc::new(transport.clone()), |_, _| {});
        p.submit(5);
        drop(p.guard.take());
        assert_eq!(transport.len(), 5);
        assert_eq!(p.stats().transactions_sent, 5);
        assert_eq!(p.stats().transactions_dropped_shutdown, 0);
    }

    #[test]
    fn oversized_transactions_are_dropped_before_sending() {
        let script = Script::new([Answer::Status(200)]);
        let p = pipeline(script.transport.clone(), |_, _| {});
        let mut record = sample_record();
        record.root.description = Some("x".repeat(2 * 1024 * 1024));
        p.handle.submit(record);
        p.submit(1);
        assert!(p.flush());
        assert_eq!(script.tx_calls(), 1);
        assert_eq!(p.stats().transactions_dropped_too_large, 1);
        assert_eq!(p.stats().transactions_sent, 1);
        assert_eq!(script.reported("send_error", "transaction"), 1);
    }

    #[test]
    fn without_dsn_or_transport_nothing_runs_and_nothing_blocks() {
        let stats = Arc::new(StatsInner::default());
        let (handle, guard) = start(ExportConfig {
            stats: Arc::clone(&stats),
            ..ExportConfig::default()
        })
        .unwrap();
        assert!(!handle.is_enabled());
        handle.submit(sample_record());
        assert!(guard.flush(Duration::ZERO));
        drop(guard);
        assert_eq!(stats.snapshot(), Stats::default());
    }

    #[test]
    fn handles_and_guards_are_thread_safe() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<ExportHandle>();
        assert_send_sync::<ExportGuard>();
        let p = pipeline(Arc::new(InMemoryTransport::new()), |c, _| {
            c.queue_capacity = 1000
        });
        std::thread::scope(|s| {
            for _ in 0..4 {
                let handle = p.handle.clone();
                s.spawn(move || {
                    for _ in 0..50 {
                        handle.submit(sample_record());
                    }
                });
            }
        });
        assert!(p.flush());
        assert_eq!(p.stats().transactions_sent, 200);
    }

    /// A transport that answers after `delay`, counting the most calls at once.
    struct Slow {
        delay: Duration,
        now: AtomicUsize,
        peak: AtomicUsize,
        seen: InMemoryTransport,
    }

    impl Transport for Slow {
        fn send(&self, envelope: &Envelope) -> Result<TransportResponse, TransportError> {
            let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
            self.peak.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(self.delay);
            self.seen.send(envelope).unwrap();
            self.now.fetch_sub(1, Ordering::SeqCst);
            Ok(TransportResponse::new(200))
        }
    }

    #[test]
    fn requests_run_concurrently_up_to_the_limit_and_flush_waits_for_them() {
        let slow = Arc::new(Slow {
            delay: Duration::from_millis(50),
            now: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            seen: InMemoryTransport::new(),
        });
        let p = pipeline(slow.clone(), |c, o| {
            c.queue_capacity = 1000;
            o.max_in_flight = 8;
        });
        let started = Instant::now();
        p.submit(80);
        assert!(p.flush());
        let took = started.elapsed();
        assert_eq!(p.stats().transactions_sent, 80);
        assert_eq!(
            slow.seen.len(),
            80,
            "flush returned after every request ended"
        );
        let peak = slow.peak.load(Ordering::SeqCst);
        assert!(peak > 1, "requests overlapped (peak {peak})");
        assert!(peak <= 8, "never more than the limit (peak {peak})");
        // One at a time would take 80 x 50 ms = 4 s.
        assert!(
            took < Duration::from_secs(3),
            "took {took:?} with peak {peak}"
        );
    }

    #[test]
    fn a_429_stops_every_sender_at_once() {
        let script = Script::new([Answer::StatusWith(429, Some("60"), None)]);
        let p = pipeline(script.transport.clone(), |c, o| {
            c.queue_capacity = 1000;
            o.max_in_flight = 8;
        });
        p.submit(1);
        assert!(p.flush());
        p.submit(50);
        assert!(p.flush());
        assert_eq!(script.calls(), 1, "no sender sent after the 429");
        assert_eq!(p.stats().transactions_dropped_rate_limited, 51);
    }

    #[test]
    fn client_reports_go_alone_at_the_interval() {
        let script = Script::new([Answer::Block, Answer::Status(200)]);
        let p = pipeline(script.transport.clone(), |c, o| {
            c.queue_capacity = 1;
            o.client_report_interval = Duration::from_millis(1);
        });
        p.submit(1);
        script.wait_called();
        p.submit(1); // queued
        p.submit(2); // dropped: queue_overflow
        script.gate.send(()).unwrap();
        // No flush: the interval alone sends the report once a sender is free.
        let deadline = Instant::now() + Duration::from_secs(5);
        while script.reported("queue_overflow", "transaction") < 2 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(script.reported("queue_overflow", "transaction"), 2);
        assert_eq!(script.reported("queue_overflow", "span"), 6);
    }

    #[test]
    fn what_shutdown_drops_is_reported_in_a_last_client_report() {
        let script = Script::new([Answer::Block, Answer::Status(200)]);
        let mut p = pipeline(script.transport.clone(), |c, _| {
            c.shutdown_timeout = Duration::from_millis(1000);
        });
        p.submit(1);
        script.wait_called();
        p.submit(3); // queued behind the stuck one
        let gate = script.gate.clone();
        let release = std::thread::spawn(move || {
            // After the flush gave up (at 900 ms), before the guard stops waiting.
            std::thread::sleep(Duration::from_millis(950));
            let _ = gate.send(());
        });
        drop(p.guard.take());
        release.join().unwrap();
        // The sender sends the last report once its request ends, even if the guard
        // stopped waiting first.
        let deadline = Instant::now() + Duration::from_secs(5);
        while script.reported("queue_overflow", "transaction") < 3 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let stats = p.stats();
        assert_eq!(stats.transactions_sent, 1);
        assert_eq!(stats.transactions_dropped_shutdown, 3);
        assert_eq!(script.reported("queue_overflow", "transaction"), 3);
    }

    #[test]
    fn the_debug_log_is_rate_limited() {
        // One "started" line and then summaries at most every SUMMARY_EVERY: recording many
        // drops in a row must not take a line each (observed through the state it keeps).
        let log = DropLog::new(true);
        for _ in 0..1000 {
            log.record(true, "queue_overflow");
        }
        let state = lock(&log.state);
        let pending: u64 = state.pending.iter().map(|(_, n)| n).sum();
        assert_eq!(
            pending, 999,
            "all but the first drop wait for the next summary"
        );
    }
}
