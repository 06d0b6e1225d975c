//! Regression tests for defects found in review: re-entrant user code under our locks, children
//! that outlive their root's handle, and org-id mismatches on an existing span.

use std::sync::mpsc;
use std::time::Duration;

use tracing_sentry::{SamplingContext, SentryLayer, SentrySpanExt};
use tracing_subscriber::prelude::*;

use crate::support::*;

/// Runs `f` on its own thread and fails (instead of hanging the suite) if it does not finish.
fn finishes_within<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("deadlock: the call did not finish")
}

#[test]
fn a_sampler_may_read_trace_context_and_log_while_a_parent_is_attached() {
    let done = finishes_within(|| {
        let layer = layer(
            SentryLayer::builder().traces_sampler(|_: &SamplingContext<'_>| {
                let _ = tracing_sentry::current_trace_context();
                tracing::info!("sampling");
                1.0
            }),
        );
        let subscriber = tracing_subscriber::registry()
            .with(tracing_subscriber::fmt::layer().with_writer(std::io::sink))
            .with(layer);
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!("warm the callsite");
            let span = tracing::info_span!("request");
            let _g = span.enter();
            span.set_parent_from_headers(&headers(&[(
                "sentry-trace",
                &format!("{TRACE}-{PARENT}"),
            )]))
            .unwrap();
            span.trace_context().unwrap().sampled()
        })
    });
    assert_eq!(done, Some(true));
}

#[test]
fn a_recorded_value_whose_debug_reads_trace_context_does_not_deadlock() {
    struct Nosy;
    impl std::fmt::Debug for Nosy {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            let ctx = tracing_sentry::current_trace_context();
            write!(f, "nosy({})", ctx.is_some())
        }
    }
    let recorded = finishes_within(|| {
        let (layer, guard, transport) = exporting(SentryLayer::builder().traces_sample_rate(1.0));
        with_layer(layer, || {
            let span = tracing::info_span!("handler", x = tracing::field::Empty);
            let _g = span.enter();
            span.record("x", tracing::field::debug(Nosy));
        });
        let sent = sent_transactions(&guard, &transport);
        sent[0].1["contexts"]["trace"]["data"]["x"].clone()
    });
    assert_eq!(recorded, "nosy(true)");
}

#[test]
fn a_child_that_outlives_its_roots_handle_is_still_in_the_transaction() {
    let (layer, guard, transport) = exporting(SentryLayer::builder().traces_sample_rate(1.0));
    let stats = layer.clone();
    with_layer(layer, || {
        let root = tracing::info_span!("root");
        let child = tracing::info_span!(parent: &root, "child");
        let grandchild = tracing::info_span!(parent: &child, "grandchild");
        drop(root);
        drop(child);
        drop(grandchild);
    });
    let sent = sent_transactions(&guard, &transport);
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].1["spans"].as_array().unwrap().len(),
        2,
        "{}",
        sent[0].1
    );
    assert_eq!(stats.stats().spans_dropped_late, 0);
}

#[test]
fn a_trace_from_another_org_leaves_an_existing_span_untouched() {
    let (layer, guard, transport) =
        exporting(SentryLayer::builder().org_id("1").traces_sample_rate(1.0));
    let stats = layer.clone();
    with_layer(layer, || {
        let root = tracing::info_span!("root");
        let child = tracing::info_span!(parent: &root, "child");
        let before = child.trace_context();
        let foreign = format!("sentry-trace_id={TRACE},sentry-org_id=2");
        let result = child.set_parent_from_headers(&headers(&[
            ("sentry-trace", &format!("{TRACE}-{PARENT}-1")),
            ("baggage", &foreign),
        ]));
        assert_eq!(result, Err(tracing_sentry::SetParentError::OrgMismatch));
        assert_eq!(child.trace_context(), before, "nothing changed");
    });
    let sent = sent_transactions(&guard, &transport);
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].1["spans"].as_array().unwrap().len(),
        1,
        "the child stayed in its transaction"
    );
    assert_eq!(stats.stats().traces_not_continued_org_mismatch, 1);
}

#[test]
fn a_name_recorded_on_an_unsampled_root_reaches_its_dsc() {
    let layer = layer(SentryLayer::builder().traces_sample_rate(0.0));
    with_layer(layer, || {
        let root = tracing::info_span!(
            "request",
            sentry.name = tracing::field::Empty,
            sentry.source = tracing::field::Empty
        );
        root.record("sentry.name", "GET /users/:id");
        root.record("sentry.source", "route");
        let _g = root.enter();
        let dsc = dsc_of(&tracing_sentry::current_headers());
        assert_eq!(
            dsc.get("transaction").map(String::as_str),
            Some("GET /users/:id")
        );
    });
}
