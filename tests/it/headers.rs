//! Outgoing headers: `current_headers`, injection into an existing map, targets, traceparent.

use tracing_sentry::propagation::{PropagationTarget, PropagationTargets};
use tracing_sentry::{SentryLayer, SentrySpanExt};

use crate::support::*;

#[test]
fn current_headers_are_empty_without_a_current_span() {
    with_layer(SentryLayer::new(), || {
        assert!(tracing_sentry::current_headers().is_empty());
        let _span = tracing::info_span!("not entered");
        assert!(tracing_sentry::current_headers().is_empty());
    });
}

#[test]
fn current_headers_name_the_current_span_as_parent() {
    with_layer(SentryLayer::new(), || {
        let root = tracing::info_span!("root");
        let child = tracing::info_span!(parent: &root, "child");
        let _g = child.enter();
        let headers = tracing_sentry::current_headers();
        let (trace, span, flag) = sentry_trace(&headers);
        let ctx = child.trace_context().unwrap();
        assert_eq!(trace, ctx.trace_id().to_string());
        assert_eq!(span, ctx.span_id().to_string(), "the calling span's own id");
        assert_eq!(
            flag, None,
            "tracing not configured: the decision is deferred"
        );
        let dsc = dsc_of(&headers);
        assert_eq!(dsc.get("trace_id"), Some(&trace));
        assert_eq!(
            dsc.get("environment").map(String::as_str),
            Some("production")
        );
        assert!(
            !dsc.contains_key("sampled"),
            "no decision, no sentry-sampled"
        );
    });
}

#[test]
fn head_dsc_carries_the_options_and_the_root_name() {
    let layer = layer(
        SentryLayer::builder()
            .dsn_str(DSN)
            .release("r1")
            .environment("staging")
            .traces_sample_rate(1.0),
    );
    with_layer(layer, || {
        let root = tracing::info_span!("GET /x");
        let _g = root.enter();
        let headers = tracing_sentry::current_headers();
        let (trace, _, flag) = sentry_trace(&headers);
        assert_eq!(flag.as_deref(), Some("1"));
        let dsc = dsc_of(&headers);
        let get = |k: &str| dsc.get(k).map(String::as_str);
        assert_eq!(get("trace_id"), Some(trace.as_str()));
        assert_eq!(get("public_key"), Some("abc123abc123abc123abc123abc12345"));
        assert_eq!(get("org_id"), Some("42"));
        assert_eq!(get("release"), Some("r1"));
        assert_eq!(get("environment"), Some("staging"));
        assert_eq!(get("transaction"), Some("GET /x"));
        assert_eq!(get("sample_rate"), Some("1"));
        assert_eq!(get("sampled"), Some("true"));
        let rand = get("sample_rand").expect("sample_rand is propagated");
        let value: f64 = rand.parse().unwrap();
        assert!((0.0..1.0).contains(&value));
        assert_eq!(
            rand.split('.').nth(1).map(str::len),
            Some(6),
            "six decimals: {rand}"
        );
    });
}

#[test]
fn the_head_dsc_is_frozen_when_it_first_leaves_the_process() {
    let layer = layer(SentryLayer::builder().traces_sample_rate(1.0));
    with_layer(layer, || {
        let root = tracing::info_span!("first name", sentry.name = tracing::field::Empty);
        let _g = root.enter();
        let before = dsc_of(&tracing_sentry::current_headers());
        root.record("sentry.name", "second name");
        let after = dsc_of(&tracing_sentry::current_headers());
        assert_eq!(
            before.get("transaction").map(String::as_str),
            Some("first name")
        );
        assert_eq!(before, after, "a frozen DSC never changes");
    });
}

#[test]
fn a_url_named_root_keeps_its_name_out_of_the_dsc() {
    with_layer(SentryLayer::new(), || {
        let root = tracing::info_span!("GET https://example.com/users/42");
        let _g = root.enter();
        let dsc = dsc_of(&tracing_sentry::current_headers());
        assert!(!dsc.contains_key("transaction"), "{dsc:?}");
    });
}

#[test]
fn inject_merges_with_an_existing_baggage_header() {
    with_layer(SentryLayer::new(), || {
        let _g = tracing::info_span!("root").entered();
        let mut map = headers(&[
            (
                "baggage",
                "key1=value1;property1;property2, sentry-trace_id=stale",
            ),
            ("baggage", "other=x"),
            (
                "traceparent",
                "00-11111111111111111111111111111111-2222222222222222-01",
            ),
        ]);
        tracing_sentry::inject_current_headers(&mut map);
        assert_eq!(map.get_all("baggage").iter().count(), 1, "one merged field");
        assert_eq!(
            foreign_members(&map),
            ["key1=value1;property1;property2", "other=x"]
        );
        let dsc = dsc_of(&map);
        assert_ne!(dsc.get("trace_id").map(String::as_str), Some("stale"));
        assert!(map.contains_key("sentry-trace"));
        assert_eq!(
            map["traceparent"], "00-11111111111111111111111111111111-2222222222222222-01",
            "an existing traceparent is left alone"
        );
    });
}

#[test]
fn propagation_targets_gate_headers_for_a_url() {
    let targets = PropagationTargets::new([
        PropagationTarget::substring("localhost"),
        PropagationTarget::regex(r"^https://api\.example\.com/v[2-4]").unwrap(),
    ]);
    let layer = layer(SentryLayer::builder().trace_propagation_targets(targets));
    with_layer(layer, || {
        let _g = tracing::info_span!("root").entered();
        assert!(!tracing_sentry::headers_for_url("http://localhost:8080/a").is_empty());
        assert!(!tracing_sentry::headers_for_url("https://api.example.com/v3/x").is_empty());
        assert!(tracing_sentry::headers_for_url("https://api.example.com/v1/x").is_empty());
        assert!(tracing_sentry::headers_for_url("https://elsewhere.io/").is_empty());
        assert!(
            !tracing_sentry::current_headers().is_empty(),
            "no URL, no filtering"
        );
    });
}

#[test]
fn an_empty_target_list_propagates_nowhere_and_the_default_everywhere() {
    let none = layer(SentryLayer::builder().trace_propagation_targets(PropagationTargets::none()));
    with_layer(none, || {
        let _g = tracing::info_span!("root").entered();
        assert!(tracing_sentry::headers_for_url("http://localhost/").is_empty());
    });
    with_layer(SentryLayer::new(), || {
        let _g = tracing::info_span!("root").entered();
        assert!(!tracing_sentry::headers_for_url("https://anywhere.example/").is_empty());
    });
}

#[test]
fn traceparent_is_emitted_only_when_configured() {
    with_layer(SentryLayer::new(), || {
        let _g = tracing::info_span!("root").entered();
        assert!(!tracing_sentry::current_headers().contains_key("traceparent"));
    });
    let layer = layer(
        SentryLayer::builder()
            .propagate_traceparent(true)
            .traces_sample_rate(1.0),
    );
    with_layer(layer, || {
        let span = tracing::info_span!("root");
        let _g = span.enter();
        let map = tracing_sentry::current_headers();
        let ctx = span.trace_context().unwrap();
        assert_eq!(
            map["traceparent"].to_str().unwrap(),
            format!("00-{}-{}-01", ctx.trace_id(), ctx.span_id())
        );
    });
}

#[test]
fn span_headers_match_current_headers_for_the_entered_span() {
    with_layer(SentryLayer::new(), || {
        let span = tracing::info_span!("root");
        let own = span.propagation_headers();
        let _g = span.enter();
        assert_eq!(own, tracing_sentry::current_headers());
    });
}
