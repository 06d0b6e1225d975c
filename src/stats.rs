//! Counters of what the crate dropped, sent or refused, readable as a [`Stats`] snapshot.

use std::sync::atomic::{AtomicU64, Ordering};

macro_rules! stats {
    ($( $(#[$doc:meta])* $name:ident ),* $(,)?) => {
        /// A point-in-time snapshot of the crate's counters.
        ///
        /// Every buffer in the crate is bounded, and everything it drops is counted here, named
        /// by what was lost and why. Read it from [`ExportGuard::stats`](crate::ExportGuard::stats)
        /// or [`SentryLayer::stats`](crate::SentryLayer::stats).
        ///
        /// # Examples
        ///
        /// ```
        /// let (layer, guard) = tracing_sentry::SentryLayer::builder()
        ///     .transport(tracing_sentry::export::InMemoryTransport::new())
        ///     .build()?;
        /// let stats = guard.stats();
        /// assert_eq!(stats.transactions_dropped_queue_full, 0);
        /// # drop(layer);
        /// # Ok::<(), tracing_sentry::BuildError>(())
        /// ```
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        #[non_exhaustive]
        pub struct Stats {
            $( $(#[$doc])* pub $name: u64, )*
        }

        #[derive(Debug, Default)]
        pub(crate) struct StatsInner {
            $( pub(crate) $name: AtomicU64, )*
        }

        impl StatsInner {
            pub(crate) fn snapshot(&self) -> Stats {
                Stats { $( $name: self.$name.load(Ordering::Relaxed), )* }
            }
        }
    };
}

stats! {
    /// EnvelopeBytes copies for the Spotlight sidecar dropped because its channel was full (the
    /// sidecar is slow or down); what goes to Sentry is not affected.
    spotlight_envelopes_dropped,
    /// Transactions the transport delivered.
    transactions_sent,
    /// Transactions dropped because the export queue was full.
    transactions_dropped_queue_full,
    /// Transactions dropped because Sentry asked the client to back off (429 or `X-Sentry-Rate-Limits`).
    transactions_dropped_rate_limited,
    /// Transactions dropped because sending failed: no response after the retries, a 5xx
    /// answer, or a panicking transport.
    transactions_dropped_send_failed,
    /// Transactions dropped because Sentry rejected them (4xx other than 429).
    transactions_dropped_rejected,
    /// Transactions dropped because their serialised item exceeded the size limit.
    transactions_dropped_too_large,
    /// Transactions still queued when the export guard shut down and its flush timed out.
    transactions_dropped_shutdown,
    /// Responses from Sentry that set or extended a rate limit.
    rate_limit_responses,
    /// Send attempts that failed (network error, timeout, 5xx or a panicking transport).
    send_failures,
    /// Calls of the transport that panicked (caught; the envelope counts as lost and is
    /// reported as `internal_sdk_error`).
    transport_panics,
    /// Envelopes carrying client reports (what was dropped, by reason) that Sentry accepted.
    client_reports_sent,
    /// Child spans dropped because their transaction already held the maximum number of spans.
    spans_dropped_limit,
    /// Child spans that closed after their transaction had been sent.
    spans_dropped_late,
    /// Transactions whose root span was dropped by the registry without closing normally.
    transactions_unfinished,
    /// Incoming `sentry-trace`/`traceparent` headers that were present but malformed.
    invalid_incoming_headers,
    /// Incoming traces not continued because of the org-id rule (strict trace continuation).
    traces_not_continued_org_mismatch,
    /// Calls of the `traces_sampler` that panicked (the span was treated as not sampled).
    sampler_panics,
    /// Incoming `baggage` members dropped as invalid or over the W3C limits (counted when the
    /// layer is given the remote parent), and incoming third-party members not forwarded
    /// because they break the W3C grammar.
    baggage_members_dropped,
    /// Streamed spans (the stream lifecycle) the transport delivered.
    spans_sent,
    /// Streamed spans dropped because the span buffer was full (reported as `buffer_overflow`).
    spans_dropped_buffer_full,
    /// Streamed spans dropped because the export queue was full or had shut down.
    spans_dropped_queue_full,
    /// Streamed spans dropped because of a rate limit on category `span` (or a 429).
    spans_dropped_rate_limited,
    /// Streamed spans dropped because sending failed: no response after the retries, a 5xx
    /// answer, or a panicking transport.
    spans_dropped_send_failed,
    /// Streamed spans dropped because Sentry rejected them (4xx other than 429).
    spans_dropped_rejected,
    /// Streamed spans dropped because their batch's serialised item exceeded the size limit.
    spans_dropped_too_large,
    /// Transactions dropped by `before_send_transaction`, or because a `before_send_*` hook
    /// panicked.
    transactions_dropped_before_send,
    /// Spans dropped by the `before_send_*` hooks: the spans of dropped transactions (root
    /// included) and child spans a `before_send_transaction` removed.
    spans_dropped_before_send,
    /// Calls of `before_send_transaction`, `before_send_span`, `before_send_log` or
    /// `before_send_metric` that panicked (caught; the transaction, log or metric was dropped).
    before_send_panics,
    /// Calls of an `ignore_spans_where` predicate that panicked (caught; the span was kept).
    ignore_predicate_panics,
    /// Transactions whose root span matched an `ignore_spans` rule (not sent).
    transactions_ignored,
    /// Spans that matched an `ignore_spans` rule, and the spans of ignored transactions (root
    /// included).
    spans_ignored,
    /// Items of the `sentry` crate's envelopes (events, log containers, sessions, check-ins,
    /// attachments, ...) that the transport delivered, when its client sends through the
    /// layer's pipeline (`integrations::sentry::link`).
    sentry_items_sent,
    /// Items of the `sentry` crate's envelopes dropped because the export queue was full (or
    /// shed for work of a higher priority), or had shut down.
    sentry_items_dropped_queue_full,
    /// Items of the `sentry` crate's envelopes dropped because of a rate limit on their
    /// category (or a 429); only the limited items of an envelope are dropped.
    sentry_items_dropped_rate_limited,
    /// Items of the `sentry` crate's envelopes dropped because sending failed: no response
    /// after the retries, a 5xx answer, or a panicking transport.
    sentry_items_dropped_send_failed,
    /// Items of the `sentry` crate's envelopes Sentry rejected (4xx other than 429), or that
    /// could not be written.
    sentry_items_dropped_rejected,
    /// Transactions not sampled because backpressure handling had lowered the sample rate
    /// (reported as `backpressure`).
    transactions_dropped_backpressure,
    /// The backpressure downsampling factor now: the traces sample rate is divided by 2 to
    /// this power (0 while the pipeline is healthy, at most 10).
    backpressure_downsample_factor,
    /// Logs the transport delivered.
    logs_sent,
    /// Logs dropped because the export queue was full or had shut down.
    logs_dropped_queue_full,
    /// Logs dropped because of a rate limit on `log_item` or `log_byte` (or a 429).
    logs_dropped_rate_limited,
    /// Logs dropped because sending failed: no response after the retries, a 5xx answer, or a
    /// panicking transport.
    logs_dropped_send_failed,
    /// Logs dropped because Sentry rejected them (4xx other than 429).
    logs_dropped_rejected,
    /// Logs dropped because their batch's serialised item exceeded the size limit.
    logs_dropped_too_large,
    /// Logs dropped by `before_send_log` (or because it panicked).
    logs_dropped_before_send,
    /// Metrics the transport delivered.
    metrics_sent,
    /// Metrics dropped because the export queue was full or had shut down.
    metrics_dropped_queue_full,
    /// Metrics dropped because of a rate limit on `trace_metric` (or a 429).
    metrics_dropped_rate_limited,
    /// Metrics dropped because sending failed: no response after the retries, a 5xx answer, or
    /// a panicking transport.
    metrics_dropped_send_failed,
    /// Metrics dropped because Sentry rejected them (4xx other than 429).
    metrics_dropped_rejected,
    /// Metrics dropped because their batch's serialised item exceeded the size limit.
    metrics_dropped_too_large,
    /// Metrics dropped by `before_send_metric` (or because it panicked).
    metrics_dropped_before_send,
    /// Metric fields refused when the event was recorded: a value that is not a number, NaN or
    /// infinite, a negative `monotonic_counter.`, or a name Sentry refuses (empty, over 150
    /// bytes, or a character other than ASCII letters, digits, `_`, `-` and `.`).
    metrics_dropped_invalid,
    /// `unit` fields left out of a metric because Sentry would refuse them (not a string, over
    /// 15 bytes, or a character other than ASCII letters, digits and `_`); the metric is sent
    /// without a unit.
    metric_units_dropped,
}

impl StatsInner {
    #[inline]
    pub(crate) fn incr(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
    #[inline]
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        if n != 0 {
            counter.fetch_add(n, Ordering::Relaxed);
        }
    }
}
