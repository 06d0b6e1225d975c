//! `SentryHttpClientLayer` (around hyper-util's client) and `SentryHttpLayer` (servers).

use std::convert::Infallible;

use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use tower::{Layer, Service, ServiceExt};
use tracing_sentry::integrations::tower::{
    SentryHttpClientLayer, SentryHttpClientService, SentryHttpLayer,
};
use tracing_sentry::SentryLayer;
use tracing_subscriber::prelude::*;

use crate::net::{closed_port_url, in_handler, run, span_with_op, Captured, Downstream};
use crate::support::{exporting, sent_transactions, sentry_trace, TRACE};

type Body = Empty<bytes::Bytes>;

fn sampled() -> tracing_sentry::SentryLayerBuilder {
    SentryLayer::builder().traces_sample_rate(1.0)
}

/// hyper-util's client wrapped in the client layer.
fn client() -> SentryHttpClientService<Client<HttpConnector, Body>> {
    let client = Client::builder(TokioExecutor::new()).build_http::<Body>();
    SentryHttpClientLayer::new().layer(client)
}

#[test]
fn the_client_layer_propagates_and_records_the_status() {
    let downstream = Downstream::start();
    let request = http::Request::get(downstream.url("/missing?q=1"))
        .header("baggage", "tenant=t42")
        .body(Body::new())
        .unwrap();
    let (status, txs) = in_handler(sampled(), async {
        let response = client().oneshot(request).await.unwrap();
        let status = response.status();
        response.into_body().collect().await.unwrap();
        status
    });
    assert_eq!(status, 404);

    let tx = &txs[0];
    let call = span_with_op(tx, "http.client");
    assert_eq!(call["parent_span_id"], tx["contexts"]["trace"]["span_id"]);
    assert_eq!(
        call["description"],
        format!("GET {}", downstream.url("/missing"))
    );
    assert!(
        call["data"].get("http.query").is_none(),
        "user data, off by default"
    );
    assert_eq!(call["status"], "not_found");
    assert_eq!(call["data"]["http.response.status_code"], 404);

    let received = downstream.only_request();
    let (_, parent, _) = sentry_trace(&received);
    assert_eq!(call["span_id"], parent.as_str());
    let baggage = received["baggage"].to_str().unwrap();
    assert!(baggage.starts_with("tenant=t42,sentry-"), "{baggage}");
    let down = downstream.transactions();
    assert_eq!(
        down[0]["contexts"]["trace"]["parent_span_id"],
        call["span_id"]
    );
}

#[test]
fn the_client_layer_records_service_errors_as_internal_error() {
    let request = http::Request::get(closed_port_url())
        .body(Body::new())
        .unwrap();
    let (result, txs) = in_handler(sampled(), client().oneshot(request));
    assert!(result.is_err());
    let call = span_with_op(&txs[0], "http.client");
    assert_eq!(call["status"], "internal_error");
}

#[test]
fn server_spans_carry_sentry_properties_without_span_fields() {
    let (layer, guard, transport) = exporting(SentryLayer::builder().traces_sample_rate(1.0));
    let captured = Captured::default();
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(captured.clone())
        .with_ansi(false);
    let subscriber = tracing_subscriber::registry().with(layer).with(fmt);
    run(subscriber, async {
        let service = tower::service_fn(|_: http::Request<()>| async {
            tracing::info!("handling the order");
            Ok::<_, Infallible>(
                http::Response::builder()
                    .status(503)
                    .body(String::new())
                    .unwrap(),
            )
        });
        let mut server = SentryHttpLayer::new().layer(service);
        let request = http::Request::get("/orders/42?secret=1").body(()).unwrap();
        let response = server.ready().await.unwrap().call(request).await.unwrap();
        assert_eq!(response.status(), 503);
    });

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("handling the order"), "{log}");
    assert!(log.contains("http.server"), "{log}");
    assert!(log.contains(r#"url.path="/orders/42""#), "{log}");
    assert!(
        !log.contains("sentry."),
        "no sentry.* field in the log: {log}"
    );

    let txs = sent_transactions(&guard, &transport);
    let tx = &txs[0].1;
    assert_eq!(tx["transaction"], "GET /orders/42");
    assert_eq!(tx["transaction_info"]["source"], "url");
    let root = &tx["contexts"]["trace"];
    assert_eq!(root["op"], "http.server");
    assert_eq!(root["status"], "unavailable");
    assert_eq!(root["origin"], "auto.http.tracing_sentry");
    assert_eq!(root["data"]["http.response.status_code"], 503);
    assert_eq!(root["data"]["http.request.method"], "GET");
    assert!(!tx.to_string().contains("secret=1"), "no query in {tx}");
}

#[test]
fn server_spans_record_user_data_only_with_send_default_pii() {
    let root_data = |builder: tracing_sentry::SentryLayerBuilder| {
        let (layer, guard, transport) = exporting(builder.traces_sample_rate(1.0));
        let subscriber = tracing_subscriber::registry().with(layer);
        run(subscriber, async {
            let service = tower::service_fn(|_: http::Request<()>| async {
                Ok::<_, Infallible>(http::Response::new(String::new()))
            });
            let mut server = SentryHttpLayer::new().layer(service);
            let request = http::Request::get("/orders?email=ana%40example.com")
                .header("user-agent", "curl/8.5")
                .header("x-forwarded-for", "203.0.113.7, 10.0.0.1")
                .header("cookie", "sid=cookie-secret")
                .body(())
                .unwrap();
            server.ready().await.unwrap().call(request).await.unwrap();
        });
        let txs = sent_transactions(&guard, &transport);
        txs[0].1["contexts"]["trace"]["data"].clone()
    };
    let on = root_data(SentryLayer::builder().send_default_pii(true));
    assert_eq!(on["http.query"], "email=ana%40example.com");
    assert_eq!(on["user_agent.original"], "curl/8.5");
    assert_eq!(on["client.address"], "203.0.113.7");
    assert!(!on.to_string().contains("cookie-secret"), "{on}");
    let off = root_data(SentryLayer::builder());
    for key in ["http.query", "user_agent.original", "client.address"] {
        assert!(off.get(key).is_none(), "{key} in {off}");
    }
    assert_eq!(off["http.request.method"], "GET");
}

/// Calls a server whose handler reports the trace id it runs in.
fn trace_seen_by_handler(layer: SentryLayer, headers: &[(&str, &str)]) -> String {
    let subscriber = tracing_subscriber::registry().with(layer);
    let mut request = http::Request::get("/work");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(()).unwrap();
    run(subscriber, async move {
        let service = tower::service_fn(|_: http::Request<()>| async {
            let ctx = tracing_sentry::current_trace_context().expect("inside the server span");
            Ok::<_, Infallible>(http::Response::new(ctx.trace_id().to_string()))
        });
        let response = SentryHttpLayer::new()
            .layer(service)
            .oneshot(request)
            .await
            .unwrap();
        response.into_body().into_inner()
    })
}

#[test]
fn the_server_layer_accepts_traceparent_as_the_sentry_layer_says() {
    let traceparent = [(
        "traceparent",
        "00-771a43a4192642f0b136d5159a501700-b7ad6b7169203331-01",
    )];
    let accepting = crate::support::layer(SentryLayer::builder().accept_traceparent(true));
    assert_eq!(trace_seen_by_handler(accepting, &traceparent), TRACE);
    let default = SentryLayer::new();
    assert_ne!(trace_seen_by_handler(default, &traceparent), TRACE);
}

#[test]
fn the_server_layer_counts_malformed_trace_headers_and_serves_the_request() {
    let layer = SentryLayer::new();
    let stats = layer.clone();
    let trace = trace_seen_by_handler(layer, &[("sentry-trace", "not-a-trace")]);
    assert_eq!(trace.len(), 32, "a new trace: {trace}");
    assert_eq!(stats.stats().invalid_incoming_headers, 1);
}

#[test]
fn an_axum_route_names_the_transaction_and_the_head_dsc() {
    use axum::extract::MatchedPath;

    let app =
        axum::Router::new()
            .route(
                "/items/{id}",
                axum::routing::get(|| async { tracing_sentry::current_headers() }),
            )
            .route_layer(SentryHttpLayer::new().route_from_extensions(|ext| {
                ext.get::<MatchedPath>().map(|p| p.as_str().to_owned())
            }));
    let request = http::Request::get("/items/42")
        .body(axum::body::Body::empty())
        .unwrap();
    // No trace headers: the server span starts the trace, and its DSC names the route.
    let (layer, guard, transport) = exporting(sampled());
    let subscriber = tracing_subscriber::registry().with(layer);
    let response = run(subscriber, app.oneshot(request)).unwrap();
    assert_eq!(response.status(), 200);
    // The handler answered with `current_headers()`.
    let dsc = crate::support::dsc_of(response.headers());
    assert_eq!(dsc["transaction"], "GET /items/{id}", "{dsc:?}");

    let txs = sent_transactions(&guard, &transport);
    assert_eq!(txs.len(), 1);
    let server = &txs[0].1;
    assert_eq!(server["transaction"], "GET /items/{id}");
    assert_eq!(server["transaction_info"]["source"], "route");
    assert_eq!(
        server["contexts"]["trace"]["data"]["http.route"],
        "/items/{id}"
    );
    assert_eq!(server["contexts"]["trace"]["data"]["url.path"], "/items/42");
}
