//! Shared bench support: the baseline ladder, workloads, a counting allocator, and a callgrind
//! mode that runs one workload a fixed number of times.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

use tracing::Dispatch;
use tracing_sentry::SentryLayer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::prelude::*;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// Counts allocations and bytes, so benches can report allocations and heap per span.
pub struct CountingAlloc;

pub static ALLOCS: AtomicU64 = AtomicU64::new(0);
pub static ALLOC_BYTES: AtomicU64 = AtomicU64::new(0);
pub static FREED_BYTES: AtomicU64 = AtomicU64::new(0);

// SAFETY: each method passes its arguments unchanged to `System` and returns `System`'s result
// unchanged. So the obligations `GlobalAlloc` puts on callers (a `layout` of non-zero size; a
// `ptr` allocated by this allocator with that `layout`; a `new_size` that, rounded up to
// `layout.align()`, does not overflow `isize`) are exactly the ones `System` requires, and
// every pointer this allocator hands out, or is handed back, is one of `System`'s. The only
// other work is `Relaxed` additions to static atomics: they do not allocate (no re-entry into
// the allocator) and cannot panic or unwind (`fetch_add` wraps on overflow), which
// `GlobalAlloc` forbids.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        ALLOC_BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        FREED_BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        ALLOC_BYTES.fetch_add(new_size as u64, Ordering::Relaxed);
        FREED_BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }
}

/// A snapshot of the allocator counters.
#[derive(Clone, Copy)]
pub struct AllocSnapshot {
    allocs: u64,
    live: i64,
}

pub fn alloc_snapshot() -> AllocSnapshot {
    AllocSnapshot {
        allocs: ALLOCS.load(Ordering::Relaxed),
        live: ALLOC_BYTES.load(Ordering::Relaxed) as i64
            - FREED_BYTES.load(Ordering::Relaxed) as i64,
    }
}

impl AllocSnapshot {
    /// (allocations, live bytes) since `self`, divided by `n`.
    pub fn per(self, n: u64) -> (f64, f64) {
        let now = alloc_snapshot();
        (
            (now.allocs - self.allocs) as f64 / n as f64,
            (now.live - self.live) as f64 / n as f64,
        )
    }
}

/// A layer that inserts a zero-sized extension: the cost of the registry plus one extension.
pub struct NoopExtLayer;
struct Marker;

impl<S> Layer<S> for NoopExtLayer
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        _: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: Context<'_, S>,
    ) {
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(Marker);
        }
    }
}

/// A layer with no callbacks at all: the cost of composing any layer with the registry.
pub struct EmptyLayer;

impl<S: tracing::Subscriber> Layer<S> for EmptyLayer {}

/// The rungs of the ladder (STYLE 3.8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rung {
    RegistryOnly,
    EmptyLayer,
    NoopLayer,
    Unsampled,
    SampledNoExport,
    SampledInMemory,
}

impl Rung {
    pub const ALL: [Rung; 6] = [
        Rung::RegistryOnly,
        Rung::EmptyLayer,
        Rung::NoopLayer,
        Rung::Unsampled,
        Rung::SampledNoExport,
        Rung::SampledInMemory,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Rung::RegistryOnly => "registry_only",
            Rung::EmptyLayer => "empty_layer",
            Rung::NoopLayer => "noop_layer",
            Rung::Unsampled => "unsampled",
            Rung::SampledNoExport => "sampled_no_export",
            Rung::SampledInMemory => "sampled_in_memory",
        }
    }

    pub fn from_name(name: &str) -> Option<Rung> {
        Rung::ALL.into_iter().find(|r| r.name() == name)
    }

    /// Builds the subscriber for this rung. The guard keeps the export worker alive.
    pub fn dispatch(self) -> (Dispatch, Option<tracing_sentry::ExportGuard>) {
        let sentry = |rate: f64, transport: Option<tracing_sentry::export::InMemoryTransport>| {
            let builder = SentryLayer::builder()
                .dsn_str("https://abc123abc123abc123abc123abc12345@o42.ingest.sentry.io/1")
                .traces_sample_rate(rate)
                .queue_capacity(1 << 16);
            let builder = match transport {
                Some(t) => builder.transport(t),
                None => builder.transport(tracing_sentry::export::NoopTransport::new()),
            };
            builder.build().expect("bench layer builds")
        };
        match self {
            Rung::RegistryOnly => (Dispatch::new(tracing_subscriber::registry()), None),
            Rung::EmptyLayer => (
                Dispatch::new(tracing_subscriber::registry().with(EmptyLayer)),
                None,
            ),
            Rung::NoopLayer => (
                Dispatch::new(tracing_subscriber::registry().with(NoopExtLayer)),
                None,
            ),
            Rung::Unsampled => {
                let (layer, guard) = sentry(0.0, None);
                (
                    Dispatch::new(tracing_subscriber::registry().with(layer)),
                    Some(guard),
                )
            }
            Rung::SampledNoExport => {
                let (layer, guard) = sentry(1.0, None);
                (
                    Dispatch::new(tracing_subscriber::registry().with(layer)),
                    Some(guard),
                )
            }
            Rung::SampledInMemory => {
                let transport = tracing_sentry::export::InMemoryTransport::new();
                let (layer, guard) = sentry(1.0, Some(transport));
                (
                    Dispatch::new(tracing_subscriber::registry().with(layer)),
                    Some(guard),
                )
            }
        }
    }
}

/// Workload (a): one child span with two fields, created, entered, exited and closed inside a
/// root that is already entered.
#[inline(never)]
pub fn child_span(i: u64) {
    let span = tracing::info_span!("child", user.id = i, http.method = "GET");
    let _g = span.enter();
}

/// How many children a bench root gets before it is replaced, so transactions stay below
/// Sentry's 1000-span limit and every child is really recorded.
pub const CHILDREN_PER_ROOT: u64 = 500;

/// Runs `f` `n` times inside entered root spans (a new root every [`CHILDREN_PER_ROOT`]).
pub fn in_root(n: u64, f: impl Fn(u64)) {
    let mut i = 0;
    while i < n {
        let root = tracing::info_span!("root");
        let _g = root.enter();
        let end = n.min(i + CHILDREN_PER_ROOT);
        while i < end {
            f(i);
            i += 1;
        }
    }
}

/// The callgrind mode: `TS_BENCH_ONLY=<workload>:<rung>:<n>` runs one workload `n` times and
/// exits. Comparing two values of `n` cancels start-up cost out of the instruction counts.
pub fn callgrind_mode(run: impl Fn(&str, Rung, u64)) -> bool {
    let Ok(spec) = std::env::var("TS_BENCH_ONLY") else {
        return false;
    };
    let mut parts = spec.split(':');
    let (Some(workload), Some(rung), Some(n)) = (parts.next(), parts.next(), parts.next()) else {
        eprintln!("TS_BENCH_ONLY=<workload>:<rung>:<n>");
        std::process::exit(2);
    };
    let rung = Rung::from_name(rung).unwrap_or_else(|| {
        eprintln!("unknown rung {rung}");
        std::process::exit(2)
    });
    let n: u64 = n.parse().unwrap_or(1000);
    run(workload, rung, n);
    true
}
