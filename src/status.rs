//! Span status values Sentry accepts.

use std::fmt;
use std::str::FromStr;

macro_rules! statuses {
    ($( $(#[$doc:meta])* $variant:ident => $wire:literal ),* $(,)?) => {
        /// The status of a span or transaction, as Sentry accepts it (`contexts.trace.status`,
        /// span `status`).
        ///
        /// Set it on a span with the `sentry.status` field; values Sentry does not accept are
        /// ignored. An `ERROR` event inside a span sets [`SpanStatus::InternalError`] unless a
        /// status was set explicitly.
        ///
        /// # Examples
        ///
        /// ```
        /// use tracing_sentry::SpanStatus;
        ///
        /// assert_eq!("not_found".parse::<SpanStatus>(), Ok(SpanStatus::NotFound));
        /// assert_eq!(SpanStatus::from_http_status(503), SpanStatus::Unavailable);
        /// assert!("teapot".parse::<SpanStatus>().is_err());
        /// ```
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum SpanStatus {
            $( $(#[$doc])* $variant, )*
        }

        impl SpanStatus {
            /// Returns the wire name (`"ok"`, `"internal_error"`, ...): the name Sentry's ingestion
            /// (Relay) keeps, and the one sent in transactions.
            ///
            /// # Examples
            ///
            /// ```
            /// assert_eq!(tracing_sentry::SpanStatus::DeadlineExceeded.as_str(), "deadline_exceeded");
            /// ```
            pub const fn as_str(self) -> &'static str {
                match self { $( Self::$variant => $wire, )* }
            }
        }

        impl FromStr for SpanStatus {
            type Err = UnknownSpanStatus;

            /// Parses a wire name; `unknown_error` (the older spelling, which Relay also reads as
            /// `unknown`) is accepted as [`SpanStatus::Unknown`].
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $( $wire => Ok(Self::$variant), )*
                    "unknown_error" => Ok(Self::Unknown),
                    _ => Err(UnknownSpanStatus(())),
                }
            }
        }
    };
}

statuses! {
    /// The operation completed successfully.
    Ok => "ok",
    /// The operation was cancelled, typically by the caller.
    Cancelled => "cancelled",
    /// An unknown error.
    Unknown => "unknown",
    /// The client specified an invalid argument (HTTP 4xx).
    InvalidArgument => "invalid_argument",
    /// The deadline expired before the operation could complete (HTTP 504).
    DeadlineExceeded => "deadline_exceeded",
    /// The entity was not found (HTTP 404).
    NotFound => "not_found",
    /// The entity already exists (HTTP 409).
    AlreadyExists => "already_exists",
    /// The caller may not perform the operation (HTTP 403).
    PermissionDenied => "permission_denied",
    /// A resource was exhausted, e.g. a rate limit (HTTP 429).
    ResourceExhausted => "resource_exhausted",
    /// The system was not in a state required for the operation (HTTP 413 in Sentry's mapping).
    FailedPrecondition => "failed_precondition",
    /// The operation was aborted.
    Aborted => "aborted",
    /// The operation was attempted past the valid range.
    OutOfRange => "out_of_range",
    /// The operation is not implemented (HTTP 501).
    Unimplemented => "unimplemented",
    /// An internal error (HTTP 5xx).
    InternalError => "internal_error",
    /// The service is unavailable (HTTP 503).
    Unavailable => "unavailable",
    /// Unrecoverable data loss.
    DataLoss => "data_loss",
    /// The caller is not authenticated (HTTP 401).
    Unauthenticated => "unauthenticated",
}

impl SpanStatus {
    /// Maps an HTTP response status to a span status, as Sentry's Python and JavaScript SDKs do.
    ///
    /// # Examples
    ///
    /// ```
    /// use tracing_sentry::SpanStatus;
    ///
    /// assert_eq!(SpanStatus::from_http_status(200), SpanStatus::Ok);
    /// assert_eq!(SpanStatus::from_http_status(429), SpanStatus::ResourceExhausted);
    /// assert_eq!(SpanStatus::from_http_status(418), SpanStatus::InvalidArgument);
    /// ```
    pub fn from_http_status(status: u16) -> Self {
        match status {
            0..=399 => Self::Ok,
            401 => Self::Unauthenticated,
            403 => Self::PermissionDenied,
            404 => Self::NotFound,
            409 => Self::AlreadyExists,
            413 => Self::FailedPrecondition,
            429 => Self::ResourceExhausted,
            499 => Self::Cancelled,
            400..=499 => Self::InvalidArgument,
            501 => Self::Unimplemented,
            503 => Self::Unavailable,
            504 => Self::DeadlineExceeded,
            _ => Self::InternalError,
        }
    }
}

impl fmt::Display for SpanStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error returned when a string is not a span status Sentry accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownSpanStatus(());

impl fmt::Display for UnknownSpanStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a span status Sentry accepts")
    }
}

impl std::error::Error for UnknownSpanStatus {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_round_trips_through_its_wire_name() {
        for code in 0..600u16 {
            let status = SpanStatus::from_http_status(code);
            assert_eq!(status.as_str().parse::<SpanStatus>(), Ok(status));
        }
    }

    #[test]
    fn http_mapping_follows_the_sdks() {
        #[rustfmt::skip]
        let table = [
            (200, "ok"), (302, "ok"), (401, "unauthenticated"), (403, "permission_denied"),
            (404, "not_found"), (409, "already_exists"), (413, "failed_precondition"),
            (429, "resource_exhausted"), (499, "cancelled"), (400, "invalid_argument"),
            (501, "unimplemented"), (503, "unavailable"), (504, "deadline_exceeded"),
            (500, "internal_error"), (502, "internal_error"),
        ];
        for (code, wire) in table {
            assert_eq!(
                SpanStatus::from_http_status(code).as_str(),
                wire,
                "HTTP {code}"
            );
        }
    }

    /// Relay's own names for every status: `SpanStatus::as_str` in getsentry/relay,
    /// `relay-base-schema/src/spans.rs` (Relay writes these back after normalisation; `unknown`
    /// is `unknown`, and `unknown_error` is only an alias it reads).
    #[rustfmt::skip]
    const RELAY_NAMES: &[(SpanStatus, &str)] = &[
        (SpanStatus::Ok, "ok"), (SpanStatus::Cancelled, "cancelled"), (SpanStatus::Unknown, "unknown"),
        (SpanStatus::InvalidArgument, "invalid_argument"),
        (SpanStatus::DeadlineExceeded, "deadline_exceeded"), (SpanStatus::NotFound, "not_found"),
        (SpanStatus::AlreadyExists, "already_exists"),
        (SpanStatus::PermissionDenied, "permission_denied"),
        (SpanStatus::ResourceExhausted, "resource_exhausted"),
        (SpanStatus::FailedPrecondition, "failed_precondition"), (SpanStatus::Aborted, "aborted"),
        (SpanStatus::OutOfRange, "out_of_range"), (SpanStatus::Unimplemented, "unimplemented"),
        (SpanStatus::InternalError, "internal_error"), (SpanStatus::Unavailable, "unavailable"),
        (SpanStatus::DataLoss, "data_loss"), (SpanStatus::Unauthenticated, "unauthenticated"),
    ];

    #[test]
    fn every_status_is_sent_with_the_name_relay_keeps() {
        assert_eq!(RELAY_NAMES.len(), 17, "Relay has 17 statuses");
        for &(status, relay) in RELAY_NAMES {
            assert_eq!(status.as_str(), relay, "{status:?}");
            assert_eq!(relay.parse::<SpanStatus>(), Ok(status), "{relay}");
        }
        assert_eq!(
            "unknown_error".parse::<SpanStatus>(),
            Ok(SpanStatus::Unknown)
        );
    }
}
