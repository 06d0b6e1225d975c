//! `OutgoingRequest` (any client with `http` types): no private data in span names or data.

use tracing_sentry::integrations::http_client::OutgoingRequest;
use tracing_sentry::SentryLayer;
use tracing_subscriber::prelude::*;

use crate::support::{exporting, sent_transactions};

#[test]
fn credentials_query_and_headers_stay_out_of_the_client_span() {
    let (layer, guard, transport) = exporting(SentryLayer::builder().traces_sample_rate(1.0));
    let subscriber = tracing_subscriber::registry().with(layer);
    let mut request =
        http::Request::post("https://alice:hunter2@api.internal:8443/pay?token=s3cret")
            .header("authorization", "Bearer header-secret")
            .header("cookie", "session=cookie-secret")
            .body(())
            .unwrap();
    tracing::subscriber::with_default(subscriber, || {
        let _handler = tracing::info_span!("handler").entered();
        let call = OutgoingRequest::start(&mut request);
        call.finish(http::StatusCode::CREATED);
    });
    assert!(
        request.headers().contains_key("sentry-trace"),
        "headers added"
    );

    let txs = sent_transactions(&guard, &transport);
    let tx = &txs[0].1;
    let span = &tx["spans"][0];
    assert_eq!(span["op"], "http.client");
    assert_eq!(
        span["description"],
        "POST https://[Filtered]:[Filtered]@api.internal:8443/pay"
    );
    assert_eq!(
        span["data"]["url.full"],
        "https://[Filtered]:[Filtered]@api.internal:8443/pay"
    );
    // User data (the query) is sent only with `send_default_pii(true)` (tests/it/privacy.rs).
    assert!(span["data"].get("http.query").is_none());
    assert_eq!(span["data"]["server.address"], "api.internal");
    assert_eq!(span["data"]["server.port"], 8443);
    assert_eq!(span["data"]["http.response.status_code"], 201);
    assert_eq!(span["status"], "ok");
    let json = tx.to_string();
    for secret in ["alice", "hunter2", "header-secret", "cookie-secret"] {
        assert!(!json.contains(secret), "{secret} leaked into {json}");
    }
    assert!(!json.contains("s3cret"), "{json}");
}

#[test]
fn an_unsampled_trace_still_gets_headers_and_records_nothing() {
    let (layer, guard, transport) = exporting(SentryLayer::builder().traces_sample_rate(0.0));
    let subscriber = tracing_subscriber::registry().with(layer);
    let mut request = http::Request::get("http://api.internal/items")
        .body(())
        .unwrap();
    tracing::subscriber::with_default(subscriber, || {
        let _handler = tracing::info_span!("handler").entered();
        OutgoingRequest::start(&mut request).finish(http::StatusCode::OK);
    });
    let sentry_trace = request.headers()["sentry-trace"].to_str().unwrap();
    assert!(sentry_trace.ends_with("-0"), "{sentry_trace}");
    assert!(sent_transactions(&guard, &transport).is_empty());
}

#[test]
fn client_spans_keep_sentry_fields_out_of_fmt_lines() {
    let (layer, guard, transport) = exporting(SentryLayer::builder().traces_sample_rate(1.0));
    let captured = crate::net::Captured::default();
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(captured.clone())
        .with_ansi(false);
    let subscriber = tracing_subscriber::registry().with(layer).with(fmt);
    let mut request = http::Request::get("http://api.internal/items?token=s3cret")
        .body(())
        .unwrap();
    tracing::subscriber::with_default(subscriber, || {
        let _handler = tracing::info_span!("handler").entered();
        let call = OutgoingRequest::start(&mut request);
        call.span().in_scope(|| tracing::info!("sending"));
        call.finish(http::StatusCode::OK);
    });

    let log = captured.text();
    assert!(log.contains("sending"), "{log}");
    assert!(
        log.contains(r#"url.full=http://api.internal/items"#),
        "{log}"
    );
    assert!(!log.contains("sentry."), "no sentry.* field: {log}");
    assert!(
        !log.contains("s3cret"),
        "no query string in local logs either: {log}"
    );
    // ... while Sentry gets them.
    let txs = sent_transactions(&guard, &transport);
    let span = &txs[0].1["spans"][0];
    assert_eq!(span["op"], "http.client");
    assert_eq!(span["description"], "GET http://api.internal/items");
}
