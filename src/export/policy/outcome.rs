//! What happened to one unit of work, and the one table that turns it into a [`Stats`]
//! counter and a client-report reason, for every category that is sent.
//!
//! The client-report reasons follow the develop docs (sdk/expected-features, "Dealing with
//! network failures"; sdk/telemetry/client-reports): a `2xx` is delivered; a `429` is not
//! reported (Sentry records it itself); any other `4xx` or a `5xx` is `send_error`; no
//! response after the retries is `network_error`; an item over Sentry's size limit is
//! `send_error`, as the `413` it would get; a failure of the SDK itself (a panicking
//! transport) is `internal_sdk_error`; work dropped from a full or closed queue is
//! `queue_overflow`. The reason depends on the outcome only; the counter also on the category.
//!
//! [`Stats`]: crate::Stats

use std::sync::atomic::AtomicU64;

use crate::export::wire::client_report::DiscardReason;
use crate::stats::StatsInner;

/// What happened to one unit of work (a transaction, or a batch of streamed spans).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Delivered (`2xx`).
    Sent,
    /// Dropped before it was queued: the queue was full.
    QueueFull,
    /// Dropped unsent because the pipeline shut down.
    Shutdown,
    /// Not sent: a rate limit was active.
    RateLimited,
    /// Sent and answered `429`.
    Answered429,
    /// Answered with another `4xx`.
    Rejected(u16),
    /// Answered `5xx`.
    ServerError(u16),
    /// No response after every allowed attempt.
    NetworkError,
    /// The transport panicked.
    Panicked,
    /// Larger than Sentry accepts (the payload's length).
    TooLarge(usize),
}

/// What a unit of work is counted as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Unit {
    /// A transaction: one `transaction` and its spans (root included) in client reports.
    Transaction,
    /// Streamed spans: their number, in category `span`.
    Spans,
    /// Items of the `sentry` crate's envelopes: their number; client reports count them in
    /// their own categories.
    #[cfg_attr(
        not(any(feature = "sentry", test)),
        expect(
            dead_code,
            reason = "only the `sentry` integration sends envelopes written elsewhere"
        )
    )]
    SentryItems,
    /// Logs: their number in `log_item`, their size in `log_byte`.
    Logs,
    /// Metrics: their number in `trace_metric`.
    Metrics,
}

impl Outcome {
    /// The client-report reason, if the loss is reported (`None` when it was delivered, or
    /// when Sentry records it itself).
    pub(crate) fn reason(self) -> Option<DiscardReason> {
        match self {
            Self::Sent | Self::Answered429 => None,
            Self::QueueFull | Self::Shutdown => Some(DiscardReason::QueueOverflow),
            Self::RateLimited => Some(DiscardReason::RatelimitBackoff),
            Self::Rejected(_) | Self::ServerError(_) | Self::TooLarge(_) => {
                Some(DiscardReason::SendError)
            }
            Self::NetworkError => Some(DiscardReason::NetworkError),
            Self::Panicked => Some(DiscardReason::InternalSdkError),
        }
    }

    /// The counter of `stats` this outcome increments for `unit` (by one transaction, or by
    /// the number of streamed spans, logs or metrics).
    pub(crate) fn counter(self, unit: Unit, stats: &StatsInner) -> &AtomicU64 {
        match unit {
            Unit::Transaction => match self {
                Self::Sent => &stats.transactions_sent,
                Self::QueueFull => &stats.transactions_dropped_queue_full,
                Self::Shutdown => &stats.transactions_dropped_shutdown,
                Self::RateLimited | Self::Answered429 => &stats.transactions_dropped_rate_limited,
                Self::Rejected(_) => &stats.transactions_dropped_rejected,
                Self::ServerError(_) | Self::NetworkError | Self::Panicked => {
                    &stats.transactions_dropped_send_failed
                }
                Self::TooLarge(_) => &stats.transactions_dropped_too_large,
            },
            Unit::Spans => match self {
                Self::Sent => &stats.spans_sent,
                Self::QueueFull | Self::Shutdown => &stats.spans_dropped_queue_full,
                Self::RateLimited | Self::Answered429 => &stats.spans_dropped_rate_limited,
                Self::Rejected(_) => &stats.spans_dropped_rejected,
                Self::ServerError(_) | Self::NetworkError | Self::Panicked => {
                    &stats.spans_dropped_send_failed
                }
                Self::TooLarge(_) => &stats.spans_dropped_too_large,
            },
            Unit::SentryItems => match self {
                Self::Sent => &stats.sentry_items_sent,
                Self::QueueFull | Self::Shutdown => &stats.sentry_items_dropped_queue_full,
                Self::RateLimited | Self::Answered429 => &stats.sentry_items_dropped_rate_limited,
                Self::Rejected(_) | Self::TooLarge(_) => &stats.sentry_items_dropped_rejected,
                Self::ServerError(_) | Self::NetworkError | Self::Panicked => {
                    &stats.sentry_items_dropped_send_failed
                }
            },
            Unit::Logs => match self {
                Self::Sent => &stats.logs_sent,
                Self::QueueFull | Self::Shutdown => &stats.logs_dropped_queue_full,
                Self::RateLimited | Self::Answered429 => &stats.logs_dropped_rate_limited,
                Self::Rejected(_) => &stats.logs_dropped_rejected,
                Self::ServerError(_) | Self::NetworkError | Self::Panicked => {
                    &stats.logs_dropped_send_failed
                }
                Self::TooLarge(_) => &stats.logs_dropped_too_large,
            },
            Unit::Metrics => match self {
                Self::Sent => &stats.metrics_sent,
                Self::QueueFull | Self::Shutdown => &stats.metrics_dropped_queue_full,
                Self::RateLimited | Self::Answered429 => &stats.metrics_dropped_rate_limited,
                Self::Rejected(_) => &stats.metrics_dropped_rejected,
                Self::ServerError(_) | Self::NetworkError | Self::Panicked => {
                    &stats.metrics_dropped_send_failed
                }
                Self::TooLarge(_) => &stats.metrics_dropped_too_large,
            },
        }
    }

    /// The label of the debug output.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::QueueFull | Self::Shutdown => "queue_overflow",
            Self::RateLimited => "ratelimit_backoff",
            Self::Answered429 => "http_429",
            Self::Rejected(_) => "rejected",
            Self::ServerError(_) => "server_error",
            Self::NetworkError => "network_error",
            Self::Panicked => "transport_panic",
            Self::TooLarge(_) => "too_large",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVERY: [Outcome; 10] = [
        Outcome::Sent,
        Outcome::QueueFull,
        Outcome::Shutdown,
        Outcome::RateLimited,
        Outcome::Answered429,
        Outcome::Rejected(400),
        Outcome::ServerError(500),
        Outcome::NetworkError,
        Outcome::Panicked,
        Outcome::TooLarge(2 << 20),
    ];

    #[test]
    fn every_unit_is_counted_alike() {
        // Each outcome names the same kind of counter in both categories: the counter names
        // differ only in their prefix.
        let stats = StatsInner::default();
        for outcome in EVERY {
            let named = |s: crate::Stats| {
                format!("{s:?}")
                    .split([',', '{', '}'])
                    .map(str::trim)
                    .find(|field| field.ends_with(": 1"))
                    .map(|field| field.trim_end_matches(": 1").to_owned())
                    .unwrap_or_default()
            };
            let count = |unit| {
                let counter = outcome.counter(unit, &stats);
                counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let snapshot = stats.snapshot();
                counter.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
                snapshot
            };
            let tx = count(Unit::Transaction);
            let spans = count(Unit::Spans);
            let items = named(count(Unit::SentryItems));
            assert!(items.starts_with("sentry_items_"), "{outcome:?}: {items}");
            let logs = count(Unit::Logs);
            let metrics = count(Unit::Metrics);
            let (tx, spans) = (named(tx), named(spans));
            let (logs, metrics) = (named(logs), named(metrics));
            assert!(tx.starts_with("transactions_"), "{outcome:?}: {tx}");
            assert!(spans.starts_with("spans_"), "{outcome:?}: {spans}");
            assert!(logs.starts_with("logs_"), "{outcome:?}: {logs}");
            assert!(metrics.starts_with("metrics_"), "{outcome:?}: {metrics}");
            let kind = |name: &str, prefix: &str| name.trim_start_matches(prefix).to_owned();
            let (tx_kind, span_kind) = (kind(&tx, "transactions_"), kind(&spans, "spans_"));
            // Logs and metrics are counted as streamed spans are.
            assert_eq!(kind(&logs, "logs_"), span_kind, "{outcome:?}");
            assert_eq!(kind(&metrics, "metrics_"), span_kind, "{outcome:?}");
            // Shutdown has its own transaction counter; streamed spans count it as queue loss.
            if outcome != Outcome::Shutdown {
                assert_eq!(tx_kind, span_kind, "{outcome:?}");
            }
        }
    }

    #[test]
    fn reasons_follow_the_client_report_rules() {
        use DiscardReason as R;
        let want = [
            (Outcome::Sent, None),
            (Outcome::QueueFull, Some(R::QueueOverflow)),
            (Outcome::Shutdown, Some(R::QueueOverflow)),
            (Outcome::RateLimited, Some(R::RatelimitBackoff)),
            (Outcome::Answered429, None),
            (Outcome::Rejected(400), Some(R::SendError)),
            (Outcome::ServerError(500), Some(R::SendError)),
            (Outcome::NetworkError, Some(R::NetworkError)),
            (Outcome::Panicked, Some(R::InternalSdkError)),
            (Outcome::TooLarge(2 << 20), Some(R::SendError)),
        ];
        for (outcome, reason) in want {
            assert_eq!(outcome.reason(), reason, "{outcome:?}");
        }
    }
}
