//! `SentryReqwestMiddleware` and `RequestBuilderExt` against a downstream service on loopback.

use tracing::Instrument;
use tracing_sentry::integrations::reqwest::{RequestBuilderExt, SentryReqwestMiddleware};
use tracing_sentry::propagation::{PropagationTarget, PropagationTargets};
use tracing_sentry::{SentryLayer, SentryLayerBuilder};

use crate::net::{closed_port_url, in_handler, span_with_op, Downstream};
use crate::support::sentry_trace;

fn client() -> reqwest_middleware::ClientWithMiddleware {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    reqwest_middleware::ClientBuilder::new(client)
        .with(SentryReqwestMiddleware::new())
        .build()
}

fn sampled() -> SentryLayerBuilder {
    SentryLayer::builder().traces_sample_rate(1.0)
}

/// GETs `url` through the middleware inside a `handler` span; the transactions exported.
fn get(builder: SentryLayerBuilder, url: &str) -> (reqwest::Response, Vec<serde_json::Value>) {
    let (response, txs) = in_handler(builder, client().get(url).send());
    (response.unwrap(), txs)
}

#[test]
fn the_client_span_is_the_parent_of_the_downstream_transaction() {
    let downstream = Downstream::start();
    let url = downstream.url("/items");
    let (response, txs) = get(sampled(), &url);
    assert_eq!(response.status(), 200);

    assert_eq!(txs.len(), 1, "one upstream transaction");
    let tx = &txs[0];
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
    let builder = sampled().trace_propagation_targets(targets);
    let (_, txs) = get(builder, &downstream.url("/items"));

    let received = downstream.only_request();
    assert!(received.get("sentry-trace").is_none(), "{received:?}");
    assert!(received.get("baggage").is_none(), "{received:?}");
    // The call is still recorded.
    assert_eq!(span_with_op(&txs[0], "http.client")["status"], "ok");
}

#[test]
fn an_existing_baggage_is_merged_not_replaced() {
    let downstream = Downstream::start();
    let request = client()
        .get(downstream.url("/items"))
        .header("baggage", "tenant=t42;ttl=5")
        .send();
    in_handler(sampled(), request).0.unwrap();

    let received = downstream.only_request();
    let baggage: Vec<_> = received.get_all("baggage").iter().collect();
    assert_eq!(baggage.len(), 1, "one baggage header");
    let baggage = baggage[0].to_str().unwrap();
    assert!(baggage.starts_with("tenant=t42;ttl=5,sentry-"), "{baggage}");
    let (trace, ..) = sentry_trace(&received);
    let member = format!("sentry-trace_id={trace}");
    assert!(baggage.contains(&member), "{baggage}");
}

#[test]
fn status_codes_are_recorded_and_urls_keep_no_secrets() {
    let downstream = Downstream::start();
    let url = format!(
        "http://alice:hunter2@{}/missing?token=s3cret&page=2#section",
        downstream.addr
    );
    let request = client()
        .get(&url)
        .header("authorization", "Bearer header-secret")
        .header("x-api-key", "key-secret")
        .send();
    let (response, txs) = in_handler(sampled(), request);
    assert_eq!(response.unwrap().status(), 404);

    let tx = &txs[0];
    let call = span_with_op(tx, "http.client");
    // reqwest moves URL credentials into an `authorization` header before any middleware
    // runs; neither reaches the span.
    let sanitized = format!("http://127.0.0.1:{}/missing", downstream.addr.port());
    assert_eq!(call["description"], format!("GET {sanitized}"));
    assert_eq!(call["data"]["url.full"], sanitized);
    assert_eq!(call["status"], "not_found");
    assert_eq!(call["data"]["http.response.status_code"], 404);
    // Query and fragment are user data: sent only with `send_default_pii(true)`.
    assert!(call["data"].get("http.query").is_none());
    assert!(call["data"].get("http.fragment").is_none());
    let json = tx.to_string();
    for secret in ["hunter2", "alice", "header-secret", "key-secret"] {
        assert!(!json.contains(secret), "{secret} leaked into {json}");
    }
    assert!(!json.contains("s3cret"), "{json}");
}

#[test]
fn a_request_without_a_response_is_an_internal_error() {
    let (result, txs) = in_handler(sampled(), client().get(closed_port_url()).send());
    assert!(result.is_err(), "nothing listens there");

    let call = span_with_op(&txs[0], "http.client");
    assert_eq!(call["status"], "internal_error");
    assert!(call["data"].get("http.response.status_code").is_none());
}

#[test]
fn concurrent_calls_take_the_span_of_their_own_caller() {
    let downstream = Downstream::start();
    let url = downstream.url("/items");
    let client = client();
    let ((a, b), txs) = in_handler(sampled(), async {
        // Two callers polled in turn on one thread: each call must see its own caller.
        let a = client.get(&url).send().instrument(tracing::info_span!("a"));
        let b = client.get(&url).send().instrument(tracing::info_span!("b"));
        tokio::join!(a, b)
    });
    a.unwrap();
    b.unwrap();

    let tx = &txs[0];
    let spans = tx["spans"].as_array().unwrap();
    let id_of = |name: &str| {
        let span = spans.iter().find(|s| s["description"] == name).unwrap();
        span["span_id"].as_str().unwrap().to_owned()
    };
    let mut calls = Vec::new();
    for caller in [id_of("a"), id_of("b")] {
        let children: Vec<_> = spans
            .iter()
            .filter(|s| s["op"] == "http.client" && s["parent_span_id"] == caller.as_str())
            .collect();
        assert_eq!(children.len(), 1, "one call under caller {caller}: {tx}");
        calls.push(children[0]["span_id"].as_str().unwrap().to_owned());
    }
    let mut sent: Vec<_> = downstream
        .received
        .lock()
        .unwrap()
        .iter()
        .map(|headers| sentry_trace(headers).1)
        .collect();
    sent.sort();
    calls.sort();
    assert_eq!(sent, calls, "each request names its own client span");
}

#[test]
fn unsampled_calls_propagate_and_record_nothing() {
    let downstream = Downstream::start();
    let unsampled = SentryLayer::builder().traces_sample_rate(0.0);
    let (_, txs) = get(unsampled, &downstream.url("/items"));

    let (_, _, flag) = sentry_trace(&downstream.only_request());
    assert_eq!(flag.as_deref(), Some("0"));
    assert!(txs.is_empty());
    assert!(
        downstream.transactions().is_empty(),
        "the downstream keeps the decision"
    );
}

#[test]
fn the_request_builder_extension_propagates_without_the_middleware() {
    let downstream = Downstream::start();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    // Like the middleware, the call takes its parent when first polled.
    let request = client.get(downstream.url("/missing")).send_with_trace();
    let (response, txs) = in_handler(sampled(), request);
    assert_eq!(response.unwrap().status(), 404);

    let call = span_with_op(&txs[0], "http.client");
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
