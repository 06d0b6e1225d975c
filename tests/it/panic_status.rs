//! A span dropped while its thread unwinds from a panic gets status `internal_error`, unless it
//! set one (no feature needed).

use crate::support::{exporting, sent_transactions, span_named, with_layer};

fn sampled() -> tracing_sentry::SentryLayerBuilder {
    tracing_sentry::SentryLayer::builder().traces_sample_rate(1.0)
}

#[test]
fn spans_unwound_by_a_panic_get_internal_error_unless_they_set_a_status() {
    let (layer, guard, transport) = exporting(sampled());
    with_layer(layer, || {
        let root = tracing::info_span!("request");
        let _g = root.enter();
        tracing::info_span!("fine").in_scope(|| {});
        let caught = std::panic::catch_unwind(|| {
            let _crash = tracing::info_span!("crash").entered();
            let _kept = tracing::info_span!("kept", sentry.status = "not_found").entered();
            panic!("request 0 panicked");
        });
        assert!(caught.is_err());
        tracing::info_span!("after").in_scope(|| {});
    });
    let (_, tx) = &sent_transactions(&guard, &transport)[0];
    assert_eq!(span_named(tx, "crash")["status"], "internal_error");
    assert_eq!(span_named(tx, "kept")["status"], "not_found");
    assert!(span_named(tx, "fine").get("status").is_none());
    assert!(span_named(tx, "after").get("status").is_none());
    // The root was not unwound: the panic was caught inside it.
    assert!(tx["contexts"]["trace"].get("status").is_none(), "{tx}");
}

#[test]
fn a_root_unwound_by_a_panic_is_an_internal_error_transaction() {
    let (layer, guard, transport) = exporting(sampled());
    with_layer(layer, || {
        let caught = std::panic::catch_unwind(|| {
            let _root = tracing::info_span!("request").entered();
            panic!("unwinding through the root");
        });
        assert!(caught.is_err());
    });
    let (_, tx) = &sent_transactions(&guard, &transport)[0];
    assert_eq!(tx["contexts"]["trace"]["status"], "internal_error");
}
