//! Trace context derived from the span tree: roots, children, explicit parents, filters.

use tracing_sentry::{SentryLayer, SentrySpanExt};

use crate::support::*;

#[test]
fn a_root_starts_a_new_trace_and_children_inherit_it() {
    with_layer(SentryLayer::new(), || {
        let root = tracing::info_span!("root");
        let child = tracing::info_span!(parent: &root, "child");
        let grandchild = tracing::info_span!(parent: &child, "grandchild");
        let (r, c, g) = (
            root.trace_context().unwrap(),
            child.trace_context().unwrap(),
            grandchild.trace_context().unwrap(),
        );
        assert_eq!(r.parent_span_id(), None, "a root has no parent");
        assert_eq!(c.trace_id(), r.trace_id());
        assert_eq!(g.trace_id(), r.trace_id());
        assert_eq!(c.parent_span_id(), Some(r.span_id()));
        assert_eq!(g.parent_span_id(), Some(c.span_id()));
        assert_ne!(c.span_id(), r.span_id());
        assert_ne!(g.span_id(), c.span_id());
    });
}

#[test]
fn two_roots_get_different_traces() {
    with_layer(SentryLayer::new(), || {
        let a = tracing::info_span!("a").trace_context().unwrap();
        let b = tracing::info_span!("b").trace_context().unwrap();
        assert_ne!(a.trace_id(), b.trace_id());
    });
}

#[test]
fn the_contextual_parent_is_the_entered_span() {
    with_layer(SentryLayer::new(), || {
        let root = tracing::info_span!("root");
        let child = root.in_scope(|| tracing::info_span!("child"));
        let ctx = child.trace_context().unwrap();
        assert_eq!(ctx.trace_id(), root.trace_context().unwrap().trace_id());
        assert_eq!(
            ctx.parent_span_id(),
            Some(root.trace_context().unwrap().span_id())
        );
    });
}

#[test]
fn an_explicit_parent_wins_over_the_entered_span() {
    with_layer(SentryLayer::new(), || {
        let a = tracing::info_span!("a");
        let b = tracing::info_span!("b");
        let child = a.in_scope(|| tracing::info_span!(parent: &b, "child"));
        assert_eq!(
            child.trace_context().unwrap().trace_id(),
            b.trace_context().unwrap().trace_id()
        );
    });
}

#[test]
fn parent_none_makes_a_root_even_inside_another_span() {
    with_layer(SentryLayer::new(), || {
        let outer = tracing::info_span!("outer");
        let root = outer.in_scope(|| tracing::info_span!(parent: None, "detached"));
        let ctx = root.trace_context().unwrap();
        assert_eq!(ctx.parent_span_id(), None);
        assert_ne!(ctx.trace_id(), outer.trace_context().unwrap().trace_id());
    });
}

#[test]
fn the_same_span_reports_the_same_ids_every_time() {
    with_layer(SentryLayer::new(), || {
        let root = tracing::info_span!("root");
        let child = tracing::info_span!(parent: &root, "child");
        assert_eq!(child.trace_context(), child.trace_context());
        let _g = child.enter();
        assert_eq!(
            tracing_sentry::current_trace_context(),
            child.trace_context()
        );
    });
}

#[test]
fn spans_without_a_layer_have_no_trace_context() {
    let subscriber = tracing_subscriber::registry();
    tracing::subscriber::with_default(subscriber, || {
        let span = tracing::info_span!("lonely");
        assert!(span.trace_context().is_none());
        assert!(span.propagation_headers().is_empty());
        let _g = span.enter();
        assert!(tracing_sentry::current_headers().is_empty());
    });
    assert!(tracing::Span::none().trace_context().is_none());
}

#[test]
fn re_entering_a_span_keeps_its_context() {
    with_layer(SentryLayer::new(), || {
        let span = tracing::info_span!("reentered");
        let first = span.in_scope(tracing_sentry::current_trace_context);
        let second = span.in_scope(tracing_sentry::current_trace_context);
        let nested = span.in_scope(|| span.in_scope(tracing_sentry::current_trace_context));
        assert!(first.is_some());
        assert_eq!(first, second);
        assert_eq!(first, nested);
    });
}
