//! A request whose handler panics is an `internal_error` transaction with status code 500,
//! whatever catches the panic: tower-http's `CatchPanicLayer` outside the server layer (the
//! usual axum order), inside it, or no catcher (the runtime's task harness).

use std::convert::Infallible;

use tower::{Layer, Service, ServiceExt};
use tower_http::catch_panic::CatchPanicLayer;
use tracing_sentry::integrations::tower::{SentryHttpClientLayer, SentryHttpLayer};
use tracing_sentry::SentryLayer;
use tracing_subscriber::prelude::*;

use crate::net::run;
use crate::support::{exporting, sent_transactions};

async fn handler(request: http::Request<String>) -> Result<http::Response<String>, Infallible> {
    tracing::info_span!("handler").in_scope(|| {
        if request.uri().path() == "/crash" {
            panic!("the handler panicked");
        }
    });
    Ok(http::Response::new(String::from("ok")))
}

fn request(path: &str) -> http::Request<String> {
    http::Request::get(path).body(String::new()).unwrap()
}

/// Serves `/crash` then `/fine` through `serve` and returns the two transactions, in order.
fn two_requests<F, Fut>(serve: F) -> Vec<serde_json::Value>
where
    F: Fn(http::Request<String>) -> Fut,
    Fut: std::future::Future<Output = Option<u16>>,
{
    let (layer, guard, transport) = exporting(SentryLayer::builder().traces_sample_rate(1.0));
    let subscriber = tracing_subscriber::registry().with(layer);
    let statuses = run(subscriber, async {
        (
            serve(request("/crash")).await,
            serve(request("/fine")).await,
        )
    });
    let txs: Vec<serde_json::Value> = sent_transactions(&guard, &transport)
        .into_iter()
        .map(|(_, tx)| tx)
        .collect();
    assert_eq!(txs.len(), 2, "{txs:?}");
    assert_eq!(statuses.1, Some(200));
    let crash = txs
        .iter()
        .find(|tx| tx["transaction"] == "GET /crash")
        .unwrap();
    let fine = txs
        .iter()
        .find(|tx| tx["transaction"] == "GET /fine")
        .unwrap();
    vec![crash.clone(), fine.clone(), serde_json::json!(statuses.0)]
}

fn assert_crash_recorded(txs: &[serde_json::Value]) {
    let crash = &txs[0]["contexts"]["trace"];
    assert_eq!(crash["status"], "internal_error", "{}", txs[0]);
    assert_eq!(
        crash["data"]["http.response.status_code"], 500,
        "{}",
        txs[0]
    );
    let fine = &txs[1]["contexts"]["trace"];
    assert_eq!(fine["status"], "ok", "{}", txs[1]);
    assert_eq!(fine["data"]["http.response.status_code"], 200);
    // The handler's span, unwound inside the request, is a child of the request's span.
    let handler = txs[0]["spans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["description"] == "handler")
        .unwrap();
    assert_eq!(handler["status"], "internal_error");
    assert_eq!(handler["parent_span_id"], crash["span_id"]);
}

#[test]
fn catch_panic_outside_the_server_layer() {
    let txs = two_requests(|request| async move {
        let service =
            CatchPanicLayer::new().layer(SentryHttpLayer::new().layer(tower::service_fn(handler)));
        let response = service.oneshot(request).await.unwrap();
        Some(response.status().as_u16())
    });
    assert_eq!(txs[2], 500, "the catcher answered");
    assert_crash_recorded(&txs);
}

#[test]
fn catch_panic_inside_the_server_layer() {
    let txs = two_requests(|request| async move {
        let service =
            SentryHttpLayer::new().layer(CatchPanicLayer::new().layer(tower::service_fn(handler)));
        let response = service.oneshot(request).await.unwrap();
        Some(response.status().as_u16())
    });
    assert_eq!(txs[2], 500);
    assert_crash_recorded(&txs);
}

#[test]
fn no_catcher_the_task_harness_catches_it() {
    let txs = two_requests(|request| async move {
        let service = SentryHttpLayer::new().layer(tower::service_fn(handler));
        let task = tokio::spawn(
            tracing::instrument::WithSubscriber::with_current_subscriber(service.oneshot(request)),
        );
        match task.await {
            Ok(response) => Some(response.unwrap().status().as_u16()),
            Err(err) => {
                assert!(err.is_panic());
                None
            }
        }
    });
    assert_eq!(txs[2], serde_json::Value::Null, "the task panicked");
    assert_crash_recorded(&txs);
}

#[test]
fn a_panic_in_the_services_call_is_recorded_too() {
    #[derive(Clone)]
    struct PanicsInCall;
    impl Service<http::Request<String>> for PanicsInCall {
        type Response = http::Response<String>;
        type Error = Infallible;
        type Future = std::future::Ready<Result<Self::Response, Infallible>>;
        fn poll_ready(
            &mut self,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Result<(), Infallible>> {
            std::task::Poll::Ready(Ok(()))
        }
        fn call(&mut self, request: http::Request<String>) -> Self::Future {
            assert_ne!(request.uri().path(), "/crash", "panicking in call");
            std::future::ready(Ok(http::Response::new(String::new())))
        }
    }
    let txs = two_requests(|request| async move {
        let service = CatchPanicLayer::new().layer(SentryHttpLayer::new().layer(PanicsInCall));
        Some(service.oneshot(request).await.unwrap().status().as_u16())
    });
    assert_eq!(txs[2], 500);
    let crash = &txs[0]["contexts"]["trace"];
    assert_eq!(crash["status"], "internal_error");
    assert_eq!(crash["data"]["http.response.status_code"], 500);
}

#[test]
fn a_panicking_client_service_is_an_internal_error_client_span() {
    let (layer, guard, transport) = exporting(SentryLayer::builder().traces_sample_rate(1.0));
    let subscriber = tracing_subscriber::registry().with(layer);
    run(subscriber, async {
        let root = tracing::info_span!("job");
        let client = SentryHttpClientLayer::new().layer(tower::service_fn(handler));
        let call = tracing::Instrument::instrument(
            CatchPanicLayer::new()
                .layer(client)
                .oneshot(request("http://inventory.internal/crash")),
            root,
        );
        assert_eq!(call.await.unwrap().status(), 500);
    });
    let txs = sent_transactions(&guard, &transport);
    let tx = &txs[0].1;
    let call = crate::net::span_with_op(tx, "http.client");
    assert_eq!(call["status"], "internal_error", "{tx}");
    assert!(
        call["data"].get("http.response.status_code").is_none(),
        "no response came: {tx}"
    );
}
