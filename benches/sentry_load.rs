//! The `sentry` crate's telemetry under load, through `examples/with_sentry` and a loopback
//! ingest that answers each envelope `POST` after an injected latency: what arrives, what is
//! client-reported lost, envelopes per second, requests in flight, and how long
//! `sentry::capture_error` took on the request's thread.
//!
//! ```sh
//! cargo build --release --features sentry --example with_sentry
//! cargo bench --bench sentry_load --features sentry -- [--requests 2000] [--latency 50,200] \
//!     [--transport pipeline,sentry] [--ingest ok|down|hang|429|500|flap] [--timeout 90] [--flush 20] \
//!     [--example target/release/examples/with_sentry]
//! ```
//!
//! For each transport (`pipeline`: the layer's export pipeline as the client's transport, the
//! default of `link`; `sentry`: the `sentry` crate's own transport, wrapped by `link`) and each
//! latency it starts an ingest (tests/support/ingest.rs), runs the example with `REQUESTS`
//! requests against it (its final flush bounded by `--flush` seconds, the process killed after
//! `--timeout`), and prints one row. Each request
//! sends two error events (request 0 a panic besides), one transaction and one log.
//! `--ingest` chooses how the ingest answers: `ok`, `down` (nothing listens), `hang`, `429`
//! (every POST, `X-Sentry-Rate-Limits` on `transaction` and `log_item` only), `500`, or `flap`
//! (ok, hanging and 500 in turn, a second each).

#[path = "../tests/support/ingest.rs"]
mod ingest;

use std::io::Read;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use ingest::{Behavior, Ingest};

struct Args {
    requests: u64,
    latencies: Vec<u64>,
    transports: Vec<String>,
    ingest: String,
    timeout: u64,
    flush: u64,
    example: String,
}

fn args() -> Args {
    let mut args = Args {
        requests: 2000,
        latencies: vec![50],
        transports: vec!["pipeline".to_owned(), "sentry".to_owned()],
        ingest: "ok".to_owned(),
        timeout: 90,
        flush: 20,
        example: "target/release/examples/with_sentry".to_owned(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_default();
        match flag.as_str() {
            "--requests" => args.requests = value().parse().unwrap_or(2000),
            "--latency" => {
                args.latencies = value().split(',').filter_map(|v| v.parse().ok()).collect();
            }
            "--transport" => {
                args.transports = value().split(',').map(str::to_owned).collect();
            }
            "--ingest" => args.ingest = value(),
            "--timeout" => args.timeout = value().parse().unwrap_or(90),
            "--flush" => args.flush = value().parse().unwrap_or(20),
            "--example" => args.example = value(),
            _ => {} // cargo bench passes `--bench`
        }
    }
    args
}

fn behavior(ingest: &str) -> Behavior {
    match ingest {
        "hang" => Behavior::Hang(Duration::from_secs(30)),
        "429" => Behavior::RateLimited {
            retry_after: "60".into(),
            rate_limits: Some("60:transaction;log_item:organization".into()),
        },
        "500" => Behavior::Status(500),
        _ => Behavior::Ok,
    }
}

fn run(args: &Args, transport: &str, latency_ms: u64) {
    let ingest = Ingest::start_for(
        behavior(&args.ingest),
        Duration::from_secs(args.timeout + 30),
    );
    ingest.set_keep_requests(false);
    ingest.set_latency(Duration::from_millis(latency_ms));
    let dsn = if args.ingest == "down" {
        ingest::down_dsn("49d0f7386ad645858ae85020e393bef3", 1)
    } else {
        ingest.dsn("49d0f7386ad645858ae85020e393bef3", 1)
    };
    let started = Instant::now();
    let mut child = Command::new(&args.example)
        .env("SENTRY_DSN", dsn)
        .env("REQUESTS", args.requests.to_string())
        .env("SENTRY_TRANSPORT", transport)
        .env("FLUSH_SECS", args.flush.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the example (build it first: see the module docs)");
    let deadline = started + Duration::from_secs(args.timeout);
    let flap = args.ingest == "flap";
    let status = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        if flap {
            ingest.set_behavior(match started.elapsed().as_secs() % 3 {
                0 => Behavior::Ok,
                1 => Behavior::Hang(Duration::from_secs(2)),
                _ => Behavior::Status(500),
            });
        }
        thread::sleep(Duration::from_millis(20));
    };
    let took = started.elapsed().as_secs_f64();
    let mut stderr = String::new();
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut stderr);
    }
    let line = |prefix: &str| {
        stderr
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or("-")
            .to_owned()
    };
    let in_flight = if stderr.contains("still in flight") {
        "some"
    } else {
        "nothing"
    };
    let tally = ingest.tally();
    let n = args.requests;
    let errors = 2 * n + 1;
    let reported = |category: &str| tally.reported_lost_in(category);
    println!(
        "| {transport} | {latency_ms} ms | {} of {errors} (+{} reported) | {} of {n} (+{} reported) | {} of {n} (+{} reported) | {:.0} | {} | {} | {in_flight} | {took:.1} s |",
        tally.events,
        reported("error"),
        tally.transactions,
        reported("transaction"),
        tally.logs,
        reported("log_item"),
        tally.requests as f64 / took,
        tally.peak_in_flight,
        status.map_or("killed".to_owned(), |s| s.code().map_or("signal".to_owned(), |c| c.to_string())),
    );
    println!("  {}", line("sent "));
    println!("  {}", line("capture_error:"));
    println!("  reported: {:?}", tally.reported);
}

fn main() {
    let args = args();
    println!(
        "examples/with_sentry, REQUESTS={}, ingest {}; {}",
        args.requests, args.ingest, args.example
    );
    println!("| transport | D | error events arrived | transactions arrived | logs arrived | envelopes/s | peak in flight | exit | in flight at the end | run |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |");
    for transport in &args.transports {
        for &latency in &args.latencies {
            run(&args, transport, latency);
        }
    }
}
