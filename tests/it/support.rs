//! The one test harness: scoped subscribers, header helpers, finders.

#![allow(dead_code)] // each test module uses a different part of the harness

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
