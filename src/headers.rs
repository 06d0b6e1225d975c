//! Outgoing trace headers for the current span: [`current_headers`] and friends.

use http::header::HeaderMap;

use crate::span::access::{insert_headers, with_current, with_current_span, with_nearest_data};
use crate::span::trace_context::{ContextSnapshot, TraceContext};

/// Returns the outgoing `sentry-trace` and `baggage` headers for the current span, ready to
/// put on an `http::Request` or any HTTP client's request.
///
/// `baggage` carries only Sentry's members (the frozen dynamic sampling context): incoming
/// third-party members are not forwarded unless
/// [`forward_third_party_baggage`](crate::SentryLayerBuilder::forward_third_party_baggage) is
/// on. `traceparent` is added when
/// [`propagate_traceparent`](crate::SentryLayerBuilder::propagate_traceparent) is on.
///
/// The map is empty when there is no current span or no [`SentryLayer`](crate::SentryLayer).
/// This function never panics. It does not look at
/// [trace propagation targets](crate::SentryLayerBuilder::trace_propagation_targets), because it
/// does not know the URL: use [`headers_for_url`] for that.
///
/// # Side effects
///
/// Producing headers means the trace context leaves the process, as in every Sentry SDK:
/// - the dynamic sampling context of the trace is **frozen** (for a trace this service started,
///   it is built now, with the transaction name known now; a later `sentry.name` renames the
///   transaction but not the DSC);
/// - the current span and its ancestors no longer accept a remote parent:
///   [`SentrySpanExt::set_parent`](crate::SentrySpanExt::set_parent) returns
///   [`AlreadyStarted`](crate::SetParentError::AlreadyStarted) afterwards.
///
/// [`inject_current_headers`], [`headers_for_url`] and
/// [`SentrySpanExt::propagation_headers`](crate::SentrySpanExt::propagation_headers) do the
/// same. To look at the context for logging without these effects, use
/// [`peek_current_context`].
///
/// # Examples
///
/// ```
/// use tracing_sentry::SentryLayer;
/// use tracing_subscriber::prelude::*;
///
/// assert!(tracing_sentry::current_headers().is_empty()); // no layer, no span
///
/// let subscriber = tracing_subscriber::registry().with(SentryLayer::new());
/// tracing::subscriber::with_default(subscriber, || {
///     let _guard = tracing::info_span!("checkout").entered();
///     let headers = tracing_sentry::current_headers();
///     let sentry_trace = headers["sentry-trace"].to_str().unwrap();
///     assert_eq!(sentry_trace.len(), 32 + 1 + 16); // no decision without tracing configured
///     assert!(headers["baggage"].to_str().unwrap().contains("sentry-trace_id="));
/// });
/// ```
pub fn current_headers() -> HeaderMap {
    // Room for `sentry-trace`, `baggage` and `traceparent` without growing.
    let mut map = HeaderMap::with_capacity(3);
    with_current(|data| insert_headers(data, &mut map, false));
    map
}

/// Adds the current span's trace headers to `headers`, keeping what is there: `sentry-trace`
/// is replaced, Sentry's `baggage` members are merged into an existing `baggage` header
/// (foreign members kept verbatim, old `sentry-*` members replaced, W3C limits kept), and an
/// existing `traceparent` is left alone.
///
/// Does nothing when there is no current span or no [`SentryLayer`](crate::SentryLayer).
///
/// # Examples
///
/// ```
/// use tracing_sentry::SentryLayer;
/// use tracing_subscriber::prelude::*;
///
/// let subscriber = tracing_subscriber::registry().with(SentryLayer::new());
/// tracing::subscriber::with_default(subscriber, || {
///     let _guard = tracing::info_span!("checkout").entered();
///     let mut headers = http::HeaderMap::new();
///     headers.insert("baggage", "tenant=t42;ttl=5".parse().unwrap());
///     tracing_sentry::inject_current_headers(&mut headers);
///     let baggage = headers["baggage"].to_str().unwrap();
///     assert!(baggage.starts_with("tenant=t42;ttl=5,sentry-"));
/// });
/// ```
pub fn inject_current_headers(headers: &mut HeaderMap) {
    with_current(|data| insert_headers(data, headers, true));
}

/// Returns [`current_headers`] if the trace propagation targets allow sending them to `url`,
/// and an empty map otherwise.
///
/// # Examples
///
/// ```
/// use tracing_sentry::propagation::{PropagationTarget, PropagationTargets};
/// use tracing_sentry::SentryLayer;
/// use tracing_subscriber::prelude::*;
///
/// let (layer, _guard) = SentryLayer::builder()
///     .trace_propagation_targets(PropagationTargets::new([
///         PropagationTarget::substring("api.internal"),
///     ]))
///     .build()?;
/// let subscriber = tracing_subscriber::registry().with(layer);
/// tracing::subscriber::with_default(subscriber, || {
///     let _guard = tracing::info_span!("checkout").entered();
///     assert!(!tracing_sentry::headers_for_url("https://api.internal/pay").is_empty());
///     assert!(tracing_sentry::headers_for_url("https://thirdparty.example/").is_empty());
/// });
/// # Ok::<(), tracing_sentry::BuildError>(())
/// ```
pub fn headers_for_url(url: &str) -> HeaderMap {
    let mut map = HeaderMap::new();
    inject_headers_for_url(url, &mut map);
    map
}

/// Like [`inject_current_headers`], but only if the trace propagation targets allow sending
/// trace headers to `url`.
///
/// # Examples
///
/// ```
/// let mut headers = http::HeaderMap::new();
/// tracing_sentry::inject_headers_for_url("https://example.com/", &mut headers);
/// assert!(headers.is_empty()); // no current span here
/// ```
pub fn inject_headers_for_url(url: &str, headers: &mut HeaderMap) {
    with_current(|data| {
        if data.root.config.targets.matches(url) {
            insert_headers(data, headers, true);
        }
    });
}

/// Returns the current span's [`TraceContext`], or `None` when there is no current span or no
/// [`SentryLayer`](crate::SentryLayer): the trace id to put on a log line or an error report.
///
/// It does not freeze the dynamic sampling context, but it gives the span an id of its own if
/// it had none (a span in an unrecorded trace), which ends
/// [`set_parent`](crate::SentrySpanExt::set_parent) for its ancestors. For a look with no side
/// effect at all, use [`peek_current_context`].
///
/// # Examples
///
/// ```
/// use tracing_sentry::SentryLayer;
/// use tracing_subscriber::prelude::*;
///
/// let subscriber = tracing_subscriber::registry().with(SentryLayer::new());
/// tracing::subscriber::with_default(subscriber, || {
///     assert!(tracing_sentry::current_trace_context().is_none());
///     let _guard = tracing::info_span!("job").entered();
///     let ctx = tracing_sentry::current_trace_context().unwrap();
///     assert_eq!(ctx.parent_span_id(), None);
/// });
/// ```
pub fn current_trace_context() -> Option<TraceContext> {
    let mut out = None;
    with_current(|data| out = Some(TraceContext::of(data)));
    out
}

/// Looks at the current span's trace without any side effect: for logging. `None` when there is
/// no current span or no [`SentryLayer`](crate::SentryLayer).
///
/// Unlike [`current_headers`] (see its side effects) and [`current_trace_context`], it does not
/// freeze the dynamic sampling context, give the span an id, or end
/// [`set_parent`](crate::SentrySpanExt::set_parent). See [`ContextSnapshot`].
///
/// # Examples
///
/// ```
/// use tracing_sentry::{SentryLayer, SentrySpanExt};
/// use tracing_subscriber::prelude::*;
///
/// let subscriber = tracing_subscriber::registry().with(SentryLayer::new());
/// tracing::subscriber::with_default(subscriber, || {
///     let span = tracing::info_span!("request");
///     let _g = span.enter();
///     let peek = tracing_sentry::peek_current_context().unwrap();
///     tracing::info!(trace_id = %peek.trace_id(), "handling");
///     // Looking changed nothing: the caller's trace can still be continued.
///     let incoming: http::HeaderMap = [(
///         tracing_sentry::SENTRY_TRACE,
///         "771a43a4192642f0b136d5159a501700-b7ad6b7169203331-1".parse().unwrap(),
///     )]
///     .into_iter()
///     .collect();
///     assert_eq!(span.set_parent_from_headers(&incoming), Ok(()));
/// });
/// ```
pub fn peek_current_context() -> Option<ContextSnapshot> {
    let mut out = None;
    with_current_span(|span| {
        out = with_nearest_data(&span, |data, own| {
            let (dsc, dsc_frozen) = data.root.peek_dsc();
            ContextSnapshot {
                trace_id: data.trace_id(),
                span_id: own.then_some(data.span_id),
                sampled: data.sampled(),
                dsc,
                dsc_frozen,
            }
        });
    });
    out
}
