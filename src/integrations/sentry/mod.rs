//! With the `sentry` crate (feature `sentry`): errors, panics and logs land on the trace of the
//! current `tracing` span, with one configuration and one transport.
//!
//! Most Rust services on Sentry use the [`sentry`](https://docs.rs/sentry) crate for errors
//! (`capture_error`, panics, `sentry-tracing`'s ERROR events, `sentry-anyhow`) and logs. With
//! this integration:
//!
//! - **every `sentry` event captured while a `tracing` span is current carries that span's
//!   trace context**: `contexts.trace` gets its `trace_id`, `span_id` (an unsampled span gets
//!   its id, as propagation does), `parent_span_id` and `op`, and the envelope header `trace`
//!   is the trace's frozen dynamic sampling context. It reads the span of the thread that
//!   captures, so it holds on every thread and async task, whichever hub is bound, with the
//!   subscriber installed globally or with `with_default`. Outside any span, events keep what
//!   the `sentry` crate gives them;
//! - **structured logs** (the `sentry` logs API and `sentry-tracing`'s log mapping) carry the
//!   span's `trace_id` and its span id in the attribute `sentry.trace.parent_span_id` (the
//!   0.49 `Log` type has no top-level `span_id`);
//! - **one configuration**: [`SentryLayerBuilder::sentry_client`](crate::SentryLayerBuilder::sentry_client)
//!   takes the DSN, release, environment, sample rate, ... from the client, and **one
//!   transport**: transactions go out through the client's transport;
//! - **panics**: the span a panic unwinds through gets status `internal_error` (this part needs
//!   no feature);
//! - [`From`] conversions between [`TraceId`](crate::TraceId), [`SpanId`](crate::SpanId),
//!   [`SpanStatus`](crate::SpanStatus) and the `sentry` protocol types.
//!
//! Register it with one line, [`link`], around the client options; build the layer with
//! `sentry_client`. For `tracing` events, use `sentry-tracing`'s `ErrorLayer` (ERROR events
//! become Sentry events) and `LogLayer` (events become Sentry logs), not its `SpanLayer`, so
//! that no span is sent twice; add them *after* this crate's layer (as below), so that their
//! events see the span of the `tracing` event they map.
//!
//! The feature needs Rust 1.88, the `sentry` crate's minimum.
//!
//! # Examples
//!
//! ```no_run
//! use sentry::integrations::tracing::{ErrorLayer, LogLayer};
//! use tracing_subscriber::filter::LevelFilter;
//! use tracing_subscriber::prelude::*;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // One line registers the integration (and makes our export pipeline the client's transport).
//! let _sentry = sentry::init(tracing_sentry::integrations::sentry::link(
//!     sentry::ClientOptions::new()
//!         .dsn("https://public@o42.ingest.sentry.io/7")
//!         .release("checkout@1.4.2"),
//! ));
//! // The layer is configured from the same client, and shares its pipeline.
//! let (layer, guard) = tracing_sentry::SentryLayer::builder()
//!     .sentry_client(sentry::Hub::current().client())
//!     .traces_sample_rate(1.0)
//!     .build()?;
//! tracing_subscriber::registry()
//!     .with(layer)
//!     .with(ErrorLayer::new().with_filter(LevelFilter::ERROR))
//!     .with(LogLayer::new().with_filter(LevelFilter::INFO))
//!     .init();
//!
//! let span = tracing::info_span!("request", request_id = 7);
//! span.in_scope(|| {
//!     let err = std::io::Error::other("request 7 failed");
//!     sentry::capture_error(&err); // carries the trace id and span id of `request`
//!     tracing::error!("request 7 error event"); // so does this event, and its log
//!     sentry::logger_info!("request 7 log line"); // and this log
//! });
//! drop(span);
//! guard.flush(std::time::Duration::from_secs(5)); // the client's batches, then the queue
//! # Ok(())
//! # }
//! ```
//!
//! Per-request breadcrumb isolation works as the `sentry` crate documents it (a hub per
//! request, for example `sentry-tower`'s `NewSentryLayer`, or
//! `sentry::SentryFutureExt::bind_hub`): the trace context comes from the `tracing` span, not
//! from the hub.

mod convert;
mod link;
mod size;
mod transport;

pub(crate) use link::note_event_span;
pub use link::{link, TraceLinkIntegration};
pub(crate) use transport::{dsn_string, pipeline_link, ClientTransport, PipelineLink};
