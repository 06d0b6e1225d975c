//! Export: finished transactions become Sentry envelopes, delivered by a worker thread behind a
//! bounded queue, so the instrumented program never waits on the network.
//!
//! # How export works
//!
//! 1. When a sampled local root span closes, the layer hands the finished span tree (the root
//!    and its finished descendants) to the exporter. That is one push onto a **bounded queue**
//!    under a short lock; no JSON is written and no I/O happens on the program's thread.
//! 2. One worker thread, `tracing-sentry-export`, takes transactions off the queue in order and
//!    turns each into an [`Envelope`]: a header with `event_id`, `sent_at`, `sdk`, the DSN (if
//!    configured, without secret) and the frozen dynamic sampling context as `trace`, then one
//!    `transaction` item (spec 7.1–7.3). Child spans go into the flat `spans` list; the root
//!    goes into `contexts.trace`.
//! 3. The worker calls the [`Transport`], by default an `HttpTransport` (feature `ureq`) for
//!    the configured [`Dsn`]. The transport makes one attempt and reports the response; the
//!    worker owns what follows, the same way for every transport:
//!    - `2xx`: delivered;
//!    - `429`, `Retry-After` or `X-Sentry-Rate-Limits`: a rate limit starts, and until it
//!      expires transactions are dropped without being serialised or sent;
//!    - `5xx`, a network error or a timeout: retried twice with a short backoff
//!      (200 ms, then 400 ms), then dropped; a panicking transport is caught and not retried;
//!    - any other status: rejected and dropped.
//!
//! # Overload and loss
//!
//! Nothing blocks the program and nothing is lost silently: every transaction that is not
//! delivered increments one counter of [`Stats`], named by why it was lost:
//! `transactions_dropped_queue_full` (the queue was full when the root closed),
//! `transactions_dropped_rate_limited`, `transactions_dropped_send_failed`,
//! `transactions_dropped_rejected`, `transactions_dropped_too_large` (the transaction item
//! exceeded Sentry's 1 MiB limit) and `transactions_dropped_shutdown`. Failed attempts are
//! counted in `send_failures`, rate-limiting answers in `rate_limit_responses`.
//!
//! With neither a DSN nor a transport configured, no worker is started and finished
//! transactions are dropped at once, without being counted: there is nowhere to send them.
//!
//! # The guard
//!
//! Building the layer returns an [`ExportGuard`]. [`ExportGuard::flush`] waits until
//! everything queued so far was handled. Dropping the guard flushes for at most the configured
//! shutdown timeout, drops (and counts) what is still queued, and stops the worker. If the
//! transport is stuck in a request, the guard stops waiting at the timeout and leaves the worker
//! thread to finish on its own. Keep the guard alive for as long as spans are recorded, usually
//! in `main`; `let _ = ...` drops it at once.
//!
//! # Examples
//!
//! Reading envelopes from an [`InMemoryTransport`]:
//!
//! ```
//! use tracing_sentry::export::{Envelope, InMemoryTransport, Transport};
//!
//! let transport = InMemoryTransport::new();
//! // ... give `transport.clone()` to the layer builder, record spans, flush the guard ...
//! # transport.send(&Envelope::from_bytes(
//! #     b"{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\"}\n{\"type\":\"transaction\"}\n{\"transaction\":\"checkout\"}\n",
//! # )?).unwrap();
//! for envelope in transport.envelopes() {
//!     let tx = envelope.transaction().expect("a transaction item");
//!     println!("{} {}", tx["transaction"], envelope.event_id().unwrap_or("-"));
//! }
//! # Ok::<(), tracing_sentry::export::ParseEnvelopeError>(())
//! ```

mod dsn;
mod envelope;
#[cfg(feature = "ureq")]
mod http;
mod json;
mod queue;
mod ratelimit;
pub(crate) mod record;
mod transaction;
mod transport;

#[cfg(test)]
mod test_support;

use std::fmt;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub use dsn::{Dsn, DsnErrorKind, ParseDsnError};
pub use envelope::{Envelope, EnvelopeErrorKind, ParseEnvelopeError};
#[cfg(feature = "ureq")]
#[cfg_attr(docsrs, doc(cfg(feature = "ureq")))]
pub use http::{HttpTransport, HttpTransportBuilder};
pub use transport::{
    InMemoryTransport, NoopTransport, Transport, TransportError, TransportErrorKind,
    TransportResponse,
};

use crate::stats::{Stats, StatsInner};
use queue::{RetryPolicy, Shared, WorkerConfig};
use transaction::EventMeta;

/// The most of the shutdown timeout kept for the worker to exit after the flush.
const SHUTDOWN_EXIT_RESERVE: Duration = Duration::from_millis(100);
/// Retries after a failed attempt (network error, timeout, 5xx).
pub(crate) const DEFAULT_MAX_RETRIES: u32 = 2;
/// The delay before the first retry; it doubles for each further retry.
pub(crate) const DEFAULT_RETRY_BACKOFF: Duration = Duration::from_millis(200);

/// What the builder hands to [`start`].
pub(crate) struct ExportConfig {
    pub(crate) dsn: Option<Dsn>,
    /// Wins over the DSN's HTTP transport; the DSN still goes into the envelope header.
    pub(crate) transport: Option<Arc<dyn Transport>>,
    pub(crate) release: Option<String>,
    pub(crate) environment: String,
    /// At least 1 (0 is treated as 1).
    pub(crate) queue_capacity: usize,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) stats: Arc<StatsInner>,
    /// One line on stderr for each failure and each dropped transaction.
    pub(crate) debug: bool,
}

/// Less common settings, for [`start_with`]; `Default` gives the documented defaults.
#[derive(Clone, Debug)]
pub(crate) struct ExportOptions {
    /// The event's `server_name` (e.g. the host name), if any.
    pub(crate) server_name: Option<String>,
    /// Retries after a failed attempt.
    pub(crate) max_retries: u32,
    /// The delay before the first retry; doubled for each further one. Cut short at shutdown.
    pub(crate) retry_backoff: Duration,
}

impl Default for ExportOptions {
    fn default() -> Self {
        Self {
            server_name: None,
            max_retries: DEFAULT_MAX_RETRIES,
            retry_backoff: DEFAULT_RETRY_BACKOFF,
        }
    }
}

/// The layer's non-blocking handle to the worker.
#[derive(Clone, Debug)]
pub(crate) struct ExportHandle {
    /// `None` when there is nowhere to send transactions.
    shared: Option<Arc<Shared>>,
}

impl ExportHandle {
    /// Queues a finished transaction. Never blocks: a full queue drops it and counts
    /// `transactions_dropped_queue_full`; after shutdown, `transactions_dropped_shutdown`.
    pub(crate) fn submit(&self, tx: record::TransactionRecord) {
        if let Some(shared) = &self.shared {
            shared.submit(tx);
        }
    }

    /// Returns whether submitted transactions go anywhere. When `false`, the layer can skip
    /// building transaction records altogether.
    #[allow(dead_code)] // for the layer
    pub(crate) fn is_enabled(&self) -> bool {
        self.shared.is_some()
    }
}

/// Keeps the export worker running; flushes and stops it when dropped.
///
/// Returned with the layer by the builder. While it lives, finished transactions are delivered
/// in the background. Dropping it waits at most the configured shutdown timeout for queued
/// transactions to be delivered, drops and counts what is left
/// (`transactions_dropped_shutdown`), and stops the worker. It never waits longer, even if the
/// transport hangs.
///
/// Bind it to a named variable in `main` (`let _guard = ...`): `let _ = ...` drops it
/// immediately, which ends export before the program has done anything.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// fn before_exit(guard: tracing_sentry::ExportGuard) {
///     if !guard.flush(Duration::from_secs(2)) {
///         eprintln!("some transactions were still in flight");
///     }
///     let stats = guard.stats();
///     eprintln!("sent {} transactions", stats.transactions_sent);
///     drop(guard); // stops the worker
/// }
/// # let _ = before_exit;
/// ```
#[must_use = "dropping the guard shuts down export; keep it alive for as long as spans are recorded"]
pub struct ExportGuard {
    shared: Option<Arc<Shared>>,
    worker: Option<JoinHandle<()>>,
    stats: Arc<StatsInner>,
    shutdown_timeout: Duration,
    /// Flushed after the queue by [`ExportGuard::flush`] (the `sentry` client whose transport
    /// sends our envelopes), with the time left.
    pub(crate) then_flush: Option<Arc<dyn Fn(Duration) -> bool + Send + Sync>>,
}

impl ExportGuard {
    /// Waits until every transaction queued before this call was handled (delivered or
    /// dropped and counted), for at most `timeout`. Returns `true` if it was, `false` on
    /// timeout.
    ///
    /// Without a DSN or transport, there is nothing to wait for and it returns `true`.
    ///
    /// # Examples
    ///
    /// ```
    /// fn on_request_end(guard: &tracing_sentry::ExportGuard) -> bool {
    ///     guard.flush(std::time::Duration::from_secs(5))
    /// }
    /// # let _ = on_request_end;
    /// ```
    pub fn flush(&self, timeout: Duration) -> bool {
        let start = Instant::now();
        let ours = match &self.shared {
            Some(shared) => shared.flush_until(start.checked_add(timeout)),
            None => true,
        };
        match &self.then_flush {
            Some(then) => then(timeout.saturating_sub(start.elapsed())) && ours,
            None => ours,
        }
    }

    /// Returns a snapshot of the counters.
    ///
    /// # Examples
    ///
    /// ```
    /// fn lost(guard: &tracing_sentry::ExportGuard) -> u64 {
    ///     let stats = guard.stats();
    ///     stats.transactions_dropped_queue_full + stats.transactions_dropped_send_failed
    /// }
    /// # let _ = lost;
    /// ```
    pub fn stats(&self) -> Stats {
        self.stats.snapshot()
    }
}

impl Drop for ExportGuard {
    fn drop(&mut self) {
        let Some(shared) = self.shared.take() else {
            return;
        };
        // Flush for most of the budget, and keep a tenth (at most 100 ms) for the worker to
        // notice the shutdown and exit, e.g. when it is waiting to retry.
        let now = Instant::now();
        let reserve = (self.shutdown_timeout / 10).min(SHUTDOWN_EXIT_RESERVE);
        let deadline = now.checked_add(self.shutdown_timeout);
        shared.flush_until(now.checked_add(self.shutdown_timeout - reserve));
        let exited = shared.shut_down(deadline);
        if let Some(worker) = self.worker.take() {
            if exited {
                // The worker has dropped the transport and is returning; this is immediate.
                let _ = worker.join();
            }
            // Otherwise the transport is stuck: leave the thread to finish on its own.
        }
    }
}

impl fmt::Debug for ExportGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExportGuard")
            .field("queue", &self.shared)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .finish_non_exhaustive()
    }
}

/// Starts the worker (unless there is nowhere to send transactions).
///
/// The transport is the configured one, else an `HttpTransport` for the DSN (feature
/// `ureq`), else none: then no thread is started and [`ExportHandle::submit`] drops
/// transactions at once.
pub(crate) fn start(config: ExportConfig) -> std::io::Result<(ExportHandle, ExportGuard)> {
    start_with(config, ExportOptions::default())
}

/// [`start`] with less common settings.
pub(crate) fn start_with(
    config: ExportConfig,
    options: ExportOptions,
) -> std::io::Result<(ExportHandle, ExportGuard)> {
    let ExportConfig {
        dsn,
        transport,
        release,
        environment,
        queue_capacity,
        shutdown_timeout,
        stats,
        debug,
    } = config;
    let ExportOptions {
        server_name,
        max_retries,
        retry_backoff,
    } = options;

    let transport = transport.or_else(|| default_transport(dsn.as_ref(), debug));
    let Some(transport) = transport else {
        let guard = ExportGuard {
            shared: None,
            worker: None,
            stats,
            shutdown_timeout,
            then_flush: None,
        };
        return Ok((ExportHandle { shared: None }, guard));
    };

    let worker = WorkerConfig {
        transport,
        meta: EventMeta {
            release,
            environment,
            server_name,
        },
        dsn: dsn.as_ref().map(Dsn::to_string),
        retry: RetryPolicy {
            max_retries,
            backoff: retry_backoff,
        },
        debug,
    };
    let (shared, handle) = queue::spawn(worker, queue_capacity, Arc::clone(&stats))?;
    let guard = ExportGuard {
        shared: Some(Arc::clone(&shared)),
        worker: Some(handle),
        stats,
        shutdown_timeout,
        then_flush: None,
    };
    Ok((
        ExportHandle {
            shared: Some(shared),
        },
        guard,
    ))
}

#[cfg(feature = "ureq")]
fn default_transport(dsn: Option<&Dsn>, _debug: bool) -> Option<Arc<dyn Transport>> {
    dsn.map(|dsn| Arc::new(HttpTransport::new(dsn)) as Arc<dyn Transport>)
}

#[cfg(not(feature = "ureq"))]
fn default_transport(dsn: Option<&Dsn>, debug: bool) -> Option<Arc<dyn Transport>> {
    if dsn.is_some() && debug {
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr().lock(),
            "[tracing-sentry] a DSN is set but the `ureq` feature is off and no transport was \
             given: transactions are discarded"
        );
    }
    None
}
