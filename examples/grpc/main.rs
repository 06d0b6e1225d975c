//! gRPC with tonic: a server behind `SentryHttpLayer`, a client channel wrapped in
//! `SentryHttpClientLayer`, and the spans both sides report.
//!
//! ```sh
//! cargo run --example grpc --features tower
//! ```
//!
//! The server is a tonic service served by axum over HTTP/2 (any tonic server takes the same
//! layer: `tonic::transport::Server::builder().layer(SentryHttpLayer::new())`). The client is
//! tonic's `Grpc` client over hyper-util's HTTP/2 client (a `tonic::transport::Channel` takes
//! the same layer: `tower::ServiceBuilder::new().layer(SentryHttpClientLayer::new()).service(channel)`).
//! The client's `grpc.client` span is the parent of the server's `grpc.server` transaction,
//! and each side's status comes from `grpc-status`, mapped as Sentry's SDKs map it.

mod shop;

use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tower::Layer;
use tracing::Instrument;
use tracing_sentry::export::InMemoryTransport;
use tracing_sentry::integrations::tower::{SentryHttpClientLayer, SentryHttpLayer};
use tracing_sentry::SentryLayer;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::prelude::*;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    // One process plays both sides here, so one layer sees both; transactions go to memory.
    let transport = InMemoryTransport::new();
    let (layer, guard) = SentryLayer::builder()
        .traces_sample_rate(1.0)
        .transport(transport.clone())
        .build()?;
    tracing_subscriber::registry()
        // hyper and h2 have DEBUG/TRACE spans of their own: keep them out of Sentry.
        .with(layer.with_filter(LevelFilter::INFO))
        .with(tracing_subscriber::fmt::layer().with_filter(LevelFilter::INFO))
        .init();

    // The server: every call gets a `grpc.server` span continuing the caller's trace.
    let app = shop::router().layer(SentryHttpLayer::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let origin: http::Uri = format!("http://{}", listener.local_addr()?).parse()?;
    tokio::spawn(async move { axum::serve(listener, app).await });

    // The client: every call gets a `grpc.client` span and carries the trace headers.
    let http2 = Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http::<tonic::body::Body>();
    let channel = SentryHttpClientLayer::new().layer(http2);
    let mut client = tonic::client::Grpc::with_origin(channel, origin);

    for item in ["socks", "unknown"] {
        let request = tonic::Request::new(item.to_owned());
        let path = http::uri::PathAndQuery::from_static(shop::RESERVE);
        let call = async {
            client.ready().await?;
            Ok::<_, BoxError>(client.unary(request, path, shop::StringCodec).await)
        };
        let answer = call.instrument(tracing::info_span!("checkout")).await?;
        match answer {
            Ok(response) => println!("Reserve({item}) -> {}", response.into_inner()),
            Err(status) => println!("Reserve({item}) -> {:?}", status.code()),
        }
    }

    guard.flush(std::time::Duration::from_secs(5));
    println!("\nWhat Sentry receives (op, name, status, span id, parent span id):");
    let transactions = transport.envelopes().into_iter().flat_map(|envelope| {
        let items: Vec<serde_json::Value> = envelope
            .items()
            .filter(|(ty, _)| *ty == "transaction")
            .filter_map(|(_, payload)| serde_json::from_slice(payload).ok())
            .collect();
        items
    });
    for tx in transactions {
        let row = |s: &serde_json::Value, name: &serde_json::Value| {
            format!(
                "{:<12} {:<26} {:<10} {} <- {}",
                s["op"].as_str().unwrap_or(""),
                name.as_str().unwrap_or(""),
                s["status"].as_str().unwrap_or("-"),
                s["span_id"].as_str().unwrap_or(""),
                s["parent_span_id"].as_str().unwrap_or("(none)"),
            )
        };
        println!("{}", row(&tx["contexts"]["trace"], &tx["transaction"]));
        for span in tx["spans"].as_array().into_iter().flatten() {
            println!("  {}", row(span, &span["description"]));
        }
    }
    Ok(())
}
