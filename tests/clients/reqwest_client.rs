//! `SentryReqwestMiddleware` and `RequestBuilderExt` against a downstream service on loopback.

use tracing::Instrument;
use tracing_sentry::integrations::reqwest::{RequestBuilderExt, SentryReqwestMiddleware};
use tracing_sentry::propagation::{PropagationTarget, PropagationTargets};
use tracing_sentry::SentryLayer;
use tracing_subscriber::prelude::*;

use crate::net::{closed_port_url, run, span_with_op, Downstream};
use crate::support::{exporting, sent_transactions, sentry_trace};

fn client() -> reqwest_middleware::ClientWithMiddleware {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    reqwest_middleware::ClientBuilder::new(client)
        .with(SentryReqwestMiddleware::new())
        .build()
}

#[test]
fn the_client_span_is_the_parent_of_the_downstream_transaction() {
    let downstream = Downstream::start();
    let (layer, guard, transport) = exporting(SentryLayer::builder().traces_sample_rate(1.0));
    let subscriber = tracing_subscriber::registry().with(layer);
    let url = downstream.url("/items");
    let response = run(subscriber, async {
        let handler = tracing::info_span!("handler");
        client().get(&url).send().instrument(handler).await
    })
    .unwrap();
    assert_eq!(response.status(), 200);

    let txs = sent_transactions(&guard, &transport);
    assert_eq!(txs.len(), 1, "one upstream transaction");
    let tx = &txs[0].1;
    let root = &tx["contexts"]["trace"];
    let call = span_with_op(tx, "http.client");
    assert_eq!(
        call["parent_span_id"], root["span_id"],
        "a child of the caller's span"
    );
    assert_eq!(call["description"], format!("GET {url}"));
    assert_eq!(call["status"], "ok");
    assert_eq!(call["data"]["http.response.status_code"], 200);
    assert_eq!(call["data"]["http.request.method"], "GET");
    assert_eq!(call["data"]["server.address"], "127.0.0.1");
    assert_eq!(call["data"]["server.port"], downstream.addr.port());
    assert_eq!(call["origin"], "auto.http.tracing_sentry");

    // What went over the wire names the client span.
    let (trace, parent, flag) = sentry_trace(&downstream.only_request());
    assert_eq!(trace, root["trace_id"].as_str().unwrap());
    assert_eq!(parent, call["span_id"].as_str().unwrap());
    assert_eq!(flag.as_deref(), Some("1"));

    // The downstream continued it under the client span.
    let down = downstream.transactions();
    assert_eq!(down.len(), 1);
    let down_root = &down[0]["contexts"]["trace"];
    assert_eq!(down_root["trace_id"], root["trace_id"]);
    assert_eq!(down_root["parent_span_id"], call["span_id"]);
    assert_eq!(down_root["op"], "http.server");
    assert_eq!(down[0]["transaction"], "GET /items");
}

#[test]
fn targets_that_exclude_the_url_get_no_trace_headers() {
    let downstream = Downstream::start();
    let targets = PropagationTargets::new([PropagationTarget::substring("api.internal")]);
    let (layer, guard, transport) = exporting(
        SentryLayer::builder()
            .traces_sample_rate(1.0)
            .trace_propagation_targets(targets),
    );
    let subscriber = tracing_subscriber::registry().with(layer);
    let url = downstream.url("/items");
    run(subscriber, async {
        let handler = tracing::info_span!("handler");
        client().get(&url).send().instrument(handler).await
    })
    .unwrap();

    let received = downstream.only_request();
    assert!(received.get("sentry-trace").is_none(), "{received:?}");
    assert!(received.get("baggage").is_none(), "{received:?}");
    // The call is still recorded.
    let txs = sent_transactions(&guard, &transport);
    assert_eq!(span_with_op(&txs[0].1, "http.client")["status"], "ok");
}

#[test]
fn an_existing_baggage_is_merged_not_replaced() {
    let downstream = Downstream::start();
    let (layer, _guard, _transport) = exporting(SentryLayer::builder().traces_sample_rate(1.0));
    let subscriber = tracing_subscriber::registry().with(layer);
    let url = downstream.url("/items");
    run(subscriber, async {
        let handler = tracing::info_span!("handler");
        client()
            .get(&url)
            .header("baggage", "tenant=t42;ttl=5")
            .send()
            .instrument(handler)
            .await
    })
    .unwrap();

    let received = downstream.only_request();
    let baggage: Vec<_> = received.get_all("baggage").iter().collect();
    assert_eq!(baggage.len(), 1, "one baggage header");
    let baggage = baggage[0].to_str().unwrap();
    assert!(baggage.starts_with("tenant=t42;ttl=5,sentry-"), "{baggage}");
    let (trace, ..) = sentry_trace(&received);
    assert!(
        baggage.contains(&format!("sentry-trace_id={trace}")),
        "{baggage}"
    );
}

#[test]
fn status_codes_are_recorded_and_urls_keep_no_secrets() {
    let downstream = Downstream::start();
    let (layer, guard, transport) = exporting(SentryLayer::builder().traces_sample_rate(1.0));
    let subscriber = tracing_subscriber::registry().with(layer);
    let url = format!(
        "http://alice:hunter2@{}/missing?token=s3cret&page=2#section",
        downstream.addr
    );
    let response = run(subscriber, async {
        let handler = tracing::info_span!("handler");
        client()
            .get(&url)
            .header("authorization", "Bearer header-secret")
            .header("x-api-key", "key-secret")
            .send()
            .instrument(handler)
            .await
    })
    .unwrap();
    assert_eq!(response.status(), 404);

    let txs = sent_transactions(&guard, &transport);
    let tx = &txs[0].1;
    let call = span_with_op(tx, "http.client");
    // reqwest moves URL credentials into an `authorization` header before any middleware
    // runs; neither reaches the span.
    let port = downstream.addr.port();
    assert_eq!(
        call["description"],
        format!("GET http://127.0.0.1:{port}/missing")
    );
    assert_eq!(call["status"], "not_found");
    assert_eq!(call["data"]["http.response.status_code"], 404);
    assert_eq!(call["data"]["http.query"], "token=s3cret&page=2");
    assert_eq!(call["data"]["http.fragment"], "section");
    assert_eq!(
        call["data"]["url.full"],
        format!("http://127.0.0.1:{port}/missing")
    );
    let json = tx.to_string();
    for secret in ["hunter2", "alice", "header-secret", "key-secret"] {
        assert!(!json.contains(secret), "{secret} leaked into {json}");
    }
    // The query string is data (as Sentry's SDKs send it), never part of a name.
    assert_eq!(json.matches("s3cret").count(), 1, "{json}");
}

#[test]
fn a_request_without_a_response_is_an_internal_error() {
    let (layer, guard, transport) = exporting(SentryLayer::builder().traces_sample_rate(1.0));
    let subscriber = tracing_subscriber::registry().with(layer);
    let url = closed_port_url();
    let result = run(subscriber, async {
        let handler = tracing::info_span!("handler");
        client().get(&url).send().instrument(handler).await
    });
    assert!(result.is_err(), "nothing listens there");

    let txs = sent_transactions(&guard, &transport);
    let call = span_with_op(&txs[0].1, "http.client");
    assert_eq!(call["status"], "internal_error");
    assert!(call["data"].get("http.response.status_code").is_none());
}

#[test]
fn concurrent_calls_take_the_span_of_their_own_caller() {
    let downstream = Downstream::start();
    let (layer, guard, transport) = exporting(SentryLayer::builder().traces_sample_rate(1.0));
    let subscriber = tracing_subscriber::registry().with(layer);
    let url = downstream.url("/items");
    run(subscriber, async {
        let client = client();
        // Two callers polled in turn on one thread: each call must see its own caller.
        let a = client.get(&url).send().instrument(tracing::info_span!("a"));
        let b = client.get(&url).send().instrument(tracing::info_span!("b"));
        let (a, b) = tokio::join!(a, b);
        a.unwrap();
        b.unwrap();
    });

    let txs = sent_transactions(&guard, &transport);
    assert_eq!(txs.len(), 2, "two upstream transactions");
    let received = downstream.received.lock().unwrap().clone();
    assert_eq!(received.len(), 2);
    for (_, tx) in &txs {
        let call = span_with_op(tx, "http.client");
        assert_eq!(call["parent_span_id"], tx["contexts"]["trace"]["span_id"]);
        let sent = received
            .iter()
            .map(sentry_trace)
            .find(|(_, span, _)| call["span_id"] == span.as_str())
            .expect("a request names this client span");
        assert_eq!(tx["contexts"]["trace"]["trace_id"], sent.0.as_str());
    }
}

#[test]
fn unsampled_calls_propagate_and_record_nothing() {
    let downstream = Downstream::start();
    let (layer, guard, transport) = exporting(SentryLayer::builder().traces_sample_rate(0.0));
    let subscriber = tracing_subscriber::registry().with(layer);
    let url = downstream.url("/items");
    run(subscriber, async {
        let handler = tracing::info_span!("handler");
        client().get(&url).send().instrument(handler).await
    })
    .unwrap();

    let (_, _, flag) = sentry_trace(&downstream.only_request());
    assert_eq!(flag.as_deref(), Some("0"));
    assert!(sent_transactions(&guard, &transport).is_empty());
    assert!(
        downstream.transactions().is_empty(),
        "the downstream keeps the decision"
    );
}

#[test]
fn the_request_builder_extension_propagates_without_the_middleware() {
    let downstream = Downstream::start();
    let (layer, guard, transport) = exporting(SentryLayer::builder().traces_sample_rate(1.0));
    let subscriber = tracing_subscriber::registry().with(layer);
    let url = downstream.url("/missing");
    let response = run(subscriber, async {
        let handler = tracing::info_span!("handler");
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        // Like the middleware, the call takes its parent when first polled.
        client.get(&url).send_with_trace().instrument(handler).await
    })
    .unwrap();
    assert_eq!(response.status(), 404);

    let txs = sent_transactions(&guard, &transport);
    let call = span_with_op(&txs[0].1, "http.client");
    assert_eq!(call["status"], "not_found");
    let (_, parent, _) = sentry_trace(&downstream.only_request());
    assert_eq!(call["span_id"], parent.as_str());
    let down = downstream.transactions();
    assert_eq!(
        down[0]["contexts"]["trace"]["parent_span_id"],
        call["span_id"]
    );
    assert_eq!(down[0]["contexts"]["trace"]["status"], "not_found");
}
