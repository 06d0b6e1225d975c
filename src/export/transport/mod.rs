//! The [`EnvelopeTransport`] trait and the transports that need no network: [`InMemoryTransport`] for
//! tests and demos, [`NoopTransport`] for benchmarks.

#[cfg(feature = "ureq")]
pub(crate) mod http;
pub(crate) mod spotlight;

use std::error::Error;
use std::fmt;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::export::EnvelopeBytes;

/// Delivers one envelope to Sentry (or anywhere else), synchronously.
///
/// The export senders call [`send`](EnvelopeTransport::send) on their own threads, never from the
/// instrumented program's threads. With `max_requests_in_flight` above 1 (the default is 64),
/// **several senders call `send` at once** on the same transport, which is why it is
/// `Send + Sync`: share a connection pool rather than a single connection. A transport only
/// makes one attempt and reports what happened; the **senders** own everything around it,
/// identically for every transport:
///
/// - rate limits: a `429`, `Retry-After` or `X-Sentry-Rate-Limits` in the
///   [`TransportResponse`] makes every sender drop transactions without calling the transport
///   until the limit expires;
/// - retries: an `Err` (no response) is retried a couple of times after a shared backoff; an
///   error status is not retried; a panic is caught, counted in
///   [`Stats::transport_panics`](crate::Stats::transport_panics) and not retried;
/// - accounting: every outcome increments one [`Stats`](crate::Stats) counter, and every loss
///   goes into the client reports sent to Sentry.
///
/// A transport should bound its own blocking time (the HTTP transport has connect and read
/// timeouts): while `send` blocks, the queue fills up, and flushing or dropping the
/// [`ExportGuard`](crate::ExportGuard) gives up on the senders after its timeout.
///
/// # Examples
///
/// A transport that writes each envelope to stderr:
///
/// ```
/// use tracing_sentry::export::{EnvelopeBytes, EnvelopeTransport, TransportError, TransportResponse};
///
/// struct Stderr;
///
/// impl EnvelopeTransport for Stderr {
///     fn send(&self, envelope: &EnvelopeBytes) -> Result<TransportResponse, TransportError> {
///         use std::io::Write;
///         std::io::stderr()
///             .write_all(envelope.as_bytes())
///             .map_err(TransportError::from)?;
///         Ok(TransportResponse::new(200))
///     }
/// }
/// # let _: Box<dyn EnvelopeTransport> = Box::new(Stderr);
/// ```
pub trait EnvelopeTransport: Send + Sync + 'static {
    /// Makes one attempt to deliver `envelope`, and returns the (HTTP-like) response.
    ///
    /// # Errors
    ///
    /// Returns [`TransportError`] when no response was received (connection refused, timeout,
    /// I/O error). A response with an error status is an `Ok` with that status.
    fn send(&self, envelope: &EnvelopeBytes) -> Result<TransportResponse, TransportError>;

    /// Returns whether envelopes may carry `client_report` items (what was dropped, by
    /// reason) besides their transaction, and client reports may be sent on their own.
    /// `true` by default; a transport whose receiving end cannot read `client_report` items
    /// returns `false`, and losses are then only counted in [`Stats`](crate::Stats).
    ///
    /// # Examples
    ///
    /// ```
    /// use tracing_sentry::export::{EnvelopeBytes, EnvelopeTransport, TransportError, TransportResponse};
    ///
    /// struct TransactionsOnly;
    ///
    /// impl EnvelopeTransport for TransactionsOnly {
    ///     fn send(&self, _: &EnvelopeBytes) -> Result<TransportResponse, TransportError> {
    ///         Ok(TransportResponse::new(200))
    ///     }
    ///     fn sends_client_reports(&self) -> bool {
    ///         false
    ///     }
    /// }
    /// assert!(!TransactionsOnly.sends_client_reports());
    /// ```
    fn sends_client_reports(&self) -> bool {
        true
    }
}

impl<T: EnvelopeTransport + ?Sized> EnvelopeTransport for Arc<T> {
    fn send(&self, envelope: &EnvelopeBytes) -> Result<TransportResponse, TransportError> {
        (**self).send(envelope)
    }
    fn sends_client_reports(&self) -> bool {
        (**self).sends_client_reports()
    }
}

impl<T: EnvelopeTransport + ?Sized> EnvelopeTransport for Box<T> {
    fn send(&self, envelope: &EnvelopeBytes) -> Result<TransportResponse, TransportError> {
        (**self).send(envelope)
    }
    fn sends_client_reports(&self) -> bool {
        (**self).sends_client_reports()
    }
}

/// What the receiving end answered: an HTTP-like status and the rate-limit headers.
///
/// The senders read it as Sentry's ingest answers: `2xx` delivered; `429` rate limited; any
/// other status dropped without retry. `Retry-After` (on a `429`) and
/// `X-Sentry-Rate-Limits` (on any status) start or extend a rate limit.
///
/// # Examples
///
/// ```
/// use tracing_sentry::export::TransportResponse;
///
/// let response = TransportResponse::new(429).with_retry_after("30");
/// assert_eq!(response.status(), 429);
/// assert_eq!(response.retry_after(), Some("30"));
/// assert_eq!(response.rate_limits(), None);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransportResponse {
    status: u16,
    retry_after: Option<String>,
    rate_limits: Option<String>,
}

impl TransportResponse {
    /// Creates a response with `status` and no rate-limit headers.
    ///
    /// # Examples
    ///
    /// ```
    /// let ok = tracing_sentry::export::TransportResponse::new(200);
    /// assert!(ok.is_success());
    /// ```
    pub fn new(status: u16) -> Self {
        Self {
            status,
            retry_after: None,
            rate_limits: None,
        }
    }

    /// Sets the `Retry-After` header value (seconds or an HTTP date).
    ///
    /// # Examples
    ///
    /// ```
    /// let r = tracing_sentry::export::TransportResponse::new(429).with_retry_after("60");
    /// assert_eq!(r.retry_after(), Some("60"));
    /// ```
    #[must_use]
    pub fn with_retry_after(mut self, value: impl Into<String>) -> Self {
        self.retry_after = Some(value.into());
        self
    }

    /// Sets the `X-Sentry-Rate-Limits` header value
    /// (`retry_after:categories:scope[:reason]`, comma-separated).
    ///
    /// # Examples
    ///
    /// ```
    /// let r = tracing_sentry::export::TransportResponse::new(429)
    ///     .with_rate_limits("60:transaction:key");
    /// assert_eq!(r.rate_limits(), Some("60:transaction:key"));
    /// ```
    #[must_use]
    pub fn with_rate_limits(mut self, value: impl Into<String>) -> Self {
        self.rate_limits = Some(value.into());
        self
    }

    /// Returns the status code.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(tracing_sentry::export::TransportResponse::new(503).status(), 503);
    /// ```
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Returns whether the status is `2xx`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!tracing_sentry::export::TransportResponse::new(500).is_success());
    /// ```
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Returns the `Retry-After` header value, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(tracing_sentry::export::TransportResponse::new(429).retry_after(), None);
    /// ```
    pub fn retry_after(&self) -> Option<&str> {
        self.retry_after.as_deref()
    }

    /// Returns the `X-Sentry-Rate-Limits` header value, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(tracing_sentry::export::TransportResponse::new(200).rate_limits(), None);
    /// ```
    pub fn rate_limits(&self) -> Option<&str> {
        self.rate_limits.as_deref()
    }
}

/// The error a [`EnvelopeTransport`] returns when it got no response.
///
/// # Examples
///
/// ```
/// use std::io;
/// use tracing_sentry::export::{TransportError, TransportErrorKind};
///
/// let err = TransportError::from(io::Error::from(io::ErrorKind::TimedOut));
/// assert_eq!(err.kind(), TransportErrorKind::Timeout);
///
/// let err = TransportError::new(TransportErrorKind::Other, "disk full");
/// assert_eq!(err.to_string(), "envelope not delivered (other error): disk full");
/// ```
pub struct TransportError {
    kind: TransportErrorKind,
    source: Box<dyn Error + Send + Sync>,
}

/// Why a [`EnvelopeTransport`] got no response; see [`TransportError::kind`].
///
/// # Examples
///
/// ```
/// use tracing_sentry::export::{TransportError, TransportErrorKind};
///
/// let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
/// assert_eq!(TransportError::from(refused).kind(), TransportErrorKind::Connect);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The connection could not be made (refused, unreachable, DNS failure, TLS handshake).
    Connect,
    /// A connect, read or overall timeout expired.
    Timeout,
    /// An I/O error after the connection was made.
    Io,
    /// Anything else.
    Other,
}

impl TransportError {
    /// Creates an error of `kind` caused by `source`.
    ///
    /// # Examples
    ///
    /// ```
    /// use tracing_sentry::export::{TransportError, TransportErrorKind};
    ///
    /// let err = TransportError::new(TransportErrorKind::Connect, "connection refused");
    /// assert_eq!(err.kind(), TransportErrorKind::Connect);
    /// ```
    pub fn new(kind: TransportErrorKind, source: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        Self {
            kind,
            source: source.into(),
        }
    }

    /// Returns why no response was received.
    ///
    /// # Examples
    ///
    /// ```
    /// use tracing_sentry::export::{TransportError, TransportErrorKind};
    ///
    /// let err = TransportError::new(TransportErrorKind::Timeout, "read timed out");
    /// assert_eq!(err.kind(), TransportErrorKind::Timeout);
    /// ```
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }
}

impl From<std::io::Error> for TransportError {
    /// Maps `TimedOut`/`WouldBlock` to [`Timeout`](TransportErrorKind::Timeout), refused,
    /// reset and aborted connections to [`Connect`](TransportErrorKind::Connect), and the rest to
    /// [`Io`](TransportErrorKind::Io).
    fn from(error: std::io::Error) -> Self {
        use std::io::ErrorKind as K;
        let kind = match error.kind() {
            K::TimedOut | K::WouldBlock => TransportErrorKind::Timeout,
            K::ConnectionRefused | K::ConnectionReset | K::ConnectionAborted | K::NotConnected => {
                TransportErrorKind::Connect
            }
            _ => TransportErrorKind::Io,
        };
        Self::new(kind, error)
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            TransportErrorKind::Connect => "could not connect",
            TransportErrorKind::Timeout => "timed out",
            TransportErrorKind::Io => "i/o error",
            TransportErrorKind::Other => "other error",
        };
        write!(f, "envelope not delivered ({kind}): {}", self.source)
    }
}

impl fmt::Debug for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportError")
            .field("kind", &self.kind)
            .field("source", &self.source)
            .finish()
    }
}

impl Error for TransportError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&*self.source)
    }
}

// === InMemoryTransport ===

/// A transport that keeps every envelope in memory and answers `200`, for tests and demos.
///
/// Clones share the same storage: keep one clone, give the other to the builder, and read what
/// was "sent" from the first.
///
/// # Examples
///
/// ```
/// use tracing_sentry::export::{EnvelopeBytes, InMemoryTransport, EnvelopeTransport};
///
/// let transport = InMemoryTransport::new();
/// let reader = transport.clone();
///
/// let envelope = EnvelopeBytes::from_bytes(b"{}\n{\"type\":\"transaction\"}\n{\"transaction\":\"a\"}\n")?;
/// transport.send(&envelope).unwrap();
///
/// assert!(reader.wait_for(1, std::time::Duration::from_secs(1)));
/// assert_eq!(reader.transactions()[0]["transaction"], "a");
/// reader.clear();
/// assert!(reader.is_empty());
/// # Ok::<(), tracing_sentry::export::ParseEnvelopeError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct InMemoryTransport {
    shared: Arc<InMemoryShared>,
}

#[derive(Debug, Default)]
struct InMemoryShared {
    envelopes: Mutex<Vec<EnvelopeBytes>>,
    added: Condvar,
}

impl InMemoryTransport {
    /// Creates an empty transport.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(tracing_sentry::export::InMemoryTransport::new().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Returns copies of the envelopes received so far, oldest first.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(tracing_sentry::export::InMemoryTransport::new().envelopes().is_empty());
    /// ```
    pub fn envelopes(&self) -> Vec<EnvelopeBytes> {
        self.lock().clone()
    }

    /// Returns the transaction payloads received so far, parsed as JSON, oldest first (feature
    /// `test-util`).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(tracing_sentry::export::InMemoryTransport::new().transactions().is_empty());
    /// ```
    #[cfg(any(test, feature = "test-util"))]
    #[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
    pub fn transactions(&self) -> Vec<serde_json::Value> {
        self.lock()
            .iter()
            .filter_map(EnvelopeBytes::transaction)
            .collect()
    }

    /// Returns the number of envelopes received so far.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(tracing_sentry::export::InMemoryTransport::new().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Returns whether no envelope was received (since the last [`clear`](Self::clear)).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(tracing_sentry::export::InMemoryTransport::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Forgets every envelope received so far.
    ///
    /// # Examples
    ///
    /// ```
    /// let transport = tracing_sentry::export::InMemoryTransport::new();
    /// transport.clear();
    /// assert!(transport.is_empty());
    /// ```
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// Waits until at least `n` envelopes were received, for at most `timeout`; returns whether
    /// they were.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let transport = tracing_sentry::export::InMemoryTransport::new();
    /// assert!(transport.wait_for(0, Duration::ZERO));
    /// assert!(!transport.wait_for(1, Duration::from_millis(10)));
    /// ```
    pub fn wait_for(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now().checked_add(timeout);
        let mut envelopes = self.lock();
        loop {
            if envelopes.len() >= n {
                return true;
            }
            let now = Instant::now();
            let remaining = match deadline {
                Some(deadline) if deadline <= now => return false,
                Some(deadline) => deadline - now,
                None => Duration::from_secs(3600),
            };
            envelopes = self
                .shared
                .added
                .wait_timeout(envelopes, remaining)
                .map(|(guard, _)| guard)
                .unwrap_or_else(|poisoned| poisoned.into_inner().0);
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<EnvelopeBytes>> {
        self.shared
            .envelopes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl EnvelopeTransport for InMemoryTransport {
    fn send(&self, envelope: &EnvelopeBytes) -> Result<TransportResponse, TransportError> {
        self.lock().push(envelope.clone());
        self.shared.added.notify_all();
        Ok(TransportResponse::new(200))
    }
}

// === NoopTransport ===

/// A transport that discards every envelope and answers `200`, for benchmarks that should pay
/// for serialisation but not for delivery.
///
/// # Examples
///
/// ```
/// use tracing_sentry::export::{EnvelopeBytes, NoopTransport, EnvelopeTransport};
///
/// let envelope = EnvelopeBytes::from_bytes(b"{}\n")?;
/// assert_eq!(NoopTransport.send(&envelope).unwrap().status(), 200);
/// # Ok::<(), tracing_sentry::export::ParseEnvelopeError>(())
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct NoopTransport;

impl NoopTransport {
    /// Creates the transport.
    ///
    /// # Examples
    ///
    /// ```
    /// let transport = tracing_sentry::export::NoopTransport::new();
    /// # let _ = transport;
    /// ```
    pub const fn new() -> Self {
        Self
    }
}

impl EnvelopeTransport for NoopTransport {
    fn send(&self, _envelope: &EnvelopeBytes) -> Result<TransportResponse, TransportError> {
        Ok(TransportResponse::new(200))
    }
}
