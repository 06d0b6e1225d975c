//! Sentry Spotlight, the local development UI (develop docs: sdk/expected-features/spotlight):
//! every envelope the senders send also goes to the Spotlight sidecar, by a thread of its own.
//!
//! - **Configuration** ([`Spotlight`], [`resolve`]): the `spotlight` option is off, on (the
//!   default URL, [`DEFAULT_SPOTLIGHT_URL`]) or a URL; `SENTRY_SPOTLIGHT` (read by
//!   `from_env`) is a truthy value (`true`, `t`, `y`, `yes`, `on`, `1`), a falsy one (`false`,
//!   `f`, `n`, `no`, `off`, `0`) or a URL. The spec's precedence: an explicit `false` wins; an
//!   explicit URL wins; `true` takes the variable's URL if it holds one; unset, the variable
//!   decides.
//! - **Never in the way**: the sidecar gets a copy of each envelope through a bounded channel
//!   ([`SPOTLIGHT_QUEUE`] envelopes); a full channel drops the copy (counted in
//!   `Stats::spotlight_envelopes_dropped`), never the envelope for Sentry. The Spotlight thread
//!   posts with short timeouts, and after a failure skips the sidecar for a growing backoff
//!   (1 s doubling to 60 s), as the spec asks, with one line on stderr when it becomes
//!   unreachable.
//! - **Flushed with the rest**: `ExportGuard::flush` and the guard's drop also wait (within
//!   their timeout) until the copies handed over so far were posted or skipped, so a program
//!   that exits right after them does not lose its last envelopes to the sidecar.
//! - **Plain HTTP only**: the sidecar runs on the developer's machine (`http://`), so the post
//!   is written over `std::net` and needs no HTTP client feature.

use std::fmt;
use std::io::{Read as _, Write as _};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::{EnvelopeTransport, TransportError, TransportResponse};
use crate::export::EnvelopeBytes;
use crate::stats::StatsInner;

/// The sidecar's URL when Spotlight is on without one: `http://localhost:8969/stream`.
pub const DEFAULT_SPOTLIGHT_URL: &str = "http://localhost:8969/stream";

/// The most envelope copies waiting for the Spotlight thread; more are dropped and counted.
pub(crate) const SPOTLIGHT_QUEUE: usize = 256;
/// The Spotlight thread's name.
const THREAD_NAME: &str = "tracing-sentry-spotlight";
/// How long a connection to the sidecar may take.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
/// How long writing the envelope or reading the answer may take.
const IO_TIMEOUT: Duration = Duration::from_secs(2);
/// The first backoff after a failed post; it doubles with each failure in a row.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// The longest backoff.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// The `spotlight` option of [`SentryLayerBuilder::spotlight`](crate::SentryLayerBuilder::spotlight):
/// off, on with the default URL, or on with a URL.
///
/// `bool` and string values convert into it, so the option reads as in Sentry's other SDKs:
///
/// ```
/// use tracing_sentry::Spotlight;
///
/// assert_eq!(Spotlight::from(true), Spotlight::On);
/// assert_eq!(Spotlight::from(false), Spotlight::Off);
/// assert_eq!(
///     Spotlight::from("http://localhost:3000/stream"),
///     Spotlight::Url("http://localhost:3000/stream".to_owned()),
/// );
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Spotlight {
    /// No Spotlight (the default).
    #[default]
    Off,
    /// Spotlight at [`DEFAULT_SPOTLIGHT_URL`], or at the URL `SENTRY_SPOTLIGHT` holds when the
    /// builder came from [`from_env`](crate::SentryLayerBuilder::from_env).
    On,
    /// Spotlight at this URL (`http://host:port/path`), whatever `SENTRY_SPOTLIGHT` says.
    Url(String),
}

impl From<bool> for Spotlight {
    fn from(on: bool) -> Self {
        if on {
            Self::On
        } else {
            Self::Off
        }
    }
}

impl From<&str> for Spotlight {
    fn from(url: &str) -> Self {
        Self::Url(url.to_owned())
    }
}

impl From<String> for Spotlight {
    fn from(url: String) -> Self {
        Self::Url(url)
    }
}

impl Spotlight {
    /// Reads a `SENTRY_SPOTLIGHT` value: truthy and falsy words (any case, trimmed) turn
    /// Spotlight on and off, anything else is a URL; an empty value is `None` (unset).
    pub(crate) fn from_env_value(value: &str) -> Option<Self> {
        let value = value.trim();
        if value.is_empty() {
            return None;
        }
        const TRUTHY: [&str; 6] = ["true", "t", "y", "yes", "on", "1"];
        const FALSY: [&str; 6] = ["false", "f", "n", "no", "off", "0"];
        if TRUTHY.iter().any(|w| value.eq_ignore_ascii_case(w)) {
            Some(Self::On)
        } else if FALSY.iter().any(|w| value.eq_ignore_ascii_case(w)) {
            Some(Self::Off)
        } else {
            Some(Self::Url(value.to_owned()))
        }
    }
}

/// What the option and the variable resolve to.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Resolved {
    /// The sidecar's URL, or `None`: Spotlight is off.
    pub(crate) url: Option<String>,
    /// Why the variable was overridden, for a one-time line on stderr.
    pub(crate) overridden: Option<&'static str>,
}

/// The spec's precedence between the `spotlight` option (`None`: never set) and
/// `SENTRY_SPOTLIGHT` (`None`: unset or not read).
pub(crate) fn resolve(option: Option<&Spotlight>, env: Option<&Spotlight>) -> Resolved {
    let (url, overridden) = match (option, env) {
        (Some(Spotlight::Off), Some(Spotlight::On | Spotlight::Url(_))) => (
            None,
            Some("spotlight(false) overrides SENTRY_SPOTLIGHT: Spotlight is off"),
        ),
        (Some(Spotlight::Off), _) => (None, None),
        (Some(Spotlight::Url(url)), Some(Spotlight::Url(env))) if env != url => (
            Some(url.clone()),
            Some("the spotlight URL set in code overrides the one in SENTRY_SPOTLIGHT"),
        ),
        (Some(Spotlight::Url(url)), _) => (Some(url.clone()), None),
        (Some(Spotlight::On) | None, Some(Spotlight::Url(env))) => (Some(env.clone()), None),
        (Some(Spotlight::On), _) | (None, Some(Spotlight::On)) => {
            (Some(DEFAULT_SPOTLIGHT_URL.to_owned()), None)
        }
        (None, Some(Spotlight::Off) | None) => (None, None),
    };
    Resolved { url, overridden }
}

/// Why a Spotlight URL was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SpotlightUrlError {
    /// Not a URL.
    Invalid,
    /// Not `http://`: the sidecar runs locally and is reached without TLS.
    NotHttp,
}

impl fmt::Display for SpotlightUrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Invalid => "not a URL (expected http://host:port/path)",
            Self::NotHttp => "not an http:// URL (the Spotlight sidecar is reached without TLS)",
        })
    }
}

/// Where the Spotlight thread posts: the sidecar's address and request target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SpotlightTarget {
    /// `host:port`, as written in the `Host` header and resolved to connect.
    authority: String,
    /// The request target, e.g. `/stream`.
    path: String,
}

impl SpotlightTarget {
    /// Parses an `http://` URL; the port defaults to 80 and the path to `/`.
    pub(crate) fn parse(url: &str) -> Result<Self, SpotlightUrlError> {
        let uri: http::Uri = url.trim().parse().map_err(|_| SpotlightUrlError::Invalid)?;
        match uri.scheme_str() {
            Some("http") => {}
            Some(_) => return Err(SpotlightUrlError::NotHttp),
            None => return Err(SpotlightUrlError::Invalid),
        }
        let host = uri
            .host()
            .filter(|h| !h.is_empty())
            .ok_or(SpotlightUrlError::Invalid)?;
        let port = uri.port_u16().unwrap_or(80);
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        Ok(Self {
            authority: format!("{host}:{port}"),
            path: if path.is_empty() {
                "/".to_owned()
            } else {
                path.to_owned()
            },
        })
    }

    /// `http://host:port/path`, for messages.
    fn url(&self) -> String {
        format!("http://{}{}", self.authority, self.path)
    }
}

/// The sending side of the Spotlight thread: a bounded channel of envelope copies.
#[derive(Clone)]
pub(crate) struct SpotlightSink {
    copies: SyncSender<Vec<u8>>,
    stats: Arc<StatsInner>,
    pending: Arc<Pending>,
}

/// How many copies were handed to the Spotlight thread and not yet posted or skipped.
#[derive(Debug, Default)]
struct Pending {
    count: Mutex<usize>,
    changed: Condvar,
}

impl Pending {
    fn add(&self) {
        *self.count.lock().unwrap_or_else(PoisonError::into_inner) += 1;
    }

    fn done(&self) {
        let mut count = self.count.lock().unwrap_or_else(PoisonError::into_inner);
        *count = count.saturating_sub(1);
        if *count == 0 {
            self.changed.notify_all();
        }
    }

    /// Waits until nothing is pending or `deadline` passes; `true` if nothing is.
    fn wait_until(&self, deadline: Option<Instant>) -> bool {
        let mut count = self.count.lock().unwrap_or_else(PoisonError::into_inner);
        while *count > 0 {
            let wait = match deadline {
                None => Duration::from_secs(1),
                Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => left,
                    _ => return false,
                },
            };
            count = self
                .changed
                .wait_timeout(count, wait)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }
}

impl fmt::Debug for SpotlightSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpotlightSink").finish_non_exhaustive()
    }
}

impl SpotlightSink {
    /// Starts the Spotlight thread. It ends when every sink is dropped.
    pub(crate) fn start(target: SpotlightTarget, stats: Arc<StatsInner>) -> std::io::Result<Self> {
        let (copies, received) = sync_channel(SPOTLIGHT_QUEUE);
        let pending = Arc::new(Pending::default());
        let handled = Arc::clone(&pending);
        let counted = Arc::clone(&stats);
        std::thread::Builder::new()
            .name(THREAD_NAME.to_owned())
            .spawn(move || run(&target, &received, &handled, &counted))?;
        Ok(Self {
            copies,
            stats,
            pending,
        })
    }

    /// Hands the sidecar a copy of `envelope`, or drops the copy (counted) when the channel is
    /// full or the thread is gone. Never blocks.
    pub(crate) fn offer(&self, envelope: &EnvelopeBytes) {
        self.pending.add();
        match self.copies.try_send(envelope.to_bytes()) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.pending.done();
                self.stats
                    .spotlight_envelopes_dropped
                    .fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Waits until every copy offered so far was posted or skipped (the sidecar down), for at
    /// most until `deadline` (`None`: no limit). Returns `true` if they were. A sidecar that
    /// accepts and never answers holds a post for at most the write and read timeouts.
    pub(crate) fn flush_until(&self, deadline: Option<Instant>) -> bool {
        self.pending.wait_until(deadline)
    }
}

/// The Spotlight thread: posts each copy unless a backoff runs after a failure; a copy that
/// did not reach the sidecar is counted as dropped.
fn run(
    target: &SpotlightTarget,
    received: &Receiver<Vec<u8>>,
    pending: &Pending,
    stats: &StatsInner,
) {
    let mut backoff = Backoff::default();
    while let Ok(body) = received.recv() {
        if !handle(target, &body, &mut backoff) {
            stats
                .spotlight_envelopes_dropped
                .fetch_add(1, Ordering::Relaxed);
        }
        pending.done();
    }
}

/// Posts one copy, or skips it while a backoff runs; `true` if the sidecar accepted it.
fn handle(target: &SpotlightTarget, body: &[u8], backoff: &mut Backoff) -> bool {
    if backoff.active(Instant::now()) {
        return false;
    }
    match post(target, body) {
        Ok(_) => {
            backoff.succeeded();
            true
        }
        Err(err) => {
            if backoff.failed(Instant::now()) {
                // Not `eprintln!`: a closed stderr must not end the thread.
                let _ = writeln!(
                    std::io::stderr(),
                    "tracing-sentry: Spotlight at {} is unreachable ({err}): its copies are \
                     dropped (counted in Stats::spotlight_envelopes_dropped) and it is retried \
                     with a growing backoff; what goes to Sentry, with a DSN, is not affected. \
                     Is the sidecar running (`npx @spotlightjs/spotlight`)?",
                    target.url()
                );
            }
            false
        }
    }
}

/// The backoff after failed posts.
#[derive(Debug, Default)]
struct Backoff {
    until: Option<Instant>,
    next: Option<Duration>,
    reported: bool,
}

impl Backoff {
    fn active(&self, now: Instant) -> bool {
        self.until.is_some_and(|until| now < until)
    }

    /// Starts or doubles the backoff; `true` the first time in a series of failures.
    fn failed(&mut self, now: Instant) -> bool {
        let wait = self.next.unwrap_or(FIRST_BACKOFF);
        self.until = Some(now + wait);
        self.next = Some((wait * 2).min(MAX_BACKOFF));
        !std::mem::replace(&mut self.reported, true)
    }

    fn succeeded(&mut self) {
        *self = Self::default();
    }
}

/// One `POST` of an envelope to the sidecar over a new connection; the answer's status.
fn post(target: &SpotlightTarget, body: &[u8]) -> std::io::Result<u16> {
    let mut stream = connect(&target.authority)?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-sentry-envelope\r\n\
         Content-Length: {}\r\nUser-Agent: {}\r\nConnection: close\r\n\r\n",
        target.path,
        target.authority,
        body.len(),
        crate::export::wire::sdk::CLIENT_NAME,
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()?;
    let status = read_status(&mut stream)?;
    if (200..300).contains(&status) {
        Ok(status)
    } else {
        Err(std::io::Error::other(format!(
            "the sidecar answered {status}"
        )))
    }
}

/// Connects to the first address of `authority` that answers within the timeout.
fn connect(authority: &str) -> std::io::Result<TcpStream> {
    let mut last = std::io::Error::new(std::io::ErrorKind::NotFound, "no address");
    for addr in authority.to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
            Ok(stream) => return Ok(stream),
            Err(err) => last = err,
        }
    }
    Err(last)
}

/// Reads the status code of an HTTP/1.x status line (`HTTP/1.1 200 OK`).
fn read_status(stream: &mut TcpStream) -> std::io::Result<u16> {
    let mut line = Vec::with_capacity(32);
    let mut byte = [0u8; 1];
    while line.len() < 256 {
        if stream.read(&mut byte)? == 0 || byte[0] == b'\n' {
            break;
        }
        line.push(byte[0]);
    }
    parse_status_line(&line)
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "no HTTP status line"))
}

/// The status code of a status line, if it is one.
fn parse_status_line(line: &[u8]) -> Option<u16> {
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split_ascii_whitespace();
    parts.next().filter(|v| v.starts_with("HTTP/1."))?;
    let code = parts.next()?;
    (code.len() == 3).then_some(())?;
    code.parse().ok()
}

/// The transport the senders use with Spotlight on: a copy of every envelope to the sidecar,
/// then the envelope to the application's transport, if there is one (with Spotlight and no
/// DSN, envelopes go to the sidecar only).
pub(crate) struct SpotlightTransport {
    pub(crate) sink: SpotlightSink,
    pub(crate) inner: Option<Arc<dyn EnvelopeTransport>>,
}

impl fmt::Debug for SpotlightTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpotlightTransport")
            .field("forwards", &self.inner.is_some())
            .finish_non_exhaustive()
    }
}

impl EnvelopeTransport for SpotlightTransport {
    fn send(&self, envelope: &EnvelopeBytes) -> Result<TransportResponse, TransportError> {
        self.sink.offer(envelope);
        match &self.inner {
            Some(inner) => inner.send(envelope),
            None => Ok(TransportResponse::new(200)),
        }
    }

    fn sends_client_reports(&self) -> bool {
        // Client reports are for Sentry's accounting; the sidecar alone does not need them.
        self.inner
            .as_ref()
            .is_some_and(|inner| inner.sends_client_reports())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::sync::Mutex;

    fn env(v: &str) -> Option<Spotlight> {
        Spotlight::from_env_value(v)
    }

    #[test]
    fn env_values_follow_the_spec_words() {
        for on in ["true", "T", "y", "YES", "on", "1", " 1 "] {
            assert_eq!(env(on), Some(Spotlight::On), "{on}");
        }
        for off in ["false", "F", "n", "No", "OFF", "0"] {
            assert_eq!(env(off), Some(Spotlight::Off), "{off}");
        }
        assert_eq!(env(""), None);
        assert_eq!(env("  "), None);
        assert_eq!(
            env("http://localhost:3000/stream"),
            Some(Spotlight::Url("http://localhost:3000/stream".into()))
        );
    }

    #[test]
    fn precedence_follows_the_spec() {
        let url = |u: &str| Some(u.to_owned());
        let custom = Spotlight::Url("http://custom:3000/stream".into());
        let mine = Spotlight::Url("http://mine:1/stream".into());
        type Case<'a> = (
            Option<&'a Spotlight>,
            Option<&'a Spotlight>,
            Option<String>,
            bool,
        );
        let cases: [Case<'_>; 11] = [
            // An explicit `false` wins over any variable, with a warning when it had one.
            (Some(&Spotlight::Off), Some(&Spotlight::On), None, true),
            (Some(&Spotlight::Off), Some(&custom), None, true),
            (Some(&Spotlight::Off), None, None, false),
            // A URL in code wins, with a warning when the variable named another.
            (
                Some(&mine),
                Some(&custom),
                url("http://mine:1/stream"),
                true,
            ),
            (
                Some(&mine),
                Some(&Spotlight::On),
                url("http://mine:1/stream"),
                false,
            ),
            // `true` takes the variable's URL.
            (
                Some(&Spotlight::On),
                Some(&custom),
                url("http://custom:3000/stream"),
                false,
            ),
            (
                Some(&Spotlight::On),
                Some(&Spotlight::Off),
                url(DEFAULT_SPOTLIGHT_URL),
                false,
            ),
            (
                Some(&Spotlight::On),
                None,
                url(DEFAULT_SPOTLIGHT_URL),
                false,
            ),
            // Unset: the variable decides.
            (
                None,
                Some(&Spotlight::On),
                url(DEFAULT_SPOTLIGHT_URL),
                false,
            ),
            (None, Some(&custom), url("http://custom:3000/stream"), false),
            (None, Some(&Spotlight::Off), None, false),
        ];
        for (option, env, want, warns) in cases {
            let got = resolve(option, env);
            assert_eq!(got.url, want, "{option:?} {env:?}");
            assert_eq!(got.overridden.is_some(), warns, "{option:?} {env:?}");
        }
        assert_eq!(resolve(None, None).url, None);
    }

    #[test]
    fn targets_parse_http_urls_only() {
        let t = SpotlightTarget::parse("http://localhost:8969/stream").unwrap();
        assert_eq!(t.authority, "localhost:8969");
        assert_eq!(t.path, "/stream");
        let t = SpotlightTarget::parse("http://127.0.0.1").unwrap();
        assert_eq!(
            (t.authority.as_str(), t.path.as_str()),
            ("127.0.0.1:80", "/")
        );
        assert_eq!(
            SpotlightTarget::parse("https://localhost:8969/stream"),
            Err(SpotlightUrlError::NotHttp)
        );
        for bad in ["", "localhost:8969", "not a url", "http://"] {
            assert!(SpotlightTarget::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn status_lines_parse_and_garbage_does_not() {
        assert_eq!(parse_status_line(b"HTTP/1.1 200 OK\r"), Some(200));
        assert_eq!(parse_status_line(b"HTTP/1.0 500 Internal"), Some(500));
        for bad in [
            &b""[..],
            b"HTTP/2 200",
            b"HTTP/1.1 2000 x",
            b"SSH-2.0",
            b"\xff\xfe",
        ] {
            assert_eq!(parse_status_line(bad), None);
        }
    }

    #[test]
    fn backoff_doubles_reports_once_and_resets_on_success() {
        let mut b = Backoff::default();
        let t0 = Instant::now();
        assert!(!b.active(t0));
        assert!(b.failed(t0), "the first failure is reported");
        assert!(b.active(t0 + Duration::from_millis(900)));
        assert!(!b.active(t0 + FIRST_BACKOFF));
        assert!(!b.failed(t0 + FIRST_BACKOFF), "later failures are not");
        assert!(b.active(t0 + FIRST_BACKOFF + Duration::from_millis(1900)));
        for _ in 0..20 {
            b.failed(t0);
        }
        assert_eq!(b.next, Some(MAX_BACKOFF));
        b.succeeded();
        assert!(!b.active(t0));
        assert!(b.failed(t0), "a new series is reported again");
    }

    /// A one-connection-at-a-time sidecar stand-in that records each request and answers 200.
    fn stand_in(answer: &'static str) -> (SpotlightTarget, Arc<Mutex<Vec<Vec<u8>>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let mut stream = stream.unwrap();
                stream
                    .set_read_timeout(Some(Duration::from_millis(200)))
                    .unwrap();
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    request.extend_from_slice(&buf[..n]);
                }
                record.lock().unwrap().push(request);
                let _ = stream.write_all(answer.as_bytes());
            }
        });
        let target = SpotlightTarget::parse(&format!("http://127.0.0.1:{port}/stream")).unwrap();
        (target, seen)
    }

    fn envelope() -> EnvelopeBytes {
        EnvelopeBytes::from_bytes(b"{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\"}\n{\"type\":\"transaction\",\"length\":2}\n{}\n").unwrap()
    }

    #[test]
    fn posts_the_envelope_with_the_envelope_content_type() {
        let (target, seen) = stand_in("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        let body = envelope().to_bytes();
        assert_eq!(post(&target, &body).unwrap(), 200);
        let request = String::from_utf8(seen.lock().unwrap()[0].clone()).unwrap();
        assert!(
            request.starts_with("POST /stream HTTP/1.1\r\n"),
            "{request}"
        );
        assert!(request.contains("\r\nContent-Type: application/x-sentry-envelope\r\n"));
        assert!(request.contains(&format!("\r\nContent-Length: {}\r\n", body.len())));
        assert!(request.ends_with(std::str::from_utf8(&body).unwrap()));
    }

    #[test]
    fn an_error_answer_is_a_failure() {
        let (target, _) = stand_in("HTTP/1.1 500 Internal Server Error\r\n\r\n");
        assert!(post(&target, b"x").is_err());
    }

    #[test]
    fn a_down_sidecar_neither_blocks_nor_changes_what_goes_to_sentry() {
        // A port nothing listens on.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let target = SpotlightTarget::parse(&format!("http://127.0.0.1:{port}/stream")).unwrap();
        let stats = Arc::new(StatsInner::default());
        let inner = crate::export::InMemoryTransport::new();
        let transport = SpotlightTransport {
            sink: SpotlightSink::start(target, Arc::clone(&stats)).unwrap(),
            inner: Some(Arc::new(inner.clone())),
        };
        let started = Instant::now();
        for _ in 0..(SPOTLIGHT_QUEUE * 4) {
            let answer = transport.send(&envelope()).unwrap();
            assert!(answer.is_success());
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(
            inner.len(),
            SPOTLIGHT_QUEUE * 4,
            "Sentry got every envelope"
        );
        // Nothing reached the sidecar, and every copy is counted as dropped: the ones the
        // bounded channel refused, and the ones the thread could not post or skipped while
        // backing off.
        assert!(transport
            .sink
            .flush_until(Some(Instant::now() + Duration::from_secs(10))));
        assert_eq!(
            stats.spotlight_envelopes_dropped.load(Ordering::Relaxed),
            (SPOTLIGHT_QUEUE * 4) as u64
        );
    }

    #[test]
    fn a_full_channel_drops_copies_and_counts_them() {
        let stats = Arc::new(StatsInner::default());
        let (copies, _received) = sync_channel(2);
        let sink = SpotlightSink {
            copies,
            stats: Arc::clone(&stats),
            pending: Arc::default(),
        };
        for _ in 0..5 {
            sink.offer(&envelope());
        }
        assert_eq!(stats.spotlight_envelopes_dropped.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn a_flush_returns_once_every_copy_was_posted() {
        let (target, seen) = stand_in("HTTP/1.1 200 OK\r\n\r\n");
        let sink = SpotlightSink::start(target, Arc::default()).unwrap();
        for _ in 0..3 {
            sink.offer(&envelope());
        }
        assert!(sink.flush_until(Some(Instant::now() + Duration::from_secs(10))));
        // No waiting here: the flush already did.
        assert_eq!(seen.lock().unwrap().len(), 3);
        assert!(sink.flush_until(Some(Instant::now())), "nothing left");
    }

    #[test]
    fn a_flush_with_the_sidecar_down_is_quick_and_one_hanging_is_cut_at_the_deadline() {
        let closed = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let target = SpotlightTarget::parse(&format!("http://{closed}/stream")).unwrap();
        let sink = SpotlightSink::start(target, Arc::default()).unwrap();
        let started = Instant::now();
        for _ in 0..20 {
            sink.offer(&envelope());
        }
        assert!(sink.flush_until(Some(started + Duration::from_secs(10))));
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );

        // Accepts connections and never answers: the post waits for its read timeout.
        let hanging = TcpListener::bind("127.0.0.1:0").unwrap();
        let target =
            SpotlightTarget::parse(&format!("http://{}/stream", hanging.local_addr().unwrap()))
                .unwrap();
        let sink = SpotlightSink::start(target, Arc::default()).unwrap();
        sink.offer(&envelope());
        let started = Instant::now();
        assert!(!sink.flush_until(Some(started + Duration::from_millis(300))));
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(300) && waited < IO_TIMEOUT,
            "{waited:?}"
        );
        drop(hanging);
    }

    #[test]
    fn the_guards_flush_waits_for_the_sidecar_copies() {
        use tracing_subscriber::prelude::*;
        let (target, seen) = stand_in("HTTP/1.1 200 OK\r\n\r\n");
        let (layer, guard) = crate::SentryLayer::builder()
            .spotlight(target.url())
            .build()
            .unwrap();
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            tracing::info_span!("work").in_scope(|| {});
        });
        assert!(guard.flush(Duration::from_secs(10)));
        let seen = seen.lock().unwrap();
        assert_eq!(
            seen.len(),
            1,
            "the transaction's copy, posted before flush returned"
        );
        assert!(String::from_utf8_lossy(&seen[0]).contains("\"transaction\":\"work\""));
    }

    #[test]
    fn dropped_copies_are_not_waited_for() {
        let (copies, _received) = sync_channel(1);
        let sink = SpotlightSink {
            copies,
            stats: Arc::default(),
            pending: Arc::default(),
        };
        sink.offer(&envelope()); // queued, never taken: the thread is not running
        sink.offer(&envelope()); // dropped: the channel is full
        assert_eq!(*sink.pending.count.lock().unwrap(), 1);
    }

    #[test]
    fn without_an_inner_transport_the_sidecar_gets_everything() {
        let (target, seen) = stand_in("HTTP/1.1 200 OK\r\n\r\n");
        let stats = Arc::new(StatsInner::default());
        let transport = SpotlightTransport {
            sink: SpotlightSink::start(target, stats).unwrap(),
            inner: None,
        };
        assert!(transport.send(&envelope()).unwrap().is_success());
        assert!(!transport.sends_client_reports());
        let deadline = Instant::now() + Duration::from_secs(5);
        while seen.lock().unwrap().is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(seen.lock().unwrap().len(), 1);
    }
}
