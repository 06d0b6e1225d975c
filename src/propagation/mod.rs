//! The values that cross process boundaries: `sentry-trace`, `baggage` (with the dynamic
//! sampling context), W3C `traceparent`, and the rules for continuing a trace.
//!
//! Nothing in this module depends on `tracing`: it is the pure protocol core. Every parser here
//! is total (it never panics, whatever the input), bounds its work, and reports errors by kind
//! and length only, never by echoing header bytes.
//!
//! | header | type | grammar |
//! | --- | --- | --- |
//! | `sentry-trace` | [`SentryTrace`] | `32HEXDIG "-" 16HEXDIG [ "-" ( "1" / "0" ) ]` |
//! | `baggage` | [`Baggage`], [`DynamicSamplingContext`] | W3C list, at most 64 members / 8192 bytes |
//! | `traceparent` | [`Traceparent`] | W3C Trace Context, version `00` written |
//!
//! # Examples
//!
//! ```
//! use tracing_sentry::PropagationContext;
//!
//! let headers = [
//!     ("Sentry-Trace", "771a43a4192642f0b136d5159a501700-b7ad6b7169203331-1"),
//!     ("baggage", "sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-sample_rand=0.25,vendor=x"),
//! ];
//! let ctx = PropagationContext::from_pairs(headers)?.expect("a trace arrived");
//! assert_eq!(ctx.sampled(), Some(true));
//! assert_eq!(ctx.dsc().get("sample_rand"), Some("0.25"));
//! assert_eq!(ctx.third_party_baggage(), "vendor=x");
//! # Ok::<(), tracing_sentry::propagation::ExtractError>(())
//! ```
#![warn(
    missing_debug_implementations,
    unreachable_pub,
    clippy::missing_errors_doc,
    clippy::missing_panics_doc
)]
// No panicking shortcuts in library code; unit tests (cfg(test)) may use them.
#![cfg_attr(
    not(test),
    warn(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod baggage;
mod dsc;
mod head;
mod percent;
mod sample_rand;
mod sentry_trace;
mod strict;
mod targets;
mod traceparent;

#[cfg(test)]
mod spec_tests;

pub(crate) use baggage::is_w3c_member;
pub(crate) use baggage::ThirdParty;
pub use baggage::{merge_baggage, strip_sentry_members, Baggage};
#[cfg(test)]
pub(crate) use baggage::{MAX_BAGGAGE_BYTES, MAX_BAGGAGE_MEMBERS};
pub use dsc::DynamicSamplingContext;
pub(crate) use head::{HeadFacts, HeadOptions};
pub(crate) use sample_rand::sample_rand_text;
#[cfg(test)]
pub(crate) use sample_rand::{backfill_interval, sample_rand_in};
pub(crate) use sample_rand::{continued_sample_rand, sample_rand_from_trace_id};
pub(crate) use sample_rand::{format_sample_rand, parse_sample_rand, parse_sample_rate};
pub use sentry_trace::{ParseSentryTraceError, SentryTrace, SentryTraceErrorKind};
pub(crate) use strict::{org_id_from_dsn_host, should_continue_trace};
pub use targets::{InvalidTargetError, PropagationTarget, PropagationTargets};
pub use traceparent::{ParseTraceparentError, Traceparent, TraceparentErrorKind};

use std::fmt;
use std::sync::Arc;

use crate::id::{SpanId, TraceId};

/// The `sentry-trace` header name (every module of the crate uses these three constants).
///
/// # Examples
///
/// ```
/// let mut headers = http::HeaderMap::new();
/// headers.insert(tracing_sentry::SENTRY_TRACE, "771a43a4192642f0b136d5159a501700-b7ad6b7169203331".parse()?);
/// assert!(headers.contains_key("sentry-trace"));
/// assert_eq!(tracing_sentry::BAGGAGE, "baggage");
/// assert_eq!(tracing_sentry::TRACEPARENT, "traceparent");
/// # Ok::<(), http::header::InvalidHeaderValue>(())
/// ```
pub const SENTRY_TRACE: http::HeaderName = http::HeaderName::from_static(SENTRY_TRACE_NAME);
/// The `baggage` header name.
pub const BAGGAGE: http::HeaderName = http::HeaderName::from_static(BAGGAGE_NAME);
/// The W3C `traceparent` header name.
pub const TRACEPARENT: http::HeaderName = http::HeaderName::from_static(TRACEPARENT_NAME);

const SENTRY_TRACE_NAME: &str = "sentry-trace";
const BAGGAGE_NAME: &str = "baggage";
const TRACEPARENT_NAME: &str = "traceparent";

/// Options for [`PropagationContext::from_pairs_with`] and [`PropagationContext::from_headers_with`].
///
/// # Examples
///
/// ```
/// use tracing_sentry::propagation::ExtractOptions;
///
/// let mut options = ExtractOptions::default();
/// options.accept_traceparent = true;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExtractOptions {
    /// Accept a W3C `traceparent` header when no `sentry-trace` header arrived. Off by default:
    /// inbound `traceparent` is not part of Sentry's protocol (spec 5).
    pub accept_traceparent: bool,
    /// Leave third-party baggage members out (they are still counted): set by a layer that
    /// does not forward them, so reading them allocates nothing.
    pub(crate) skip_third_party: bool,
}

/// Where an incoming trace came from.
///
/// # Examples
///
/// ```
/// use tracing_sentry::propagation::PropagationSource;
/// use tracing_sentry::PropagationContext;
///
/// let ctx = PropagationContext::from_pairs([("sentry-trace", "771a43a4192642f0b136d5159a501700-b7ad6b7169203331")])?.unwrap();
/// assert_eq!(ctx.source(), PropagationSource::SentryTrace);
/// # Ok::<(), tracing_sentry::propagation::ExtractError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PropagationSource {
    /// A `sentry-trace` header.
    SentryTrace,
    /// A W3C `traceparent` header (opt-in fallback).
    Traceparent,
}

/// An incoming trace: the remote parent (`sentry-trace`) and its frozen dynamic sampling context.
///
/// # Examples
///
/// ```
/// use tracing_sentry::{DynamicSamplingContext, PropagationContext, SentryTrace};
///
/// let st: SentryTrace = "771a43a4192642f0b136d5159a501700-b7ad6b7169203331".parse()?;
/// let ctx = PropagationContext::new(st, DynamicSamplingContext::new().with("release", "1.0"));
/// let mut sent = Vec::new();
/// ctx.inject_into(|name, value| sent.push(format!("{name}: {value}")));
/// assert_eq!(sent, [
///     "sentry-trace: 771a43a4192642f0b136d5159a501700-b7ad6b7169203331",
///     "baggage: sentry-release=1.0",
/// ]);
/// # Ok::<(), tracing_sentry::propagation::ParseSentryTraceError>(())
/// ```
///
/// `Debug` shows the parsed `sentry-trace` (validated ids and flag), the keys of the dynamic
/// sampling context and how many third-party members arrived, never baggage values or
/// third-party members: header bytes belong in no log.
#[derive(Clone)]
pub struct PropagationContext {
    pub(crate) sentry_trace: SentryTrace,
    /// Behind an `Arc` from the parse on: the local root that continues the trace freezes it
    /// as it is, with no copy and no further allocation.
    pub(crate) dsc: Arc<DynamicSamplingContext>,
    /// The third-party members, joined with `,` (see [`third_party_baggage`](Self::third_party_baggage)).
    pub(crate) third_party: ThirdParty,
    /// Counts are `u32` (a parse counts fewer than 64 Ki members), keeping the context at 128
    /// bytes: moved whole on every request, at that size without a call to `memcpy`.
    pub(crate) third_party_members: u32,
    pub(crate) source: PropagationSource,
    pub(crate) dropped_baggage: u32,
}

/// The error returned when incoming trace headers are present but malformed.
///
/// `Debug` and `Display` show the [kind](ExtractErrorKind) only, never header bytes.
///
/// # Examples
///
/// ```
/// let err = tracing_sentry::PropagationContext::from_pairs([("sentry-trace", "secret")]).unwrap_err();
/// assert_eq!(err.to_string(), "invalid sentry-trace header: Format");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ExtractError {
    pub(crate) kind: ExtractErrorKind,
}

/// What was wrong with incoming trace headers.
///
/// # Examples
///
/// ```
/// use tracing_sentry::propagation::{ExtractErrorKind, SentryTraceErrorKind};
///
/// let err = tracing_sentry::PropagationContext::from_pairs([("sentry-trace", "771a43a4192642f0b136d5159a501700-b7ad6b7169203331-2")]).unwrap_err();
/// assert_eq!(err.kind(), ExtractErrorKind::SentryTrace(SentryTraceErrorKind::Sampled));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExtractErrorKind {
    /// The `sentry-trace` header was malformed.
    SentryTrace(SentryTraceErrorKind),
    /// The `traceparent` header was malformed or repeated (only with
    /// [`ExtractOptions::accept_traceparent`]).
    Traceparent,
}

// === impl PropagationContext ===

impl PropagationContext {
    /// Creates a context from a parsed `sentry-trace` and the incoming DSC.
    ///
    /// # Examples
    ///
    /// ```
    /// use tracing_sentry::{DynamicSamplingContext, PropagationContext};
    ///
    /// let ctx = PropagationContext::new("771a43a4192642f0b136d5159a501700-b7ad6b7169203331-0".parse()?, DynamicSamplingContext::new());
    /// assert_eq!(ctx.sampled(), Some(false));
    /// # Ok::<(), tracing_sentry::propagation::ParseSentryTraceError>(())
    /// ```
    pub fn new(sentry_trace: SentryTrace, dsc: DynamicSamplingContext) -> Self {
        Self {
            sentry_trace,
            dsc: Arc::new(dsc),
            third_party: ThirdParty::None,
            third_party_members: 0,
            source: PropagationSource::SentryTrace,
            dropped_baggage: 0,
        }
    }

    /// Extracts an incoming trace from any iterator of `(name, value)` pairs.
    ///
    /// Names compare ASCII-case-insensitively. All `sentry-trace` values go through
    /// [`SentryTrace::from_header_values`] (first non-empty element); all `baggage` values are
    /// parsed as one list by [`Baggage::parse_values`]. The DSC holds the `sentry-` members, and
    /// is empty (frozen empty, spec 2.6) when none arrived; other members are kept in
    /// [`third_party_baggage`](Self::third_party_baggage).
    ///
    /// Returns `Ok(None)` when there is no non-empty `sentry-trace` element: `baggage` alone does
    /// not start a continuation (spec 2.6).
    ///
    /// # Errors
    ///
    /// Returns an [`ExtractError`] when the first `sentry-trace` element is malformed. The
    /// caller then starts a new trace, exactly as if no header had arrived (spec 1.3).
    ///
    /// # Examples
    ///
    /// ```
    /// use tracing_sentry::propagation::ExtractErrorKind;
    /// use tracing_sentry::PropagationContext;
    ///
    /// let ok = PropagationContext::from_pairs([
    ///     ("SENTRY-TRACE", "771a43a4192642f0b136d5159a501700-b7ad6b7169203331-0"),
    /// ])?;
    /// assert_eq!(ok.unwrap().sampled(), Some(false));
    ///
    /// assert_eq!(PropagationContext::from_pairs([("baggage", "sentry-release=1")])?, None);
    ///
    /// let err = PropagationContext::from_pairs([("sentry-trace", "1")]).unwrap_err();
    /// assert!(matches!(err.kind(), ExtractErrorKind::SentryTrace(_)));
    /// # Ok::<(), tracing_sentry::propagation::ExtractError>(())
    /// ```
    pub fn from_pairs<'a, I>(pairs: I) -> Result<Option<Self>, ExtractError>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        Self::from_pairs_with(ExtractOptions::default(), pairs)
    }

    /// Like [`from_pairs`](Self::from_pairs), with options.
    ///
    /// With [`ExtractOptions::accept_traceparent`], a W3C `traceparent` is used when no non-empty
    /// `sentry-trace` element arrived (it always ranks below `sentry-trace`, spec 5). Its sampled
    /// bit maps to `Some(true)`; a clear bit maps to `None` (deferred), not `Some(false)`: Sentry
    /// SDKs write flags `00` for a deferred decision too, and OpenTelemetry clears the bit for
    /// traces its head merely did not record, so `00` does not carry a negative decision and the
    /// local sampler decides.
    ///
    /// # Errors
    ///
    /// Returns an [`ExtractError`] when the first `sentry-trace` element is malformed or, when
    /// the `traceparent` fallback is used, when `traceparent` is malformed or repeated.
    ///
    /// # Examples
    ///
    /// ```
    /// use tracing_sentry::propagation::{ExtractOptions, PropagationSource};
    /// use tracing_sentry::PropagationContext;
    ///
    /// let mut options = ExtractOptions::default();
    /// options.accept_traceparent = true;
    /// let tp = ("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00");
    /// let ctx = PropagationContext::from_pairs_with(options, [tp])?.unwrap();
    /// assert_eq!(ctx.source(), PropagationSource::Traceparent);
    /// assert_eq!(ctx.sampled(), None);
    ///
    /// let bad = ("traceparent", "00-00000000000000000000000000000000-b7ad6b7169203331-01");
    /// assert!(PropagationContext::from_pairs_with(options, [bad]).is_err());
    /// # Ok::<(), tracing_sentry::propagation::ExtractError>(())
    /// ```
    pub fn from_pairs_with<'a, I>(
        options: ExtractOptions,
        pairs: I,
    ) -> Result<Option<Self>, ExtractError>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut sentry_trace = Vec::new();
        let mut baggage = Vec::new();
        let mut traceparent = Vec::new();
        for (name, value) in pairs {
            if name.eq_ignore_ascii_case(SENTRY_TRACE_NAME) {
                sentry_trace.push(Some(value));
            } else if name.eq_ignore_ascii_case(BAGGAGE_NAME) {
                baggage.push(value);
            } else if options.accept_traceparent && name.eq_ignore_ascii_case(TRACEPARENT_NAME) {
                traceparent.push(Some(value));
            }
        }
        Self::assemble(
            SentryTrace::from_maybe_values(sentry_trace),
            &traceparent,
            || Baggage::parse_values(baggage),
        )
    }

    /// Extracts an incoming trace from an `http::HeaderMap`, reading every value of each header.
    ///
    /// This uses the default [`ExtractOptions`] (no `traceparent` fallback): it knows no layer.
    /// The layer's own entry points,
    /// [`SentrySpanExt::set_parent_from_headers`](crate::SentrySpanExt::set_parent_from_headers)
    /// included, extract with the layer's
    /// [`accept_traceparent`](crate::SentryLayerBuilder::accept_traceparent); to do the same, use
    /// [`from_headers_with`](Self::from_headers_with).
    ///
    /// # Errors
    ///
    /// As [`from_pairs`](Self::from_pairs).
    ///
    /// # Examples
    ///
    /// ```
    /// use http::{HeaderMap, HeaderValue};
    /// use tracing_sentry::PropagationContext;
    ///
    /// let mut headers = HeaderMap::new();
    /// headers.append("sentry-trace", HeaderValue::from_static("771a43a4192642f0b136d5159a501700-b7ad6b7169203331"));
    /// headers.append("baggage", HeaderValue::from_static("sentry-environment=prod"));
    /// let ctx = PropagationContext::from_headers(&headers)?.unwrap();
    /// assert_eq!(ctx.dsc().environment(), Some("prod"));
    ///
    /// headers.insert("sentry-trace", HeaderValue::from_static("not-a-trace"));
    /// assert!(PropagationContext::from_headers(&headers).is_err());
    /// # Ok::<(), tracing_sentry::propagation::ExtractError>(())
    /// ```
    pub fn from_headers(headers: &http::HeaderMap) -> Result<Option<Self>, ExtractError> {
        Self::from_headers_with(ExtractOptions::default(), headers)
    }

    /// Like [`from_headers`](Self::from_headers), with options.
    ///
    /// A `sentry-trace` value that is not visible ASCII counts as malformed. A `baggage` value
    /// that is not UTF-8 is parsed with the bad bytes replaced by U+FFFD.
    ///
    /// # Errors
    ///
    /// As [`from_pairs_with`](Self::from_pairs_with).
    ///
    /// # Examples
    ///
    /// ```
    /// use http::{HeaderMap, HeaderValue};
    /// use tracing_sentry::propagation::ExtractOptions;
    /// use tracing_sentry::PropagationContext;
    ///
    /// let mut headers = HeaderMap::new();
    /// headers.insert("traceparent", HeaderValue::from_static("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"));
    /// assert_eq!(PropagationContext::from_headers(&headers)?, None);
    ///
    /// let mut options = ExtractOptions::default();
    /// options.accept_traceparent = true;
    /// let ctx = PropagationContext::from_headers_with(options, &headers)?.unwrap();
    /// assert_eq!(ctx.sampled(), Some(true));
    /// # Ok::<(), tracing_sentry::propagation::ExtractError>(())
    /// ```
    pub fn from_headers_with(
        options: ExtractOptions,
        headers: &http::HeaderMap,
    ) -> Result<Option<Self>, ExtractError> {
        let sentry_trace = headers.get_all(SENTRY_TRACE).iter().map(|v| v.as_bytes());
        let mut traceparent = Vec::new();
        if options.accept_traceparent {
            traceparent.extend(headers.get_all(TRACEPARENT).iter().map(|v| v.to_str().ok()));
        }
        Self::assemble(
            SentryTrace::from_byte_values(sentry_trace),
            &traceparent,
            || {
                let values = headers.get_all(BAGGAGE).iter().map(|v| v.as_bytes());
                Baggage::parse_byte_values(values, options.skip_third_party)
            },
        )
    }

    /// Applies the ranking: `sentry-trace` first, then (when collected) a single `traceparent`;
    /// baggage is parsed only once a trace is continued.
    fn assemble(
        sentry_trace: Result<Option<SentryTrace>, ParseSentryTraceError>,
        traceparent: &[Option<&str>],
        baggage: impl FnOnce() -> Baggage,
    ) -> Result<Option<Self>, ExtractError> {
        let (sentry_trace, source) = match sentry_trace {
            Err(e) => return Err(ExtractError::new(ExtractErrorKind::SentryTrace(e.kind()))),
            Ok(Some(st)) => (st, PropagationSource::SentryTrace),
            Ok(None) => match traceparent {
                [] => return Ok(None),
                [Some(value)] => {
                    let tp = value
                        .parse::<Traceparent>()
                        .map_err(|_| ExtractError::new(ExtractErrorKind::Traceparent))?;
                    let sampled = tp.sampled().then_some(true);
                    let st = SentryTrace::new(tp.trace_id(), tp.span_id(), sampled);
                    (st, PropagationSource::Traceparent)
                }
                // Not text, or repeated: W3C allows one `traceparent` only.
                _ => return Err(ExtractError::new(ExtractErrorKind::Traceparent)),
            },
        };
        let baggage = baggage();
        Ok(Some(Self {
            sentry_trace,
            dsc: Arc::new(baggage.sentry),
            third_party: baggage.third_party,
            third_party_members: saturating_u32(baggage.third_party_members),
            source,
            dropped_baggage: saturating_u32(baggage.dropped),
        }))
    }

    /// Returns the parsed `sentry-trace` value.
    ///
    /// # Examples
    ///
    /// ```
    /// let ctx = tracing_sentry::PropagationContext::from_pairs([("sentry-trace", " 771a43a4192642f0b136d5159a501700-b7ad6b7169203331 ")])?.unwrap();
    /// assert_eq!(ctx.sentry_trace().to_string(), "771a43a4192642f0b136d5159a501700-b7ad6b7169203331");
    /// # Ok::<(), tracing_sentry::propagation::ExtractError>(())
    /// ```
    pub fn sentry_trace(&self) -> &SentryTrace {
        &self.sentry_trace
    }

    /// Returns the incoming trace id.
    ///
    /// # Examples
    ///
    /// ```
    /// let ctx = tracing_sentry::PropagationContext::from_pairs([("sentry-trace", "771a43a4192642f0b136d5159a501700-b7ad6b7169203331")])?.unwrap();
    /// assert_eq!(ctx.trace_id().to_string(), "771a43a4192642f0b136d5159a501700");
    /// # Ok::<(), tracing_sentry::propagation::ExtractError>(())
    /// ```
    pub fn trace_id(&self) -> TraceId {
        self.sentry_trace.trace_id()
    }

    /// Returns the remote parent span id.
    ///
    /// # Examples
    ///
    /// ```
    /// let ctx = tracing_sentry::PropagationContext::from_pairs([("sentry-trace", "771a43a4192642f0b136d5159a501700-b7ad6b7169203331")])?.unwrap();
    /// assert_eq!(ctx.parent_span_id().to_string(), "b7ad6b7169203331");
    /// # Ok::<(), tracing_sentry::propagation::ExtractError>(())
    /// ```
    pub fn parent_span_id(&self) -> SpanId {
        self.sentry_trace.span_id()
    }

    /// Returns the incoming sampling decision (`None` = deferred).
    ///
    /// # Examples
    ///
    /// ```
    /// let ctx = tracing_sentry::PropagationContext::from_pairs([("sentry-trace", "771a43a4192642f0b136d5159a501700-b7ad6b7169203331")])?.unwrap();
    /// assert_eq!(ctx.sampled(), None);
    /// # Ok::<(), tracing_sentry::propagation::ExtractError>(())
    /// ```
    pub fn sampled(&self) -> Option<bool> {
        self.sentry_trace.sampled()
    }

    /// Returns the incoming (frozen) dynamic sampling context; empty when no `sentry-*` baggage
    /// arrived.
    ///
    /// # Examples
    ///
    /// ```
    /// let ctx = tracing_sentry::PropagationContext::from_pairs([("sentry-trace", "771a43a4192642f0b136d5159a501700-b7ad6b7169203331")])?.unwrap();
    /// assert!(ctx.dsc().is_empty(), "no baggage: frozen empty");
    /// # Ok::<(), tracing_sentry::propagation::ExtractError>(())
    /// ```
    pub fn dsc(&self) -> &DynamicSamplingContext {
        &self.dsc
    }

    /// Returns the incoming third-party baggage members (trimmed, verbatim), joined with `,`
    /// (see [`Baggage::third_party`]). Not forwarded by default (spec 2.5).
    ///
    /// # Examples
    ///
    /// ```
    /// let ctx = tracing_sentry::PropagationContext::from_pairs([
    ///     ("sentry-trace", "771a43a4192642f0b136d5159a501700-b7ad6b7169203331"),
    ///     ("baggage", "vendor=1;p, sentry-release=1"),
    /// ])?
    /// .unwrap();
    /// assert_eq!(ctx.third_party_baggage(), "vendor=1;p");
    /// # Ok::<(), tracing_sentry::propagation::ExtractError>(())
    /// ```
    pub fn third_party_baggage(&self) -> &str {
        self.third_party.as_str(&self.dsc)
    }

    /// Returns how many incoming baggage members were dropped (invalid, over the limits, or
    /// beyond the scanned prefix); see [`Baggage::dropped_members`].
    ///
    /// # Examples
    ///
    /// ```
    /// use tracing_sentry::PropagationContext;
    ///
    /// let ctx = PropagationContext::from_pairs([
    ///     ("sentry-trace", "771a43a4192642f0b136d5159a501700-b7ad6b7169203331"),
    ///     ("baggage", "novalue,sentry-release=100%,ok=1"),
    /// ])?
    /// .unwrap();
    /// assert_eq!(ctx.dropped_baggage_members(), 2);
    /// # Ok::<(), tracing_sentry::propagation::ExtractError>(())
    /// ```
    pub fn dropped_baggage_members(&self) -> usize {
        usize::try_from(self.dropped_baggage).unwrap_or(usize::MAX)
    }

    /// Returns which header the trace came from.
    ///
    /// # Examples
    ///
    /// ```
    /// use tracing_sentry::propagation::PropagationSource;
    ///
    /// let ctx = tracing_sentry::PropagationContext::from_pairs([("sentry-trace", "771a43a4192642f0b136d5159a501700-b7ad6b7169203331")])?.unwrap();
    /// assert_eq!(ctx.source(), PropagationSource::SentryTrace);
    /// # Ok::<(), tracing_sentry::propagation::ExtractError>(())
    /// ```
    pub fn source(&self) -> PropagationSource {
        self.source
    }

    /// Calls `f` with each header this context would send (`sentry-trace`, and `baggage` if the
    /// DSC is not empty).
    ///
    /// # Examples
    ///
    /// ```
    /// let ctx = tracing_sentry::PropagationContext::from_pairs([
    ///     ("sentry-trace", "771a43a4192642f0b136d5159a501700-b7ad6b7169203331-1"),
    ///     ("baggage", "sentry-release=1,vendor=x"),
    /// ])?
    /// .unwrap();
    /// let mut headers = http::HeaderMap::new();
    /// ctx.inject_into(|name, value| {
    ///     if let Ok(value) = http::HeaderValue::from_str(value) {
    ///         headers.insert(name, value);
    ///     }
    /// });
    /// assert_eq!(headers["sentry-trace"], "771a43a4192642f0b136d5159a501700-b7ad6b7169203331-1");
    /// assert_eq!(headers["baggage"], "sentry-release=1");
    /// # Ok::<(), tracing_sentry::propagation::ExtractError>(())
    /// ```
    pub fn inject_into(&self, mut f: impl FnMut(&'static str, &str)) {
        let mut buf = [0; 51];
        f(SENTRY_TRACE_NAME, self.sentry_trace.encode(&mut buf));
        if let Some(b) = self.dsc.to_baggage() {
            f(BAGGAGE_NAME, &b);
        }
    }
}

impl PartialEq for PropagationContext {
    fn eq(&self, other: &Self) -> bool {
        self.sentry_trace == other.sentry_trace
            && self.dsc == other.dsc
            && self.third_party_baggage() == other.third_party_baggage()
            && self.third_party_members == other.third_party_members
            && self.source == other.source
            && self.dropped_baggage == other.dropped_baggage
    }
}

impl fmt::Debug for PropagationContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PropagationContext")
            .field("sentry_trace", &self.sentry_trace)
            .field("dsc", &self.dsc.keys_debug())
            .field("third_party_members", &self.third_party_members)
            .field("source", &self.source)
            .field("dropped_baggage", &self.dropped_baggage)
            .finish()
    }
}

/// `n` as a `u32`, `u32::MAX` if it does not fit.
fn saturating_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

// === impl ExtractError ===

impl ExtractError {
    pub(crate) const fn new(kind: ExtractErrorKind) -> Self {
        Self { kind }
    }

    /// Returns what was wrong.
    ///
    /// # Examples
    ///
    /// ```
    /// use tracing_sentry::propagation::{ExtractErrorKind, SentryTraceErrorKind};
    /// use tracing_sentry::PropagationContext;
    ///
    /// let err = PropagationContext::from_pairs([("sentry-trace", "x-y")]).unwrap_err();
    /// assert_eq!(err.kind(), ExtractErrorKind::SentryTrace(SentryTraceErrorKind::TraceId));
    /// ```
    pub fn kind(&self) -> ExtractErrorKind {
        self.kind
    }
}

impl fmt::Debug for ExtractError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExtractError")
            .field("kind", &self.kind)
            .finish()
    }
}

impl fmt::Display for ExtractError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ExtractErrorKind::SentryTrace(k) => write!(f, "invalid sentry-trace header: {k:?}"),
            ExtractErrorKind::Traceparent => f.write_str("invalid traceparent header"),
        }
    }
}

impl std::error::Error for ExtractError {}

#[cfg(test)]
#[expect(
    clippy::type_complexity,
    reason = "vector tables are tuples of inputs and expectations"
)]
mod tests {
    use super::*;
    use http::{HeaderMap, HeaderValue};

    const ST: &str = "771a43a4192642f0b136d5159a501700-b7ad6b7169203331-1";
    const TP: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    fn with_tp() -> ExtractOptions {
        ExtractOptions {
            accept_traceparent: true,
            ..ExtractOptions::default()
        }
    }

    #[test]
    fn no_sentry_trace_means_no_context() {
        assert_eq!(PropagationContext::from_pairs([]), Ok(None));
        assert_eq!(
            PropagationContext::from_pairs([("sentry-trace", " , ")]),
            Ok(None)
        );
        assert_eq!(
            PropagationContext::from_pairs([("baggage", "sentry-release=1")]),
            Ok(None)
        );
        assert_eq!(
            PropagationContext::from_pairs([("traceparent", TP)]),
            Ok(None)
        );
    }

    #[test]
    fn header_names_are_case_insensitive_and_values_collected() {
        let ctx = PropagationContext::from_pairs([
            ("Baggage", "a=1,sentry-release=1"),
            ("SENTRY-TRACE", ""),
            ("sentry-trace", ST),
            ("BAGGAGE", "sentry-environment=prod, b=2"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(ctx.sentry_trace().to_string(), ST);
        assert_eq!(ctx.source(), PropagationSource::SentryTrace);
        assert_eq!(ctx.dsc().release(), Some("1"));
        assert_eq!(ctx.dsc().environment(), Some("prod"));
        assert_eq!(ctx.third_party_baggage(), "a=1,b=2");
    }

    #[test]
    fn sentry_trace_without_sentry_baggage_gives_an_empty_dsc() {
        let ctx = PropagationContext::from_pairs([("sentry-trace", ST), ("baggage", "a=1")])
            .unwrap()
            .unwrap();
        assert!(ctx.dsc().is_empty());
        let mut names = Vec::new();
        ctx.inject_into(|name, _| names.push(name));
        assert_eq!(names, ["sentry-trace"]);
    }

    #[test]
    fn a_malformed_sentry_trace_is_an_error_even_with_a_traceparent() {
        let err = PropagationContext::from_pairs_with(
            with_tp(),
            [("sentry-trace", "0"), ("traceparent", TP)],
        )
        .unwrap_err();
        assert_eq!(
            err.kind(),
            ExtractErrorKind::SentryTrace(SentryTraceErrorKind::Format)
        );
    }

    #[test]
    fn traceparent_ranks_below_sentry_trace() {
        let ctx = PropagationContext::from_pairs_with(
            with_tp(),
            [("traceparent", TP), ("sentry-trace", ST)],
        )
        .unwrap()
        .unwrap();
        assert_eq!(ctx.source(), PropagationSource::SentryTrace);
        assert_eq!(ctx.sentry_trace().to_string(), ST);
    }

    #[rustfmt::skip]
    const TRACEPARENT: &[(&[&str], Result<Option<bool>, ()>, &str)] = &[
        (&["00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"], Ok(Some(true)), "sampled bit"),
        (&["00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"], Ok(None),       "clear bit = deferred"),
        (&["00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-02"], Ok(None),       "other bits only"),
        (&["00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0"],  Err(()),        "malformed"),
        (&[TP, TP],                                                    Err(()),        "repeated"),
    ];

    #[test]
    fn traceparent_fallback_maps_flags_and_rejects_malformed_values() {
        for (values, expected, why) in TRACEPARENT {
            let pairs = values.iter().map(|v| ("traceparent", *v));
            let got = PropagationContext::from_pairs_with(with_tp(), pairs);
            let got = got.map(|c| c.unwrap().sampled()).map_err(|e| {
                assert_eq!(e.kind(), ExtractErrorKind::Traceparent, "{why}");
            });
            assert_eq!(got, *expected, "{why}");
        }
    }

    #[test]
    fn header_maps_read_every_value() {
        let mut headers = HeaderMap::new();
        headers.append("sentry-trace", HeaderValue::from_static(" "));
        headers.append("sentry-trace", HeaderValue::from_static(ST));
        headers.append("baggage", HeaderValue::from_static("sentry-release=1"));
        headers.append(
            "baggage",
            HeaderValue::from_static("sentry-environment=prod,x=1"),
        );
        let ctx = PropagationContext::from_headers(&headers).unwrap().unwrap();
        assert_eq!(ctx.sampled(), Some(true));
        assert_eq!(ctx.dsc().len(), 2);
        assert_eq!(ctx.third_party_baggage(), "x=1");
        let from_pairs = PropagationContext::from_pairs(
            headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.to_str().unwrap())),
        );
        assert_eq!(from_pairs, Ok(Some(ctx)));
    }

    #[test]
    fn non_ascii_header_values_never_panic() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "sentry-trace",
            HeaderValue::from_bytes(b"\xff\xfe").unwrap(),
        );
        assert_eq!(
            PropagationContext::from_headers(&headers)
                .unwrap_err()
                .kind(),
            ExtractErrorKind::SentryTrace(SentryTraceErrorKind::Format)
        );

        headers.insert("sentry-trace", HeaderValue::from_static(ST));
        headers.append("sentry-trace", HeaderValue::from_bytes(b"\xff").unwrap());
        headers.insert(
            "baggage",
            HeaderValue::from_bytes(b"sentry-release=caf\xe9,v=\xff,sentry-environment=prod")
                .unwrap(),
        );
        let ctx = PropagationContext::from_headers(&headers).unwrap().unwrap();
        assert_eq!(ctx.dsc().release(), Some("caf\u{FFFD}"));
        assert_eq!(ctx.dsc().environment(), Some("prod"));
        assert_eq!(ctx.third_party_baggage(), "v=\u{FFFD}");

        headers.insert("traceparent", HeaderValue::from_bytes(b"\xff").unwrap());
        headers.remove("sentry-trace");
        let err = PropagationContext::from_headers_with(with_tp(), &headers).unwrap_err();
        assert_eq!(err.kind(), ExtractErrorKind::Traceparent);
    }

    /// The context is moved whole on every continued request: its DSC behind an `Arc`, it is
    /// 72 bytes, and the moves are inline copies rather than calls to `memcpy`.
    #[test]
    fn the_context_stays_within_72_bytes() {
        assert!(std::mem::size_of::<PropagationContext>() <= 72);
    }

    #[test]
    fn dropped_baggage_members_are_counted() {
        let ctx = PropagationContext::from_pairs([
            ("sentry-trace", ST),
            ("baggage", "a,b,sentry-x=,ok=1"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(ctx.dropped_baggage_members(), 3);
    }

    #[test]
    fn errors_name_the_kind_only() {
        let err = PropagationContext::from_pairs([("sentry-trace", "secret-value")]).unwrap_err();
        assert!(!format!("{err:?} {err}").contains("secret"));
    }

    #[test]
    fn debug_shows_no_baggage_values_and_no_third_party_members() {
        let ctx = PropagationContext::from_pairs([
            ("sentry-trace", ST),
            (
                "baggage",
                "sentry-release=secret-release,sentry-user_segment=vip,tok=s3cr3t;p",
            ),
        ])
        .unwrap()
        .unwrap();
        let debug = format!("{ctx:?}");
        for secret in ["secret-release", "vip", "tok", "s3cr3t"] {
            assert!(!debug.contains(secret), "{secret} in {debug}");
        }
        assert!(debug.contains("\"release\": <redacted>"), "{debug}");
        assert!(debug.contains("third_party_members: 1"), "{debug}");
    }
}
