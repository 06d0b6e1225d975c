//! The subjects: the bare registry, our layer (unsampled, sampled), sentry-tracing, and
//! tracing-opentelemetry (always on, always off); for the event workloads (f) to (i), our layer
//! with logs on, sentry-tracing's `SpanLayer` + `LogLayer`, and both behind a global `INFO`
//! filter. Every one is a `Dispatch` whose export, if any, discards, plus the per-subject way of
//! doing workloads (c) and (d).

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::propagation::{
    Extractor, Injector, TextMapCompositePropagator, TextMapPropagator,
};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider, SpanData, SpanProcessor};
use tracing::span::EnteredSpan;
use tracing::Dispatch;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::prelude::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Subject {
    Registry,
    OursUnsampled,
    OursSampled,
    SentryTracing,
    OtelOn,
    OtelOff,
    /// `registry()` with a global `LevelFilter::INFO` layer: the floor of (h).
    RegistryInfo,
    /// `registry()` with a layer that implements no callback: what any layer costs an event.
    RegistryLayer,
    /// Our layer, rate 1, `enable_logs(true)` (logs level `INFO`, metrics on by default).
    OursLogs,
    /// `OursLogs` behind a global `LevelFilter::INFO` layer.
    OursLogsInfo,
    /// sentry-tracing's `SpanLayer` and `LogLayer` (no per-layer filters, its cheapest), rate 1.
    SentryLogs,
}

impl Subject {
    pub const ALL: [Subject; 11] = [
        Subject::Registry,
        Subject::OursUnsampled,
        Subject::OursSampled,
        Subject::SentryTracing,
        Subject::OtelOn,
        Subject::OtelOff,
        Subject::RegistryInfo,
        Subject::RegistryLayer,
        Subject::OursLogs,
        Subject::OursLogsInfo,
        Subject::SentryLogs,
    ];

    /// The subjects of the span workloads (a) to (e).
    pub const SPANS: [Subject; 6] = [
        Subject::Registry,
        Subject::OursUnsampled,
        Subject::OursSampled,
        Subject::SentryTracing,
        Subject::OtelOn,
        Subject::OtelOff,
    ];


    /// Short id, used on the command line and in file names.
    pub fn id(self) -> &'static str {
        match self {
            Subject::Registry => "registry",
            Subject::OursUnsampled => "ours_unsampled",
            Subject::OursSampled => "ours_sampled",
            Subject::SentryTracing => "sentry_tracing",
            Subject::OtelOn => "otel_on",
            Subject::OtelOff => "otel_off",
            Subject::RegistryInfo => "registry_info",
            Subject::RegistryLayer => "registry_layer",
            Subject::OursLogs => "ours_logs",
            Subject::OursLogsInfo => "ours_logs_info",
            Subject::SentryLogs => "sentry_logs",
        }
    }

    /// The label in the table.
    pub fn label(self) -> &'static str {
        match self {
            Subject::Registry => "registry (floor)",
            Subject::OursUnsampled => "tracing-sentry, rate 0",
            Subject::OursSampled => "tracing-sentry, rate 1",
            Subject::SentryTracing => "sentry-tracing, rate 1",
            Subject::OtelOn => "tracing-opentelemetry, AlwaysOn",
            Subject::OtelOff => "tracing-opentelemetry, AlwaysOff",
            Subject::RegistryInfo => "registry + INFO filter (floor)",
            Subject::RegistryLayer => "registry + a layer with no callbacks",
            Subject::OursLogs => "tracing-sentry, rate 1, logs on",
            Subject::OursLogsInfo => "INFO filter + tracing-sentry, rate 1, logs on",
            Subject::SentryLogs => "sentry-tracing SpanLayer + LogLayer, rate 1",
        }
    }

    pub fn from_id(id: &str) -> Option<Subject> {
        Subject::ALL.into_iter().find(|s| s.id() == id)
    }
}

const DSN: &str = "https://abc123abc123abc123abc123abc12345@o42.ingest.sentry.io/1";
/// 1 third-party member and 8 sentry members; the caller sampled the trace.
const BAGGAGE: &str = "other-vendor=a;p=1,sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-public_key=49d0f7386ad645858ae85020e393bef3,sentry-sample_rate=0.25,sentry-sample_rand=0.123456,sentry-environment=prod,sentry-release=up%401,sentry-transaction=GET%20%2Fup,sentry-sampled=true";

/// The discarding transport for our layer.
fn our_transport() -> tracing_sentry::export::NoopTransport {
    tracing_sentry::export::NoopTransport::new()
}

/// A sentry transport that drops every envelope as handed over: the envelope (with the
/// transaction and its spans) is built, but never serialized. Sentry's HTTP transports serialize
/// on their own thread, so this leaves that cost out; our `NoopTransport` receives envelopes
/// that our export worker has already serialized, so ours includes it. Set
/// `TS_PEER_SENTRY_SERIALIZE=1` to serialize here too.
struct DiscardSentry {
    serialize: bool,
}

impl sentry::Transport for DiscardSentry {
    fn send_envelope(&self, envelope: sentry::Envelope) {
        if self.serialize {
            let mut body = Vec::new();
            let _ = envelope.to_writer(&mut body);
            drop(black_box(body));
        }
        drop(black_box(envelope));
    }
}

/// A layer that implements no callback (`Layer`'s defaults, like `layer::Identity`): what
/// `Layered` costs an event before any layer does anything.
struct EmptyLayer;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for EmptyLayer {}

/// An OpenTelemetry span processor that drops every finished span (`SpanData` built, then
/// dropped on the calling thread; no exporter, no batching).
#[derive(Debug)]
struct DiscardProcessor;

impl SpanProcessor for DiscardProcessor {
    fn on_start(&self, _span: &mut opentelemetry_sdk::trace::Span, _cx: &opentelemetry::Context) {}
    fn on_end(&self, span: SpanData) {
        drop(black_box(span));
    }
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
}

enum Guard {
    None,
    Ours(tracing_sentry::ExportGuard),
    /// The client's guard (its `Drop` flushes and closes the client), and whether `flush`
    /// flushes the client's log batcher (the logs subject only, so the span rows stay as they
    /// were measured).
    Sentry(sentry::ClientInitGuard, bool),
    Otel(SdkTracerProvider),
}

/// One subject, ready to run workloads.
pub struct Env {
    pub subject: Subject,
    pub dispatch: Dispatch,
    guard: Guard,
    /// What the caller sends us (workload d), in the subject's own format.
    pub incoming: HeaderMap,
    otel_extract: TextMapCompositePropagator,
    otel_inject: TextMapCompositePropagator,
    floor_headers: [(HeaderName, HeaderValue); 2],
}

impl Env {
    pub fn new(subject: Subject) -> Env {
        let ours_layer = |rate: f64, logs: bool| {
            tracing_sentry::SentryLayer::builder()
                .dsn_str(DSN)
                .traces_sample_rate(rate)
                .enable_logs(logs)
                .transport(our_transport())
                .queue_capacity(1 << 16)
                .build()
                .expect("our layer builds")
        };
        let ours = |rate: f64| {
            let (layer, guard) = ours_layer(rate, false);
            (
                Dispatch::new(tracing_subscriber::registry().with(layer)),
                Guard::Ours(guard),
            )
        };
        let sentry_client = || {
            let mut options = sentry::ClientOptions::default().traces_sample_rate(1.0);
            options.dsn = Some(DSN.parse().expect("dsn"));
            let serialize = std::env::var_os("TS_PEER_SENTRY_SERIALIZE").is_some_and(|v| v == "1");
            options.transport = Some(Arc::new(Arc::new(DiscardSentry { serialize })));
            sentry::init(options)
        };
        let otel = |sampler: Sampler| {
            let provider = SdkTracerProvider::builder()
                .with_sampler(sampler)
                .with_span_processor(DiscardProcessor)
                .build();
            let tracer = provider.tracer("peer-bench");
            let layer = tracing_opentelemetry::layer().with_tracer(tracer);
            (
                Dispatch::new(tracing_subscriber::registry().with(layer)),
                Guard::Otel(provider),
            )
        };
        let (dispatch, guard) = match subject {
            Subject::Registry => (Dispatch::new(tracing_subscriber::registry()), Guard::None),
            Subject::OursUnsampled => ours(0.0),
            Subject::OursSampled => ours(1.0),
            Subject::SentryTracing => {
                let guard = sentry_client();
                let layer = sentry_tracing::SpanLayer::new();
                (
                    Dispatch::new(tracing_subscriber::registry().with(layer)),
                    Guard::Sentry(guard, false),
                )
            }
            Subject::OtelOn => otel(Sampler::AlwaysOn),
            Subject::OtelOff => otel(Sampler::AlwaysOff),
            Subject::RegistryInfo => (
                Dispatch::new(tracing_subscriber::registry().with(LevelFilter::INFO)),
                Guard::None,
            ),
            Subject::RegistryLayer => (
                Dispatch::new(tracing_subscriber::registry().with(EmptyLayer)),
                Guard::None,
            ),
            Subject::OursLogs => {
                let (layer, guard) = ours_layer(1.0, true);
                (
                    Dispatch::new(tracing_subscriber::registry().with(layer)),
                    Guard::Ours(guard),
                )
            }
            Subject::OursLogsInfo => {
                let (layer, guard) = ours_layer(1.0, true);
                let stack = tracing_subscriber::registry()
                    .with(LevelFilter::INFO)
                    .with(layer);
                (Dispatch::new(stack), Guard::Ours(guard))
            }
            Subject::SentryLogs => {
                // `enable_logs` is on by default in sentry-core 0.49 (deprecated field).
                let guard = sentry_client();
                let stack = tracing_subscriber::registry()
                    .with(sentry_tracing::SpanLayer::new())
                    .with(sentry_tracing::LogLayer::new());
                (Dispatch::new(stack), Guard::Sentry(guard, true))
            }
        };

        // Every subject gets the same incoming headers from a sampled caller: our unsampled
        // subject follows the caller's decision (it takes the sampled path in (c) and (d)).
        let mut incoming = HeaderMap::new();
        incoming.insert(
            "sentry-trace",
            HeaderValue::from_static(concat!(
                "771a43a4192642f0b136d5159a501700",
                "-b7ad6b7169203331-1"
            )),
        );
        incoming.insert(
            "traceparent",
            HeaderValue::from_static(concat!(
                "00-771a43a4192642f0b136d5159a501700",
                "-b7ad6b7169203331-01"
            )),
        );
        incoming.insert("baggage", HeaderValue::from_static(BAGGAGE));

        let floor_headers = [
            (
                HeaderName::from_static("sentry-trace"),
                HeaderValue::from_static("771a43a4192642f0b136d5159a501700-a0b1c2d3e4f5a6b7-1"),
            ),
            (
                HeaderName::from_static("baggage"),
                HeaderValue::from_static(BAGGAGE),
            ),
        ];

        Env {
            subject,
            dispatch,
            guard,
            incoming,
            otel_extract: TextMapCompositePropagator::new(vec![
                Box::new(TraceContextPropagator::new()),
                Box::new(BaggagePropagator::new()),
            ]),
            otel_inject: TextMapCompositePropagator::new(vec![
                Box::new(TraceContextPropagator::new()),
                Box::new(BaggagePropagator::new()),
            ]),
            floor_headers,
        }
    }

    /// Waits until everything finished so far has been handed to the transport. Only our
    /// layer exports off-thread; the peers hand over synchronously when a span ends, and
    /// sentry's log batcher every 100 logs on the calling thread (the rest here).
    pub fn flush(&self) {
        match &self.guard {
            Guard::Ours(g) => {
                assert!(g.flush(Duration::from_secs(30)), "flush timed out");
            }
            Guard::Otel(p) => {
                let _ = p.force_flush();
            }
            Guard::Sentry(client, true) => {
                assert!(client.flush(Some(Duration::from_secs(30))), "flush timed out");
            }
            Guard::None | Guard::Sentry(_, false) => {}
        }
    }

    /// Workload (d): continue the caller's trace and create, enter, exit and close the server
    /// span. The registry floor only creates the span.
    #[inline(never)]
    pub fn server_span(&self, headers: &HeaderMap) {
        self.server_span_with(headers, || {});
    }

    /// Workload (d2): (d) with the span created first and continued through
    /// `SentrySpanExt::set_parent_from_headers` (the `#[instrument]` way). The peers have one
    /// way only, the same as (d).
    #[inline(never)]
    pub fn server_span_set_parent(&self, headers: &HeaderMap) {
        match self.subject {
            Subject::OursUnsampled | Subject::OursSampled | Subject::OursLogs | Subject::OursLogsInfo => {
                use tracing_sentry::SentrySpanExt as _;
                let span = tracing::info_span!("GET /users/:id", http.method = "GET");
                let _ = span.set_parent_from_headers(headers);
                let _g = span.enter();
            }
            _ => self.server_span_with(headers, || {}),
        }
    }

    /// `server_span`, running `inside` while the server span is entered (for `--check`).
    #[inline(always)]
    pub fn server_span_with(&self, headers: &HeaderMap, inside: impl FnOnce()) {
        match self.subject {
            Subject::Registry | Subject::RegistryInfo | Subject::RegistryLayer => {
                let span = tracing::info_span!("GET /users/:id", http.method = "GET");
                let _g = span.enter();
                inside();
            }
            Subject::OursUnsampled | Subject::OursSampled | Subject::OursLogs | Subject::OursLogsInfo => {
                let make = || tracing::info_span!("GET /users/:id", http.method = "GET");
                let span = match tracing_sentry::PropagationContext::from_headers(headers) {
                    Ok(Some(parent)) => tracing_sentry::continue_trace(parent, make),
                    _ => make(),
                };
                let _g = span.enter();
                inside();
            }
            Subject::SentryTracing | Subject::SentryLogs => {
                // sentry-tracing continues a trace from the `sentry.trace` field of a root span
                // (it reads `sentry-trace` only; baggage is not taken in).
                let st = headers.get("sentry-trace").and_then(|v| v.to_str().ok());
                let span =
                    tracing::info_span!("GET /users/:id", http.method = "GET", sentry.trace = st);
                let _g = span.enter();
                inside();
            }
            Subject::OtelOn | Subject::OtelOff => {
                let cx = self.otel_extract.extract(&HeaderExtractor(headers));
                let span = tracing::info_span!("GET /users/:id", http.method = "GET");
                let _ = span.set_parent(cx);
                let _g = span.enter();
                inside();
            }
        }
    }

    /// Setup for workload (c): a root continued from the caller's headers, and a child, both
    /// entered. Drop order: child, then root.
    pub fn continued(&self) -> (EnteredSpan, EnteredSpan) {
        let root = match self.subject {
            Subject::Registry | Subject::RegistryInfo | Subject::RegistryLayer => tracing::info_span!("GET /users/:id"),
            Subject::OursUnsampled | Subject::OursSampled | Subject::OursLogs | Subject::OursLogsInfo => {
                let parent = tracing_sentry::PropagationContext::from_headers(&self.incoming)
                    .expect("valid incoming headers")
                    .expect("sentry-trace present");
                tracing_sentry::continue_trace(parent, || tracing::info_span!("GET /users/:id"))
            }
            Subject::SentryTracing | Subject::SentryLogs => {
                let st = self.incoming.get("sentry-trace").unwrap().to_str().unwrap();
                tracing::info_span!("GET /users/:id", sentry.trace = st)
            }
            Subject::OtelOn | Subject::OtelOff => {
                let span = tracing::info_span!("GET /users/:id");
                let _ =
                    span.set_parent(self.otel_extract.extract(&HeaderExtractor(&self.incoming)));
                span
            }
        };
        let root = root.entered();
        let child = tracing::info_span!("call upstream").entered();
        (child, root)
    }

    /// Workload (c): the outbound headers for the current span.
    #[inline(never)]
    pub fn outbound_headers(&self) {
        match self.subject {
            Subject::Registry | Subject::RegistryInfo | Subject::RegistryLayer => {
                // Floor: find the current span and return a map with the same two headers,
                // preformatted (no formatting, no trace state).
                let span = tracing::Span::current();
                let mut h = HeaderMap::with_capacity(2);
                for (k, v) in &self.floor_headers {
                    h.insert(k.clone(), v.clone());
                }
                black_box((span, h));
            }
            Subject::OursUnsampled | Subject::OursSampled | Subject::OursLogs | Subject::OursLogsInfo => {
                black_box(tracing_sentry::current_headers());
            }
            Subject::SentryTracing | Subject::SentryLogs => {
                let mut h = HeaderMap::new();
                sentry::configure_scope(|scope| {
                    for (name, value) in scope.iter_trace_propagation_headers() {
                        if let Ok(value) = HeaderValue::try_from(value) {
                            h.insert(name, value);
                        }
                    }
                });
                black_box(h);
            }
            Subject::OtelOn | Subject::OtelOff => {
                let cx = tracing::Span::current().context();
                let mut map: HashMap<String, String> = HashMap::new();
                self.otel_inject.inject_context(&cx, &mut map);
                black_box(map);
            }
        }
    }
}

impl Env {
    /// Workload (c2): (c) written into the request's own `HeaderMap` (empty, with room), as
    /// an HTTP client integration does. Ours: `inject_current_headers`; sentry-tracing: the
    /// scope's headers inserted; otel: both propagators inject through a `HeaderMap` injector.
    /// **Floor:** `Span::current()` plus the same two headers, preformatted, inserted.
    #[inline(never)]
    pub fn outbound_headers_into(&self, request: &mut HeaderMap) {
        match self.subject {
            Subject::Registry | Subject::RegistryInfo | Subject::RegistryLayer => {
                let span = tracing::Span::current();
                for (k, v) in &self.floor_headers {
                    request.insert(k.clone(), v.clone());
                }
                black_box(span);
            }
            Subject::OursUnsampled | Subject::OursSampled | Subject::OursLogs | Subject::OursLogsInfo => {
                tracing_sentry::inject_current_headers(request);
            }
            Subject::SentryTracing | Subject::SentryLogs => {
                sentry::configure_scope(|scope| {
                    for (name, value) in scope.iter_trace_propagation_headers() {
                        if let Ok(value) = HeaderValue::try_from(value) {
                            request.insert(name, value);
                        }
                    }
                });
            }
            Subject::OtelOn | Subject::OtelOff => {
                let cx = tracing::Span::current().context();
                self.otel_inject
                    .inject_context(&cx, &mut HeaderInjector(request));
            }
        }
    }

    /// What workload (c) produces for the current span, as text (for `--check`).
    pub fn describe_outbound(&self) -> String {
        let pairs: Vec<(String, String)> = match self.subject {
            Subject::Registry | Subject::RegistryInfo | Subject::RegistryLayer => vec![("(floor)".into(), "preformatted".into())],
            Subject::OursUnsampled | Subject::OursSampled | Subject::OursLogs | Subject::OursLogsInfo => tracing_sentry::current_headers()
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("?").to_string()))
                .collect(),
            Subject::SentryTracing | Subject::SentryLogs => sentry::configure_scope(|scope| {
                scope
                    .iter_trace_propagation_headers()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect()
            }),
            Subject::OtelOn | Subject::OtelOff => {
                let cx = tracing::Span::current().context();
                let mut map: HashMap<String, String> = HashMap::new();
                self.otel_inject.inject_context(&cx, &mut map);
                map.into_iter().collect()
            }
        };
        pairs
            .iter()
            .map(|(k, v)| format!("{k}: {}", if v.len() > 90 { &v[..90] } else { v }))
            .collect::<Vec<_>>()
            .join("\n      ")
    }
}

/// Writes propagated fields into a `HeaderMap` (names and values that are not valid headers
/// are skipped).
struct HeaderInjector<'a>(&'a mut HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(key.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

struct HeaderExtractor<'a>(&'a HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}
