//! [`SentryLayer`]: what happens on each span callback.
//!
//! # A span's life, callback by callback
//!
//! - `on_new_span`: a local root gets a [`SpanData`] with a new [`RootState`]
//!   (`SpanData::new_root`: trace origin, head sampling, recording); a child of a recorded span
//!   gets a recording `SpanData`; a child in an unrecorded trace gets nothing (it borrows its
//!   ancestor's context until it propagates, see `span_access::with_span_data`).
//! - `on_record`: fields go into the span's [`Recording`]; `sentry.name`/`sentry.source` on a
//!   root rename its transaction (`RootState::set_name`).
//! - `on_follows_from`, `on_event` (level `ERROR`): a link, or the error mark, on the recording.
//! - `on_enter`/`on_exit`: not implemented; nothing to do.
//! - **Finishing** happens in no callback: `on_close` is not implemented either. When the
//!   registry closes a span it drops the span's extensions, and `Drop for SpanData` finishes it
//!   (a child's record goes into its root's buffer; a root's record waits there). When the last
//!   span of a local root is gone, `Drop for RootState` sends the transaction. So spans that
//!   record nothing cost nothing at close, and a child that outlives its root's handle still
//!   lands in the transaction.
//!
//! [`RootState`]: crate::root::RootState

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use tracing_core::span::{Attributes, Id, Record};
use tracing_core::{Event, Level, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::{LookupSpan, SpanRef};
use tracing_subscriber::Registry;

use crate::builder::SentryLayerBuilder;
use crate::config::Config;
use crate::field::FieldValue;
use crate::propagation::PropagationContext;
use crate::recording::{declares_name, requested_name, FieldVisitor, Property, Recording};
use crate::span_data::{admit_remote, HasChildren, RootInit, SpanData};
use crate::stats::Stats;

/// A [`tracing_subscriber::Layer`] that gives every span a Sentry trace context and reports
/// sampled spans to Sentry as transactions.
///
/// The trace context lives in each span's extensions, derived from the span tree the registry
/// already keeps, so it is right in async code and across threads without any thread-local
/// scope. See the [crate documentation](crate) for the whole picture.
///
/// # Examples
///
/// ```
/// use tracing_sentry::SentryLayer;
/// use tracing_subscriber::prelude::*;
///
/// // Propagation only: continue incoming traces and produce outgoing headers, export nothing.
/// let subscriber = tracing_subscriber::registry().with(SentryLayer::new());
/// tracing::subscriber::with_default(subscriber, || {
///     let _span = tracing::info_span!("handler").entered();
///     let headers = tracing_sentry::current_headers();
///     assert!(headers.contains_key("sentry-trace"));
/// });
/// ```
#[derive(Clone)]
pub struct SentryLayer {
    config: Arc<Config>,
    /// The dispatcher this layer is part of (feature `sentry`: to find an event's span from a
    /// `sentry` capture made inside another layer's callback).
    #[cfg(feature = "sentry")]
    dispatch: Arc<std::sync::OnceLock<tracing_core::dispatcher::WeakDispatch>>,
}

thread_local! {
    /// A remote parent waiting for the next span created on this thread (see [`continue_trace`]).
    static PENDING: RefCell<Option<PropagationContext>> = const { RefCell::new(None) };
    /// A cheap check for `PENDING`, read on every span creation.
    static HAS_PENDING: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` so that the first span it creates continues the trace of `parent`.
///
/// That span becomes a local root with `parent` as its remote parent, even if it has a local
/// parent, and the fields it is created with are recorded and shown to the sampler. This is the
/// cheapest way to continue a trace, and what the `tower` integration does. To continue a trace
/// from a span that already exists (for example inside an `#[instrument]` function), use
/// [`SentrySpanExt::set_parent`](crate::SentrySpanExt::set_parent) instead.
///
/// If `f` creates no span, the parent is discarded when `f` returns.
///
/// # Examples
///
/// ```
/// use tracing_sentry::{PropagationContext, SentryLayer, SentrySpanExt};
/// use tracing_subscriber::prelude::*;
///
/// let incoming = PropagationContext::from_pairs([(
///     "sentry-trace",
///     "771a43a4192642f0b136d5159a501700-b7ad6b7169203331-1",
/// )])?
/// .expect("a sentry-trace header");
///
/// let subscriber = tracing_subscriber::registry().with(SentryLayer::new());
/// tracing::subscriber::with_default(subscriber, || {
///     let span = tracing_sentry::continue_trace(incoming, || tracing::info_span!("request"));
///     let ctx = span.trace_context().expect("the layer is installed");
///     assert_eq!(ctx.trace_id().to_string(), "771a43a4192642f0b136d5159a501700");
///     assert_eq!(ctx.sampled(), Some(true));
/// });
/// # Ok::<(), tracing_sentry::propagation::ExtractError>(())
/// ```
pub fn continue_trace<R>(parent: PropagationContext, f: impl FnOnce() -> R) -> R {
    struct Reset(Option<PropagationContext>, bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            let previous = self.0.take();
            let had = self.1;
            let _ = PENDING.try_with(|p| {
                if let Ok(mut p) = p.try_borrow_mut() {
                    *p = previous;
                }
            });
            let _ = HAS_PENDING.try_with(|h| h.set(had));
        }
    }
    let previous = PENDING.with(|p| p.replace(Some(parent)));
    let had = HAS_PENDING.with(|h| h.replace(true));
    let _reset = Reset(previous, had);
    f()
}

#[inline]
fn take_pending() -> Option<PropagationContext> {
    if !HAS_PENDING.with(Cell::get) {
        return None;
    }
    take_pending_slow()
}

#[cold]
#[inline(never)]
fn take_pending_slow() -> Option<PropagationContext> {
    HAS_PENDING.with(|h| h.set(false));
    PENDING.with(|p| p.try_borrow_mut().ok().and_then(|mut p| p.take()))
}

// === impl SentryLayer ===

impl SentryLayer {
    /// Returns a propagation-only layer with default options: it continues incoming traces and
    /// produces outgoing headers, and exports nothing. Use [`SentryLayer::builder`] to export.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use tracing_subscriber::prelude::*;
    ///
    /// let subscriber = tracing_subscriber::registry().with(tracing_sentry::SentryLayer::new());
    /// # drop(subscriber);
    /// ```
    pub fn new() -> Self {
        Self::from_config(SentryLayerBuilder::new().into_config(None))
    }

    /// Returns a builder for a layer with options and export.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let (layer, _guard) = tracing_sentry::SentryLayer::builder().release("api@1.0.0").build()?;
    /// # drop(layer);
    /// # Ok::<(), tracing_sentry::BuildError>(())
    /// ```
    pub fn builder() -> SentryLayerBuilder {
        SentryLayerBuilder::new()
    }

    /// Returns a builder configured from `SENTRY_DSN`, `SENTRY_RELEASE`, `SENTRY_ENVIRONMENT` and
    /// `SENTRY_TRACES_SAMPLE_RATE` (see [`SentryLayerBuilder::from_env`]).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// // Reads SENTRY_DSN, SENTRY_RELEASE, SENTRY_ENVIRONMENT, SENTRY_TRACES_SAMPLE_RATE.
    /// let builder = tracing_sentry::SentryLayer::builder_from_env().environment("override");
    /// # drop(builder);
    /// ```
    pub fn builder_from_env() -> SentryLayerBuilder {
        SentryLayerBuilder::from_env()
    }

    /// This layer's configuration.
    #[cfg(feature = "tower")]
    pub(crate) fn config(&self) -> Arc<Config> {
        Arc::clone(&self.config)
    }

    /// The options this layer extracts incoming headers with.
    pub(crate) fn extract_options(&self) -> crate::propagation::ExtractOptions {
        self.config.extract_options()
    }

    pub(crate) fn from_config(config: Config) -> Self {
        Self {
            config: Arc::new(config),
            #[cfg(feature = "sentry")]
            dispatch: Arc::default(),
        }
    }

    /// Returns a snapshot of the counters (drops, sends, malformed headers).
    ///
    /// # Examples
    ///
    /// ```
    /// let layer = tracing_sentry::SentryLayer::new();
    /// assert_eq!(layer.stats().invalid_incoming_headers, 0);
    /// ```
    pub fn stats(&self) -> Stats {
        self.config.stats.snapshot()
    }
}

impl Default for SentryLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for SentryLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SentryLayer")
            .field("config", &self.config)
            .finish()
    }
}

impl<S> tracing_subscriber::Layer<S> for SentryLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let pending = take_pending();
        if pending.is_none() {
            // Find the parent with as few registry lookups as possible: an explicit parent
            // directly; a contextual one through the new span, which stores its parent's id
            // (cheaper than the registry's current-span lookup). If a per-layer filter hides
            // the explicit parent, fall back to the walk to the nearest span enabled for us.
            let (this, parent) = if attrs.is_root() {
                (None, None)
            } else {
                match attrs.parent().map(|p| ctx.span(p)) {
                    Some(Some(parent)) => (None, Some(parent)),
                    _ => {
                        let this = ctx.span(id);
                        let parent = this.as_ref().and_then(|span| span.parent());
                        (this, parent)
                    }
                }
            };
            if let Some(parent) = parent {
                let ext = parent.extensions();
                let data = match ext.get::<SpanData>() {
                    Some(parent_data) => {
                        parent_data.mark_started();
                        if !parent_data.records_children() {
                            // An unsampled (or unrecorded) trace: nothing to store; this span
                            // borrows its ancestor's context until it propagates.
                            return;
                        }
                        let mut rec = Recording::new(attrs.metadata(), Instant::now());
                        let mut visitor = FieldVisitor::for_metadata(attrs.metadata());
                        attrs.record(&mut visitor);
                        rec.absorb(visitor.fields);
                        match &self.config.ignore {
                            None => SpanData::child_of(parent_data, Some(rec)),
                            Some(_) => {
                                SpanData::child_unless_ignored(parent_data, rec, &self.config)
                            }
                        }
                    }
                    None => {
                        let marked = ext.get::<HasChildren>().is_some();
                        drop(ext);
                        if !marked {
                            let _ = parent.extensions_mut().replace(HasChildren);
                        }
                        return;
                    }
                };
                drop(ext);
                if let Some(span) = this.or_else(|| ctx.span(id)) {
                    let _ = span.extensions_mut().replace(data);
                }
                return;
            }
        }

        // A local root: a span with no parent, or the first span inside `continue_trace`.
        let Some(span) = ctx.span(id) else { return };
        let data = SpanData::new_root(RootInit {
            config: &self.config,
            metadata: attrs.metadata(),
            attrs: Some(attrs),
            remote: pending.filter(|remote| admit_remote(&self.config, remote)),
            previous: None,
        });
        let _ = span.extensions_mut().replace(data);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        // Decide under a read lock whether anything is wanted, then visit the values with no
        // lock held: the user's `Debug`/`Display` impls may read trace context or emit events.
        let (records, is_root) = {
            let ext = span.extensions();
            let Some(data) = ext.get::<SpanData>() else {
                return;
            };
            (data.records(), data.is_local_root)
        };
        let names_root = is_root && declares_name(span.metadata());
        if !records && !names_root {
            return;
        }
        let mut visitor = FieldVisitor::default();
        values.record(&mut visitor);
        apply_fields(&span, is_root, visitor.fields);
    }

    fn on_follows_from(&self, id: &Id, follows: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let Some(other) = ctx.span(follows) else {
            return;
        };
        let link = other
            .scope()
            .find_map(|s| s.extensions().get::<SpanData>().map(SpanData::as_link));
        let Some(link) = link else { return };
        let mut ext = span.extensions_mut();
        if let Some(rec) = ext.get_mut::<SpanData>().and_then(|d| d.recording.as_mut()) {
            rec.add_link(link);
        }
    }

    #[cfg(feature = "sentry")]
    fn on_register_dispatch(&self, dispatch: &tracing_core::Dispatch) {
        let _ = self.dispatch.set(dispatch.downgrade());
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        #[cfg(feature = "sentry")]
        if let Some(dispatch) = self.dispatch.get() {
            // No lookup here: a contextual event's span is read when (and if) it is needed.
            let layer = Arc::as_ptr(&self.config) as usize;
            crate::integrations::sentry::note_event_span(layer, dispatch, event);
        }
        if *event.metadata().level() != Level::ERROR {
            return;
        }
        let Some(span) = ctx.event_span(event) else {
            return;
        };
        let mut ext = span.extensions_mut();
        if let Some(rec) = ext.get_mut::<SpanData>().and_then(|d| d.recording.as_mut()) {
            rec.error_seen();
        }
    }
}

/// Applies recorded `fields` to `span`: `sentry.*` fields set span properties, others become
/// span data, and a root renames its transaction (recorded or not: an unrecorded root still
/// names the head DSC's transaction until it is frozen).
fn apply_fields<'a, R: LookupSpan<'a>>(
    span: &SpanRef<'a, R>,
    is_root: bool,
    fields: Vec<(Cow<'static, str>, FieldValue)>,
) {
    let requested = is_root.then(|| requested_name(&fields));

    let mut ext = span.extensions_mut();
    let Some(data) = ext.get_mut::<SpanData>() else {
        return;
    };
    if let Some(rec) = data.recording.as_mut() {
        rec.absorb(fields);
    }
    let root = match requested {
        Some(requested) if !requested.is_empty() => (Arc::clone(&data.root), requested),
        _ => return,
    };
    drop(ext);
    root.0.set_name(root.1);
}

// === span properties set by integrations ===

/// Sets Sentry properties (`sentry.op`, `sentry.name`, `sentry.source`, `sentry.status`,
/// `sentry.origin`) and data on `span` through the layer, without declaring them as span
/// fields: they reach Sentry but stay out of other layers' output (the fmt layer prints every
/// declared field on every line logged inside the span).
///
/// Does nothing when `span` is disabled, the subscriber is not a [`Registry`], or no
/// [`SentryLayer`] records the span (an unsampled trace).
///
/// `fields` is called only when the span is recorded (or is a local root, whose name the head
/// dynamic sampling context carries), so that unsampled spans cost one lookup.
#[cfg(feature = "tower")]
pub(crate) fn set_span_properties(
    span: &tracing::Span,
    fields: impl FnOnce() -> Vec<(Cow<'static, str>, FieldValue)>,
) {
    let _ = crate::span_access::with_registry_span(span, |span| set_properties_on(&span, fields));
}

/// [`set_span_properties`] for a span already looked up.
pub(crate) fn set_properties_on(
    span: &SpanRef<'_, Registry>,
    fields: impl FnOnce() -> Vec<(Cow<'static, str>, FieldValue)>,
) {
    let (records, is_root) = match span.extensions().get::<SpanData>() {
        Some(data) => (data.records(), data.is_local_root),
        None => return,
    };
    if records || is_root {
        apply_fields(span, is_root, fields());
    }
}

/// Sets typed `properties` on `span`: for a recorded span that is not a local root, in one
/// write of its extensions and without string fields; a local root goes through
/// [`set_properties_on`] (its name also names the head dynamic sampling context).
///
/// `properties` is called only when the span is recorded or a local root.
pub(crate) fn set_typed_properties_on<I: IntoIterator<Item = Property>>(
    span: &SpanRef<'_, Registry>,
    properties: impl FnOnce() -> I,
) {
    let mut ext = span.extensions_mut();
    let Some(data) = ext.get_mut::<SpanData>() else {
        return;
    };
    if data.is_local_root {
        drop(ext);
        return set_properties_on(span, || {
            properties().into_iter().map(Property::into_field).collect()
        });
    }
    if let Some(rec) = data.recording.as_mut() {
        for property in properties() {
            rec.set(property);
        }
    }
}

/// [`set_typed_properties_on`] for a [`tracing::Span`].
pub(crate) fn set_typed_properties<I: IntoIterator<Item = Property>>(
    span: &tracing::Span,
    properties: impl FnOnce() -> I,
) {
    let _ = crate::span_access::with_registry_span(span, |span| {
        set_typed_properties_on(&span, properties)
    });
}
