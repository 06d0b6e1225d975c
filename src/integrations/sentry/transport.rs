//! The two transports of the integration: the `sentry` client's transport wrapped to add the
//! envelope `trace` header to linked events, and our [`EnvelopeTransport`] over the `sentry` client.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use sentry_core::{Client, TransportFactory, TransportOptions};

use super::link::take_stashed;
use crate::export::{
    EnvelopeBytes, EnvelopeTransport, TransportError, TransportErrorKind, TransportResponse,
};
use crate::propagation::DynamicSamplingContext;

/// Creates the application's transport, wrapped in [`LinkedTransport`].
pub(super) struct LinkedTransportFactory {
    inner: Arc<dyn TransportFactory>,
}

impl LinkedTransportFactory {
    pub(super) fn new(inner: Arc<dyn TransportFactory>) -> Self {
        Self { inner }
    }
}

impl TransportFactory for LinkedTransportFactory {
    fn create_transport_with_options(
        &self,
        options: TransportOptions,
    ) -> Arc<dyn sentry_core::Transport> {
        // The `sentry` crate's default factory panics when it was built without an HTTP
        // transport: contain it, and drop envelopes as a client without transport does.
        let inner = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.inner.create_transport_with_options(options)
        }));
        let inner = inner.unwrap_or_else(|_| Arc::new(NoTransport));
        Arc::new(LinkedTransport { inner })
    }
}

/// Drops every envelope (the application's transport factory panicked).
struct NoTransport;

impl sentry_core::Transport for NoTransport {
    fn send_envelope(&self, _: sentry_core::Envelope) {}
}

/// Sets the envelope `trace` header of an event linked on this thread, then delegates.
struct LinkedTransport {
    inner: Arc<dyn sentry_core::Transport>,
}

impl sentry_core::Transport for LinkedTransport {
    fn send_envelope(&self, envelope: sentry_core::Envelope) {
        let dsc = envelope.uuid().copied().and_then(take_stashed);
        let envelope = match dsc.and_then(|dsc| with_trace_header(&envelope, &dsc)) {
            Some(raw) => raw,
            None => envelope,
        };
        self.inner.send_envelope(envelope);
    }

    fn flush(&self, timeout: Duration) -> bool {
        self.inner.flush(timeout)
    }

    fn shutdown(&self, timeout: Duration) -> bool {
        self.inner.shutdown(timeout)
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
        self.client.send_envelope(raw);
        Ok(TransportResponse::new(200))
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
