//! The service of the interop suite (`interop/README.md`): a small axum server that
//! continues the caller's Sentry trace, calls one downstream service, and reports its
//! transaction to Sentry.
//!
//! ```sh
//! bash interop/run.sh   # builds this example and runs it between sentry-sdk and @sentry/node
//! ```
//!
//! Configuration comes from the environment:
//!
//! | variable | meaning |
//! | --- | --- |
//! | `LISTEN_ADDR` | where to serve plain HTTP/1.1 (default `127.0.0.1:3000`) |
//! | `DOWNSTREAM_URL` | the URL `GET /call` calls (required) |
//! | `SENTRY_DSN`, `SENTRY_RELEASE`, `SENTRY_ENVIRONMENT`, `SENTRY_TRACES_SAMPLE_RATE`, `SENTRY_TRACE_LIFECYCLE` | read by [`SentryLayer::builder_from_env`] (`SENTRY_TRACE_LIFECYCLE=stream`: spans are streamed as span v2 items instead of transactions) |
//! | `SENTRY_ENABLE_LOGS` | read by `builder_from_env` too: `true` sends the events of `GET /telemetry` (and the service's other `INFO` events) as Sentry logs |
//! | `EXPORT_MAX_IN_FLIGHT` | envelope requests in flight at most (default 64; for `benches/export_load.rs`) |
//!
//! Routes:
//! - `GET /call`: the tower layer opens an `http.server` span that continues the incoming
//!   `sentry-trace`/`baggage` (or starts a trace); the `#[instrument]` handler span makes one
//!   `GET DOWNSTREAM_URL` through an `http.client` span that carries the trace headers, and
//!   answers with the downstream's status and body.
//! - `GET /telemetry`: inside the `http.server` span (which continues the caller's trace as
//!   `/call` does), records one `INFO` event with four typed fields (a log when
//!   `SENTRY_ENABLE_LOGS=true`) and one event per metric type (`counter.`, `gauge.`,
//!   `distribution.` fields; metrics are on by default), the values the suite's peers send
//!   through their SDKs' own APIs, and answers 200.
//! - `GET /flush`: waits (at most 5 s) until every finished transaction (or, streaming, every
//!   finished span, the span buffer emptied first) was delivered, then
//!   prints the export [`Stats`](tracing_sentry::Stats) (one line on stdout) and returns them
//!   as the response body.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{MatchedPath, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tracing_sentry::integrations::http_client::OutgoingRequest;
use tracing_sentry::integrations::tower::SentryHttpLayer;
use tracing_sentry::{ExportGuard, SentryLayer};
use tracing_subscriber::prelude::*;

/// What the handlers share.
struct AppState {
    /// Keeps the export worker alive; `/flush` waits on it.
    guard: ExportGuard,
    client: Client<HttpConnector, Empty<Bytes>>,
    downstream_url: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // SENTRY_DSN, SENTRY_RELEASE, SENTRY_ENVIRONMENT, SENTRY_TRACES_SAMPLE_RATE.
    let mut builder = SentryLayer::builder_from_env().debug(true);
    // For the export_load bench: the number of envelope requests in flight.
    if let Some(n) = std::env::var("EXPORT_MAX_IN_FLIGHT")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        builder = builder.max_requests_in_flight(n);
    }
    let (sentry, guard) = builder.build()?;
    tracing_subscriber::registry()
        .with(sentry)
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(tracing::level_filters::LevelFilter::INFO),
        )
        .init();

    let listen: SocketAddr = std::env::var("LISTEN_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:3000".to_owned())
        .parse()?;
    let downstream_url =
        std::env::var("DOWNSTREAM_URL").map_err(|_| "DOWNSTREAM_URL is not set")?;

    let state = Arc::new(AppState {
        guard,
        client: Client::builder(TokioExecutor::new()).build_http(),
        downstream_url,
    });

    // `route_layer` runs the layer after routing, so the matched route (`/call`) names the
    // transaction. It wraps only the routes added before it: `/flush` creates no transaction.
    let sentry_http = SentryHttpLayer::new()
        .route_from_extensions(|ext| ext.get::<MatchedPath>().map(|p| p.as_str().to_owned()));
    let app = Router::new()
        .route("/call", get(call))
        .route("/telemetry", get(telemetry))
        .route_layer(sentry_http)
        .route("/flush", get(flush))
        .with_state(state);

    let listener = tokio::net::TcpListener::bind(listen).await?;
    tracing::info!(%listen, "interop service listening");
    axum::serve(listener, app).await?;
    Ok(())
}

/// `GET /call`: a child of the `http.server` span, which continued the caller's trace.
#[tracing::instrument(skip_all, fields(sentry.op = "function"))]
async fn call(State(state): State<Arc<AppState>>) -> (StatusCode, Bytes) {
    let mut request = http::Request::get(state.downstream_url.as_str())
        .body(Empty::<Bytes>::new())
        .expect("DOWNSTREAM_URL is a valid URI");
    // Adds `sentry-trace` (naming the `http.client` span as the parent) and `baggage` (the
    // frozen DSC's `sentry-*` members; incoming third-party members are not forwarded).
    let outgoing = OutgoingRequest::start(&mut request);
    let response = match state.client.request(request).await {
        Ok(response) => response,
        Err(err) => {
            tracing::error!(error = %err, "downstream request failed");
            outgoing.finish_with_error();
            return (StatusCode::BAD_GATEWAY, Bytes::new());
        }
    };
    let status = response.status();
    let body = match response.into_body().collect().await {
        Ok(body) => body.to_bytes(),
        Err(err) => {
            tracing::error!(error = %err, "reading the downstream body failed");
            outgoing.finish_with_error();
            return (StatusCode::BAD_GATEWAY, Bytes::new());
        }
    };
    outgoing.finish(status);
    tracing::info!(status = status.as_u16(), "downstream answered");
    (status, body)
}

/// `GET /telemetry`: one log and one metric of each type, inside the `http.server` span, the
/// same values the peers send through `sentry_sdk.logger`/`Sentry.logger` and the SDKs'
/// `metrics` APIs (`interop/suite.py` compares the three).
#[tracing::instrument(skip_all, fields(sentry.op = "function"))]
async fn telemetry() -> StatusCode {
    tracing::info!(
        interop.count = 3_i64,
        interop.ratio = 0.5,
        interop.flag = true,
        interop.name = "rust",
        "interop log"
    );
    tracing::info!(
        counter.interop.requests = 1_i64,
        interop.route = "/telemetry"
    );
    tracing::info!(
        gauge.interop.queue_depth = 42_i64,
        interop.route = "/telemetry"
    );
    tracing::info!(
        distribution.interop.duration = 12.5,
        unit = "millisecond",
        interop.route = "/telemetry"
    );
    StatusCode::OK
}

/// `GET /flush`: waits until every transaction (or streamed span) finished so far was
/// delivered (at most 5 s),
/// then prints the export counters and returns them.
async fn flush(State(state): State<Arc<AppState>>) -> (StatusCode, String) {
    let (flushed, stats) = tokio::task::spawn_blocking(move || {
        let flushed = state.guard.flush(Duration::from_secs(5));
        (flushed, state.guard.stats())
    })
    .await
    .unwrap_or((false, tracing_sentry::Stats::default()));
    if !flushed {
        tracing::warn!("flush timed out");
    }
    let line = format!("{stats:?}");
    println!("{line}");
    (StatusCode::OK, line)
}
