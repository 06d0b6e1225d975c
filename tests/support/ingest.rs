//! A loopback stand-in for Sentry's ingest endpoint, for HTTP transport tests.
//!
//! - Binds `127.0.0.1:0` only, one thread per connection, HTTP/1.1 with keep-alive,
//!   `Content-Length` or chunked bodies, gzip bodies decoded.
//! - Records every request (or, for load runs, only counts them: [`Ingest::set_keep_requests`]);
//!   answers according to a [`Behavior`] that a test can change, after an injected latency
//!   ([`Ingest::set_latency`]), and tallies envelope items, client-report quantities and the
//!   most requests it was answering at once ([`Ingest::tally`]).
//! - Stops by itself: the accept loop ends when the [`Ingest`] is dropped or after
//!   [`MAX_LIFETIME`], and every connection thread ends on EOF, a read timeout, or the same
//!   deadline. Nothing here ever connects anywhere.
//!
//! Uses only std and flate2, so it tests the transport against an independent HTTP peer.
#![expect(dead_code, reason = "each test binary uses a different part")]
#![allow(
    unreachable_pub,
    reason = "the lint fires only where the library's own tests include this file (`export::http`)"
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How long a server lives at most, whatever the test does.
pub const MAX_LIFETIME: Duration = Duration::from_secs(60);
/// How long a connection may sit idle before the server closes it.
const IDLE_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest request body accepted.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// How the server answers `POST`s.
#[derive(Clone, Debug)]
pub enum Behavior {
    /// `200 {"id":"..."}`.
    Ok,
    /// `429` with `Retry-After` and, if given, `X-Sentry-Rate-Limits`.
    RateLimited {
        retry_after: String,
        rate_limits: Option<String>,
    },
    /// `200` with an `X-Sentry-Rate-Limits` header.
    OkWithRateLimits(String),
    /// Any status, no extra headers.
    Status(u16),
    /// Read the request, then sleep this long (past the client's timeout) and close without
    /// answering.
    Hang(Duration),
}

/// One recorded request.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// Header names lowercased, in order.
    pub headers: Vec<(String, String)>,
    /// The body as received.
    pub raw_body: Vec<u8>,
    /// The body after `Content-Encoding` was undone (gzip or deflate).
    pub body: Vec<u8>,
}

impl Request {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Counts over every request received (kept even when requests are not).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Requests received.
    pub requests: u64,
    /// Envelope items of type `transaction`.
    pub transactions: u64,
    /// Envelope items of type `client_report`.
    pub client_reports: u64,
    /// Sum of `discarded_events[].quantity` with category `transaction`, by reason.
    pub reported_transactions: Vec<(String, u64)>,
    /// Envelope items of type `event` (errors, messages, panics).
    pub events: u64,
    /// Log records (the `item_count` of `log` items).
    pub logs: u64,
    /// Sum of `discarded_events[].quantity` by category and reason, every category.
    pub reported: Vec<(String, String, u64)>,
    /// The most requests being answered at once.
    pub peak_in_flight: usize,
    /// Connections accepted.
    pub connections: u64,
}

impl Tally {
    /// Transactions reported lost, all reasons together.
    pub fn reported_lost(&self) -> u64 {
        self.reported_transactions.iter().map(|(_, n)| n).sum()
    }

    /// Items of `category` reported lost, all reasons together.
    pub fn reported_lost_in(&self, category: &str) -> u64 {
        self.reported
            .iter()
            .filter(|(c, _, _)| c == category)
            .map(|(_, _, n)| n)
            .sum()
    }
}

struct Shared {
    behavior: Mutex<Behavior>,
    latency: Mutex<Duration>,
    keep_requests: AtomicBool,
    tally: Mutex<Tally>,
    in_flight: AtomicUsize,
    requests: Mutex<Vec<Request>>,
    arrived: Condvar,
    stop: AtomicBool,
    deadline: Instant,
}

/// A running server; dropping it stops the accept loop.
pub struct Ingest {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Ingest {
    /// Starts a server on a free loopback port, stopping by itself after [`MAX_LIFETIME`].
    pub fn start(behavior: Behavior) -> Ingest {
        Self::start_for(behavior, MAX_LIFETIME)
    }

    /// Starts a server that stops by itself after `lifetime` (long soak runs).
    pub fn start_for(behavior: Behavior, lifetime: Duration) -> Ingest {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let addr = listener.local_addr().expect("local addr");
        assert!(addr.ip().is_loopback());
        let shared = Arc::new(Shared {
            behavior: Mutex::new(behavior),
            latency: Mutex::new(Duration::ZERO),
            keep_requests: AtomicBool::new(true),
            tally: Mutex::new(Tally::default()),
            in_flight: AtomicUsize::new(0),
            requests: Mutex::new(Vec::new()),
            arrived: Condvar::new(),
            stop: AtomicBool::new(false),
            deadline: Instant::now() + lifetime,
        });
        let accept_shared = Arc::clone(&shared);
        thread::Builder::new()
            .name("ingest-accept".into())
            .spawn(move || accept_loop(listener, accept_shared))
            .expect("spawn accept thread");
        Ingest { addr, shared }
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A DSN pointing at this server: `http://{key}@127.0.0.1:{port}/{project}`.
    pub fn dsn(&self, key: &str, project: u64) -> String {
        format!("http://{key}@{}/{project}", self.addr)
    }

    /// Answers every later request `latency` after it was read (as a distant ingest would).
    pub fn set_latency(&self, latency: Duration) {
        *self.shared.latency.lock().unwrap() = latency;
    }

    /// Whether to keep every request (the default) or only tally them (for load runs).
    pub fn set_keep_requests(&self, keep: bool) {
        self.shared.keep_requests.store(keep, Ordering::SeqCst);
    }

    /// The counts so far.
    pub fn tally(&self) -> Tally {
        self.shared.tally.lock().unwrap().clone()
    }

    /// Changes how later requests are answered.
    pub fn set_behavior(&self, behavior: Behavior) {
        *self.shared.behavior.lock().unwrap() = behavior;
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// Waits until `n` requests arrived, for at most `timeout`.
    pub fn wait_for_requests(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut requests = self.shared.requests.lock().unwrap();
        while requests.len() < n {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            requests = self
                .shared
                .arrived
                .wait_timeout(requests, deadline - now)
                .unwrap()
                .0;
        }
        true
    }
}

impl Drop for Ingest {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
    }
}

/// A loopback DSN where nothing listens: a port that was bound, then closed.
pub fn down_dsn(key: &str, project: u64) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    drop(listener);
    format!("http://{key}@{addr}/{project}")
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    while !shared.stop.load(Ordering::SeqCst) && Instant::now() < shared.deadline {
        match listener.accept() {
            Ok((stream, peer)) => {
                if !peer.ip().is_loopback() {
                    continue;
                }
                shared.tally.lock().unwrap().connections += 1;
                let conn_shared = Arc::clone(&shared);
                let _ = thread::Builder::new()
                    .name("ingest-conn".into())
                    .spawn(move || {
                        let _ = serve_connection(stream, &conn_shared);
                    });
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(5));
            }
            Err(_) => thread::sleep(Duration::from_millis(5)),
        }
    }
}

fn serve_connection(stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(IDLE_TIMEOUT))?;
    stream.set_write_timeout(Some(IDLE_TIMEOUT))?;
    stream.set_nodelay(true)?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    while Instant::now() < shared.deadline {
        let Some(request) = read_request(&mut reader)? else {
            return Ok(()); // EOF between requests
        };
        let close = request
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let in_flight = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        let behavior = shared.behavior.lock().unwrap().clone();
        tally(shared, &request, in_flight);
        if shared.keep_requests.load(Ordering::SeqCst) {
            let mut requests = shared.requests.lock().unwrap();
            requests.push(request);
            shared.arrived.notify_all();
        } else {
            shared.arrived.notify_all();
        }
        let latency = *shared.latency.lock().unwrap();
        if !latency.is_zero() {
            thread::sleep(latency.min(shared.deadline.saturating_duration_since(Instant::now())));
        }
        shared.in_flight.fetch_sub(1, Ordering::SeqCst);
        let (status, extra): (u16, Vec<(&str, String)>) = match behavior {
            Behavior::Ok => (200, vec![]),
            Behavior::Status(status) => (status, vec![]),
            Behavior::OkWithRateLimits(limits) => (200, vec![("X-Sentry-Rate-Limits", limits)]),
            Behavior::RateLimited {
                retry_after,
                rate_limits,
            } => {
                let mut extra = vec![("Retry-After", retry_after)];
                if let Some(limits) = rate_limits {
                    extra.push(("X-Sentry-Rate-Limits", limits));
                }
                (429, extra)
            }
            Behavior::Hang(duration) => {
                let until = (Instant::now() + duration).min(shared.deadline);
                while Instant::now() < until && !shared.stop.load(Ordering::SeqCst) {
                    thread::sleep(Duration::from_millis(10));
                }
                return Ok(());
            }
        };
        write_response(&mut writer, status, &extra)?;
        if close {
            return Ok(());
        }
    }
    Ok(())
}

/// Counts `request`'s envelope items and client-report quantities.
fn tally(shared: &Shared, request: &Request, in_flight: usize) {
    let mut tally = shared.tally.lock().unwrap();
    tally.requests += 1;
    tally.peak_in_flight = tally.peak_in_flight.max(in_flight);
    // Item headers and payloads alternate after the envelope header; every payload we send is
    // one JSON line, so reading line by line is enough here.
    let mut lines = request.body.split(|&b| b == b'\n').skip(1);
    while let Some(item_header) = lines.next() {
        let Ok(item_header) = serde_json::from_slice::<serde_json::Value>(item_header) else {
            continue;
        };
        let payload = lines.next().unwrap_or_default();
        match item_header["type"].as_str() {
            Some("transaction") => tally.transactions += 1,
            Some("event") => tally.events += 1,
            Some("log") => tally.logs += item_header["item_count"].as_u64().unwrap_or(1),
            Some("client_report") => {
                tally.client_reports += 1;
                let report: serde_json::Value = serde_json::from_slice(payload).unwrap_or_default();
                for event in report["discarded_events"].as_array().into_iter().flatten() {
                    let category = event["category"].as_str().unwrap_or("?").to_owned();
                    let reason = event["reason"].as_str().unwrap_or("?").to_owned();
                    let quantity = event["quantity"].as_u64().unwrap_or(0);
                    match tally
                        .reported
                        .iter_mut()
                        .find(|(c, r, _)| *c == category && *r == reason)
                    {
                        Some((_, _, n)) => *n += quantity,
                        None => tally.reported.push((category, reason, quantity)),
                    }
                    if event["category"] != "transaction" {
                        continue;
                    }
                    let reason = event["reason"].as_str().unwrap_or("?").to_owned();
                    let quantity = event["quantity"].as_u64().unwrap_or(0);
                    match tally
                        .reported_transactions
                        .iter_mut()
                        .find(|(r, _)| *r == reason)
                    {
                        Some((_, n)) => *n += quantity,
                        None => tally.reported_transactions.push((reason, quantity)),
                    }
                }
            }
            _ => {}
        }
    }
}

fn read_request(reader: &mut BufReader<TcpStream>) -> std::io::Result<Option<Request>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.trim_end().splitn(3, ' ');
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Err(invalid("EOF in headers"));
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').ok_or_else(|| invalid("bad header"))?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let get = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let raw_body = if get("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        read_chunked(reader)?
    } else {
        let len: usize = get("content-length")
            .map(|v| v.parse().map_err(|_| invalid("bad content-length")))
            .transpose()?
            .unwrap_or(0);
        if len > MAX_BODY {
            return Err(invalid("body too large"));
        }
        let mut body = vec![0; len];
        reader.read_exact(&mut body)?;
        body
    };
    let body = match get("content-encoding").as_deref() {
        Some("gzip") => {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&raw_body[..]).read_to_end(&mut out)?;
            out
        }
        Some("deflate") => {
            let mut out = Vec::new();
            flate2::read::ZlibDecoder::new(&raw_body[..]).read_to_end(&mut out)?;
            out
        }
        _ => raw_body.clone(),
    };
    Ok(Some(Request {
        method,
        path,
        headers,
        raw_body,
        body,
    }))
}

fn read_chunked(reader: &mut BufReader<TcpStream>) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size_line = String::new();
        reader.read_line(&mut size_line)?;
        let size_hex = size_line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_hex, 16).map_err(|_| invalid("bad chunk size"))?;
        if size == 0 {
            // Trailers, up to the empty line.
            loop {
                let mut trailer = String::new();
                if reader.read_line(&mut trailer)? == 0 || trailer.trim().is_empty() {
                    return Ok(body);
                }
            }
        }
        if body.len() + size > MAX_BODY {
            return Err(invalid("body too large"));
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..])?;
        let mut crlf = [0; 2];
        reader.read_exact(&mut crlf)?;
    }
}

fn write_response(
    writer: &mut TcpStream,
    status: u16,
    extra: &[(&str, String)],
) -> std::io::Result<()> {
    let body = br#"{"id":"00000000000000000000000000000000"}"#;
    let reason = match status {
        200 => "OK",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        _ => "Status",
    };
    let mut response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in extra {
        response.push_str(&format!("{name}: {value}\r\n"));
    }
    response.push_str("\r\n");
    let mut bytes = response.into_bytes();
    bytes.extend_from_slice(body);
    writer.write_all(&bytes)?;
    writer.flush()
}

fn invalid(what: &'static str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what)
}
