//! A counting global allocator: allocations, bytes requested, and live bytes, over all threads.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

pub struct CountingAlloc;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static ALLOC_BYTES: AtomicU64 = AtomicU64::new(0);
static FREED_BYTES: AtomicU64 = AtomicU64::new(0);

/// Allocation sizes (1..=1024 bytes, larger ones in the last slot) while `HIST_ON` is set.
static HIST_ON: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
static HIST: [AtomicU64; 1026] = [const { AtomicU64::new(0) }; 1026];

fn hist(size: usize) {
    if HIST_ON.load(Relaxed) {
        HIST[size.min(1025)].fetch_add(1, Relaxed);
    }
}

/// Starts counting allocations by size.
pub fn hist_start() {
    for h in &HIST {
        h.store(0, Relaxed);
    }
    HIST_ON.store(true, Relaxed);
}

/// Stops counting; returns (size, count) pairs, largest total first (size 1025 = larger).
pub fn hist_stop() -> Vec<(usize, u64)> {
    HIST_ON.store(false, Relaxed);
    let mut v: Vec<(usize, u64)> = HIST
        .iter()
        .enumerate()
        .map(|(size, n)| (size, n.load(Relaxed)))
        .filter(|&(_, n)| n > 0)
        .collect();
    v.sort_by_key(|&(size, n)| std::cmp::Reverse(size as u64 * n));
    v
}

// SAFETY: each method passes its arguments unchanged to `System` and returns `System`'s result
// unchanged. So the obligations `GlobalAlloc` puts on callers (a `layout` of non-zero size; a
// `ptr` allocated by this allocator with that `layout`; a `new_size` that, rounded up to
// `layout.align()`, does not overflow `isize`) are exactly the ones `System` requires, and
// every pointer this allocator hands out, or is handed back, is one of `System`'s. The only
// other work is `Relaxed` loads of and additions to static atomics (`hist` indexes `HIST` with
// `size.min(1025)`, always in bounds of its 1,026 slots): they do not allocate (no re-entry
// into the allocator) and cannot panic or unwind (`fetch_add` wraps on overflow), which
// `GlobalAlloc` forbids.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        hist(layout.size());
        ALLOCS.fetch_add(1, Relaxed);
        ALLOC_BYTES.fetch_add(layout.size() as u64, Relaxed);
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        hist(layout.size());
        ALLOCS.fetch_add(1, Relaxed);
        ALLOC_BYTES.fetch_add(layout.size() as u64, Relaxed);
        System.alloc_zeroed(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        FREED_BYTES.fetch_add(layout.size() as u64, Relaxed);
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        hist(new_size);
        ALLOCS.fetch_add(1, Relaxed);
        ALLOC_BYTES.fetch_add(new_size as u64, Relaxed);
        FREED_BYTES.fetch_add(layout.size() as u64, Relaxed);
        System.realloc(ptr, layout, new_size)
    }
}

/// A snapshot of the counters.
#[derive(Clone, Copy)]
pub struct Snapshot {
    allocs: u64,
    bytes: u64,
    live: i64,
}

pub fn snapshot() -> Snapshot {
    let bytes = ALLOC_BYTES.load(Relaxed);
    Snapshot {
        allocs: ALLOCS.load(Relaxed),
        bytes,
        live: bytes as i64 - FREED_BYTES.load(Relaxed) as i64,
    }
}

/// Per-iteration figures since a snapshot.
pub struct Per {
    pub allocs: f64,
    pub bytes: f64,
    pub live: f64,
}

impl Snapshot {
    pub fn per(self, n: u64) -> Per {
        let now = snapshot();
        let n = n as f64;
        Per {
            allocs: (now.allocs - self.allocs) as f64 / n,
            bytes: (now.bytes - self.bytes) as f64 / n,
            live: (now.live - self.live) as f64 / n,
        }
    }
}
