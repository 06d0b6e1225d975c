//! Sentry's data categories, as far as this crate sends them: the unit in which rate limits
//! apply (`X-Sentry-Rate-Limits`) and client reports count losses (develop docs:
//! sdk/expected-features/rate-limiting, sdk/telemetry/client-reports).

/// A data category.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum DataCategory {
    /// A transaction event.
    Transaction,
    /// A span: each span of a transaction (the root included), or a streamed span.
    Span,
    /// SDK-internal items: client reports. Rate limits name it `internal`.
    Internal,
    /// A log (each log of a `log` item).
    LogItem,
    /// The bytes of logs (Relay's size of each log: body and attributes), reported alongside
    /// `log_item`; a rate limit on it stops logs too.
    LogByte,
    /// A metric (each metric of a `trace_metric` item).
    TraceMetric,
}

impl DataCategory {
    /// Every category, in index order.
    pub(crate) const ALL: [Self; 6] = [
        Self::Transaction,
        Self::Span,
        Self::Internal,
        Self::LogItem,
        Self::LogByte,
        Self::TraceMetric,
    ];
    /// The number of categories.
    pub(crate) const COUNT: usize = Self::ALL.len();

    /// The wire name.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Transaction => "transaction",
            Self::Span => "span",
            Self::Internal => "internal",
            Self::LogItem => "log_item",
            Self::LogByte => "log_byte",
            Self::TraceMetric => "trace_metric",
        }
    }

    /// The category named `name` on the wire, if we send it.
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// A dense index in `0..COUNT`, for per-category arrays.
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
}
