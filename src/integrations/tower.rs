//! `tower` layers for HTTP servers (axum, hyper, tonic) and clients (hyper-util, tonic channels).
//!
//! - [`SentryHttpLayer`] (servers): every request gets an `http.server` span (`grpc.server` for
//!   gRPC) that continues the caller's trace, so handler spans nest under it with no code in
//!   the handler.
//! - [`SentryHttpClientLayer`] (clients: hyper-util's client, a tonic channel, any
//!   `tower::Service<http::Request<B>>`): every request gets an `http.client` span
//!   (`grpc.client` for gRPC), a child of the caller's current span, and carries the trace
//!   headers where the trace propagation targets allow.
//!
//! Both set the span's op, name, source, origin and status through the
//! [`SentryLayer`](crate::SentryLayer), not as span fields, so a fmt layer's lines show only
//! the request's method and path (or gRPC service and method). A gRPC span's status comes from
//! `grpc-status`, read from the response headers or, for a successful call, from the trailers:
//! the span then stays open until the response body has been read (see
//! [`grpc`]).
//!
//! # Examples
//!
//! A server and a client: the client's `http.client` span is the parent of the server's
//! `http.server` span.
//!
//! ```
//! use std::convert::Infallible;
//! use tower::{Layer, Service, ServiceExt};
//! use tracing_sentry::integrations::tower::{SentryHttpClientLayer, SentryHttpLayer};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Infallible> {
//! use tracing_subscriber::prelude::*;
//! let subscriber = tracing_subscriber::registry().with(tracing_sentry::SentryLayer::new());
//! let _default = tracing::subscriber::set_default(subscriber);
//!
//! // Server side: any `tower::Service<http::Request<B>>`, e.g. an axum `Router` (`.layer(..)`).
//! let server = SentryHttpLayer::new().layer(tower::service_fn(|request: http::Request<String>| async move {
//!     assert!(request.headers().contains_key("sentry-trace"));
//!     Ok::<_, Infallible>(http::Response::new(String::from("ok")))
//! }));
//!
//! // Client side: the server stands in for the network here.
//! let mut client = SentryHttpClientLayer::new().layer(server);
//! let request = http::Request::get("http://inventory.internal/items").body(String::new()).unwrap();
//! let response = client.ready().await?.call(request).await?;
//! assert_eq!(response.status(), http::StatusCode::OK);
//! # Ok(())
//! # }
//! ```

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tracing::instrument::Instrumented;
use tracing::{Instrument, Span};

use crate::config::Config;
use crate::field::FieldValue;
use crate::integrations::grpc;
use crate::integrations::http_client::{self, OutgoingRequest};
use crate::propagation::PropagationContext;
use crate::span::recording::{FIELD_NAME, FIELD_OP, FIELD_ORIGIN, FIELD_SOURCE};
use crate::stats::StatsInner;
use crate::status::SpanStatus;

type RouteFn = dyn Fn(&http::Extensions) -> Option<String> + Send + Sync;

/// The span origin of server spans created by [`SentryHttpLayer`].
const ORIGIN_SERVER: &str = "auto.http.tracing_sentry";

// === server ===

/// A [`tower_layer::Layer`] that wraps each request in an `http.server` span continuing the
/// caller's trace from its `sentry-trace` and `baggage` headers (and `traceparent`, when the
/// [`SentryLayer`](crate::SentryLayer) is built with
/// [`accept_traceparent`](crate::SentryLayerBuilder::accept_traceparent)).
///
/// The span is named `METHOD /route` with source `route` when a route is known (see
/// [`route_from_extensions`](Self::route_from_extensions)), else `METHOD /path` with source
/// `url` (kept out of the dynamic sampling context, as Sentry does for raw URLs). A gRPC call
/// is a `grpc.server` span named `/package.Service/Method` with source `route`. The span fields
/// are `http.request.method` and `url.path` (`http.route` with a route), or `rpc.system`,
/// `rpc.service` and `rpc.method` for gRPC; op, name, source, status and the status code
/// (`http.response.status_code`, `rpc.grpc.status_code`) are set through the layer.
/// Malformed trace headers never fail a request: the span starts a new trace, and the layer
/// counts them in [`Stats::invalid_incoming_headers`](crate::Stats::invalid_incoming_headers).
///
/// The response body is wrapped in [`SentryBody`], which keeps a gRPC span open until the
/// status arrives in the trailers.
///
/// A panic of the inner service is recorded on the span (`internal_error`, status code 500)
/// and then continues to unwind, so the request is a failed transaction whichever layer
/// catches the panic: tower-http's `CatchPanicLayer` outside this layer (the usual axum order),
/// inside it, or the runtime's task.
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
}

impl fmt::Debug for SentryHttpLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SentryHttpLayer")
            .field("route", &self.route.is_some())
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
    type Response = Response<SentryBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let (span, grpc) = server_span(&self.layer, &request);
        ResponseFuture::start(span, Side::Server { grpc }, || self.inner.call(request))
    }
}

fn server_span<B>(layer: &SentryHttpLayer, request: &Request<B>) -> (Span, bool) {
    let method = request.method().as_str();
    let path = request.uri().path();
    let grpc_call = grpc::is_grpc(request.headers())
        .then(|| grpc::service_and_method(path))
        .flatten();
    let route = match grpc_call {
        Some(_) => None,
        None => layer.route.as_ref().and_then(|r| r(request.extensions())),
    };
    let make = || match (grpc_call, &route) {
        (Some((service, rpc_method)), _) => tracing::info_span!(
            "grpc.server",
            rpc.system = "grpc",
            rpc.service = service,
            rpc.method = rpc_method,
        ),
        (None, Some(route)) => tracing::info_span!(
            "http.server",
            http.request.method = method,
            http.route = route.as_str(),
            url.path = path,
        ),
        (None, None) => {
            tracing::info_span!("http.server", http.request.method = method, url.path = path,)
        }
    };
    let config = crate::span::access::current_config();
    let options = config
        .as_deref()
        .map(Config::extract_options)
        .unwrap_or_default();
    let span = match PropagationContext::from_headers_with(options, request.headers()) {
        Ok(Some(parent)) => crate::continue_trace(parent, make),
        Ok(None) => make(),
        Err(_) => {
            if let Some(config) = &config {
                StatsInner::incr(&config.stats.invalid_incoming_headers);
            }
            make()
        }
    };
    crate::span::properties::set_span_properties(&span, || {
        let (op, name, source) = match (grpc_call, route) {
            (Some(_), _) => ("grpc.server", path.to_owned(), "route"),
            (None, Some(route)) => ("http.server", format!("{method} {route}"), "route"),
            (None, None) => ("http.server", format!("{method} {path}"), "url"),
        };
        vec![
            (Cow::Borrowed(FIELD_OP), FieldValue::Str(op.to_owned())),
            (Cow::Borrowed(FIELD_NAME), FieldValue::Str(name)),
            (
                Cow::Borrowed(FIELD_SOURCE),
                FieldValue::Str(source.to_owned()),
            ),
            (
                Cow::Borrowed(FIELD_ORIGIN),
                FieldValue::Str(ORIGIN_SERVER.to_owned()),
            ),
        ]
    });
    if config.as_ref().is_some_and(|c| c.send_default_pii) {
        crate::span::properties::set_span_properties(&span, || user_data(request));
    }
    (span, grpc_call.is_some())
}

/// What the server span records only with `send_default_pii(true)`, under Sentry's and
/// OpenTelemetry's names: the query string, the user agent and the client's address as the
/// proxies in front reported it (`X-Forwarded-For`'s first entry, else `X-Real-IP`).
fn user_data<B>(request: &Request<B>) -> Vec<(Cow<'static, str>, FieldValue)> {
    let mut fields = Vec::new();
    let text = |s: &str| FieldValue::Str(s.to_owned());
    if let Some(query) = request.uri().query().filter(|q| !q.is_empty()) {
        fields.push((Cow::Borrowed("http.query"), text(query)));
    }
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    if let Some(agent) = header("user-agent") {
        fields.push((Cow::Borrowed("user_agent.original"), text(agent)));
    }
    let forwarded = header("x-forwarded-for")
        .and_then(|v| v.split(',').next())
        .map(str::trim);
    if let Some(client) = forwarded.or_else(|| header("x-real-ip")) {
        fields.push((Cow::Borrowed("client.address"), text(client)));
    }
    fields
}

/// Which end of a request a [`ResponseFuture`] follows.
#[derive(Clone, Copy, Debug)]
enum Side {
    Server { grpc: bool },
    Client { grpc: bool },
}

impl Side {
    fn grpc(self) -> bool {
        match self {
            Side::Server { grpc } | Side::Client { grpc } => grpc,
        }
    }

    /// Records on `span` that the inner service panicked: `internal_error`, and for an HTTP
    /// server the 500 that a panic catcher (tower-http's `CatchPanicLayer`, hyper dropping
    /// the connection) answers with.
    fn record_panic(self, span: &Span) {
        match self {
            Side::Server { grpc: false } => {
                http_client::record_status_code(span, "http.response.status_code", 500);
            }
            Side::Server { grpc: true } | Side::Client { .. } => {
                http_client::set_status(span, SpanStatus::InternalError);
            }
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`SentryHttpService`] and [`SentryHttpClientService`]: records
    /// the status on the request's span.
    ///
    /// When the inner service panics (in `call` or while its future is polled), the span gets
    /// status `internal_error` (a server span also `http.response.status_code` 500) before the
    /// panic continues to unwind, so the request is recorded as failed wherever the panic is
    /// caught: by tower-http's `CatchPanicLayer` outside this layer or inside it, or by the
    /// runtime.
    pub struct ResponseFuture<F> {
        #[pin]
        inner: Instrumented<F>,
        span: Span,
        side: Side,
    }
}

impl<F> ResponseFuture<F> {
    /// Calls the inner service inside `span` (its own spans nest under it) and follows the
    /// response in it.
    fn start(span: Span, side: Side, call: impl FnOnce() -> F) -> Self {
        let future = match catch_unwind(AssertUnwindSafe(|| span.in_scope(call))) {
            Ok(future) => future,
            Err(panic) => {
                side.record_panic(&span);
                resume_unwind(panic)
            }
        };
        Self {
            inner: future.instrument(span.clone()),
            span,
            side,
        }
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
    type Output = Result<Response<SentryBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        // A panic is recorded here, while the span is alive and before any outer catcher
        // (which would drop this future only after the unwinding ended, too late for the
        // layer's "dropped while unwinding" rule) sees it.
        let mut inner = this.inner;
        let polled = catch_unwind(AssertUnwindSafe(|| inner.as_mut().poll(cx)));
        let result = match polled {
            Ok(poll) => std::task::ready!(poll),
            Err(panic) => {
                this.side.record_panic(this.span);
                resume_unwind(panic)
            }
        };
        let response = match result {
            Ok(response) => response,
            Err(err) => {
                http_client::set_status(this.span, SpanStatus::InternalError);
                return Poll::Ready(Err(err));
            }
        };
        let pending = record_response(this.span, this.side.grpc(), &response);
        Poll::Ready(Ok(response.map(|inner| SentryBody {
            inner,
            span: pending.then(|| this.span.clone()),
        })))
    }
}

/// Records a response's status on `span`; returns whether the status is still to come (a gRPC
/// response whose `grpc-status` is in the trailers).
fn record_response<B>(span: &Span, grpc: bool, response: &Response<B>) -> bool {
    if grpc {
        match grpc::status_code(response.headers()) {
            Some(code) => record_grpc_status(span, code),
            None if response.status().is_success() => return true,
            // No gRPC status and an HTTP error: the gRPC spec maps it, we keep the HTTP one.
            None => http_client::set_status(
                span,
                SpanStatus::from_http_status(response.status().as_u16()),
            ),
        }
        return false;
    }
    let code = response.status().as_u16();
    http_client::record_status_code(span, "http.response.status_code", code.into());
    false
}

fn record_grpc_status(span: &Span, code: i32) {
    http_client::record_status_code(span, "rpc.grpc.status_code", code.into());
}

pin_project_lite::pin_project! {
    /// A response body that holds a gRPC call's span until the `grpc-status` trailer arrives,
    /// and records it. Every other body passes through untouched.
    pub struct SentryBody<B> {
        #[pin]
        inner: B,
        span: Option<Span>,
    }
}

impl<B> SentryBody<B> {
    /// Returns the wrapped body.
    ///
    /// # Examples
    ///
    /// ```
    /// use tower::{Layer, Service, ServiceExt};
    /// use tracing_sentry::integrations::tower::SentryHttpLayer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), std::convert::Infallible> {
    /// let mut server = SentryHttpLayer::new().layer(tower::service_fn(|_: http::Request<()>| async {
    ///     Ok::<_, std::convert::Infallible>(http::Response::new("hello"))
    /// }));
    /// let response = server.ready().await?.call(http::Request::new(())).await?;
    /// assert_eq!(response.into_body().into_inner(), "hello");
    /// # Ok(())
    /// # }
    /// ```
    pub fn into_inner(self) -> B {
        self.inner
    }
}

impl<B> fmt::Debug for SentryBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SentryBody")
            .field("awaiting_grpc_status", &self.span.is_some())
            .finish_non_exhaustive()
    }
}

impl<B: http_body::Body> http_body::Body for SentryBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let frame = std::task::ready!(this.inner.poll_frame(cx));
        if let Some(span) = this.span.take() {
            match &frame {
                Some(Ok(frame)) => match frame.trailers_ref() {
                    Some(trailers) => match grpc::status_code(trailers) {
                        Some(code) => record_grpc_status(&span, code),
                        None => http_client::set_status(&span, SpanStatus::Unknown),
                    },
                    None => *this.span = Some(span),
                },
                Some(Err(_)) => http_client::set_status(&span, SpanStatus::InternalError),
                // The body ended without trailers: no status was sent.
                None => http_client::set_status(&span, SpanStatus::Unknown),
            }
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

// === client ===

/// A [`tower_layer::Layer`] for clients of `http::Request`s (hyper-util's client, a tonic
/// `Channel`, any tower-based client): each request gets an `http.client` span, a child of the
/// caller's current span, and carries `sentry-trace` and `baggage` (merged with an existing
/// `baggage`) where the
/// [trace propagation targets](crate::SentryLayerBuilder::trace_propagation_targets) allow.
///
/// The span is described and carries data as [`OutgoingRequest`] does (no query, no
/// credentials, nothing from the headers); the response status is recorded, and a service
/// error is `internal_error`. A gRPC call (`content-type: application/grpc`) is a `grpc.client`
/// span named `/package.Service/Method`, whose status comes from `grpc-status` (see
/// [`grpc`]).
///
/// # Examples
///
/// With hyper-util's client:
///
/// ```no_run
/// use hyper_util::client::legacy::Client;
/// use hyper_util::rt::TokioExecutor;
/// use tower::{Layer, ServiceExt};
/// use tracing_sentry::integrations::tower::SentryHttpClientLayer;
///
/// # async fn call() -> Result<(), Box<dyn std::error::Error>> {
/// let client = Client::builder(TokioExecutor::new()).build_http::<String>();
/// let client = SentryHttpClientLayer::new().layer(client);
/// let request = http::Request::get("http://inventory.internal/items").body(String::new())?;
/// let response = client.oneshot(request).await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, Default)]
pub struct SentryHttpClientLayer {
    _private: (),
}

impl SentryHttpClientLayer {
    /// Returns the layer.
    ///
    /// # Examples
    ///
    /// ```
    /// let layer = tracing_sentry::integrations::tower::SentryHttpClientLayer::new();
    /// # drop(layer);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }
}

impl<S> tower_layer::Layer<S> for SentryHttpClientLayer {
    type Service = SentryHttpClientService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SentryHttpClientService { inner }
    }
}

/// The service produced by [`SentryHttpClientLayer`].
#[derive(Clone, Debug)]
pub struct SentryHttpClientService<S> {
    inner: S,
}

impl<S, ReqBody, ResBody> tower_service::Service<Request<ReqBody>> for SentryHttpClientService<S>
where
    S: tower_service::Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<SentryBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let grpc = grpc::is_grpc(request.headers());
        let call = OutgoingRequest::start_http(&mut request, grpc);
        ResponseFuture::start(call.into_span(), Side::Client { grpc }, || {
            self.inner.call(request)
        })
    }
}
