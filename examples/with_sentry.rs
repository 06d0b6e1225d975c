//! Errors, panics and logs of the `sentry` crate on the trace of the current `tracing` span.
//!
//! ```text
//! SENTRY_DSN=https://<key>@o<org>.ingest.sentry.io/<project> REQUESTS=8 \
//!     cargo run --example with_sentry --features sentry
//! ```
//!
//! Initialises the `sentry` crate (panic integration on, `tracing` ERROR events become Sentry
//! events through `sentry-tracing`'s `ErrorLayer`, none of its span handling) and the layer
//! configured from that same client, then handles `REQUESTS` requests (default 8) concurrently.
//! Request `r` is a root span `request` (the transaction) with a child `work`, in which it
//! captures an error, emits a `tracing` ERROR event and sends a structured log; request 0 also
//! panics in a child span `crash` (caught). Every error event and log carries `r`'s trace id
//! and the id of its `work` span; the panic carries the `crash` span's id, and `crash` gets
//! status `internal_error`. Each request prints the trace id its events carry (without
//! `SENTRY_DSN`, nothing is sent).
//!
//! `SENTRY_TRANSPORT=sentry` gives the client the `sentry` crate's own transport instead (`link`
//! then wraps it, and our transactions go through it too): `benches/sentry_load.rs` compares
//! the two; `FLUSH_SECS` (default 20) bounds the final flush. At the end the example prints on
//! stderr the longest and mean `sentry::capture_error` call and, once the pipeline has shut
//! down, what was sent and what was lost (counted in `Stats`, shutdown losses included).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sentry::integrations::tracing::ErrorLayer;
use sentry::SentryFutureExt;
use tracing::Instrument;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let requests: u64 = std::env::var("REQUESTS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(8);

    // `sentry::init` reads SENTRY_DSN and enables its default integrations (panics among them);
    // `link` registers the trace context integration and makes the layer's export pipeline the
    // client's transport (bounded in bytes, many requests in flight, errors first).
    let mut options = sentry::ClientOptions::new();
    if std::env::var("SENTRY_TRANSPORT").is_ok_and(|t| t == "sentry") {
        options.transport = Some(Arc::new(sentry::transports::DefaultTransportFactory));
    }
    let sentry = sentry::init(tracing_sentry::integrations::sentry::link(options));
    // Our layer, configured from the same client (DSN, release, environment): its pipeline
    // sends the client's errors, logs and sessions and our transactions.
    let (layer, guard) = tracing_sentry::SentryLayer::builder()
        .sentry_client(sentry::Hub::current().client())
        .traces_sample_rate(1.0)
        .build()?;
    // A handle for the final accounting, read after the guard has shut the pipeline down.
    let stats = layer.clone();
    tracing_subscriber::registry()
        .with(layer)
        .with(ErrorLayer::new().with_filter(LevelFilter::ERROR))
        .init();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let tasks: Vec<_> = (0..requests)
            .map(|id| {
                // A hub per request keeps breadcrumbs and scope data apart.
                let hub = Arc::new(sentry::Hub::new_from_top(sentry::Hub::current()));
                tokio::spawn(handle(id).bind_hub(hub))
            })
            .collect();
        for task in tasks {
            task.await?;
        }
        Ok::<(), tokio::task::JoinError>(())
    })?;

    // The client's batches (logs, sessions), then the one queue.
    let flush_secs = std::env::var("FLUSH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let flushed = guard.flush(Duration::from_secs(flush_secs));
    if !flushed {
        eprintln!("some telemetry was still in flight");
    }
    let captures = CAPTURES.load(Ordering::Relaxed).max(1);
    eprintln!(
        "capture_error: longest {} us, mean {:.1} us over {captures} calls; flushed: {flushed}",
        CAPTURE_MAX_NS.load(Ordering::Relaxed) / 1000,
        CAPTURE_SUM_NS.load(Ordering::Relaxed) as f64 / captures as f64 / 1000.0,
    );
    // Shut down: what is still queued after the flush is dropped, and counted.
    drop(guard);
    drop(sentry); // closes the client
    let stats = stats.stats();
    eprintln!(
        "sent {} transactions and {} items of the sentry crate; lost {} (counted in Stats)",
        stats.transactions_sent,
        stats.sentry_items_sent,
        stats.transactions_dropped_queue_full
            + stats.transactions_dropped_send_failed
            + stats.transactions_dropped_rate_limited
            + stats.transactions_dropped_rejected
            + stats.transactions_dropped_too_large
            + stats.transactions_dropped_shutdown
            + stats.sentry_items_dropped_queue_full
            + stats.sentry_items_dropped_send_failed
            + stats.sentry_items_dropped_rate_limited
            + stats.sentry_items_dropped_rejected
    );
    Ok(())
}

/// How long `sentry::capture_error` took on the request's thread: never waiting for the network.
static CAPTURES: AtomicU64 = AtomicU64::new(0);
static CAPTURE_SUM_NS: AtomicU64 = AtomicU64::new(0);
static CAPTURE_MAX_NS: AtomicU64 = AtomicU64::new(0);

async fn handle(id: u64) {
    let request = tracing::info_span!("request", request_id = id);
    async move {
        tokio::task::yield_now().await;
        work(id).instrument(tracing::info_span!("work")).await;
    }
    .instrument(request)
    .await;
}

async fn work(id: u64) {
    if let Some(ctx) = tracing_sentry::current_trace_context() {
        println!(
            "request {id}: trace_id={} span_id={}",
            ctx.trace_id(),
            ctx.span_id()
        );
    }
    tokio::task::yield_now().await;
    let err = std::io::Error::other(format!("request {id} failed"));
    let started = Instant::now();
    sentry::capture_error(&err);
    let took = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
    CAPTURES.fetch_add(1, Ordering::Relaxed);
    CAPTURE_SUM_NS.fetch_add(took, Ordering::Relaxed);
    CAPTURE_MAX_NS.fetch_max(took, Ordering::Relaxed);
    tracing::error!("request {id} error event");
    sentry::logger_info!("request {} log line", id);
    if id == 0 {
        // The span is dropped while the thread unwinds: its status becomes `internal_error`.
        let caught = std::panic::catch_unwind(|| {
            let _crash = tracing::info_span!("crash").entered();
            panic!("request 0 panicked");
        });
        assert!(caught.is_err());
    }
}
