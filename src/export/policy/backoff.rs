//! The network backoff every sender shares (develop docs: sdk/expected-features, "Dealing
//! with network failures"): after a failure without a response (or a `5xx`), no sender
//! attempts a request until the backoff is over; it starts at the configured delay and doubles
//! with each further consecutive failure, up to [`MAX_BACKOFF`]. Any response resets it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// The longest shared backoff after failures without a response.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The shared backoff.
#[derive(Debug)]
pub(crate) struct SharedBackoff {
    state: Mutex<Backoff>,
    /// Whether the backoff holds anything (failures or a deadline): set and cleared under its
    /// lock. While clear, the checks answer without the lock or the clock.
    set: AtomicBool,
    /// The first backoff after a failure.
    first: Duration,
}

#[derive(Debug, Default)]
struct Backoff {
    /// No sender attempts a request before this.
    until: Option<Instant>,
    /// Consecutive failures without a response (reset by any response).
    failures: u32,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl SharedBackoff {
    /// A backoff that starts at `first` after a failure.
    pub(crate) fn new(first: Duration) -> Self {
        Self {
            state: Mutex::new(Backoff::default()),
            set: AtomicBool::new(false),
            first,
        }
    }

    /// A response came: the consecutive failures start again from zero, and a deadline
    /// already past is forgotten (it no longer holds anyone back).
    #[inline]
    pub(crate) fn reset_failures(&self) {
        if self.set.load(Ordering::Acquire) {
            self.reset_failures_now();
        }
    }

    #[cold]
    fn reset_failures_now(&self) {
        let mut backoff = lock(&self.state);
        backoff.failures = 0;
        if backoff.until.map_or(true, |until| until <= Instant::now()) {
            backoff.until = None;
            self.set.store(false, Ordering::Release);
        }
    }

    /// Starts (or extends) the backoff after a failure.
    pub(crate) fn back_off(&self) {
        let mut backoff = lock(&self.state);
        let now = Instant::now();
        // Failures of senders that were already in flight when the backoff started do not
        // grow it again.
        if backoff.until.is_some_and(|until| until > now) {
            return;
        }
        backoff.failures = backoff.failures.saturating_add(1);
        let factor = 1u32 << backoff.failures.saturating_sub(1).min(16);
        let delay = self.first.saturating_mul(factor).min(MAX_BACKOFF);
        backoff.until = now.checked_add(delay);
        self.set.store(true, Ordering::Release);
    }

    /// Whether the backoff is running.
    pub(crate) fn running(&self) -> bool {
        self.set.load(Ordering::Acquire)
            && lock(&self.state)
                .until
                .is_some_and(|until| until > Instant::now())
    }

    /// How long the backoff still runs, if it does.
    #[inline]
    pub(crate) fn remaining(&self) -> Option<Duration> {
        if self.set.load(Ordering::Acquire) {
            self.remaining_now()
        } else {
            None
        }
    }

    /// [`remaining`](Self::remaining) once a backoff may run.
    #[cold]
    fn remaining_now(&self) -> Option<Duration> {
        let until = lock(&self.state).until;
        until
            .map(|until| until.saturating_duration_since(Instant::now()))
            .filter(|delay| !delay.is_zero())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_and_a_response_ends_it_once_it_ran_out() {
        let backoff = SharedBackoff::new(Duration::from_millis(20));
        assert_eq!(backoff.remaining(), None);
        backoff.back_off();
        assert!(backoff.running());
        let first = backoff.remaining().expect("running");
        assert!(first <= Duration::from_millis(20));
        // A failure while it runs does not grow it.
        backoff.back_off();
        assert!(backoff.remaining().expect("running") <= Duration::from_millis(20));
        std::thread::sleep(Duration::from_millis(25));
        assert!(!backoff.running());
        backoff.back_off();
        let second = backoff.remaining().expect("running");
        assert!(second > Duration::from_millis(20), "doubled: {second:?}");
        std::thread::sleep(Duration::from_millis(45));
        backoff.reset_failures();
        assert_eq!(backoff.remaining(), None);
        backoff.back_off();
        assert!(backoff.remaining().expect("running") <= Duration::from_millis(20));
    }
}
