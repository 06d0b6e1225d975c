//! [`SentrySpanExt`]: remote parents, trace context and outgoing headers for a `tracing::Span`.
//!
//! The methods reach the span's data through the registry (see [`access`](super::access)): the root
//! subscriber must be a `Registry`. With any other subscriber they return
//! [`SetParentError::LayerNotFound`], `None` or empty headers.

use std::fmt;

use http::HeaderMap;
use tracing::Span;

use crate::propagation::{ExtractError, PropagationContext};
use crate::remote_parent::{set_parent_from_headers_on, set_parent_on};
use crate::span::access::{
    config_of, insert_headers, with_registry_span, with_span_data, Unreachable,
};
use crate::span::trace_context::TraceContext;

mod sealed {
    pub trait Sealed {}
    impl Sealed for tracing::Span {}
}

/// Sentry trace propagation for a [`tracing::Span`].
///
/// This trait is sealed: it is implemented for [`tracing::Span`] only.
///
/// # Examples
///
/// Continuing the caller's trace from inside an `#[instrument]` handler:
///
/// ```
/// use tracing_sentry::{SentryLayer, SentrySpanExt};
/// use tracing_subscriber::prelude::*;
///
/// #[tracing::instrument(skip(headers))]
/// fn handle(headers: &http::HeaderMap) -> http::HeaderMap {
///     let span = tracing::Span::current();
///     if let Err(err) = span.set_parent_from_headers(headers) {
///         tracing::warn!(%err, "ignoring malformed trace headers");
///     }
///     tracing_sentry::current_headers() // for the next hop
/// }
///
/// let subscriber = tracing_subscriber::registry().with(SentryLayer::new());
/// tracing::subscriber::with_default(subscriber, || {
///     let mut incoming = http::HeaderMap::new();
///     incoming.insert(
///         "sentry-trace",
///         "771a43a4192642f0b136d5159a501700-b7ad6b7169203331-1".parse().unwrap(),
///     );
///     let outgoing = handle(&incoming);
///     let value = outgoing["sentry-trace"].to_str().unwrap();
///     assert!(value.starts_with("771a43a4192642f0b136d5159a501700-"));
///     assert!(value.ends_with("-1"));
/// });
/// ```
pub trait SentrySpanExt: sealed::Sealed {
    /// Makes `parent` the remote parent of this span: the span continues the caller's trace
    /// (trace id, parent span id, sampling decision, frozen dynamic sampling context) and
    /// becomes the root of a transaction.
    ///
    /// It works on a span that is already entered, such as `Span::current()` inside an
    /// `#[instrument]` function, as long as the span has no children yet and its trace context
    /// has not left the process (no outgoing headers were produced for it). An incoming trace
    /// from another organization is not continued when the org-id rule forbids it (strict trace
    /// continuation): the span is then left exactly as it was (it stays the root of its own
    /// trace), and [`SetParentError::OrgMismatch`] says so (the case is also counted in
    /// [`Stats::traces_not_continued_org_mismatch`](crate::Stats)).
    ///
    /// If the [`traces_sampler`](crate::SentryLayerBuilder::traces_sampler) panics while the
    /// continued span is sampled, the panic is caught and counted in
    /// [`Stats::sampler_panics`](crate::Stats), and the trace is continued as not sampled.
    ///
    /// A span that started recording before its remote parent arrived keeps its start time and
    /// fields. A span that was not recording (its own trace was unsampled) and is sampled once
    /// continued starts recording now: fields given at creation are not known any more. To keep
    /// them, create the span inside [`continue_trace`](crate::continue_trace).
    ///
    /// # Errors
    ///
    /// - [`SetParentError::OrgMismatch`] if the org-id rule refused the incoming trace (the
    ///   span is unchanged);
    /// - [`SetParentError::AlreadyStarted`] if the span has children or has propagated;
    /// - [`SetParentError::SpanDisabled`] if the span is disabled;
    /// - [`SetParentError::LayerNotFound`] if no [`SentryLayer`](crate::SentryLayer) records
    ///   this span (no layer, a filter excluded it, or the root subscriber is not a `Registry`).
    fn set_parent(&self, parent: PropagationContext) -> Result<(), SetParentError>;

    /// Reads `sentry-trace` and `baggage` from `headers` and makes them the remote parent of
    /// this span, as [`set_parent`](Self::set_parent) does.
    ///
    /// A missing `sentry-trace` header is not an error: the span stays the root of a new trace.
    ///
    /// # Errors
    ///
    /// [`SetParentError::InvalidHeaders`] if `sentry-trace` is present but malformed (the span
    /// keeps working as the root of a new trace; the case is counted), and every error of
    /// [`set_parent`](Self::set_parent).
    fn set_parent_from_headers(&self, headers: &HeaderMap) -> Result<(), SetParentError>;

    /// Returns this span's trace context, or `None` if no layer records it.
    fn trace_context(&self) -> Option<TraceContext>;

    /// Returns the outgoing `sentry-trace` and `baggage` headers (and `traceparent`, if
    /// configured) naming this span as the parent; empty if no layer records it.
    ///
    /// After this, the span's trace context has left the process: its dynamic sampling context
    /// is frozen and it no longer accepts a remote parent (see the side effects of
    /// [`current_headers`](crate::current_headers)).
    fn propagation_headers(&self) -> HeaderMap;
}

/// The error returned by [`SentrySpanExt::set_parent`] and
/// [`SentrySpanExt::set_parent_from_headers`].
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SetParentError {
    /// No [`SentryLayer`](crate::SentryLayer) records this span: no layer is installed, a
    /// filter excluded the span, or the root subscriber is not a
    /// [`Registry`](tracing_subscriber::Registry).
    LayerNotFound,
    /// The span is disabled (for example `Span::none()`, or filtered out by every layer).
    SpanDisabled,
    /// The span already has children, or its trace context has already left the process, so
    /// changing its trace now would split the trace.
    AlreadyStarted,
    /// A `sentry-trace` (or accepted `traceparent`) header was present but malformed.
    InvalidHeaders(ExtractError),
    /// The incoming trace belongs to another Sentry organization and the org-id rule (see
    /// [`strict_trace_continuation`](crate::SentryLayerBuilder::strict_trace_continuation))
    /// refused to continue it. The span was left as it was: it stays the root of its own trace.
    OrgMismatch,
}

impl fmt::Display for SetParentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LayerNotFound => f.write_str("no tracing-sentry layer records this span"),
            Self::SpanDisabled => f.write_str("the span is disabled"),
            Self::AlreadyStarted => {
                f.write_str("the span already has children or has propagated its trace context")
            }
            Self::InvalidHeaders(_) => f.write_str("malformed incoming trace headers"),
            Self::OrgMismatch => {
                f.write_str("the incoming trace belongs to another organization: not continued")
            }
        }
    }
}

impl fmt::Debug for SetParentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LayerNotFound => f.write_str("LayerNotFound"),
            Self::SpanDisabled => f.write_str("SpanDisabled"),
            Self::AlreadyStarted => f.write_str("AlreadyStarted"),
            Self::InvalidHeaders(err) => f.debug_tuple("InvalidHeaders").field(err).finish(),
            Self::OrgMismatch => f.write_str("OrgMismatch"),
        }
    }
}

impl std::error::Error for SetParentError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::InvalidHeaders(err) => Some(err),
            _ => None,
        }
    }
}

impl From<Unreachable> for SetParentError {
    fn from(err: Unreachable) -> Self {
        match err {
            Unreachable::NoRegistry => Self::LayerNotFound,
            Unreachable::Disabled => Self::SpanDisabled,
        }
    }
}

impl SentrySpanExt for Span {
    fn set_parent(&self, parent: PropagationContext) -> Result<(), SetParentError> {
        with_registry_span(self, |span| {
            let config = config_of(&span).ok_or(SetParentError::LayerNotFound)?;
            set_parent_on(&span, &config, parent)
        })?
    }

    fn set_parent_from_headers(&self, headers: &HeaderMap) -> Result<(), SetParentError> {
        with_registry_span(self, |span| set_parent_from_headers_on(&span, headers))?
    }

    fn trace_context(&self) -> Option<TraceContext> {
        with_registry_span(self, |span| with_span_data(&span, TraceContext::of))
            .ok()
            .flatten()
    }

    fn propagation_headers(&self) -> HeaderMap {
        let mut map = HeaderMap::new();
        let _ = with_registry_span(self, |span| {
            with_span_data(&span, |data| insert_headers(data, &mut map, false))
        });
        map
    }
}
