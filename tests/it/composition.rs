//! The layer composed with real neighbours: fmt, per-layer filters, Option, Box, reload.

use tracing_sentry::{SentryLayer, SentrySpanExt};
use tracing_subscriber::filter::{filter_fn, LevelFilter};
use tracing_subscriber::prelude::*;
use tracing_subscriber::{reload, Layer, Registry};

use crate::support::*;

fn assert_propagates() {
    let root = tracing::info_span!("root");
    let child = tracing::info_span!(parent: &root, "child");
    let _g = child.enter();
    let headers = tracing_sentry::current_headers();
    let (trace, span, _) = sentry_trace(&headers);
    assert_eq!(trace, root.trace_context().unwrap().trace_id().to_string());
    assert_eq!(span, child.trace_context().unwrap().span_id().to_string());
}

#[test]
fn works_beside_an_fmt_layer() {
    let subscriber = tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::sink))
        .with(SentryLayer::new());
    tracing::subscriber::with_default(subscriber, assert_propagates);
}

#[test]
fn works_as_an_option_and_as_a_box() {
    let some: Option<SentryLayer> = Some(SentryLayer::new());
    tracing::subscriber::with_default(tracing_subscriber::registry().with(some), assert_propagates);

    let none: Option<SentryLayer> = None;
    tracing::subscriber::with_default(tracing_subscriber::registry().with(none), || {
        let _g = tracing::info_span!("root").entered();
        assert!(tracing_sentry::current_headers().is_empty());
    });

    let boxed: Box<dyn Layer<Registry> + Send + Sync> = Box::new(SentryLayer::new());
    tracing::subscriber::with_default(
        tracing_subscriber::registry().with(boxed),
        assert_propagates,
    );
}

#[test]
fn works_behind_reload_including_remote_parents() {
    let (layer, _handle) = reload::Layer::new(SentryLayer::new());
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        assert_propagates();
        let span = tracing::info_span!("request");
        span.set_parent_from_headers(&headers(&[(
            "sentry-trace",
            &format!("{TRACE}-{PARENT}-1"),
        )]))
        .expect("reload does not hide the span data");
        assert_eq!(span.trace_context().unwrap().trace_id().to_string(), TRACE);
    });
}

#[test]
fn a_level_filter_excludes_spans_and_children_link_to_the_nearest_recorded_ancestor() {
    // A neighbour that records DEBUG spans keeps `noisy` alive in the registry whatever other
    // tests' subscribers are doing; with the Sentry layer alone, a DEBUG span would be disabled
    // outright and `child` would become an explicit root instead.
    let layer = SentryLayer::new().with_filter(LevelFilter::INFO);
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::sink)
        .with_filter(LevelFilter::DEBUG);
    let subscriber = tracing_subscriber::registry().with(fmt).with(layer);
    tracing::subscriber::with_default(subscriber, || {
        let root = tracing::info_span!("root");
        let noisy = tracing::debug_span!(parent: &root, "noisy");
        let child = tracing::info_span!(parent: &noisy, "child");
        assert!(!noisy.is_disabled(), "the fmt layer records it");
        let root_ctx = root.trace_context().unwrap();
        let child_ctx = child.trace_context().unwrap();
        assert_eq!(child_ctx.trace_id(), root_ctx.trace_id());
        assert_eq!(
            child_ctx.parent_span_id(),
            Some(root_ctx.span_id()),
            "the filtered span is skipped"
        );
    });
}

#[test]
fn a_filtered_root_is_not_traced_but_its_traced_children_are() {
    let layer = SentryLayer::new().with_filter(filter_fn(|meta| meta.name() != "ignored"));
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        let ignored = tracing::info_span!("ignored");
        let child = tracing::info_span!(parent: &ignored, "child");
        assert!(ignored.trace_context().is_none());
        assert_eq!(
            child.trace_context().unwrap().parent_span_id(),
            None,
            "a root for us"
        );
    });
}

#[test]
fn the_layer_is_send_sync_and_boxable() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<SentryLayer>();
    assert_send_sync::<tracing_sentry::ExportGuard>();
    let _: Box<dyn Layer<Registry> + Send + Sync> = Box::new(SentryLayer::new());
}
