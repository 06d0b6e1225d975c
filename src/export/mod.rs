//! Export: finished transactions become Sentry envelopes, delivered by a worker thread behind a
//! bounded queue, so the instrumented program never waits on the network.
//!
//! (Contract stub: the export work replaces this file. The items below are what the layer and
//! builder use and must keep their shape.)

pub(crate) mod record;

use std::sync::Arc;
use std::time::Duration;

use crate::stats::{Stats, StatsInner};

/// Where envelopes go. Implementations run on the export worker thread.
pub trait Transport: Send + Sync + 'static {}

/// A transport that keeps every envelope in memory, for tests and local demos.
#[derive(Clone, Debug, Default)]
pub struct InMemoryTransport {}

impl InMemoryTransport {
    /// Creates an empty transport.
    pub fn new() -> Self {
        Self {}
    }
}
impl Transport for InMemoryTransport {}

/// A parsed Sentry DSN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dsn {
    pub(crate) public_key: String,
    pub(crate) host: String,
}

impl Dsn {
    /// The public key.
    pub fn public_key(&self) -> &str {
        &self.public_key
    }
    /// The host.
    pub fn host(&self) -> &str {
        &self.host
    }
}

/// The error returned for a malformed DSN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseDsnError(());

impl std::fmt::Display for ParseDsnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("invalid DSN")
    }
}
impl std::error::Error for ParseDsnError {}

impl std::str::FromStr for Dsn {
    type Err = ParseDsnError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let rest = s.split_once("://").ok_or(ParseDsnError(()))?.1;
        let (key, host) = rest.split_once('@').ok_or(ParseDsnError(()))?;
        let host = host.split(['/', ':']).next().unwrap_or_default();
        Ok(Self {
            public_key: key.to_owned(),
            host: host.to_owned(),
        })
    }
}

/// What the builder hands to [`start`].
pub(crate) struct ExportConfig {
    pub(crate) dsn: Option<Dsn>,
    pub(crate) transport: Option<Arc<dyn Transport>>,
    pub(crate) release: Option<String>,
    pub(crate) environment: String,
    pub(crate) queue_capacity: usize,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) stats: Arc<StatsInner>,
    pub(crate) debug: bool,
}

/// The layer's non-blocking handle to the worker.
#[derive(Clone, Debug)]
pub(crate) struct ExportHandle {}

impl ExportHandle {
    /// Queues a finished transaction; never blocks; a full queue drops and counts.
    pub(crate) fn submit(&self, tx: record::TransactionRecord) {
        let _ = tx;
    }
}

/// Keeps the export worker alive; flushes on drop.
#[must_use = "dropping the guard shuts down export; keep it alive for as long as spans are recorded"]
#[derive(Debug)]
pub struct ExportGuard {
    stats: Arc<StatsInner>,
}

impl ExportGuard {
    /// Sends what is queued; returns whether everything made it within `timeout`.
    pub fn flush(&self, timeout: Duration) -> bool {
        let _ = timeout;
        true
    }
    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        self.stats.snapshot()
    }
}

/// Starts the worker.
pub(crate) fn start(config: ExportConfig) -> std::io::Result<(ExportHandle, ExportGuard)> {
    Ok((
        ExportHandle {},
        ExportGuard {
            stats: config.stats,
        },
    ))
}
