//! A small, fast, per-thread pseudo-random generator for ids and `sample_rand`.
//!
//! Trace and span ids must be unique, not secret: Sentry uses them to join spans, never to
//! authenticate anything. A per-thread wyrand generator gives 64 random bits in a handful of
//! instructions with no lock and no allocation, which matters because every sampled span draws
//! a span id on the hot path. Each thread's state is seeded from the standard library's
//! per-process random hash keys, the thread's identity and the clock, so two threads or two
//! processes do not produce the same sequence.

use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

thread_local! {
    static STATE: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0),
    );
    // The address of a thread-local differs between threads that are alive at the same time.
    let marker = 0u8;
    hasher.write_usize(&marker as *const u8 as usize);
    hasher.write(format!("{:?}", std::thread::current().id()).as_bytes());
    hasher.finish()
}

/// Returns 64 pseudo-random bits (wyrand).
#[inline]
pub(crate) fn next_u64() -> u64 {
    STATE.with(|state| {
        let s = state.get().wrapping_add(0xa076_1d64_78bd_642f);
        state.set(s);
        let t = u128::from(s) * u128::from(s ^ 0xe703_7ed1_a0b4_28db);
        (t as u64) ^ ((t >> 64) as u64)
    })
}

/// Returns a uniformly distributed float in `[0, 1)` with 53 bits of precision.
#[inline]
pub(crate) fn next_f64() -> f64 {
    (next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_stay_in_the_half_open_unit_interval() {
        for _ in 0..100_000 {
            let x = next_f64();
            assert!((0.0..1.0).contains(&x), "{x} is outside [0, 1)");
        }
    }

    #[test]
    fn threads_do_not_share_a_sequence() {
        let a: Vec<u64> = (0..4).map(|_| next_u64()).collect();
        let b = std::thread::spawn(|| (0..4).map(|_| next_u64()).collect::<Vec<u64>>())
            .join()
            .unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn bits_are_roughly_balanced() {
        let ones: u32 = (0..10_000).map(|_| next_u64().count_ones()).sum();
        let mean = f64::from(ones) / 10_000.0;
        assert!((31.0..33.0).contains(&mean), "mean popcount {mean}");
    }
}
