//! A tiny gRPC service without protobuf code generation: messages are UTF-8 strings with a
//! hand-written codec, and `/shop.Inventory/Reserve` is a tonic `UnaryService`. (Shared by the
//! `grpc` example and the gRPC integration tests.)

use std::convert::Infallible;

use bytes::{Buf, BufMut};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::Status;

/// The method's path: `/package.Service/Method`.
pub const RESERVE: &str = "/shop.Inventory/Reserve";

/// Strings as gRPC messages.
#[derive(Clone, Copy, Debug, Default)]
pub struct StringCodec;

impl Codec for StringCodec {
    type Encode = String;
    type Decode = String;
    type Encoder = StringCodec;
    type Decoder = StringCodec;
    fn encoder(&mut self) -> Self::Encoder {
        StringCodec
    }
    fn decoder(&mut self) -> Self::Decoder {
        StringCodec
    }
}

impl Encoder for StringCodec {
    type Item = String;
    type Error = Status;
    fn encode(&mut self, item: String, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(item.as_bytes());
        Ok(())
    }
}

impl Decoder for StringCodec {
    type Item = String;
    type Error = Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<String>, Status> {
        let bytes = src.copy_to_bytes(src.remaining());
        String::from_utf8(bytes.to_vec())
            .map(Some)
            .map_err(|_| Status::invalid_argument("not UTF-8"))
    }
}

/// `Reserve(item)`: answers `reserved <item>`, or `NOT_FOUND` for `unknown`.
#[derive(Clone, Copy, Debug)]
pub struct Reserve;

impl tonic::server::UnaryService<String> for Reserve {
    type Response = String;
    type Future = std::future::Ready<Result<tonic::Response<String>, Status>>;
    fn call(&mut self, request: tonic::Request<String>) -> Self::Future {
        let item = request.into_inner();
        tracing::info!(%item, "reserving");
        std::future::ready(if item == "unknown" {
            Err(Status::not_found("no such item"))
        } else {
            Ok(tonic::Response::new(format!("reserved {item}")))
        })
    }
}

/// The axum router serving `Reserve` over HTTP/2 (h2c): a tonic service is a `tower` service.
pub fn router() -> axum::Router {
    let reserve = tower::service_fn(|request: http::Request<axum::body::Body>| async move {
        let mut grpc = tonic::server::Grpc::new(StringCodec);
        Ok::<_, Infallible>(grpc.unary(Reserve, request).await)
    });
    axum::Router::new().route_service(RESERVE, reserve)
}
