//! Sentry distributed tracing for [`tracing`]: make a Rust service a first-class member of the
//! traces its Sentry-instrumented neighbours (a React front end, a Python backend) already share.
//!
//! [`SentryLayer`] is a [`tracing_subscriber::Layer`] that
//! - keeps each span's Sentry trace context (trace id, span id, parent, sampling decision,
//!   dynamic sampling context) in the span's extensions, derived from the `tracing` span tree;
//! - continues the caller's trace from incoming `sentry-trace` and `baggage` headers, even from
//!   inside an `#[instrument]` handler ([`SentrySpanExt::set_parent_from_headers`]);
//! - produces the outgoing headers for the current span ([`current_headers`]);
//! - reports sampled spans to Sentry as transactions with child spans, from sender threads
//!   behind a bounded queue ([`export`]).
//!
//! For local development, [`SentryLayerBuilder::spotlight`] (or `SENTRY_SPOTLIGHT` with
//! [`SentryLayerBuilder::from_env`]) also sends a copy of every envelope to
//! [Sentry Spotlight](https://spotlightjs.com/), the local UI (`npx @spotlightjs/spotlight`,
//! then <http://localhost:8969>): no Sentry account or DSN needed, and a sidecar that is down
//! never slows the service.
//!
//! # Quick start
//!
//! ```
//! use tracing_sentry::{SentryLayer, SentrySpanExt};
//! use tracing_subscriber::prelude::*;
//!
//! // With a real DSN: `.dsn_str("https://<key>@o<org>.ingest.sentry.io/<project>")`.
//! let transport = tracing_sentry::export::InMemoryTransport::new();
//! let (layer, guard) = SentryLayer::builder()
//!     .transport(transport.clone())
//!     .release("checkout@1.4.2")
//!     .traces_sample_rate(1.0)
//!     .build()?;
//! let subscriber = tracing_subscriber::registry().with(layer);
//!
//! #[tracing::instrument(skip_all)]
//! fn handle(incoming: &http::HeaderMap) -> http::HeaderMap {
//!     // Continue the caller's trace (a missing `sentry-trace` header starts a new one).
//!     let _ = tracing::Span::current().set_parent_from_headers(incoming);
//!     // ... and pass it on to the next service.
//!     tracing_sentry::current_headers()
//! }
//!
//! tracing::subscriber::with_default(subscriber, || {
//!     let mut incoming = http::HeaderMap::new();
//!     incoming.insert("sentry-trace", "771a43a4192642f0b136d5159a501700-b7ad6b7169203331-1".parse()?);
//!     let outgoing = handle(&incoming);
//!     println!("{:?}", outgoing);
//!     Ok::<(), Box<dyn std::error::Error>>(())
//! })?;
//!
//! assert!(guard.flush(std::time::Duration::from_secs(5)));
//! assert_eq!(transport.envelopes().len(), 1); // the `handle` transaction
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # How it works
//!
//! Every span's trace context lives in the span's own extensions in the
//! [`Registry`](tracing_subscriber::Registry), and a child's context is derived from its parent
//! *in the span tree* (explicit `parent:`, the contextual parent, or none), the same tree the
//! registry already keeps. That is why spans moved between threads, futures polled by
//! different workers, and explicit parents just work: there is no thread-local "current
//! transaction" that async code could leave behind, unlike scope-based designs.
//!
//! A span with no parent (for this layer) is a *local root*: it starts a trace, or continues a
//! remote one, and becomes a Sentry transaction; its sampled descendants become the
//! transaction's child spans. A span finishes when its last handle is dropped, on whatever
//! thread: the handle carries the dispatcher that created it, so a span moved out of a scoped
//! [`with_default`](tracing::subscriber::with_default) to another thread still finishes, and
//! its transaction is sent once all its spans are gone. What does not follow a span across
//! threads is the *default* subscriber: spans created on a thread where this subscriber is not
//! the default belong to that thread's default (often none) and never reach this layer, so
//! they cannot be recorded or counted; carry the dispatcher along
//! ([`with_current_subscriber`](tracing::instrument::WithSubscriber::with_current_subscriber), `WithDispatch`) when you move work. Spans in unsampled traces store nothing: they borrow their
//! ancestor's context and get their own id only if they ever send it out.
//!
//! # Continuing a trace (incoming)
//!
//! - [`SentrySpanExt::set_parent_from_headers`] / [`SentrySpanExt::set_parent`] attach a remote
//!   parent to an existing span, entered or not, until the span has children or has
//!   propagated.
//! - [`continue_trace`] creates the span with its remote parent already known (cheapest; the
//!   creation fields are seen by the sampler and recorded).
//! - [`PropagationContext::from_headers`] and [`PropagationContext::from_pairs`] read
//!   `sentry-trace` and `baggage` from an `http::HeaderMap` or from any `(name, value)` pairs
//!   (gRPC metadata, message headers). A missing `sentry-trace` is `Ok(None)`; malformed input
//!   is a typed error that never echoes header bytes.
//!
//! The incoming decision (`-1`/`-0`) is kept; a deferred one is made locally with the incoming
//! `sentry-sample_rand`. The incoming dynamic sampling context is frozen and forwarded
//! unchanged (an empty one when the caller sent `sentry-trace` without Sentry baggage).
//! [Strict trace continuation](SentryLayerBuilder::strict_trace_continuation) and the org-id
//! rule decide whether a trace from another organization is continued.
//!
//! # Propagating (outgoing)
//!
//! [`current_headers`] returns `sentry-trace` and `baggage` for the current span (plus
//! `traceparent` with [`propagate_traceparent`](SentryLayerBuilder::propagate_traceparent)).
//! [`inject_current_headers`] merges them into an existing `HeaderMap` (foreign `baggage`
//! members kept verbatim), and [`headers_for_url`] honours the
//! [trace propagation targets](SentryLayerBuilder::trace_propagation_targets). Incoming
//! third-party baggage is not forwarded unless asked for. Producing headers freezes the
//! trace's dynamic sampling context and ends `set_parent` for the span (see
//! [`current_headers`]); [`peek_current_context`] looks at the context for logging without
//! either effect. The client [`integrations`] (reqwest, tower clients, any `http::Request`) do
//! all of this per request, in an `http.client` span.
//!
//! # Sampling
//!
//! A local root decides once: [`traces_sampler`](SentryLayerBuilder::traces_sampler) if set
//! (it sees the span's name, target, level, creation fields, and the parent's decision and
//! rate), else the incoming decision, else
//! [`traces_sample_rate`](SentryLayerBuilder::traces_sample_rate). The rule is
//! `sample_rand < rate`, where `sample_rand` is created once per trace and propagated, so every
//! service of a trace decides consistently. Children inherit the decision. Without a rate or a
//! sampler the layer only propagates. Unsampled traces still propagate (`-0`) and cost close to
//! nothing.
//!
//! # Exporting
//!
//! With a DSN (or a [`transport`](SentryLayerBuilder::transport)), a sampled local root becomes
//! a transaction when it closes. It is queued (bounded; a full queue drops, counts and reports
//! the loss to Sentry) and sent by sender threads (up to
//! [`max_requests_in_flight`](SentryLayerBuilder::max_requests_in_flight) requests at once), so
//! the instrumented program never waits on the network. The [`ExportGuard`] returned by
//! [`SentryLayerBuilder::build`] flushes on drop; [`Stats`] counts what was sent and every drop
//! by reason. See [`export`].
//!
//! With [`TraceLifecycle::Stream`] (the builder's
//! [`trace_lifecycle`](SentryLayerBuilder::trace_lifecycle), or `SENTRY_TRACE_LIFECYCLE=stream`
//! with [`from_env`](SentryLayerBuilder::from_env)), sampled spans are instead streamed as
//! Sentry span v2 items soon after they finish, batched per trace, carrying the same ids,
//! parents, timestamps, ops, names and statuses; a long-lived root's children reach Sentry
//! while it runs and are not kept in memory.
//!
//! # Special fields
//!
//! Fields with these names set span properties instead of span `data` (the names sentry-tracing
//! uses, so moving over needs no changes):
//!
//! | field | meaning | default |
//! | --- | --- | --- |
//! | `sentry.name` | the transaction name (roots) and the span description | the span's name |
//! | `sentry.op` | the span `op` | `{target}::{name}` |
//! | `sentry.description` | the span description, overriding `sentry.name` | the name |
//! | `sentry.status` | a [`SpanStatus`] (`ok`, `not_found`, ...); invalid values are ignored | `internal_error` after an `ERROR` event in the span or when a panic unwinds through it, else none |
//! | `sentry.source` | the transaction source (`custom`, `route`, `url`, `view`, `component`, `task`) | `custom` (`url` for names that contain `://`) |
//! | `sentry.origin` | the span origin | `auto.tracing` |
//!
//! All of them can also be set later with `span.record(..)` when declared as
//! `tracing::field::Empty`. The request spans of the [`integrations`] set them through the
//! layer instead, so that they stay out of other layers' output (a fmt layer's lines). Other fields become span `data`, typed (bool, integer, float,
//! string). `follows_from` is recorded as a span link.
//!
//! # Feature flags
//!
//! Each feature works with these versions of the crates it plugs into:
//!
//! | feature | works with |
//! | --- | --- |
//! | (always) | `tracing` 0.1, `tracing-subscriber` 0.3, `http` 1; Rust 1.81 or later (MSRV) |
//! | `tower` | `tower` 0.5 (`tower-layer`/`tower-service` 0.3), `http-body` 1, `axum` 0.8, `tonic` 0.14, `hyper` 1 / `hyper-util` 0.1 |
//! | `reqwest` | `reqwest` 0.13, `reqwest-middleware` 0.5 |
//! | `sentry` | `sentry` 0.49 (and `sentry-core` 0.49); Rust 1.88 or later |
//! | `fmt` | `tracing-subscriber` 0.3 |
//! | `ureq` (default) | nothing of yours: the built-in HTTP transport |
//!
//! Another major version (reqwest 0.12 with reqwest-middleware 0.4, axum 0.7, http 0.2, an
//! older `sentry`) puts two copies of the crate in the build, and the compiler reports
//! `error[E0277]: the trait bound `SentryReqwestMiddleware: reqwest_middleware::Middleware` is
//! not satisfied` (the trait is not implemented for `SentryReqwestMiddleware`), or the same for
//! `SentryHttpLayer`/`SentryHttpService` and `tower::Service`. `cargo tree -d` shows the
//! duplicate.
//!
//! - `ureq` (default): [`export::UreqTransport`], sending envelopes with `ureq` (rustls) and
//!   gzip (`flate2`). Without it, bring your own [`export::EnvelopeTransport`]. With the `sentry`
//!   feature it also sends what the `sentry` crate captures (through
//!   [`integrations::sentry::link`]): give `sentry` `default-features = false`, so that its own
//!   transport and a second TLS stack (`reqwest` with `native-tls`) are not built.
//! - `tower`: `tower` layers for servers (axum, hyper, tonic) that continue traces from request
//!   headers, and for clients of `http::Request`s (hyper-util, tonic channels) that propagate
//!   them, gRPC included ([`integrations::tower`]).
//! - `reqwest`: a `reqwest-middleware` middleware and a `reqwest::RequestBuilder` extension for
//!   outgoing requests ([`integrations::reqwest`]). No TLS stack of `reqwest`'s is enabled.
//! - `sentry`: [with the `sentry` crate](integrations::sentry) (0.49): its errors, panics and
//!   logs carry the trace context of the current span; the layer is configured from its client
//!   ([`SentryLayerBuilder::sentry_client`]) and sends through its transport. Needs Rust 1.88.
//! - `fmt`: the trace id and span id on every line of `tracing-subscriber`'s fmt layer:
//!   [`fmt::Json`] writes JSON lines with them as top-level fields, [`fmt::WithTraceIds`] adds
//!   them to the text formats.
//! - `test-util`: inspection helpers for tests that return `serde_json::Value`s
//!   ([`export::EnvelopeBytes::transaction`], `spans`, `header`, and
//!   [`export::InMemoryTransport::transactions`]). For dev-dependencies: without it, read
//!   [`export::EnvelopeBytes::items`] with the JSON library of your choice.
//!
//! # Supported Rust versions
//!
//! The minimum supported Rust version (MSRV) is 1.81. We support the current stable release and
//! the releases back to the MSRV; raising the MSRV is a minor release, not a breaking change,
//! and gets a CHANGELOG line. It is checked by clippy's `incompatible_msrv` lint (which reads
//! `rust-version`) and by MSRV-aware dependency resolution (`.cargo/config.toml`), since the
//! project's machines have a single toolchain. The `sentry` feature needs Rust 1.88, the
//! `sentry` crate's minimum.
#![deny(missing_docs)]
#![deny(unsafe_code)]
#![warn(
    missing_debug_implementations,
    unreachable_pub,
    rust_2018_idioms,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod builder;
mod clock;
mod code_path;
mod config;
pub mod export;
mod field;
#[cfg(feature = "fmt")]
#[cfg_attr(docsrs, doc(cfg(feature = "fmt")))]
pub mod fmt;
mod headers;
mod id;
mod ignore;
pub mod integrations;
mod layer;
mod lifecycle;
pub mod propagation;
mod remote_parent;
mod rng;
mod sampling;
mod span;
mod stats;
mod status;
pub mod telemetry;
mod thread;

/// Every field the crate sends, and what controls it.
#[doc = include_str!("../docs/what-is-sent.md")]
pub mod what_is_sent {}

pub use builder::{
    BuildError, SentryLayerBuilder, DEFAULT_ENVIRONMENT, DEFAULT_MAX_QUEUED_BYTES,
    DEFAULT_MAX_SPANS, DEFAULT_QUEUE_CAPACITY, DEFAULT_SHUTDOWN_TIMEOUT,
};
pub use export::transport::spotlight::{Spotlight, DEFAULT_SPOTLIGHT_URL};
pub use export::ExportGuard;
pub use field::FieldValue;
pub use headers::{
    current_headers, current_trace_context, headers_for_url, inject_current_headers,
    inject_headers_for_url, peek_current_context,
};
pub use id::{ParseIdError, SpanId, TraceId};
pub use layer::SentryLayer;
pub use lifecycle::{ParseTraceLifecycleError, TraceLifecycle};
pub use propagation::{
    Baggage, DynamicSamplingContext, ExtractError, PropagationContext, SentryTrace, BAGGAGE,
    SENTRY_TRACE, TRACEPARENT,
};
pub use remote_parent::continue_trace;
pub use sampling::SamplingContext;
pub use span::ext::{SentrySpanExt, SetParentError};
pub use span::trace_context::{ContextSnapshot, TraceContext};
pub use stats::Stats;
pub use status::{SpanStatus, UnknownSpanStatus};

/// The README's Rust examples, compiled and run as doctests. They are written as an
/// application pastes them (no `#[cfg(feature = ...)]` inside: in an application that would
/// compile to nothing), so they are compiled only with every feature they use.
#[cfg(all(
    doctest,
    feature = "reqwest",
    feature = "tower",
    feature = "sentry",
    feature = "fmt"
))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
