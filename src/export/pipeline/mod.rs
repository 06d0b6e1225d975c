//! The pipeline: what carries finished work from the instrumented program to Sentry, off its
//! threads. The bounded [queue](queue), the per-trace [span buffer](span_buffer) of the stream
//! lifecycle, the [sender pool](senders) and the [delivery](delivery) of each unit of work.
//!
//! [`Pipeline`] ties them together: it is what the layer's handle, the guard and every sender
//! hold. Submitting never blocks: a full queue or buffer drops the work and counts it.

pub(crate) mod delivery;
mod drop_log;
#[cfg_attr(
    not(feature = "sentry"),
    expect(
        dead_code,
        reason = "only the `sentry` integration sends envelopes written elsewhere"
    )
)]
pub(crate) mod external;
pub(crate) mod queue;
pub(crate) mod senders;
pub(crate) mod span_buffer;
pub(crate) mod telemetry_buffer;
mod weight;

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crate::export::late_work::LateWork;
use crate::export::policy::backpressure::Monitor;
use crate::export::policy::outcome::Outcome;
use crate::export::record::{
    LogBatch, MetricBatch, SentryLog, SentryMetric, SpanBatch, StreamedSpan, TransactionRecord,
};
use crate::export::wire::category::{DataCategory, Priority};
use crate::export::wire::client_report::DiscardReason;
use crate::id::TraceId;
use crate::propagation::DynamicSamplingContext;
use crate::stats::StatsInner;
use delivery::Delivery;
pub(crate) use delivery::{DeliveryConfig, RetryPolicy};
use queue::{PushError, Queue};
use senders::SenderPool;
use span_buffer::{Pushed, SpanBuffer};
use telemetry_buffer::{TelemetryBuffer, LOG_LIMITS, METRIC_LIMITS};
use weight::{log_weight, metric_weight, transaction_weight};

/// One unit of work for a sender.
#[derive(Debug)]
pub(crate) enum Work {
    /// A finished transaction: serialised and sent as one envelope.
    Transaction(TransactionRecord),
    /// Streamed spans of one trace (the stream lifecycle): one `span` item in one envelope.
    Spans(SpanBatch),
    /// An envelope of the `sentry` crate: written and sent as it is, but for its items under
    /// a rate limit.
    #[cfg(feature = "sentry")]
    External(external::External),
    /// Logs: one `log` item in one envelope.
    Logs(LogBatch),
    /// Metrics: one `trace_metric` item in one envelope.
    Metrics(MetricBatch),
    /// Send pending client reports on their own (flush and shutdown).
    ClientReport,
}

impl Work {
    /// The estimated bytes the queue reserves for it: about the serialised size.
    fn weight(&self) -> usize {
        match self {
            Self::Transaction(tx) => transaction_weight(tx),
            Self::Spans(batch) => batch.bytes,
            #[cfg(feature = "sentry")]
            Self::External(external) => external.weight,
            Self::Logs(batch) => batch.bytes,
            Self::Metrics(batch) => batch.bytes,
            Self::ClientReport => 0,
        }
    }

    /// Its priority when the queue is congested: the priority of its data category.
    fn priority(&self) -> Priority {
        match self {
            Self::Transaction(_) => DataCategory::Transaction.priority(),
            Self::Spans(_) => DataCategory::Span.priority(),
            Self::Logs(_) => DataCategory::LogItem.priority(),
            Self::Metrics(_) => DataCategory::TraceMetric.priority(),
            #[cfg(feature = "sentry")]
            Self::External(external) => external.quantities.priority(),
            // Pending reports stay counted when this is shed: the next envelope takes them.
            Self::ClientReport => Priority::Lowest,
        }
    }
}

/// The queue, the span buffer, the senders and the delivery state: what the handle, the guard
/// and every sender hold.
pub(crate) struct Pipeline {
    queue: Queue<Work>,
    /// Streamed spans waiting for their trace's batch to be due.
    spans: SpanBuffer,
    /// Logs and metrics waiting for their batch.
    logs: TelemetryBuffer<SentryLog>,
    metrics: TelemetryBuffer<SentryMetric>,
    senders: SenderPool,
    delivery: Delivery,
    stats: Arc<StatsInner>,
    /// Set when the queue refused or shed work; the backpressure monitor reads and clears it.
    congested: AtomicBool,
    /// Set once the pipeline shut down (a second shutdown does nothing).
    shut: AtomicBool,
    /// Backpressure handling's downsampling factor.
    monitor: Monitor,
    /// Work queued before the shutdown, and the notice for work after it.
    late: LateWork,
}

impl Pipeline {
    /// A pipeline with its queue; no sender runs until [`start`](Self::start).
    pub(crate) fn new(
        config: DeliveryConfig,
        max_items: usize,
        max_bytes: usize,
        stats: Arc<StatsInner>,
        health_check_interval: Option<std::time::Duration>,
    ) -> Self {
        Self {
            queue: Queue::new(max_items, max_bytes),
            spans: SpanBuffer::default(),
            logs: TelemetryBuffer::new(LOG_LIMITS),
            metrics: TelemetryBuffer::new(METRIC_LIMITS),
            senders: SenderPool::new(config.max_in_flight),
            delivery: Delivery::new(config, Arc::clone(&stats)),
            stats,
            congested: AtomicBool::new(false),
            shut: AtomicBool::new(false),
            monitor: Monitor::new(health_check_interval),
            late: LateWork::default(),
        }
    }

    /// Starts the first sender; the error is the thread spawn's.
    pub(crate) fn start(self: &Arc<Self>) -> std::io::Result<()> {
        self.senders.spawn(self)
    }

    /// Queues a finished transaction. Never blocks: a full queue drops it, counts
    /// `transactions_dropped_queue_full` and reports `queue_overflow`; after shutdown,
    /// `transactions_dropped_shutdown`.
    pub(crate) fn submit(&self, tx: TransactionRecord) {
        // Children over the transaction's maximum were dropped by the layer (and counted in
        // `spans_dropped_limit`); Sentry's SDKs report them as `buffer_overflow` spans.
        if tx.dropped_spans > 0 {
            self.delivery.reports.record(
                DiscardReason::BufferOverflow,
                DataCategory::Span,
                u64::from(tx.dropped_spans),
            );
        }
        self.push(Work::Transaction(tx));
    }

    /// Records a local root the sampler decided against, for the client reports
    /// (`sample_rate`, as Sentry's SDKs report it): a `transaction`, or with the stream
    /// lifecycle (`stream`) a `span` (the segment; there are no transactions to count). One
    /// relaxed atomic add.
    pub(crate) fn record_sampled_out(&self, stream: bool) {
        self.record_unsent_root(DiscardReason::SampleRate, stream);
    }

    /// Counts one local root that was not sent, in the client reports: a `transaction`, or a
    /// `span` (the segment) with the stream lifecycle.
    fn record_unsent_root(&self, reason: DiscardReason, stream: bool) {
        let category = if stream {
            DataCategory::Span
        } else {
            DataCategory::Transaction
        };
        self.delivery.reports.record(reason, category, 1);
    }

    /// Records, for the client reports, an ignored root (a transaction of one span) or child.
    pub(crate) fn record_ignored(&self, root: bool) {
        if root {
            self.delivery
                .reports
                .record_transaction(DiscardReason::Ignored, 1);
        } else {
            self.delivery
                .reports
                .record(DiscardReason::Ignored, DataCategory::Span, 1);
        }
    }

    /// Buffers a finished span of the stream lifecycle; queues its trace's batch when it is
    /// due. Never blocks: a full buffer drops the span, counts `spans_dropped_buffer_full` and
    /// reports `buffer_overflow` (category `span`).
    pub(crate) fn submit_span(
        &self,
        trace_id: TraceId,
        dsc: &Arc<DynamicSamplingContext>,
        span: StreamedSpan,
    ) {
        let now = Instant::now();
        match self.spans.push(trace_id, dsc, span, now) {
            Pushed::Kept => {}
            Pushed::Due(batch) => self.push(Work::Spans(batch)),
            Pushed::Full(span) => {
                drop(span);
                StatsInner::incr(&self.stats.spans_dropped_buffer_full);
                self.delivery
                    .reports
                    .record(DiscardReason::BufferOverflow, DataCategory::Span, 1);
                self.delivery
                    .drops
                    .record(self.delivery.debug(), "span_buffer_full");
            }
        }
        self.submit_due_spans(now);
    }

    /// Buffers a log; queues the logs' batch when it is due. Never blocks: a batch that finds
    /// the queue full is dropped, counted (`logs_dropped_queue_full`) and reported.
    pub(crate) fn submit_log(&self, log: SentryLog) {
        let weight = log_weight(&log);
        if let Some(batch) = self.logs.push(log, weight, Instant::now()) {
            self.push(Work::Logs(batch));
        }
    }

    /// Buffers a metric; queues the metrics' batch when it is due (as [`submit_log`](Self::submit_log)).
    pub(crate) fn submit_metric(&self, metric: SentryMetric) {
        let weight = metric_weight(&metric);
        if let Some(batch) = self.metrics.push(metric, weight, Instant::now()) {
            self.push(Work::Metrics(batch));
        }
    }

    /// Queues the batch of a trace whose segment ended.
    pub(crate) fn end_segment(&self, trace_id: &TraceId) {
        if let Some(batch) = self.spans.take_trace(trace_id) {
            self.push(Work::Spans(batch));
        }
    }

    /// Queues the batches that waited [`FLUSH_AFTER`](span_buffer::FLUSH_AFTER).
    /// Logs and metrics waiting [`FLUSH_AFTER`](telemetry_buffer::FLUSH_AFTER) too.
    fn submit_due_spans(&self, now: Instant) {
        for batch in self.spans.take_due(now) {
            self.push(Work::Spans(batch));
        }
        if let Some(batch) = self.logs.take_due(now) {
            self.push(Work::Logs(batch));
        }
        if let Some(batch) = self.metrics.take_due(now) {
            self.push(Work::Metrics(batch));
        }
    }

    /// Queues an envelope of the `sentry` crate. Never blocks: a full queue sheds work of
    /// lower priorities for it, or drops it (counted in `sentry_items_dropped_queue_full` and
    /// reported as `queue_overflow` in its items' categories).
    #[cfg(feature = "sentry")]
    pub(crate) fn submit_external(&self, external: external::External) {
        self.push(Work::External(external));
    }

    /// Counts an envelope of the `sentry` crate lost because the application's transport
    /// panicked on it (caught by the link): `transport_panics`, a send failure, its items as
    /// `sentry_items_dropped_send_failed`, reported as `internal_sdk_error`.
    #[cfg(feature = "sentry")]
    pub(crate) fn record_external_panic(&self, quantities: &external::Quantities) {
        StatsInner::incr(&self.stats.transport_panics);
        StatsInner::incr(&self.stats.send_failures);
        self.delivery.account_items(Outcome::Panicked, quantities);
    }

    /// Queues `work`; a full queue sheds lower priorities for it or drops it (`queue_full`),
    /// a closed one drops it too (`shutdown`). What is shed is counted as dropped from a full
    /// queue.
    fn push(&self, work: Work) {
        let weight = work.weight();
        let report = matches!(work, Work::ClientReport);
        let priority = work.priority();
        match self.queue.push_with(work, weight, priority) {
            Ok(shed) => {
                if !report {
                    self.late.submitted();
                }
                if !shed.is_empty() {
                    self.congested.store(true, Ordering::Relaxed);
                    for work in &shed {
                        self.delivery.discard(work, Outcome::QueueFull);
                    }
                }
            }
            Err(PushError::Full(work)) => {
                self.congested.store(true, Ordering::Relaxed);
                self.delivery.discard(&work, Outcome::QueueFull);
            }
            Err(PushError::Closed(work)) => {
                if !report {
                    self.late.arrived(self.delivery.debug());
                }
                self.delivery.discard(&work, Outcome::Shutdown);
            }
        }
    }

    /// The backpressure downsampling factor: one relaxed atomic load.
    #[inline]
    pub(crate) fn downsample_factor(&self) -> u32 {
        self.monitor.factor()
    }

    /// Records a transaction not sampled because of backpressure handling.
    pub(crate) fn record_backpressure(&self, stream: bool) {
        StatsInner::incr(&self.stats.transactions_dropped_backpressure);
        self.record_unsent_root(DiscardReason::Backpressure, stream);
    }

    /// Runs backpressure handling's health check if it is due: unhealthy if the queue refused
    /// or shed work since the last check, or if a rate limit is in force.
    pub(crate) fn check_health(&self, now: Instant) {
        let checked = self.monitor.check_if_due(now, || {
            let congested = self.congested.swap(false, Ordering::Relaxed);
            !congested && !self.delivery.any_rate_limit()
        });
        if let Some(factor) = checked {
            self.stats
                .backpressure_downsample_factor
                .store(u64::from(factor), Ordering::Relaxed);
        }
    }

    /// Waits until everything queued before the call was handled, then sends the pending
    /// client reports, all before `deadline`. Returns whether both happened in time. Buffered
    /// streamed spans are queued first.
    pub(crate) fn flush_until(&self, deadline: Option<Instant>) -> bool {
        for batch in self.spans.take_all() {
            self.push(Work::Spans(batch));
        }
        if let Some(batch) = self.logs.take_all() {
            self.push(Work::Logs(batch));
        }
        if let Some(batch) = self.metrics.take_all() {
            self.push(Work::Metrics(batch));
        }
        if !self.queue.flush_until(deadline) {
            return false;
        }
        if self.delivery.reports.is_empty() {
            return true;
        }
        // A full queue leaves the reports for the next envelope; the flush still succeeded.
        let _ = self
            .queue
            .push_with(Work::ClientReport, 0, Priority::Lowest);
        self.queue.flush_until(deadline)
    }

    /// Closes the queue: what is still queued is dropped (counted as
    /// `transactions_dropped_shutdown` and reported), a last client report is queued, and the
    /// senders exit once they are done. Waits for them until `deadline`; returns whether they
    /// all exited.
    pub(crate) fn shut_down(&self, deadline: Option<Instant>) -> bool {
        if self.shut.swap(true, Ordering::AcqRel) {
            return self.queue.wait_consumers_exited(deadline);
        }
        let mut drained = self.queue.close(Some(Work::ClientReport));
        drained.extend(self.spans.take_all().into_iter().map(Work::Spans));
        drained.extend(self.logs.take_all().map(Work::Logs));
        drained.extend(self.metrics.take_all().map(Work::Metrics));
        for work in &drained {
            self.delivery.discard(work, Outcome::Shutdown);
        }
        drop(drained);
        let exited = self.queue.wait_consumers_exited(deadline);
        self.delivery.drops.summarise_now(self.delivery.debug());
        exited
    }
}

impl fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pipeline")
            .field("queue", &self.queue)
            .field("senders", &self.senders)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc;

    use std::sync::Mutex;
    use std::time::{Duration, Instant};

    use super::*;
    use crate::export::test_support::{assert_sentry_types_reads, fast_retries, sample_record};
    use crate::export::{
        start, start_with, EnvelopeBytes, EnvelopeTransport, ExportConfig, ExportGuard,
        ExportHandle, ExportOptions, InMemoryTransport, TransportError, TransportErrorKind,
        TransportResponse,
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

    impl EnvelopeTransport for Scripted {
        fn send(&self, envelope: &EnvelopeBytes) -> Result<TransportResponse, TransportError> {
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
        transport: Arc<dyn EnvelopeTransport>,
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
    fn streaming_segments_the_sampler_drops_are_reported_as_sample_rate_spans() {
        use tracing_subscriber::layer::SubscriberExt as _;
        let transport = InMemoryTransport::new();
        let (layer, guard) = crate::SentryLayer::builder()
            .transport(transport.clone())
            .traces_sample_rate(0.0)
            .trace_lifecycle(crate::TraceLifecycle::Stream)
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
        // Streaming sends no transactions: the unsampled segments are spans.
        assert_eq!(reported(&transport, "sample_rate", "span"), 3);
        assert_eq!(reported(&transport, "sample_rate", "transaction"), 0);
    }

    #[test]
    fn work_after_a_guard_dropped_at_once_is_counted_and_noticed() {
        let transport = InMemoryTransport::new();
        let mut p = pipeline(Arc::new(transport.clone()), |_, _| {});
        // `let (layer, _) = ...build()?`: the guard goes before any work.
        drop(p.guard.take());
        p.submit(2);
        let shared = p.handle.shared.as_ref().unwrap();
        assert!(shared.late.noticed(), "a notice is due");
        assert_eq!(p.stats().transactions_dropped_shutdown, 2);
        assert!(transport.transactions().is_empty());
    }

    #[test]
    fn work_after_a_guard_dropped_at_the_end_is_counted_without_a_notice() {
        let transport = InMemoryTransport::new();
        let mut p = pipeline(Arc::new(transport.clone()), |_, _| {});
        p.submit(1);
        assert!(p.flush());
        drop(p.guard.take());
        // A span that finished while the program was ending, `debug` off.
        p.submit(1);
        let shared = p.handle.shared.as_ref().unwrap();
        assert!(!shared.late.noticed());
        assert_eq!(p.stats().transactions_dropped_shutdown, 1);
        assert_eq!(p.stats().transactions_sent, 1);
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
        impl EnvelopeTransport for NoReports {
            fn send(&self, envelope: &EnvelopeBytes) -> Result<TransportResponse, TransportError> {
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
        // The limits on errors and sessions are recorded (the first answer set them, the
        // second extended them); transactions go on.
        assert_eq!(p.stats().rate_limit_responses, 2);
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

    /// An external envelope of one `event` item (or a log container of `logs` records).
    #[cfg(feature = "sentry")]
    struct FakeExternal(&'static str);

    #[cfg(feature = "sentry")]
    impl external::ExternalEnvelope for FakeExternal {
        fn write(
            self: Box<Self>,
            keep: &mut dyn FnMut(DataCategory) -> bool,
            out: &mut Vec<u8>,
        ) -> std::io::Result<external::Quantities> {
            let mut dropped = external::Quantities::default();
            let category = DataCategory::of_item_type(self.0).unwrap_or(DataCategory::Error);
            if keep(category) {
                out.extend_from_slice(b"{}\n{\"type\":\"");
                out.extend_from_slice(self.0.as_bytes());
                out.extend_from_slice(b"\"}\n{}\n");
            } else {
                dropped.add_item(category, 1);
            }
            Ok(dropped)
        }
    }

    #[cfg(feature = "sentry")]
    fn external(ty: &'static str) -> external::External {
        let mut quantities = external::Quantities::default();
        quantities.add_item(
            DataCategory::of_item_type(ty).unwrap_or(DataCategory::Error),
            1,
        );
        external::External {
            envelope: Box::new(FakeExternal(ty)),
            quantities,
            weight: 100,
            dsc: None,
        }
    }

    #[cfg(feature = "sentry")]
    #[test]
    fn errors_go_first_and_a_full_queue_sheds_logs_before_anything_else() {
        let script = Script::new([Answer::Block, Answer::Status(200)]);
        let p = pipeline(script.transport.clone(), |c, o| {
            c.queue_capacity = 4;
            o.max_in_flight = 1;
        });
        let shared = p.handle.shared.clone().unwrap();
        p.submit(1);
        script.wait_called(); // in flight; the queue is empty
        p.submit(2);
        shared.submit_external(external("log"));
        shared.submit_external(external("log"));
        // The queue is full: errors still get in (bounded by bytes alone) ...
        for _ in 0..5 {
            shared.submit_external(external("event"));
        }
        // ... a check-in and a transaction take the places of the logs ...
        shared.submit_external(external("check_in"));
        p.submit(1);
        // ... and then a transaction finds nothing of a lower priority to shed.
        p.submit(1);
        script.gate.send(()).unwrap();
        assert!(p.flush());
        let sent: Vec<String> = script
            .transport
            .seen
            .envelopes()
            .iter()
            .flat_map(|e| e.item_types().map(str::to_owned).collect::<Vec<_>>())
            .filter(|ty| ty != "client_report")
            .collect();
        let mut want = vec!["transaction"];
        want.extend(["event"; 5]);
        want.extend(["check_in", "transaction", "transaction", "transaction"]);
        assert_eq!(
            sent, want,
            "errors first, then check-ins, then transactions"
        );
        let stats = p.stats();
        assert_eq!(stats.sentry_items_sent, 6);
        assert_eq!(stats.sentry_items_dropped_queue_full, 2, "the two logs");
        assert_eq!(stats.transactions_dropped_queue_full, 1);
        assert_eq!(script.reported("queue_overflow", "log_item"), 2);
        assert_eq!(script.reported("queue_overflow", "error"), 0);
        assert_eq!(script.reported("queue_overflow", "transaction"), 1);
    }

    #[cfg(feature = "sentry")]
    #[test]
    fn a_rate_limit_on_one_category_drops_only_its_items() {
        let script = Script::new([
            Answer::StatusWith(200, None, Some("60:log_item:key")),
            Answer::Status(200),
        ]);
        let p = pipeline(script.transport.clone(), |_, _| {});
        let shared = p.handle.shared.clone().unwrap();
        shared.submit_external(external("event"));
        assert!(p.flush());
        shared.submit_external(external("log"));
        shared.submit_external(external("event"));
        p.submit(1);
        assert!(p.flush());
        let stats = p.stats();
        assert_eq!(stats.sentry_items_sent, 2);
        assert_eq!(stats.sentry_items_dropped_rate_limited, 1);
        assert_eq!(stats.transactions_sent, 1);
        assert_eq!(script.reported("ratelimit_backoff", "log_item"), 1);
    }

    #[test]
    fn backpressure_halves_while_limited_or_congested_and_restores_when_healthy() {
        let script = Script::new([Answer::StatusWith(200, None, Some("60:error:key"))]);
        let p = pipeline(script.transport.clone(), |c, o| {
            c.queue_capacity = 1;
            o.health_check_interval = Some(Duration::from_secs(10));
        });
        let shared = p.handle.shared.clone().unwrap();
        let start = Instant::now();
        let at = |s: u64| start + Duration::from_secs(s);
        assert_eq!(p.handle.downsample_factor(), 0);
        p.submit(1);
        assert!(p.flush());
        // A limit (on errors) is in force: unhealthy.
        shared.check_health(at(11));
        assert_eq!(p.handle.downsample_factor(), 1);
        shared.check_health(at(22));
        assert_eq!(p.handle.downsample_factor(), 2);
        assert_eq!(p.stats().backpressure_downsample_factor, 2);
        // What was not sampled because of it is counted and reported as `backpressure`.
        p.handle.record_backpressure(false);
        p.handle.record_backpressure(true);
        assert!(p.flush());
        assert_eq!(p.stats().transactions_dropped_backpressure, 2);
        assert_eq!(script.reported("backpressure", "transaction"), 1);
        assert_eq!(script.reported("backpressure", "span"), 1);

        // Without a limit, a full queue alone is unhealthy; then a healthy check restores.
        let script = Script::new([Answer::Block, Answer::Status(200)]);
        let p = pipeline(script.transport.clone(), |c, o| {
            c.queue_capacity = 1;
            o.health_check_interval = Some(Duration::from_secs(10));
        });
        let shared = p.handle.shared.clone().unwrap();
        p.submit(1);
        script.wait_called();
        p.submit(2); // one queued, one refused
        shared.check_health(at(11));
        assert_eq!(p.handle.downsample_factor(), 1);
        script.gate.send(()).unwrap();
        assert!(p.flush());
        shared.check_health(at(22));
        assert_eq!(p.handle.downsample_factor(), 0, "healthy again");
    }

    #[test]
    fn backpressure_handling_turned_off_never_lowers_the_rate() {
        let script = Script::new([Answer::StatusWith(429, Some("60"), None)]);
        let p = pipeline(script.transport.clone(), |_, o| {
            o.health_check_interval = None
        });
        p.submit(1);
        assert!(p.flush());
        let shared = p.handle.shared.clone().unwrap();
        shared.check_health(Instant::now() + Duration::from_secs(3600));
        assert_eq!(p.handle.downsample_factor(), 0);
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
        record.root.details_mut().description = Some("x".repeat(2 * 1024 * 1024));
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

    fn sample_log(body: &str) -> crate::export::record::SentryLog {
        crate::export::record::SentryLog {
            level: tracing_core::Level::INFO,
            body: body.to_owned(),
            attributes: vec![("n".into(), crate::field::FieldValue::I64(1))],
            trace_id: crate::id::TraceId::random(),
            span_id: None,
            timestamp: std::time::SystemTime::now(),
            metadata: None,
        }
    }

    fn sample_metric(name: &'static str) -> crate::export::record::SentryMetric {
        crate::export::record::SentryMetric {
            name: name.into(),
            kind: crate::export::record::MetricType::Counter,
            value: 1.0,
            unit: None,
            attributes: Vec::new(),
            trace_id: crate::id::TraceId::random(),
            span_id: None,
            timestamp: std::time::SystemTime::now(),
        }
    }

    #[test]
    fn logs_and_metrics_go_in_batches_and_are_counted() {
        let transport = InMemoryTransport::new();
        let p = pipeline(Arc::new(transport.clone()), |_, _| {});
        for i in 0..150 {
            p.handle.submit_log(sample_log(&format!("log {i}")));
        }
        // 100 logs made a batch at once; the other 50 wait for the flush.
        p.handle.submit_metric(sample_metric("jobs"));
        assert!(p.flush());
        let mut logs: Vec<usize> = transport
            .envelopes()
            .iter()
            .map(|e| e.logs().len())
            .filter(|&n| n > 0)
            .collect();
        // Two senders may deliver them in either order.
        logs.sort_unstable();
        assert_eq!(logs, [50, 100]);
        let metrics: usize = transport
            .envelopes()
            .iter()
            .map(|e| e.metrics().len())
            .sum();
        assert_eq!(metrics, 1);
        assert_eq!(p.stats().logs_sent, 150);
        assert_eq!(p.stats().metrics_sent, 1);
    }

    #[test]
    fn rate_limits_on_log_categories_stop_logs_only() {
        for limit in ["60:log_item:organization", "60:log_byte:organization"] {
            let script = Script::new([Answer::StatusWith(200, None, Some(limit))]);
            let p = pipeline(script.transport.clone(), |_, _| {});
            p.submit(1); // the answer sets the limit
            assert!(p.flush());
            p.handle.submit_log(sample_log("limited"));
            p.handle.submit_metric(sample_metric("jobs"));
            p.submit(1);
            assert!(p.flush(), "{limit}");
            let stats = p.stats();
            assert_eq!(stats.logs_dropped_rate_limited, 1, "{limit}");
            assert_eq!(stats.metrics_sent, 1, "{limit}");
            assert_eq!(stats.transactions_sent, 2, "{limit}");
        }
        let script = Script::new([Answer::StatusWith(
            200,
            None,
            Some("60:trace_metric:organization"),
        )]);
        let p = pipeline(script.transport.clone(), |_, _| {});
        p.submit(1);
        assert!(p.flush());
        p.handle.submit_log(sample_log("goes"));
        p.handle.submit_metric(sample_metric("limited"));
        assert!(p.flush());
        assert_eq!(p.stats().metrics_dropped_rate_limited, 1);
        assert_eq!(p.stats().logs_sent, 1);
    }

    #[test]
    fn lost_logs_are_reported_by_number_and_size() {
        let script = Script::new([Answer::Status(500), Answer::Status(200)]);
        let p = pipeline(script.transport.clone(), |_, _| {});
        // Relay's size: the body (5 bytes) and the attribute's key (1) and value (8).
        p.handle.submit_log(sample_log("lost!"));
        p.handle.submit_log(sample_log("lost!"));
        // The logs' envelope alone meets the failure (whichever sender takes it).
        assert!(p.flush());
        std::thread::sleep(Duration::from_millis(20));
        // Then a metric and a transaction, which the ingest accepts, with the client report.
        p.handle.submit_metric(sample_metric("jobs"));
        p.submit(1);
        assert!(p.flush());
        assert_eq!(p.stats().logs_dropped_send_failed, 2);
        assert_eq!(script.reported("send_error", "log_item"), 2);
        assert_eq!(script.reported("send_error", "log_byte"), 2 * (5 + 1 + 8));
    }

    #[test]
    fn logs_waiting_at_shutdown_are_sent_then() {
        let transport = InMemoryTransport::new();
        let mut p = pipeline(Arc::new(transport.clone()), |_, _| {});
        p.handle.submit_log(sample_log("last words"));
        drop(p.guard.take());
        let logs: usize = transport.envelopes().iter().map(|e| e.logs().len()).sum();
        assert_eq!(logs, 1);
        assert_eq!(p.stats().logs_sent, 1);
    }

    /// A transport that answers after `delay`, counting the most calls at once.
    struct Slow {
        delay: Duration,
        now: AtomicUsize,
        peak: AtomicUsize,
        seen: InMemoryTransport,
    }

    impl EnvelopeTransport for Slow {
        fn send(&self, envelope: &EnvelopeBytes) -> Result<TransportResponse, TransportError> {
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
    fn a_burst_on_a_fast_transport_keeps_one_sender() {
        // Writing envelopes keeps up with a burst that fits in half the queue: a thread more
        // would cost its start, its cold caches and its exit, and gain nothing.
        let transport = InMemoryTransport::new();
        let p = pipeline(Arc::new(transport.clone()), |c, o| {
            c.queue_capacity = 1000;
            o.max_in_flight = 8;
        });
        p.submit(300);
        assert!(p.flush());
        assert_eq!(transport.len(), 300);
        let senders = p.handle.shared.as_ref().unwrap().queue.load().3;
        // One, or two if a send was preempted for a millisecond on a busy machine.
        assert!(senders <= 2, "{senders} senders");
    }

    #[test]
    fn two_sends_of_a_millisecond_or_more_in_a_row_mark_the_transport_slow() {
        let slow = Arc::new(Slow {
            delay: Duration::from_millis(20),
            now: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            seen: InMemoryTransport::new(),
        });
        let p = pipeline(slow, |_, _| {});
        let delivery = &p.handle.shared.as_ref().unwrap().delivery;
        assert!(!delivery.sending_is_slow(), "nothing sent yet");
        p.submit(1);
        assert!(p.flush());
        assert!(
            !delivery.sending_is_slow(),
            "one slow send may be a descheduled thread"
        );
        p.submit(1);
        assert!(p.flush());
        assert!(delivery.sending_is_slow());
        let now = Instant::now();
        delivery.note_send(now, now + Duration::from_micros(100));
        assert!(!delivery.sending_is_slow(), "a fast send ends the streak");
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
}
