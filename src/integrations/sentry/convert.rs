//! `From` conversions between our ids and status and the `sentry` protocol types.

use sentry_core::protocol;

use crate::id::{SpanId, TraceId};
use crate::status::SpanStatus;

impl From<TraceId> for protocol::TraceId {
    fn from(id: TraceId) -> Self {
        protocol::TraceId::from(id.to_bytes())
    }
}

impl From<protocol::TraceId> for TraceId {
    fn from(id: protocol::TraceId) -> Self {
        // The protocol type exposes its bytes only through its hex form.
        id.to_string()
            .parse()
            .unwrap_or(TraceId::from_bytes([0; 16]))
    }
}

impl From<SpanId> for protocol::SpanId {
    fn from(id: SpanId) -> Self {
        protocol::SpanId::from(id.to_bytes())
    }
}

impl From<protocol::SpanId> for SpanId {
    fn from(id: protocol::SpanId) -> Self {
        id.to_string().parse().unwrap_or(SpanId::from_bytes([0; 8]))
    }
}

/// The same names on the wire; our `Unknown` is the protocol's `UnknownError`.
impl From<SpanStatus> for protocol::SpanStatus {
    fn from(status: SpanStatus) -> Self {
        use protocol::SpanStatus as P;
        match status {
            SpanStatus::Ok => P::Ok,
            SpanStatus::Cancelled => P::Cancelled,
            SpanStatus::Unknown => P::UnknownError,
            SpanStatus::InvalidArgument => P::InvalidArgument,
            SpanStatus::DeadlineExceeded => P::DeadlineExceeded,
            SpanStatus::NotFound => P::NotFound,
            SpanStatus::AlreadyExists => P::AlreadyExists,
            SpanStatus::PermissionDenied => P::PermissionDenied,
            SpanStatus::ResourceExhausted => P::ResourceExhausted,
            SpanStatus::FailedPrecondition => P::FailedPrecondition,
            SpanStatus::Aborted => P::Aborted,
            SpanStatus::OutOfRange => P::OutOfRange,
            SpanStatus::Unimplemented => P::Unimplemented,
            SpanStatus::InternalError => P::InternalError,
            SpanStatus::Unavailable => P::Unavailable,
            SpanStatus::DataLoss => P::DataLoss,
            SpanStatus::Unauthenticated => P::Unauthenticated,
        }
    }
}

impl From<protocol::SpanStatus> for SpanStatus {
    /// A status this crate does not know (the protocol enum is non-exhaustive) becomes
    /// [`SpanStatus::Unknown`].
    fn from(status: protocol::SpanStatus) -> Self {
        use protocol::SpanStatus as P;
        match status {
            P::Ok => SpanStatus::Ok,
            P::Cancelled => SpanStatus::Cancelled,
            P::UnknownError => SpanStatus::Unknown,
            P::InvalidArgument => SpanStatus::InvalidArgument,
            P::DeadlineExceeded => SpanStatus::DeadlineExceeded,
            P::NotFound => SpanStatus::NotFound,
            P::AlreadyExists => SpanStatus::AlreadyExists,
            P::PermissionDenied => SpanStatus::PermissionDenied,
            P::ResourceExhausted => SpanStatus::ResourceExhausted,
            P::FailedPrecondition => SpanStatus::FailedPrecondition,
            P::Aborted => SpanStatus::Aborted,
            P::OutOfRange => SpanStatus::OutOfRange,
            P::Unimplemented => SpanStatus::Unimplemented,
            P::InternalError => SpanStatus::InternalError,
            P::Unavailable => SpanStatus::Unavailable,
            P::DataLoss => SpanStatus::DataLoss,
            P::Unauthenticated => SpanStatus::Unauthenticated,
            _ => SpanStatus::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_the_protocol_types() {
        let trace: TraceId = "771a43a4192642f0b136d5159a501700".parse().unwrap();
        let theirs = protocol::TraceId::from(trace);
        assert_eq!(theirs.to_string(), "771a43a4192642f0b136d5159a501700");
        assert_eq!(TraceId::from(theirs), trace);

        let span: SpanId = "b7ad6b7169203331".parse().unwrap();
        let theirs = protocol::SpanId::from(span);
        assert_eq!(theirs.to_string(), "b7ad6b7169203331");
        assert_eq!(SpanId::from(theirs), span);
    }

    #[test]
    fn every_status_maps_to_the_same_name() {
        for name in [
            "ok",
            "deadline_exceeded",
            "unauthenticated",
            "permission_denied",
            "not_found",
            "resource_exhausted",
            "invalid_argument",
            "unimplemented",
            "unavailable",
            "internal_error",
            "unknown_error",
            "cancelled",
            "already_exists",
            "failed_precondition",
            "aborted",
            "out_of_range",
            "data_loss",
        ] {
            let theirs: protocol::SpanStatus = name.parse().unwrap();
            let ours = SpanStatus::from(theirs);
            // Ours writes `unknown` for the protocol's `unknown_error` (and parses both).
            assert_eq!(ours, name.parse::<SpanStatus>().unwrap());
            assert_eq!(protocol::SpanStatus::from(ours), theirs);
        }
    }
}
