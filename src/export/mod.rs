//! Export: finished transactions become Sentry envelopes, delivered by sender threads behind a
//! bounded queue, so the instrumented program never waits on the network.
//!
//! # How export works
//!
//! 1. When a sampled local root span closes, the layer hands the finished span tree (the root
//!    and its finished descendants) to the exporter. That is one push onto a **bounded queue**
//!    under a short lock; no JSON is written and no I/O happens on the program's thread.
//! 2. Sender threads (`tracing-sentry-export`, up to
//!    [`max_requests_in_flight`](crate::SentryLayerBuilder::max_requests_in_flight), 64 by
//!    default) take transactions off the queue and turn each into an [`EnvelopeBytes`]: a header
//!    with `event_id`, `sent_at`, `sdk`, the DSN (if configured, without secret) and the
//!    frozen dynamic sampling context as `trace`, then one `transaction` item (spec 7.1–7.3),
//!    and a `client_report` item when losses are waiting to be reported. Child spans go into
//!    the flat `spans` list; the root goes into `contexts.trace`. Each span's `data` is cut to
//!    what Sentry's ingestion keeps (8 KiB with the span's other fields), and the cut is
//!    recorded in `_meta`. One sender runs while the service is quiet; more start when
//!    transactions wait and none is idle, and idle ones retire.
//! 3. Each sender calls the [`EnvelopeTransport`], by default an `UreqTransport` (feature `ureq`) for
//!    the configured [`Dsn`], shared by all senders (one pool of keep-alive connections). The
//!    transport makes one attempt and reports the response; the senders own what follows, the
//!    same way for every transport, with one rate-limit state and one backoff for all:
//!    - `2xx`: delivered;
//!    - `429`, `Retry-After` or `X-Sentry-Rate-Limits`: a rate limit starts for the named
//!      categories, and until it expires every sender drops transactions without serialising
//!      or sending them;
//!    - any other `4xx` or a `5xx`: dropped, not retried (Sentry's SDK rules);
//!    - no response (a network error or a timeout): retried twice after a shared backoff
//!      (200 ms, doubling with each failure, at most 30 s), then dropped;
//!    - a panicking transport is caught, counted in `transport_panics`, and not retried.
//!
//! # Streamed spans
//!
//! With [`TraceLifecycle::Stream`](crate::TraceLifecycle::Stream), finished spans wait in a
//! per-trace span buffer (at most 10,000 spans and 16 MiB over all traces) until their trace's
//! batch is due: 1,000 spans, about 5 MiB (never over 10 MiB), 5 s after the batch's first span,
//! the end of the segment (the local root), or a flush or shutdown. A batch becomes one envelope
//! with the trace's frozen DSC in its header and one `span` item
//! (`application/vnd.sentry.items.span.v2+json`, `{"version":2,"items":[...]}`), queued and
//! sent like a transaction, under the rate limit of category `span`. Losses are counted in the
//! `spans_*` counters of [`Stats`] and reported with category `span`.
//!
//! # Overload and loss
//!
//! Nothing blocks the program and nothing is lost silently. The queue is bounded in
//! transactions ([`queue_capacity`](crate::SentryLayerBuilder::queue_capacity)), in estimated
//! bytes ([`max_queued_bytes`](crate::SentryLayerBuilder::max_queued_bytes), 32 MiB, queued and
//! in flight together) and in requests in flight. Every
//! transaction that is not delivered increments one counter of [`Stats`], named by why it was
//! lost: `transactions_dropped_queue_full` (the queue was full when the root closed),
//! `transactions_dropped_rate_limited`, `transactions_dropped_send_failed`,
//! `transactions_dropped_rejected`, `transactions_dropped_too_large` (the transaction item
//! exceeded Sentry's 1 MiB limit) and `transactions_dropped_shutdown`. Failed attempts are
//! counted in `send_failures`, rate-limiting answers in `rate_limit_responses`.
//!
//! The same losses go to Sentry as **client reports** (develop docs:
//! sdk/telemetry/client-reports), by reason (`queue_overflow`, `ratelimit_backoff`,
//! `network_error`, `send_error`, `internal_sdk_error`) and category (`transaction`, and
//! `span` for the transaction's spans, root included); transactions the sampler decided
//! against are reported as `sample_rate`, and child spans over a transaction's maximum as
//! `buffer_overflow`. Reports go at most every 30 s (riding
//! along with an outgoing envelope, or alone), at each [`ExportGuard::flush`] and at shutdown;
//! their counts are only cleared once Sentry accepted them (`client_reports_sent`). Losses answered
//! with `429` are not reported: Sentry counts those itself.
//!
//! With [`debug(true)`](crate::SentryLayerBuilder::debug), one line on stderr says when
//! dropping starts, then at most one summary every 10 s while it goes on.
//!
//! With neither a DSN nor a transport configured, no sender is started and finished
//! transactions are dropped at once, without being counted: there is nowhere to send them.
//!
//! # The guard
//!
//! Building the layer returns an [`ExportGuard`]. [`ExportGuard::flush`] waits until
//! everything queued so far was handled, requests in flight included, and the pending client
//! reports were sent. Dropping the guard flushes for at most the configured shutdown timeout,
//! drops (and counts and reports) what is still queued, and stops the senders. If the
//! transport is stuck in a request, the guard stops waiting at the timeout and leaves the
//! sender threads to finish on their own. Keep the guard alive for as long as spans are recorded, usually
//! in `main`; `let _ = ...` and `let (layer, _) = ...` drop it at once. Spans that finish after
//! the guard was dropped are counted (`transactions_dropped_shutdown`, `spans_dropped_shutdown`)
//! and, when nothing was sent before (the guard was dropped at once), one `tracing-sentry:` line
//! on stderr says so, once per process (with `debug(true)`, for any late spans).
//!
//! # Examples
//!
//! Reading envelopes from an [`InMemoryTransport`]:
//!
//! ```
//! use tracing_sentry::export::{EnvelopeBytes, InMemoryTransport, EnvelopeTransport};
//!
//! let transport = InMemoryTransport::new();
//! // ... give `transport.clone()` to the layer builder, record spans, flush the guard ...
//! # transport.send(&EnvelopeBytes::from_bytes(
//! #     b"{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\"}\n{\"type\":\"transaction\"}\n{\"transaction\":\"checkout\"}\n",
//! # ).unwrap()).unwrap();
//! for envelope in transport.envelopes() {
//!     for (item_type, payload) in envelope.items() {
//!         // The payload is JSON: parse it with the JSON library of your choice.
//!         let item: serde_json::Value = serde_json::from_slice(payload)?;
//!         if item_type == "transaction" {
//!             println!("{} {}", item["transaction"], envelope.event_id().unwrap_or("-"));
//!         }
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod late_work;
mod pipeline;
mod policy;
pub(crate) mod record;
pub(crate) mod transport;
mod wire;

#[cfg(test)]
mod test_support;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use policy::privacy::DEFAULT_DENYLIST;
pub(crate) use policy::privacy::{Denylist, Privacy};
pub use policy::view::{SpanView, TransactionView};
#[cfg(feature = "ureq")]
#[cfg_attr(docsrs, doc(cfg(feature = "ureq")))]
pub use transport::http::{UreqTransport, UreqTransportBuilder};
pub use transport::{
    EnvelopeTransport, InMemoryTransport, NoopTransport, TransportError, TransportErrorKind,
    TransportResponse,
};
pub use wire::dsn::{Dsn, DsnErrorKind, ParseDsnError};
pub use wire::envelope::{EnvelopeBytes, EnvelopeErrorKind, ParseEnvelopeError};

#[cfg(feature = "sentry")]
pub(crate) use pipeline::external::{External, ExternalEnvelope, Quantities};
#[cfg(feature = "sentry")]
pub(crate) use wire::category::DataCategory;

use crate::stats::{Stats, StatsInner};
pub(crate) use pipeline::senders::on_sender_thread;
use pipeline::{DeliveryConfig, Pipeline, RetryPolicy};
use transport::spotlight::{SpotlightSink, SpotlightTarget, SpotlightTransport};
use wire::transaction::EventMeta;
pub(crate) use wire::transaction::Host;

/// The most of the shutdown timeout kept for the senders to exit after the flush.
const SHUTDOWN_EXIT_RESERVE: Duration = Duration::from_millis(100);
/// Retries after an attempt that got no response (connection, timeout, I/O).
pub(crate) const DEFAULT_MAX_RETRIES: u32 = 2;
/// The shared backoff after the first failure; it doubles with each further one.
pub(crate) const DEFAULT_RETRY_BACKOFF: Duration = Duration::from_millis(200);
/// Requests in flight at most, by default; see `SentryLayerBuilder::max_requests_in_flight`.
pub(crate) const DEFAULT_MAX_REQUESTS_IN_FLIGHT: usize = 64;
/// Estimated bytes of queued and in-flight work at most, by default: room for a burst of
/// about 30,000 error events while Sentry is slow, the lower priorities shed first.
pub(crate) const DEFAULT_MAX_QUEUED_BYTES: usize = 32 * 1024 * 1024;
/// How often pending client reports are sent on their own when no envelope carries them.
pub(crate) const DEFAULT_CLIENT_REPORT_INTERVAL: Duration = Duration::from_secs(30);

/// How often backpressure handling checks the pipeline's health (Sentry's SDKs: 10 s).
pub(crate) const DEFAULT_HEALTH_CHECK_INTERVAL: Duration = Duration::from_secs(10);

/// What the builder hands to [`start`].
pub(crate) struct ExportConfig {
    pub(crate) dsn: Option<Dsn>,
    /// Wins over the DSN's HTTP transport; the DSN still goes into the envelope header.
    pub(crate) transport: Option<Arc<dyn EnvelopeTransport>>,
    /// The Spotlight sidecar that also gets every envelope, if any.
    pub(crate) spotlight: Option<SpotlightTarget>,
    pub(crate) release: Option<String>,
    pub(crate) environment: String,
    /// At least 1 (0 is treated as 1).
    pub(crate) queue_capacity: usize,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) stats: Arc<StatsInner>,
    /// One line on stderr for each failure and each dropped transaction.
    pub(crate) debug: bool,
    /// What may leave the process (applied on the senders).
    pub(crate) privacy: Privacy,
}

/// Less common settings, for [`start_with`]; `Default` gives the documented defaults.
#[derive(Clone, Debug)]
pub(crate) struct ExportOptions {
    /// The event's `server_name` (e.g. the host name), if any.
    pub(crate) server_name: Option<String>,
    /// The operating system and the compiler (the `os` and `runtime` contexts).
    pub(crate) host: Host,
    /// Retries after a failed attempt.
    pub(crate) max_retries: u32,
    /// The delay before the first retry; doubled for each further one. Cut short at shutdown.
    pub(crate) retry_backoff: Duration,
    /// Requests in flight at most (sender threads); at least 1.
    pub(crate) max_in_flight: usize,
    /// Estimated bytes of queued and in-flight work at most.
    pub(crate) max_queued_bytes: usize,
    /// How often pending client reports go out on their own.
    pub(crate) client_report_interval: Duration,
    /// How often backpressure handling checks the pipeline's health; `None` turns it off.
    pub(crate) health_check_interval: Option<Duration>,
}

impl Default for ExportOptions {
    fn default() -> Self {
        Self {
            server_name: None,
            host: Host::default(),
            max_retries: DEFAULT_MAX_RETRIES,
            retry_backoff: DEFAULT_RETRY_BACKOFF,
            max_in_flight: DEFAULT_MAX_REQUESTS_IN_FLIGHT,
            max_queued_bytes: DEFAULT_MAX_QUEUED_BYTES,
            client_report_interval: DEFAULT_CLIENT_REPORT_INTERVAL,
            health_check_interval: Some(DEFAULT_HEALTH_CHECK_INTERVAL),
        }
    }
}

/// The layer's non-blocking handle to the export pipeline.
#[derive(Clone, Debug)]
pub(crate) struct ExportHandle {
    /// `None` when there is nowhere to send transactions.
    shared: Option<Arc<Pipeline>>,
}

impl ExportHandle {
    /// A handle to no pipeline: everything submitted is dropped at once.
    #[cfg(feature = "sentry")]
    pub(crate) fn disabled() -> Self {
        Self { shared: None }
    }

    /// Queues a finished transaction. Never blocks: a full queue drops it and counts
    /// `transactions_dropped_queue_full`; after shutdown, `transactions_dropped_shutdown`.
    pub(crate) fn submit(&self, tx: record::TransactionRecord) {
        if let Some(shared) = &self.shared {
            shared.submit(tx);
        }
    }

    /// Buffers a finished span of the stream lifecycle (never blocks; a full buffer drops and
    /// counts it).
    pub(crate) fn submit_span(
        &self,
        trace_id: crate::id::TraceId,
        dsc: &Arc<crate::propagation::DynamicSamplingContext>,
        span: record::StreamedSpan,
    ) {
        if let Some(shared) = &self.shared {
            shared.submit_span(trace_id, dsc, span);
        }
    }

    /// Buffers a log for its batch (never blocks; a batch that finds the queue full is dropped
    /// and counted).
    pub(crate) fn submit_log(&self, log: record::SentryLog) {
        if let Some(shared) = &self.shared {
            shared.submit_log(log);
        }
    }

    /// Buffers a metric for its batch (as [`submit_log`](Self::submit_log)).
    pub(crate) fn submit_metric(&self, metric: record::SentryMetric) {
        if let Some(shared) = &self.shared {
            shared.submit_metric(metric);
        }
    }

    /// Sends the buffered spans of a trace whose segment (local root) ended.
    pub(crate) fn end_segment(&self, trace_id: &crate::id::TraceId) {
        if let Some(shared) = &self.shared {
            shared.end_segment(trace_id);
        }
    }

    /// Records, for the client reports, a local root the sampler decided against: a
    /// `transaction`, or a `span` with the stream lifecycle (`stream`).
    pub(crate) fn record_sampled_out(&self, stream: bool) {
        if let Some(shared) = &self.shared {
            shared.record_sampled_out(stream);
        }
    }

    /// Records, for the client reports, a local root not sampled because backpressure
    /// handling lowered the rate (`backpressure`): a `transaction`, or a `span` with the stream
    /// lifecycle (`stream`).
    pub(crate) fn record_backpressure(&self, stream: bool) {
        if let Some(shared) = &self.shared {
            shared.record_backpressure(stream);
        }
    }

    /// The backpressure downsampling factor (0 when healthy): one relaxed atomic load.
    #[inline]
    pub(crate) fn downsample_factor(&self) -> u32 {
        self.shared
            .as_ref()
            .map_or(0, |shared| shared.downsample_factor())
    }

    /// Records, for the client reports, a span an `ignore_spans` rule matched when it was
    /// created: a root (`transaction` and `span`) or a child (`span`).
    pub(crate) fn record_ignored(&self, root: bool) {
        if let Some(shared) = &self.shared {
            shared.record_ignored(root);
        }
    }

    /// Queues an envelope of the `sentry` crate (never blocks; a full queue sheds work of
    /// lower priorities for it, or drops and counts it).
    #[cfg(feature = "sentry")]
    pub(crate) fn submit_external(&self, external: External) {
        if let Some(shared) = &self.shared {
            shared.submit_external(external);
        }
    }

    /// Counts an envelope of the `sentry` crate that the application's transport panicked on.
    #[cfg(feature = "sentry")]
    pub(crate) fn record_external_panic(&self, quantities: &Quantities) {
        if let Some(shared) = &self.shared {
            shared.record_external_panic(quantities);
        }
    }

    /// Waits until everything queued so far was handled, until `deadline`.
    #[cfg(feature = "sentry")]
    pub(crate) fn flush_until(&self, deadline: Option<Instant>) -> bool {
        self.shared
            .as_ref()
            .map_or(true, |shared| shared.flush_until(deadline))
    }

    /// Flushes until most of `timeout` has passed, then stops the senders (as dropping the
    /// guard does); a second call does nothing.
    #[cfg(feature = "sentry")]
    pub(crate) fn shut_down(&self, timeout: Duration) -> bool {
        let Some(shared) = &self.shared else {
            return true;
        };
        let now = Instant::now();
        let reserve = (timeout / 10).min(SHUTDOWN_EXIT_RESERVE);
        let flushed = shared.flush_until(now.checked_add(timeout - reserve));
        shared.shut_down(now.checked_add(timeout)) && flushed
    }

    /// Whether this handle and `other` feed the same pipeline.
    #[cfg(feature = "sentry")]
    pub(crate) fn same_pipeline(&self, other: &ExportHandle) -> bool {
        match (&self.shared, &other.shared) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }

    /// Returns whether submitted transactions go anywhere. When `false`, the layer can skip
    /// building transaction records altogether.
    #[cfg(test)]
    pub(crate) fn is_enabled(&self) -> bool {
        self.shared.is_some()
    }
}

/// Keeps the export senders running; flushes and stops them when dropped.
///
/// Returned with the layer by the builder. While it lives, finished transactions are delivered
/// in the background. Dropping it waits at most the configured shutdown timeout for queued
/// transactions to be delivered, drops and counts what is left
/// (`transactions_dropped_shutdown`), and stops the senders. It never waits longer, even if the
/// transport hangs.
///
/// Bind it to a named variable in `main` (`let (layer, _guard) = ...`): `let _ = ...` and
/// `let (layer, _) = ...` drop it immediately, which ends export before the program has done
/// anything. `#[must_use]` catches `let _ = ...` of a guard, but not a `_` inside a tuple
/// pattern, which is how the builder returns it: then the first spans to finish print one
/// `tracing-sentry:` line on stderr saying the guard was dropped (once per process), and their
/// loss is counted in [`Stats`] (`transactions_dropped_shutdown`, `spans_dropped_shutdown`).
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
///     drop(guard); // stops the senders
/// }
/// # let _ = before_exit;
/// ```
#[must_use = "dropping the guard shuts down export; keep it alive for as long as spans are recorded"]
pub struct ExportGuard {
    shared: Option<Arc<Pipeline>>,
    stats: Arc<StatsInner>,
    shutdown_timeout: Duration,
    /// Flushed after the queue by [`ExportGuard::flush`] (the `sentry` client whose transport
    /// sends our envelopes), with the time left.
    pub(crate) then_flush: Option<Arc<dyn Fn(Duration) -> bool + Send + Sync>>,
    /// `then_flush` is a `sentry` client that sends through this pipeline: flush it first (its
    /// batched logs and sessions go into the queue), in [`ExportGuard::flush`] and on drop.
    pub(crate) client_first: bool,
    /// The Spotlight thread's copies, waited for after the queue (flush and drop alike).
    spotlight: Option<SpotlightSink>,
}

impl ExportGuard {
    /// Waits until every transaction queued before this call was handled (delivered or
    /// dropped and counted), for at most `timeout`. Returns `true` if it was, `false` on
    /// timeout. With [Spotlight](crate::SentryLayerBuilder::spotlight) on, it also waits for
    /// their copies to be posted to the sidecar (or skipped while it is unreachable).
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
        let client = match &self.then_flush {
            Some(then) if self.client_first => then(timeout),
            _ => true,
        };
        let deadline = start.checked_add(timeout);
        let ours = match &self.shared {
            Some(shared) => shared.flush_until(deadline),
            None => true,
        };
        let ours = match &self.spotlight {
            Some(spotlight) => spotlight.flush_until(deadline) && ours,
            None => ours,
        };
        match &self.then_flush {
            Some(then) if !self.client_first => {
                then(timeout.saturating_sub(start.elapsed())) && ours
            }
            _ => ours && client,
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
        // Flush for most of the budget, and keep a tenth (at most 100 ms) for the senders to
        // send the last client report and exit. Senders stuck in a request are left to finish
        // on their own.
        let now = Instant::now();
        let reserve = (self.shutdown_timeout / 10).min(SHUTDOWN_EXIT_RESERVE);
        let deadline = now.checked_add(self.shutdown_timeout);
        if let Some(client) = self.then_flush.as_ref().filter(|_| self.client_first) {
            // The client's batched logs and sessions join the queue before it closes.
            client((self.shutdown_timeout - reserve) / 2);
        }
        shared.flush_until(now.checked_add(self.shutdown_timeout - reserve));
        shared.shut_down(deadline);
        // The copies of the last envelopes, the final client report's included.
        if let Some(spotlight) = &self.spotlight {
            spotlight.flush_until(deadline);
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

/// Starts the first sender (unless there is nowhere to send transactions).
///
/// The transport is the configured one, else an `UreqTransport` for the DSN (feature
/// `ureq`), else none: then no thread is started and [`ExportHandle::submit`] drops
/// transactions at once.
#[cfg(test)]
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
        spotlight,
        release,
        environment,
        queue_capacity,
        shutdown_timeout,
        stats,
        debug,
        privacy,
    } = config;
    let ExportOptions {
        server_name,
        host,
        max_retries,
        retry_backoff,
        max_in_flight,
        max_queued_bytes,
        client_report_interval,
        health_check_interval,
    } = options;

    let transport =
        transport.or_else(|| default_transport(dsn.as_ref(), debug, max_in_flight.max(1)));
    let spotlight = match spotlight {
        Some(target) => Some(SpotlightSink::start(target, Arc::clone(&stats))?),
        None => None,
    };
    let transport = match &spotlight {
        Some(sink) => Some(Arc::new(SpotlightTransport {
            sink: sink.clone(),
            inner: transport,
        }) as Arc<dyn EnvelopeTransport>),
        None => transport,
    };
    let Some(transport) = transport else {
        let guard = ExportGuard {
            shared: None,
            stats,
            shutdown_timeout,
            then_flush: None,
            client_first: false,
            spotlight: None,
        };
        return Ok((ExportHandle { shared: None }, guard));
    };

    let delivery = DeliveryConfig {
        transport,
        meta: EventMeta {
            release,
            environment,
            server_name,
            host,
            ..EventMeta::default()
        },
        dsn: dsn.as_ref().map(Dsn::to_string),
        retry: RetryPolicy {
            max_retries,
            backoff: retry_backoff,
        },
        max_in_flight: max_in_flight.max(1),
        client_report_interval,
        debug,
        privacy,
    };
    let shared = Arc::new(Pipeline::new(
        delivery,
        queue_capacity,
        max_queued_bytes,
        Arc::clone(&stats),
        health_check_interval,
    ));
    shared.start()?;
    let guard = ExportGuard {
        shared: Some(Arc::clone(&shared)),
        stats,
        shutdown_timeout,
        then_flush: None,
        client_first: false,
        spotlight,
    };
    Ok((
        ExportHandle {
            shared: Some(shared),
        },
        guard,
    ))
}

/// A pipeline of default options for a `sentry` client's envelopes alone (no layer was built
/// to share its pipeline with): the DSN's HTTP transport, the default queue and timeouts.
#[cfg(feature = "sentry")]
pub(crate) fn start_for_client(
    dsn: Dsn,
    debug: bool,
    shutdown_timeout: Duration,
) -> std::io::Result<(ExportHandle, ExportGuard)> {
    start_with(
        ExportConfig {
            dsn: Some(dsn),
            transport: None,
            release: None,
            environment: crate::DEFAULT_ENVIRONMENT.to_owned(),
            queue_capacity: crate::DEFAULT_QUEUE_CAPACITY,
            shutdown_timeout,
            stats: Arc::default(),
            debug,
            privacy: Privacy::default(),
            spotlight: None,
        },
        ExportOptions::default(),
    )
}

#[cfg(feature = "ureq")]
fn default_transport(
    dsn: Option<&Dsn>,
    _debug: bool,
    max_in_flight: usize,
) -> Option<Arc<dyn EnvelopeTransport>> {
    dsn.map(|dsn| {
        let transport = UreqTransport::builder(dsn)
            .max_idle_connections(max_in_flight)
            .build();
        Arc::new(transport) as Arc<dyn EnvelopeTransport>
    })
}

#[cfg(not(feature = "ureq"))]
fn default_transport(
    dsn: Option<&Dsn>,
    debug: bool,
    _max_in_flight: usize,
) -> Option<Arc<dyn EnvelopeTransport>> {
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
