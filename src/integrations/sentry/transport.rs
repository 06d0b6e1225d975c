//! The transports of the integration: our export pipeline as the `sentry` client's transport
//! ([`PipelineTransportFactory`]), the application's own transport wrapped to add the envelope
//! `trace` header to linked events ([`LinkedTransportFactory`]), and our [`EnvelopeTransport`] over the
//! `sentry` client ([`ClientTransport`], when the client has a transport of its own).

#![cfg_attr(
    not(feature = "ureq"),
    expect(
        dead_code,
        reason = "our pipeline becomes the client's transport only with our HTTP transport (`ureq`)"
    )
)]

use std::cell::Cell;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::time::{Duration, Instant};

use sentry_core::protocol::EnvelopeItem;
use sentry_core::{Client, TransportFactory, TransportOptions};

use super::link::take_stashed;
use super::size;
use crate::export::{
    DataCategory, Dsn, EnvelopeBytes, EnvelopeTransport, ExportGuard, ExportHandle, External,
    ExternalEnvelope, Quantities, TransportError, TransportErrorKind, TransportResponse,
};
use crate::propagation::DynamicSamplingContext;

/// What links a `sentry` client's transport to an export pipeline: the pipeline of the layer
/// built with [`sentry_client`](crate::SentryLayerBuilder::sentry_client) (attached when it is
/// built), or else one started for the client's envelopes at its first envelope. For the
/// application's transport, wrapped, the attached pipeline only counts and reports what that
/// transport lost by panicking.
#[derive(Default)]
pub(crate) struct PipelineLink {
    handle: OnceLock<ExportHandle>,
    /// The guard of a pipeline started here (no layer was attached first).
    own_guard: Mutex<Option<ExportGuard>>,
    /// The client keeps the application's transport ([`LinkedTransport`]).
    wraps_theirs: bool,
}

impl PipelineLink {
    /// Whether the client's envelopes go through the pipeline (else through the application's
    /// transport, wrapped).
    pub(crate) fn sends_through_pipeline(&self) -> bool {
        !self.wraps_theirs
    }

    /// Makes the client's envelopes go into `handle`'s pipeline; `false` if they already go
    /// into another one (an envelope was sent before the layer was built).
    pub(crate) fn attach(&self, handle: &ExportHandle) -> bool {
        let attached = self.handle.get_or_init(|| handle.clone());
        attached.same_pipeline(handle)
    }

    /// The pipeline, started now for `dsn` if no layer was attached.
    fn handle(&self, dsn: Option<&Dsn>) -> &ExportHandle {
        self.handle.get_or_init(|| {
            let started = dsn.and_then(|dsn| {
                crate::export::start_for_client(dsn.clone(), false, Duration::from_secs(2)).ok()
            });
            match started {
                Some((handle, guard)) => {
                    *self
                        .own_guard
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner) = Some(guard);
                    handle
                }
                None => ExportHandle::disabled(),
            }
        })
    }
}

/// The links made by [`link`](super::link), by the address of the transport factory it put
/// into the options (the builder finds a client's link from its options).
static LINKS: Mutex<Vec<(usize, Weak<PipelineLink>)>> = Mutex::new(Vec::new());

fn factory_key(factory: &Arc<dyn TransportFactory>) -> usize {
    Arc::as_ptr(factory).cast::<()>() as usize
}

/// A transport factory that sends through an export pipeline, registered for the builder.
pub(super) fn pipeline_factory() -> Arc<dyn TransportFactory> {
    let link = Arc::new(PipelineLink::default());
    let factory: Arc<dyn TransportFactory> = Arc::new(PipelineTransportFactory {
        link: Arc::clone(&link),
    });
    register(&factory, &link);
    factory
}

/// The application's transport factory `theirs`, wrapped in a [`LinkedTransportFactory`]
/// registered for the builder (which attaches its pipeline to count panics).
pub(super) fn linked_factory(theirs: Arc<dyn TransportFactory>) -> Arc<dyn TransportFactory> {
    let factory = LinkedTransportFactory::new(theirs);
    let link = Arc::clone(&factory.link);
    let factory: Arc<dyn TransportFactory> = Arc::new(factory);
    register(&factory, &link);
    factory
}

fn register(factory: &Arc<dyn TransportFactory>, link: &Arc<PipelineLink>) {
    let mut links = LINKS.lock().unwrap_or_else(PoisonError::into_inner);
    let key = factory_key(factory);
    links.retain(|(k, weak)| *k != key && weak.strong_count() > 0);
    links.push((key, Arc::downgrade(link)));
}

/// The pipeline link of `client`, if its options hold a factory made by [`link`](super::link).
pub(crate) fn pipeline_link(client: &Client) -> Option<Arc<PipelineLink>> {
    let key = factory_key(client.options().transport.as_ref()?);
    let links = LINKS.lock().unwrap_or_else(PoisonError::into_inner);
    links
        .iter()
        .find(|(k, _)| *k == key)
        .and_then(|(_, weak)| weak.upgrade())
}

/// Creates [`PipelineTransport`]s.
struct PipelineTransportFactory {
    link: Arc<PipelineLink>,
}

impl TransportFactory for PipelineTransportFactory {
    fn create_transport_with_options(
        &self,
        options: TransportOptions,
    ) -> Arc<dyn sentry_core::Transport> {
        let dsn = dsn_string(&options.dsn).parse().ok();
        Arc::new(PipelineTransport {
            link: Arc::clone(&self.link),
            dsn,
        })
    }
}

/// The `sentry` client's transport: each envelope is queued, as it is, in the export pipeline
/// (one push under a short lock); a sender writes and sends it.
struct PipelineTransport {
    link: Arc<PipelineLink>,
    dsn: Option<Dsn>,
}

impl sentry_core::Transport for PipelineTransport {
    fn send_envelope(&self, envelope: sentry_core::Envelope) {
        let dsc = envelope.uuid().copied().and_then(take_stashed);
        let (quantities, weight) = measure(&envelope);
        self.link
            .handle(self.dsn.as_ref())
            .submit_external(External {
                envelope: Box::new(SentryEnvelope(envelope)),
                quantities,
                weight,
                dsc,
            });
    }

    fn flush(&self, timeout: Duration) -> bool {
        let deadline = Instant::now().checked_add(timeout);
        self.link
            .handle
            .get()
            .map_or(true, |handle| handle.flush_until(deadline))
    }

    fn shutdown(&self, timeout: Duration) -> bool {
        self.link
            .handle
            .get()
            .map_or(true, |handle| handle.shut_down(timeout))
    }
}

/// The data category and client-report quantity of one item of the `sentry` crate.
fn item_facts(item: &EnvelopeItem) -> (DataCategory, u64) {
    use sentry_core::protocol::ItemContainer;
    match item {
        EnvelopeItem::Event(_) => (DataCategory::Error, 1),
        EnvelopeItem::Transaction(_) => (DataCategory::Transaction, 1),
        EnvelopeItem::SessionUpdate(_) | EnvelopeItem::SessionAggregates(_) => {
            (DataCategory::Session, 1)
        }
        EnvelopeItem::Attachment(attachment) => {
            (DataCategory::Attachment, attachment.buffer.len() as u64)
        }
        EnvelopeItem::MonitorCheckIn(_) => (DataCategory::Monitor, 1),
        EnvelopeItem::ClientReport(_) => (DataCategory::Internal, 1),
        EnvelopeItem::ItemContainer(container) => {
            let category = match container {
                ItemContainer::Logs(_) => DataCategory::LogItem,
                _ => {
                    DataCategory::of_item_type(container.ty()).unwrap_or(DataCategory::TraceMetric)
                }
            };
            (category, container.len() as u64)
        }
        // An item type this crate does not know yet: sent, and counted as an error (the
        // highest priority, so it is never shed for routine telemetry).
        _ => (DataCategory::Error, 1),
    }
}

/// About the serialised size of one item of the `sentry` crate, with its item header.
fn item_size(item: &EnvelopeItem) -> usize {
    const ITEM_HEADER: usize = 64;
    ITEM_HEADER
        + match item {
            EnvelopeItem::Event(event) => size::event_size(event),
            EnvelopeItem::Transaction(tx) => 1024 + 256 * tx.spans.len(),
            EnvelopeItem::SessionUpdate(_) | EnvelopeItem::SessionAggregates(_) => 512,
            EnvelopeItem::Attachment(attachment) => attachment.buffer.len() + 192,
            EnvelopeItem::MonitorCheckIn(_) => 512,
            EnvelopeItem::ClientReport(_) => 192,
            EnvelopeItem::ItemContainer(container) => 512 * container.len(),
            _ => 2048,
        }
}

/// The quantities of `envelope`'s items and about its serialised size, without serialising. A
/// raw envelope (bytes the application built) counts as one error.
fn measure(envelope: &sentry_core::Envelope) -> (Quantities, usize) {
    let mut quantities = Quantities::default();
    let mut weight = 256;
    let mut any = false;
    for item in envelope.items() {
        any = true;
        let (category, quantity) = item_facts(item);
        quantities.add_item(category, quantity);
        if let EnvelopeItem::Transaction(tx) = item {
            quantities.add_to(DataCategory::Span, tx.spans.len() as u64 + 1);
        }
        weight += item_size(item);
    }
    if !any {
        quantities.add_item(DataCategory::Error, 1);
        weight += 2048;
    }
    (quantities, weight)
}

/// A `sentry` crate envelope, written on a sender.
struct SentryEnvelope(sentry_core::Envelope);

impl ExternalEnvelope for SentryEnvelope {
    fn write(
        self: Box<Self>,
        keep: &mut dyn FnMut(DataCategory) -> bool,
        out: &mut Vec<u8>,
    ) -> std::io::Result<Quantities> {
        let envelope = self.0;
        let mut dropped = Quantities::default();
        let all_kept = envelope.items().all(|item| keep(item_facts(item).0));
        if all_kept {
            envelope.to_writer(&mut *out)?;
            return Ok(dropped);
        }
        // Only the limited items go; the headers (event id, DSC) stay.
        let mut kept = sentry_core::Envelope::new().with_headers(envelope.headers().clone());
        let mut any = false;
        for item in envelope.into_items() {
            let (category, quantity) = item_facts(&item);
            if keep(category) {
                any = true;
                kept.add_item(item);
            } else {
                if let EnvelopeItem::Transaction(tx) = &item {
                    dropped.add_to(DataCategory::Span, tx.spans.len() as u64 + 1);
                }
                dropped.add_item(category, quantity);
            }
        }
        if any {
            kept.to_writer(&mut *out)?;
        }
        Ok(dropped)
    }
}

/// The client's DSN as text our parser reads (its `Display` writes `key:@` with no secret).
pub(crate) fn dsn_string(dsn: &sentry_core::types::Dsn) -> String {
    let secret = dsn
        .secret_key()
        .map(|s| format!(":{s}"))
        .unwrap_or_default();
    let port = if dsn.port() == dsn.scheme().default_port() {
        String::new()
    } else {
        format!(":{}", dsn.port())
    };
    format!(
        "{}://{}{secret}@{}{port}{}{}",
        dsn.scheme(),
        dsn.public_key(),
        dsn.host(),
        dsn.path(),
        dsn.project_id()
    )
}

/// Creates the application's transport, wrapped in [`LinkedTransport`].
pub(super) struct LinkedTransportFactory {
    inner: Arc<dyn TransportFactory>,
    /// Where the panics of the application's transport are counted (once a layer is built
    /// with this client).
    link: Arc<PipelineLink>,
}

impl LinkedTransportFactory {
    fn new(inner: Arc<dyn TransportFactory>) -> Self {
        let link = Arc::new(PipelineLink {
            wraps_theirs: true,
            ..PipelineLink::default()
        });
        Self { inner, link }
    }
}

impl TransportFactory for LinkedTransportFactory {
    fn create_transport_with_options(
        &self,
        options: TransportOptions,
    ) -> Arc<dyn sentry_core::Transport> {
        // The `sentry` crate's default factory panics when it was built without an HTTP
        // transport: contain it, and drop envelopes as a client without transport does.
        let inner = catch_unwind(AssertUnwindSafe(|| {
            self.inner.create_transport_with_options(options)
        }));
        let inner = inner.unwrap_or_else(|_| Arc::new(NoTransport));
        Arc::new(LinkedTransport {
            inner,
            link: Arc::clone(&self.link),
        })
    }
}

/// Drops every envelope (the application's transport factory panicked).
struct NoTransport;

impl sentry_core::Transport for NoTransport {
    fn send_envelope(&self, _: sentry_core::Envelope) {}
}

/// Sets the envelope `trace` header of an event linked on this thread, then delegates. A
/// panic of the application's transport stays here: the envelope counts as lost (in the
/// attached pipeline's `Stats` and client reports, as a panic of our transport does), and a
/// `flush` or `shutdown` that panicked returns `false`.
struct LinkedTransport {
    inner: Arc<dyn sentry_core::Transport>,
    link: Arc<PipelineLink>,
}

impl sentry_core::Transport for LinkedTransport {
    fn send_envelope(&self, envelope: sentry_core::Envelope) {
        let dsc = envelope.uuid().copied().and_then(take_stashed);
        let envelope = match dsc.and_then(|dsc| with_trace_header(&envelope, &dsc)) {
            Some(raw) => raw,
            None => envelope,
        };
        if FROM_OUR_SENDER.try_with(Cell::get).unwrap_or(false) {
            // Our envelope, handed over by `ClientTransport` on a sender: a panic unwinds to
            // the sender's own containment, which counts it in the envelope's categories.
            self.inner.send_envelope(envelope);
            return;
        }
        let (quantities, _) = measure(&envelope);
        let sent = catch_unwind(AssertUnwindSafe(|| self.inner.send_envelope(envelope)));
        if sent.is_err() {
            if let Some(handle) = self.link.handle.get() {
                handle.record_external_panic(&quantities);
            }
        }
    }

    fn flush(&self, timeout: Duration) -> bool {
        catch_unwind(AssertUnwindSafe(|| self.inner.flush(timeout))).unwrap_or(false)
    }

    fn shutdown(&self, timeout: Duration) -> bool {
        catch_unwind(AssertUnwindSafe(|| self.inner.shutdown(timeout))).unwrap_or(false)
    }
}

/// `envelope` with the header `trace` = `dsc`, as a raw envelope: the `sentry` crate's typed
/// envelope loses its headers when its rate limiter filters it (`EnvelopeBytes::filter` builds a new
/// one), and a raw one is sent as it is. `None` if it cannot be written.
fn with_trace_header(
    envelope: &sentry_core::Envelope,
    dsc: &DynamicSamplingContext,
) -> Option<sentry_core::Envelope> {
    let mut bytes = Vec::new();
    envelope.to_writer(&mut bytes).ok()?;
    let end = bytes.iter().position(|b| *b == b'\n')?;
    // The header line is a JSON object: splice `"trace":{...}` in before its closing brace.
    let header = bytes.get(..end)?;
    let (last, head) = header.split_last()?;
    if *last != b'}' || header.first() != Some(&b'{') {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() + 256);
    out.extend_from_slice(head);
    if head.len() > 1 {
        out.push(b',');
    }
    out.extend_from_slice(br#""trace":{"#);
    for (i, (key, value)) in dsc.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        serde_json::to_writer(&mut out, key).ok()?;
        out.push(b':');
        serde_json::to_writer(&mut out, value).ok()?;
    }
    out.extend_from_slice(b"}}");
    out.extend_from_slice(bytes.get(end..)?);
    sentry_core::Envelope::from_bytes_raw(out).ok()
}

/// Our [`EnvelopeTransport`] over a `sentry` client: each envelope is handed, as raw bytes, to the
/// client's transport (its HTTP stack, rate limits, `flush` and `close`).
pub(crate) struct ClientTransport {
    client: Arc<Client>,
}

impl ClientTransport {
    pub(crate) fn new(client: Arc<Client>) -> Self {
        Self { client }
    }
}

impl EnvelopeTransport for ClientTransport {
    fn send(&self, envelope: &EnvelopeBytes) -> Result<TransportResponse, TransportError> {
        let raw =
            sentry_core::Envelope::from_bytes_raw(envelope.as_bytes().to_vec()).map_err(|_| {
                TransportError::new(
                    TransportErrorKind::Other,
                    "the envelope has no valid header line",
                )
            })?;
        // The client's transport queues it and owns delivery and rate limits from here.
        let _from_us = FromOurSender::enter();
        self.client.send_envelope(raw);
        Ok(TransportResponse::new(200))
    }
}

thread_local! {
    /// Set while [`ClientTransport`] hands one of our envelopes to the client, on a sender.
    static FROM_OUR_SENDER: Cell<bool> = const { Cell::new(false) };
}

/// Sets [`FROM_OUR_SENDER`] until dropped (also when the client's transport panics).
struct FromOurSender;

impl FromOurSender {
    fn enter() -> Self {
        let _ = FROM_OUR_SENDER.try_with(|flag| flag.set(true));
        Self
    }
}

impl Drop for FromOurSender {
    fn drop(&mut self) {
        let _ = FROM_OUR_SENDER.try_with(|flag| flag.set(false));
    }
}

impl fmt::Debug for ClientTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientTransport").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dsc() -> DynamicSamplingContext {
        DynamicSamplingContext::new()
            .with("trace_id", "771a43a4192642f0b136d5159a501700")
            .with("public_key", "public")
            .with("transaction", "GET \"/a\"")
            .with("replay_id", "kept-although-sentry-types-does-not-know-it")
    }

    fn header_of(envelope: &sentry_core::Envelope) -> serde_json::Value {
        let mut bytes = Vec::new();
        envelope.to_writer(&mut bytes).unwrap();
        let line = bytes.split(|b| *b == b'\n').next().unwrap();
        serde_json::from_slice(line).unwrap()
    }

    #[test]
    fn the_trace_header_is_spliced_into_the_envelope_header_and_the_items_are_kept() {
        let event = sentry_core::protocol::Event::default();
        let event_id = event.event_id;
        let envelope = sentry_core::Envelope::from(event);
        let linked = with_trace_header(&envelope, &dsc()).unwrap();
        let header = header_of(&linked);
        assert_eq!(
            header["trace"]["trace_id"],
            "771a43a4192642f0b136d5159a501700"
        );
        assert_eq!(header["trace"]["transaction"], "GET \"/a\"");
        assert_eq!(
            header["trace"]["replay_id"],
            "kept-although-sentry-types-does-not-know-it"
        );
        let mut bytes = Vec::new();
        linked.to_writer(&mut bytes).unwrap();
        let parsed = sentry_core::Envelope::from_slice(&bytes).unwrap();
        assert_eq!(parsed.event().unwrap().event_id, event_id);
    }

    #[test]
    fn an_empty_envelope_header_gets_the_trace_alone() {
        let linked = with_trace_header(&sentry_core::Envelope::new(), &dsc());
        // An envelope with no items writes `{}` and nothing else: still a valid header.
        let header = header_of(&linked.unwrap());
        assert_eq!(header.as_object().unwrap().len(), 1);
        assert_eq!(header["trace"]["public_key"], "public");
    }

    #[test]
    fn a_panicking_transport_factory_is_contained() {
        let factory = LinkedTransportFactory::new(Arc::new(
            |_: &sentry_core::ClientOptions| -> Arc<dyn sentry_core::Transport> {
                panic!("sentry crate was compiled without transport")
            },
        ));
        let options =
            sentry_core::ClientOptions::new().dsn("https://public@o42.ingest.sentry.io/7");
        let transport = factory.create_transport_with_options(
            sentry_core::TransportOptions::try_from_client_options(&options).unwrap(),
        );
        transport.send_envelope(sentry_core::Envelope::new());
        assert!(transport.flush(std::time::Duration::from_millis(10)));
    }
}
