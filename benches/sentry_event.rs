//! What the `sentry` integration adds to capturing an event with the `sentry` crate.
//!
//! Variants of `sentry::capture_message`, all with the subscriber (registry + `SentryLayer`,
//! sampled) installed:
//! - `plain_outside`: a client without the integration whose transport drops each envelope
//!   (the capturing thread's share of the `sentry` crate's transport: it hands the envelope to
//!   its own thread), no span (the baseline);
//! - `plain_in_span`: the same, inside an entered span;
//! - `linked_in_span`: a client with [`link`] and no transport of its own, so the layer's
//!   pipeline is its transport (sending to a transport that discards), inside an entered span
//!   (the trace context written into the event; the envelope queued as it is);
//! - `linked_outside`: the same, no span;
//! - `theirs_in_span`: a client with [`link`] keeping a transport of the application's (one
//!   that writes each envelope to bytes and drops it), inside a span: the `trace` header is
//!   spliced in on the capturing thread, so the envelope is written there.
//!
//! `cargo bench --bench sentry_event --features sentry` runs criterion;
//! `TS_BENCH_ONLY=capture:<variant>:<n>` runs one variant `n` times, for callgrind (count the
//! capturing thread alone: `valgrind --tool=callgrind --separate-threads=yes`, file `-01`).
//! Keep `n` within what the queue holds (under callgrind the senders run slowly, so the queue
//! fills up to its byte budget, `max_queued_bytes`): past it, events are shed, and freed, on
//! the capturing thread, which measures the shedding instead of the capture. The README's figures
//! are the difference of runs with `n` = 1,000 and 5,000.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, Criterion};
use sentry::{ClientOptions, Envelope, Hub, Scope, Transport};
use tracing::Dispatch;
use tracing_sentry::integrations::sentry::link;
use tracing_sentry::SentryLayer;
use tracing_subscriber::prelude::*;

/// Drops every envelope, as the `sentry` crate's transport does on the capturing thread (it
/// hands it to its own thread, which writes it).
struct Handoff;

impl Transport for Handoff {
    fn send_envelope(&self, envelope: Envelope) {
        black_box(envelope);
    }
}

/// Writes every envelope to bytes, as every HTTP transport does (on its own thread; here on
/// the capturing thread, so that the whole cost is counted), then drops it.
struct Discard;

impl Transport for Discard {
    fn send_envelope(&self, envelope: Envelope) {
        let mut body = Vec::new();
        let _ = envelope.to_writer(&mut body);
        black_box(body);
    }
}

const VARIANTS: [&str; 5] = [
    "plain_outside",
    "plain_in_span",
    "linked_in_span",
    "linked_outside",
    "theirs_in_span",
];

const DSN: &str = "https://public@o42.ingest.sentry.io/7";

fn client(variant: &str) -> Arc<sentry::Client> {
    let options = ClientOptions::new().dsn(DSN);
    let options = if variant.starts_with("linked") {
        link(options)
    } else if variant.starts_with("theirs") {
        link(options.transport(Arc::new(Discard)))
    } else {
        options.transport(Arc::new(Handoff))
    };
    Arc::new(sentry::Client::with_options(options))
}

/// The subscriber; for a linked client, the layer is built from it and its pipeline (whose
/// transport discards) is the client's transport.
fn dispatch(client: &Arc<sentry::Client>, linked: bool) -> (Dispatch, tracing_sentry::ExportGuard) {
    let builder = SentryLayer::builder();
    let builder = if linked {
        builder.sentry_client(Arc::clone(client))
    } else {
        builder.dsn_str(DSN)
    };
    let (layer, guard) = builder
        .transport(tracing_sentry::export::NoopTransport::new())
        .traces_sample_rate(1.0)
        .build()
        .expect("bench layer builds");
    (
        Dispatch::new(tracing_subscriber::registry().with(layer)),
        guard,
    )
}

/// Runs `f` with the variant's hub bound and its span (if any) entered.
fn with_variant<R>(variant: &str, f: impl FnOnce() -> R) -> R {
    let client = client(variant);
    let (dispatch, _guard) = dispatch(&client, variant.starts_with("linked"));
    let in_span = variant.ends_with("in_span");
    let hub = Arc::new(Hub::new(Some(client), Arc::new(Scope::default())));
    Hub::run(hub, || {
        tracing::dispatcher::with_default(&dispatch, || {
            let span = in_span.then(|| tracing::info_span!("request").entered());
            let out = f();
            drop(span);
            out
        })
    })
}

#[inline(never)]
fn capture() {
    black_box(sentry::capture_message(
        "request failed",
        sentry::Level::Error,
    ));
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("capture_message");
    for variant in VARIANTS {
        with_variant(variant, || {
            group.bench_function(variant, |b| b.iter(capture));
        });
    }
    group.finish();
}

criterion_group!(benches, bench);

fn main() {
    if let Ok(spec) = std::env::var("TS_BENCH_ONLY") {
        let mut parts = spec.split(':');
        let (Some("capture"), Some(variant), Some(n)) = (parts.next(), parts.next(), parts.next())
        else {
            eprintln!("TS_BENCH_ONLY=capture:<variant>:<n>");
            std::process::exit(2);
        };
        let n: u64 = n.parse().unwrap_or(1000);
        with_variant(variant, || {
            for _ in 0..n {
                capture();
            }
        });
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
