//! The `sentry` feature against the real `sentry` crate (0.49) with a recording transport:
//! errors, panics, `sentry-tracing` events and logs carry the trace context of the current
//! `tracing` span; the layer takes its options from the client and sends through its transport.
#![cfg(feature = "sentry")]

#[path = "support/ingest.rs"]
mod ingest;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sentry::test::TestTransport;
use sentry::{ClientOptions, Hub, Scope, SentryFutureExt, TracesSamplingStrategy};
use serde_json::Value;
use tracing::instrument::WithSubscriber;
use tracing::{Dispatch, Instrument};
use tracing_sentry::integrations::sentry::link;
use tracing_sentry::{ExportGuard, SentryLayer, SentryLayerBuilder, SentrySpanExt};
use tracing_subscriber::prelude::*;

const DSN: &str = "https://public@o42.ingest.sentry.io/7";

struct Setup {
    transport: Arc<TestTransport>,
    client: Arc<sentry::Client>,
    hub: Arc<Hub>,
    guard: ExportGuard,
    dispatch: Dispatch,
}

fn client_options(transport: &Arc<TestTransport>) -> ClientOptions {
    ClientOptions::new()
        .dsn(DSN)
        .release("client@1.0")
        .environment("client-env")
        .traces_sample_rate(1.0)
        .transport(transport.clone())
        .add_integration(sentry::integrations::panic::PanicIntegration::default())
}

/// Our layer first, then `sentry-tracing`'s error and log layers (no span layer).
fn sentry_tracing_layers<S>() -> impl tracing_subscriber::Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    use sentry::integrations::tracing::{ErrorLayer, LogLayer};
    use tracing_subscriber::filter::LevelFilter;
    ErrorLayer::new()
        .with_filter(LevelFilter::ERROR)
        .and_then(LogLayer::new().with_filter(LevelFilter::INFO))
}

fn setup(configure: impl FnOnce(SentryLayerBuilder) -> SentryLayerBuilder) -> Setup {
    let transport = TestTransport::new();
    let client = Arc::new(sentry::Client::with_options(link(client_options(
        &transport,
    ))));
    let hub = Arc::new(Hub::new(Some(client.clone()), Arc::new(Scope::default())));
    let (layer, guard) = configure(SentryLayer::builder().sentry_client(client.clone()))
        .build()
        .unwrap();
    let subscriber = tracing_subscriber::registry()
        .with(layer)
        .with(sentry_tracing_layers());
    Setup {
        transport,
        client,
        hub,
        guard,
        dispatch: Dispatch::new(subscriber),
    }
}

/// One envelope as JSON: its header and its items (item header, payload).
struct Parsed {
    header: Value,
    items: Vec<(Value, Value)>,
}

impl Parsed {
    fn of(envelope: &sentry::Envelope) -> Parsed {
        let mut bytes = Vec::new();
        envelope.to_writer(&mut bytes).unwrap();
        let mut rest: &[u8] = &bytes;
        let next_line = |rest: &mut &[u8]| {
            let end = rest.iter().position(|b| *b == b'\n').unwrap_or(rest.len());
            let line = &rest[..end];
            *rest = rest.get(end + 1..).unwrap_or(&[]);
            line.to_vec()
        };
        let header = serde_json::from_slice(&next_line(&mut rest)).unwrap();
        let mut items = Vec::new();
        while !rest.is_empty() {
            let item_header: Value = serde_json::from_slice(&next_line(&mut rest)).unwrap();
            let payload = match item_header.get("length").and_then(Value::as_u64) {
                Some(len) => {
                    let payload = rest[..len as usize].to_vec();
                    rest = rest.get(len as usize + 1..).unwrap_or(&[]);
                    payload
                }
                None => next_line(&mut rest),
            };
            items.push((item_header, serde_json::from_slice(&payload).unwrap()));
        }
        Parsed { header, items }
    }

    fn item(&self, ty: &str) -> Option<&Value> {
        self.items
            .iter()
            .find(|(h, _)| h["type"] == ty)
            .map(|(_, payload)| payload)
    }
}

fn flush_all(setup: &Setup) -> Vec<Parsed> {
    assert!(setup.guard.flush(Duration::from_secs(10)));
    assert!(setup.client.flush(Some(Duration::from_secs(10))));
    setup
        .transport
        .fetch_and_clear_envelopes()
        .iter()
        .map(Parsed::of)
        .collect()
}

fn events(envelopes: &[Parsed]) -> Vec<(&Value, &Value)> {
    envelopes
        .iter()
        .filter_map(|e| e.item("event").map(|event| (&e.header, event)))
        .collect()
}

fn transactions(envelopes: &[Parsed]) -> Vec<(&Value, &Value)> {
    envelopes
        .iter()
        .filter_map(|e| e.item("transaction").map(|tx| (&e.header, tx)))
        .collect()
}

fn logs(envelopes: &[Parsed]) -> Vec<&Value> {
    envelopes
        .iter()
        .filter_map(|e| e.item("log"))
        .flat_map(|container| container["items"].as_array().unwrap().iter())
        .collect()
}

fn message_of(event: &Value) -> String {
    if let Some(values) = event["exception"]["values"].as_array() {
        return values.last().unwrap()["value"].as_str().unwrap().to_owned();
    }
    let message = &event["logentry"]["message"];
    let message = if message.is_null() {
        &event["message"]
    } else {
        message
    };
    message.as_str().unwrap_or_default().to_owned()
}

#[derive(Clone, Debug)]
struct Ids {
    trace_id: String,
    work_span_id: String,
    request_span_id: String,
}

/// The example's request: a root `request`, a child `work`, awaits in between, an error, a
/// `tracing` ERROR event and a structured log inside `work`.
async fn request(id: u64, seen: Arc<Mutex<HashMap<u64, Ids>>>) {
    let root = tracing::info_span!("request", request_id = id);
    let request_span_id = root.trace_context().unwrap().span_id().to_string();
    async move {
        tokio::task::yield_now().await;
        let work = tracing::info_span!("work");
        let ctx = work.trace_context().unwrap();
        seen.lock().unwrap().insert(
            id,
            Ids {
                trace_id: ctx.trace_id().to_string(),
                work_span_id: ctx.span_id().to_string(),
                request_span_id,
            },
        );
        async move {
            // Breadcrumbs stay with their request: each task has its own hub.
            sentry::add_breadcrumb(sentry::Breadcrumb {
                message: Some(format!("request {id} crumb")),
                ..Default::default()
            });
            tokio::task::yield_now().await;
            let err = std::io::Error::other(format!("request {id} failed"));
            sentry::capture_error(&err);
            tokio::task::yield_now().await;
            tracing::error!("request {id} error event");
            tokio::task::yield_now().await;
            sentry::logger_info!("request {} log line", id);
        }
        .instrument(work)
        .await;
    }
    .instrument(root)
    .await;
}

fn request_of(text: &str) -> u64 {
    text.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn a_thousand_concurrent_tasks_link_every_event_and_log_to_their_own_span() {
    const N: u64 = 1000;
    let setup = setup(|b| b);
    let seen = Arc::new(Mutex::new(HashMap::new()));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap();
    runtime.block_on(async {
        let tasks: Vec<_> = (0..N)
            .map(|id| {
                let hub = Arc::new(Hub::new_from_top(&setup.hub));
                tokio::spawn(
                    request(id, Arc::clone(&seen))
                        .bind_hub(hub)
                        .with_subscriber(setup.dispatch.clone()),
                )
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    let seen = seen.lock().unwrap().clone();
    let envelopes = flush_all(&setup);

    let txs = transactions(&envelopes);
    assert_eq!(txs.len() as u64, N, "one transaction per request");
    let distinct: std::collections::HashSet<_> = seen.values().map(|i| &i.trace_id).collect();
    assert_eq!(distinct.len() as u64, N, "distinct trace ids");

    let events = events(&envelopes);
    // One `capture_error` and one `tracing::error!` per request.
    assert_eq!(events.len() as u64, 2 * N);
    for (header, event) in &events {
        let message = message_of(event);
        let ids = &seen[&request_of(&message)];
        let trace = &event["contexts"]["trace"];
        assert_eq!(trace["trace_id"], ids.trace_id.as_str(), "{message}");
        assert_eq!(trace["span_id"], ids.work_span_id.as_str(), "{message}");
        assert_eq!(
            trace["parent_span_id"],
            ids.request_span_id.as_str(),
            "{message}"
        );
        assert_eq!(trace["op"], "with_sentry::work", "{message}");
        let crumbs: Vec<&str> = event["breadcrumbs"]["values"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["message"].as_str())
            .collect();
        assert_eq!(crumbs, [format!("request {} crumb", request_of(&message))]);
        // The envelope header carries the trace's frozen DSC.
        assert_eq!(header["trace"]["trace_id"], ids.trace_id.as_str());
        assert_eq!(header["trace"]["public_key"], "public");
        assert_eq!(header["trace"]["release"], "client@1.0");
        assert_eq!(header["trace"]["environment"], "client-env");
        assert_eq!(header["trace"]["transaction"], "request");
        assert_eq!(header["trace"]["sampled"], "true");
    }

    let logs = logs(&envelopes);
    // One `logger_info!` and the ERROR event's log per request.
    assert_eq!(logs.len() as u64, 2 * N);
    for log in logs {
        let body = log["body"].as_str().unwrap();
        let ids = &seen[&request_of(body)];
        assert_eq!(log["trace_id"], ids.trace_id.as_str(), "{body}");
        assert_eq!(
            log["attributes"]["sentry.trace.parent_span_id"]["value"],
            ids.work_span_id.as_str(),
            "{body}"
        );
        assert!(log["attributes"].get("parent_span_id").is_none());
    }

    // The transactions' headers carry the same frozen DSC as the events of their trace.
    for (header, tx) in txs {
        let trace_id = tx["contexts"]["trace"]["trace_id"].as_str().unwrap();
        assert_eq!(header["trace"]["trace_id"], trace_id);
        assert_eq!(header["trace"]["transaction"], "request");
    }
}

#[test]
fn events_outside_spans_keep_what_the_sentry_crate_gives_them() {
    let setup = setup(|b| b);
    let scope_trace_id = Hub::run(setup.hub.clone(), || {
        tracing::dispatcher::with_default(&setup.dispatch, || {
            sentry::capture_message("outside", sentry::Level::Warning);
            let header = Hub::current()
                .configure_scope(|scope| scope.iter_trace_propagation_headers().next())
                .unwrap()
                .1;
            header.split('-').next().unwrap().to_owned()
        })
    });
    let envelopes = flush_all(&setup);
    let events = events(&envelopes);
    assert_eq!(events.len(), 1);
    let (header, event) = events[0];
    assert!(header.get("trace").is_none(), "{header}");
    let trace = &event["contexts"]["trace"];
    assert_eq!(trace["trace_id"], scope_trace_id.as_str());
    assert!(trace.get("op").is_none() && trace.get("parent_span_id").is_none());
}

#[test]
fn with_default_on_a_plain_thread_links_errors_and_panics() {
    let setup = setup(|b| b);
    let (request_ctx, crash_ctx) = Hub::run(setup.hub.clone(), || {
        tracing::dispatcher::with_default(&setup.dispatch, || {
            let root = tracing::info_span!("request");
            let _g = root.enter();
            let crash_ctx = std::cell::Cell::new(None);
            let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let crash = tracing::info_span!("crash").entered();
                crash_ctx.set(crash.trace_context());
                panic!("request 0 panicked");
            }));
            let crash_ctx = crash_ctx.get().unwrap();
            assert!(caught.is_err());
            sentry::capture_error(&std::io::Error::other("request 0 failed"));
            (root.trace_context().unwrap(), crash_ctx)
        })
    });
    let envelopes = flush_all(&setup);
    let events = events(&envelopes);
    assert_eq!(events.len(), 2);
    let with_message = |needle: &str| {
        events
            .iter()
            .find(|(_, e)| message_of(e).contains(needle))
            .unwrap()
            .1
    };
    let panic = with_message("panicked");
    assert_eq!(
        panic["contexts"]["trace"]["trace_id"],
        crash_ctx.trace_id().to_string()
    );
    assert_eq!(
        panic["contexts"]["trace"]["span_id"],
        crash_ctx.span_id().to_string()
    );
    let error = with_message("failed");
    assert_eq!(
        error["contexts"]["trace"]["span_id"],
        request_ctx.span_id().to_string()
    );
    let txs = transactions(&envelopes);
    assert_eq!(txs.len(), 1);
    let crash = txs[0].1["spans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["description"] == "crash")
        .unwrap();
    assert_eq!(crash["status"], "internal_error");
}

#[test]
fn unsampled_spans_get_their_own_id_on_events() {
    let setup = setup(|b| b.traces_sample_rate(0.0));
    let ctx = Hub::run(setup.hub.clone(), || {
        tracing::dispatcher::with_default(&setup.dispatch, || {
            let root = tracing::info_span!("request");
            let _g = root.enter();
            let child = tracing::info_span!("child");
            let _c = child.enter();
            sentry::capture_message("in an unsampled trace", sentry::Level::Error);
            (
                root.trace_context().unwrap(),
                child.trace_context().unwrap(),
            )
        })
    });
    let envelopes = flush_all(&setup);
    assert!(
        transactions(&envelopes).is_empty(),
        "0.0 on our builder wins"
    );
    let events = events(&envelopes);
    let (header, event) = events[0];
    let trace = &event["contexts"]["trace"];
    assert_eq!(trace["trace_id"], ctx.0.trace_id().to_string());
    assert_eq!(trace["span_id"], ctx.1.span_id().to_string());
    assert_ne!(ctx.0.span_id(), ctx.1.span_id());
    assert_eq!(trace["parent_span_id"], ctx.0.span_id().to_string());
    assert_eq!(header["trace"]["sampled"], "false");
}

#[test]
fn options_come_from_the_client_and_the_builder_overrides_them() {
    // From the client: release, environment, rate 1.0, DSN (public key), its transport.
    let setup = setup(|b| b);
    tracing::dispatcher::with_default(&setup.dispatch, || {
        tracing::info_span!("job").in_scope(|| {});
    });
    let envelopes = flush_all(&setup);
    let txs = transactions(&envelopes);
    assert_eq!(txs.len(), 1, "sent through the client's transport");
    let (header, tx) = txs[0];
    assert_eq!(tx["release"], "client@1.0");
    assert_eq!(tx["environment"], "client-env");
    assert_eq!(header["trace"]["public_key"], "public");
    assert_eq!(header["trace"]["org_id"], "42");
    assert_eq!(header["dsn"], DSN);

    // Ours override, whatever the order of the calls.
    let transport = tracing_sentry::export::InMemoryTransport::new();
    let setup = setup_with(|b| {
        b.release("ours@2.0")
            .environment("ours-env")
            .transport(transport.clone())
    });
    tracing::dispatcher::with_default(&setup.dispatch, || {
        tracing::info_span!("job").in_scope(|| {});
    });
    assert!(setup.guard.flush(Duration::from_secs(5)));
    let sent = transport.envelopes();
    assert_eq!(sent.len(), 1, "our own transport stays available");
    let tx = sent[0].transaction().unwrap();
    assert_eq!(tx["release"], "ours@2.0");
    assert_eq!(tx["environment"], "ours-env");
    assert!(setup.transport.fetch_and_clear_envelopes().is_empty());
}

/// `setup` with the builder's own settings applied *before* `sentry_client`.
fn setup_with(configure: impl FnOnce(SentryLayerBuilder) -> SentryLayerBuilder) -> Setup {
    let transport = TestTransport::new();
    let client = Arc::new(sentry::Client::with_options(link(client_options(
        &transport,
    ))));
    let hub = Arc::new(Hub::new(Some(client.clone()), Arc::new(Scope::default())));
    let (layer, guard) = configure(SentryLayer::builder())
        .sentry_client(client.clone())
        .build()
        .unwrap();
    Setup {
        transport,
        client,
        hub,
        guard,
        dispatch: Dispatch::new(tracing_subscriber::registry().with(layer)),
    }
}

#[test]
fn a_client_without_a_fixed_rate_leaves_tracing_to_the_builder() {
    let transport = TestTransport::new();
    let mut options = client_options(&transport);
    options.traces_sampling_strategy = TracesSamplingStrategy::Disabled;
    let client = Arc::new(sentry::Client::with_options(link(options)));
    let (layer, guard) = SentryLayer::builder()
        .sentry_client(Some(client.clone()))
        .build()
        .unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        tracing::info_span!("job").in_scope(|| {});
    });
    assert!(guard.flush(Duration::from_secs(5)));
    assert!(client.flush(Some(Duration::from_secs(5))));
    assert!(transport.fetch_and_clear_envelopes().is_empty());
}

#[test]
fn send_default_pii_comes_from_the_client_too() {
    let span_data = |pii: bool, ours: Option<bool>| {
        let transport = TestTransport::new();
        let options = client_options(&transport).send_default_pii(pii);
        let client = Arc::new(sentry::Client::with_options(link(options)));
        let hub = Arc::new(Hub::new(Some(client.clone()), Arc::new(Scope::default())));
        let mut builder = SentryLayer::builder();
        if let Some(ours) = ours {
            builder = builder.send_default_pii(ours);
        }
        let (layer, guard) = builder.sentry_client(client.clone()).build().unwrap();
        let setup = Setup {
            transport,
            client,
            hub,
            guard,
            dispatch: Dispatch::new(tracing_subscriber::registry().with(layer)),
        };
        tracing::dispatcher::with_default(&setup.dispatch, || {
            tracing::info_span!("job", client.address = "203.0.113.7").in_scope(|| {});
        });
        let envelopes = flush_all(&setup);
        let txs = transactions(&envelopes);
        txs[0].1["contexts"]["trace"]["data"].clone()
    };
    assert_eq!(span_data(true, None)["client.address"], "203.0.113.7");
    assert!(span_data(false, None).get("client.address").is_none());
    // Set on our builder, ours wins, `false` included.
    assert!(span_data(true, Some(false)).get("client.address").is_none());
    assert_eq!(
        span_data(false, Some(true))["client.address"],
        "203.0.113.7"
    );
}

#[test]
fn over_http_the_event_envelope_keeps_its_trace_header() {
    // The `sentry` crate's HTTP transport filters envelopes through its rate limiter, which
    // rebuilds typed envelopes without their headers: the linked event must still arrive with
    // the trace's DSC.
    let ingest = ingest::Ingest::start(ingest::Behavior::Ok);
    let client = Arc::new(sentry::Client::with_options(link(
        ClientOptions::new()
            .dsn(&ingest.dsn("public", 7))
            .release("client@1.0")
            .traces_sample_rate(1.0)
            .transport(::sentry::transports::DefaultTransportFactory),
    )));
    let hub = Arc::new(Hub::new(Some(client.clone()), Arc::new(Scope::default())));
    let (layer, guard) = SentryLayer::builder()
        .sentry_client(client.clone())
        .build()
        .unwrap();
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
    let ctx = Hub::run(hub, || {
        tracing::dispatcher::with_default(&dispatch, || {
            let span = tracing::info_span!("request");
            let _g = span.enter();
            sentry::capture_error(&std::io::Error::other("request 1 failed"));
            span.trace_context().unwrap()
        })
    });
    assert!(guard.flush(Duration::from_secs(10)));
    assert!(ingest.wait_for_requests(2, Duration::from_secs(10)));
    let mut seen_event = false;
    for request in ingest.requests() {
        let header: Value =
            serde_json::from_slice(request.body.split(|b| *b == b'\n').next().unwrap()).unwrap();
        assert_eq!(header["trace"]["trace_id"], ctx.trace_id().to_string());
        assert_eq!(header["trace"]["release"], "client@1.0");
        let body = String::from_utf8_lossy(&request.body);
        seen_event |= body.contains("\"type\":\"event\"");
    }
    assert!(
        seen_event,
        "the error event went through the client's transport"
    );
}

#[test]
fn sentry_tracing_events_use_the_span_of_the_event_explicit_or_contextual() {
    let setup = setup(|b| b);
    let (current, other) = Hub::run(setup.hub.clone(), || {
        tracing::dispatcher::with_default(&setup.dispatch, || {
            let other = tracing::info_span!("other");
            let current = tracing::info_span!("current");
            let _g = current.enter();
            tracing::error!("request 1 contextual");
            tracing::error!(parent: &other, "request 2 explicit");
            tracing::error!(parent: None, "request 3 root");
            (
                current.trace_context().unwrap(),
                other.trace_context().unwrap(),
            )
        })
    });
    let envelopes = flush_all(&setup);
    let events = events(&envelopes);
    assert_eq!(events.len(), 3);
    for (header, event) in events {
        let message = message_of(event);
        let trace = &event["contexts"]["trace"];
        match request_of(&message) {
            1 => assert_eq!(trace["span_id"], current.span_id().to_string()),
            2 => assert_eq!(trace["span_id"], other.span_id().to_string()),
            _ => {
                assert!(header.get("trace").is_none(), "a root event is left alone");
                assert_ne!(trace["trace_id"], current.trace_id().to_string());
                assert_ne!(trace["trace_id"], other.trace_id().to_string());
            }
        }
    }
}

#[test]
fn a_value_set_on_the_builder_wins_over_the_client_even_when_it_is_false() {
    // The client asks for strict continuation (org 42, from its DSN); an incoming trace that
    // names no organization is then refused, unless our builder turns strictness off.
    let incoming = "771a43a4192642f0b136d5159a501700-b7ad6b7169203331-1";
    let continues = |builder: SentryLayerBuilder| {
        let transport = TestTransport::new();
        let mut options = client_options(&transport);
        options.strict_trace_continuation = true;
        let client = Arc::new(sentry::Client::with_options(link(options)));
        let (layer, _guard) = builder.sentry_client(client).build().unwrap();
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
            let span = tracing::info_span!("request");
            let mut headers = http::HeaderMap::new();
            headers.insert("sentry-trace", incoming.parse().unwrap());
            let _ = span.set_parent_from_headers(&headers);
            span.trace_context().unwrap().trace_id().to_string() == incoming[..32]
        })
    };
    assert!(
        !continues(SentryLayer::builder()),
        "the client's `true` applies"
    );
    assert!(
        continues(SentryLayer::builder().strict_trace_continuation(false)),
        "our explicit `false` overrides it"
    );
}

/// A client linked without a transport of its own, and the layer built from it: one pipeline.
fn linked_over_http(
    ingest: &ingest::Ingest,
    configure: impl FnOnce(SentryLayerBuilder) -> SentryLayerBuilder,
) -> (Arc<sentry::Client>, Arc<Hub>, ExportGuard, Dispatch) {
    let client = Arc::new(sentry::Client::with_options(link(
        ClientOptions::new()
            .dsn(&ingest.dsn("public", 7))
            .release("client@1.0")
            .traces_sample_rate(1.0),
    )));
    let hub = Arc::new(Hub::new(Some(client.clone()), Arc::new(Scope::default())));
    let (layer, guard) = configure(SentryLayer::builder().sentry_client(client.clone()))
        .build()
        .unwrap();
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
    (client, hub, guard, dispatch)
}

#[test]
fn linked_without_a_transport_events_logs_and_transactions_share_the_layers_pipeline() {
    let ingest = ingest::Ingest::start(ingest::Behavior::Ok);
    let (_client, hub, guard, dispatch) = linked_over_http(&ingest, |b| b);
    let ctx = Hub::run(hub, || {
        tracing::dispatcher::with_default(&dispatch, || {
            let span = tracing::info_span!("request");
            let _g = span.enter();
            sentry::capture_error(&std::io::Error::other("request 1 failed"));
            sentry::logger_info!("request 1 log line");
            span.trace_context().unwrap()
        })
    });
    // The guard flushes the client first (its log batch joins our queue), then the queue.
    assert!(guard.flush(Duration::from_secs(10)));
    let stats = guard.stats();
    assert_eq!(stats.transactions_sent, 1);
    assert_eq!(
        stats.sentry_items_sent, 2,
        "the event and the log container"
    );
    let tally = ingest.tally();
    assert_eq!((tally.events, tally.logs, tally.transactions), (1, 1, 1));
    let event = ingest
        .requests()
        .into_iter()
        .find(|r| String::from_utf8_lossy(&r.body).contains("\"type\":\"event\""))
        .expect("the event arrived");
    let header: Value =
        serde_json::from_slice(event.body.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(header["trace"]["trace_id"], ctx.trace_id().to_string());
    assert_eq!(header["trace"]["release"], "client@1.0");
    assert!(header["sent_at"].is_string(), "stamped on the sender");
    assert!(
        event.header("x-sentry-auth").is_some(),
        "our transport sent it"
    );
}

#[test]
fn a_limit_on_logs_drops_only_the_logs_and_errors_still_go() {
    let ingest = ingest::Ingest::start(ingest::Behavior::OkWithRateLimits(
        "60:log_item:organization".to_owned(),
    ));
    let (client, hub, guard, dispatch) = linked_over_http(&ingest, |b| b);
    let capture = |n: u32, logs: bool| {
        Hub::run(hub.clone(), || {
            tracing::dispatcher::with_default(&dispatch, || {
                for i in 0..n {
                    sentry::capture_message(&format!("error {i}"), sentry::Level::Error);
                    if logs {
                        sentry::logger_info!("log {}", i);
                    }
                }
            })
        });
        client.flush(Some(Duration::from_secs(10)))
    };
    // The first answer, to an error alone, sets the limit on logs (a log sent with it could
    // arrive or not, as the senders interleave).
    assert!(capture(1, false));
    assert!(capture(5, true));
    assert!(guard.flush(Duration::from_secs(10)));
    let tally = ingest.tally();
    assert_eq!(tally.events, 6, "every error arrived");
    assert_eq!(tally.logs, 0, "every log batch came after the limit");
    let stats = guard.stats();
    assert_eq!(
        stats.sentry_items_dropped_rate_limited, 1,
        "one batch of 5 logs"
    );
    assert!(stats.rate_limit_responses >= 1);
    // Logs held back by a limit are reported in their category; the client report rides
    // along with a later envelope, at the latest at shutdown.
    drop(guard);
    let reported = ingest.tally().reported;
    assert!(
        reported.contains(&("log_item".to_owned(), "ratelimit_backoff".to_owned(), 5)),
        "{reported:?}"
    );
}

/// The usual axum order: tower-http's `CatchPanicLayer` outside the server layer. The panic's
/// event (the `sentry` crate's panic integration) is on the request's trace, with the span that
/// panicked, and the request's transaction is an `internal_error` with status code 500.
#[cfg(feature = "tower")]
#[test]
fn a_panicking_request_behind_catch_panic_is_on_its_trace() {
    use tower::{Layer, ServiceExt};
    use tracing_sentry::integrations::tower::SentryHttpLayer;

    let setup = setup(|b| b);
    let handler_ctx = Arc::new(Mutex::new(None));
    let seen = handler_ctx.clone();
    let handler = tower::service_fn(move |_: http::Request<String>| {
        let seen = seen.clone();
        async move {
            let span = tracing::info_span!("handler").entered();
            *seen.lock().unwrap() = span.trace_context();
            if seen.lock().unwrap().is_some() {
                panic!("the checkout handler panicked");
            }
            Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
        }
    });
    let service = tower_http::catch_panic::CatchPanicLayer::new()
        .layer(SentryHttpLayer::new().layer(handler));
    let status = Hub::run(setup.hub.clone(), || {
        tracing::dispatcher::with_default(&setup.dispatch, || {
            tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap()
                .block_on(async {
                    let request = http::Request::get("/checkout").body(String::new()).unwrap();
                    service.oneshot(request).await.unwrap().status()
                })
        })
    });
    assert_eq!(status, 500);
    let handler_ctx = handler_ctx.lock().unwrap().unwrap();

    let envelopes = flush_all(&setup);
    let events = events(&envelopes);
    let (header, panic) = events
        .iter()
        .find(|(_, e)| message_of(e).contains("checkout handler panicked"))
        .expect("the panic's event");
    let trace_id = handler_ctx.trace_id().to_string();
    assert_eq!(panic["contexts"]["trace"]["trace_id"], trace_id);
    assert_eq!(
        panic["contexts"]["trace"]["span_id"],
        handler_ctx.span_id().to_string()
    );
    assert_eq!(header["trace"]["trace_id"], trace_id);
    let txs = transactions(&envelopes);
    assert_eq!(txs.len(), 1);
    let tx = txs[0].1;
    assert_eq!(tx["contexts"]["trace"]["trace_id"], trace_id);
    assert_eq!(tx["contexts"]["trace"]["status"], "internal_error", "{tx}");
    assert_eq!(
        tx["contexts"]["trace"]["data"]["http.response.status_code"],
        500
    );
}

/// Faults of the ingest, with the client linked to the layer's pipeline: `sentry::capture_*`
/// never waits for the network, and every error event and transaction is either sent or
/// counted lost in `Stats` once the guard is gone.
mod ingest_faults {
    use std::time::Instant;

    use super::*;
    use ingest::{Behavior, Ingest};

    /// Far below the ingest's stall or the retries' back-off (seconds): passing means the
    /// capturing thread never waited on the network; it is not a speed measurement.
    const NEVER_BLOCKED: Duration = Duration::from_millis(1500);
    const N: u64 = 40;

    struct Run {
        longest_capture: Duration,
        guard: ExportGuard,
        layer: SentryLayer,
        _client: Arc<sentry::Client>,
    }

    /// `N` requests, each a transaction with an error captured inside it.
    fn run(dsn: &str) -> Run {
        let client = Arc::new(sentry::Client::with_options(link(
            ClientOptions::new().dsn(dsn).traces_sample_rate(1.0),
        )));
        let hub = Arc::new(Hub::new(Some(client.clone()), Arc::new(Scope::default())));
        let (layer, guard) = SentryLayer::builder()
            .sentry_client(client.clone())
            .shutdown_timeout(Duration::from_millis(500))
            .build()
            .unwrap();
        let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer.clone()));
        let mut longest_capture = Duration::ZERO;
        Hub::run(hub, || {
            tracing::dispatcher::with_default(&dispatch, || {
                for i in 0..N {
                    let _request = tracing::info_span!("request", i).entered();
                    let started = Instant::now();
                    sentry::capture_message(&format!("error {i}"), sentry::Level::Error);
                    longest_capture = longest_capture.max(started.elapsed());
                }
            })
        });
        Run {
            longest_capture,
            guard,
            layer,
            _client: client,
        }
    }

    fn errors_accounted(stats: &tracing_sentry::Stats) -> u64 {
        stats.sentry_items_sent
            + stats.sentry_items_dropped_queue_full
            + stats.sentry_items_dropped_rate_limited
            + stats.sentry_items_dropped_send_failed
            + stats.sentry_items_dropped_rejected
    }

    fn transactions_accounted(stats: &tracing_sentry::Stats) -> u64 {
        stats.transactions_sent
            + stats.transactions_dropped_queue_full
            + stats.transactions_dropped_rate_limited
            + stats.transactions_dropped_send_failed
            + stats.transactions_dropped_rejected
            + stats.transactions_dropped_shutdown
    }

    /// Drops the guard and waits (boundedly) until every error and transaction is accounted
    /// for: a send still under way when the guard went finishes on its sender.
    fn all_accounted(run: Run) -> tracing_sentry::Stats {
        drop(run.guard);
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let stats = run.layer.stats();
            let done = errors_accounted(&stats) == N && transactions_accounted(&stats) == N;
            if done || Instant::now() >= deadline {
                return stats;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn a_down_ingest_never_blocks_capture_and_every_loss_is_counted() {
        let run = run(&ingest::down_dsn("public", 7));
        assert!(
            run.longest_capture < NEVER_BLOCKED,
            "{:?}",
            run.longest_capture
        );
        let stats = all_accounted(run);
        assert_eq!(errors_accounted(&stats), N, "{stats:?}");
        assert_eq!(transactions_accounted(&stats), N, "{stats:?}");
        assert_eq!(stats.sentry_items_sent, 0);
        assert!(stats.send_failures >= 1, "{stats:?}");
    }

    #[test]
    fn a_failing_ingest_never_blocks_capture_and_every_loss_is_counted() {
        let ingest = Ingest::start(Behavior::Status(500));
        let run = run(&ingest.dsn("public", 7));
        assert!(
            run.longest_capture < NEVER_BLOCKED,
            "{:?}",
            run.longest_capture
        );
        let stats = all_accounted(run);
        assert_eq!(errors_accounted(&stats), N, "{stats:?}");
        assert_eq!(transactions_accounted(&stats), N, "{stats:?}");
        assert_eq!(stats.sentry_items_sent, 0);
        assert!(stats.sentry_items_dropped_send_failed >= 1, "{stats:?}");
    }

    #[test]
    fn a_hanging_ingest_never_blocks_capture_or_shutdown() {
        let ingest = Ingest::start(Behavior::Hang(Duration::from_secs(20)));
        let run = run(&ingest.dsn("public", 7));
        assert!(
            run.longest_capture < NEVER_BLOCKED,
            "{:?}",
            run.longest_capture
        );
        assert!(!run.guard.flush(Duration::from_millis(300)));
        let started = Instant::now();
        let stats = all_accounted(run);
        assert!(started.elapsed() < Duration::from_secs(16));
        assert_eq!(stats.sentry_items_sent + stats.transactions_sent, 0);
        // What had not left when the guard went is counted; a send that was hanging is
        // counted when its timeout ends it.
        assert_eq!(errors_accounted(&stats), N, "{stats:?}");
        assert_eq!(transactions_accounted(&stats), N, "{stats:?}");
    }

    #[test]
    fn a_429_on_transactions_keeps_errors_going_and_reports_the_limited() {
        let ingest = Ingest::start(Behavior::RateLimited {
            retry_after: "60".to_owned(),
            rate_limits: Some("60:transaction:organization".to_owned()),
        });
        let run = run(&ingest.dsn("public", 7));
        assert!(
            run.longest_capture < NEVER_BLOCKED,
            "{:?}",
            run.longest_capture
        );
        let stats = all_accounted(run);
        assert_eq!(errors_accounted(&stats), N, "{stats:?}");
        assert_eq!(transactions_accounted(&stats), N, "{stats:?}");
        assert!(
            stats.transactions_dropped_rate_limited >= N - 1,
            "{stats:?}"
        );
        // The ingest answered 429 to every POST, the ones with errors too: an error that got a
        // 429 counts as rate limited, not as sent; but no error was held back by a limit on
        // transactions alone, so each of them was sent (and answered).
        assert_eq!(ingest.tally().events, N, "{stats:?}");
    }

    #[test]
    fn a_flapping_ingest_never_blocks_capture_and_every_error_is_sent_or_counted() {
        let ingest = Ingest::start(Behavior::Status(500));
        let dsn = ingest.dsn("public", 7);
        let flapping = std::thread::scope(|scope| {
            let flapper = scope.spawn(|| {
                for i in 0..6 {
                    ingest.set_behavior(match i % 3 {
                        0 => Behavior::Status(500),
                        1 => Behavior::Hang(Duration::from_millis(300)),
                        _ => Behavior::Ok,
                    });
                    std::thread::sleep(Duration::from_millis(100));
                }
                ingest.set_behavior(Behavior::Ok);
            });
            let run = run(&dsn);
            let _ = flapper.join();
            run
        });
        assert!(
            flapping.longest_capture < NEVER_BLOCKED,
            "{:?}",
            flapping.longest_capture
        );
        assert!(flapping.guard.flush(Duration::from_secs(10)));
        let stats = all_accounted(flapping);
        assert_eq!(errors_accounted(&stats), N, "{stats:?}");
        assert_eq!(transactions_accounted(&stats), N, "{stats:?}");
        // The ingest saw every error sent, and others it answered with a 500 or not at all.
        assert!(
            ingest.tally().events >= stats.sentry_items_sent,
            "{stats:?}"
        );
        assert!(stats.sentry_items_sent > 0, "{stats:?}");
    }
}

/// A transport of the application's that panics: `link` keeps it, and its panic never reaches
/// the capturing code; the envelopes it lost are counted as ours are.
#[test]
fn a_panicking_application_transport_is_contained_and_counted() {
    struct Panics;
    impl sentry::Transport for Panics {
        fn send_envelope(&self, _: sentry::Envelope) {
            panic!("the application's transport panicked");
        }
        fn flush(&self, _: Duration) -> bool {
            panic!("the application's transport panicked in flush");
        }
    }
    let client = Arc::new(sentry::Client::with_options(link(
        ClientOptions::new()
            .dsn(DSN)
            .traces_sample_rate(1.0)
            .transport(Arc::new(Panics)),
    )));
    let hub = Arc::new(Hub::new(Some(client.clone()), Arc::new(Scope::default())));
    let (layer, guard) = SentryLayer::builder()
        .sentry_client(client.clone())
        .build()
        .unwrap();
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        Hub::run(hub, || {
            tracing::dispatcher::with_default(&dispatch, || {
                let _request = tracing::info_span!("request").entered();
                sentry::capture_message("in a span", sentry::Level::Error);
                drop(_request);
                sentry::capture_message("outside spans", sentry::Level::Error);
            })
        })
    }));
    assert!(caught.is_ok(), "the capturing code never sees the panic");
    assert!(
        !client.flush(Some(Duration::from_millis(100))),
        "a panicking flush fails"
    );
    guard.flush(Duration::from_secs(5));
    let stats = guard.stats();
    assert_eq!(stats.sentry_items_dropped_send_failed, 2, "{stats:?}");
    // Our transaction went through the same transport, from a sender: counted there.
    assert_eq!(stats.transactions_dropped_send_failed, 1, "{stats:?}");
    // The two events, the transaction, and any client report about them.
    assert!(stats.transport_panics >= 3, "{stats:?}");
}
