//! Debug output about losses (`debug(true)`): one line on stderr when dropping starts, then at
//! most one summary per [`SUMMARY_EVERY`] while it goes on; never one line per drop.

use std::fmt;
use std::io::Write as _;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// At most one debug summary of drops this often.
pub(crate) const SUMMARY_EVERY: Duration = Duration::from_secs(10);
/// Drops this far apart count as a new episode (a new "dropping started" line).
const QUIET_AFTER: Duration = Duration::from_secs(30);

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Rate-limited debug lines about drops: one when dropping starts, a summary at most every
/// [`SUMMARY_EVERY`] while it goes on.
pub(crate) struct DropLog {
    state: Mutex<DropLogState>,
}

#[derive(Default)]
struct DropLogState {
    last_drop: Option<Instant>,
    last_line: Option<Instant>,
    /// Drops since the last line, by label.
    pending: Vec<(&'static str, u64)>,
    /// Failure notes since the last line (only the first is kept).
    note: Option<String>,
}

impl DropLog {
    pub(crate) fn new() -> Self {
        Self {
            state: Mutex::new(DropLogState::default()),
        }
    }

    /// Counts one drop under `label`; prints the start line or a due summary.
    pub(crate) fn record(&self, debug: bool, label: &'static str) {
        if !debug {
            return;
        }
        let now = Instant::now();
        let mut state = lock(&self.state);
        let new_episode = state
            .last_drop
            .map_or(true, |last| now.duration_since(last) >= QUIET_AFTER);
        state.last_drop = Some(now);
        match state.pending.iter_mut().find(|(l, _)| *l == label) {
            Some((_, n)) => *n += 1,
            None => state.pending.push((label, 1)),
        }
        if new_episode {
            let note = state.note.take();
            state.pending.clear();
            state.last_line = Some(now);
            drop(state);
            let cause = note.map(|n| format!(" ({n})")).unwrap_or_default();
            debug_line(format_args!(
                "started dropping transactions: {label}{cause}; a summary follows at most every {}s while it goes on",
                SUMMARY_EVERY.as_secs()
            ));
            return;
        }
        let due = state
            .last_line
            .map_or(true, |last| now.duration_since(last) >= SUMMARY_EVERY);
        if due {
            let line = summary(&mut state);
            state.last_line = Some(now);
            drop(state);
            debug_line(format_args!("{line}"));
        }
    }

    /// Keeps the first failure detail for the next line.
    pub(crate) fn note(&self, debug: bool, detail: fmt::Arguments<'_>) {
        if !debug {
            return;
        }
        let mut state = lock(&self.state);
        if state.note.is_none() {
            state.note = Some(detail.to_string());
        }
    }

    /// Prints what is pending (at shutdown).
    pub(crate) fn summarise_now(&self, debug: bool) {
        if !debug {
            return;
        }
        let mut state = lock(&self.state);
        if state.pending.is_empty() {
            return;
        }
        let line = summary(&mut state);
        drop(state);
        debug_line(format_args!("{line}"));
    }
}

fn summary(state: &mut DropLogState) -> String {
    let total: u64 = state.pending.iter().map(|(_, n)| n).sum();
    let by: Vec<String> = state
        .pending
        .drain(..)
        .map(|(label, n)| format!("{label}: {n}"))
        .collect();
    let note = state
        .note
        .take()
        .map(|n| format!("; last failure: {n}"))
        .unwrap_or_default();
    format!(
        "still dropping transactions: {total} since the last line ({}){note}",
        by.join(", ")
    )
}

/// One line on stderr. Written with `write!` (not `eprintln!`, which panics when stderr is
/// closed).
fn debug_line(message: fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr().lock(), "[tracing-sentry] {message}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_debug_log_is_rate_limited() {
        // One "started" line and then summaries at most every SUMMARY_EVERY: recording many
        // drops in a row must not take a line each (observed through the state it keeps).
        let log = DropLog::new();
        for _ in 0..1000 {
            log.record(true, "queue_overflow");
        }
        let state = lock(&log.state);
        let pending: u64 = state.pending.iter().map(|(_, n)| n).sum();
        assert_eq!(
            pending, 999,
            "all but the first drop wait for the next summary"
        );
    }
}
