//! Export under load, through `examples/interop_service` and a loopback ingest that answers
//! each envelope `POST` after an injected latency: transactions per second delivered, by ingest
//! latency and number of requests in flight.
//!
//! ```sh
//! cargo build --release --features tower --example interop_service
//! cargo bench --bench export_load -- [--latency 0,50,200] [--secs 10] [--clients 16] \
//!     [--rate CALLS_PER_S] [--in-flight K] [--ingest ok|down|hang|429|500|flap] [--settle S] \
//!     [--service target/release/examples/interop_service]
//! ```
//!
//! For each latency it starts an ingest (tests/support/ingest.rs) and a downstream, runs the
//! service against them, drives it with `--clients` keep-alive connections calling
//! `GET /call` for `--secs` seconds (as fast as it answers, or at `--rate` calls per second in
//! total), then calls `GET /flush` and reports: calls/s, transactions delivered (per second
//! over the load and the flush, and as a share of calls), transactions reported lost in client reports, the unexplained rest
//! (lost minus reported), the most requests the ingest saw in flight, the connections it
//! accepted, the service's peak RSS, and the service's `Stats` line.

#[path = "../tests/support/ingest.rs"]
mod ingest;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use ingest::{Behavior, Ingest};

struct Args {
    latencies: Vec<u64>,
    secs: u64,
    clients: usize,
    rate: Option<u64>,
    service: String,
    /// Passed to the service as `EXPORT_MAX_IN_FLIGHT`.
    in_flight: Option<usize>,
    /// How the ingest answers: `ok`, `down` (nothing listens), `hang`, `429`, `500`, or
    /// `flap` (ok, hanging and 500 in turn, a second each).
    ingest: String,
    /// Seconds to wait after the flush before counting the service's threads again.
    settle: u64,
}

fn args() -> Args {
    let mut args = Args {
        latencies: vec![0, 50, 200],
        secs: 10,
        clients: 16,
        rate: None,
        service: "target/release/examples/interop_service".to_owned(),
        in_flight: None,
        ingest: "ok".to_owned(),
        settle: 0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_default();
        match flag.as_str() {
            "--latency" => {
                args.latencies = value().split(',').filter_map(|v| v.parse().ok()).collect();
            }
            "--secs" => args.secs = value().parse().unwrap_or(10),
            "--clients" => args.clients = value().parse().unwrap_or(16),
            "--rate" => args.rate = value().parse().ok(),
            "--service" => args.service = value(),
            "--in-flight" => args.in_flight = value().parse().ok(),
            "--ingest" => args.ingest = value(),
            "--settle" => args.settle = value().parse().unwrap_or(0),
            _ => {} // cargo bench passes `--bench`
        }
    }
    args
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// One keep-alive `GET path`; returns whether a 2xx came back.
fn get(stream: &mut BufReader<TcpStream>, path: &str) -> std::io::Result<(bool, String)> {
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    stream.get_mut().write_all(request.as_bytes())?;
    let mut status = String::new();
    stream.read_line(&mut status)?;
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        if stream.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                len = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; len];
    stream.read_exact(&mut body)?;
    Ok((
        status.contains(" 200 "),
        String::from_utf8_lossy(&body).into_owned(),
    ))
}

fn connect(port: u16) -> std::io::Result<BufReader<TcpStream>> {
    let stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    Ok(BufReader::new(stream))
}

/// A number field of `/proc/<pid>/status` (`VmHWM:` in KiB, `Threads:`).
/// The service's open sockets (connections and listeners), from `/proc/PID/fd`.
fn open_sockets(child: &Child) -> u64 {
    std::fs::read_dir(format!("/proc/{}/fd", child.id()))
        .map(|dir| {
            dir.filter_map(Result::ok)
                .filter(|fd| {
                    std::fs::read_link(fd.path())
                        .map(|target| target.to_string_lossy().starts_with("socket:"))
                        .unwrap_or(false)
                })
                .count() as u64
        })
        .unwrap_or(0)
}

fn proc_status(child: &Child, field: &str) -> u64 {
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn run(args: &Args, latency_ms: u64) {
    let behavior = match args.ingest.as_str() {
        "hang" => Behavior::Hang(Duration::from_secs(30)),
        "429" => Behavior::RateLimited {
            retry_after: "60".into(),
            rate_limits: None,
        },
        "500" => Behavior::Status(500),
        _ => Behavior::Ok,
    };
    let lifetime = Duration::from_secs(args.secs + args.settle + 60);
    let ingest = Ingest::start_for(behavior, lifetime);
    ingest.set_keep_requests(false);
    ingest.set_latency(Duration::from_millis(latency_ms));
    let dsn = if args.ingest == "down" {
        ingest::down_dsn("49d0f7386ad645858ae85020e393bef3", 1)
    } else {
        ingest.dsn("49d0f7386ad645858ae85020e393bef3", 1)
    };
    let downstream = Ingest::start_for(Behavior::Ok, lifetime);
    downstream.set_keep_requests(false);

    let port = free_port();
    let stderr_path = format!("/tmp/export_load_service_{latency_ms}ms.stderr");
    let mut service = Command::new(&args.service);
    if let Some(n) = args.in_flight {
        service.env("EXPORT_MAX_IN_FLIGHT", n.to_string());
    }
    let mut service = service
        .env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("DOWNSTREAM_URL", format!("http://{}/", downstream.addr()))
        .env("SENTRY_DSN", dsn)
        .env("SENTRY_TRACES_SAMPLE_RATE", "1.0")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&stderr_path).expect("stderr file"))
        .spawn()
        .expect("start the service (build it first: see the module docs)");
    let started = Instant::now();
    while connect(port).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "service did not start"
        );
        thread::sleep(Duration::from_millis(20));
    }

    let stop = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let per_client_interval = args
        .rate
        .map(|rate| Duration::from_secs_f64(args.clients as f64 / rate.max(1) as f64));
    let clients: Vec<_> = (0..args.clients)
        .map(|_| {
            let (stop, calls, errors) = (stop.clone(), calls.clone(), errors.clone());
            thread::spawn(move || {
                let mut conn = connect(port).expect("connect");
                let mut next = Instant::now();
                while !stop.load(Ordering::Relaxed) {
                    if let Some(interval) = per_client_interval {
                        let now = Instant::now();
                        if next > now {
                            thread::sleep(next - now);
                        }
                        next += interval;
                    }
                    match get(&mut conn, "/call") {
                        Ok((true, _)) => {
                            calls.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => {
                            errors.fetch_add(1, Ordering::Relaxed);
                            match connect(port) {
                                Ok(c) => conn = c,
                                Err(_) => thread::sleep(Duration::from_millis(10)),
                            }
                        }
                    }
                }
            })
        })
        .collect();
    let load_started = Instant::now();
    let mut peak_threads = 0;
    let mut peak_sockets = 0;
    let flap = args.ingest == "flap";
    for second in 0..args.secs {
        if flap {
            ingest.set_behavior(match second % 3 {
                0 => Behavior::Ok,
                1 => Behavior::Hang(Duration::from_secs(2)),
                _ => Behavior::Status(500),
            });
        }
        thread::sleep(Duration::from_secs(1));
        peak_threads = peak_threads.max(proc_status(&service, "Threads:"));
        peak_sockets = peak_sockets.max(open_sockets(&service));
    }
    if flap {
        ingest.set_behavior(Behavior::Ok);
    }
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        let _ = client.join();
    }
    let elapsed = load_started.elapsed().as_secs_f64();
    let calls = calls.load(Ordering::Relaxed);

    let flush_started = Instant::now();
    let stats_line = connect(port)
        .and_then(|mut c| get(&mut c, "/flush"))
        .map(|(_, body)| body)
        .unwrap_or_default();
    let flush_took = flush_started.elapsed();
    // Late client reports: give the service's senders a moment.
    thread::sleep(Duration::from_millis(200));
    let threads_after = proc_status(&service, "Threads:");
    thread::sleep(Duration::from_secs(args.settle));
    let threads_settled = proc_status(&service, "Threads:");
    let sockets_settled = open_sockets(&service);
    let rss = proc_status(&service, "VmHWM:");
    let _ = service.kill();
    let _ = service.wait();
    let mut stdout = String::new();
    if let Some(mut out) = service.stdout.take() {
        let _ = out.read_to_string(&mut stdout);
    }
    let debug_lines = std::fs::read_to_string(&stderr_path)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("[tracing-sentry]"))
        .count();

    let tally = ingest.tally();
    let delivered = tally.transactions;
    // Delivery continues during the flush: the rate is over the load and the flush.
    let delivering = elapsed + flush_took.as_secs_f64();
    let lost = calls.saturating_sub(delivered);
    let reported = tally.reported_lost();
    println!(
        "| {latency_ms} ms | {:.0} | {:.0} | {delivered} of {calls} ({:.1}%) | {reported} ({:?}) | {} | {} | {} | {:.1} MiB | {:.2} s | {} |",
        calls as f64 / elapsed,
        delivered as f64 / delivering,
        100.0 * delivered as f64 / calls.max(1) as f64,
        tally.reported_transactions,
        lost.saturating_sub(reported),
        tally.peak_in_flight,
        tally.connections,
        rss as f64 / 1024.0,
        flush_took.as_secs_f64(),
        debug_lines,
    );
    println!(
        "  mean call latency {:.2} ms; service threads: peak {peak_threads}, after the flush {threads_after}, {}s later {threads_settled}; open sockets: peak {peak_sockets}, at the end {sockets_settled}",
        args.clients as f64 * 1000.0 / (calls as f64 / elapsed).max(1e-9),
        args.settle
    );
    println!("  stats: {}", stats_line.trim());
    if errors.load(Ordering::Relaxed) > 0 {
        println!("  client errors: {}", errors.load(Ordering::Relaxed));
    }
}

fn main() {
    let args = args();
    println!(
        "{} keep-alive clients for {} s{}; service {}",
        args.clients,
        args.secs,
        args.rate
            .map(|r| format!(" at {r} calls/s"))
            .unwrap_or_default(),
        args.service
    );
    println!("| D | calls/s | delivered/s | delivered | client-reported lost (by reason) | lost - reported | peak in flight | connections | service peak RSS | /flush | debug lines |");
    println!("| ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for &latency in &args.latencies {
        run(&args, latency);
    }
}
