//! gRPC through tonic on loopback: a tonic service behind `SentryHttpLayer` (served by axum over
//! HTTP/2), called by tonic's client over hyper-util wrapped in `SentryHttpClientLayer`. The
//! service and its string codec are the `grpc` example's (`examples/grpc/shop.rs`), so no
//! protobuf code generation is needed.

use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tonic::{Code, Status};
use tower::Layer;
use tracing_sentry::integrations::tower::SentryHttpClientLayer;
use tracing_sentry::SentryLayer;

use crate::net::{in_handler, span_with_op, Downstream, Received};

#[path = "../../examples/grpc/shop.rs"]
mod shop;

fn grpc_downstream() -> Downstream {
    Downstream::serve(shop::router(), Received::default())
}

/// Calls `Reserve(item)` through the client layer.
async fn reserve(downstream: &Downstream, item: &str) -> Result<String, Status> {
    let client = Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http::<tonic::body::Body>();
    let channel = SentryHttpClientLayer::new().layer(client);
    let origin = downstream.url("").parse().unwrap();
    let mut grpc = tonic::client::Grpc::with_origin(channel, origin);
    let path = http::uri::PathAndQuery::from_static(shop::RESERVE);
    grpc.ready()
        .await
        .map_err(|e| Status::unknown(e.to_string()))?;
    let request = tonic::Request::new(item.to_owned());
    let response = grpc.unary(request, path, shop::StringCodec).await?;
    Ok(response.into_inner())
}

#[test]
fn a_grpc_call_continues_the_trace_and_reads_the_status_from_the_trailers() {
    let downstream = grpc_downstream();
    let sampled = SentryLayer::builder().traces_sample_rate(1.0);
    let (answer, txs) = in_handler(sampled, reserve(&downstream, "socks"));
    assert_eq!(answer.unwrap(), "reserved socks");

    let tx = &txs[0];
    let call = span_with_op(tx, "grpc.client");
    assert_eq!(call["description"], "/shop.Inventory/Reserve");
    assert_eq!(call["status"], "ok", "from the grpc-status trailer");
    assert_eq!(call["data"]["rpc.grpc.status_code"], 0);
    assert_eq!(call["data"]["rpc.service"], "shop.Inventory");
    assert_eq!(call["data"]["rpc.method"], "Reserve");

    let down = downstream.transactions();
    assert_eq!(down.len(), 1);
    let root = &down[0]["contexts"]["trace"];
    assert_eq!(root["op"], "grpc.server");
    assert_eq!(down[0]["transaction"], "/shop.Inventory/Reserve");
    assert_eq!(down[0]["transaction_info"]["source"], "route");
    assert_eq!(root["trace_id"], tx["contexts"]["trace"]["trace_id"]);
    assert_eq!(root["parent_span_id"], call["span_id"]);
    assert_eq!(root["status"], "ok");
}

#[test]
fn grpc_errors_map_to_the_span_status_of_the_same_name() {
    let downstream = grpc_downstream();
    let sampled = SentryLayer::builder().traces_sample_rate(1.0);
    let (answer, txs) = in_handler(sampled, reserve(&downstream, "unknown"));
    assert_eq!(answer.unwrap_err().code(), Code::NotFound);

    let call = span_with_op(&txs[0], "grpc.client");
    assert_eq!(call["status"], "not_found");
    assert_eq!(call["data"]["rpc.grpc.status_code"], 5);
    let down = downstream.transactions();
    assert_eq!(down[0]["contexts"]["trace"]["status"], "not_found");
    assert_eq!(
        down[0]["contexts"]["trace"]["data"]["rpc.grpc.status_code"],
        5
    );
}
