//! What every transaction and streamed span says of the process: the host name, the operating
//! system, the compiler, and the thread each span started on. Read back by an independent
//! reader (sentry-types) and checked against the system's own sources.

use std::time::Duration;

use sentry_types::protocol::v7::{Context, Envelope, EnvelopeItem, Event, Transaction};
use serde_json::Value;
use tracing_sentry::export::InMemoryTransport;
use tracing_sentry::{SentryLayer, SentryLayerBuilder, TraceLifecycle};
use tracing_subscriber::prelude::*;

use crate::support::*;

/// Runs a root on this thread with one child started on a thread named `worker-for-tags`.
fn root_and_child_on_another_thread(builder: SentryLayerBuilder) -> InMemoryTransport {
    let (layer, guard, transport) = exporting(builder.traces_sample_rate(1.0));
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    tracing::dispatcher::with_default(&dispatch, || {
        let root = tracing::info_span!("root");
        let worker_dispatch = dispatch.clone();
        let parent = root.clone();
        std::thread::Builder::new()
            .name("worker-for-tags".to_owned())
            .spawn(move || {
                tracing::dispatcher::with_default(&worker_dispatch, || {
                    tracing::info_span!(parent: &parent, "on worker").in_scope(|| {});
                });
            })
            .unwrap()
            .join()
            .unwrap();
        drop(root);
    });
    assert!(guard.flush(Duration::from_secs(5)));
    transport
}

/// The transaction of the first envelope, as sentry-types reads it, and as JSON.
fn first_transaction(transport: &InMemoryTransport) -> (Transaction<'static>, Value) {
    let envelope = transport
        .envelopes()
        .into_iter()
        .find(|e| e.item_types().any(|t| t == "transaction"))
        .expect("a transaction envelope");
    // The header and the transaction item (client reports may follow, which sentry-types
    // 0.34 refuses).
    let bytes = envelope.as_bytes();
    let end = (0..bytes.len())
        .filter(|&i| bytes[i] == b'\n')
        .nth(2)
        .map_or(bytes.len(), |i| i + 1);
    let theirs = Envelope::from_slice(&bytes[..end]).expect("sentry-types reads it");
    let tx = theirs
        .items()
        .find_map(|item| match item {
            EnvelopeItem::Transaction(tx) => Some(tx.clone().into_owned()),
            _ => None,
        })
        .expect("a transaction item");
    (tx, envelope.transaction().unwrap())
}

/// The transaction payload read as an event (sentry-types 0.34's `Transaction` has no
/// `server_name`; its `Event` has).
fn as_event(json: Value) -> Event<'static> {
    serde_json::from_value(json).expect("sentry-types reads the payload as an event")
}

/// The `ThreadId` number of the calling thread, from its `Debug` form.
fn this_thread_id() -> String {
    let debug = format!("{:?}", std::thread::current().id());
    debug
        .trim_start_matches("ThreadId(")
        .trim_end_matches(')')
        .to_owned()
}

fn file(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_owned())
}

/// The compiler's version as `rustc --version` says it (the second word).
fn rustc_version() -> Option<String> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let output = std::process::Command::new(rustc)
        .arg("--version")
        .output()
        .ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    text.split_whitespace().nth(1).map(str::to_owned)
}

#[test]
fn transactions_carry_the_host_name_the_os_and_runtime_contexts() {
    let transport = root_and_child_on_another_thread(SentryLayer::builder());
    let (tx, json) = first_transaction(&transport);
    if cfg!(target_os = "linux") {
        assert_eq!(
            as_event(json).server_name.as_deref(),
            file("/proc/sys/kernel/hostname").as_deref()
        );
        let Some(Context::Os(os)) = tx.contexts.get("os") else {
            panic!("no os context in {:?}", tx.contexts);
        };
        assert_eq!(os.name.as_deref(), Some("Linux"));
        assert_eq!(
            os.version.as_deref(),
            file("/proc/sys/kernel/osrelease").as_deref()
        );
        assert_eq!(
            os.kernel_version.as_deref(),
            file("/proc/sys/kernel/version").as_deref()
        );
    }
    let Some(Context::Runtime(runtime)) = tx.contexts.get("runtime") else {
        panic!("no runtime context in {:?}", tx.contexts);
    };
    assert_eq!(runtime.name.as_deref(), Some("rustc"));
    let version = runtime.version.as_deref().expect("a rustc version");
    if let Some(expected) = rustc_version() {
        assert_eq!(version, expected);
    }
    assert!(
        matches!(tx.contexts.get("trace"), Some(Context::Trace(_))),
        "the trace context is still there"
    );
}

#[test]
fn the_server_name_can_be_set_or_left_out() {
    let transport = root_and_child_on_another_thread(SentryLayer::builder().server_name("web-7"));
    let event = as_event(first_transaction(&transport).1);
    assert_eq!(event.server_name.as_deref(), Some("web-7"));

    let transport = root_and_child_on_another_thread(SentryLayer::builder().server_name(""));
    let json = first_transaction(&transport).1;
    assert!(json.get("server_name").is_none());
    assert_eq!(as_event(json).server_name, None);
}

#[test]
fn every_span_carries_the_thread_it_started_on() {
    let transport = root_and_child_on_another_thread(SentryLayer::builder());
    let (_, tx) = first_transaction(&transport);
    let root = &tx["contexts"]["trace"]["data"];
    assert_eq!(root["thread.id"], Value::String(this_thread_id()));
    match std::thread::current().name() {
        Some(name) => assert_eq!(root["thread.name"], name),
        None => assert!(root.get("thread.name").is_none()),
    }
    let child = &span_named(&tx, "on worker")["data"];
    assert_eq!(child["thread.name"], "worker-for-tags");
    let child_id = child["thread.id"].as_str().expect("a string id");
    assert!(child_id.parse::<u64>().is_ok(), "{child_id}");
    assert_ne!(child_id, this_thread_id(), "the worker's own id");
}

/// A span of the callsite `step` with field `i`, child of `parent`.
fn step(parent: &tracing::Span, i: u64) {
    tracing::info_span!(parent: parent, "step", i).in_scope(|| {});
}

#[test]
fn spans_of_one_callsite_alternating_between_threads_each_carry_their_own() {
    let (layer, guard, transport) = exporting(SentryLayer::builder().traces_sample_rate(1.0));
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    tracing::dispatcher::with_default(&dispatch, || {
        let root = tracing::info_span!("root");
        for i in 0..5 {
            if i % 2 == 0 {
                step(&root, i);
                continue;
            }
            let (dispatch, parent) = (dispatch.clone(), root.clone());
            std::thread::Builder::new()
                .name("other-thread".to_owned())
                .spawn(move || tracing::dispatcher::with_default(&dispatch, || step(&parent, i)))
                .unwrap()
                .join()
                .unwrap();
        }
        drop(root);
    });
    assert!(guard.flush(Duration::from_secs(5)));
    let (_, tx) = first_transaction(&transport);
    let spans = tx["spans"].as_array().expect("spans");
    assert_eq!(spans.len(), 5);
    for span in spans {
        let data = &span["data"];
        let i = data["i"].as_u64().expect("the field");
        let id = data["thread.id"].as_str().expect("a thread id");
        if i % 2 == 0 {
            assert_eq!(id, this_thread_id(), "span {i}");
            assert_ne!(data["thread.name"], "other-thread", "span {i}");
        } else {
            assert_ne!(id, this_thread_id(), "span {i}");
            assert_eq!(data["thread.name"], "other-thread", "span {i}");
        }
        assert!(data["code.line.number"].is_u64(), "span {i}: {data}");
    }
}

#[test]
fn a_span_field_named_like_a_thread_attribute_wins() {
    let (layer, guard, transport) = exporting(SentryLayer::builder().traces_sample_rate(1.0));
    with_layer(layer, || {
        tracing::info_span!("root", thread.name = "mine").in_scope(|| {});
    });
    let sent = sent_transactions(&guard, &transport);
    let data = &sent[0].1["contexts"]["trace"]["data"];
    assert_eq!(data["thread.name"], "mine");
    assert_eq!(data["thread.id"], Value::String(this_thread_id()));
}

fn attr<'a>(span: &'a Value, key: &str) -> Option<&'a Value> {
    span["attributes"].get(key)
}

#[test]
fn streamed_spans_carry_the_common_attributes_of_the_span_protocol() {
    let (layer, guard, transport) = exporting(
        SentryLayer::builder()
            .traces_sample_rate(1.0)
            .server_name("web-7")
            .trace_lifecycle(TraceLifecycle::Stream),
    );
    with_layer(layer, || {
        tracing::info_span!("segment").in_scope(|| {
            // A client span's `server.address` is its peer's: the field wins.
            tracing::info_span!("call", server.address = "inventory.internal").in_scope(|| {});
        });
    });
    assert!(guard.flush(Duration::from_secs(5)));
    let spans: Vec<Value> = transport
        .envelopes()
        .iter()
        .flat_map(|e| e.spans())
        .collect();
    assert_eq!(spans.len(), 2);
    let string = |value: &str| serde_json::json!({"type": "string", "value": value});
    for span in &spans {
        assert_eq!(attr(span, "thread.id"), Some(&string(&this_thread_id())));
        if let Some(name) = std::thread::current().name() {
            assert_eq!(attr(span, "thread.name"), Some(&string(name)));
        }
        assert_eq!(attr(span, "process.runtime.name"), Some(&string("rustc")));
        let version = attr(span, "process.runtime.version").expect("a runtime version");
        if let Some(expected) = rustc_version() {
            assert_eq!(version, &string(&expected));
        }
        if cfg!(target_os = "linux") {
            assert_eq!(attr(span, "os.name"), Some(&string("Linux")));
        }
        // No release was set: the protocol says empty attributes are left out.
        assert!(attr(span, "sentry.release").is_none());
    }
    let server = |name: &str| {
        let span = spans.iter().find(|s| s["name"] == name).unwrap();
        attr(span, "server.address").cloned()
    };
    assert_eq!(server("segment"), Some(string("web-7")));
    assert_eq!(server("call"), Some(string("inventory.internal")));
}
