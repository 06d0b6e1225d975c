//! [`SentryLayerBuilder`]: the layer's options, named after the Sentry SDK options they mirror.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::config::{validate_environment, validate_release, Config, InvalidName};
use crate::export::transport::spotlight::{self, Spotlight, SpotlightTarget, SpotlightUrlError};
use crate::export::{
    self, Dsn, EnvelopeTransport, ExportConfig, ExportGuard, ExportHandle, ParseDsnError,
};
use crate::ignore::IgnoreRules;
use crate::layer::SentryLayer;
use crate::lifecycle::TraceLifecycle;
use crate::propagation::{org_id_from_dsn_host, HeadOptions, PropagationTargets};
use crate::sampling::{SamplingContext, SamplingOptions};
use crate::stats::StatsInner;

// Option groups in child modules, which see the builder's private fields.
// What may leave the process: `send_default_pii`, the denylist, `ignore_spans`, the hooks.
mod host;
mod privacy;
mod telemetry;
// `sentry_client` and its resolution (feature `sentry`).
#[cfg(feature = "sentry")]
mod sentry;

/// The default capacity of the export queue, in transactions.
pub const DEFAULT_QUEUE_CAPACITY: usize = 1024;
/// The default byte budget of the export queue; see [`SentryLayerBuilder::max_queued_bytes`].
pub const DEFAULT_MAX_QUEUED_BYTES: usize = export::DEFAULT_MAX_QUEUED_BYTES;
/// The smallest byte budget [`SentryLayerBuilder::max_queued_bytes`] accepts (a budget
/// smaller than one large item would refuse it).
const MIN_QUEUED_BYTES: usize = 64 * 1024;
/// The default maximum number of child spans per transaction (Sentry's own limit).
pub const DEFAULT_MAX_SPANS: usize = 1000;
/// The default time the [`ExportGuard`] waits on drop for queued transactions.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(2);
/// The environment used when none is configured, as in Sentry's Python and JavaScript SDKs.
pub const DEFAULT_ENVIRONMENT: &str = "production";

/// Builds a [`SentryLayer`] and the [`ExportGuard`] that keeps its export worker alive.
///
/// Setters are named after the Sentry SDK options they mirror. Nothing is read from the
/// environment unless you start from [`SentryLayerBuilder::from_env`].
///
/// Without a DSN and without a [`transport`](Self::transport), the layer only propagates
/// (continues incoming traces and produces outgoing headers) and records nothing.
///
/// # Examples
///
/// ```
/// use tracing_sentry::SentryLayer;
/// use tracing_subscriber::prelude::*;
///
/// let (layer, guard) = SentryLayer::builder()
///     .dsn_str("https://public@o42.ingest.sentry.io/7")
///     .release("my-service@1.2.3")
///     .environment("staging")
///     .traces_sample_rate(0.25)
///     .build()?;
///
/// // Every other option, with its default or a typical value:
/// # use tracing_sentry::propagation::PropagationTargets;
/// let (_other, _other_guard) = SentryLayer::builder()
///     .org_id("42")
///     .traces_sampler(|ctx| if ctx.name() == "health" { 0.0 } else { 0.5 })
///     .strict_trace_continuation(false)
///     .trace_propagation_targets(PropagationTargets::all())
///     .propagate_traceparent(false)
///     .accept_traceparent(false)
///     .forward_third_party_baggage(false)
///     .transport(tracing_sentry::export::InMemoryTransport::new())
///     .queue_capacity(tracing_sentry::DEFAULT_QUEUE_CAPACITY)
///     .max_spans(tracing_sentry::DEFAULT_MAX_SPANS)
///     .shutdown_timeout(tracing_sentry::DEFAULT_SHUTDOWN_TIMEOUT)
///     .debug(false)
///     .build()?;
/// let subscriber = tracing_subscriber::registry().with(layer);
/// tracing::subscriber::with_default(subscriber, || {
///     tracing::info_span!("startup").in_scope(|| {});
/// });
/// drop(guard); // flushes what is queued, waiting at most the shutdown timeout
/// # Ok::<(), tracing_sentry::BuildError>(())
/// ```
#[must_use = "a builder does nothing until `build` is called"]
pub struct SentryLayerBuilder {
    dsn: Option<Result<Dsn, ParseDsnError>>,
    org_id: Option<String>,
    release: Option<String>,
    environment: Option<String>,
    /// Whether `release`/`environment` came from `SENTRY_RELEASE`/`SENTRY_ENVIRONMENT` (for
    /// the error message).
    release_from_env: bool,
    environment_from_env: bool,
    sampling: SamplingOptions,
    /// `None` until set, so that a `sentry` client's value can fill it (feature `sentry`).
    strict_trace_continuation: Option<bool>,
    targets: PropagationTargets,
    propagate_traceparent: bool,
    accept_traceparent: bool,
    forward_third_party_baggage: bool,
    transport: Option<Arc<dyn EnvelopeTransport>>,
    queue_capacity: usize,
    max_requests_in_flight: usize,
    max_queued_bytes: usize,
    backpressure_handling: bool,
    max_spans: usize,
    shutdown_timeout: Option<Duration>,
    debug: Option<bool>,
    trace_lifecycle: TraceLifecycle,
    /// `SENTRY_TRACE_LIFECYCLE` held something other than `static`/`stream`.
    trace_lifecycle_invalid: bool,
    /// The denylist, `ignore_spans` and the `before_send_*` hooks (`send_default_pii` is set
    /// from the field below when the layer is built).
    privacy: export::Privacy,
    /// The `ignore_spans` rules.
    ignore: IgnoreRules,
    send_default_pii: Option<bool>,
    /// The `spotlight` option as set in code (`None`: never set).
    spotlight: Option<Spotlight>,
    /// `SENTRY_SPOTLIGHT`, as read by `from_env`.
    spotlight_env: Option<Spotlight>,
    /// `None`: the host name; `Some("")`: none.
    server_name: Option<String>,
    /// Logs and metrics from events.
    telemetry: telemetry::TelemetryOptions,
    #[cfg(feature = "sentry")]
    sentry_client: Option<Arc<sentry_core::Client>>,
    /// `sentry_client` was given `None` (no client bound when the layer was configured).
    #[cfg(feature = "sentry")]
    sentry_client_missing: bool,
}

/// The error returned by [`SentryLayerBuilder::build`].
pub struct BuildError {
    kind: BuildErrorKind,
}

enum BuildErrorKind {
    Dsn(ParseDsnError),
    /// The reason, and whether the value came from `SENTRY_RELEASE`.
    Release(InvalidName, bool),
    /// The reason, and whether the value came from `SENTRY_ENVIRONMENT`.
    Environment(InvalidName, bool),
    /// `SENTRY_TRACE_LIFECYCLE` named no lifecycle.
    TraceLifecycle,
    /// The Spotlight URL, and whether it came from `SENTRY_SPOTLIGHT`.
    Spotlight(SpotlightUrlError, bool),
    /// `sentry_client(None)`: no `sentry` client was bound when the layer was configured.
    #[cfg(feature = "sentry")]
    SentryClientMissing,
    Worker(std::io::Error),
}

// === impl SentryLayerBuilder ===

impl Default for SentryLayerBuilder {
    fn default() -> Self {
        Self {
            dsn: None,
            org_id: None,
            release: None,
            environment: None,
            release_from_env: false,
            environment_from_env: false,
            sampling: SamplingOptions::default(),
            strict_trace_continuation: None,
            targets: PropagationTargets::all(),
            propagate_traceparent: false,
            accept_traceparent: false,
            forward_third_party_baggage: false,
            transport: None,
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
            max_requests_in_flight: export::DEFAULT_MAX_REQUESTS_IN_FLIGHT,
            max_queued_bytes: DEFAULT_MAX_QUEUED_BYTES,
            backpressure_handling: true,
            max_spans: DEFAULT_MAX_SPANS,
            shutdown_timeout: None,
            debug: None,
            trace_lifecycle: TraceLifecycle::Static,
            trace_lifecycle_invalid: false,
            privacy: export::Privacy::default(),
            ignore: IgnoreRules::default(),
            send_default_pii: None,
            spotlight: None,
            spotlight_env: None,
            server_name: None,
            telemetry: telemetry::TelemetryOptions::default(),
            #[cfg(feature = "sentry")]
            sentry_client: None,
            #[cfg(feature = "sentry")]
            sentry_client_missing: false,
        }
    }
}

impl SentryLayerBuilder {
    /// Returns a builder with default options: no DSN, environment `production`, tracing not
    /// configured (propagation only), propagation to every URL.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let (layer, _guard) = tracing_sentry::SentryLayer::builder().build()?;
    /// # drop(layer);
    /// # Ok::<(), tracing_sentry::BuildError>(())
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Returns a builder configured from the variables Sentry SDKs read: `SENTRY_DSN`,
    /// `SENTRY_RELEASE`, `SENTRY_ENVIRONMENT`, `SENTRY_TRACES_SAMPLE_RATE`,
    /// `SENTRY_TRACE_LIFECYCLE`, `SENTRY_SPOTLIGHT` (see [`spotlight`](Self::spotlight)) and
    /// `SENTRY_ENABLE_LOGS` (see [`enable_logs`](Self::enable_logs)).
    ///
    /// Unset or empty variables are skipped. An invalid `SENTRY_DSN`, and a `SENTRY_RELEASE` or
    /// `SENTRY_ENVIRONMENT` that Sentry's ingestion would refuse (see [`release`](Self::release)
    /// and [`environment`](Self::environment)), are reported by [`build`](Self::build); an
    /// unparseable sample rate is ignored.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let builder = tracing_sentry::SentryLayer::builder_from_env();
    /// # drop(builder);
    /// ```
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let mut builder = Self::new();
        if let Some(dsn) = var("SENTRY_DSN") {
            builder = builder.dsn_str(dsn.trim());
        }
        if let Some(release) = var("SENTRY_RELEASE") {
            builder = builder.release(release);
            builder.release_from_env = true;
        }
        if let Some(environment) = var("SENTRY_ENVIRONMENT") {
            builder = builder.environment(environment);
            builder.environment_from_env = true;
        }
        if let Some(rate) = var("SENTRY_TRACES_SAMPLE_RATE").and_then(|r| r.trim().parse().ok()) {
            builder = builder.traces_sample_rate(rate);
        }
        if let Some(enable) = var("SENTRY_ENABLE_LOGS").and_then(|v| telemetry::parse_bool(&v)) {
            builder = builder.enable_logs(enable);
        }
        builder.spotlight_env = var("SENTRY_SPOTLIGHT").and_then(|v| Spotlight::from_env_value(&v));
        if let Some(lifecycle) = var("SENTRY_TRACE_LIFECYCLE") {
            match lifecycle.parse() {
                Ok(lifecycle) => builder = builder.trace_lifecycle(lifecycle),
                Err(_) => builder.trace_lifecycle_invalid = true,
            }
        }
        builder
    }

    /// Sets how finished spans reach Sentry: as transactions ([`TraceLifecycle::Static`], the
    /// default) or streamed as span v2 items ([`TraceLifecycle::Stream`]).
    /// [`from_env`](Self::from_env) reads it from `SENTRY_TRACE_LIFECYCLE` (`static` or
    /// `stream`; unset or empty means `static`, anything else makes [`build`](Self::build)
    /// fail, see [`BuildError::is_trace_lifecycle`]).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use tracing_sentry::TraceLifecycle;
    ///
    /// let (layer, _guard) = tracing_sentry::SentryLayer::builder()
    ///     .dsn_str("https://public@o42.ingest.sentry.io/7")
    ///     .traces_sample_rate(1.0)
    ///     .trace_lifecycle(TraceLifecycle::Stream)
    ///     .build()?;
    /// # drop(layer);
    /// # Ok::<(), tracing_sentry::BuildError>(())
    /// ```
    pub fn trace_lifecycle(mut self, lifecycle: TraceLifecycle) -> Self {
        self.trace_lifecycle = lifecycle;
        self.trace_lifecycle_invalid = false;
        self
    }

    /// Sets the DSN: where transactions are sent, and the `public_key` (and org id, from an
    /// `o<digits>.` host) of the traces this service starts.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use tracing_sentry::export::Dsn;
    ///
    /// let dsn: Dsn = "https://public@o42.ingest.sentry.io/7".parse()?;
    /// let (layer, _guard) = tracing_sentry::SentryLayer::builder().dsn(dsn).build()?;
    /// # drop(layer);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn dsn(mut self, dsn: Dsn) -> Self {
        self.dsn = Some(Ok(dsn));
        self
    }

    /// Sets the DSN from a string; a malformed DSN is reported by [`build`](Self::build).
    ///
    /// # Examples
    ///
    /// ```
    /// let result = tracing_sentry::SentryLayer::builder().dsn_str("not a dsn").build();
    /// assert!(result.unwrap_err().is_dsn());
    /// ```
    pub fn dsn_str(mut self, dsn: &str) -> Self {
        self.dsn = Some(dsn.parse());
        self
    }

    /// Sets the organization id (`orgId`), which takes precedence over the one in the DSN host.
    /// It is propagated as `sentry-org_id` and used by strict trace continuation.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let (layer, _guard) = tracing_sentry::SentryLayer::builder().org_id("42").strict_trace_continuation(true).build()?;
    /// # drop(layer);
    /// # Ok::<(), tracing_sentry::BuildError>(())
    /// ```
    pub fn org_id(mut self, org_id: impl Into<String>) -> Self {
        self.org_id = Some(org_id.into()).filter(|s| !s.is_empty());
        self
    }

    /// Sets the release, sent with transactions and in the DSC of traces this service starts.
    ///
    /// The value must be one Sentry's ingestion keeps: at most 200 bytes, not `.`, `..` or
    /// `latest` (in any case), and without `/`, newlines, tabs or other control characters.
    /// Otherwise [`build`](Self::build) returns an error ([`BuildError::is_release`]) rather
    /// than sending a value Sentry would drop silently. An empty value means no release.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let (layer, _guard) = tracing_sentry::SentryLayer::builder().release("checkout@1.4.2").build()?;
    /// # drop(layer);
    /// # Ok::<(), tracing_sentry::BuildError>(())
    /// ```
    pub fn release(mut self, release: impl Into<String>) -> Self {
        self.release = Some(release.into()).filter(|s| !s.is_empty());
        self.release_from_env = false;
        self
    }

    /// Sets the environment (default `production`).
    ///
    /// The value must be one Sentry's ingestion keeps: at most 64 bytes, not `.`, `..` or `none`
    /// (in any case), and without `/`, newlines, tabs or other control characters. Otherwise
    /// [`build`](Self::build) returns an error ([`BuildError::is_environment`]). An empty value
    /// means the default.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let (layer, _guard) = tracing_sentry::SentryLayer::builder().environment("staging").build()?;
    /// # drop(layer);
    /// # Ok::<(), tracing_sentry::BuildError>(())
    /// ```
    pub fn environment(mut self, environment: impl Into<String>) -> Self {
        self.environment = Some(environment.into()).filter(|s| !s.is_empty());
        self.environment_from_env = false;
        self
    }

    /// Sets the sample rate for traces this service starts or continues with a deferred
    /// decision, in `[0, 1]` (clamped). Setting it enables tracing.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let (layer, _guard) = tracing_sentry::SentryLayer::builder().traces_sample_rate(0.1).build()?;
    /// # drop(layer);
    /// # Ok::<(), tracing_sentry::BuildError>(())
    /// ```
    pub fn traces_sample_rate(mut self, rate: f64) -> Self {
        self.sampling.traces_sample_rate = Some(rate);
        self
    }

    /// Sets a sampling function, which takes precedence over the rate and over an incoming
    /// decision. Setting it enables tracing. See [`SamplingContext`] for what it sees.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let (layer, _guard) = tracing_sentry::SentryLayer::builder().traces_sampler(|ctx| if ctx.name() == "health" { 0.0 } else { 0.5 }).build()?;
    /// # drop(layer);
    /// # Ok::<(), tracing_sentry::BuildError>(())
    /// ```
    pub fn traces_sampler<F>(mut self, sampler: F) -> Self
    where
        F: Fn(&SamplingContext<'_>) -> f64 + Send + Sync + 'static,
    {
        self.sampling.traces_sampler = Some(Arc::new(sampler));
        self
    }

    /// Continues an incoming trace only when its org id matches this service's (spec
    /// `strictTraceContinuation`). Off by default: then only two different org ids break a trace.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let (layer, _guard) = tracing_sentry::SentryLayer::builder().strict_trace_continuation(true).build()?;
    /// # drop(layer);
    /// # Ok::<(), tracing_sentry::BuildError>(())
    /// ```
    pub fn strict_trace_continuation(mut self, strict: bool) -> Self {
        self.strict_trace_continuation = Some(strict);
        self
    }

    /// Limits where outgoing trace headers may go (`tracePropagationTargets`). The default
    /// propagates everywhere; [`PropagationTargets::none`] propagates nowhere. Applies to
    /// [`headers_for_url`](crate::headers_for_url) and the HTTP client helpers.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use tracing_sentry::propagation::{PropagationTarget, PropagationTargets};
    ///
    /// let targets = PropagationTargets::new([
    ///     PropagationTarget::substring("api.internal"),
    ///     PropagationTarget::regex(r"^https://([a-z]+\.)?example\.com/")?,
    /// ]);
    /// let (layer, _guard) = tracing_sentry::SentryLayer::builder()
    ///     .trace_propagation_targets(targets)
    ///     .build()?;
    /// # drop(layer);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn trace_propagation_targets(mut self, targets: PropagationTargets) -> Self {
        self.targets = targets;
        self
    }

    /// Also emits a W3C `traceparent` header next to `sentry-trace` (`propagateTraceparent`).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let (layer, _guard) = tracing_sentry::SentryLayer::builder().propagate_traceparent(true).build()?;
    /// # drop(layer);
    /// # Ok::<(), tracing_sentry::BuildError>(())
    /// ```
    pub fn propagate_traceparent(mut self, enabled: bool) -> Self {
        self.propagate_traceparent = enabled;
        self
    }

    /// Continues a trace from a W3C `traceparent` header when no `sentry-trace` header arrived.
    /// Off by default: Sentry SDKs continue traces from `sentry-trace` only.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let (layer, _guard) = tracing_sentry::SentryLayer::builder().accept_traceparent(true).build()?;
    /// # drop(layer);
    /// # Ok::<(), tracing_sentry::BuildError>(())
    /// ```
    pub fn accept_traceparent(mut self, enabled: bool) -> Self {
        self.accept_traceparent = enabled;
        self
    }

    /// Forwards incoming third-party `baggage` members on outgoing requests. Off by default, as
    /// Sentry's DSC spec requires ("SDKs MUST NOT add other vendors' baggage from incoming
    /// requests to outgoing requests"); turn it on only when this service is meant to relay them.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let (layer, _guard) = tracing_sentry::SentryLayer::builder().forward_third_party_baggage(true).build()?;
    /// # drop(layer);
    /// # Ok::<(), tracing_sentry::BuildError>(())
    /// ```
    pub fn forward_third_party_baggage(mut self, enabled: bool) -> Self {
        self.forward_third_party_baggage = enabled;
        self
    }

    /// Sends envelopes through `transport` instead of HTTP to the DSN.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use tracing_sentry::export::InMemoryTransport;
    ///
    /// let transport = InMemoryTransport::new();
    /// let (layer, _guard) = tracing_sentry::SentryLayer::builder()
    ///     .transport(transport.clone())
    ///     .traces_sample_rate(1.0)
    ///     .build()?;
    /// # drop(layer);
    /// assert!(transport.envelopes().is_empty());
    /// # Ok::<(), tracing_sentry::BuildError>(())
    /// ```
    pub fn transport(mut self, transport: impl EnvelopeTransport) -> Self {
        self.transport = Some(Arc::new(transport));
        self
    }

    /// Sets the export queue capacity, in transactions (default [`DEFAULT_QUEUE_CAPACITY`]).
    /// When the queue is full, new transactions are dropped and counted.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let (layer, _guard) = tracing_sentry::SentryLayer::builder().queue_capacity(256).build()?;
    /// # drop(layer);
    /// # Ok::<(), tracing_sentry::BuildError>(())
    /// ```
    pub fn queue_capacity(mut self, capacity: usize) -> Self {
        self.queue_capacity = capacity.max(1);
        self
    }

    /// Sets how many envelope requests may be in flight at once (default 64, at least 1).
    ///
    /// Each request waits a round trip to Sentry, so one at a time delivers at most about
    /// 1/RTT transactions per second; 64 requests deliver over 1,000 per second at 50 ms and
    /// over 300 at 200 ms (measured; see the README). Senders are threads that start when work
    /// waits and requests take a millisecond or more (or the queue is half full), and retire
    /// when idle, sharing one connection pool and one rate-limit state.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let (layer, _guard) = tracing_sentry::SentryLayer::builder()
    ///     .max_requests_in_flight(16)
    ///     .build()?;
    /// # drop(layer);
    /// # Ok::<(), tracing_sentry::BuildError>(())
    /// ```
    pub fn max_requests_in_flight(mut self, requests: usize) -> Self {
        self.max_requests_in_flight = requests.max(1);
        self
    }

    /// Sets the byte budget of the export queue (default [`DEFAULT_MAX_QUEUED_BYTES`], 32 MiB,
    /// at least 64 KiB): about the serialised size of everything queued and in flight
    /// (transactions, streamed spans, logs, metrics and, through
    /// [`integrations::sentry::link`](crate::integrations::sentry::link), the `sentry`
    /// crate's events), estimated when each is queued. The memory the queue holds is of the
    /// same order.
    ///
    /// When the budget is spent, work of a lower priority is shed for work of a higher one
    /// (errors first, then check-ins and sessions, transactions, spans, logs and metrics), so
    /// the budget is what a burst of errors can use while Sentry is slow or unreachable: a
    /// typical error event is about 1 KB, so the default holds about 30,000 of them. Every
    /// item shed or refused is counted in [`Stats`](crate::Stats) and client-reported as
    /// `queue_overflow`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let (layer, _guard) = tracing_sentry::SentryLayer::builder()
    ///     .max_queued_bytes(64 * 1024 * 1024)
    ///     .build()?;
    /// # drop(layer);
    /// # Ok::<(), tracing_sentry::BuildError>(())
    /// ```
    pub fn max_queued_bytes(mut self, bytes: usize) -> Self {
        self.max_queued_bytes = bytes.max(MIN_QUEUED_BYTES);
        self
    }

    /// Turns backpressure handling on or off (default on, as in Sentry's Python SDK).
    ///
    /// Every 10 s the export pipeline checks its health: unhealthy if its queue was full (it
    /// refused or shed work) or a rate limit from Sentry is in force. Each unhealthy check
    /// halves the sample rate this process applies (a `traces_sample_rate` or a
    /// `traces_sampler`'s rate) once more, at most 10 times; a healthy check restores it.
    /// Decisions inherited from an incoming trace are kept, so traces stay whole. Traces not
    /// sampled because of it are counted in `transactions_dropped_backpressure` and reported
    /// as `backpressure`; [`Stats::backpressure_downsample_factor`](crate::Stats) shows the
    /// current number of halvings. The sampling decision reads one atomic for it.
    ///
    /// # Examples
    ///
    /// ```
    /// let (layer, _guard) = tracing_sentry::SentryLayer::builder()
    ///     .traces_sample_rate(0.2)
    ///     .backpressure_handling(false) // always 20 %
    ///     .build()?;
    /// # drop(layer);
    /// # Ok::<(), tracing_sentry::BuildError>(())
    /// ```
    pub fn backpressure_handling(mut self, enabled: bool) -> Self {
        self.backpressure_handling = enabled;
        self
    }

    /// Sets the maximum number of child spans per transaction (default [`DEFAULT_MAX_SPANS`]);
    /// later children are dropped and counted.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let (layer, _guard) = tracing_sentry::SentryLayer::builder().max_spans(200).build()?;
    /// # drop(layer);
    /// # Ok::<(), tracing_sentry::BuildError>(())
    /// ```
    pub fn max_spans(mut self, max_spans: usize) -> Self {
        self.max_spans = max_spans;
        self
    }

    /// Sets how long dropping the [`ExportGuard`] waits for queued transactions (default
    /// [`DEFAULT_SHUTDOWN_TIMEOUT`]).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let (layer, _guard) = tracing_sentry::SentryLayer::builder().shutdown_timeout(std::time::Duration::from_millis(500)).build()?;
    /// # drop(layer);
    /// # Ok::<(), tracing_sentry::BuildError>(())
    /// ```
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = Some(timeout);
        self
    }

    /// Sends a copy of every envelope to [Sentry Spotlight](https://spotlightjs.com/), the
    /// local development UI: `true` for the sidecar at [`DEFAULT_SPOTLIGHT_URL`](crate::DEFAULT_SPOTLIGHT_URL)
    /// (`http://localhost:8969/stream`), a URL for another one, `false` for none (the default).
    ///
    /// Spotlight never changes what goes to Sentry and never blocks: copies go through a
    /// bounded channel to a thread of their own, a sidecar that is down costs one line on
    /// stderr and a growing backoff, and copies that do not fit are dropped and counted
    /// ([`Stats::spotlight_envelopes_dropped`](crate::Stats::spotlight_envelopes_dropped)).
    /// With Spotlight on and neither a DSN nor a transport, envelopes go to the sidecar only,
    /// and every trace is sampled (the sample rate and the sampler are not used), as in
    /// Sentry's other SDKs; `send_default_pii` stays as set.
    ///
    /// With [`from_env`](Self::from_env), `SENTRY_SPOTLIGHT` is read too (`true`, `1`, `yes`,
    /// `on`, ...; `false`, `0`, `no`, `off`, ...; or a URL), and the SDKs' precedence applies:
    /// `spotlight(false)` wins over the variable; a URL given here wins over the variable's;
    /// `spotlight(true)` takes the variable's URL if it holds one; without this option the
    /// variable decides. When `spotlight(false)` turns off a variable that would turn Spotlight
    /// on, or a URL given here replaces another URL in the variable, one line on stderr says so
    /// (the SDKs' warnings).
    ///
    /// The sidecar is reached over plain HTTP (`http://` URLs only; another scheme or a
    /// malformed URL makes [`build`](Self::build) fail, see [`BuildError::is_spotlight`]). Run
    /// it with `npx @spotlightjs/spotlight`.
    ///
    /// # Examples
    ///
    /// ```
    /// let (layer, guard) = tracing_sentry::SentryLayer::builder()
    ///     .spotlight(true) // or .spotlight("http://localhost:8969/stream")
    ///     .build()?;
    /// # drop((layer, guard));
    /// # Ok::<(), tracing_sentry::BuildError>(())
    /// ```
    pub fn spotlight(mut self, spotlight: impl Into<Spotlight>) -> Self {
        self.spotlight = Some(spotlight.into());
        self
    }

    /// Sets the `server_name` of transactions (and the `server.address` attribute of streamed
    /// spans); an empty name sends none. By default it is the host name, read once when the
    /// layer is built, as Sentry's SDKs send it: the kernel's host name on Linux, else the
    /// `HOSTNAME` or `COMPUTERNAME` environment variable (none if neither is set). With
    /// [`sentry_client`](Self::sentry_client) (feature `sentry`), the client's `server_name`
    /// unless set here.
    ///
    /// # Examples
    ///
    /// ```
    /// let (layer, _guard) = tracing_sentry::SentryLayer::builder()
    ///     .server_name("checkout-7f9c") // or "" to send none
    ///     .build()?;
    /// # drop(layer);
    /// # Ok::<(), tracing_sentry::BuildError>(())
    /// ```
    pub fn server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = Some(name.into());
        self
    }

    /// Prints export problems to stderr: one line when transactions start being dropped, then
    /// at most one summary every 10 s while it goes on (never one line per drop).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let (layer, _guard) = tracing_sentry::SentryLayer::builder().debug(true).build()?;
    /// # drop(layer);
    /// # Ok::<(), tracing_sentry::BuildError>(())
    /// ```
    pub fn debug(mut self, debug: bool) -> Self {
        self.debug = Some(debug);
        self
    }

    /// Builds the layer, and starts the export worker if there is a DSN or a transport.
    ///
    /// # Errors
    ///
    /// Returns an error if the DSN given with [`dsn_str`](Self::dsn_str) is malformed, if the
    /// release or the environment is one Sentry's ingestion refuses (see
    /// [`release`](Self::release), [`environment`](Self::environment); values read by
    /// [`from_env`](Self::from_env) included), if [`sentry_client`](Self::sentry_client) was given
    /// no client (feature `sentry`: call `sentry::init` first), or if the export worker thread
    /// cannot be spawned.
    ///
    /// # Examples
    ///
    /// ```
    /// use tracing_subscriber::prelude::*;
    ///
    /// let (layer, guard) = tracing_sentry::SentryLayer::builder().traces_sample_rate(1.0).build()?;
    /// let subscriber = tracing_subscriber::registry().with(layer);
    /// tracing::subscriber::with_default(subscriber, || tracing::info_span!("work").in_scope(|| {}));
    /// assert!(guard.flush(std::time::Duration::from_secs(1)));
    /// # Ok::<(), tracing_sentry::BuildError>(())
    /// ```
    pub fn build(mut self) -> Result<(SentryLayer, ExportGuard), BuildError> {
        // The client's options first, through the setters, so that validation applies to them.
        #[cfg(feature = "sentry")]
        if self.sentry_client_missing {
            return Err(BuildError {
                kind: BuildErrorKind::SentryClientMissing,
            });
        }
        #[cfg(feature = "sentry")]
        let client = self.resolve_sentry_client();
        self.validate_names()?;
        if self.trace_lifecycle_invalid {
            return Err(BuildError {
                kind: BuildErrorKind::TraceLifecycle,
            });
        }
        let dsn = match self.dsn.take() {
            Some(Ok(dsn)) => Some(dsn),
            Some(Err(err)) => {
                return Err(BuildError {
                    kind: BuildErrorKind::Dsn(err),
                })
            }
            None => None,
        };
        let spotlight = self.resolve_spotlight()?;
        if spotlight.is_some() && dsn.is_none() && self.transport.is_none() {
            // Spotlight alone: local development, where every trace is worth seeing.
            self.sampling.traces_sample_rate = Some(1.0);
            self.sampling.traces_sampler = None;
        }
        let stats = Arc::new(StatsInner::default());
        let wants_export = dsn.is_some() || self.transport.is_some() || spotlight.is_some();
        // Read once, here: every transaction and streamed span carries them.
        let server_name = match self.server_name.take() {
            Some(name) => Some(name).filter(|name| !name.is_empty()),
            None => host::host_name(),
        };
        let options = export::ExportOptions {
            max_in_flight: self.max_requests_in_flight,
            max_queued_bytes: self.max_queued_bytes,
            health_check_interval: self
                .backpressure_handling
                .then_some(export::DEFAULT_HEALTH_CHECK_INTERVAL),
            server_name,
            host: host::host(),
            ..export::ExportOptions::default()
        };
        let (export, guard) = export::start_with(
            ExportConfig {
                dsn: dsn.clone(),
                transport: self.transport.take(),
                spotlight,
                release: self.release.clone(),
                environment: self.environment_or_default(),
                queue_capacity: self.queue_capacity,
                shutdown_timeout: self.shutdown_timeout.unwrap_or(DEFAULT_SHUTDOWN_TIMEOUT),
                stats: Arc::clone(&stats),
                debug: self.debug.unwrap_or(false),
                privacy: export::Privacy {
                    send_default_pii: self.send_default_pii.unwrap_or(false),
                    ..self.privacy.clone()
                },
            },
            options,
        )
        .map_err(|err| BuildError {
            kind: BuildErrorKind::Worker(err),
        })?;
        #[cfg(feature = "sentry")]
        let guard = sentry::flush_client_too(guard, &export, client);
        self.dsn = dsn.map(Ok);
        let mut config = self.into_config(wants_export.then_some(export));
        config.stats = stats;
        Ok((SentryLayer::from_config(config), guard))
    }

    /// The Spotlight sidecar to post to, if any, after the spec's precedence between the
    /// option and `SENTRY_SPOTLIGHT`.
    fn resolve_spotlight(&self) -> Result<Option<SpotlightTarget>, BuildError> {
        let resolved = spotlight::resolve(self.spotlight.as_ref(), self.spotlight_env.as_ref());
        if let Some(why) = resolved.overridden {
            eprintln!("tracing-sentry: {why}.");
        }
        let Some(url) = resolved.url else {
            return Ok(None);
        };
        let from_env = !matches!(self.spotlight, Some(Spotlight::Url(_)));
        SpotlightTarget::parse(&url)
            .map(Some)
            .map_err(|err| BuildError {
                kind: BuildErrorKind::Spotlight(err, from_env),
            })
    }

    /// Refuses a release or an environment that Sentry's ingestion would drop.
    fn validate_names(&self) -> Result<(), BuildError> {
        if let Some(Err(reason)) = self.release.as_deref().map(validate_release) {
            return Err(BuildError {
                kind: BuildErrorKind::Release(reason, self.release_from_env),
            });
        }
        if let Some(Err(reason)) = self.environment.as_deref().map(validate_environment) {
            return Err(BuildError {
                kind: BuildErrorKind::Environment(reason, self.environment_from_env),
            });
        }
        Ok(())
    }

    fn environment_or_default(&self) -> String {
        self.environment
            .clone()
            .unwrap_or_else(|| DEFAULT_ENVIRONMENT.to_owned())
    }

    /// Resolves the options (an invalid DSN is ignored here; `build` reports it first).
    pub(crate) fn into_config(self, export: Option<ExportHandle>) -> Config {
        let has_export = export.is_some();
        let environment = self.environment_or_default();
        let dsn = self.dsn.and_then(Result::ok);
        let public_key = dsn.as_ref().map(|d| d.public_key().to_owned());
        let org_id = self.org_id.or_else(|| {
            dsn.as_ref()
                .and_then(|d| org_id_from_dsn_host(d.host()).map(str::to_owned))
        });
        Config {
            head: Arc::new(HeadOptions {
                public_key,
                org_id,
                environment,
                release: self.release,
            }),
            roots_mostly_lazy: self.sampling.traces_sampler.is_none()
                && self
                    .sampling
                    .traces_sample_rate
                    .map_or(true, |rate| rate < 0.5),
            sampling: self.sampling,
            strict_trace_continuation: self.strict_trace_continuation.unwrap_or(false),
            targets: self.targets,
            propagate_traceparent: self.propagate_traceparent,
            accept_traceparent: self.accept_traceparent,
            forward_third_party_baggage: self.forward_third_party_baggage,
            send_default_pii: self.send_default_pii.unwrap_or(false),
            max_spans: self.max_spans,
            lifecycle: self.trace_lifecycle,
            export,
            stats: Arc::new(StatsInner::default()),
            ignore: self.ignore.any().then(|| Arc::new(self.ignore)),
            telemetry: self.telemetry.resolve(has_export),
        }
    }
}

impl fmt::Debug for SentryLayerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SentryLayerBuilder")
            .field("dsn", &self.dsn.as_ref().map(|d| d.is_ok()))
            .field("release", &self.release)
            .field("environment", &self.environment)
            .field("traces_sample_rate", &self.sampling.traces_sample_rate)
            .field("traces_sampler", &self.sampling.traces_sampler.is_some())
            .field("transport", &self.transport.is_some())
            .finish_non_exhaustive()
    }
}

// === impl BuildError ===

impl BuildError {
    /// Returns `true` if the DSN was malformed.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = tracing_sentry::SentryLayer::builder().dsn_str("https://nokey.example/1").build().unwrap_err();
    /// assert!(err.is_dsn());
    /// assert_eq!(err.to_string(), "invalid Sentry DSN");
    /// ```
    pub fn is_dsn(&self) -> bool {
        matches!(self.kind, BuildErrorKind::Dsn(_))
    }

    /// Returns `true` if the release is one Sentry's ingestion refuses (see
    /// [`SentryLayerBuilder::release`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let err = tracing_sentry::SentryLayer::builder().release("api/1.0").build().unwrap_err();
    /// assert!(err.is_release());
    /// assert_eq!(err.to_string(), "invalid release: contains `/` or a control character");
    /// ```
    pub fn is_release(&self) -> bool {
        matches!(self.kind, BuildErrorKind::Release(..))
    }

    /// Returns `true` if the environment is one Sentry's ingestion refuses (see
    /// [`SentryLayerBuilder::environment`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let err = tracing_sentry::SentryLayer::builder().environment("none").build().unwrap_err();
    /// assert!(err.is_environment());
    /// ```
    pub fn is_environment(&self) -> bool {
        matches!(self.kind, BuildErrorKind::Environment(..))
    }

    /// Returns `true` if `SENTRY_TRACE_LIFECYCLE` was neither `static` nor `stream` (see
    /// [`SentryLayerBuilder::trace_lifecycle`]).
    pub fn is_trace_lifecycle(&self) -> bool {
        matches!(self.kind, BuildErrorKind::TraceLifecycle)
    }

    /// Returns `true` if the Spotlight URL (see [`SentryLayerBuilder::spotlight`]) is malformed
    /// or not an `http://` URL.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = tracing_sentry::SentryLayer::builder()
    ///     .spotlight("https://localhost:8969/stream")
    ///     .build()
    ///     .unwrap_err();
    /// assert!(err.is_spotlight());
    /// ```
    pub fn is_spotlight(&self) -> bool {
        matches!(self.kind, BuildErrorKind::Spotlight(..))
    }

    /// Returns `true` if [`SentryLayerBuilder::sentry_client`] was given no client (feature
    /// `sentry`): the layer was configured before `sentry::init`, or after its guard was
    /// dropped. Call `sentry::init` first, keep its guard, then build the layer.
    ///
    /// # Examples
    ///
    /// ```
    /// // No `sentry::init` yet: the hub has no client.
    /// let err = tracing_sentry::SentryLayer::builder()
    ///     .sentry_client(sentry::Hub::current().client())
    ///     .build()
    ///     .unwrap_err();
    /// assert!(err.is_sentry_client_missing());
    /// ```
    #[cfg(feature = "sentry")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sentry")))]
    pub fn is_sentry_client_missing(&self) -> bool {
        matches!(self.kind, BuildErrorKind::SentryClientMissing)
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            BuildErrorKind::Dsn(_) => f.write_str("invalid Sentry DSN"),
            BuildErrorKind::Release(reason, from_env) => {
                let origin = if *from_env {
                    " (from SENTRY_RELEASE)"
                } else {
                    ""
                };
                write!(f, "invalid release{origin}: {}", reason.as_str())
            }
            BuildErrorKind::Environment(reason, from_env) => {
                let origin = if *from_env {
                    " (from SENTRY_ENVIRONMENT)"
                } else {
                    ""
                };
                write!(f, "invalid environment{origin}: {}", reason.as_str())
            }
            BuildErrorKind::TraceLifecycle => f.write_str(
                "invalid trace lifecycle (from SENTRY_TRACE_LIFECYCLE): expected `static` or `stream`",
            ),
            BuildErrorKind::Spotlight(reason, from_env) => {
                let origin = if *from_env {
                    " (from SENTRY_SPOTLIGHT)"
                } else {
                    ""
                };
                write!(f, "invalid Spotlight URL{origin}: {reason}")
            }
            #[cfg(feature = "sentry")]
            BuildErrorKind::SentryClientMissing => f.write_str(
                "no `sentry` client is bound: call `sentry::init` (and keep its guard) before \
                 building the layer with `sentry_client(sentry::Hub::current().client())`",
            ),
            BuildErrorKind::Worker(_) => f.write_str("could not start the export worker thread"),
        }
    }
}

impl fmt::Debug for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            BuildErrorKind::Dsn(err) => f.debug_tuple("BuildError::Dsn").field(err).finish(),
            BuildErrorKind::Release(reason, from_env) => f
                .debug_struct("BuildError::Release")
                .field("reason", reason)
                .field("from_env", from_env)
                .finish(),
            BuildErrorKind::Environment(reason, from_env) => f
                .debug_struct("BuildError::Environment")
                .field("reason", reason)
                .field("from_env", from_env)
                .finish(),
            // The message too: `main` returning the error prints its `Debug` form.
            BuildErrorKind::TraceLifecycle => f
                .debug_tuple("BuildError::TraceLifecycle")
                .field(&self.to_string())
                .finish(),
            BuildErrorKind::Spotlight(reason, from_env) => f
                .debug_struct("BuildError::Spotlight")
                .field("reason", reason)
                .field("from_env", from_env)
                .finish(),
            #[cfg(feature = "sentry")]
            BuildErrorKind::SentryClientMissing => f
                .debug_tuple("BuildError::SentryClientMissing")
                .field(&self.to_string())
                .finish(),
            BuildErrorKind::Worker(err) => f.debug_tuple("BuildError::Worker").field(err).finish(),
        }
    }
}

impl std::error::Error for BuildError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            BuildErrorKind::Dsn(err) => Some(err),
            BuildErrorKind::Release(..)
            | BuildErrorKind::Environment(..)
            | BuildErrorKind::TraceLifecycle
            | BuildErrorKind::Spotlight(..) => None,
            #[cfg(feature = "sentry")]
            BuildErrorKind::SentryClientMissing => None,
            BuildErrorKind::Worker(err) => Some(err),
        }
    }
}
