//! The builder's options for logs and metrics from events (see the [`telemetry`](crate::telemetry)
//! module): `enable_logs` (and `SENTRY_ENABLE_LOGS`), `logs_level`, `log_span_fields`,
//! `enable_metrics` and the `before_send_log`/`before_send_metric` hooks.

use std::sync::Arc;

use tracing_core::Level;

use super::SentryLayerBuilder;
use crate::id::TraceId;
use crate::telemetry::{SentryLog, SentryMetric, TelemetryConfig};

/// The options as set.
#[derive(Clone, Debug)]
pub(super) struct TelemetryOptions {
    logs: bool,
    logs_level: Level,
    span_fields: bool,
    metrics: bool,
}

impl Default for TelemetryOptions {
    fn default() -> Self {
        Self {
            logs: false,
            logs_level: Level::INFO,
            span_fields: false,
            metrics: true,
        }
    }
}

impl TelemetryOptions {
    /// What the layer does with events; `None` when it sends neither logs nor metrics.
    pub(super) fn resolve(&self, exports: bool) -> Option<TelemetryConfig> {
        (exports && (self.logs || self.metrics)).then(|| TelemetryConfig {
            logs: self.logs.then_some(self.logs_level),
            metrics: self.metrics,
            span_fields: self.logs && self.span_fields,
            fallback_trace: TraceId::random(),
        })
    }
}

/// `SENTRY_ENABLE_LOGS`: `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`, any case; anything
/// else is ignored.
pub(super) fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

impl SentryLayerBuilder {
    /// Sends `tracing` events at or above [`logs_level`](Self::logs_level) as Sentry logs
    /// (default `false`, as the SDKs' `enable_logs`/`enableLogs`). [`from_env`](Self::from_env)
    /// reads `SENTRY_ENABLE_LOGS` (`true`/`false`, `1`/`0`; the name follows the option, as the
    /// other SDKs' environment variables `SENTRY_DSN`, `SENTRY_RELEASE`... follow theirs).
    ///
    /// Logs are sent in sampled and unsampled spans alike, on their span's trace; see the
    /// [`telemetry`](crate::telemetry) module for what a log carries.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let (layer, _guard) = tracing_sentry::SentryLayer::builder()
    ///     .dsn_str("https://public@o42.ingest.sentry.io/7")
    ///     .enable_logs(true)
    ///     .logs_level(tracing::Level::DEBUG)
    ///     .build()?;
    /// # drop(layer);
    /// # Ok::<(), tracing_sentry::BuildError>(())
    /// ```
    pub fn enable_logs(mut self, enable: bool) -> Self {
        self.telemetry.logs = enable;
        self
    }

    /// The least severe level sent as a log (default `INFO`).
    ///
    /// This never widens what `tracing` records: the layer's interest in callsites and its
    /// level hint stay what they are, so an event your filters disable costs nothing, and
    /// one below this level costs a comparison and a lookup of what its callsite declared.
    pub fn logs_level(mut self, level: Level) -> Self {
        self.telemetry.logs_level = level;
        self
    }

    /// Adds the fields of a log's span and of its ancestors to the log's attributes (default
    /// `false`); a field of the event wins over a span's, a nearer span's over an ancestor's,
    /// at most 64 from spans. With it on, every span keeps its fields (sampled or not), which
    /// costs a visit and an allocation per span with fields.
    pub fn log_span_fields(mut self, enable: bool) -> Self {
        self.telemetry.span_fields = enable;
        self
    }

    /// Sends events with `counter.`, `gauge.`, `distribution.` (or `monotonic_counter.`,
    /// `histogram.`) fields as Sentry metrics (default `true` when the layer exports); see the
    /// [`telemetry`](crate::telemetry) module for the conventions.
    pub fn enable_metrics(mut self, enable: bool) -> Self {
        self.telemetry.metrics = enable;
        self
    }

    /// Calls `hook` on every log about to be sent, on the export worker, after the private
    /// data and the [denylist](Self::data_denylist) were removed from its attributes. It may
    /// edit the log, and returns `false` to drop it (counted in
    /// [`Stats::logs_dropped_before_send`](crate::Stats::logs_dropped_before_send) and
    /// reported as `before_send`). A panic is caught, counted in
    /// [`Stats::before_send_panics`](crate::Stats::before_send_panics), and drops the log.
    ///
    /// See [`SentryLog`] for an example.
    pub fn before_send_log<F>(mut self, hook: F) -> Self
    where
        F: Fn(&mut SentryLog) -> bool + Send + Sync + 'static,
    {
        self.privacy.before_send_log = Some(Arc::new(hook));
        self
    }

    /// Calls `hook` on every metric about to be sent, as
    /// [`before_send_log`](Self::before_send_log) does on logs.
    ///
    /// See [`SentryMetric`] for an example.
    pub fn before_send_metric<F>(mut self, hook: F) -> Self
    where
        F: Fn(&mut SentryMetric) -> bool + Send + Sync + 'static,
    {
        self.privacy.before_send_metric = Some(Arc::new(hook));
        self
    }
}
