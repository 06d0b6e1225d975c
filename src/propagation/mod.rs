//! The values that cross process boundaries: `sentry-trace`, `baggage` (with the dynamic
//! sampling context), W3C `traceparent`, and the rules for continuing a trace.
//!
//! Nothing in this module depends on `tracing`: it is the pure protocol core.

mod baggage;
mod dsc;
mod sample_rand;
mod sentry_trace;
mod strict;
mod targets;
mod traceparent;

pub use baggage::{merge_baggage, strip_sentry_members, Baggage, MAX_BAGGAGE_BYTES, MAX_BAGGAGE_MEMBERS};
pub use dsc::DynamicSamplingContext;
pub use sample_rand::{backfill_interval, format_sample_rand, parse_sample_rand, parse_sample_rate, sample_rand_in};
pub use sentry_trace::{ParseSentryTraceError, SentryTrace, SentryTraceErrorKind};
pub use strict::{org_id_from_dsn_host, should_continue_trace};
pub use targets::{InvalidTargetError, PropagationTarget, PropagationTargets};
pub use traceparent::{ParseTraceparentError, Traceparent};

use crate::id::{SpanId, TraceId};

/// The `sentry-trace` header name.
pub const SENTRY_TRACE_HEADER: &str = "sentry-trace";
/// The `baggage` header name.
pub const BAGGAGE_HEADER: &str = "baggage";
/// The W3C `traceparent` header name.
pub const TRACEPARENT_HEADER: &str = "traceparent";

/// Options for [`PropagationContext::from_pairs_with`] and [`PropagationContext::from_headers_with`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExtractOptions {
    /// Accept a W3C `traceparent` header when no `sentry-trace` header arrived. Off by default.
    pub accept_traceparent: bool,
}

/// Where an incoming trace came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PropagationSource {
    /// A `sentry-trace` header.
    SentryTrace,
    /// A W3C `traceparent` header (opt-in fallback).
    Traceparent,
}

/// An incoming trace: the remote parent (`sentry-trace`) and its frozen dynamic sampling context.
#[derive(Clone, Debug, PartialEq)]
pub struct PropagationContext {
    pub(crate) sentry_trace: SentryTrace,
    pub(crate) dsc: DynamicSamplingContext,
    pub(crate) third_party: Vec<String>,
    pub(crate) source: PropagationSource,
}

/// The error returned when incoming trace headers are present but malformed.
#[derive(Clone, PartialEq, Eq)]
pub struct ExtractError {
    pub(crate) kind: ExtractErrorKind,
}

/// What was wrong with incoming trace headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExtractErrorKind {
    /// The `sentry-trace` header was malformed.
    SentryTrace(SentryTraceErrorKind),
    /// The `traceparent` header was malformed (only with [`ExtractOptions::accept_traceparent`]).
    Traceparent,
}

impl PropagationContext {
    /// Creates a context from a parsed `sentry-trace` and the incoming DSC.
    pub fn new(sentry_trace: SentryTrace, dsc: DynamicSamplingContext) -> Self {
        Self { sentry_trace, dsc, third_party: Vec::new(), source: PropagationSource::SentryTrace }
    }
    /// Extracts from any iterator of `(name, value)` pairs; names compare case-insensitively.
    pub fn from_pairs<'a, I>(pairs: I) -> Result<Option<Self>, ExtractError>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        Self::from_pairs_with(ExtractOptions::default(), pairs)
    }
    /// Like [`from_pairs`](Self::from_pairs), with options.
    pub fn from_pairs_with<'a, I>(options: ExtractOptions, pairs: I) -> Result<Option<Self>, ExtractError>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let _ = (options, pairs);
        unimplemented!()
    }
    /// Extracts from an `http::HeaderMap`.
    pub fn from_headers(headers: &http::HeaderMap) -> Result<Option<Self>, ExtractError> {
        Self::from_headers_with(ExtractOptions::default(), headers)
    }
    /// Like [`from_headers`](Self::from_headers), with options.
    pub fn from_headers_with(options: ExtractOptions, headers: &http::HeaderMap) -> Result<Option<Self>, ExtractError> {
        let _ = (options, headers);
        unimplemented!()
    }
    /// The parsed `sentry-trace` value.
    pub fn sentry_trace(&self) -> &SentryTrace { &self.sentry_trace }
    /// The incoming trace id.
    pub fn trace_id(&self) -> TraceId { self.sentry_trace.trace_id() }
    /// The remote parent span id.
    pub fn parent_span_id(&self) -> SpanId { self.sentry_trace.span_id() }
    /// The incoming sampling decision (`None` = deferred).
    pub fn sampled(&self) -> Option<bool> { self.sentry_trace.sampled() }
    /// The incoming (frozen) dynamic sampling context; empty when no `sentry-*` baggage arrived.
    pub fn dsc(&self) -> &DynamicSamplingContext { &self.dsc }
    /// Incoming third-party baggage members (trimmed, verbatim). Not forwarded by default.
    pub fn third_party_baggage(&self) -> &[String] { &self.third_party }
    /// Which header the trace came from.
    pub fn source(&self) -> PropagationSource { self.source }
    /// Calls `f` with each header this context would send (`sentry-trace`, and `baggage` if the DSC is not empty).
    pub fn inject_into(&self, mut f: impl FnMut(&'static str, &str)) {
        f(SENTRY_TRACE_HEADER, &self.sentry_trace.to_string());
        if let Some(b) = self.dsc.to_baggage() { f(BAGGAGE_HEADER, &b); }
    }
}

impl ExtractError {
    /// What was wrong.
    pub fn kind(&self) -> ExtractErrorKind { self.kind }
}
impl std::fmt::Debug for ExtractError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExtractError").field("kind", &self.kind).finish()
    }
}
impl std::fmt::Display for ExtractError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            ExtractErrorKind::SentryTrace(k) => write!(f, "invalid sentry-trace header: {k:?}"),
            ExtractErrorKind::Traceparent => f.write_str("invalid traceparent header"),
        }
    }
}
impl std::error::Error for ExtractError {}
