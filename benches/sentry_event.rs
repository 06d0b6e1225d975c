//! What the `sentry` integration adds to capturing an event with the `sentry` crate.
//!
//! Four variants of `sentry::capture_message` on a client whose transport writes each envelope
//! to bytes and drops it, all with the subscriber (registry + `SentryLayer`, sampled)
//! installed:
//! - `plain_outside`: a client without the integration, no span (the baseline);
//! - `plain_in_span`: a client without the integration, inside an entered span;
//! - `linked_in_span`: a client with [`link`], inside an entered span (the trace context
//!   written into the event and the DSC into a raw envelope);
//! - `linked_outside`: a client with [`link`], no span.
//!
//! `cargo bench --bench sentry_event --features sentry` runs criterion;
//! `TS_BENCH_ONLY=capture:<variant>:<n>` runs one variant `n` times, for callgrind.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, Criterion};
use sentry::{ClientOptions, Envelope, Hub, Scope, Transport};
use tracing::Dispatch;
use tracing_sentry::integrations::sentry::link;
use tracing_sentry::SentryLayer;
use tracing_subscriber::prelude::*;

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

const VARIANTS: [&str; 4] = [
    "plain_outside",
    "plain_in_span",
    "linked_in_span",
    "linked_outside",
];

fn hub(linked: bool) -> Arc<Hub> {
    let options = ClientOptions::new()
        .dsn("https://public@o42.ingest.sentry.io/7")
        .transport(Arc::new(Discard));
    let options = if linked { link(options) } else { options };
    let client = Arc::new(sentry::Client::with_options(options));
    Arc::new(Hub::new(Some(client), Arc::new(Scope::default())))
}

fn dispatch() -> (Dispatch, tracing_sentry::ExportGuard) {
    let (layer, guard) = SentryLayer::builder()
        .dsn_str("https://public@o42.ingest.sentry.io/7")
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
    let (dispatch, _guard) = dispatch();
    let linked = variant.starts_with("linked");
    let in_span = variant.ends_with("in_span");
    Hub::run(hub(linked), || {
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
