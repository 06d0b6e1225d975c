//! Integrations with HTTP servers and clients.
//!
//! - [`http_client`]: trace headers and an `http.client` span for outgoing requests built with
//!   the [`http`] crate's types (hyper, reqwest via `http::Request`, or any client whose headers
//!   are an `http::HeaderMap`).
//! - `tower` (feature `tower`): a server layer that continues the caller's trace for every
//!   request.
//! - `sentry` (feature `sentry`): errors, panics and logs of the `sentry` crate on the trace
//!   of the current span, one configuration and one transport.

pub mod http_client;
#[cfg(feature = "sentry")]
#[cfg_attr(docsrs, doc(cfg(feature = "sentry")))]
pub mod sentry;
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub mod tower;
