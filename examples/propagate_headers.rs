//! The 20-line version: continue an incoming trace and print the headers for the next hop.
//!
//! ```sh
//! cargo run --example propagate_headers
//! ```

use tracing_sentry::{SentryLayer, SentrySpanExt};
use tracing_subscriber::prelude::*;

#[tracing::instrument(skip_all, fields(route = "/checkout"))]
fn handle(incoming: &http::HeaderMap) -> http::HeaderMap {
    // Continue the caller's trace (no `sentry-trace` header: start a new one).
    if let Err(err) = tracing::Span::current().set_parent_from_headers(incoming) {
        eprintln!("ignoring malformed trace headers: {err}");
    }
    // The child span that makes the outgoing call is the downstream's parent.
    let _call = tracing::info_span!("call payments").entered();
    tracing_sentry::current_headers()
}

fn main() {
    let (layer, _guard) = SentryLayer::builder()
        .release("example@1.0.0")
        .traces_sample_rate(1.0)
        .build()
        .expect("no DSN, so nothing can fail");
    tracing_subscriber::registry().with(layer).init();

    let mut incoming = http::HeaderMap::new();
    incoming.insert(
        "sentry-trace",
        http::HeaderValue::from_static("771a43a4192642f0b136d5159a501700-b7ad6b7169203331-1"),
    );
    incoming.insert(
        "baggage",
        http::HeaderValue::from_static(
            "sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-public_key=49d0f7386ad645858ae85020e393bef3,sentry-sample_rate=0.25,sentry-sampled=true,sentry-sample_rand=0.123456,sentry-environment=prod,acme-tenant=t42",
        ),
    );
    println!("incoming:");
    for (name, value) in &incoming {
        println!("  {name}: {}", value.to_str().unwrap_or("<binary>"));
    }
    println!("outgoing (third-party baggage is not forwarded, the DSC is frozen):");
    for (name, value) in &handle(&incoming) {
        println!("  {name}: {}", value.to_str().unwrap_or("<binary>"));
    }
}
