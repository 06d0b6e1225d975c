//! Outgoing HTTP requests: an `http.client` span, trace headers where the propagation targets
//! allow them, and the response status.

use http::{Request, StatusCode};
use tracing::Span;

use crate::status::SpanStatus;

/// An outgoing request in flight: its `http.client` span, started by [`OutgoingRequest::start`].
///
/// # Examples
///
/// ```
/// use tracing_sentry::integrations::http_client::OutgoingRequest;
/// use tracing_sentry::SentryLayer;
/// use tracing_subscriber::prelude::*;
///
/// let subscriber = tracing_subscriber::registry().with(SentryLayer::new());
/// tracing::subscriber::with_default(subscriber, || {
///     let _handler = tracing::info_span!("handler").entered();
///
///     let mut request = http::Request::get("http://payments.internal/charge")
///         .header("baggage", "tenant=t42")
///         .body(())
///         .unwrap();
///     let call = OutgoingRequest::start(&mut request);
///     assert!(request.headers().contains_key("sentry-trace"));
///     assert!(request.headers()["baggage"].to_str().unwrap().starts_with("tenant=t42,sentry-"));
///
///     // ... send `request` with any client, then:
///     call.finish(http::StatusCode::OK);
/// });
/// ```
#[derive(Debug)]
#[must_use = "finish the request with `finish` or `finish_with_error` to record its outcome"]
pub struct OutgoingRequest {
    span: Span,
}

impl OutgoingRequest {
    /// Starts an `http.client` span (a child of the current span) named `METHOD url`, and adds
    /// `sentry-trace`, `baggage` (merged with any existing `baggage`) and, if configured,
    /// `traceparent` to `request`, naming that span as the parent, unless the
    /// [trace propagation targets](crate::SentryLayerBuilder::trace_propagation_targets) exclude
    /// the request's URL.
    ///
    /// # Examples
    ///
    /// ```
    /// use tracing_sentry::integrations::http_client::OutgoingRequest;
    ///
    /// let mut request = http::Request::get("http://inventory.internal/items").body(()).unwrap();
    /// let call = OutgoingRequest::start(&mut request);
    /// call.finish(http::StatusCode::OK);
    /// ```
    pub fn start<B>(request: &mut Request<B>) -> Self {
        let url = request.uri().to_string();
        let method = request.method().as_str();
        let span = tracing::info_span!(
            "http.client",
            sentry.op = "http.client",
            sentry.name = %format_args!("{method} {url}"),
            http.request.method = method,
            url.full = %url,
            http.response.status_code = tracing::field::Empty,
            sentry.status = tracing::field::Empty,
        );
        span.in_scope(|| crate::inject_headers_for_url(&url, request.headers_mut()));
        Self { span }
    }

    /// Returns the `http.client` span, to enter around the call or to add fields to.
    ///
    /// # Examples
    ///
    /// ```
    /// use tracing_sentry::integrations::http_client::OutgoingRequest;
    ///
    /// let mut request = http::Request::get("http://inventory.internal/items").body(()).unwrap();
    /// let call = OutgoingRequest::start(&mut request);
    /// call.span().record("sentry.status", "ok");
    /// call.finish(http::StatusCode::OK);
    /// ```
    pub fn span(&self) -> &Span {
        &self.span
    }

    /// Records the response status (and the span status Sentry's SDKs map it to) and closes the
    /// span.
    ///
    /// # Examples
    ///
    /// ```
    /// use tracing_sentry::integrations::http_client::OutgoingRequest;
    ///
    /// let mut request = http::Request::get("http://inventory.internal/items").body(()).unwrap();
    /// let call = OutgoingRequest::start(&mut request);
    /// call.finish(http::StatusCode::NOT_FOUND); // status `not_found`
    /// ```
    pub fn finish(self, status: StatusCode) {
        self.span
            .record("http.response.status_code", status.as_u16())
            .record(
                "sentry.status",
                SpanStatus::from_http_status(status.as_u16()).as_str(),
            );
    }

    /// Records a failed request (no response: connection error, timeout) as `internal_error`
    /// and closes the span.
    ///
    /// # Examples
    ///
    /// ```
    /// use tracing_sentry::integrations::http_client::OutgoingRequest;
    ///
    /// let mut request = http::Request::get("http://inventory.internal/items").body(()).unwrap();
    /// let call = OutgoingRequest::start(&mut request);
    /// call.finish_with_error(); // e.g. the connection was refused
    /// ```
    pub fn finish_with_error(self) {
        self.span
            .record("sentry.status", SpanStatus::InternalError.as_str());
    }
}
