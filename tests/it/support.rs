//! The one test harness: scoped subscribers, header helpers, finders.

use http::HeaderMap;
use tracing_sentry::{SentryLayer, SentryLayerBuilder};
use tracing_subscriber::prelude::*;

pub const TRACE: &str = "771a43a4192642f0b136d5159a501700";
pub const PARENT: &str = "b7ad6b7169203331";
/// A DSN on an `o42` host, as in the propagation scenarios of the vectors file.
pub const DSN: &str = "https://abc123abc123abc123abc123abc12345@o42.ingest.sentry.io/1";

/// Builds a header map from `(name, value)` pairs; repeated names become repeated fields.
pub fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            http::HeaderValue::from_str(value).unwrap(),
        );
    }
    map
}

/// Runs `f` with a registry + `layer` as the default subscriber of this thread only.
pub fn with_layer<R>(layer: SentryLayer, f: impl FnOnce() -> R) -> R {
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, f)
}

/// A propagation-only layer built from `builder` (no DSN, no transport).
pub fn layer(builder: SentryLayerBuilder) -> SentryLayer {
    builder.build().expect("a builder without DSN builds").0
}

/// The `sentry-trace` header of a map, split into (trace, span, flag).
pub fn sentry_trace(map: &HeaderMap) -> (String, String, Option<String>) {
    let value = map
        .get("sentry-trace")
        .expect("a sentry-trace header")
        .to_str()
        .unwrap();
    let mut parts = value.split('-');
    let trace = parts.next().unwrap().to_owned();
    let span = parts.next().unwrap().to_owned();
    let flag = parts.next().map(str::to_owned);
    assert!(parts.next().is_none(), "too many parts in {value}");
    assert_eq!(trace.len(), 32, "{value}");
    assert_eq!(span.len(), 16, "{value}");
    (trace, span, flag)
}

/// The Sentry members of a `baggage` header as a sorted map (keys without the prefix).
pub fn dsc_of(map: &HeaderMap) -> std::collections::BTreeMap<String, String> {
    let mut out = std::collections::BTreeMap::new();
    for value in map.get_all("baggage") {
        let baggage = tracing_sentry::propagation::Baggage::parse(value.to_str().unwrap());
        for (k, v) in baggage.sentry().iter() {
            out.insert(k.to_owned(), v.to_owned());
        }
    }
    out
}

/// Third-party (non `sentry-`) members of a `baggage` header.
pub fn foreign_members(map: &HeaderMap) -> Vec<String> {
    map.get_all("baggage")
        .iter()
        .flat_map(|v| v.to_str().unwrap().split(','))
        .map(|m| m.trim().to_owned())
        .filter(|m| !m.is_empty() && !m.starts_with("sentry-"))
        .collect()
}

/// A layer that exports into memory, with its guard and transport.
pub fn exporting(
    builder: SentryLayerBuilder,
) -> (
    SentryLayer,
    tracing_sentry::ExportGuard,
    tracing_sentry::export::InMemoryTransport,
) {
    let transport = tracing_sentry::export::InMemoryTransport::new();
    let (layer, guard) = builder
        .transport(transport.clone())
        .build()
        .expect("an exporting layer builds");
    (layer, guard, transport)
}

/// Flushes and returns every transaction sent, each also checked by an independent reader of
/// Sentry's protocol (sentry-types): it must parse, and agree on ids and span count.
pub fn sent_transactions(
    guard: &tracing_sentry::ExportGuard,
    transport: &tracing_sentry::export::InMemoryTransport,
) -> Vec<(serde_json::Value, serde_json::Value)> {
    assert!(
        guard.flush(std::time::Duration::from_secs(5)),
        "flush timed out"
    );
    transport
        .envelopes()
        .iter()
        // Envelopes that only carry client reports (what was dropped) hold no transaction.
        .filter(|envelope| envelope.item_types().any(|t| t == "transaction"))
        .map(|envelope| {
            let ours = envelope.transaction().expect("a transaction item");
            // sentry-types 0.34 refuses the `client_report` items that may follow the
            // transaction: give it the header and the transaction item (the first three lines).
            let bytes = envelope.as_bytes();
            let end = (0..bytes.len())
                .filter(|&i| bytes[i] == b'\n')
                .nth(2)
                .map_or(bytes.len(), |i| i + 1);
            let theirs = sentry_types::protocol::v7::Envelope::from_slice(&bytes[..end])
                .expect("sentry-types reads the envelope");
            let tx = theirs
                .items()
                .find_map(|item| match item {
                    sentry_types::protocol::v7::EnvelopeItem::Transaction(tx) => Some(tx),
                    _ => None,
                })
                .expect("sentry-types finds the transaction");
            assert_eq!(tx.spans.len(), ours["spans"].as_array().unwrap().len());
            let trace = tx.contexts.get("trace").expect("a trace context");
            let sentry_types::protocol::v7::Context::Trace(trace) = trace else {
                panic!("contexts.trace is not a trace context");
            };
            assert_eq!(
                trace.trace_id.to_string(),
                ours["contexts"]["trace"]["trace_id"].as_str().unwrap()
            );
            assert!(tx.start_timestamp <= tx.timestamp.unwrap(), "start <= end");
            (envelope.header(), ours)
        })
        .collect()
}

/// The span of a transaction whose description is `name`.
pub fn span_named<'a>(tx: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    tx["spans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["description"] == name)
        .unwrap_or_else(|| panic!("no span {name} in {tx}"))
}
