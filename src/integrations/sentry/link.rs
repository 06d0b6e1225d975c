//! [`TraceLinkIntegration`]: puts the current `tracing` span's trace context on the `sentry`
//! crate's events and logs.

use std::cell::RefCell;
use std::sync::Arc;

use sentry_core::protocol::{self, Context, Event, Log, LogAttribute, Value};
use sentry_core::types::Uuid;
use sentry_core::{ClientOptions, Integration};
use tracing_core::dispatcher::{Dispatch, WeakDispatch};
use tracing_core::span::Id;
use tracing_core::subscriber::NoSubscriber;
use tracing_subscriber::registry::{LookupSpan, SpanRef};
use tracing_subscriber::Registry;

use super::transport::linked_factory;
#[cfg(feature = "ureq")]
use super::transport::pipeline_factory;
use crate::propagation::DynamicSamplingContext;
use crate::span::access::with_span_data;
use crate::span::trace_context::TraceContext;

/// The `sentry` [`Integration`] that gives events and logs the trace context of the current
/// `tracing` span. Register it with [`link`], which also sets the envelope `trace` header.
///
/// # Examples
///
/// ```
/// use sentry::Integration;
/// use tracing_sentry::integrations::sentry::TraceLinkIntegration;
///
/// let options = tracing_sentry::integrations::sentry::link(sentry::ClientOptions::default());
/// assert!(options.integrations.iter().any(|i| i.name() == TraceLinkIntegration.name()));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct TraceLinkIntegration;

/// Registers [`TraceLinkIntegration`] in `options` and gives the client a transport.
///
/// - **Without a transport in `options`** (feature `ureq`): our export pipeline becomes the
///   client's transport. Every envelope the `sentry` crate makes is queued as it is and
///   written on a sender thread, where the envelope `trace` header (the trace's frozen
///   dynamic sampling context) is added; it is sent with the layer's concurrency, byte bound,
///   gzip, per-category rate limits (only the limited items go) and client reports, errors
///   first when the queue is congested. Build the layer with
///   [`sentry_client`](crate::SentryLayerBuilder::sentry_client) to share one pipeline;
///   otherwise the client's first envelope starts one of default options. Without the `ureq`
///   feature, the `sentry` crate's default transport is wrapped instead.
/// - **With the application's transport**: it is kept and wrapped, and the `trace` header is
///   spliced into linked events' envelopes on the capturing thread before it gets them.
///
/// Call it once, on the options given to `sentry::init` (or `Client::with_options`).
///
/// # Examples
///
/// ```
/// let options = tracing_sentry::integrations::sentry::link(
///     sentry::ClientOptions::new().release("checkout@1.4.2"),
/// );
/// assert!(options.transport.is_some());
/// ```
pub fn link(mut options: ClientOptions) -> ClientOptions {
    options.transport = Some(match options.transport.take() {
        Some(theirs) => linked_factory(theirs),
        None => default_transport(),
    });
    options.integrations.push(Arc::new(TraceLinkIntegration));
    options
}

/// Our export pipeline (feature `ureq`: it has an HTTP transport).
#[cfg(feature = "ureq")]
fn default_transport() -> Arc<dyn sentry_core::TransportFactory> {
    pipeline_factory()
}

/// Without our HTTP transport (feature `ureq` off): the `sentry` crate's default one, wrapped.
#[cfg(not(feature = "ureq"))]
fn default_transport() -> Arc<dyn sentry_core::TransportFactory> {
    linked_factory(Arc::new(::sentry::transports::DefaultTransportFactory))
}

impl Integration for TraceLinkIntegration {
    fn name(&self) -> &'static str {
        "tracing-sentry-trace-link"
    }

    fn setup(&self, options: &mut ClientOptions) {
        // Logs do not go through integrations: link them first in `before_send_log`, then run
        // the application's callback, if any.
        let previous = options.before_send_log.take();
        options.before_send_log = Some(Arc::new(move |log| {
            let log = link_log(log);
            match &previous {
                Some(callback) => callback(log),
                None => Some(log),
            }
        }));
    }

    fn process_event(
        &self,
        mut event: Event<'static>,
        _: &ClientOptions,
    ) -> Option<Event<'static>> {
        let Some(current) = with_event_span(|span| {
            with_span_data(span, |data| {
                // The context leaves the process with the event: no later remote parent.
                data.mark_started();
                let op = match data.recording.as_ref().and_then(|rec| rec.op()) {
                    Some(op) => op.to_owned(),
                    None => {
                        // `target::name`, without the formatting machinery (this runs for
                        // every captured event).
                        let meta = span.metadata();
                        let (target, name) = (meta.target(), meta.name());
                        let mut op = String::with_capacity(target.len() + 2 + name.len());
                        op.push_str(target);
                        op.push_str("::");
                        op.push_str(name);
                        op
                    }
                };
                (TraceContext::of(data), op, Arc::clone(data.root.dsc()))
            })
        })
        .flatten() else {
            return Some(event);
        };
        let (ctx, op, dsc) = current;
        let set = |trace: &mut protocol::TraceContext| {
            trace.trace_id = ctx.trace_id().into();
            trace.span_id = ctx.span_id().into();
            trace.parent_span_id = ctx.parent_span_id().map(Into::into);
            trace.op = Some(op);
        };
        // The client's scope has already put a trace context in: updated in place, which
        // spares the map a removal, an insertion and a new key.
        match event.contexts.get_mut("trace") {
            Some(Context::Trace(trace)) => set(trace),
            _ => {
                let mut trace = protocol::TraceContext::default();
                set(&mut trace);
                event.contexts.insert("trace".to_owned(), trace.into());
            }
        }
        stash(event.event_id, dsc);
        Some(event)
    }
}

/// Sets the log's trace id and span id from the current span.
fn link_log(mut log: Log) -> Log {
    let ctx = with_event_span(|span| with_span_data(span, TraceContext::of)).flatten();
    if let Some(ctx) = ctx {
        log.trace_id = Some(ctx.trace_id().into());
        // The 0.49 name, set only from a `sentry` span (then not ours).
        log.attributes.remove("parent_span_id");
        log.attributes.insert(
            "sentry.trace.parent_span_id".to_owned(),
            LogAttribute(Value::String(ctx.span_id().to_string())),
        );
    }
    log
}

thread_local! {
    /// The DSC of the event this thread is capturing, for its envelope (the `sentry` client
    /// hands the envelope to the transport on the capturing thread, right after processing).
    static STASHED_DSC: RefCell<Option<(Uuid, Arc<DynamicSamplingContext>)>> =
        const { RefCell::new(None) };
    /// The span of the `tracing` event this thread is dispatching, for `sentry` events and
    /// logs captured by a later layer (`sentry-tracing`), where `tracing`'s current
    /// dispatcher is not reachable.
    static EVENT_SPAN: RefCell<Option<EventSpan>> = const { RefCell::new(None) };
}

struct EventSpan {
    layer: usize,
    dispatch: WeakDispatch,
    parent: EventParent,
}

/// Where the `tracing` event being dispatched belongs.
enum EventParent {
    /// The current span of the thread (read from the registry when needed).
    Contextual,
    Explicit(Id),
    Root,
}

fn stash(event_id: Uuid, dsc: Arc<DynamicSamplingContext>) {
    let _ = STASHED_DSC.try_with(|s| {
        if let Ok(mut s) = s.try_borrow_mut() {
            *s = Some((event_id, dsc));
        }
    });
}

/// The DSC stashed for the event `event_id`, if any.
pub(super) fn take_stashed(event_id: Uuid) -> Option<Arc<DynamicSamplingContext>> {
    STASHED_DSC
        .try_with(|s| {
            let mut s = s.try_borrow_mut().ok()?;
            match s.as_ref() {
                Some((id, _)) if *id == event_id => s.take().map(|(_, dsc)| dsc),
                _ => None,
            }
        })
        .ok()
        .flatten()
}

/// Called by the layer for every `tracing` event: remembers where the event belongs, on this
/// thread. `layer` identifies the layer (its dispatcher is cloned only when it changes).
pub(crate) fn note_event_span(
    layer: usize,
    dispatch: &WeakDispatch,
    event: &tracing_core::Event<'_>,
) {
    let parent = match event.parent() {
        Some(id) => EventParent::Explicit(id.clone()),
        None if event.is_contextual() => EventParent::Contextual,
        None => EventParent::Root,
    };
    let _ = EVENT_SPAN.try_with(|slot| {
        let Ok(mut slot) = slot.try_borrow_mut() else {
            return;
        };
        match slot.as_mut() {
            Some(noted) if noted.layer == layer => noted.parent = parent,
            _ => {
                *slot = Some(EventSpan {
                    layer,
                    dispatch: dispatch.clone(),
                    parent,
                })
            }
        }
    });
}

/// Runs `f` with the span a `sentry` capture on this thread belongs to: the current span of
/// the thread's dispatcher or, inside a dispatcher callback (a layer mapping a `tracing`
/// event), the span of the event being dispatched.
fn with_event_span<R>(f: impl FnOnce(&SpanRef<'_, Registry>) -> R) -> Option<R> {
    let mut f = Some(f);
    let direct = tracing_core::dispatcher::get_default(|dispatch| {
        if dispatch.is::<NoSubscriber>() {
            return None;
        }
        Some(
            dispatch
                .current_span()
                .id()
                .and_then(|id| span_in(dispatch, id, &mut f)),
        )
    });
    if let Some(result) = direct {
        return result;
    }
    let (dispatch, explicit) = EVENT_SPAN
        .try_with(|slot| {
            let slot = slot.try_borrow().ok()?;
            let noted = slot.as_ref()?;
            let explicit = match &noted.parent {
                EventParent::Root => return None,
                EventParent::Contextual => None,
                EventParent::Explicit(id) => Some(id.clone()),
            };
            Some((noted.dispatch.upgrade()?, explicit))
        })
        .ok()
        .flatten()?;
    // The registry's current span is per thread, and the event is dispatched on this one.
    let id = match explicit {
        Some(id) => id,
        None => dispatch.current_span().id()?.clone(),
    };
    span_in(&dispatch, &id, &mut f)
}

fn span_in<R>(
    dispatch: &Dispatch,
    id: &Id,
    f: &mut Option<impl FnOnce(&SpanRef<'_, Registry>) -> R>,
) -> Option<R> {
    let registry = dispatch.downcast_ref::<Registry>()?;
    let span = registry.span(id)?;
    let f = f.take()?;
    Some(f(&span))
}
