//! Remote parents: continuing a trace that started in another process.
//!
//! A span gets a remote parent in one of two ways:
//! - [`continue_trace`] parks the parent in a thread-local, and the layer's `on_new_span` takes
//!   it for the next span created on this thread ([`take_pending`]). The span is created as a
//!   local root of the continued trace: its sampler runs once, with its creation fields. This
//!   is the only thread-local scope in span creation, and it lasts for the call only.
//! - [`SentrySpanExt::set_parent`](crate::SentrySpanExt::set_parent) re-roots a span that
//!   already exists ([`set_parent_on`]): any span without children whose context has not left
//!   the process yet, keeping what it has recorded so far.
//!
//! Either way the org-id rule ([`admit_remote`]) decides first whether the trace is continued.

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use http::HeaderMap;

use tracing_subscriber::registry::{ExtensionsMut, SpanRef};
use tracing_subscriber::Registry;

use crate::config::Config;
use crate::propagation::{should_continue_trace, PropagationContext};
use crate::span::access::config_of;
use crate::span::data::{HasChildren, RootInit, RootPlan, SpanData};
use crate::span::ext::SetParentError;
use crate::span::lazy_root::LazyRoot;
use crate::span::recording::Recording;
use crate::stats::StatsInner;

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

/// The remote parent [`continue_trace`] left for this thread's next span, if any: one
/// thread-local read when there is none.
#[inline]
pub(crate) fn take_pending() -> Option<PropagationContext> {
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

/// Whether this layer continues `remote`'s trace (the org-id rule); counts a refusal and the
/// baggage members dropped while `remote` was read. Every remote parent the layer is given
/// passes here.
pub(crate) fn admit_remote(config: &Config, remote: &PropagationContext) -> bool {
    StatsInner::add(
        &config.stats.baggage_members_dropped,
        remote.dropped_baggage_members() as u64,
    );
    let ok = should_continue_trace(
        remote.dsc().org_id(),
        config.head.org_id.as_deref(),
        config.strict_trace_continuation,
    );
    if !ok {
        StatsInner::incr(&config.stats.traces_not_continued_org_mismatch);
    }
    ok
}

/// Gives `span` the remote parent `parent`; `config` is that of the layer recording it.
pub(crate) fn set_parent_on(
    span: &SpanRef<'_, Registry>,
    config: &Arc<Config>,
    parent: PropagationContext,
) -> Result<(), SetParentError> {
    // The org-id rule first: a trace from another organization leaves the span as it is.
    if !admit_remote(config, &parent) {
        return Err(SetParentError::OrgMismatch);
    }
    // Take the span's recording so far under a short write lock; the user's sampler then runs
    // with no extension lock held (it may itself read trace context or emit events).
    let previous = {
        let mut ext = span.extensions_mut();
        if ext.get_mut::<HasChildren>().is_some() {
            return Err(SetParentError::AlreadyStarted);
        }
        match ext.get_mut::<SpanData>() {
            Some(data) if data.is_started() => return Err(SetParentError::AlreadyStarted),
            Some(data) => data.take_for_reparent(),
            None => match ext.get_mut::<LazyRoot>() {
                Some(lazy) if lazy.is_started() => return Err(SetParentError::AlreadyStarted),
                _ => None,
            },
        }
    };
    reroot(span, config, parent, previous);
    Ok(())
}

/// Gives `span` the remote parent that `headers` carry, read with the options of the layer
/// recording it (as [`set_parent_on`] after extracting it).
///
/// A span with data of its own (the usual case) is looked at under one write lock: the
/// layer's options, the extraction, the org-id rule and whether the span may still take a
/// parent, in that order (the order in which errors are reported), then its recording so far
/// is taken. Nothing under the lock runs user code. A root that records nothing and has no
/// `RootState` yet ([`LazyRoot`]) gets none for the trace it is leaving.
pub(crate) fn set_parent_from_headers_on(
    span: &SpanRef<'_, Registry>,
    headers: &HeaderMap,
) -> Result<(), SetParentError> {
    let mut ext = span.extensions_mut();
    let has_children = ext.get_mut::<HasChildren>().is_some();
    if let Some(data) = ext.get_mut::<SpanData>() {
        let config = Arc::clone(&data.root.config);
        let Some(parent) = extract(&config, headers)? else {
            return Ok(());
        };
        if !admit_remote(&config, &parent) {
            return Err(SetParentError::OrgMismatch);
        }
        if has_children || data.is_started() {
            return Err(SetParentError::AlreadyStarted);
        }
        let previous = data.take_for_reparent();
        if runs_no_user_code(&config) {
            // No sampler and no `ignore_spans` rule: nothing user-written runs while the
            // new root is decided, so it is decided and installed under the same lock.
            install_in(data, span, plan_reroot(span, &config, parent, previous));
            return Ok(());
        }
        drop(ext);
        reroot(span, &config, parent, previous);
        return Ok(());
    }
    let (config, started) = match ext.get_mut::<LazyRoot>() {
        Some(lazy) => (Arc::clone(lazy.config()), lazy.is_started()),
        None => {
            // No data of its own: the nearest recorded ancestor's layer decides.
            drop(ext);
            let config = config_of(span).ok_or(SetParentError::LayerNotFound)?;
            return match extract(&config, headers)? {
                Some(parent) => set_parent_on(span, &config, parent),
                None => Ok(()),
            };
        }
    };
    let Some(parent) = extract(&config, headers)? else {
        return Ok(());
    };
    if !admit_remote(&config, &parent) {
        return Err(SetParentError::OrgMismatch);
    }
    if has_children || started {
        return Err(SetParentError::AlreadyStarted);
    }
    if runs_no_user_code(&config) {
        install(&mut ext, span, plan_reroot(span, &config, parent, None));
        return Ok(());
    }
    drop(ext);
    reroot(span, &config, parent, None);
    Ok(())
}

/// Whether deciding a new local root runs no user code: no `traces_sampler`, no
/// `ignore_spans` rule.
fn runs_no_user_code(config: &Config) -> bool {
    config.sampling.traces_sampler.is_none() && config.ignore.is_none()
}

/// The remote parent `headers` carry, if any, read with `config`'s options; malformed
/// headers are counted.
fn extract(
    config: &Config,
    headers: &HeaderMap,
) -> Result<Option<PropagationContext>, SetParentError> {
    PropagationContext::from_headers_with(config.extract_options(), headers).map_err(|err| {
        StatsInner::incr(&config.stats.invalid_incoming_headers);
        SetParentError::InvalidHeaders(err)
    })
}

/// Makes `span` a local root continuing `parent`, keeping `previous` (what it recorded so
/// far). No extension lock is held on entry: the sampler runs here.
fn reroot(
    span: &SpanRef<'_, Registry>,
    config: &Arc<Config>,
    parent: PropagationContext,
    previous: Option<Recording>,
) {
    let plan = plan_reroot(span, config, parent, previous);
    install(&mut span.extensions_mut(), span, plan);
}

/// Stores the new local root `plan` in `span`'s extensions `ext`. The span's old data (a
/// local root of its own) is renewed where it is, its `RootState` too when nothing else holds
/// it, rather than boxed and allocated again; a root without its `RootState` yet
/// ([`LazyRoot`]) ends here as one that was never sampled.
fn install(ext: &mut ExtensionsMut<'_>, span: &SpanRef<'_, Registry>, plan: RootPlan) {
    if let Some(slot) = ext.get_mut::<SpanData>() {
        return install_in(slot, span, plan);
    }
    let data = match plan {
        RootPlan::Full(full) => full.into_data(),
        // Not reached (a continued root has a frozen DSC), but total.
        RootPlan::Lazy(lazy) => lazy.into_span_data(span.metadata()),
    };
    drop(ext.remove::<LazyRoot>());
    let _ = ext.replace(data);
}

/// [`install`] into the span's old data `slot`.
fn install_in(slot: &mut SpanData, span: &SpanRef<'_, Registry>, plan: RootPlan) {
    match plan {
        RootPlan::Full(full) => full.install(slot),
        RootPlan::Lazy(lazy) => *slot = lazy.into_span_data(span.metadata()),
    }
}

/// The new local root `span` becomes with the remote parent `parent`.
#[inline]
fn plan_reroot(
    span: &SpanRef<'_, Registry>,
    config: &Arc<Config>,
    parent: PropagationContext,
    previous: Option<Recording>,
) -> RootPlan {
    SpanData::plan_local_root(RootInit {
        config,
        metadata: span.metadata(),
        attrs: None,
        remote: Some(parent),
        previous,
    })
}
