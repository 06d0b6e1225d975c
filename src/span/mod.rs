//! Per-span state: what the layer keeps in each span's extensions, and the ways to reach it.
//!
//! - [`data`]: [`SpanData`](data::SpanData), the private per-span extension (a span's identity
//!   in its trace), and how a new span gets one;
//! - [`root`]: [`RootState`](root::RootState), what every span of one local root shares (the
//!   sampling decision, the frozen dynamic sampling context, the transaction's buffer), and the
//!   sending of its transaction;
//! - [`lazy_root`]: [`LazyRoot`](lazy_root::LazyRoot), what a new-trace root that records
//!   nothing keeps until it needs its `RootState`;
//! - [`started`]: the mark that a span has a child or has propagated (no remote parent after);
//! - [`recording`]: what a recorded span accumulates from its fields, and the `sentry.*` fields;
//! - [`properties`]: fields and typed properties applied to a span, from the layer's `on_record`
//!   and from the integrations' request spans;
//! - [`access`]: reaching a span's data from a `tracing::Span` handle or the current span;
//! - [`ext`]: [`SentrySpanExt`](ext::SentrySpanExt), the public handle on all of this;
//! - [`trace_context`]: [`TraceContext`](trace_context::TraceContext), the public read-only
//!   snapshot.
//!
//! Span state reads the layer's resolved options ([`Config`](crate::config::Config)) and never
//! the builder.

pub(crate) mod access;
pub(crate) mod data;
pub(crate) mod ext;
pub(crate) mod lazy_root;
pub(crate) mod properties;
pub(crate) mod recording;
pub(crate) mod root;
pub(crate) mod started;
pub(crate) mod trace_context;
