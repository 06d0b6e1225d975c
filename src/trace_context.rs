//! [`TraceContext`]: a read-only snapshot of a span's trace context.

use std::fmt;

use crate::id::{SpanId, TraceId};
use crate::propagation::SentryTrace;
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use crate::span_data::SpanData;
use crate::span_ext::with_span_data;

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
    pub(crate) fn of(data: &SpanData) -> Self {
        Self {
            trace_id: data.trace_id,
            span_id: data.span_id,
            parent_span_id: data.parent_span_id,
            sampled: data.sampled,
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
        with_span_data(span, Self::of)
    }

    /// Returns the trace id, shared by every span of the distributed trace.
    ///
    /// # Examples
    ///
    /// ```
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
    /// ```
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
    /// ```
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
    /// ```
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
    /// ```
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
