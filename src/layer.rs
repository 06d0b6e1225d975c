//! [`SentryLayer`]: what happens on each span callback.
//!
//! # A span's life, callback by callback
//!
//! - `register_callsite`: an event callsite's metric fields are looked up once (see
//!   `telemetry::metrics::CallsiteCache`); the interest stays the default `always`.
//! - `on_new_span`: a local root gets a [`SpanData`] with a new [`RootState`]
//!   (`SpanData::new_local_root`: trace origin, head sampling, recording); a child of a recorded
//!   span gets a recording `SpanData`; a child in an unrecorded trace gets nothing (it borrows
//!   its ancestor's context until it propagates, see `span::access::with_span_data`).
//! - `on_record`: fields go into the span's [`Recording`]; `sentry.name`/`sentry.source` on a
//!   root rename its transaction (`RootState::set_name`).
//! - `on_follows_from`, `on_event` (level `ERROR`): a link, or the error mark, on the recording.
//! - `on_event` also hands events wanted as logs or metrics to `telemetry` (with
//!   `log_span_fields`, `on_new_span` and `on_record` keep every span's fields for them).
//! - `on_enter`/`on_exit`: not implemented; nothing to do.
//! - **Finishing** happens in no callback: `on_close` is not implemented either. When the
//!   registry closes a span it drops the span's extensions, and `Drop for SpanData` finishes it
//!   (a child's record goes into its root's buffer; a root's record waits there). When the last
//!   span of a local root is gone, `Drop for RootState` sends the transaction. So spans that
//!   record nothing cost nothing at close, and a child that outlives its root's handle still
//!   lands in the transaction.
//!
//! [`RootState`]: crate::span::root::RootState
//! [`Recording`]: crate::span::recording::Recording

use std::fmt;
use std::sync::Arc;

use tracing_core::span::{Attributes, Id, Record};
use tracing_core::subscriber::Interest;
use tracing_core::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use crate::builder::SentryLayerBuilder;
use crate::config::Config;
use crate::remote_parent::{admit_remote, take_pending};
use crate::span::data::{NewRoot, RootInit, SpanData};
use crate::span::lazy_root::LazyRoot;
use crate::span::properties::apply_fields;
use crate::span::recording::{declares_name, FieldVisitor};
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

    /// Returns a builder configured from the `SENTRY_*` variables Sentry's SDKs read:
    /// `SENTRY_DSN`, `SENTRY_RELEASE`, `SENTRY_ENVIRONMENT`, `SENTRY_TRACES_SAMPLE_RATE`,
    /// `SENTRY_TRACE_LIFECYCLE`, `SENTRY_SPOTLIGHT` and `SENTRY_ENABLE_LOGS` (the same as
    /// [`SentryLayerBuilder::from_env`], which lists what each accepts).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// // Reads SENTRY_DSN, SENTRY_RELEASE, SENTRY_ENVIRONMENT, SENTRY_TRACES_SAMPLE_RATE, ...
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

    /// Whether every span keeps its fields for its logs (`log_span_fields`).
    #[inline]
    fn keeps_span_fields(&self) -> bool {
        self.config
            .telemetry
            .as_ref()
            .is_some_and(|t| t.span_fields)
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
    /// Interest is what the default gives (`always`: filtering is left to the filters, never
    /// widened); an event callsite's metric fields are looked up here once, not per event.
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if metadata.is_event() && self.config.telemetry.as_ref().is_some_and(|t| t.metrics) {
            crate::telemetry::metrics::register_callsite(metadata);
        }
        Interest::always()
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if self.keeps_span_fields() && !attrs.fields().is_empty() {
            if let Some(span) = ctx.span(id) {
                crate::telemetry::logs::store_span_fields(&span, attrs);
            }
        }
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
                if let Some(data) = SpanData::for_new_child(&parent, attrs, &self.config) {
                    if let Some(span) = this.or_else(|| ctx.span(id)) {
                        let _ = span.extensions_mut().replace(data);
                    }
                }
                return;
            }
        }

        // A local root: a span with no parent, or the first span inside `continue_trace`.
        let Some(span) = ctx.span(id) else { return };
        let root = SpanData::new_local_root(RootInit {
            config: &self.config,
            metadata: attrs.metadata(),
            attrs: Some(attrs),
            remote: pending.filter(|remote| admit_remote(&self.config, remote)),
            previous: None,
        });
        let mut ext = span.extensions_mut();
        match root {
            NewRoot::Full(data) => {
                let _ = ext.replace(data);
            }
            NewRoot::Lazy(lazy) => {
                let _ = ext.replace(lazy);
            }
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        if self.keeps_span_fields() {
            crate::telemetry::logs::record_span_fields(&span, values);
        }
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
        let link = other.scope().find_map(|s| {
            let ext = s.extensions();
            match ext.get::<SpanData>() {
                Some(data) => Some(data.as_link()),
                None => ext.get::<LazyRoot>().map(LazyRoot::as_link),
            }
        });
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
        // Neither an error nor telemetry: a comparison and a cache lookup, no call.
        let metadata = event.metadata();
        if *metadata.level() != Level::ERROR
            && self
                .config
                .telemetry
                .as_ref()
                .map_or(true, |t| t.ignores(metadata))
        {
            return;
        }
        on_wanted_event(&self.config, event, ctx);
    }
}

/// The rest of `on_event`, for an event that may be an error or telemetry. Out of line, so
/// that `on_event` stays small where it is inlined (`Layered::event`) and an event that is
/// neither costs only the checks there.
#[inline(never)]
fn on_wanted_event<S>(config: &Config, event: &Event<'_>, ctx: Context<'_, S>)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let error = *event.metadata().level() == Level::ERROR;
    let telemetry = match &config.telemetry {
        Some(telemetry) => telemetry.wants(event.metadata()),
        None => None,
    };
    if !error && telemetry.is_none() {
        return;
    }
    let span = ctx.event_span(event);
    if let (true, Some(span)) = (error, &span) {
        let mut ext = span.extensions_mut();
        if let Some(rec) = ext.get_mut::<SpanData>().and_then(|d| d.recording.as_mut()) {
            rec.error_seen();
        }
    }
    if let Some(wanted) = telemetry {
        crate::telemetry::record(wanted, config, event, span.as_ref());
    }
}
