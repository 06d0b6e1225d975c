//! A counting global allocator: allocations, bytes requested, and live bytes, over all threads.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

pub struct CountingAlloc;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static ALLOC_BYTES: AtomicU64 = AtomicU64::new(0);
static FREED_BYTES: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to `System` unchanged; the counters are plain atomics.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        ALLOC_BYTES.fetch_add(layout.size() as u64, Relaxed);
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        ALLOC_BYTES.fetch_add(layout.size() as u64, Relaxed);
        System.alloc_zeroed(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        FREED_BYTES.fetch_add(layout.size() as u64, Relaxed);
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
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
