//! Client reports (develop docs: sdk/telemetry/client-reports): what the SDK discarded, by
//! reason and data category, sent to Sentry as `client_report` items so that losses on the
//! client side show up in the project's stats, not only in [`Stats`](crate::Stats).
//!
//! Counting is a relaxed atomic add in a fixed table (it runs on the instrumented thread when
//! the queue is full); the export senders take the counts, attach them to an outgoing envelope
//! or send them alone, and put them back if that envelope was not accepted.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use crate::export::wire::category::DataCategory;
use crate::export::wire::json::{push_key, push_rfc3339, push_str, push_u64};

/// Why something was discarded, as the client-report spec names it. Grows with the features
/// that can discard (`before_send`, `sample_rate`, `ignored`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum DiscardReason {
    /// The export queue was full (or closed at shutdown with the item still in it).
    QueueOverflow,
    /// A rate limit from Sentry was active, so it was not sent.
    RatelimitBackoff,
    /// Every attempt failed without a response (connection, timeout, I/O).
    NetworkError,
    /// Sentry answered with an error status other than `429` (or the item exceeded the size
    /// Sentry accepts, which it would answer with `413`).
    SendError,
    /// The SDK itself failed: a panicking transport.
    InternalSdkError,
    /// The sampling decision was "not sampled": the transaction was never recorded.
    SampleRate,
    /// A bounded buffer was full: child spans over a transaction's maximum.
    BufferOverflow,
    /// `before_send_transaction` dropped it (or a hook panicked).
    BeforeSend,
    /// An `ignore_spans` rule matched it.
    Ignored,
    /// Backpressure handling lowered the sample rate and it was not sampled.
    Backpressure,
}

impl DiscardReason {
    /// Every reason, in index order.
    pub(crate) const ALL: [Self; 10] = [
        Self::QueueOverflow,
        Self::RatelimitBackoff,
        Self::NetworkError,
        Self::SendError,
        Self::InternalSdkError,
        Self::SampleRate,
        Self::BufferOverflow,
        Self::BeforeSend,
        Self::Ignored,
        Self::Backpressure,
    ];
    /// The number of reasons.
    pub(crate) const COUNT: usize = Self::ALL.len();

    /// The wire name.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::QueueOverflow => "queue_overflow",
            Self::RatelimitBackoff => "ratelimit_backoff",
            Self::NetworkError => "network_error",
            Self::SendError => "send_error",
            Self::InternalSdkError => "internal_sdk_error",
            Self::SampleRate => "sample_rate",
            Self::BufferOverflow => "buffer_overflow",
            Self::BeforeSend => "before_send",
            Self::Ignored => "ignored",
            Self::Backpressure => "backpressure",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Discard counts not yet reported, by reason and category.
#[derive(Debug, Default)]
pub(crate) struct ClientReports {
    counts: [[AtomicU64; DataCategory::COUNT]; DiscardReason::COUNT],
}

/// Counts taken out of [`ClientReports`]: one report's `discarded_events`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Report {
    entries: Vec<(DiscardReason, DataCategory, u64)>,
}

impl ClientReports {
    /// Adds `quantity` discarded items of `category` for `reason`.
    pub(crate) fn record(&self, reason: DiscardReason, category: DataCategory, quantity: u64) {
        if let Some(slot) = self
            .counts
            .get(reason.index())
            .and_then(|row| row.get(category.index()))
        {
            slot.fetch_add(quantity, Ordering::Relaxed);
        }
    }

    /// Records a discarded transaction of `spans` spans (root included): one `transaction` and
    /// `spans` `span`, as the spec asks.
    pub(crate) fn record_transaction(&self, reason: DiscardReason, spans: u64) {
        self.record(reason, DataCategory::Transaction, 1);
        self.record(reason, DataCategory::Span, spans);
    }

    /// Returns whether there is anything to report.
    pub(crate) fn is_empty(&self) -> bool {
        self.counts
            .iter()
            .flatten()
            .all(|n| n.load(Ordering::Relaxed) == 0)
    }

    /// Takes every count (leaving zeros); `None` if there was nothing to report.
    pub(crate) fn take(&self) -> Option<Report> {
        let mut entries = Vec::new();
        for reason in DiscardReason::ALL {
            for category in DataCategory::ALL {
                let Some(slot) = self
                    .counts
                    .get(reason.index())
                    .and_then(|row| row.get(category.index()))
                else {
                    continue;
                };
                let n = slot.swap(0, Ordering::Relaxed);
                if n > 0 {
                    entries.push((reason, category, n));
                }
            }
        }
        (!entries.is_empty()).then_some(Report { entries })
    }

    /// Puts back the counts of a report that did not reach Sentry.
    pub(crate) fn restore(&self, report: &Report) {
        for &(reason, category, n) in &report.entries {
            self.record(reason, category, n);
        }
    }
}

impl Report {
    /// The quantity reported for `reason` and `category`.
    #[cfg(test)]
    pub(crate) fn quantity(&self, reason: DiscardReason, category: DataCategory) -> u64 {
        self.entries
            .iter()
            .filter(|(r, c, _)| *r == reason && *c == category)
            .map(|(_, _, n)| n)
            .sum()
    }

    /// Writes the `client_report` item payload:
    /// `{"timestamp":...,"discarded_events":[{"reason":...,"category":...,"quantity":N},...]}`.
    pub(crate) fn write_payload(&self, out: &mut Vec<u8>, now: SystemTime) {
        out.push(b'{');
        push_key(out, "timestamp");
        out.push(b'"');
        push_rfc3339(out, now);
        out.push(b'"');
        out.push(b',');
        push_key(out, "discarded_events");
        out.push(b'[');
        for (i, (reason, category, quantity)) in self.entries.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.push(b'{');
            push_key(out, "reason");
            push_str(out, reason.as_str());
            out.push(b',');
            push_key(out, "category");
            push_str(out, category.as_str());
            out.push(b',');
            push_key(out, "quantity");
            push_u64(out, *quantity);
            out.push(b'}');
        }
        out.push(b']');
        out.push(b'}');
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    #[test]
    fn a_discarded_transaction_counts_itself_and_its_spans() {
        let reports = ClientReports::default();
        assert!(reports.is_empty());
        assert_eq!(reports.take(), None);
        reports.record_transaction(DiscardReason::QueueOverflow, 4);
        reports.record_transaction(DiscardReason::QueueOverflow, 2);
        reports.record_transaction(DiscardReason::NetworkError, 1);
        assert!(!reports.is_empty());
        let report = reports.take().unwrap();
        assert!(reports.is_empty(), "taking leaves zeros");
        let q = |r, c| report.quantity(r, c);
        assert_eq!(
            q(DiscardReason::QueueOverflow, DataCategory::Transaction),
            2
        );
        assert_eq!(q(DiscardReason::QueueOverflow, DataCategory::Span), 6);
        assert_eq!(q(DiscardReason::NetworkError, DataCategory::Transaction), 1);
        assert_eq!(q(DiscardReason::NetworkError, DataCategory::Span), 1);
        assert_eq!(q(DiscardReason::SendError, DataCategory::Span), 0);

        reports.restore(&report);
        reports.record_transaction(DiscardReason::QueueOverflow, 1);
        let again = reports.take().unwrap();
        assert_eq!(
            again.quantity(DiscardReason::QueueOverflow, DataCategory::Transaction),
            3,
            "restored counts add to new ones"
        );
    }

    #[test]
    fn the_payload_is_the_spec_shape() {
        let reports = ClientReports::default();
        reports.record_transaction(DiscardReason::RatelimitBackoff, 3);
        reports.record(
            DiscardReason::InternalSdkError,
            DataCategory::Transaction,
            1,
        );
        let mut out = Vec::new();
        let at = UNIX_EPOCH + Duration::from_secs(1_795_530_742);
        reports.take().unwrap().write_payload(&mut out, at);
        let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(value["timestamp"], "2026-11-24T14:32:22.000000Z");
        let events = value["discarded_events"].as_array().unwrap();
        let find = |reason: &str, category: &str| {
            events
                .iter()
                .find(|e| e["reason"] == reason && e["category"] == category)
                .map(|e| e["quantity"].as_u64().unwrap())
        };
        assert_eq!(find("ratelimit_backoff", "transaction"), Some(1));
        assert_eq!(find("ratelimit_backoff", "span"), Some(3));
        assert_eq!(find("internal_sdk_error", "transaction"), Some(1));
        assert_eq!(events.len(), 3, "no zero entries: {value}");
    }
}
