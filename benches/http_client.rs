//! The cost of the `reqwest` middleware per request.
//!
//! - `client_overhead/*`: no network. The last middleware answers at once, so the figures are
//!   the middleware's own work: `stub_only` (a `reqwest-middleware` client and nothing else),
//!   `budget` (what the issue allows: a child span, `current_headers()` merged into the request,
//!   the status recorded), and `sentry_middleware` (ours). Measured in a sampled trace
//!   (exported to a discarding transport) and in an unsampled one.
//! - `loopback/*`: a real GET to a hyper server on 127.0.0.1: a bare `reqwest::Client` against
//!   `reqwest-middleware` with no middleware, and with ours, all inside a sampled span.
//!
//! - `client_overhead/*/budget_same_fields`: the fair baseline for our middleware: the span a
//!   user would write by hand with the same data (op, name, origin, method, URL, query, server
//!   address and port, status code and span status as declared span fields), plus
//!   `current_headers()`.
//!
//! ```sh
//! cargo bench --bench http_client --features reqwest
//! ```
//!
//! Instructions per request (stable on a busy machine) come from callgrind: with
//! `HTTP_CLIENT_CALLGRIND=CLIENT:TRACE:N` the binary sends `N` requests through one client
//! (`stub_only`, `budget`, `budget_same_fields`, `sentry_middleware`) in a `sampled` or
//! `unsampled` trace and exits; the difference of two runs (`N` and `0`) divided by `N` is the
//! cost of one request:
//!
//! ```sh
//! BIN=$(ls -t target/release/deps/http_client-* | grep -v '\.d$' | head -1)
//! for n in 0 2000; do HTTP_CLIENT_CALLGRIND=sentry_middleware:sampled:$n \
//!   valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.$n $BIN 2>&1 | grep refs; done
//! ```

use std::time::Duration;

use criterion::{criterion_group, Criterion};
use http::Extensions;
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware, Middleware, Next};
use tracing::{Dispatch, Instrument};
use tracing_sentry::export::NoopTransport;
use tracing_sentry::integrations::reqwest::SentryReqwestMiddleware;
use tracing_sentry::SentryLayer;
use tracing_subscriber::prelude::*;

/// Answers every request with an empty `200 OK`, without any I/O.
struct Stub;

#[async_trait::async_trait]
impl Middleware for Stub {
    async fn handle(
        &self,
        _: reqwest::Request,
        _: &mut Extensions,
        _: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        Ok(reqwest::Response::from(http::Response::new(String::new())))
    }
}

/// The allowed cost: a child span, `current_headers()` merged in, the status recorded.
struct Budget;

#[async_trait::async_trait]
impl Middleware for Budget {
    async fn handle(
        &self,
        mut request: reqwest::Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let span = tracing::info_span!(
            "http.client",
            http.request.method = request.method().as_str(),
            url.full = request.url().as_str(),
            http.response.status_code = tracing::field::Empty,
        );
        span.in_scope(|| tracing_sentry::inject_current_headers(request.headers_mut()));
        let result = next.run(request, extensions).instrument(span.clone()).await;
        if let Ok(response) = &result {
            span.record("http.response.status_code", response.status().as_u16());
        }
        result
    }
}

/// The fair baseline: the same span and data as ours, written by hand as span fields, plus
/// `current_headers()` merged in and the status recorded.
struct BudgetSameFields;

#[async_trait::async_trait]
impl Middleware for BudgetSameFields {
    async fn handle(
        &self,
        mut request: reqwest::Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let url = request.url();
        let span = tracing::info_span!(
            "http.client",
            sentry.op = "http.client",
            sentry.name = %format_args!("{} {}://{}{}", request.method(), url.scheme(), url.host_str().unwrap_or(""), url.path()),
            sentry.origin = "auto.http.tracing_sentry",
            http.request.method = request.method().as_str(),
            url.full = url.as_str(),
            http.query = url.query(),
            server.address = url.host_str(),
            server.port = url.port_or_known_default(),
            http.response.status_code = tracing::field::Empty,
            sentry.status = tracing::field::Empty,
        );
        span.in_scope(|| tracing_sentry::inject_current_headers(request.headers_mut()));
        let result = next.run(request, extensions).instrument(span.clone()).await;
        match &result {
            Ok(response) => {
                let status = response.status();
                span.record("http.response.status_code", status.as_u16());
                span.record(
                    "sentry.status",
                    tracing_sentry::SpanStatus::from_http_status(status.as_u16()).as_str(),
                );
            }
            Err(_) => {
                span.record("sentry.status", "internal_error");
            }
        }
        result
    }
}

fn client(middleware: Option<Box<dyn Fn(ClientBuilder) -> ClientBuilder>>) -> ClientWithMiddleware {
    let inner = reqwest::Client::builder().no_proxy().build().unwrap();
    let builder = ClientBuilder::new(inner);
    let builder = match middleware {
        Some(add) => add(builder),
        None => builder,
    };
    builder.with(Stub).build()
}

fn dispatch(rate: f64) -> Dispatch {
    let (layer, guard) = SentryLayer::builder()
        .traces_sample_rate(rate)
        .transport(NoopTransport)
        .build()
        .unwrap();
    std::mem::forget(guard); // the worker lives as long as the bench
    Dispatch::new(tracing_subscriber::registry().with(layer))
}

fn client_overhead(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let clients = [
        ("stub_only", client(None)),
        ("budget", client(Some(Box::new(|b| b.with(Budget))))),
        (
            "budget_same_fields",
            client(Some(Box::new(|b| b.with(BudgetSameFields)))),
        ),
        (
            "sentry_middleware",
            client(Some(Box::new(|b| b.with(SentryReqwestMiddleware::new())))),
        ),
    ];
    for (trace, rate) in [("sampled", 1.0), ("unsampled", 0.0)] {
        let mut group = c.benchmark_group(format!("client_overhead/{trace}"));
        group.measurement_time(Duration::from_secs(3));
        let dispatch = dispatch(rate);
        tracing::dispatcher::with_default(&dispatch, || {
            // One open root span per trace kind: every request is a child of it, as in a
            // handler (a sampled root buffers at most 1,000 children; the rest are counted).
            let handler = tracing::info_span!("handler");
            let _entered = handler.enter();
            for (name, client) in &clients {
                group.bench_function(*name, |b| {
                    b.iter(|| {
                        let send = client.get("http://inventory.internal/items?page=2").send();
                        rt.block_on(send.instrument(tracing::Span::current()))
                            .unwrap()
                    })
                });
            }
        });
        group.finish();
    }
}

fn loopback(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}/items", listener.local_addr().unwrap());
    rt.spawn(async move {
        let app = axum::Router::new().route("/items", axum::routing::get(|| async { "[]" }));
        axum::serve(listener, app).await.unwrap();
    });
    let bare = reqwest::Client::builder().no_proxy().build().unwrap();
    let empty = ClientBuilder::new(bare.clone()).build();
    let with = ClientBuilder::new(bare.clone())
        .with(SentryReqwestMiddleware::new())
        .build();
    let dispatch = dispatch(1.0);
    let mut group = c.benchmark_group("loopback");
    group.measurement_time(Duration::from_secs(5));
    tracing::dispatcher::with_default(&dispatch, || {
        let handler = tracing::info_span!("handler");
        let _entered = handler.enter();
        group.bench_function("reqwest", |b| {
            b.iter(|| {
                let call = async { bare.get(&url).send().await?.bytes().await };
                rt.block_on(call.instrument(tracing::Span::current()))
                    .unwrap()
            })
        });
        for (name, client) in [
            ("reqwest_middleware_empty", &empty),
            ("reqwest_with_sentry_middleware", &with),
        ] {
            group.bench_function(name, |b| {
                b.iter(|| {
                    let call = async {
                        let response = client.get(&url).send().await.map_err(|e| e.to_string())?;
                        response.bytes().await.map_err(|e| e.to_string())
                    };
                    rt.block_on(call.instrument(tracing::Span::current()))
                        .unwrap()
                })
            });
        }
    });
    group.finish();
}

/// `HTTP_CLIENT_CALLGRIND=CLIENT:TRACE:N`: sends `N` requests and returns true.
fn callgrind_mode() -> bool {
    let Ok(spec) = std::env::var("HTTP_CLIENT_CALLGRIND") else {
        return false;
    };
    let mut parts = spec.split(':');
    let (name, trace, n) = (
        parts.next().unwrap().to_owned(),
        parts.next().unwrap().to_owned(),
        parts.next().unwrap().parse::<usize>().unwrap(),
    );
    let client = match name.as_str() {
        "stub_only" => client(None),
        "budget" => client(Some(Box::new(|b| b.with(Budget)))),
        "budget_same_fields" => client(Some(Box::new(|b| b.with(BudgetSameFields)))),
        "sentry_middleware" => client(Some(Box::new(|b| b.with(SentryReqwestMiddleware::new())))),
        other => panic!("unknown client {other}"),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dispatch = dispatch(if trace == "sampled" { 1.0 } else { 0.0 });
    tracing::dispatcher::with_default(&dispatch, || {
        // The root stays open (and is never exported): only the requests' own work counts.
        let handler = tracing::info_span!("handler");
        std::mem::forget(handler.enter());
        std::mem::forget(handler);
        // One warm-up request (first-use costs: callsite registration, lazy statics).
        for _ in 0..n + 1 {
            let send = client.get("http://inventory.internal/items?page=2").send();
            rt.block_on(send.instrument(tracing::Span::current()))
                .unwrap();
        }
    });
    true
}

criterion_group!(benches, client_overhead, loopback);

fn main() {
    if callgrind_mode() {
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
