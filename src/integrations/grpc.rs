//! gRPC: span statuses from gRPC status codes, and how gRPC calls are recognised.
//!
//! gRPC runs over HTTP/2, so the `tower` layers serve it with no extra setup (feature
//! `tower`): [`SentryHttpLayer`](crate::integrations::tower::SentryHttpLayer) on a tonic server
//! and [`SentryHttpClientLayer`](crate::integrations::tower::SentryHttpClientLayer) around a
//! tonic channel. A request whose `content-type` starts with `application/grpc` is a gRPC call:
//! its span gets the op `grpc.server` or `grpc.client`, is named after the method
//! (`/package.Service/Method`, source `route`), carries `rpc.system`, `rpc.service`,
//! `rpc.method` and `rpc.grpc.status_code`, and takes its status from the `grpc-status` the
//! peer sent (in the response headers, or in the trailers once the body has been read), mapped
//! by [`span_status`].

#[cfg(feature = "tower")]
use http::HeaderMap;

use crate::status::SpanStatus;

/// The `grpc-status` header or trailer.
#[cfg(feature = "tower")]
const GRPC_STATUS: &str = "grpc-status";

/// Maps a gRPC status code to the span status Sentry's SDKs map it to: the span statuses
/// *are* the gRPC codes, by name (`2`, `UNKNOWN`, is [`SpanStatus::Unknown`]). Codes outside
/// the gRPC range are [`SpanStatus::Unknown`].
///
/// # Examples
///
/// ```
/// use tracing_sentry::integrations::grpc::span_status;
/// use tracing_sentry::SpanStatus;
///
/// assert_eq!(span_status(0), SpanStatus::Ok);
/// assert_eq!(span_status(5), SpanStatus::NotFound); // NOT_FOUND
/// assert_eq!(span_status(14), SpanStatus::Unavailable); // UNAVAILABLE
/// assert_eq!(span_status(99), SpanStatus::Unknown);
/// ```
pub fn span_status(code: i32) -> SpanStatus {
    match code {
        0 => SpanStatus::Ok,
        1 => SpanStatus::Cancelled,
        3 => SpanStatus::InvalidArgument,
        4 => SpanStatus::DeadlineExceeded,
        5 => SpanStatus::NotFound,
        6 => SpanStatus::AlreadyExists,
        7 => SpanStatus::PermissionDenied,
        8 => SpanStatus::ResourceExhausted,
        9 => SpanStatus::FailedPrecondition,
        10 => SpanStatus::Aborted,
        11 => SpanStatus::OutOfRange,
        12 => SpanStatus::Unimplemented,
        13 => SpanStatus::InternalError,
        14 => SpanStatus::Unavailable,
        15 => SpanStatus::DataLoss,
        16 => SpanStatus::Unauthenticated,
        _ => SpanStatus::Unknown,
    }
}

#[cfg(feature = "tower")]
/// Whether a request or response with these headers is gRPC (`content-type:
/// application/grpc`, `application/grpc+proto`, ...).
pub(crate) fn is_grpc(headers: &HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"))
}

#[cfg(feature = "tower")]
/// The `grpc-status` code in `headers` (trailers, or the headers of a trailers-only
/// response), if there is a valid one.
pub(crate) fn status_code(headers: &HeaderMap) -> Option<i32> {
    let value = headers.get(GRPC_STATUS)?.to_str().ok()?;
    value.trim().parse().ok()
}

/// Splits a gRPC path `/package.Service/Method` into service and method.
pub(crate) fn service_and_method(path: &str) -> Option<(&str, &str)> {
    let (service, method) = path.strip_prefix('/')?.split_once('/')?;
    (!service.is_empty() && !method.is_empty() && !method.contains('/'))
        .then_some((service, method))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_grpc_code_maps_to_the_status_of_the_same_name() {
        #[rustfmt::skip]
        let table = [
            (0, "ok"), (1, "cancelled"), (2, "unknown"), (3, "invalid_argument"),
            (4, "deadline_exceeded"), (5, "not_found"), (6, "already_exists"),
            (7, "permission_denied"), (8, "resource_exhausted"), (9, "failed_precondition"),
            (10, "aborted"), (11, "out_of_range"), (12, "unimplemented"), (13, "internal_error"),
            (14, "unavailable"), (15, "data_loss"), (16, "unauthenticated"),
            (17, "unknown"), (-1, "unknown"),
        ];
        for (code, wire) in table {
            assert_eq!(span_status(code).as_str(), wire, "gRPC code {code}");
        }
    }

    #[test]
    fn grpc_paths_split_into_service_and_method() {
        assert_eq!(
            service_and_method("/shop.Inventory/Reserve"),
            Some(("shop.Inventory", "Reserve"))
        );
        assert_eq!(service_and_method("/shop.Inventory/"), None);
        assert_eq!(service_and_method("/a/b/c"), None);
        assert_eq!(service_and_method("no-slash"), None);
    }

    #[cfg(feature = "tower")]
    #[test]
    fn status_codes_are_read_only_when_valid() {
        let mut headers = HeaderMap::new();
        assert_eq!(status_code(&headers), None);
        headers.insert(GRPC_STATUS, "5".parse().unwrap());
        assert_eq!(status_code(&headers), Some(5));
        headers.insert(GRPC_STATUS, "five".parse().unwrap());
        assert_eq!(status_code(&headers), None);
        headers.insert(
            http::header::CONTENT_TYPE,
            "application/grpc+proto".parse().unwrap(),
        );
        assert!(is_grpc(&headers));
    }
}
