//! Distributed tracing across two Rust services, printed as a waterfall in the terminal.
//!
//! ```sh
//! cargo run --example distributed_trace --features tower,reqwest
//! # ... and also send the transactions to your Sentry project:
//! SENTRY_DSN=https://<key>@o<org>.ingest.sentry.io/<project> \
//!     cargo run --example distributed_trace --features tower,reqwest
//! # ... or with the stream lifecycle: spans streamed as span v2 items, not transactions
//! cargo run --example distributed_trace --features tower,reqwest -- --stream
//! # ... and see the traces in Sentry Spotlight, the local development UI (no DSN needed):
//! npx @spotlightjs/spotlight     # in another terminal: the sidecar, UI at http://localhost:8969
//! cargo run --example distributed_trace --features tower,reqwest -- --spotlight
//! ```
//!
//! Two axum services run on loopback in this process, `gateway` and `backend`, each on its own
//! thread with its own tokio runtime and its own subscriber and `SentryLayer` (as if they were
//! two deployments). The `tower` layer opens an `http.server` span per request that continues
//! the caller's trace; `#[instrument]` spans nest under it; the gateway calls the backend with
//! a `reqwest` client and the `SentryReqwestMiddleware`, which opens an `http.client` span and
//! adds `sentry-trace` and `baggage`; the backend continues the trace.
//! Each service's transactions go to an `InMemoryTransport` (and, with `SENTRY_DSN`, to Sentry
//! too), and the driver at the bottom prints every trace from what both services exported.
//!
//! `--spotlight` turns on [Sentry Spotlight](https://spotlightjs.com/) in both services: a copy
//! of every envelope goes to the sidecar at `http://localhost:8969/stream`, or at the URL in
//! `SENTRY_SPOTLIGHT` (the layers are built with `builder_from_env`, so `SENTRY_SPOTLIGHT=1`
//! alone turns it on too); `--spotlight=http://host:port/stream` names the sidecar outright.
//! When no sidecar runs, the demo runs as without it and prints one `tracing-sentry:` line per
//! service on stderr. `--save-envelopes=DIR` writes every envelope the services exported, one
//! file each (`spotlight/run.sh` checks that the sidecar received exactly these).

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{MatchedPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::Router;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use tracing_sentry::export::{
    Dsn, EnvelopeBytes, EnvelopeTransport, InMemoryTransport, TransportError, TransportResponse,
    UreqTransport,
};
use tracing_sentry::integrations::reqwest::SentryReqwestMiddleware;
use tracing_sentry::integrations::tower::SentryHttpLayer;
use tracing_sentry::{
    ExportGuard, SentryLayer, SpanId, Spotlight, TraceId, TraceLifecycle, DEFAULT_SPOTLIGHT_URL,
};
use tracing_subscriber::prelude::*;

type HttpClient = Client<HttpConnector, Empty<Bytes>>;
type BoxError = Box<dyn std::error::Error + Send + Sync>;

// ===== The gateway: `GET /checkout` authorizes, then asks the backend for the cart. =====

#[derive(Clone)]
struct Gateway {
    backend_url: String,
    client: reqwest_middleware::ClientWithMiddleware,
}

#[tracing::instrument(skip_all, fields(sentry.op = "function"))]
async fn checkout(State(gateway): State<Gateway>) -> (StatusCode, String) {
    authorize("user-42").await;
    match fetch_cart(&gateway).await {
        Ok(cart) => (StatusCode::OK, cart),
        Err(err) => (StatusCode::BAD_GATEWAY, err.to_string()),
    }
}

#[tracing::instrument(fields(sentry.op = "auth"))]
async fn authorize(user: &str) {
    tokio::time::sleep(Duration::from_millis(3)).await;
}

#[tracing::instrument(skip_all, fields(sentry.op = "function"))]
async fn fetch_cart(gateway: &Gateway) -> Result<String, BoxError> {
    // The middleware opens an `http.client` span and sends `sentry-trace`/`baggage` naming it
    // as the backend's parent.
    let response = gateway.client.get(&gateway.backend_url).send().await?;
    Ok(response.text().await?)
}

// ===== The backend: `GET /cart` loads the cart from a (pretend) database. =====

/// The trace headers the backend received, one entry per request, for the printout.
type Received = Arc<Mutex<Vec<Vec<(String, String)>>>>;

async fn cart(State(received): State<Received>, headers: HeaderMap) -> String {
    let trace_headers = ["sentry-trace", "baggage"].iter().flat_map(|name| {
        let values = headers.get_all(*name).iter();
        values.map(|v| (name.to_string(), v.to_str().unwrap_or("?").to_owned()))
    });
    received.lock().unwrap().push(trace_headers.collect());
    load_cart(42).await
}

#[tracing::instrument(fields(sentry.op = "function"))]
async fn load_cart(cart_id: u64) -> String {
    let rows = query_db("SELECT sku, qty FROM cart_items").await;
    price_items(rows).await
}

#[tracing::instrument(fields(sentry.op = "db.sql.query", sentry.description = sql))]
async fn query_db(sql: &'static str) -> usize {
    tokio::time::sleep(Duration::from_millis(8)).await;
    3
}

#[tracing::instrument(fields(sentry.op = "function"))]
async fn price_items(rows: usize) -> String {
    tokio::time::sleep(Duration::from_millis(2)).await;
    format!("{{\"items\":{rows},\"total\":\"59.90\"}}")
}

// ===== Running a service: its own layer, subscriber, thread and runtime. =====

/// Sends each envelope to memory (for the printout) and, with a DSN, to Sentry as well.
struct FanOut {
    memory: InMemoryTransport,
    sentry: Option<UreqTransport>,
}

impl EnvelopeTransport for FanOut {
    fn send(&self, envelope: &EnvelopeBytes) -> Result<TransportResponse, TransportError> {
        let local = self.memory.send(envelope)?;
        // Sentry's answer decides retries and rate limits; retries re-store the same event id,
        // which the printout skips.
        self.sentry.as_ref().map_or(Ok(local), |s| s.send(envelope))
    }
}

/// One running service: its address, what it exported, and the guard of its export worker.
struct Service {
    name: &'static str,
    addr: SocketAddr,
    exported: InMemoryTransport,
    guard: ExportGuard,
}

/// How every service is configured: the DSN, the lifecycle and the `--spotlight` option.
struct Settings {
    dsn: Option<Dsn>,
    lifecycle: TraceLifecycle,
    spotlight: Option<Spotlight>,
}

fn spawn_service(
    name: &'static str,
    settings: &Settings,
    app: Router,
) -> Result<Service, BoxError> {
    let Settings {
        dsn,
        lifecycle,
        spotlight,
    } = settings;
    let exported = InMemoryTransport::new();
    let transport = FanOut {
        memory: exported.clone(),
        sentry: dsn.as_ref().map(UreqTransport::new),
    };
    // `SENTRY_SPOTLIGHT` comes from the environment; the rest is set here.
    let mut builder = SentryLayer::builder_from_env()
        .release(format!("{name}@1.0.0"))
        .environment("demo")
        .traces_sample_rate(1.0) // new traces: always sampled
        .trace_lifecycle(*lifecycle)
        .transport(transport);
    if let Some(dsn) = dsn {
        builder = builder.dsn(dsn.clone()); // the DSC's public_key, the envelope's `dsn`
    }
    if let Some(spotlight) = spotlight {
        builder = builder.spotlight(spotlight.clone()); // a copy of every envelope to Spotlight
    }
    let (layer, guard) = builder.build()?;
    let subscriber = tracing_subscriber::registry().with(layer);

    // The `http.server` span of every request, named after the matched route.
    let app = app.route_layer(
        SentryHttpLayer::new()
            .route_from_extensions(|ext| ext.get::<MatchedPath>().map(|p| p.as_str().to_owned())),
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?; // bound now: no start-up race
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            // A current-thread runtime polls every task of this service on this thread, so they
            // all see this service's subscriber.
            tracing::subscriber::with_default(subscriber, || {
                rt.expect("a tokio runtime").block_on(async {
                    let listener = tokio::net::TcpListener::from_std(listener).expect("a listener");
                    axum::serve(listener, app).await.expect("serving");
                });
            });
        })?;
    Ok(Service {
        name,
        addr,
        exported,
        guard,
    })
}

// ===== The driver: a few requests, then one waterfall per trace. =====

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), BoxError> {
    let dsn: Option<Dsn> = match std::env::var("SENTRY_DSN") {
        Ok(dsn) if !dsn.trim().is_empty() => Some(dsn.trim().parse()?),
        _ => None,
    };
    let lifecycle = if std::env::args().any(|a| a == "--stream") {
        TraceLifecycle::Stream
    } else {
        TraceLifecycle::Static
    };
    // `--spotlight`: the sidecar at the default URL or `SENTRY_SPOTLIGHT`'s; `--spotlight=URL`.
    let spotlight = std::env::args().find_map(|a| match a.strip_prefix("--spotlight") {
        Some("") => Some(Spotlight::On),
        Some(url) => url.strip_prefix('=').map(Spotlight::from),
        None => None,
    });
    println!(
        "Two Rust services, `gateway` and `backend`, each with its own SentryLayer, run on \
         loopback. Three requests hit the gateway's /checkout: one continuing a trace from a \
         Sentry-instrumented front end (sampled, with a third-party baggage member), one with \
         no trace headers (the gateway starts the trace), and one from an unsampled trace. \
         For each trace you see its id, the sampling decision, the frozen dynamic sampling \
         context (DSC) the services reported, every span of both services as a waterfall \
         (indented by parent_span_id: the backend's root sits under the gateway's http.client \
         span), and the headers the backend received. {}\n",
        match &dsn {
            Some(dsn) => format!("The transactions are also sent to {}.", dsn.envelope_url()),
            None => "Set SENTRY_DSN to also send them to Sentry.".to_owned(),
        }
    );

    // The driver is a plain HTTP client: no subscriber on this thread.
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    let received = Received::default();
    let backend_app = Router::new().route("/cart", get(cart));
    let spotlight_ui = spotlight_ui(spotlight.as_ref());
    let settings = Settings {
        dsn,
        lifecycle,
        spotlight,
    };
    let backend = spawn_service(
        "backend",
        &settings,
        backend_app.with_state(received.clone()),
    )?;
    let gateway_app = Router::new()
        .route("/checkout", get(checkout))
        .with_state(Gateway {
            backend_url: format!("http://{}/cart", backend.addr),
            client: reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
                .with(SentryReqwestMiddleware::new())
                .build(),
        });
    let gateway = spawn_service("gateway", &settings, gateway_app)?;
    println!(
        "Lifecycle: {lifecycle} ({}).\n",
        match lifecycle {
            TraceLifecycle::Stream => "every span streamed as a span v2 item",
            _ => "one transaction per service and request; `--stream` streams spans instead",
        }
    );

    // A Sentry-instrumented front end sends its span, its decision, and its DSC; another vendor
    // added `acme-tenant`. The third request comes from a trace sampled out upstream.
    let (front, unsampled) = (TraceId::random(), TraceId::random());
    let public_key = settings
        .dsn
        .as_ref()
        .map_or("frontendpublickey", Dsn::public_key);
    let front_baggage = format!(
        "acme-tenant=t42,sentry-trace_id={front},sentry-public_key={public_key},\
         sentry-release=web%401.0.0,sentry-environment=demo,sentry-transaction=%2Fcheckout,\
         sentry-sample_rate=1.0,sentry-sampled=true,sentry-sample_rand=0.417301"
    );
    let unsampled_baggage = format!(
        "sentry-trace_id={unsampled},sentry-sample_rate=0.1,sentry-sampled=false,\
         sentry-sample_rand=0.8"
    );
    let requests = [
        (
            "from a Sentry-instrumented front end (-1)",
            Some((front, "1", front_baggage)),
        ),
        ("fresh: no trace headers", None),
        (
            "from an unsampled trace (-0)",
            Some((unsampled, "0", unsampled_baggage)),
        ),
    ];
    for (label, upstream) in &requests {
        let mut request = http::Request::get(format!("http://{}/checkout", gateway.addr));
        println!("GET /checkout {label}");
        if let Some((trace_id, sampled, baggage)) = upstream {
            let sentry_trace = format!("{trace_id}-{}-{sampled}", SpanId::random());
            println!("    sentry-trace: {sentry_trace}\n    baggage: {baggage}");
            request = request
                .header("sentry-trace", sentry_trace)
                .header("baggage", baggage);
        }
        let response = client.request(request.body(Empty::new())?).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        println!("  -> {status} {}", String::from_utf8_lossy(&body));
    }
    // Blocking here is fine: the services run on their own threads.
    for service in [&gateway, &backend] {
        if !service.guard.flush(Duration::from_secs(5)) {
            eprintln!("{}: some transactions were still being sent", service.name);
        }
    }
    let save_to =
        std::env::args().find_map(|a| a.strip_prefix("--save-envelopes=").map(String::from));
    if let Some(dir) = save_to {
        save_envelopes(std::path::Path::new(&dir), &[&gateway, &backend])?;
    }

    // The backend saw one request per driver request, in order; the `sentry-trace` it received
    // names the trace, whether or not anything was exported.
    let received = received.lock().unwrap();
    for ((label, upstream), backend_headers) in requests.iter().zip(received.iter()) {
        let trace_id = backend_headers
            .iter()
            .find(|(name, _)| name == "sentry-trace")
            .map_or("", |(_, value)| value.get(..32).unwrap_or(""));
        let third_party = upstream.as_ref().is_some_and(|(.., b)| b.contains("acme-"));
        let trace = (trace_id, *label, third_party);
        print_trace(trace, &[&gateway, &backend], backend_headers);
    }
    if let Some(ui) = spotlight_ui {
        println!(
            "\nSpotlight: both services also sent every envelope to the sidecar. Open {ui} \
             (Traces) to see the sampled traces above, both services' spans in one waterfall."
        );
    }
    Ok(())
}

/// Writes each envelope the services exported to `dir`, as `SERVICE-N.envelope`.
fn save_envelopes(dir: &std::path::Path, services: &[&Service]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for service in services {
        for (n, envelope) in service.exported.envelopes().iter().enumerate() {
            let file = dir.join(format!("{}-{n}.envelope", service.name));
            std::fs::write(file, envelope.as_bytes())?;
        }
    }
    Ok(())
}

/// Where the Spotlight UI is, when Spotlight is on: the sidecar's URL without its path. The
/// URL is the option's, else a URL in `SENTRY_SPOTLIGHT`, else the default (the precedence of
/// [`SentryLayerBuilder::spotlight`](tracing_sentry::SentryLayerBuilder::spotlight)).
fn spotlight_ui(option: Option<&Spotlight>) -> Option<String> {
    let env = std::env::var("SENTRY_SPOTLIGHT").unwrap_or_default();
    let env = env.trim();
    let env_url = env.contains("://").then_some(env);
    let env_on = env_url.is_some()
        || ["true", "t", "y", "yes", "on", "1"]
            .iter()
            .any(|w| env.eq_ignore_ascii_case(w));
    let url = match option {
        Some(Spotlight::Url(url)) => url.as_str(),
        Some(Spotlight::On) => env_url.unwrap_or(DEFAULT_SPOTLIGHT_URL),
        None if env_on => env_url.unwrap_or(DEFAULT_SPOTLIGHT_URL),
        _ => return None,
    };
    // `http://localhost:8969/stream` -> `http://localhost:8969`
    let path_start = url.find("://").map_or(0, |i| i + 3);
    let end = url[path_start..]
        .find('/')
        .map_or(url.len(), |i| path_start + i);
    Some(url[..end].to_owned())
}

/// One span of the waterfall.
struct Row {
    service: &'static str,
    span_id: String,
    parent: Option<String>,
    op: String,
    name: String,
    start: f64,
    end: f64,
}

type Children<'a> = HashMap<Option<&'a str>, Vec<&'a Row>>;

/// Prints one trace: what both services exported for it, and what the backend received.
fn print_trace(
    (trace_id, label, third_party): (&str, &str, bool),
    services: &[&Service],
    backend: &[(String, String)],
) {
    // Every transaction of this trace, from both services (a retried send is stored twice).
    let (mut rows, mut dscs, mut seen) = (Vec::new(), Vec::new(), HashSet::new());
    for service in services {
        for envelope in service.exported.envelopes() {
            // The stream lifecycle: span v2 items, one span per row.
            let mut streamed = false;
            for span in streamed_spans(&envelope) {
                if span["trace_id"] != trace_id
                    || !seen.insert(span["span_id"].as_str().map(String::from))
                {
                    continue;
                }
                streamed = true;
                rows.push(streamed_row(service.name, &span));
            }
            if streamed {
                dscs.push(dsc_line(&envelope));
            }
            let Some(tx) = transaction(&envelope) else {
                continue;
            };
            let root = &tx["contexts"]["trace"];
            if root["trace_id"] != trace_id || !seen.insert(envelope.event_id().map(String::from)) {
                continue;
            }
            dscs.push(dsc_line(&envelope));
            rows.push(row(service.name, root, &tx["transaction"], &tx));
            for span in tx["spans"].as_array().into_iter().flatten() {
                rows.push(row(service.name, span, &span["description"], span));
            }
        }
    }

    println!("\n=== trace {trace_id}  ({label})");
    if rows.is_empty() {
        println!("sampled: no. Neither service sent anything for this trace, yet it propagated:");
        return print_headers(backend.iter().map(|(n, v)| (n.as_str(), v.as_str())));
    }
    dscs.dedup();
    let same = if dscs.len() == 1 {
        "equal"
    } else {
        "DIFFERENT"
    };
    let dscs = dscs.join(" | ");
    println!("sampled: yes   DSC (envelope header `trace`, {same} in all envelopes): {dscs}");

    let t0 = rows.iter().map(|r| r.start).fold(f64::INFINITY, f64::min);
    let t1 = rows.iter().map(|r| r.end).fold(f64::NEG_INFINITY, f64::max);
    let total = (t1 - t0).max(1e-6);
    let header = format!("{:<60} {:>8}  0 .. {:.1} ms", "op  name", "ms", total * 1e3);
    println!("service  {header}");
    // Children by parent span id, in start order. A parent outside this trace's exports (the
    // front end's span) counts as none: those spans are the top of the waterfall.
    let ids: HashSet<&str> = rows.iter().map(|r| r.span_id.as_str()).collect();
    let mut children = Children::new();
    for r in &rows {
        let parent = r.parent.as_deref().filter(|p| ids.contains(p));
        children.entry(parent).or_default().push(r);
    }
    for list in children.values_mut() {
        list.sort_by(|a, b| a.start.total_cmp(&b.start));
    }
    print_tree(&children, None, 0, (t0, total));
    let note = if third_party {
        " (no `acme-tenant`: incoming third-party baggage stays)"
    } else {
        ""
    };
    println!("the backend received{note}:");
    print_headers(backend.iter().map(|(n, v)| (n.as_str(), v.as_str())));
}

/// Prints the children of `parent`, each followed by its own children, one level deeper.
fn print_tree(children: &Children, parent: Option<&str>, depth: usize, (t0, total): (f64, f64)) {
    const WIDTH: f64 = 40.0; // the bar of the whole trace
    for r in children.get(&parent).into_iter().flatten() {
        let offset = ((r.start - t0) / total * WIDTH).round().min(WIDTH - 1.0);
        let len = ((r.end - r.start) / total * WIDTH)
            .round()
            .clamp(1.0, WIDTH - offset);
        let label = format!("{}{}  {}", "  ".repeat(depth), r.op, r.name);
        let bar = " ".repeat(offset as usize) + &"█".repeat(len as usize);
        let ms = (r.end - r.start) * 1e3;
        println!("{:<8} {label:<60} {ms:>8.2}  {bar}", r.service);
        print_tree(children, Some(&r.span_id), depth + 1, (t0, total));
    }
}

/// The payload of the envelope's `transaction` item, if it has one.
fn transaction(envelope: &EnvelopeBytes) -> Option<Value> {
    let (_, payload) = envelope.items().find(|(ty, _)| *ty == "transaction")?;
    serde_json::from_slice(payload).ok()
}

/// The spans of the envelope's span v2 items (`{"version":2,"items":[...]}`).
fn streamed_spans(envelope: &EnvelopeBytes) -> Vec<Value> {
    let items = envelope.items().filter(|(ty, _)| *ty == "span");
    items
        .filter_map(|(_, payload)| serde_json::from_slice::<Value>(payload).ok())
        .flat_map(|mut batch| match batch["items"].take() {
            Value::Array(spans) => spans,
            _ => Vec::new(),
        })
        .collect()
}

/// The DSC of an envelope's `trace` header, as `key=value, ...`.
fn dsc_line(envelope: &tracing_sentry::export::EnvelopeBytes) -> String {
    let dsc: Vec<String> = envelope
        .trace()
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    dsc.join(", ")
}

/// Reads a row from a span (or a transaction's `contexts.trace`, with the times of `times`).
fn row(service: &'static str, span: &Value, name: &Value, times: &Value) -> Row {
    let text = |v: &Value| v.as_str().unwrap_or("").to_owned();
    let time = |v: &Value| parse_rfc3339(v.as_str().unwrap_or("")).unwrap_or(0.0);
    Row {
        service,
        span_id: text(&span["span_id"]),
        parent: span["parent_span_id"].as_str().map(str::to_owned),
        op: text(&span["op"]),
        name: text(name),
        start: time(&times["start_timestamp"]),
        end: time(&times["timestamp"]),
    }
}

/// Reads a row from a streamed span (span v2: `name`, `sentry.op`, float timestamps).
fn streamed_row(service: &'static str, span: &Value) -> Row {
    let text = |v: &Value| v.as_str().unwrap_or("").to_owned();
    let segment = if span["is_segment"] == true {
        " (segment)"
    } else {
        ""
    };
    Row {
        service,
        span_id: text(&span["span_id"]),
        parent: span["parent_span_id"].as_str().map(str::to_owned),
        op: text(&span["attributes"]["sentry.op"]["value"]),
        name: format!("{}{segment}", text(&span["name"])),
        start: span["start_timestamp"].as_f64().unwrap_or(0.0),
        end: span["end_timestamp"].as_f64().unwrap_or(0.0),
    }
}

fn print_headers<'a>(headers: impl Iterator<Item = (&'a str, &'a str)>) {
    for (name, value) in headers {
        println!("    {name}: {value}");
    }
}

/// Seconds since the epoch of `2026-05-01T12:34:56.123456Z` (the exporter's timestamp format).
fn parse_rfc3339(s: &str) -> Option<f64> {
    let num = |range: std::ops::Range<usize>| s.get(range)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm) = (num(11..13)?, num(14..16)?);
    let secs: f64 = s.get(17..)?.trim_end_matches('Z').parse().ok()?;
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    Some((days * 86_400 + hh * 3_600 + mm * 60) as f64 + secs)
}
