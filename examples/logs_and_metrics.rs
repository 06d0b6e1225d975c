//! `tracing` events as Sentry logs and metrics, with no `sentry` crate.
//!
//! Run with a DSN to send to Sentry, or without one to print what would be sent:
//!
//! ```sh
//! SENTRY_DSN=https://key@o1.ingest.sentry.io/1 cargo run --example logs_and_metrics
//! cargo run --example logs_and_metrics
//! ```

use std::time::{Duration, Instant};

use tracing_sentry::export::InMemoryTransport;
use tracing_sentry::SentryLayer;
use tracing_subscriber::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `from_env` reads SENTRY_DSN, SENTRY_ENABLE_LOGS, ...; logs are enabled here in code.
    let printed = InMemoryTransport::new();
    let mut builder = SentryLayer::builder_from_env()
        .traces_sample_rate(1.0)
        .enable_logs(true)
        .logs_level(tracing::Level::INFO)
        .log_span_fields(true)
        .before_send_log(|log| !log.body.starts_with("healthcheck"));
    if std::env::var_os("SENTRY_DSN").is_none() {
        builder = builder.transport(printed.clone());
    }
    let (layer, guard) = builder.build()?;
    tracing_subscriber::registry().with(layer).init();

    let span = tracing::info_span!("checkout", tenant = "acme");
    span.in_scope(|| {
        let started = Instant::now();
        tracing::info!(cart.items = 3_u64, "checkout started");
        tracing::debug!("below the logs level: not sent");
        tracing::info!("healthcheck ok"); // dropped by before_send_log
        std::thread::sleep(Duration::from_millis(5));
        // Metrics: the prefix gives the type, the rest the name, `unit` the unit.
        tracing::info!(counter.checkout.completed = 1_u64, payment = "card");
        tracing::info!(
            distribution.checkout.duration = started.elapsed().as_secs_f64() * 1000.0,
            unit = "millisecond"
        );
        tracing::info!(gauge.cart.size = 3_u64);
        tracing::warn!(retries = 2_u64, "payment provider slow");
    });

    guard.flush(Duration::from_secs(5));
    for envelope in printed.envelopes() {
        for log in envelope.logs() {
            println!("log    {} {}", log["level"], log["body"]);
        }
        for metric in envelope.metrics() {
            println!(
                "metric {} {} = {} {}",
                metric["type"], metric["name"], metric["value"], metric["unit"]
            );
        }
    }
    let stats = guard.stats();
    println!(
        "logs sent {}, dropped by before_send_log {}; metrics sent {}",
        stats.logs_sent, stats.logs_dropped_before_send, stats.metrics_sent
    );
    Ok(())
}
