//! The bounded queue between the instrumented program and the export worker, and the worker.
//!
//! One `Mutex<State>` holds the queue and two sequence counters; two condition variables wake the
//! worker (`work`) and whoever waits for progress (`progress`: flushes and shutdown). The lock is
//! only held to push, pop or count, never while serialising or calling the transport, so a
//! submitter waits at most for another short critical section.
//!
//! `flush` is exact: it notes how many transactions were accepted so far and waits until the
//! worker has handled (sent or dropped) that many, which works because there is one worker and
//! it handles transactions in order.

use std::collections::VecDeque;
use std::fmt;
use std::io::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime};

use super::envelope::Envelope;
use super::ratelimit::RateLimiter;
use super::record::TransactionRecord;
use super::transaction::EventMeta;
use super::Transport;
use crate::stats::StatsInner;

/// The worker thread's name.
pub(crate) const WORKER_THREAD_NAME: &str = "tracing-sentry-export";

/// How failed attempts are retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RetryPolicy {
    /// Retries after the first attempt (so `max_retries + 1` attempts at most).
    pub(crate) max_retries: u32,
    /// The delay before the first retry; it doubles for each further retry.
    pub(crate) backoff: Duration,
}

/// Everything the worker needs, moved onto its thread.
pub(crate) struct WorkerConfig {
    pub(crate) transport: Arc<dyn Transport>,
    pub(crate) meta: EventMeta,
    /// The DSN as written in the envelope header (without secret).
    pub(crate) dsn: Option<String>,
    pub(crate) retry: RetryPolicy,
    pub(crate) debug: bool,
}

/// State shared by submitters, the worker and the guard.
pub(crate) struct Shared {
    state: Mutex<State>,
    /// Wakes the worker: an item was queued, or shutdown was requested.
    work: Condvar,
    /// Wakes flushes and shutdown: an item was handled, or the worker exited.
    progress: Condvar,
    stats: Arc<StatsInner>,
}

struct State {
    queue: VecDeque<TransactionRecord>,
    capacity: usize,
    /// Transactions accepted into the queue, ever.
    accepted: u64,
    /// Transactions handled (sent or dropped, including drained at shutdown), ever.
    handled: u64,
    shutdown: bool,
    exited: bool,
    /// The worker waits without a deadline and needs a notification to see new items. While it
    /// lingers on a short timed wait after a batch, submitters do not notify (a futex wake is a
    /// system call on the instrumented thread).
    worker_parked: bool,
}

/// How long the worker keeps polling after its queue ran empty before it parks. Under load,
/// transactions then reach it without any wake-up; an idle worker parks after one linger.
const LINGER: Duration = Duration::from_millis(2);

impl Shared {
    fn new(capacity: usize, stats: Arc<StatsInner>) -> Self {
        Self {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                capacity: capacity.max(1),
                accepted: 0,
                handled: 0,
                shutdown: false,
                exited: false,
                worker_parked: false,
            }),
            work: Condvar::new(),
            progress: Condvar::new(),
            stats,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock; if something did, the counters are still
        // consistent, so carry on.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `tx` without blocking; a full queue (or a shut-down worker) drops and counts it.
    pub(crate) fn submit(&self, tx: TransactionRecord) {
        let mut state = self.lock();
        if state.shutdown {
            drop(state);
            StatsInner::incr(&self.stats.transactions_dropped_shutdown);
            return;
        }
        if state.queue.len() >= state.capacity {
            drop(state);
            StatsInner::incr(&self.stats.transactions_dropped_queue_full);
            return;
        }
        state.queue.push_back(tx);
        state.accepted += 1;
        let wake = state.worker_parked;
        drop(state);
        if wake {
            self.work.notify_one();
        }
    }

    /// Waits until everything accepted before the call was handled, or until `deadline`.
    pub(crate) fn flush_until(&self, deadline: Option<Instant>) -> bool {
        let mut state = self.lock();
        let target = state.accepted;
        while state.handled < target {
            if state.exited {
                return false;
            }
            state = match wait(&self.progress, state, deadline) {
                Some(state) => state,
                None => return false,
            };
        }
        true
    }

    /// Stops accepting, drops and counts what is still queued, wakes the worker, and waits until
    /// `deadline` for it to exit. Returns whether it exited.
    pub(crate) fn shut_down(&self, deadline: Option<Instant>) -> bool {
        let mut state = self.lock();
        state.shutdown = true;
        let left = state.queue.len();
        state.queue.clear();
        state.handled += left as u64;
        self.work.notify_all();
        self.progress.notify_all();
        StatsInner::add(&self.stats.transactions_dropped_shutdown, left as u64);
        while !state.exited {
            state = match wait(&self.progress, state, deadline) {
                Some(state) => state,
                None => return false,
            };
        }
        true
    }

    fn is_shut_down(&self) -> bool {
        self.lock().shutdown
    }

    /// Sleeps for `delay` unless shutdown is requested first; returns `false` on shutdown.
    fn sleep_unless_shut_down(&self, delay: Duration) -> bool {
        let deadline = Instant::now().checked_add(delay);
        let mut state = self.lock();
        while !state.shutdown {
            state = match wait(&self.work, state, deadline) {
                Some(state) => state,
                None => return true,
            };
        }
        false
    }

    /// Blocks until there is an item or shutdown; `None` means shut down and drained.
    fn next(&self) -> Option<TransactionRecord> {
        let mut state = self.lock();
        let mut lingered = false;
        loop {
            if let Some(tx) = state.queue.pop_front() {
                return Some(tx);
            }
            if state.shutdown {
                return None;
            }
            if lingered {
                state.worker_parked = true;
                state = self
                    .work
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                state.worker_parked = false;
            } else {
                state = match wait(&self.work, state, Instant::now().checked_add(LINGER)) {
                    Some(state) => state,
                    None => self.lock(),
                };
                lingered = true;
            }
        }
    }

    fn mark_handled(&self) {
        let mut state = self.lock();
        state.handled += 1;
        drop(state);
        self.progress.notify_all();
    }

    fn mark_exited(&self) {
        let mut state = self.lock();
        state.exited = true;
        drop(state);
        self.progress.notify_all();
    }
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("Queue")
            .field("len", &state.queue.len())
            .field("capacity", &state.capacity)
            .field("shutdown", &state.shutdown)
            .finish()
    }
}

/// Waits on `condvar` until notified or `deadline` (`None` = no deadline); returns `None` once
/// the deadline has passed.
fn wait<'a>(
    condvar: &Condvar,
    guard: MutexGuard<'a, State>,
    deadline: Option<Instant>,
) -> Option<MutexGuard<'a, State>> {
    match deadline {
        None => Some(condvar.wait(guard).unwrap_or_else(PoisonError::into_inner)),
        Some(deadline) => {
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            let (guard, _) = condvar
                .wait_timeout(guard, deadline - now)
                .unwrap_or_else(PoisonError::into_inner);
            Some(guard)
        }
    }
}

/// Starts the worker thread behind a queue of `capacity` transactions.
pub(crate) fn spawn(
    config: WorkerConfig,
    capacity: usize,
    stats: Arc<StatsInner>,
) -> std::io::Result<(Arc<Shared>, JoinHandle<()>)> {
    let shared = Arc::new(Shared::new(capacity, stats));
    let worker = Worker {
        shared: Arc::clone(&shared),
        config,
        limiter: RateLimiter::default(),
        payload: Vec::new(),
    };
    let handle = thread::Builder::new()
        .name(WORKER_THREAD_NAME.to_owned())
        .spawn(move || worker.run())?;
    Ok((shared, handle))
}

struct Worker {
    shared: Arc<Shared>,
    config: WorkerConfig,
    limiter: RateLimiter,
    /// Reused serialisation buffer for transaction payloads.
    payload: Vec<u8>,
}

/// What happened to one transaction; each outcome maps to exactly one counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Sent,
    RateLimited,
    Rejected(u16),
    SendFailed,
    /// The transport panicked (counted as a failed send, not retried).
    Panicked,
    TooLarge(usize),
}

impl Worker {
    fn run(mut self) {
        while let Some(tx) = self.shared.next() {
            // `handle` does not panic, but if a bug made it, the worker must survive: count the
            // transaction as failed and go on with the next one.
            let outcome =
                catch_unwind(AssertUnwindSafe(|| self.handle(tx))).unwrap_or(Outcome::SendFailed);
            self.count(outcome);
            self.shared.mark_handled();
        }
        // Drop the transport before reporting the exit, so that the guard's `join` never waits
        // for a transport's `Drop`.
        let Worker { shared, config, .. } = self;
        drop(config);
        shared.mark_exited();
    }

    fn handle(&mut self, tx: TransactionRecord) -> Outcome {
        if self.limiter.transaction_limit(Instant::now()).is_some() {
            return Outcome::RateLimited;
        }
        let envelope = Envelope::from_transaction(
            &tx,
            &self.config.meta,
            self.config.dsn.as_deref(),
            &mut self.payload,
        );
        drop(tx);
        // Keep the buffer from pinning a huge allocation after an outsized transaction.
        if self.payload.capacity() > 4 * super::envelope::MAX_ITEM_BYTES {
            self.payload = Vec::new();
        }
        let mut envelope = match envelope {
            Ok(envelope) => envelope,
            Err(too_large) => return Outcome::TooLarge(too_large.payload_len),
        };
        envelope.stamp_sent_at(SystemTime::now());
        self.deliver(&envelope)
    }

    /// Sends with retries; rate limits, shutdown and the retry budget end the attempts.
    fn deliver(&mut self, envelope: &Envelope) -> Outcome {
        let mut retries = 0;
        let mut backoff = self.config.retry.backoff;
        loop {
            let transport = &self.config.transport;
            let result = catch_unwind(AssertUnwindSafe(|| transport.send(envelope)));
            match result {
                Err(_panic) => {
                    // A panicking transport is a bug, not a transient failure: do not retry.
                    StatsInner::incr(&self.shared.stats.send_failures);
                    return Outcome::Panicked;
                }
                Ok(Err(error)) => {
                    StatsInner::incr(&self.shared.stats.send_failures);
                    self.debug(format_args!("send attempt failed: {error}"));
                }
                Ok(Ok(response)) => {
                    if self
                        .limiter
                        .update(&response, Instant::now(), SystemTime::now())
                    {
                        StatsInner::incr(&self.shared.stats.rate_limit_responses);
                    }
                    match response.status() {
                        200..=299 => return Outcome::Sent,
                        429 => return Outcome::RateLimited,
                        500..=599 => {
                            StatsInner::incr(&self.shared.stats.send_failures);
                            self.debug(format_args!(
                                "send attempt failed: HTTP {}",
                                response.status()
                            ));
                        }
                        status => return Outcome::Rejected(status),
                    }
                }
            }
            if retries >= self.config.retry.max_retries || self.shared.is_shut_down() {
                return Outcome::SendFailed;
            }
            if self.limiter.transaction_limit(Instant::now()).is_some() {
                return Outcome::RateLimited;
            }
            if !self.shared.sleep_unless_shut_down(backoff) {
                return Outcome::SendFailed;
            }
            retries += 1;
            backoff = backoff.saturating_mul(2);
        }
    }

    fn count(&self, outcome: Outcome) {
        let stats = &self.shared.stats;
        let counter: &AtomicU64 = match outcome {
            Outcome::Sent => &stats.transactions_sent,
            Outcome::RateLimited => {
                self.debug(format_args!("rate limited; transaction dropped"));
                &stats.transactions_dropped_rate_limited
            }
            Outcome::Rejected(status) => {
                self.debug(format_args!(
                    "Sentry rejected the transaction (HTTP {status}); dropped"
                ));
                &stats.transactions_dropped_rejected
            }
            Outcome::SendFailed => {
                self.debug(format_args!(
                    "giving up on the transaction after failed attempts"
                ));
                &stats.transactions_dropped_send_failed
            }
            Outcome::Panicked => {
                self.debug(format_args!("the transport panicked; transaction dropped"));
                &stats.transactions_dropped_send_failed
            }
            Outcome::TooLarge(len) => {
                self.debug(format_args!(
                    "transaction payload of {len} bytes exceeds the 1 MiB item limit; dropped"
                ));
                &stats.transactions_dropped_too_large
            }
        };
        StatsInner::incr(counter);
    }

    /// One line on stderr in debug mode. Written with `write!` (not `eprintln!`, which panics
    /// when stderr is closed).
    fn debug(&self, message: fmt::Arguments<'_>) {
        if self.config.debug {
            let _ = writeln!(std::io::stderr().lock(), "[tracing-sentry] {message}");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc;

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

        fn wait_called(&self) {
            self.called
                .recv_timeout(Duration::from_secs(5))
                .expect("transport called");
        }
    }

    impl Transport for Scripted {
        fn send(&self, envelope: &Envelope) -> Result<TransportResponse, TransportError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
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
        assert_eq!(script.calls(), 1, "no send while rate limited");
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
        assert_eq!(script.calls(), 1);
        let stats = p.stats();
        assert_eq!(stats.transactions_sent, 1);
        assert_eq!(stats.transactions_dropped_rate_limited, 1);
        assert_eq!(stats.rate_limit_responses, 1);
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
    fn server_errors_are_retried_then_dropped() {
        let script = Script::new([Answer::Status(500)]);
        let p = pipeline(script.transport.clone(), |_, o| o.max_retries = 2);
        p.submit(1);
        assert!(p.flush());
        assert_eq!(script.calls(), 3, "one attempt and two retries");
        let stats = p.stats();
        assert_eq!(stats.send_failures, 3);
        assert_eq!(stats.transactions_dropped_send_failed, 1);
        assert_eq!(stats.transactions_sent, 0);
        // Every attempt carries the same envelope, stamped once.
        let envelopes = script.transport.seen.envelopes();
        assert!(envelopes.windows(2).all(|w| w[0] == w[1]));
    }

    #[test]
    fn a_retry_that_succeeds_counts_as_sent() {
        let script = Script::new([
            Answer::Status(503),
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
    fn a_5xx_with_a_rate_limit_stops_retrying() {
        let script = Script::new([Answer::StatusWith(503, None, Some("30::organization"))]);
        let p = pipeline(script.transport.clone(), |_, _| {});
        p.submit(1);
        assert!(p.flush());
        assert_eq!(script.calls(), 1);
        assert_eq!(p.stats().transactions_dropped_rate_limited, 1);
    }

    #[test]
    fn other_client_errors_are_rejected_without_retry() {
        for status in [400, 401, 403, 413, 302] {
            let script = Script::new([Answer::Status(status)]);
            let p = pipeline(script.transport.clone(), |_, _| {});
            p.submit(1);
            assert!(p.flush());
            assert_eq!(script.calls(), 1, "HTTP {status}");
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
        assert_eq!(script.calls(), 2, "a panic is not retried");
        assert_eq!(stats.send_failures, 1);
        assert_eq!(stats.transactions_dropped_send_failed, 1);
        assert_eq!(stats.transactions_sent, 1);
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
        let script = Script::new([Answer::Status(500)]);
        let mut p = pipeline(script.transport.clone(), |c, o| {
            o.retry_backoff = Duration::from_secs(30);
            c.shutdown_timeout = Duration::from_millis(300);
        });
        p.submit(1);
        script.wait_called();
        let started = Instant::now();
        drop(p.guard.take());
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(script.calls(), 1);
        let stats = p.stats();
        assert_eq!(stats.transactions_dropped_send_failed, 1);
        assert_eq!(stats.send_failures, 1);
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
        assert_eq!(script.calls(), 1);
        assert_eq!(p.stats().transactions_dropped_too_large, 1);
        assert_eq!(p.stats().transactions_sent, 1);
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
}
