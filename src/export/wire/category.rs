//! Sentry's data categories: the unit in which rate limits apply (`X-Sentry-Rate-Limits`) and
//! client reports count losses (develop docs: sdk/expected-features/rate-limiting,
//! sdk/telemetry/client-reports, the data-category list of sdk/foundations/transport), and the
//! [`Priority`] of each when the export queue is congested.

/// A data category.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum DataCategory {
    /// A transaction event.
    Transaction,
    /// A span: each span of a transaction (the root included), or a streamed span.
    Span,
    /// SDK-internal items: client reports. Rate limits name it `internal`.
    Internal,
    /// An error (or message) event: `event` items.
    Error,
    /// User feedback.
    Feedback,
    /// A release-health session update or session aggregates.
    Session,
    /// A cron check-in (`check_in` items).
    Monitor,
    /// An attachment; client reports count its bytes.
    Attachment,
    /// A log record (each record of a `log` container).
    LogItem,
    /// The bytes of log records (client reports only).
    LogByte,
    /// A trace metric (each metric of a `trace_metric` container).
    TraceMetric,
    /// A profile or profile chunk.
    Profile,
    /// A session replay.
    Replay,
}

impl DataCategory {
    /// Every category, in index order.
    pub(crate) const ALL: [Self; 13] = [
        Self::Transaction,
        Self::Span,
        Self::Internal,
        Self::Error,
        Self::Feedback,
        Self::Session,
        Self::Monitor,
        Self::Attachment,
        Self::LogItem,
        Self::LogByte,
        Self::TraceMetric,
        Self::Profile,
        Self::Replay,
    ];
    /// The number of categories.
    pub(crate) const COUNT: usize = Self::ALL.len();

    /// The wire name.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Transaction => "transaction",
            Self::Span => "span",
            Self::Internal => "internal",
            Self::Error => "error",
            Self::Feedback => "feedback",
            Self::Session => "session",
            Self::Monitor => "monitor",
            Self::Attachment => "attachment",
            Self::LogItem => "log_item",
            Self::LogByte => "log_byte",
            Self::TraceMetric => "trace_metric",
            Self::Profile => "profile",
            Self::Replay => "replay",
        }
    }

    /// The category named `name` on the wire, if we send it.
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// The category of an envelope item of type `ty` (the envelope spec's item types), if it
    /// has one: unknown types are sent and limited only by a limit on every category.
    #[cfg_attr(
        not(any(feature = "sentry", test)),
        expect(
            dead_code,
            reason = "only the `sentry` integration sends envelopes written elsewhere"
        )
    )]
    pub(crate) fn of_item_type(ty: &str) -> Option<Self> {
        Some(match ty {
            "event" => Self::Error,
            "transaction" => Self::Transaction,
            "span" => Self::Span,
            "client_report" => Self::Internal,
            "feedback" | "user_report" => Self::Feedback,
            "session" | "sessions" => Self::Session,
            "check_in" => Self::Monitor,
            "attachment" => Self::Attachment,
            "log" => Self::LogItem,
            "trace_metric" => Self::TraceMetric,
            "profile" | "profile_chunk" => Self::Profile,
            "replay_event" | "replay_recording" | "replay_video" => Self::Replay,
            _ => return None,
        })
    }

    /// A dense index in `0..COUNT`, for per-category arrays.
    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// Its priority when the queue is congested (Sentry's telemetry buffer: errors first,
    /// then check-ins and sessions, then transactions, then spans, logs and metrics, replays
    /// last).
    pub(crate) fn priority(self) -> Priority {
        match self {
            Self::Error | Self::Feedback | Self::Attachment => Priority::Critical,
            Self::Monitor | Self::Session => Priority::High,
            Self::Transaction | Self::Internal => Priority::Medium,
            Self::Span | Self::LogItem | Self::LogByte | Self::TraceMetric | Self::Profile => {
                Priority::Low
            }
            Self::Replay => Priority::Lowest,
        }
    }
}

/// How urgently work goes out when the export queue is congested: the queue hands out higher
/// priorities first and, when full, sheds the lowest priority first to make room.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Priority {
    /// Replays; also the pipeline's own pending client reports (they stay counted when shed).
    Lowest,
    /// Spans, logs, metrics, profiles.
    Low,
    /// Transactions.
    Medium,
    /// Check-ins and sessions.
    High,
    /// Errors, feedback (and their attachments).
    Critical,
}

impl Priority {
    /// The number of priorities.
    pub(crate) const COUNT: usize = 5;

    /// A dense index in `0..COUNT`, lowest first.
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_indices_are_dense() {
        for (i, category) in DataCategory::ALL.into_iter().enumerate() {
            assert_eq!(DataCategory::from_name(category.as_str()), Some(category));
            assert_eq!(category.index(), i);
        }
        assert_eq!(DataCategory::from_name("transactions"), None);
        assert_eq!(DataCategory::from_name(""), None);
    }

    #[test]
    fn item_types_map_to_the_develop_docs_categories() {
        let want = [
            ("event", "error"),
            ("transaction", "transaction"),
            ("session", "session"),
            ("sessions", "session"),
            ("check_in", "monitor"),
            ("attachment", "attachment"),
            ("log", "log_item"),
            ("client_report", "internal"),
            ("trace_metric", "trace_metric"),
            ("replay_recording", "replay"),
        ];
        for (ty, name) in want {
            assert_eq!(
                DataCategory::of_item_type(ty).map(DataCategory::as_str),
                Some(name)
            );
        }
        assert_eq!(DataCategory::of_item_type("something_new"), None);
    }

    #[test]
    fn errors_outrank_check_ins_outrank_transactions_outrank_spans_and_logs() {
        use DataCategory as C;
        assert!(C::Error.priority() > C::Monitor.priority());
        assert!(C::Monitor.priority() > C::Transaction.priority());
        assert!(C::Transaction.priority() > C::Span.priority());
        assert_eq!(C::Span.priority(), C::LogItem.priority());
        assert!(C::LogItem.priority() > C::Replay.priority());
        assert_eq!(Priority::Critical.index(), Priority::COUNT - 1);
    }
}
