//! Backpressure handling (develop docs: sdk/telemetry/traces/backpressure; the Python SDK's
//! `monitor.py`): every health check interval (10 s), the pipeline is unhealthy if its queue
//! refused or shed work since the last check, or if a rate limit is in force. Each unhealthy
//! check halves the effective traces sample rate once more (at most 10 times); a healthy one
//! restores it. The layer reads the factor with one relaxed atomic load per sampling decision.
//!
//! The checks run on the senders (after each unit of work, and on their idle ticks), so the
//! instrumented program does no work for them.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The most halvings.
pub(crate) const MAX_DOWNSAMPLE_FACTOR: u32 = 10;

/// The downsampling factor and when it was last checked.
#[derive(Debug)]
pub(crate) struct Monitor {
    /// `None`: backpressure handling is off.
    interval: Option<Duration>,
    factor: AtomicU32,
    /// When the last check ran, in nanoseconds since `origin`.
    last_check: AtomicU64,
    origin: Instant,
}

impl Monitor {
    pub(crate) fn new(interval: Option<Duration>) -> Self {
        Self {
            interval,
            factor: AtomicU32::new(0),
            last_check: AtomicU64::new(0),
            origin: Instant::now(),
        }
    }

    /// The rate is divided by `2^factor`.
    #[inline]
    pub(crate) fn factor(&self) -> u32 {
        self.factor.load(Ordering::Relaxed)
    }

    /// Runs a check if the interval has passed since the last one (one sender wins the race),
    /// asking `healthy` then; returns the new factor if it ran.
    pub(crate) fn check_if_due(&self, now: Instant, healthy: impl FnOnce() -> bool) -> Option<u32> {
        let interval = u64::try_from(self.interval?.as_nanos()).unwrap_or(u64::MAX);
        let at = u64::try_from(now.saturating_duration_since(self.origin).as_nanos())
            .unwrap_or(u64::MAX);
        let last = self.last_check.load(Ordering::Relaxed);
        if at.saturating_sub(last) < interval {
            return None;
        }
        self.last_check
            .compare_exchange(last, at, Ordering::Relaxed, Ordering::Relaxed)
            .ok()?;
        let factor = if healthy() {
            0
        } else {
            (self.factor() + 1).min(MAX_DOWNSAMPLE_FACTOR)
        };
        self.factor.store(factor, Ordering::Relaxed);
        Some(factor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_unhealthy_check_halves_once_more_up_to_ten_and_a_healthy_one_restores() {
        let monitor = Monitor::new(Some(Duration::from_secs(10)));
        let start = monitor.origin;
        let at = |s: u64| start + Duration::from_secs(s);
        assert_eq!(monitor.check_if_due(at(5), || false), None, "not due yet");
        assert_eq!(monitor.check_if_due(at(10), || false), Some(1));
        assert_eq!(monitor.check_if_due(at(15), || false), None);
        for (i, s) in (20..200).step_by(10).enumerate() {
            let want = (i as u32 + 2).min(MAX_DOWNSAMPLE_FACTOR);
            assert_eq!(monitor.check_if_due(at(s), || false), Some(want));
        }
        assert_eq!(monitor.factor(), MAX_DOWNSAMPLE_FACTOR);
        assert_eq!(monitor.check_if_due(at(200), || true), Some(0));
        assert_eq!(monitor.factor(), 0);
    }

    #[test]
    fn turned_off_it_never_checks() {
        let monitor = Monitor::new(None);
        let later = monitor.origin + Duration::from_secs(3600);
        assert_eq!(monitor.check_if_due(later, || false), None);
        assert_eq!(monitor.factor(), 0);
    }
}
