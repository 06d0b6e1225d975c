//! [`Started`]: whether a span has had a child or its context has left the process, after
//! which it no longer takes a remote parent (its children or its callees may already carry
//! the old trace).

use std::sync::atomic::{AtomicBool, Ordering};

/// The "has a child or has propagated" mark of a span's data ([`SpanData`] or [`LazyRoot`]).
///
/// [`SpanData`]: super::data::SpanData
/// [`LazyRoot`]: super::lazy_root::LazyRoot
#[derive(Debug, Default)]
pub(crate) struct Started(AtomicBool);

impl Started {
    pub(crate) const fn new(started: bool) -> Self {
        Self(AtomicBool::new(started))
    }

    /// Sets the mark. Read first, so that the common case (already set) does not write a
    /// shared cache line.
    #[inline]
    pub(crate) fn mark(&self) {
        if !self.0.load(Ordering::Relaxed) {
            self.0.store(true, Ordering::Relaxed);
        }
    }

    #[inline]
    pub(crate) fn get(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}
