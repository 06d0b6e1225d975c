//! Regression tests for the hardening issue: what Sentry's ingestion (Relay) and hostile input
//! showed. Each test failed before its fix.

use tracing_sentry::SentryLayer;

use crate::support::*;

/// The transactions sent, read straight from the transport (no second reader: sentry-types
/// does not know every name Relay keeps, such as the status `unknown`).
fn sent(
    guard: &tracing_sentry::ExportGuard,
    transport: &tracing_sentry::export::InMemoryTransport,
) -> Vec<serde_json::Value> {
    assert!(guard.flush(std::time::Duration::from_secs(5)));
    transport
        .envelopes()
        .iter()
        .map(|e| e.transaction().expect("a transaction item"))
        .collect()
}

#[test]
fn status_unknown_is_sent_as_unknown_the_name_relay_keeps() {
    let (layer, guard, transport) = exporting(SentryLayer::builder().traces_sample_rate(1.0));
    with_layer(layer, || {
        let root = tracing::info_span!("root", sentry.status = "unknown");
        let _g = root.enter();
        tracing::info_span!("child", sentry.status = "unknown_error").in_scope(|| {});
    });
    let tx = sent(&guard, &transport);
    assert_eq!(tx[0]["contexts"]["trace"]["status"], "unknown");
    assert_eq!(span_named(&tx[0], "child")["status"], "unknown");
}

#[test]
fn a_release_or_environment_that_ingestion_refuses_is_a_build_error() {
    for bad in [
        "latest",
        ".",
        "..",
        "a/b",
        "1.0\n",
        "tab\there",
        &"r".repeat(201),
    ] {
        let err = SentryLayer::builder().release(bad).build().unwrap_err();
        assert!(
            err.is_release() && !err.is_environment(),
            "{bad:?}: {err:?}"
        );
        // The error never echoes the value.
        assert!(!format!("{err} {err:?}").contains(bad), "{bad:?}");
    }
    for bad in ["none", "NONE", ".", "eu/west", "prod\r", &"e".repeat(65)] {
        let err = SentryLayer::builder().environment(bad).build().unwrap_err();
        assert!(
            err.is_environment() && !err.is_release(),
            "{bad:?}: {err:?}"
        );
    }
    // What ingestion keeps builds, and reaches the DSC unchanged.
    let layer = layer(
        SentryLayer::builder()
            .release("checkout@1.4.2+build 7")
            .environment("staging-eu"),
    );
    let dsc = with_layer(layer, || {
        let _g = tracing::info_span!("root").entered();
        dsc_of(&tracing_sentry::current_headers())
    });
    assert_eq!(dsc["release"], "checkout@1.4.2+build 7");
    assert_eq!(dsc["environment"], "staging-eu");
}
