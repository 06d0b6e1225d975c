//! The overhead ladder for one span lifecycle, against the bare registry in the same run.
//!
//! `cargo bench --bench span_lifecycle` runs criterion and then prints allocations and heap
//! bytes per span for every rung. For instruction counts (stable on a noisy machine),
//! `TS_BENCH_ONLY=<workload>:<rung>:<n>` runs one workload `n` times (see
//! `support::callgrind_mode`); run it under valgrind for two values of `n` and divide the
//! difference by the difference of the `n`s, as `benches/ladder.sh` does for every rung.

mod support;

use std::hint::black_box;

use criterion::{criterion_group, Criterion};
use support::{alloc_snapshot, child_span, in_root, CountingAlloc, Rung};
use tracing_sentry::SentrySpanExt;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

const INCOMING_TRACE: &str = "771a43a4192642f0b136d5159a501700-b7ad6b7169203331-1";
const INCOMING_BAGGAGE: &str = "other-vendor=a;p=1,acme=b,tenant=c,sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-public_key=49d0f7386ad645858ae85020e393bef3,sentry-sample_rate=0.25,sentry-sampled=true,sentry-sample_rand=0.123456,sentry-environment=prod,sentry-release=up%401,sentry-transaction=GET%20%2Fup";

fn incoming() -> http::HeaderMap {
    let mut h = http::HeaderMap::new();
    h.insert("sentry-trace", INCOMING_TRACE.parse().unwrap());
    h.insert("baggage", INCOMING_BAGGAGE.parse().unwrap());
    h
}

/// Workload: continue a trace from incoming headers and create the server span.
#[inline(never)]
fn continue_from_headers(headers: &http::HeaderMap) {
    let span = tracing::info_span!("GET /users/:id", http.method = "GET");
    let _ = span.set_parent_from_headers(headers);
    let _g = span.enter();
}

fn run_workload(workload: &str, rung: Rung, n: u64) {
    let (dispatch, guard) = rung.dispatch();
    tracing::dispatcher::with_default(&dispatch, || match workload {
        "child_span" => in_root(n, |i| child_span(black_box(i))),
        // A `tracing` event in a span (the layer's `on_event`, e.g. with feature `sentry`).
        "event_in_span" => in_root(n, |i| tracing::info!(i = black_box(i), "event")),
        "current_headers" => {
            let root = tracing::info_span!("root");
            let _ = root.set_parent_from_headers(&incoming());
            let _g = root.enter();
            let child = tracing::info_span!("call");
            let _c = child.enter();
            for _ in 0..n {
                black_box(tracing_sentry::current_headers());
            }
        }
        "continue" => {
            let headers = incoming();
            for _ in 0..n {
                continue_from_headers(black_box(&headers));
            }
        }
        other => {
            eprintln!("unknown workload {other}");
            std::process::exit(2);
        }
    });
    if let Some(guard) = guard {
        guard.flush(std::time::Duration::from_secs(5));
    }
}

fn ladder(c: &mut Criterion) {
    let mut group = c.benchmark_group("child_span_two_fields");
    for rung in Rung::ALL {
        let (dispatch, _guard) = rung.dispatch();
        group.bench_function(rung.name(), |b| {
            tracing::dispatcher::with_default(&dispatch, || {
                // Roots are replaced every CHILDREN_PER_ROOT children (see `in_root`), so every
                // child is recorded into a transaction below the span limit.
                b.iter_custom(|iters| {
                    let start = std::time::Instant::now();
                    in_root(iters, |i| child_span(black_box(i)));
                    start.elapsed()
                })
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("propagation");
    for rung in [Rung::RegistryOnly, Rung::Unsampled, Rung::SampledNoExport] {
        let (dispatch, _guard) = rung.dispatch();
        let headers = incoming();
        group.bench_function(format!("continue_from_headers/{}", rung.name()), |b| {
            tracing::dispatcher::with_default(&dispatch, || {
                b.iter(|| continue_from_headers(black_box(&headers)))
            })
        });
        group.bench_function(format!("current_headers/{}", rung.name()), |b| {
            tracing::dispatcher::with_default(&dispatch, || {
                let root = tracing::info_span!("root");
                let _ = root.set_parent_from_headers(&headers);
                let _g = root.enter();
                b.iter(|| black_box(tracing_sentry::current_headers()))
            })
        });
    }
    group.finish();
}

/// Prints allocations and live heap bytes per span for each rung.
fn allocation_report() {
    println!("\nallocations per child span (create+enter+exit+close), and heap per open span:");
    println!(
        "{:<20} {:>12} {:>18}",
        "rung", "allocs/span", "heap bytes/open"
    );
    for rung in Rung::ALL {
        let (dispatch, guard) = rung.dispatch();
        tracing::dispatcher::with_default(&dispatch, || {
            let root = tracing::info_span!("root");
            let _g = root.enter();
            // Warm the registry's pools first.
            in_root(10_000, child_span);
            let n = 10_000;
            let before = alloc_snapshot();
            for i in 0..n {
                child_span(black_box(i));
            }
            let (allocs, _) = before.per(n);
            let mut open = Vec::with_capacity(n as usize);
            let before = alloc_snapshot();
            for i in 0..n {
                open.push(tracing::info_span!(
                    "child",
                    user.id = i,
                    http.method = "GET"
                ));
            }
            let (_, heap) = before.per(n);
            drop(open);
            println!("{:<20} {:>12.2} {:>18.0}", rung.name(), allocs, heap);
        });
        if let Some(guard) = guard {
            guard.flush(std::time::Duration::from_secs(5));
        }
    }
}

criterion_group!(benches, ladder);

fn main() {
    if support::callgrind_mode(run_workload) {
        return;
    }
    benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
    allocation_report();
}
