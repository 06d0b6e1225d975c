//! Span times: the instrumented thread reads only the monotonic clock, and the export sender
//! turns those instants into wall-clock times with the [`Clock`] of their local root (one
//! wall-clock reading per root), so a span's close does no time arithmetic.

use std::time::{Instant, SystemTime};

/// A wall-clock time and the monotonic instant it was read at: the wall-clock time of any
/// other instant of the same process, without reading the wall clock again. Times derived from
/// one clock keep the monotonic order (an end is never before its start).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Clock {
    wall: SystemTime,
    mono: Instant,
}

impl Clock {
    /// A clock whose instant `mono` is at the wall-clock time read now.
    pub(crate) fn anchored_at(mono: Instant) -> Self {
        let now = Instant::now();
        let wall = SystemTime::now()
            .checked_sub(now.saturating_duration_since(mono))
            .unwrap_or_else(SystemTime::now);
        Self { wall, mono }
    }

    /// The monotonic instant the wall clock was read for.
    pub(crate) fn mono(&self) -> Instant {
        self.mono
    }

    /// A clock from a known pair (tests).
    #[cfg(test)]
    pub(crate) fn new(wall: SystemTime, mono: Instant) -> Self {
        Self { wall, mono }
    }

    /// The wall-clock time and the monotonic instant it was read at (for a converter that
    /// turns many instants into times since the epoch, like the export sender's).
    pub(crate) fn anchor(&self) -> (SystemTime, Instant) {
        (self.wall, self.mono)
    }

    /// The wall-clock time of the instant `at`.
    pub(crate) fn wall(&self, at: Instant) -> SystemTime {
        match at.checked_duration_since(self.mono) {
            Some(after) => self.wall.checked_add(after).unwrap_or(self.wall),
            None => self
                .wall
                .checked_sub(self.mono.saturating_duration_since(at))
                .unwrap_or(self.wall),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn instants_become_wall_times_at_the_same_distance_from_the_anchor() {
        let mono = Instant::now();
        let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let clock = Clock::new(wall, mono);
        assert_eq!(clock.wall(mono), wall);
        assert_eq!(
            clock.wall(mono + Duration::from_millis(1500)),
            wall + Duration::from_millis(1500)
        );
        if let Some(before) = mono.checked_sub(Duration::from_millis(250)) {
            assert_eq!(clock.wall(before), wall - Duration::from_millis(250));
        }
    }

    #[test]
    fn an_anchor_read_now_is_close_to_the_wall_clock() {
        let clock = Clock::anchored_at(Instant::now());
        let now = SystemTime::now();
        let read = clock.wall(Instant::now());
        let apart = now.duration_since(read).unwrap_or_else(|e| e.duration());
        assert!(apart < Duration::from_secs(1), "{apart:?}");
    }
}
