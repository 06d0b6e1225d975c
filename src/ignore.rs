//! `ignore_spans` and `ignore_spans_where`: rules that decide, when a span is created and on the
//! instrumented thread, that it is not sent. Checked by the layer only when a rule is
//! configured. A matching child is not recorded and its children attach to its nearest
//! recorded ancestor; a matching root is not sampled (it propagates `-0`, as the JavaScript SDK
//! makes an ignored segment span non-recording). Both are counted and reported as `ignored`,
//! so they take no `max_spans` place and cover streamed spans too.

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use crate::export::SpanView;
use crate::span::recording::Recording;
use crate::stats::StatsInner;

/// A predicate of `ignore_spans_where`.
pub(crate) type IgnorePredicate = Arc<dyn Fn(&SpanView<'_>) -> bool + Send + Sync>;

/// The rules, fixed when the layer is built.
#[derive(Clone, Default)]
pub(crate) struct IgnoreRules {
    /// Substrings of span names that ignore a span.
    pub(crate) names: Vec<String>,
    pub(crate) predicates: Vec<IgnorePredicate>,
}

impl fmt::Debug for IgnoreRules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IgnoreRules")
            .field("names", &self.names)
            .field("predicates", &self.predicates.len())
            .finish()
    }
}

impl IgnoreRules {
    /// Whether any rule is configured (the layer then checks each new span).
    pub(crate) fn any(&self) -> bool {
        !self.names.is_empty() || !self.predicates.is_empty()
    }

    /// Whether a span being created, `recording` (its name, callsite and creation fields so
    /// far), matches a rule. A panicking predicate ignores nothing and is counted in
    /// `ignore_predicate_panics`.
    pub(crate) fn matches(&self, recording: &Recording, stats: &StatsInner) -> bool {
        let mut span = recording.preview();
        let view = SpanView::new(&mut span);
        let name = view.description();
        self.names.iter().any(|n| name.contains(n.as_str()))
            || self.predicates.iter().any(|p| {
                catch_unwind(AssertUnwindSafe(|| p(&view))).unwrap_or_else(|_| {
                    StatsInner::incr(&stats.ignore_predicate_panics);
                    false
                })
            })
    }
}
