//! The delivery of one unit of work taken from the queue, identically for every
//! [`EnvelopeTransport`]: the privacy rules, building the envelope, the rate-limit check, sending with
//! retries under the shared backoff, and accounting for the outcome.
//!
//! - **Answers** (develop docs: sdk/expected-features, "Dealing with network failures"):
//!   `2xx` delivered; `429` dropped, no client report (Sentry records it); any other `4xx` or
//!   `5xx` dropped and reported as `send_error`, not retried; no response at all (connect,
//!   timeout, I/O) retried after the shared, growing backoff, then reported as
//!   `network_error`; a panicking transport is caught, counted in `transport_panics` and
//!   reported as `internal_sdk_error`. [`Outcome`] holds the table.
//! - **Client reports** go at most every `client_report_interval` (30 s), riding along on an
//!   outgoing envelope or alone, and at each flush and at shutdown, never while the backoff
//!   runs. Their counts are only cleared when an envelope carrying them was accepted.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use super::drop_log::DropLog;
use super::queue::Queue;
use super::Work;
use crate::export::policy::backoff::SharedBackoff;
use crate::export::policy::outcome::{Outcome, Unit};
use crate::export::policy::ratelimit::RateGate;
use crate::export::record::{LogBatch, MetricBatch, SpanBatch, TransactionRecord};
use crate::export::wire::category::DataCategory;
use crate::export::wire::client_report::{ClientReports, DiscardReason, Report};
use crate::export::wire::envelope::{EnvelopeBytes, Scratch, TooLarge};
use crate::export::wire::log_item::{log_byte_size, write_log_payload, LOG_CONTENT_TYPE};
use crate::export::wire::metric_item::{write_metric_payload, METRIC_CONTENT_TYPE};
use crate::export::wire::transaction::EventMeta;
use crate::export::{EnvelopeTransport, Privacy, TransportResponse};
use crate::stats::StatsInner;

/// How failed attempts are retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RetryPolicy {
    /// Retries after the first attempt (so `max_retries + 1` attempts at most).
    pub(crate) max_retries: u32,
    /// The first backoff after a failure without a response; it doubles with each further
    /// consecutive failure.
    pub(crate) backoff: Duration,
}

/// Everything the senders share, fixed at start.
pub(crate) struct DeliveryConfig {
    pub(crate) transport: Arc<dyn EnvelopeTransport>,
    pub(crate) meta: EventMeta,
    /// The DSN as written in the envelope header (without secret).
    pub(crate) dsn: Option<String>,
    pub(crate) retry: RetryPolicy,
    /// At least 1.
    pub(crate) max_in_flight: usize,
    pub(crate) client_report_interval: Duration,
    pub(crate) debug: bool,
    /// Ignored spans, private data, the denylist and the `before_send_*` hooks.
    pub(crate) privacy: Privacy,
}

/// What one request attempt gave.
enum Attempt {
    Response(TransportResponse),
    NoResponse,
    Panicked,
}

/// The state every sender shares to deliver work: the configuration, the rate limits, the
/// backoff, the pending client reports, the counters and the debug output.
pub(crate) struct Delivery {
    config: DeliveryConfig,
    limits: RateGate,
    backoff: SharedBackoff,
    pub(crate) reports: ClientReports,
    /// When client reports were last sent (or the pipeline started), in nanoseconds since
    /// `started`: every sender reads it without a lock.
    last_report: AtomicU64,
    /// When the pipeline was made: the origin of `last_report`.
    started: Instant,
    stats: Arc<StatsInner>,
    pub(crate) drops: DropLog,
    /// How many sends in a row (by any sender) took [`SLOW_SEND`] or longer; from
    /// [`SLOW_SENDS`] on, waiting work is worth another sender.
    slow_sends: AtomicU32,
}

/// A send that takes this long (a request over a network) is slow: senders in parallel help
/// against the transport's latency, not against the writing of envelopes, which one sender
/// does faster than a program makes them.
const SLOW_SEND: Duration = Duration::from_millis(1);
/// Slow sends in a row that make the transport slow: one alone may be a thread that was
/// descheduled while it sent.
const SLOW_SENDS: u32 = 2;

impl Delivery {
    pub(crate) fn new(config: DeliveryConfig, stats: Arc<StatsInner>) -> Self {
        Self {
            backoff: SharedBackoff::new(config.retry.backoff),
            config,
            limits: RateGate::default(),
            reports: ClientReports::default(),
            last_report: AtomicU64::new(0),
            started: Instant::now(),
            stats,
            drops: DropLog::new(),
            slow_sends: AtomicU32::new(0),
        }
    }

    /// Whether the last [`SLOW_SENDS`] sends each took [`SLOW_SEND`] or longer.
    pub(crate) fn sending_is_slow(&self) -> bool {
        self.slow_sends.load(Ordering::Relaxed) >= SLOW_SENDS
    }

    /// Counts a send (its attempts, and the release of what it sent) that began at `since`
    /// and was done at `now` (compared without computing the duration).
    pub(crate) fn note_send(&self, since: Instant, now: Instant) {
        let slow = since.checked_add(SLOW_SEND).is_some_and(|slow| now >= slow);
        let streak = self.slow_sends.load(Ordering::Relaxed);
        if slow {
            self.slow_sends
                .store(streak.saturating_add(1), Ordering::Relaxed);
        } else if streak != 0 {
            self.slow_sends.store(0, Ordering::Relaxed);
        }
    }

    pub(crate) fn debug(&self) -> bool {
        self.config.debug
    }

    /// Whether the shared backoff is running.
    pub(crate) fn backing_off(&self) -> bool {
        self.backoff.running()
    }

    /// Whether a rate limit on any category is in force.
    pub(crate) fn any_rate_limit(&self) -> bool {
        self.limits.any_limited()
    }

    /// Handles one unit of work in place (a transaction is large: no copies of it), dropping
    /// what it held once sent; the sender then sends client reports if they are due.
    pub(crate) fn handle(&self, work: &mut Work, scratch: &mut Scratch, queue: &Queue<Work>) {
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
                let outcome = self.deliver_transaction(tx, scratch, queue);
                // Frees the transaction in place before it is counted: `ClientReport` is the
                // variant that holds nothing (nothing handles this item again).
                *work = Work::ClientReport;
                self.account(outcome, Unit::Transaction, spans);
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
                let outcome = self.deliver_spans(batch, scratch, queue);
                // Frees the batch in place, as for a transaction.
                *work = Work::ClientReport;
                self.account(outcome, Unit::Spans, spans);
            }
            #[cfg(feature = "sentry")]
            Work::External(_) => {
                let Work::External(external) = std::mem::replace(work, Work::ClientReport) else {
                    return;
                };
                self.deliver_external(external, scratch, queue);
            }
            Work::Logs(batch) => {
                // Private data, the denylist and `before_send_log` on each log.
                let before = batch.items.len();
                let privacy = &self.config.privacy;
                let mut refused = 0u64;
                batch.items.retain_mut(|log| {
                    let keep = privacy.process_log(log, &self.stats, &mut scratch.spans.keys);
                    if !keep {
                        refused += log_byte_size(log);
                    }
                    keep
                });
                let removed = before.saturating_sub(batch.items.len()) as u64;
                if removed > 0 {
                    self.reports
                        .record(DiscardReason::BeforeSend, DataCategory::LogItem, removed);
                    self.reports
                        .record(DiscardReason::BeforeSend, DataCategory::LogByte, refused);
                    StatsInner::add(&self.stats.logs_dropped_before_send, removed);
                }
                if batch.items.is_empty() {
                    return;
                }
                let outcome = self.deliver_logs(batch, scratch, queue);
                // Sizes only for what is reported lost.
                let (count, bytes) = match outcome.reason() {
                    Some(_) => log_quantity(batch),
                    None => (batch.items.len() as u64, 0),
                };
                *work = Work::ClientReport;
                self.account_logs(outcome, count, bytes);
            }
            Work::Metrics(batch) => {
                let before = batch.items.len();
                let privacy = &self.config.privacy;
                batch.items.retain_mut(|metric| {
                    privacy.process_metric(metric, &self.stats, &mut scratch.spans.keys)
                });
                let removed = before.saturating_sub(batch.items.len()) as u64;
                if removed > 0 {
                    self.reports.record(
                        DiscardReason::BeforeSend,
                        DataCategory::TraceMetric,
                        removed,
                    );
                    StatsInner::add(&self.stats.metrics_dropped_before_send, removed);
                }
                if batch.items.is_empty() {
                    return;
                }
                let count = batch.items.len() as u64;
                let outcome = self.deliver_metrics(batch, scratch, queue);
                *work = Work::ClientReport;
                self.account(outcome, Unit::Metrics, count);
            }
            Work::ClientReport => self.send_reports(),
        }
    }

    /// Writes an envelope of the `sentry` crate without its rate-limited items, adds `sent_at`
    /// and the `trace` header, and sends it; each item is accounted for in its own category.
    #[cfg(feature = "sentry")]
    fn deliver_external(
        &self,
        external: super::external::External,
        scratch: &mut Scratch,
        queue: &Queue<Work>,
    ) {
        use super::external::Quantities;
        let super::external::External {
            envelope,
            quantities,
            dsc,
            ..
        } = external;
        if !self.wait_for_backoff(queue) {
            return self.account_items(Outcome::NetworkError, &quantities);
        }
        let mut written = Vec::with_capacity(4096);
        let dropped = envelope.write(&mut |category| !self.limits.limited(category), &mut written);
        let dropped = match dropped {
            Ok(dropped) => dropped,
            Err(_) => return self.account_items(Outcome::Rejected(0), &quantities),
        };
        if !dropped.is_empty() {
            self.account_items(Outcome::RateLimited, &dropped);
        }
        let kept: Quantities = quantities.without(&dropped);
        if kept.is_empty() {
            return;
        }
        let built = EnvelopeBytes::with_header_fields(
            &written,
            dsc.as_deref(),
            SystemTime::now(),
            scratch.buffer(written.len()),
        );
        drop(written);
        let mut envelope = match built {
            Ok(envelope) => envelope,
            Err(_) => return self.account_items(Outcome::Rejected(0), &kept),
        };
        let now = Instant::now();
        scratch.sending_since = Some(now);
        let report = if self.reports_due(now, &mut scratch.reports_not_due_before)
            && self.reports_allowed()
        {
            self.take_report(&mut envelope)
        } else {
            None
        };
        let category = kept.main_category().unwrap_or(DataCategory::Error);
        let outcome = self.send_with_retries(&envelope, category, queue);
        scratch.recycle(envelope);
        if let Some(report) = report {
            if outcome == Outcome::Sent {
                StatsInner::incr(&self.stats.client_reports_sent);
            } else {
                self.reports.restore(&report);
            }
        }
        self.account_items(outcome, &kept);
    }

    /// Counts what happened to items of the `sentry` crate's envelopes: their number in the
    /// `sentry_items_*` counter of the outcome, their quantities in the client reports, each in
    /// its own category.
    #[cfg(feature = "sentry")]
    pub(crate) fn account_items(&self, outcome: Outcome, quantities: &super::external::Quantities) {
        StatsInner::add(
            outcome.counter(Unit::SentryItems, &self.stats),
            quantities.items(),
        );
        if outcome == Outcome::Sent {
            return;
        }
        if let Some(reason) = outcome.reason() {
            for (category, quantity) in quantities.iter() {
                // Losses of client reports are not reported.
                if category != DataCategory::Internal {
                    self.reports.record(reason, category, quantity);
                }
            }
        }
        self.drops.record(self.config.debug, outcome.label());
    }

    fn deliver_logs(
        &self,
        batch: &LogBatch,
        scratch: &mut Scratch,
        queue: &Queue<Work>,
    ) -> Outcome {
        // A limit on the logs' bytes stops them as one on their number does.
        if self.limits.limited(DataCategory::LogByte) {
            return Outcome::RateLimited;
        }
        self.deliver(
            DataCategory::LogItem,
            scratch,
            queue,
            |meta, dsn, now, scratch| {
                EnvelopeBytes::from_batch(
                    "log",
                    LOG_CONTENT_TYPE,
                    batch.items.len(),
                    dsn,
                    now,
                    scratch,
                    |out| write_log_payload(out, batch, meta),
                )
            },
        )
    }

    fn deliver_metrics(
        &self,
        batch: &MetricBatch,
        scratch: &mut Scratch,
        queue: &Queue<Work>,
    ) -> Outcome {
        self.deliver(
            DataCategory::TraceMetric,
            scratch,
            queue,
            |meta, dsn, now, scratch| {
                EnvelopeBytes::from_batch(
                    "trace_metric",
                    METRIC_CONTENT_TYPE,
                    batch.items.len(),
                    dsn,
                    now,
                    scratch,
                    |out| write_metric_payload(out, batch, meta),
                )
            },
        )
    }

    fn deliver_spans(
        &self,
        batch: &SpanBatch,
        scratch: &mut Scratch,
        queue: &Queue<Work>,
    ) -> Outcome {
        self.deliver(
            DataCategory::Span,
            scratch,
            queue,
            |meta, dsn, now, scratch| EnvelopeBytes::from_spans(batch, meta, dsn, now, scratch),
        )
    }

    fn deliver_transaction(
        &self,
        tx: &TransactionRecord,
        scratch: &mut Scratch,
        queue: &Queue<Work>,
    ) -> Outcome {
        // Without hooks, `process_transaction` left the private data and denied values to the
        // writer.
        let scrub = self.config.privacy.scrubs_when_written();
        self.deliver(
            DataCategory::Transaction,
            scratch,
            queue,
            |meta, dsn, now, scratch| {
                EnvelopeBytes::from_transaction(tx, meta, dsn, now, scratch, scrub)
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
        queue: &Queue<Work>,
        build: impl FnOnce(
            &EventMeta,
            Option<&str>,
            SystemTime,
            &mut Scratch,
        ) -> Result<EnvelopeBytes, TooLarge>,
    ) -> Outcome {
        // Wait out a running backoff first, so the envelope is built (and a report attached)
        // when it can go.
        if !self.wait_for_backoff(queue) {
            return Outcome::NetworkError;
        }
        if self.limits.limited(category) {
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
        // their own category. The same clock read starts the send's time.
        let now = Instant::now();
        scratch.sending_since = Some(now);
        let report = if self.reports_due(now, &mut scratch.reports_not_due_before)
            && self.reports_allowed()
        {
            self.take_report(&mut envelope)
        } else {
            None
        };
        let outcome = self.send_with_retries(&envelope, category, queue);
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

    // === client reports ===

    /// Moves the pending reports into `envelope`; returns them to restore on failure.
    fn take_report(&self, envelope: &mut EnvelopeBytes) -> Option<Report> {
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

    /// Whether client reports are due at `now`. `not_before` is a sender's own memory of the
    /// earliest time they can be due (the last report only ever moves later), so that most
    /// items cost an instant comparison rather than a duration computed from the start.
    fn reports_due(&self, now: Instant, not_before: &mut Option<Instant>) -> bool {
        if not_before.is_some_and(|not_before| now < not_before) {
            return false;
        }
        let last = self.last_report.load(Ordering::Relaxed);
        let interval =
            u64::try_from(self.config.client_report_interval.as_nanos()).unwrap_or(u64::MAX);
        let due = self.since_start(now).saturating_sub(last) >= interval;
        if !due {
            *not_before = self
                .started
                .checked_add(Duration::from_nanos(last.saturating_add(interval)));
        }
        due
    }

    /// Sends the pending client reports if they are due (see
    /// [`reports_due`](Self::reports_due) for `not_before`).
    pub(crate) fn send_reports_if_due(&self, now: Instant, not_before: &mut Option<Instant>) {
        if self.reports_due(now, not_before) && !self.reports.is_empty() {
            self.send_reports();
        }
    }

    /// Whether client reports may go now: the transport carries them, no limit on their own
    /// category is active, and the shared backoff is not running (a report never jumps it).
    fn reports_allowed(&self) -> bool {
        self.config.transport.sends_client_reports()
            && !self.limits.limited(DataCategory::Internal)
            && !self.backoff.running()
    }

    /// Sends the pending client reports in an envelope of their own.
    fn send_reports(&self) {
        if !self.reports_allowed() {
            return;
        }
        let mut envelope =
            EnvelopeBytes::without_event(self.config.dsn.as_deref(), SystemTime::now());
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

    // === sending ===

    /// Sends `envelope`, retrying only when there was no response; every wait honours the
    /// shared backoff and ends early at shutdown.
    fn send_with_retries(
        &self,
        envelope: &EnvelopeBytes,
        category: DataCategory,
        queue: &Queue<Work>,
    ) -> Outcome {
        let mut retries = 0;
        loop {
            if !self.wait_for_backoff(queue) {
                return Outcome::NetworkError;
            }
            if self.limits.limited(category) {
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
                            self.backoff.back_off();
                            Outcome::ServerError(status)
                        }
                        status => Outcome::Rejected(status),
                    };
                }
                Attempt::NoResponse => {
                    self.backoff.back_off();
                    if retries >= self.config.retry.max_retries || queue.is_closed() {
                        return Outcome::NetworkError;
                    }
                    retries += 1;
                }
            }
        }
    }

    /// One call of the transport, contained: a panic is caught and counted.
    fn attempt(&self, envelope: &EnvelopeBytes) -> Attempt {
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
                    self.backoff.reset_failures();
                }
                Attempt::Response(response)
            }
        }
    }

    #[inline]
    fn apply_limits(&self, response: &TransportResponse) {
        if self.limits.apply(response) {
            StatsInner::incr(&self.stats.rate_limit_responses);
        }
    }

    /// Waits out the shared backoff; `false` if the queue was closed meanwhile.
    #[inline]
    fn wait_for_backoff(&self, queue: &Queue<Work>) -> bool {
        match self.backoff.remaining() {
            Some(delay) => queue.sleep_unless_closed(delay),
            None => true,
        }
    }

    // === accounting ===

    /// Counts what happened to a unit of work of `quantity` spans (a transaction's, root
    /// included, or a batch's): the counter and the client-report reason of [`Outcome`]'s
    /// table, and the debug output.
    pub(crate) fn account(&self, outcome: Outcome, unit: Unit, quantity: u64) {
        let counter = outcome.counter(unit, &self.stats);
        match unit {
            Unit::Transaction => StatsInner::incr(counter),
            Unit::Spans | Unit::Logs | Unit::Metrics | Unit::SentryItems => {
                StatsInner::add(counter, quantity)
            }
        }
        if outcome == Outcome::Sent {
            return;
        }
        if let (Outcome::TooLarge(len), Unit::Transaction) = (outcome, unit) {
            self.drops.note(
                self.config.debug,
                format_args!("a transaction of {len} bytes exceeds Sentry's 1 MiB item limit"),
            );
        }
        if let Some(reason) = outcome.reason() {
            match unit {
                Unit::Transaction => self.reports.record_transaction(reason, quantity),
                Unit::Spans => self.reports.record(reason, DataCategory::Span, quantity),
                // Counted per category by `account_items`.
                Unit::SentryItems => {}
                Unit::Logs => self.reports.record(reason, DataCategory::LogItem, quantity),
                Unit::Metrics => self
                    .reports
                    .record(reason, DataCategory::TraceMetric, quantity),
            }
        }
        self.drops.record(self.config.debug, outcome.label());
    }

    /// [`account`](Self::account) for `count` logs of `bytes` (Relay's size): their bytes are
    /// reported as `log_byte` besides `log_item`.
    fn account_logs(&self, outcome: Outcome, count: u64, bytes: u64) {
        self.account(outcome, Unit::Logs, count);
        if let Some(reason) = outcome.reason() {
            self.reports.record(reason, DataCategory::LogByte, bytes);
        }
    }

    /// Counts a unit of work dropped before it was sent (`QueueFull` or `Shutdown`).
    pub(crate) fn discard(&self, work: &Work, outcome: Outcome) {
        match work {
            Work::Transaction(tx) => self.account(outcome, Unit::Transaction, span_quantity(tx)),
            Work::Spans(batch) => self.account(outcome, Unit::Spans, batch.spans.len() as u64),
            #[cfg(feature = "sentry")]
            Work::External(external) => self.account_items(outcome, &external.quantities),
            Work::Logs(batch) => {
                let (count, bytes) = log_quantity(batch);
                self.account_logs(outcome, count, bytes);
            }
            Work::Metrics(batch) => {
                self.account(outcome, Unit::Metrics, batch.items.len() as u64);
            }
            Work::ClientReport => {}
        }
    }
}

/// The logs of a batch and their size, as client reports count them.
fn log_quantity(batch: &LogBatch) -> (u64, u64) {
    let bytes = batch.items.iter().map(log_byte_size).sum();
    (batch.items.len() as u64, bytes)
}

/// The spans a transaction stands for in client reports: its children and its root.
fn span_quantity(tx: &TransactionRecord) -> u64 {
    tx.spans.len() as u64 + 1
}
