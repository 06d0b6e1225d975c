//! The two transports of the integration: the `sentry` client's transport wrapped to add the
//! envelope `trace` header to linked events, and our [`Transport`] over the `sentry` client.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use sentry_core::{Client, TransportFactory, TransportOptions};

use super::link::take_stashed;
use crate::export::{Envelope, Transport, TransportError, TransportErrorKind, TransportResponse};

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
        Arc::new(LinkedTransport {
            inner: self.inner.create_transport_with_options(options),
        })
    }
}

/// Sets the envelope `trace` header of an event linked on this thread, then delegates.
struct LinkedTransport {
    inner: Arc<dyn sentry_core::Transport>,
}

impl sentry_core::Transport for LinkedTransport {
    fn send_envelope(&self, envelope: sentry_core::Envelope) {
        let dsc = envelope.uuid().copied().and_then(take_stashed);
        let envelope = match dsc {
            Some(dsc) => {
                let headers = envelope.headers().clone().with_trace(dsc);
                envelope.with_headers(headers)
            }
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

/// Our [`Transport`] over a `sentry` client: each envelope is handed, as raw bytes, to the
/// client's transport (its HTTP stack, rate limits, `flush` and `close`).
pub(crate) struct ClientTransport {
    client: Arc<Client>,
}

impl ClientTransport {
    pub(crate) fn new(client: Arc<Client>) -> Self {
        Self { client }
    }
}

impl Transport for ClientTransport {
    fn send(&self, envelope: &Envelope) -> Result<TransportResponse, TransportError> {
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
