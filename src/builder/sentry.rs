//! [`SentryLayerBuilder::sentry_client`]: the layer configured from a `sentry` client (a child
//! module of the builder, for its private fields).

use std::sync::Arc;
use std::time::Duration;

use sentry_core::{Client, TracesSamplingStrategy};

#[cfg(doc)]
use super::BuildError;
use super::SentryLayerBuilder;
use crate::export::{ExportGuard, ExportHandle};
use crate::integrations::sentry::{dsn_string, pipeline_link, ClientTransport, PipelineLink};

impl SentryLayerBuilder {
    /// Configures the layer from a `sentry` client (feature `sentry`): what the client's
    /// options hold of ours comes from them, and transactions go out through the client's
    /// transport.
    ///
    /// Taken from the client, unless set on this builder (whatever the order of the calls):
    /// the DSN, `release`, `environment` (through [`release`](Self::release) and
    /// [`environment`](Self::environment), so their rules apply), a fixed
    /// `traces_sample_rate` (a `sentry` `traces_sampler` cannot be taken over: set
    /// [`traces_sampler`](Self::traces_sampler) here), `org_id`, `shutdown_timeout`,
    /// `debug` and `strict_trace_continuation` (a value set here wins, `false` included).
    ///
    /// A client made with [`link`](crate::integrations::sentry::link) and no transport of
    /// the application's sends through this layer's export pipeline: errors, logs, sessions
    /// and transactions share one queue (errors first when it is congested), the same senders,
    /// rate limits and client reports. [`ExportGuard::flush`] and the guard's drop flush the
    /// client's batches (logs, sessions) into it first; the client's `flush` and `close` drain
    /// it too. Build the layer before the client sends anything: if the client's first
    /// envelope came first, the client keeps a pipeline of default options of its own and the
    /// layer starts another for transactions.
    ///
    /// A client with a transport of the application's keeps it: without a
    /// [`transport`](Self::transport) of our own, our envelopes are handed to the client
    /// ([`sentry_core::Client::send_envelope`]) and [`ExportGuard::flush`] flushes the client
    /// after our queue. A transaction handed to such a client counts as sent in our
    /// [`Stats`](crate::Stats); what the client's transport then drops is its own business,
    /// except a panic of it: caught, and counted in this layer's `Stats` as a panic of ours
    /// is (`transport_panics`, the envelope's items as lost).
    ///
    /// `None` (no client bound to the hub: `sentry::init` was not called yet, or its guard was
    /// dropped) makes [`build`](Self::build) fail ([`BuildError::is_sentry_client_missing`]):
    /// call `sentry::init` first and keep its guard alive.
    ///
    /// The client's `server_name` becomes the transactions' unless
    /// [`server_name`](Self::server_name) is set here.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), tracing_sentry::BuildError> {
    /// let _sentry = sentry::init(tracing_sentry::integrations::sentry::link(
    ///     sentry::ClientOptions::new()
    ///         .dsn("https://public@o42.ingest.sentry.io/7")
    ///         .release("checkout@1.4.2"),
    /// ));
    /// let (layer, guard) = tracing_sentry::SentryLayer::builder()
    ///     .sentry_client(sentry::Hub::current().client())
    ///     .traces_sample_rate(1.0) // ours overrides the client's
    ///     .build()?;
    /// # drop((layer, guard));
    /// # Ok(())
    /// # }
    /// ```
    pub fn sentry_client(mut self, client: impl Into<Option<Arc<Client>>>) -> Self {
        self.sentry_client = client.into();
        self.sentry_client_missing = self.sentry_client.is_none();
        self
    }

    /// Fills what this builder leaves unset from the client's options; returns the client and
    /// its pipeline link, if [`link`](crate::integrations::sentry::link) gave it one.
    pub(super) fn resolve_sentry_client(
        &mut self,
    ) -> Option<(Arc<Client>, Option<Arc<PipelineLink>>)> {
        let client = self.sentry_client.take()?;
        let options = client.options();
        let mut this = std::mem::take(self);
        if this.dsn.is_none() {
            this.dsn = options.dsn.as_ref().map(|dsn| dsn_string(dsn).parse());
        }
        if this.release.is_none() {
            if let Some(release) = &options.release {
                this = this.release(release.to_string());
            }
        }
        if this.environment.is_none() {
            if let Some(environment) = &options.environment {
                this = this.environment(environment.to_string());
            }
        }
        if this.sampling.traces_sample_rate.is_none() && this.sampling.traces_sampler.is_none() {
            if let TracesSamplingStrategy::FixedRate(rate) = options.traces_sampling_strategy {
                this = this.traces_sample_rate(f64::from(rate));
            }
        }
        if this.server_name.is_none() {
            this.server_name = options.server_name.as_ref().map(|name| name.to_string());
        }
        if this.org_id.is_none() {
            if let Some(org_id) = &options.org_id {
                this = this.org_id(org_id.to_string());
            }
        }
        this.shutdown_timeout = this.shutdown_timeout.or(Some(options.shutdown_timeout));
        this.debug = this.debug.or(Some(options.debug));
        this.strict_trace_continuation = this
            .strict_trace_continuation
            .or(Some(options.strict_trace_continuation));
        this.send_default_pii = this.send_default_pii.or(Some(options.send_default_pii));
        // A client whose transport is our pipeline gets this layer's pipeline (attached in
        // `build`); one with a transport of its own sends our envelopes through it.
        let link = pipeline_link(&client);
        let through_pipeline = link
            .as_ref()
            .is_some_and(|link| link.sends_through_pipeline());
        if this.transport.is_none() && !through_pipeline {
            this.transport = Some(Arc::new(ClientTransport::new(Arc::clone(&client))));
        }
        *self = this;
        Some((client, link))
    }
}

/// Makes the client's envelopes go into this layer's pipeline if it is linked to it (then
/// `guard.flush` and the guard's drop flush the client first: its batched logs and sessions
/// join the queue), else makes `guard.flush` flush the client after our queue.
pub(super) fn flush_client_too(
    mut guard: ExportGuard,
    export: &ExportHandle,
    client: Option<(Arc<Client>, Option<Arc<PipelineLink>>)>,
) -> ExportGuard {
    let Some((client, link)) = client else {
        return guard;
    };
    // A wrapped application transport's link gets the pipeline too: it counts its panics.
    guard.client_first =
        link.is_some_and(|link| link.attach(export) && link.sends_through_pipeline());
    guard.then_flush = Some(Arc::new(move |left: Duration| client.flush(Some(left))));
    guard
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_client_is_a_build_error_that_says_to_call_sentry_init_first() {
        let err = SentryLayerBuilder::default()
            .sentry_client(None)
            .build()
            .unwrap_err();
        assert!(err.is_sentry_client_missing());
        assert!(!err.is_dsn());
        let message = err.to_string();
        assert!(message.contains("sentry::init"), "{message}");
        // `fn main() -> Result<(), Box<dyn Error>>` prints the `Debug` form: it says it too.
        let debug = format!("{err:?}");
        assert!(debug.contains("sentry::init"), "{debug}");
    }

    #[test]
    fn a_client_given_after_none_builds() {
        let client = Arc::new(Client::from(sentry_core::ClientOptions::default()));
        let built = SentryLayerBuilder::default()
            .sentry_client(None)
            .sentry_client(client)
            .build();
        assert!(built.is_ok());
    }

    #[test]
    fn the_clients_server_name_is_taken_unless_one_is_set_here() {
        let mut options = sentry_core::ClientOptions::default();
        options.server_name = Some("from-client".into());
        let client = Arc::new(Client::from(options));
        let mut builder = SentryLayerBuilder::default().sentry_client(Arc::clone(&client));
        let _ = builder.resolve_sentry_client();
        assert_eq!(builder.server_name.as_deref(), Some("from-client"));

        let mut builder = SentryLayerBuilder::default()
            .server_name("mine")
            .sentry_client(client);
        let _ = builder.resolve_sentry_client();
        assert_eq!(builder.server_name.as_deref(), Some("mine"));
    }
}
