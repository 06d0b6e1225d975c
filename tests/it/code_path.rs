//! `code.file.path` is never the build machine's absolute path: a callsite compiled outside
//! the workspace is sent relative to its crate's directory, in transactions and span items.

use serde_json::Value;
use tracing_sentry::{SentryLayer, TraceLifecycle};

use crate::support::{exporting, sent_transactions, span_named, with_layer};

include!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/absolute_callsite.rs"
));

/// What the path must become: from the directory that holds `tests/` (the crate's) on.
fn expected() -> String {
    let manifest_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let crate_dir = manifest_dir.file_name().unwrap().to_str().unwrap();
    format!("{crate_dir}/tests/data/absolute_callsite.rs")
}

fn check(path: &Value) {
    let path = path.as_str().expect("code.file.path is sent");
    assert!(
        span_from_elsewhere_file().starts_with('/') || span_from_elsewhere_file().contains(':'),
        "the callsite's file is absolute: {}",
        span_from_elsewhere_file()
    );
    assert_eq!(path, expected());
    assert!(!path.contains(env!("CARGO_MANIFEST_DIR")), "{path}");
}

fn span_from_elsewhere_file() -> &'static str {
    span_from_elsewhere_metadata().file().unwrap()
}

fn span_from_elsewhere_metadata() -> &'static tracing::Metadata<'static> {
    let (layer, _guard) = SentryLayer::builder().build().unwrap();
    with_layer(layer, || span_from_elsewhere().metadata().unwrap())
}

#[test]
fn transactions_send_the_path_relative_to_the_crate() {
    let (layer, guard, transport) = exporting(SentryLayer::builder().traces_sample_rate(1.0));
    with_layer(layer, || {
        let _root = tracing::info_span!("root").entered();
        let _child = span_from_elsewhere();
    });
    let (_, tx) = &sent_transactions(&guard, &transport)[0];
    check(&span_named(tx, "from_elsewhere")["data"]["code.file.path"]);
}

#[test]
fn a_root_from_elsewhere_sends_the_path_relative_to_the_crate() {
    let (layer, guard, transport) = exporting(SentryLayer::builder().traces_sample_rate(1.0));
    with_layer(layer, || drop(span_from_elsewhere()));
    let (_, tx) = &sent_transactions(&guard, &transport)[0];
    check(&tx["contexts"]["trace"]["data"]["code.file.path"]);
}

#[test]
fn span_items_send_the_path_relative_to_the_crate() {
    let (layer, guard, transport) = exporting(
        SentryLayer::builder()
            .traces_sample_rate(1.0)
            .trace_lifecycle(TraceLifecycle::Stream),
    );
    with_layer(layer, || {
        let _root = tracing::info_span!("root").entered();
        let _child = span_from_elsewhere();
    });
    assert!(guard.flush(std::time::Duration::from_secs(5)));
    let spans: Vec<Value> = transport
        .envelopes()
        .iter()
        .flat_map(|envelope| envelope.spans())
        .collect();
    let span = spans
        .iter()
        .find(|s| s["name"] == "from_elsewhere")
        .expect("the span is streamed");
    check(&span["attributes"]["code.file.path"]["value"]);
}
