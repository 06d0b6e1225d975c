//! Work that arrives after the [`ExportGuard`](super::ExportGuard) shut the pipeline down: a
//! guard dropped at once (`let (layer, _) = ...build()?`, or bound in a function that returned)
//! sends nothing, and `#[must_use]` does not catch `_` in a tuple pattern. So the first such
//! arrival prints one `tracing-sentry:` line on stderr (once per process) saying what to do;
//! the loss itself is counted as `transactions_dropped_shutdown` or `spans_dropped_shutdown`.

use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether the process already printed a notice.
static PRINTED: AtomicBool = AtomicBool::new(false);

/// What one pipeline knows about work and its shutdown.
#[derive(Debug, Default)]
pub(crate) struct LateWork {
    /// Some transaction or span batch was queued before the shutdown.
    submitted: AtomicBool,
    /// A notice was due for this pipeline (whether or not the process printed it already).
    noticed: AtomicBool,
}

impl LateWork {
    /// Notes that work was queued (one relaxed load once it is set).
    #[inline]
    pub(crate) fn submitted(&self) {
        if !self.submitted.load(Ordering::Relaxed) {
            self.submitted.store(true, Ordering::Relaxed);
        }
    }

    /// Work arrived after the shutdown: prints the notice if one is due and none was printed
    /// in this process yet.
    pub(crate) fn arrived(&self, debug: bool) {
        let Some(line) = notice(self.submitted.load(Ordering::Relaxed), debug) else {
            return;
        };
        self.noticed.store(true, Ordering::Relaxed);
        if first(&PRINTED) {
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        }
    }

    /// Whether a notice was due for this pipeline.
    #[cfg(test)]
    pub(crate) fn noticed(&self) -> bool {
        self.noticed.load(Ordering::Relaxed)
    }
}

/// The line to print when work arrives after the guard was dropped: always when nothing was
/// queued before (the guard was dropped before the program did anything: nothing will ever be
/// sent), and with `debug(true)` otherwise (work that finished while the program was ending).
fn notice(submitted_before: bool, debug: bool) -> Option<&'static str> {
    if !submitted_before {
        return Some(
            "tracing-sentry: spans finished after the ExportGuard was dropped, before anything \
             was sent: nothing will be sent. Keep the guard alive for as long as spans are \
             recorded, e.g. `let (layer, _guard) = ...build()?;` in `main` (`let (layer, _) = ...` \
             drops it at once).",
        );
    }
    debug.then_some(
        "tracing-sentry: spans finished after the ExportGuard was dropped and were not sent \
         (counted in `Stats`); drop the guard only once the program records no more spans.",
    )
}

/// `true` the first time it is called with `latch`.
fn first(latch: &AtomicBool) -> bool {
    !latch.swap(true, Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guard_dropped_before_any_work_is_always_reported_with_the_fix() {
        for debug in [false, true] {
            let line = notice(false, debug).expect("a notice");
            assert!(line.starts_with("tracing-sentry: "));
            assert!(line.contains("let (layer, _guard) = "), "{line}");
        }
    }

    #[test]
    fn late_work_at_the_end_of_a_program_is_reported_only_with_debug() {
        assert_eq!(notice(true, false), None);
        let line = notice(true, true).expect("a notice with debug");
        assert!(line.starts_with("tracing-sentry: "));
    }

    #[test]
    fn the_latch_opens_once() {
        let latch = AtomicBool::new(false);
        assert!(first(&latch));
        assert!(!first(&latch));
        assert!(!first(&latch));
    }
}
