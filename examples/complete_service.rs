//! A complete service: an axum server with two routes that calls a second service with
//! `reqwest` through the middleware, the `sentry` crate for errors and panics, and JSON logs
//! that carry the trace id and span id on every line.
//!
//! ```sh
//! cargo run --example complete_service --features tower,reqwest,sentry,fmt            # serves 127.0.0.1:3000
//! cargo run --example complete_service --features tower,reqwest,sentry,fmt -- --once  # two requests, then exits
//! ```
//!
//! `SENTRY_DSN` (optional) sends the errors and the traces to your Sentry project; without it
//! nothing is sent and the logs still carry the ids. `SENTRY_SPOTLIGHT=1` also sends the traces
//! to [Sentry Spotlight](https://spotlightjs.com/) on this machine (`npx @spotlightjs/spotlight`,
//! then <http://localhost:8969>); the layer reads it through `builder_from_env`. Errors captured
//! with the `sentry` crate go to Sentry only. `--once` (or `COMPLETE_SERVICE_ONCE=1`)
//! serves on a free port, calls `/checkout` and `/refund` once and exits: the CI-style run.
//!
//! The set-up glue is the 17 lines (blank lines and comments aside) between the `glue` markers in `main`: the `sentry` crate,
//! the layer configured from its client, the subscriber with JSON logs, the client middleware
//! and the server layer. Everything else is the application.
//!
//! In your `Cargo.toml` (see the README's compatibility table for the versions):
//!
//! ```toml
//! tracing-sentry = { version = "0.1", features = ["tower", "reqwest", "sentry", "fmt"] }
//! sentry = { version = "0.49", default-features = false, features = ["backtrace", "contexts", "panic", "tracing", "logs"] }
//! axum = "0.8"
//! reqwest = "0.13"
//! reqwest-middleware = "0.5"
//! tokio = { version = "1", features = ["full"] }
//! tracing = "0.1"
//! tracing-subscriber = "0.3"
//! ```

use std::net::SocketAddr;

use axum::extract::{MatchedPath, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use reqwest_middleware::ClientWithMiddleware;
use tracing_sentry::integrations::{reqwest::SentryReqwestMiddleware, tower::SentryHttpLayer};
use tracing_subscriber::{filter::LevelFilter, prelude::*};

#[derive(Clone)]
struct App {
    client: ClientWithMiddleware,
    inventory: String,
}

/// Calls the inventory service: an `http.client` span, and the trace goes on downstream.
async fn checkout(State(app): State<App>) -> Result<String, StatusCode> {
    tracing::info!(basket = 3, "checking out");
    let url = format!("{}/items", app.inventory);
    match app.client.get(url).send().await {
        Ok(response) => Ok(response.text().await.unwrap_or_default()),
        Err(err) => {
            sentry::capture_error(&err); // on this request's trace
            Err(StatusCode::BAD_GATEWAY)
        }
    }
}

/// Fails: the error goes to Sentry on this request's trace, the log line carries its ids.
async fn refund() -> StatusCode {
    let err = std::io::Error::other("refunds are disabled");
    sentry::capture_error(&err);
    tracing::warn!(error = %err, "refund refused");
    StatusCode::SERVICE_UNAVAILABLE
}

/// The second service.
async fn items() -> &'static str {
    tracing::info!("listing items");
    "3 items in stock"
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // glue: begin
    let _sentry = sentry::init(tracing_sentry::integrations::sentry::link(
        sentry::ClientOptions::new().release("checkout@1.0.0"), // DSN: SENTRY_DSN
    ));
    let (layer, _guard) = tracing_sentry::SentryLayer::builder_from_env() // SENTRY_SPOTLIGHT
        .sentry_client(sentry::Hub::current().client())
        .traces_sample_rate(1.0)
        .build()?;
    let json_logs = tracing_subscriber::fmt::layer().event_format(tracing_sentry::fmt::Json::new());
    tracing_subscriber::registry()
        .with(layer)
        .with(json_logs.with_filter(LevelFilter::INFO))
        .init();
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(SentryReqwestMiddleware::new())
        .build();
    let server_layer = SentryHttpLayer::new()
        .route_from_extensions(|ext| ext.get::<MatchedPath>().map(|p| p.as_str().to_owned()));
    // glue: end

    let once = std::env::args().any(|arg| arg == "--once")
        || std::env::var_os("COMPLETE_SERVICE_ONCE").is_some();
    let inventory = Router::new()
        .route("/items", get(items))
        .route_layer(server_layer.clone());
    let inventory = serve(inventory, 0).await?;
    let app = Router::new()
        .route("/checkout", get(checkout))
        .route("/refund", get(refund))
        .route_layer(server_layer)
        .with_state(App {
            client,
            inventory: format!("http://{inventory}"),
        });
    let addr = serve(app, if once { 0 } else { 3000 }).await?;
    if !once {
        println!("curl http://{addr}/checkout   or   curl http://{addr}/refund   (Ctrl-C to stop)");
        std::future::pending::<()>().await;
    }
    for path in ["/checkout", "/refund"] {
        let response = reqwest::get(format!("http://{addr}{path}")).await?;
        println!("GET {path} -> {}", response.status());
    }
    Ok(()) // the guards flush what is left on drop
}

/// Serves `app` on 127.0.0.1:`port` (0: any free port) in the background.
async fn serve(app: Router, port: u16) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(addr)
}
