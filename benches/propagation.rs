//! Propagation micro-benchmarks: `sentry-trace` parse/format, baggage parse (realistic and at the
//! W3C limit), DSC serialization and merging into an existing `baggage`.
//!
//! Run with `cargo bench --bench propagation`. Compare results within one run; absolute numbers
//! depend on the machine.
//!
//! Wall-clock times on a shared machine vary by 2x from run to run; for figures that do not,
//! with `PROPAGATION_CALLGRIND=NAME:N` the binary runs operation `NAME` (`sentry_trace_parse`,
//! `sentry_trace_format`, `baggage_parse_realistic`, `baggage_parse_at_limit`,
//! `from_pairs_realistic`, `from_headers_realistic`, `to_baggage_head`, `merge_into_existing`)
//! `N` times and exits; the difference of two callgrind runs (`N` and `0`) divided by `N` is the
//! cost of one operation:
//!
//! ```sh
//! BIN=$(ls -t target/release/deps/propagation-* | grep -v '\.d$' | head -1)
//! for n in 0 10000; do PROPAGATION_CALLGRIND=from_headers_realistic:$n \
//!   valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.$n $BIN 2>&1 | grep refs; done
//! ```

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{criterion_group, Criterion, Throughput};
use tracing_sentry::propagation::{merge_baggage, Baggage};
use tracing_sentry::{DynamicSamplingContext, PropagationContext, SentryTrace};

const SENTRY_TRACE: &str = "771a43a4192642f0b136d5159a501700-b7ad6b7169203331-1";

/// 3 third-party members and 8 Sentry members, as a browser SDK behind a vendor proxy sends them.
const REALISTIC_BAGGAGE: &str = "other-vendor-value-1=foo;bar;baz, userId=alice, \
    sentry-trace_id=771a43a4192642f0b136d5159a501700, \
    sentry-public_key=49d0f7386ad645858ae85020e393bef3, sentry-sample_rate=0.25, \
    sentry-sample_rand=0.123456, sentry-sampled=true, sentry-environment=production, \
    sentry-release=myapp%401.0.0, sentry-transaction=GET%20%2Fusers%2F%3Aid, isProduction=false";

/// 64 members, about 8 KiB: the most a baggage header is guaranteed to carry.
fn baggage_at_limit() -> String {
    let mut members: Vec<String> = (0..56)
        .map(|i| format!("vendor{i:02}={}", "v".repeat(128)))
        .collect();
    members.extend((0..8).map(|i| format!("sentry-key{i}=value%20{i}{}", "x".repeat(24))));
    let header = members.join(",");
    assert!(
        header.len() <= 8192 && header.len() > 7800,
        "{}",
        header.len()
    );
    header
}

/// A head-of-trace DSC with every field Python puts there.
fn head_dsc() -> DynamicSamplingContext {
    DynamicSamplingContext::new()
        .with("trace_id", "771a43a4192642f0b136d5159a501700")
        .with("sample_rand", "0.123456")
        .with("environment", "production")
        .with("release", "myapp@1.0.0")
        .with("public_key", "49d0f7386ad645858ae85020e393bef3")
        .with("org_id", "42")
        .with("transaction", "GET /users/:id")
        .with("sample_rate", "0.25")
        .with("sampled", "true")
}

fn sentry_trace(c: &mut Criterion) {
    let mut group = c.benchmark_group("sentry_trace");
    group.bench_function("parse", |b| {
        b.iter(|| black_box(SENTRY_TRACE).parse::<SentryTrace>())
    });
    let st: SentryTrace = SENTRY_TRACE.parse().unwrap();
    group.bench_function("format_to_string", |b| {
        b.iter(|| black_box(&st).to_string())
    });
    let mut buf = String::with_capacity(64);
    group.bench_function("format_into_buffer", |b| {
        b.iter(|| {
            buf.clear();
            write!(buf, "{}", black_box(&st)).unwrap();
            buf.len()
        })
    });
    group.finish();
}

fn baggage(c: &mut Criterion) {
    let mut group = c.benchmark_group("baggage");
    group.throughput(Throughput::Bytes(REALISTIC_BAGGAGE.len() as u64));
    group.bench_function("parse_realistic", |b| {
        b.iter(|| Baggage::parse(black_box(REALISTIC_BAGGAGE)))
    });
    let limit = baggage_at_limit();
    group.throughput(Throughput::Bytes(limit.len() as u64));
    group.bench_function("parse_at_limit", |b| {
        b.iter(|| Baggage::parse(black_box(&limit)))
    });
    group.finish();

    let mut group = c.benchmark_group("extract");
    let pairs = [
        ("sentry-trace", SENTRY_TRACE),
        ("baggage", REALISTIC_BAGGAGE),
    ];
    group.bench_function("from_pairs_realistic", |b| {
        b.iter(|| PropagationContext::from_pairs(black_box(pairs)))
    });
    // What a server layer reads: an `http::HeaderMap`.
    let headers = realistic_headers();
    group.bench_function("from_headers_realistic", |b| {
        b.iter(|| PropagationContext::from_headers(black_box(&headers)))
    });
    group.finish();
}

fn dsc(c: &mut Criterion) {
    let mut group = c.benchmark_group("dsc");
    let dsc = head_dsc();
    group.bench_function("to_baggage_head", |b| {
        b.iter(|| black_box(&dsc).to_baggage())
    });
    let sentry = dsc.to_baggage().unwrap();
    let existing =
        "other-vendor-value-1=foo;bar;baz,userId=alice,sentry-trace_id=old,isProduction=false";
    group.bench_function("merge_into_existing", |b| {
        b.iter(|| merge_baggage(Some(black_box(existing)), black_box(&sentry)))
    });
    group.finish();
}

/// The `REALISTIC_BAGGAGE` request as an `http::HeaderMap`.
fn realistic_headers() -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    headers.insert("sentry-trace", http::HeaderValue::from_static(SENTRY_TRACE));
    headers.insert("baggage", http::HeaderValue::from_static(REALISTIC_BAGGAGE));
    headers
}

/// `PROPAGATION_CALLGRIND=NAME:N`: runs operation `NAME` `N` times and returns true.
fn callgrind_mode() -> bool {
    let Ok(spec) = std::env::var("PROPAGATION_CALLGRIND") else {
        return false;
    };
    let (name, n) = spec.split_once(':').expect("NAME:N");
    let n: usize = n.parse().expect("N is a number");
    let st: SentryTrace = SENTRY_TRACE.parse().unwrap();
    let limit = baggage_at_limit();
    let headers = realistic_headers();
    let pairs = [
        ("sentry-trace", SENTRY_TRACE),
        ("baggage", REALISTIC_BAGGAGE),
    ];
    let dsc = head_dsc();
    let sentry = dsc.to_baggage().unwrap();
    let existing =
        "other-vendor-value-1=foo;bar;baz,userId=alice,sentry-trace_id=old,isProduction=false";
    for _ in 0..n {
        match name {
            "sentry_trace_parse" => drop(black_box(black_box(SENTRY_TRACE).parse::<SentryTrace>())),
            "sentry_trace_format" => drop(black_box(black_box(&st).to_string())),
            "baggage_parse_realistic" => {
                drop(black_box(Baggage::parse(black_box(REALISTIC_BAGGAGE))))
            }
            "baggage_parse_at_limit" => drop(black_box(Baggage::parse(black_box(&limit)))),
            "from_pairs_realistic" => {
                drop(black_box(PropagationContext::from_pairs(black_box(pairs))))
            }
            "from_headers_realistic" => drop(black_box(PropagationContext::from_headers(
                black_box(&headers),
            ))),
            "to_baggage_head" => drop(black_box(black_box(&dsc).to_baggage())),
            "merge_into_existing" => drop(black_box(merge_baggage(
                Some(black_box(existing)),
                black_box(&sentry),
            ))),
            other => panic!("unknown operation {other}"),
        }
    }
    true
}

criterion_group!(benches, sentry_trace, baggage, dsc);

fn main() {
    if callgrind_mode() {
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
