//! A `tower` layer for HTTP servers (axum, hyper, tonic): every request gets an `http.server`
//! span that continues the caller's trace, so handler spans nest under it with no code in the
//! handler.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tracing::instrument::Instrumented;
use tracing::{Instrument, Span};

use crate::propagation::{ExtractOptions, PropagationContext};
use crate::status::SpanStatus;

type RouteFn = dyn Fn(&http::Extensions) -> Option<String> + Send + Sync;

/// A [`tower_layer::Layer`] that wraps each request in an `http.server` span continuing the
/// caller's trace from its `sentry-trace` and `baggage` headers.
///
/// The span is named `METHOD /route` with source `route` when a route is known (see
/// [`route_from_extensions`](Self::route_from_extensions)), else `METHOD /path` with source
/// `url` (kept out of the dynamic sampling context, as Sentry does for raw URLs). The response
/// status is recorded as `http.response.status_code` and as the span status.
///
/// # Examples
///
/// ```
/// use tracing_sentry::integrations::tower::SentryHttpLayer;
///
/// // With axum, read the matched route from the request extensions:
/// // let layer = SentryHttpLayer::new().route_from_extensions(|ext| {
/// //     ext.get::<axum::extract::MatchedPath>().map(|p| p.as_str().to_owned())
/// // });
/// let layer = SentryHttpLayer::new();
/// # drop(layer);
/// ```
#[derive(Clone, Default)]
pub struct SentryHttpLayer {
    route: Option<Arc<RouteFn>>,
    accept_traceparent: bool,
}

impl SentryHttpLayer {
    /// Returns a layer that names spans after the request path.
    ///
    /// # Examples
    ///
    /// ```
    /// let layer = tracing_sentry::integrations::tower::SentryHttpLayer::new();
    /// # drop(layer);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Names spans after the route found by `route` in the request extensions (for axum:
    /// `MatchedPath`), with transaction source `route`.
    ///
    /// # Examples
    ///
    /// ```
    /// #[derive(Clone)]
    /// struct Route(&'static str); // set by your router
    ///
    /// let layer = tracing_sentry::integrations::tower::SentryHttpLayer::new()
    ///     .route_from_extensions(|ext| ext.get::<Route>().map(|r| r.0.to_owned()));
    /// # drop(layer);
    /// ```
    pub fn route_from_extensions<F>(mut self, route: F) -> Self
    where
        F: Fn(&http::Extensions) -> Option<String> + Send + Sync + 'static,
    {
        self.route = Some(Arc::new(route));
        self
    }

    /// Continues a trace from `traceparent` when no `sentry-trace` header arrived.
    ///
    /// # Examples
    ///
    /// ```
    /// let layer = tracing_sentry::integrations::tower::SentryHttpLayer::new().accept_traceparent(true);
    /// # drop(layer);
    /// ```
    pub fn accept_traceparent(mut self, enabled: bool) -> Self {
        self.accept_traceparent = enabled;
        self
    }
}

impl fmt::Debug for SentryHttpLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SentryHttpLayer")
            .field("route", &self.route.is_some())
            .field("accept_traceparent", &self.accept_traceparent)
            .finish()
    }
}

impl<S> tower_layer::Layer<S> for SentryHttpLayer {
    type Service = SentryHttpService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SentryHttpService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service produced by [`SentryHttpLayer`].
#[derive(Clone, Debug)]
pub struct SentryHttpService<S> {
    inner: S,
    layer: SentryHttpLayer,
}

impl<S, ReqBody, ResBody> tower_service::Service<Request<ReqBody>> for SentryHttpService<S>
where
    S: tower_service::Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let span = request_span(&self.layer, &request);
        let future = span.in_scope(|| self.inner.call(request));
        ResponseFuture {
            inner: future.instrument(span.clone()),
            span,
        }
    }
}

fn request_span<B>(layer: &SentryHttpLayer, request: &Request<B>) -> Span {
    let method = request.method().as_str();
    let (route, source) = match layer.route.as_ref().and_then(|r| r(request.extensions())) {
        Some(route) => (route, "route"),
        None => (request.uri().path().to_owned(), "url"),
    };
    let make = || {
        tracing::info_span!(
            "http.server",
            sentry.op = "http.server",
            sentry.name = %format_args!("{method} {route}"),
            sentry.source = source,
            http.request.method = method,
            url.path = request.uri().path(),
            http.response.status_code = tracing::field::Empty,
            sentry.status = tracing::field::Empty,
        )
    };
    let options = ExtractOptions {
        accept_traceparent: layer.accept_traceparent,
        ..ExtractOptions::default()
    };
    // Malformed trace headers never fail the request: the span starts a new trace.
    match PropagationContext::from_headers_with(options, request.headers()) {
        Ok(Some(parent)) => crate::continue_trace(parent, make),
        _ => make(),
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`SentryHttpService`]: records the status on the request span.
    pub struct ResponseFuture<F> {
        #[pin]
        inner: Instrumented<F>,
        span: Span,
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = std::task::ready!(this.inner.poll(cx));
        let status = match &result {
            Ok(response) => {
                let code = response.status().as_u16();
                this.span.record("http.response.status_code", code);
                SpanStatus::from_http_status(code)
            }
            Err(_) => SpanStatus::InternalError,
        };
        this.span.record("sentry.status", status.as_str());
        Poll::Ready(result)
    }
}
