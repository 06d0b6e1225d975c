//! `reqwest`: the [`SentryReqwestMiddleware`] for [`reqwest_middleware`] clients, and
//! [`RequestBuilderExt::send_with_trace`] for plain `reqwest` clients.
//!
//! Each request gets an `http.client` span, a child of the caller's current span (in async
//! code: the span the calling future is instrumented with, or the `#[instrument]`ed function it
//! runs in), and carries `sentry-trace` and `baggage` (merged with a `baggage` the request
//! already has) where the
//! [trace propagation targets](crate::SentryLayerBuilder::trace_propagation_targets) allow.
//! The response status is recorded as `http.response.status_code` and as the span status
//! (Sentry's SDK mapping); a request that got no response (connection refused, timeout) is
//! `internal_error`. What the span carries is described in
//! [`http_client`](crate::integrations::http_client): no query string or credentials in its
//! name, nothing from the request headers.
//!
//! The feature enables no TLS stack and no other feature of `reqwest`: your own `reqwest`
//! dependency chooses them.
//!
//! # Examples
//!
//! ```no_run
//! use tracing_sentry::integrations::reqwest::SentryReqwestMiddleware;
//!
//! # async fn call() -> Result<(), reqwest_middleware::Error> {
//! let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
//!     .with(SentryReqwestMiddleware::new())
//!     .build();
//! let response = client.get("http://inventory.internal/items").send().await?;
//! # Ok(())
//! # }
//! ```

use std::future::Future;

use ::reqwest::{Request, Response};
use http::Extensions;
use tracing::Instrument;

use crate::integrations::http_client::{OutgoingRequest, UrlParts, UserInfo};

/// A [`reqwest_middleware::Middleware`] that gives every request an `http.client` span and the
/// trace headers (see the [module documentation](self)).
///
/// # Examples
///
/// ```
/// use tracing_sentry::integrations::reqwest::SentryReqwestMiddleware;
///
/// let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
///     .with(SentryReqwestMiddleware::new())
///     .build();
/// # drop(client);
/// ```
#[derive(Clone, Debug, Default)]
pub struct SentryReqwestMiddleware {
    _private: (),
}

impl SentryReqwestMiddleware {
    /// Returns the middleware.
    ///
    /// # Examples
    ///
    /// ```
    /// let middleware = tracing_sentry::integrations::reqwest::SentryReqwestMiddleware::new();
    /// # drop(middleware);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait::async_trait]
impl reqwest_middleware::Middleware for SentryReqwestMiddleware {
    async fn handle(
        &self,
        mut request: Request,
        extensions: &mut Extensions,
        next: reqwest_middleware::Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        // The body of an `async_trait` method runs on its first poll, inside the caller's
        // future: the current span is the caller's.
        let call = start(&mut request);
        finish(call, next.run(request, extensions)).await
    }
}

/// Sends a plain `reqwest` request with an `http.client` span and the trace headers, for
/// clients without [`reqwest_middleware`].
///
/// # Examples
///
/// ```no_run
/// use tracing_sentry::integrations::reqwest::RequestBuilderExt;
///
/// # async fn call(client: reqwest::Client) -> Result<(), reqwest::Error> {
/// let response = client
///     .get("http://inventory.internal/items")
///     .send_with_trace()
///     .await?;
/// # Ok(())
/// # }
/// ```
pub trait RequestBuilderExt: sealed::Sealed {
    /// Sends the request like [`reqwest::RequestBuilder::send`], inside an `http.client` span
    /// that is a child of the span current when the returned future is first polled, with `sentry-trace` and `baggage` added where the
    /// trace propagation targets allow.
    ///
    /// # Errors
    ///
    /// The errors of [`reqwest::RequestBuilder::send`], including a request that could not be
    /// built (no span is created then).
    fn send_with_trace(self) -> impl Future<Output = ::reqwest::Result<Response>> + Send;
}

impl RequestBuilderExt for ::reqwest::RequestBuilder {
    fn send_with_trace(self) -> impl Future<Output = ::reqwest::Result<Response>> + Send {
        let (client, request) = self.build_split();
        async move {
            // Started on the first poll, as the middleware is: the parent is the span of the
            // future that awaits this one, even if it is instrumented after the call.
            let mut request = request?;
            let call = start(&mut request);
            finish(call, client.execute(request)).await
        }
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for ::reqwest::RequestBuilder {}
}

/// Runs `sending` inside the call's span and records its outcome.
async fn finish<E>(
    call: OutgoingRequest,
    sending: impl Future<Output = Result<Response, E>>,
) -> Result<Response, E> {
    let result = sending.instrument(call.span().clone()).await;
    match &result {
        Ok(response) => call.finish(response.status()),
        Err(_) => call.finish_with_error(),
    }
    result
}

/// Starts the `http.client` span of a `reqwest` request and adds the trace headers.
fn start(request: &mut Request) -> OutgoingRequest {
    // Take the headers out rather than copy the URL: the parts borrow the request.
    let mut headers = std::mem::take(request.headers_mut());
    let url = request.url();
    let user_info = match (url.username().is_empty(), url.password().is_some()) {
        (_, true) => Some(UserInfo::UserAndPassword),
        (false, false) => Some(UserInfo::User),
        (true, false) => None,
    };
    let parts = UrlParts {
        scheme: Some(url.scheme()),
        user_info,
        host: url.host_str(),
        port: url.port(),
        path: url.path(),
        query: url.query(),
        fragment: url.fragment(),
    };
    let call =
        OutgoingRequest::start_parts(request.method(), &parts, url.as_str(), &mut headers, None);
    *request.headers_mut() = headers;
    call
}
