//! A downstream service on loopback: its own thread, runtime, subscriber and exporting
//! `SentryLayer` (as another deployment would have), behind `SentryHttpLayer`.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::Router;
use tracing_sentry::export::InMemoryTransport;
use tracing_sentry::integrations::tower::SentryHttpLayer;
use tracing_sentry::{ExportGuard, SentryLayer};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::prelude::*;

const INFO: LevelFilter = LevelFilter::INFO;

/// The headers of every request the downstream received, in order.
pub type Received = Arc<Mutex<Vec<HeaderMap>>>;

pub struct Downstream {
    pub addr: SocketAddr,
    pub received: Received,
    pub guard: ExportGuard,
    pub transport: InMemoryTransport,
}

impl Downstream {
    /// Starts the default downstream: `/items` answers 200, `/missing` 404.
    pub fn start() -> Downstream {
        let received = Received::default();
        let app = Router::new()
            .route("/items", get(items))
            .route("/missing", get(missing))
            .with_state(received.clone());
        Self::serve(app, received)
    }

    /// Serves `app` (wrapped in `SentryHttpLayer`) with an exporting layer of its own.
    pub fn serve(app: Router, received: Received) -> Downstream {
        let (layer, guard, transport) =
            crate::support::exporting(SentryLayer::builder().traces_sample_rate(1.0));
        let app = app.layer(SentryHttpLayer::new());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            // hyper and h2 have spans of their own at DEBUG and TRACE: keep them out.
            let subscriber = tracing_subscriber::registry().with(layer.with_filter(INFO));
            tracing::subscriber::with_default(subscriber, || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                    axum::serve(listener, app).await.unwrap();
                });
            });
        });
        Downstream {
            addr,
            received,
            guard,
            transport,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The transactions the downstream exported.
    pub fn transactions(&self) -> Vec<serde_json::Value> {
        crate::support::sent_transactions(&self.guard, &self.transport)
            .into_iter()
            .map(|(_, tx)| tx)
            .collect()
    }

    /// The headers of the only request received.
    pub fn only_request(&self) -> HeaderMap {
        let received = self.received.lock().unwrap();
        assert_eq!(received.len(), 1, "one request received");
        received[0].clone()
    }
}

async fn items(State(received): State<Received>, headers: HeaderMap) -> &'static str {
    received.lock().unwrap().push(headers);
    tracing::info!("listing items");
    "[]"
}

async fn missing(State(received): State<Received>, headers: HeaderMap) -> StatusCode {
    received.lock().unwrap().push(headers);
    StatusCode::NOT_FOUND
}

/// A port nothing listens on.
pub fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}/items")
}

/// Runs `f` on a current-thread runtime with `subscriber` as this thread's default.
pub fn run<S, F>(subscriber: S, f: F) -> F::Output
where
    S: tracing::Subscriber + Send + Sync + 'static,
    F: std::future::Future,
{
    tracing::subscriber::with_default(subscriber, || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    })
}

/// The one span with `op` in `tx`.
pub fn span_with_op<'a>(tx: &'a serde_json::Value, op: &str) -> &'a serde_json::Value {
    let spans: Vec<_> = tx["spans"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["op"] == op)
        .collect();
    assert_eq!(spans.len(), 1, "one {op} span in {tx}");
    spans[0]
}

/// Runs `call` inside a `handler` span, under an exporting layer built from `builder`, on a
/// current-thread runtime; returns its output and the transactions exported.
pub fn in_handler<F: std::future::Future>(
    builder: tracing_sentry::SentryLayerBuilder,
    call: F,
) -> (F::Output, Vec<serde_json::Value>) {
    use tracing::Instrument;
    let (layer, guard, transport) = crate::support::exporting(builder);
    let subscriber = tracing_subscriber::registry().with(layer.with_filter(INFO));
    // The span is created inside `run`, where the subscriber is the default.
    let output = run(subscriber, async {
        call.instrument(tracing::info_span!("handler")).await
    });
    let txs = crate::support::sent_transactions(&guard, &transport);
    (output, txs.into_iter().map(|(_, tx)| tx).collect())
}

/// A `MakeWriter` into a shared buffer, to read what a fmt layer printed.
#[derive(Clone, Default)]
pub struct Captured(pub Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Captured {
    /// What was printed so far.
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}
