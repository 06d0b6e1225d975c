//! [`TraceContext`]: a read-only snapshot of a span's trace context.

use std::fmt;
use std::sync::Arc;

use crate::id::{SpanId, TraceId};
use crate::propagation::{DynamicSamplingContext, SentryTrace};
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use crate::span::access::with_span_data;
use crate::span::data::SpanData;
use crate::span::lazy_root::LazyRoot;

/// A read-only snapshot of one span's Sentry trace context, for log correlation and error
/// reports.
///
/// Get it with [`SentrySpanExt::trace_context`](crate::SentrySpanExt::trace_context) or
/// [`current_trace_context`](crate::current_trace_context).
///
/// # Examples
///
/// ```
/// use tracing_sentry::{SentryLayer, SentrySpanExt};
/// use tracing_subscriber::prelude::*;
///
/// let subscriber = tracing_subscriber::registry().with(SentryLayer::new());
/// tracing::subscriber::with_default(subscriber, || {
///     let root = tracing::info_span!("request");
///     let child = tracing::info_span!(parent: &root, "query");
///     let (root_ctx, child_ctx) = (root.trace_context().unwrap(), child.trace_context().unwrap());
///     assert_eq!(root_ctx.trace_id(), child_ctx.trace_id());
///     assert_eq!(child_ctx.parent_span_id(), Some(root_ctx.span_id()));
///     assert_eq!(root_ctx.parent_span_id(), None); // a root
///     assert_eq!(child_ctx.sampled(), None); // no decision without tracing configured
///     assert_eq!(
///         child_ctx.to_sentry_trace().to_string(),
///         format!("{}-{}", child_ctx.trace_id(), child_ctx.span_id()),
///     );
///     println!("trace_id={}", child_ctx.trace_id());
/// });
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceContext {
    trace_id: TraceId,
    span_id: SpanId,
    parent_span_id: Option<SpanId>,
    sampled: Option<bool>,
}

impl TraceContext {
    pub(crate) fn new(
        trace_id: TraceId,
        span_id: SpanId,
        parent_span_id: Option<SpanId>,
        sampled: Option<bool>,
    ) -> Self {
        Self {
            trace_id,
            span_id,
            parent_span_id,
            sampled,
        }
    }

    pub(crate) fn of(data: &SpanData) -> Self {
        Self {
            trace_id: data.trace_id(),
            span_id: data.span_id,
            parent_span_id: data.parent_span_id,
            sampled: data.sampled(),
        }
    }

    /// Returns the trace context of a span that another layer (or a formatter) was given, as
    /// a [`SpanRef`] of any subscriber stack built on a `Registry`; `None` if no
    /// [`SentryLayer`](crate::SentryLayer) gave it (or an ancestor) a context. A span of an
    /// unsampled trace gets its own id here, as when it propagates.
    ///
    /// # Examples
    ///
    /// ```
    /// use tracing_sentry::{SentryLayer, TraceContext};
    /// use tracing_subscriber::layer::{Context, Layer};
    /// use tracing_subscriber::prelude::*;
    /// use tracing_subscriber::registry::LookupSpan;
    ///
    /// struct PrintTraceIds;
    /// impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> Layer<S> for PrintTraceIds {
    ///     fn on_event(&self, event: &tracing::Event<'_>, ctx: Context<'_, S>) {
    ///         if let Some(ctx) = ctx.event_span(event).and_then(|s| TraceContext::from_span_ref(&s)) {
    ///             println!("trace_id={} span_id={}", ctx.trace_id(), ctx.span_id());
    ///         }
    ///     }
    /// }
    ///
    /// let subscriber = tracing_subscriber::registry().with(SentryLayer::new()).with(PrintTraceIds);
    /// tracing::subscriber::with_default(subscriber, || {
    ///     tracing::info_span!("job").in_scope(|| tracing::info!("working"));
    /// });
    /// ```
    pub fn from_span_ref<'a, S: LookupSpan<'a>>(span: &SpanRef<'a, S>) -> Option<Self> {
        if let Some(lazy) = span.extensions().get::<LazyRoot>() {
            return Some(lazy.trace_context());
        }
        with_span_data(span, Self::of)
    }

    /// Returns the trace id, shared by every span of the distributed trace.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use tracing_sentry::{SentryLayer, SentrySpanExt};
    /// use tracing_subscriber::prelude::*;
    ///
    /// let subscriber = tracing_subscriber::registry().with(SentryLayer::builder().traces_sample_rate(1.0).build()?.0);
    /// tracing::subscriber::with_default(subscriber, || {
    ///     let ctx = tracing::info_span!("job").trace_context().unwrap();
    ///     assert_eq!(ctx.trace_id().to_string().len(), 32);
    /// });
    /// # Ok::<(), tracing_sentry::BuildError>(())
    /// ```
    pub fn trace_id(&self) -> TraceId {
        self.trace_id
    }

    /// Returns this span's id.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use tracing_sentry::{SentryLayer, SentrySpanExt};
    /// use tracing_subscriber::prelude::*;
    ///
    /// let subscriber = tracing_subscriber::registry().with(SentryLayer::builder().traces_sample_rate(1.0).build()?.0);
    /// tracing::subscriber::with_default(subscriber, || {
    ///     let ctx = tracing::info_span!("job").trace_context().unwrap();
    ///     assert_eq!(ctx.span_id().to_string().len(), 16);
    /// });
    /// # Ok::<(), tracing_sentry::BuildError>(())
    /// ```
    pub fn span_id(&self) -> SpanId {
        self.span_id
    }

    /// Returns the parent's span id: the local parent, or the remote parent for a span that
    /// continues a trace; `None` for the root of a new trace.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use tracing_sentry::{SentryLayer, SentrySpanExt};
    /// use tracing_subscriber::prelude::*;
    ///
    /// let subscriber = tracing_subscriber::registry().with(SentryLayer::builder().traces_sample_rate(1.0).build()?.0);
    /// tracing::subscriber::with_default(subscriber, || {
    ///     let ctx = tracing::info_span!("job").trace_context().unwrap();
    ///     assert_eq!(ctx.parent_span_id(), None); // a root
    /// });
    /// # Ok::<(), tracing_sentry::BuildError>(())
    /// ```
    pub fn parent_span_id(&self) -> Option<SpanId> {
        self.parent_span_id
    }

    /// Returns the sampling decision: `None` while it is deferred (tracing not configured here
    /// and no decision arrived).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use tracing_sentry::{SentryLayer, SentrySpanExt};
    /// use tracing_subscriber::prelude::*;
    ///
    /// let subscriber = tracing_subscriber::registry().with(SentryLayer::builder().traces_sample_rate(1.0).build()?.0);
    /// tracing::subscriber::with_default(subscriber, || {
    ///     let ctx = tracing::info_span!("job").trace_context().unwrap();
    ///     assert_eq!(ctx.sampled(), Some(true));
    /// });
    /// # Ok::<(), tracing_sentry::BuildError>(())
    /// ```
    pub fn sampled(&self) -> Option<bool> {
        self.sampled
    }

    /// Returns the `sentry-trace` value naming this span as the parent.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use tracing_sentry::{SentryLayer, SentrySpanExt};
    /// use tracing_subscriber::prelude::*;
    ///
    /// let subscriber = tracing_subscriber::registry().with(SentryLayer::builder().traces_sample_rate(1.0).build()?.0);
    /// tracing::subscriber::with_default(subscriber, || {
    ///     let ctx = tracing::info_span!("job").trace_context().unwrap();
    ///     let header = ctx.to_sentry_trace().to_string();
    ///     assert!(header.ends_with("-1"));
    /// });
    /// # Ok::<(), tracing_sentry::BuildError>(())
    /// ```
    pub fn to_sentry_trace(&self) -> SentryTrace {
        SentryTrace::new(self.trace_id, self.span_id, self.sampled)
    }
}

impl fmt::Debug for TraceContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TraceContext")
            .field("trace_id", &format_args!("{}", self.trace_id))
            .field("span_id", &format_args!("{}", self.span_id))
            .field(
                "parent_span_id",
                &self.parent_span_id.map(|id| id.to_string()),
            )
            .field("sampled", &self.sampled)
            .finish()
    }
}

/// A read-only look at the current span's trace, from [`peek_current_context`](crate::peek_current_context):
/// for logging, with none of the side effects of producing headers.
///
/// Unlike [`current_headers`](crate::current_headers) and
/// [`current_trace_context`](crate::current_trace_context), looking does not freeze the dynamic
/// sampling context, does not give the span an id of its own, and does not stop a remote parent
/// from being attached later. So what it shows may still change: a span that has not
/// propagated has no [`span_id`](Self::span_id) yet, and an unfrozen
/// [`dsc`](Self::dsc) is the one that *would* be sent if the context left the process now.
///
/// `Debug` shows the DSC's keys, not its values.
///
/// # Examples
///
/// ```
/// use tracing_sentry::SentryLayer;
/// use tracing_subscriber::prelude::*;
///
/// let subscriber = tracing_subscriber::registry().with(SentryLayer::new());
/// tracing::subscriber::with_default(subscriber, || {
///     let _root = tracing::info_span!("request").entered();
///     let peek = tracing_sentry::peek_current_context().unwrap();
///     println!("trace_id={}", peek.trace_id());
///     assert!(!peek.is_dsc_frozen());
///     assert_eq!(peek.dsc().trace_id(), Some(peek.trace_id().to_string().as_str()));
///
///     let _ = tracing_sentry::current_headers(); // this freezes it
///     assert!(tracing_sentry::peek_current_context().unwrap().is_dsc_frozen());
/// });
/// ```
#[derive(Clone)]
pub struct ContextSnapshot {
    pub(crate) trace_id: TraceId,
    pub(crate) span_id: Option<SpanId>,
    pub(crate) sampled: Option<bool>,
    pub(crate) dsc: Arc<DynamicSamplingContext>,
    pub(crate) dsc_frozen: bool,
}

impl ContextSnapshot {
    /// Returns the trace id.
    pub fn trace_id(&self) -> TraceId {
        self.trace_id
    }

    /// Returns the span's own id, or `None` if it has none yet (a span in an unrecorded trace
    /// gets one only when its context is first asked for).
    pub fn span_id(&self) -> Option<SpanId> {
        self.span_id
    }

    /// Returns the sampling decision (`None` while deferred).
    pub fn sampled(&self) -> Option<bool> {
        self.sampled
    }

    /// Returns the dynamic sampling context: the frozen one, or the one that would be frozen
    /// if the context left the process now.
    pub fn dsc(&self) -> &DynamicSamplingContext {
        &self.dsc
    }

    /// Returns whether the dynamic sampling context is frozen (it came with the incoming trace,
    /// or the context has already left the process).
    pub fn is_dsc_frozen(&self) -> bool {
        self.dsc_frozen
    }
}

impl fmt::Debug for ContextSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContextSnapshot")
            .field("trace_id", &format_args!("{}", self.trace_id))
            .field("span_id", &self.span_id.map(|id| id.to_string()))
            .field("sampled", &self.sampled)
            .field(
                "dsc_keys",
                &self.dsc.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("dsc_frozen", &self.dsc_frozen)
            .finish()
    }
}
