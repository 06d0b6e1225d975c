//! What one transaction costs the export senders: building its envelope (JSON) and gzipping
//! it, by span count.
//!
//! Instructions come from callgrind, counting only inside the envelope builder and inside
//! gzip (repeatable on a shared machine):
//!
//! ```sh
//! cargo bench --bench export_serialise --no-run
//! BIN=$(ls -t target/release/deps/export_serialise-* | grep -v '\.d$' | head -1)
//! for n in 0 10 100; do
//!   valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.$n \
//!     --toggle-collect='*EnvelopeBytes>::from_transaction' \
//!     $BIN --spans $n --transactions 200 --gzip-level 0
//! done   # then: callgrind_annotate /tmp/cg.N | head; divide by 200
//! valgrind --tool=callgrind --toggle-collect='export_serialise::gzip_at*' $BIN --spans 10 \
//!   --transactions 200 --gzip-level 1 --no-timing
//! ```
//!
//! Without valgrind it prints the envelope size, the gzip size at levels 1, 6 and 9 and the
//! wall time of gzip per envelope.
//!
//! With `--noop` it measures the whole sender instead: a service's transactions (a DSN, a
//! release, so the DSC has its usual nine members), one sender, a transport that discards
//! envelopes; everything the sender thread does per transaction (queue, privacy pass,
//! envelope, delivery checks, dropping the record) is the difference of two runs:
//!
//! ```sh
//! for n in 200 600; do
//!   valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file=/tmp/cg.$n \
//!     $BIN --noop --spans 0 --transactions $n
//! done   # (sum of the sender threads' totals, files -02 on, at 600 - at 200) / 400
//! ```
//!
//! Measured (instructions per transaction; the 0-span transaction is its root span with two
//! fields): the whole sender 5,880 with 0 spans and 20,870 with 10; the envelope alone
//! (`from_transaction`, 0 spans) 3,402. The envelope header with its DSC costs about 1,850 of
//! the whole, dropping the record (allocated on the instrumented thread, so freed across
//! arenas) about 1,000 (the root's record 490, the DSC's three allocations 480), the root span
//! about 1,090 (its fields 810, its timestamps 280), the rest of the event and the item header
//! about 650, the queue, the delivery checks and the loop about 1,080.
//! With spans, the figures move by up to 3,000 from run to run: glibc's `malloc_consolidate`,
//! when the sender's frees meet the instrumented thread's allocations, depends on how the two
//! threads interleave (take the lowest of a few runs).
//!
//! Measured (instructions per envelope, 200 transactions; the default rules scrub the span data
//! while it is written, so the count includes them):
//!
//! | spans | instructions |
//! |--:|--:|
//! | 0 | 3,402 |
//! | 1 | 4,589 |
//! | 10 | 15,067 |
//! | 100 | 123,512 |
//!
//! About 1,170 to 1,200 per span: privacy verdicts, key JSON and escaping remembered per
//! static key, timestamps from a remembered second with the microseconds as digit pairs, ids
//! from a per-envelope prefix and a digit-pair table, the ids and the two timestamps each
//! assembled on the stack and written in one fixed-size copy, the callsite's op, description
//! and default origin in one copy, the data written in one pass with its budget checked once.
//! A span's two timestamps cost about 280, of which 110 are the two monotonic subtractions
//! (`Instant` arithmetic) that place them after the transaction's clock reading; the rest is
//! integer arithmetic on durations since the epoch.

use std::hint::black_box;
use std::io::Write as _;
use std::time::{Duration, Instant};

use tracing_sentry::export::{EnvelopeTransport, InMemoryTransport, NoopTransport};
use tracing_sentry::SentryLayer;
use tracing_subscriber::prelude::*;

fn arg(name: &str, default: u32) -> u32 {
    let mut args = std::env::args();
    while let Some(a) = args.next() {
        if a == name {
            return args.next().and_then(|v| v.parse().ok()).unwrap_or(default);
        }
    }
    default
}

/// One transaction like the interop service's: a server root with `spans` children of two
/// fields each.
fn record(spans: u32) {
    let root = tracing::info_span!(
        "http.server",
        sentry.op = "http.server",
        http.route = "/call"
    );
    root.in_scope(|| {
        for i in 0..spans {
            tracing::info_span!("query", db.system = "postgresql", rows = i).in_scope(|| {});
        }
    });
}

#[inline(never)]
fn gzip_at(bytes: &[u8], level: u32) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 4 + 64),
        flate2::Compression::new(level),
    );
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}

/// `--noop`: the whole sender's cost per transaction, as a service's (a DSN and a release, so
/// the DSC has its usual members), with a transport that discards envelopes and one sender.
fn noop_run(spans: u32, transactions: u32) {
    let (layer, guard) = SentryLayer::builder()
        .dsn_str("https://49d0f7386ad645858ae85020e393bef3@o1.ingest.sentry.io/42")
        .release("service@1.0.0")
        .environment("production")
        .traces_sample_rate(1.0)
        .queue_capacity(100_000)
        .transport(NoopTransport)
        // One sender, so every run has the same threads and differences are per transaction.
        .max_requests_in_flight(1)
        .build()
        .expect("layer");
    record_all(layer, &guard, spans, transactions);
}

/// Records `transactions` transactions of `spans` children through `layer`, then flushes.
fn record_all(
    layer: SentryLayer,
    guard: &tracing_sentry::export::ExportGuard,
    spans: u32,
    transactions: u32,
) {
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        for _ in 0..transactions {
            record(spans);
        }
    });
    assert!(guard.flush(Duration::from_secs(30)));
}

fn main() {
    let spans = arg("--spans", 10);
    let transactions = arg("--transactions", 200);
    let level = arg("--gzip-level", 1);
    if std::env::args().any(|a| a == "--noop") {
        noop_run(spans, transactions);
        return;
    }
    let transport = InMemoryTransport::new();
    let (layer, guard) = SentryLayer::builder()
        .traces_sample_rate(1.0)
        .queue_capacity(100_000)
        .transport(transport.clone())
        .build()
        .expect("layer");
    record_all(layer, &guard, spans, transactions);
    let envelopes = transport.envelopes();
    let Some(first) = envelopes.first() else {
        eprintln!("no envelope");
        return;
    };
    let bytes = first.as_bytes();
    if std::env::args().any(|a| a == "--reuse") {
        reuse_experiment(&envelopes);
        return;
    }
    if level > 0 {
        for envelope in &envelopes {
            black_box(gzip_at(envelope.as_bytes(), level));
        }
    }
    if std::env::args().any(|a| a == "--no-timing") {
        return;
    }
    println!("{spans} spans: envelope {} bytes", bytes.len());
    for level in [1, 6, 9] {
        let started = Instant::now();
        let rounds = 200;
        let mut size = 0;
        for _ in 0..rounds {
            size = black_box(gzip_at(black_box(bytes), level)).len();
        }
        let per = started.elapsed() / rounds;
        println!("  gzip level {level}: {size} bytes, {per:?} per envelope");
    }
    let _ = transport.send(first);
}

/// Experiment: deflate with a reused, reset compressor (raw deflate, no framing).
#[inline(never)]
fn deflate_reused(bytes: &[u8], compressor: &mut flate2::Compress, out: &mut Vec<u8>) {
    compressor.reset();
    out.clear();
    out.reserve(bytes.len() / 2 + 64);
    let _ = compressor.compress_vec(bytes, out, flate2::FlushCompress::Finish);
}

fn reuse_experiment(envelopes: &[tracing_sentry::export::EnvelopeBytes]) {
    let mut compressor = flate2::Compress::new(flate2::Compression::new(1), false);
    let mut out = Vec::new();
    for e in envelopes {
        deflate_reused(e.as_bytes(), &mut compressor, &mut out);
        black_box(&out);
    }
}
