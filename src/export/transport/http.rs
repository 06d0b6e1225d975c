//! The HTTP transport: one blocking `POST` per envelope with `ureq`, on the export senders.

use std::io::{Read as _, Write as _};
use std::time::Duration;

use flate2::write::GzEncoder;
use flate2::Compression;

use crate::export::wire::sdk::CLIENT_NAME;
use crate::export::{
    Dsn, EnvelopeBytes, EnvelopeTransport, TransportError, TransportErrorKind, TransportResponse,
};

/// The most response-body bytes read (and discarded) so that the connection can be reused.
const MAX_RESPONSE_BODY: u64 = 64 * 1024;
/// Bodies smaller than this go uncompressed: below it, gzip costs more sender time than the
/// bytes it saves are worth (measured in benches/export.rs; see the README).
pub(crate) const COMPRESS_MIN_BYTES: usize = 1024;
/// The read and write buffer of each pooled connection. Sentry's answers are a few hundred
/// bytes and bodies stream through, so 16 KiB is plenty; `ureq`'s 128 KiB each would cost
/// 16 MiB of buffers at 64 connections (measured: peak RSS 38 MiB against 22 MiB).
const CONNECTION_BUFFER_BYTES: usize = 16 * 1024;
/// The gzip level: the fastest (1). Higher levels cost far more CPU for a few percent
/// smaller bodies on span JSON (measured in benches/export.rs).
const GZIP_LEVEL: u32 = 1;

/// Sends envelopes to Sentry's ingest endpoint over HTTP(S).
///
/// Each call to [`send`](EnvelopeTransport::send) makes one `POST {dsn.envelope_url()}` with
/// `X-Sentry-Auth`, `Content-Type: application/x-sentry-envelope` and the envelope as body
/// (gzip-compressed from 8 KiB on), bounded by connect, read and overall timeouts, and returns the status with the `Retry-After`
/// and `X-Sentry-Rate-Limits` headers. Retries and rate limits are the export senders' job.
///
/// It uses `ureq` with rustls and the Mozilla root certificates (`webpki-roots`), and honours
/// the `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY`/`NO_PROXY` environment variables.
///
/// One transport is shared by every export sender: `send` may run on several threads at once,
/// each request on its own pooled keep-alive connection. Keep
/// [`max_idle_connections`](UreqTransportBuilder::max_idle_connections) at least as large as
/// the layer's `max_requests_in_flight`, or connections are closed and reopened under load.
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
/// use tracing_sentry::export::{Dsn, UreqTransport};
///
/// let dsn: Dsn = "https://public@o1.ingest.sentry.io/42".parse()?;
/// let transport = UreqTransport::builder(&dsn)
///     .connect_timeout(Duration::from_secs(1))
///     .timeout(Duration::from_secs(5))
///     .build();
/// # let _ = transport;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "ureq")))]
pub struct UreqTransport {
    agent: ureq::Agent,
    url: String,
    auth: String,
}

/// Configures an [`UreqTransport`]; see [`UreqTransport::builder`].
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
/// use tracing_sentry::export::{Dsn, UreqTransport};
///
/// let dsn: Dsn = "https://public@o1.ingest.sentry.io/42".parse()?;
/// let transport = UreqTransport::builder(&dsn).read_timeout(Duration::from_secs(2)).build();
/// # let _ = transport;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "ureq")))]
#[derive(Clone)]
#[must_use]
pub struct UreqTransportBuilder {
    url: String,
    auth: String,
    connect_timeout: Duration,
    read_timeout: Duration,
    timeout: Duration,
    max_idle_connections: usize,
}

impl UreqTransport {
    /// The default time to establish a connection (TLS included): 3 s.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
    /// The default time to wait for the response once the request was sent: 5 s.
    pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(5);
    /// The default limit for a whole request, from resolving the host to reading the body: 10 s.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
    /// The default number of idle keep-alive connections kept open to the ingest host: 64,
    /// the layer's default number of requests in flight.
    pub const DEFAULT_MAX_IDLE_CONNECTIONS: usize = 64;

    /// Creates a transport for `dsn` with the default timeouts
    /// ([`DEFAULT_CONNECT_TIMEOUT`](Self::DEFAULT_CONNECT_TIMEOUT),
    /// [`DEFAULT_READ_TIMEOUT`](Self::DEFAULT_READ_TIMEOUT),
    /// [`DEFAULT_TIMEOUT`](Self::DEFAULT_TIMEOUT)).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use tracing_sentry::export::{Dsn, UreqTransport};
    ///
    /// let dsn: Dsn = "https://public@o1.ingest.sentry.io/42".parse()?;
    /// let transport = UreqTransport::new(&dsn);
    /// # let _ = transport;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(dsn: &Dsn) -> Self {
        Self::builder(dsn).build()
    }

    /// Returns a builder for a transport to `dsn`, to change the timeouts.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use tracing_sentry::export::{Dsn, UreqTransport};
    ///
    /// let dsn: Dsn = "https://public@o1.ingest.sentry.io/42".parse()?;
    /// let transport = UreqTransport::builder(&dsn).timeout(Duration::from_secs(3)).build();
    /// # let _ = transport;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder(dsn: &Dsn) -> UreqTransportBuilder {
        UreqTransportBuilder {
            url: dsn.envelope_url(),
            auth: dsn.auth_header(CLIENT_NAME),
            connect_timeout: Self::DEFAULT_CONNECT_TIMEOUT,
            read_timeout: Self::DEFAULT_READ_TIMEOUT,
            timeout: Self::DEFAULT_TIMEOUT,
            max_idle_connections: Self::DEFAULT_MAX_IDLE_CONNECTIONS,
        }
    }

    /// Returns the URL envelopes are POSTed to.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use tracing_sentry::export::{Dsn, UreqTransport};
    ///
    /// let dsn: Dsn = "https://public@o1.ingest.sentry.io/42".parse()?;
    /// assert_eq!(UreqTransport::new(&dsn).url(), "https://o1.ingest.sentry.io/api/42/envelope/");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl UreqTransportBuilder {
    /// Sets the time allowed to establish a connection, TLS included.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use std::time::Duration;
    /// # let dsn: tracing_sentry::export::Dsn = "https://k@example.com/1".parse()?;
    /// let builder = tracing_sentry::export::UreqTransport::builder(&dsn)
    ///     .connect_timeout(Duration::from_millis(500));
    /// # let _ = builder;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the time allowed to receive the response once the request was sent.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use std::time::Duration;
    /// # let dsn: tracing_sentry::export::Dsn = "https://k@example.com/1".parse()?;
    /// let builder = tracing_sentry::export::UreqTransport::builder(&dsn)
    ///     .read_timeout(Duration::from_secs(2));
    /// # let _ = builder;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// Sets the time allowed for a whole request; no call to `send` blocks longer.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use std::time::Duration;
    /// # let dsn: tracing_sentry::export::Dsn = "https://k@example.com/1".parse()?;
    /// let builder = tracing_sentry::export::UreqTransport::builder(&dsn)
    ///     .timeout(Duration::from_secs(4));
    /// # let _ = builder;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets how many idle keep-alive connections to the ingest host are kept for reuse (at
    /// least 1). Match it to the layer's `max_requests_in_flight`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let dsn: tracing_sentry::export::Dsn = "https://k@example.com/1".parse()?;
    /// let builder = tracing_sentry::export::UreqTransport::builder(&dsn).max_idle_connections(16);
    /// # let _ = builder;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn max_idle_connections(mut self, connections: usize) -> Self {
        self.max_idle_connections = connections.max(1);
        self
    }

    /// Builds the transport.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let dsn: tracing_sentry::export::Dsn = "https://k@example.com/1".parse()?;
    /// let transport = tracing_sentry::export::UreqTransport::builder(&dsn).build();
    /// # let _ = transport;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn build(self) -> UreqTransport {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(self.connect_timeout))
            .timeout_recv_response(Some(self.read_timeout))
            .timeout_recv_body(Some(self.read_timeout))
            .timeout_global(Some(self.timeout))
            .max_redirects(0)
            .max_idle_connections(self.max_idle_connections)
            .input_buffer_size(CONNECTION_BUFFER_BYTES)
            .output_buffer_size(CONNECTION_BUFFER_BYTES)
            .max_idle_connections_per_host(self.max_idle_connections)
            .user_agent(CLIENT_NAME)
            .build()
            .new_agent();
        UreqTransport {
            agent,
            url: self.url,
            auth: self.auth,
        }
    }
}

impl EnvelopeTransport for UreqTransport {
    fn send(&self, envelope: &EnvelopeBytes) -> Result<TransportResponse, TransportError> {
        let bytes = envelope.as_bytes();
        let request = self
            .agent
            .post(&self.url)
            .header("X-Sentry-Auth", &self.auth)
            .header("Content-Type", "application/x-sentry-envelope");
        let response = if bytes.len() >= COMPRESS_MIN_BYTES {
            let body = gzip(bytes).map_err(TransportError::from)?;
            request.header("Content-Encoding", "gzip").send(&body[..])
        } else {
            request.send(bytes)
        };
        let mut response = response.map_err(map_error)?;

        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let mut result = TransportResponse::new(response.status().as_u16());
        if let Some(value) = header("retry-after") {
            result = result.with_retry_after(value);
        }
        if let Some(value) = header("x-sentry-rate-limits") {
            result = result.with_rate_limits(value);
        }
        // Drain a bounded amount of the body so the connection can be reused; the status is
        // already known, so a failure here changes nothing.
        let mut sink = Vec::new();
        let _ = response
            .body_mut()
            .as_reader()
            .take(MAX_RESPONSE_BODY)
            .read_to_end(&mut sink);
        Ok(result)
    }
}

impl std::fmt::Debug for UreqTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The auth header may hold a legacy secret: leave it out.
        f.debug_struct("UreqTransport")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for UreqTransportBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UreqTransportBuilder")
            .field("url", &self.url)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("timeout", &self.timeout)
            .field("max_idle_connections", &self.max_idle_connections)
            .finish_non_exhaustive()
    }
}

pub(crate) fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(
        Vec::with_capacity(bytes.len() / 4 + 64),
        Compression::new(GZIP_LEVEL),
    );
    encoder.write_all(bytes)?;
    encoder.finish()
}

fn map_error(error: ureq::Error) -> TransportError {
    let kind = match &error {
        ureq::Error::Timeout(_) => TransportErrorKind::Timeout,
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => TransportErrorKind::Connect,
        ureq::Error::Io(io) => return TransportError::from(std::io::Error::new(io.kind(), error)),
        _ => TransportErrorKind::Other,
    };
    TransportError::new(kind, error)
}

/// The loopback ingest server of the integration tests.
#[cfg(test)]
#[path = "../../../tests/support/ingest.rs"]
mod ingest;

/// The worker and the HTTP transport together, against the loopback ingest server.
#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::ingest::{down_dsn, Behavior, Ingest};
    use super::*;
    use crate::export::test_support::{assert_sentry_types_reads, fast_retries, sample_record};
    use crate::export::{start_with, ExportConfig};
    use crate::stats::StatsInner;

    fn config(dsn: &str, stats: &Arc<StatsInner>) -> ExportConfig {
        ExportConfig {
            dsn: Some(dsn.parse().unwrap()),
            stats: Arc::clone(stats),
            release: Some("myapp@1.0.0".into()),
            ..ExportConfig::default()
        }
    }

    #[test]
    fn the_worker_delivers_through_http_by_default() {
        let ingest = Ingest::start(Behavior::Ok);
        let stats = Arc::new(StatsInner::default());
        let (handle, guard) =
            start_with(config(&ingest.dsn("servicekey", 1), &stats), fast_retries()).unwrap();
        handle.submit(sample_record());
        handle.submit(sample_record());
        assert!(guard.flush(Duration::from_secs(5)));
        assert_eq!(guard.stats().transactions_sent, 2);

        let requests = ingest.requests();
        assert_eq!(requests.len(), 2);
        for request in &requests {
            assert_eq!(request.path, "/api/1/envelope/");
            assert!(request
                .header("x-sentry-auth")
                .unwrap()
                .contains("sentry_key=servicekey"));
            let envelope = EnvelopeBytes::from_bytes(&request.body).unwrap();
            assert_sentry_types_reads(&envelope, &sample_record());
            assert_eq!(envelope.transaction().unwrap()["release"], "myapp@1.0.0");
        }
    }

    #[test]
    fn the_worker_backs_off_after_a_429_from_the_server() {
        let ingest = Ingest::start(Behavior::RateLimited {
            retry_after: "60".into(),
            rate_limits: None,
        });
        let stats = Arc::new(StatsInner::default());
        let (handle, guard) =
            start_with(config(&ingest.dsn("k", 1), &stats), fast_retries()).unwrap();
        handle.submit(sample_record());
        assert!(guard.flush(Duration::from_secs(5)));
        for _ in 0..2 {
            handle.submit(sample_record());
        }
        assert!(guard.flush(Duration::from_secs(5)));
        assert_eq!(ingest.requests().len(), 1, "nothing sent while limited");
        let stats = guard.stats();
        assert_eq!(stats.transactions_dropped_rate_limited, 3);
        assert_eq!(stats.rate_limit_responses, 1);
    }

    #[test]
    fn the_worker_drops_on_a_server_error_and_reports_it_once_the_server_recovers() {
        let ingest = Ingest::start(Behavior::Status(500));
        let stats = Arc::new(StatsInner::default());
        let (handle, guard) =
            start_with(config(&ingest.dsn("k", 1), &stats), fast_retries()).unwrap();
        handle.submit(sample_record());
        assert!(guard.flush(Duration::from_secs(5)));
        let envelopes = |ty: &str| {
            ingest
                .requests()
                .iter()
                .filter(|r| {
                    EnvelopeBytes::from_bytes(&r.body)
                        .is_ok_and(|e| e.item_types().any(|t| t == ty))
                })
                .count()
        };
        assert_eq!(envelopes("transaction"), 1, "a 5xx is not retried");
        assert_eq!(guard.stats().transactions_dropped_send_failed, 1);
        // The flush's client report met the 500 too, so it is still pending.
        ingest.set_behavior(Behavior::Ok);
        handle.submit(sample_record());
        assert!(guard.flush(Duration::from_secs(5)));
        let last = ingest.requests().pop().unwrap();
        let last = EnvelopeBytes::from_bytes(&last.body).unwrap();
        assert_eq!(
            last.item_types().collect::<Vec<_>>(),
            ["transaction", "client_report"],
            "the pending report rode along with the next transaction"
        );
        assert!(String::from_utf8_lossy(last.as_bytes()).contains(r#""reason":"send_error""#));
        assert_eq!(guard.stats().client_reports_sent, 1);
    }

    #[test]
    fn the_worker_counts_an_unreachable_server_as_failed_sends() {
        let stats = Arc::new(StatsInner::default());
        let (handle, guard) =
            start_with(config(&down_dsn("k", 1), &stats), fast_retries()).unwrap();
        handle.submit(sample_record());
        assert!(guard.flush(Duration::from_secs(5)));
        let failures = guard.stats().send_failures;
        assert!(
            (3..=4).contains(&failures),
            "three attempts, and one for the client report if the backoff ended first: {failures}"
        );
        assert_eq!(guard.stats().transactions_dropped_send_failed, 1);
    }
}
