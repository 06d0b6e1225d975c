//! Integrations with HTTP servers and clients.
//!
//! - [`http_client`]: trace headers and an `http.client` span for outgoing requests built with
//!   the [`http`] crate's types, or any client whose headers are an `http::HeaderMap`.
//! - `reqwest` (feature `reqwest`): a `reqwest-middleware` middleware and a
//!   `reqwest::RequestBuilder` extension for outgoing requests.
//! - `tower` (feature `tower`): a server layer that continues the caller's trace for every
//!   request (axum, hyper, tonic), and a client layer for outgoing `http::Request`s (hyper-util's
//!   client, tonic channels).
//! - `sentry` (feature `sentry`): errors, panics and logs of the `sentry` crate on the trace
//!   of the current span, one configuration and one transport.
//! - [`grpc`]: gRPC status codes as span statuses; gRPC calls are recognised by the `tower`
//!   layers.
//!
//! Request spans set their op, name, source and status through the
//! [`SentryLayer`](crate::SentryLayer), not as `sentry.*` span fields, so that a fmt layer's
//! lines stay readable: they show only the request's conventional fields
//! (`http.request.method`, `url.path`, `url.full`, `rpc.service`, ...).

pub mod grpc;
pub mod http_client;
#[cfg(feature = "reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
pub mod reqwest;
#[cfg(feature = "sentry")]
#[cfg_attr(docsrs, doc(cfg(feature = "sentry")))]
pub mod sentry;
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub mod tower;
