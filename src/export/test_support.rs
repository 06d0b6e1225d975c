//! Helpers for the export unit tests: hand-made transaction records, and the independent reader
//! (sentry-types) that every envelope produced in the tests goes through.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sentry_types::protocol::v7 as sentry;

use crate::clock::Clock;
use crate::export::record::{
    FieldValue, SpanLink, SpanRecord, TransactionDsc, TransactionRecord, TransactionSource,
};
use crate::export::EnvelopeBytes;
use crate::export::{ExportConfig, ExportOptions};
use crate::id::{SpanId, TraceId};
use crate::propagation::DynamicSamplingContext;
use crate::status::SpanStatus;

pub(crate) const TRACE_ID: &str = "771a43a4192642f0b136d5159a501700";
pub(crate) const REMOTE_PARENT: &str = "b7ad6b7169203331";
pub(crate) const ROOT: &str = "83b8bac5042ea482";
pub(crate) const CHILD: &str = "b0a0d08c1903eecb";
pub(crate) const GRANDCHILD: &str = "c1c1d08c1903eecc";

pub(crate) fn span_id(s: &str) -> SpanId {
    s.parse().unwrap()
}

pub(crate) fn at_micros(micros: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_795_530_742) + Duration::from_micros(micros)
}

/// The instant that [`test_clock`] puts at `at_micros(micros)`.
pub(crate) fn instant_at_micros(micros: u64) -> Instant {
    // An hour ahead, so that instants a little before it exist on any machine.
    static BASE: OnceLock<Instant> = OnceLock::new();
    *BASE.get_or_init(|| Instant::now() + Duration::from_secs(3600)) + Duration::from_micros(micros)
}

/// The clock of the hand-made records: `instant_at_micros(n)` is at `at_micros(n)`.
pub(crate) fn test_clock() -> Clock {
    Clock::new(at_micros(0), instant_at_micros(0))
}

pub(crate) fn span(
    id: &str,
    parent: Option<&str>,
    op: &'static str,
    start: u64,
    end: u64,
) -> SpanRecord {
    SpanRecord {
        span_id: span_id(id),
        parent_span_id: parent.map(span_id),
        status: None,
        start: instant_at_micros(start),
        end: instant_at_micros(end),
        data: Default::default(),
        details: (!op.is_empty()).then(|| {
            Box::new(crate::export::record::SpanDetails {
                op: Some(Cow::Borrowed(op)),
                ..Default::default()
            })
        }),
        metadata: None,
        thread: crate::thread::ThreadTag::default(),
    }
}

/// A continued trace: root (remote parent) -> child -> grandchild, with data of every kind,
/// statuses, a link and a full DSC.
pub(crate) fn sample_record() -> TransactionRecord {
    let mut root = span(ROOT, Some(REMOTE_PARENT), "http.server", 0, 500);
    root.details_mut().description = Some("GET /users/:id".to_owned());
    root.status = Some(SpanStatus::Ok);
    root.data = vec![
        (
            Cow::Borrowed("thread.name"),
            FieldValue::Str("main".to_owned()),
        ),
        (
            Cow::Borrowed("http.response.status_code"),
            FieldValue::U64(200),
        ),
    ]
    .into();

    let mut child = span(CHILD, Some(ROOT), "db.query", 100, 300);
    child.details_mut().description = Some("SELECT * FROM \"users\" WHERE id = $1\n".to_owned());
    // Not `Unknown`: sentry-types cannot read `unknown`, the name Relay keeps (tests/it/hardening.rs).
    child.status = Some(SpanStatus::NotFound);
    child.data = vec![
        (
            Cow::Borrowed("db.system"),
            FieldValue::Str("postgresql".to_owned()),
        ),
        (Cow::Borrowed("rows"), FieldValue::I64(-3)),
        (Cow::Borrowed("cached"), FieldValue::Bool(false)),
        (Cow::Borrowed("ratio"), FieldValue::F64(0.25)),
        (Cow::Borrowed("nan"), FieldValue::F64(f64::NAN)),
        (Cow::Borrowed("inf"), FieldValue::F64(f64::INFINITY)),
        (Cow::Borrowed("rows"), FieldValue::I64(7)),
    ]
    .into();
    child.details_mut().links = vec![
        SpanLink {
            trace_id: "0123456789abcdef0123456789abcdef".parse().unwrap(),
            span_id: span_id("0123456789abcdef"),
            sampled: Some(true),
        },
        SpanLink {
            trace_id: "fedcba9876543210fedcba9876543210".parse().unwrap(),
            span_id: span_id("fedcba9876543210"),
            sampled: None,
        },
    ];

    let grandchild = span(GRANDCHILD, Some(CHILD), "cache.get", 150, 150);

    let dsc = DynamicSamplingContext::new()
        .with("trace_id", TRACE_ID)
        .with("public_key", "49d0f7386ad645858ae85020e393bef3")
        .with("sample_rate", "1.0")
        .with("sampled", "true")
        .with("sample_rand", "0.123456")
        .with("environment", "production")
        .with("release", "myapp@1.0.0")
        .with("transaction", "GET /users/:id");

    TransactionRecord {
        trace_id: TRACE_ID.parse::<TraceId>().unwrap(),
        name: Cow::Borrowed("GET /users/:id"),
        source: TransactionSource::Route,
        root,
        spans: vec![grandchild, child],
        dropped_spans: 0,
        clock: test_clock(),
        dsc: TransactionDsc::Frozen(Arc::new(dsc)),
    }
}

/// The `op` the serializer writes for `span`: its own, else `{target}::{name}`, else none.
pub(crate) fn expected_op(span: &SpanRecord) -> Option<String> {
    if !span.op().is_empty() {
        Some(span.op().to_string())
    } else {
        span.metadata
            .map(|m| format!("{}::{}", m.target(), m.name()))
    }
}

/// A span callsite, for records that carry `metadata`.
pub(crate) struct TestCallsite;

pub(crate) static CALLSITE: TestCallsite = TestCallsite;

pub(crate) static METADATA: tracing_core::Metadata<'static> = tracing_core::metadata! {
    name: "handle_request",
    target: "my_app::http",
    level: tracing_core::Level::INFO,
    fields: &[],
    callsite: &CALLSITE,
    kind: tracing_core::metadata::Kind::SPAN,
};

impl tracing_core::Callsite for TestCallsite {
    fn set_interest(&self, _: tracing_core::subscriber::Interest) {}
    fn metadata(&self) -> &tracing_core::Metadata<'_> {
        &METADATA
    }
}

/// Parses `envelope` with sentry-types (an independent reader) and checks that it holds exactly
/// one transaction with `record`'s trace id, root span id, remote parent and child span ids.
pub(crate) fn assert_sentry_types_reads(envelope: &EnvelopeBytes, record: &TransactionRecord) {
    let parsed = sentry::Envelope::from_slice(envelope.as_bytes())
        .unwrap_or_else(|e| panic!("sentry-types rejected the envelope: {e:?}"));
    assert_eq!(
        parsed.uuid().map(|u| u.as_simple().to_string()).as_deref(),
        envelope.event_id(),
        "envelope event_id"
    );
    let transactions: Vec<_> = parsed
        .items()
        .filter_map(|item| match item {
            sentry::EnvelopeItem::Transaction(tx) => Some(tx),
            _ => None,
        })
        .collect();
    assert_eq!(transactions.len(), 1, "one transaction item");
    let tx = transactions[0];
    assert_eq!(
        Some(tx.event_id.as_simple().to_string().as_str()),
        envelope.event_id(),
        "payload event_id equals the header's"
    );
    assert_eq!(tx.name.as_deref(), Some(record.name.as_ref()));
    let Some(sentry::Context::Trace(trace)) = tx.contexts.get("trace") else {
        panic!("no trace context in {:?}", tx.contexts);
    };
    assert_eq!(trace.trace_id.to_string(), record.trace_id.to_string());
    assert_eq!(trace.span_id.to_string(), record.root.span_id.to_string());
    assert_eq!(
        trace.parent_span_id.map(|id| id.to_string()),
        record.root.parent_span_id.map(|id| id.to_string())
    );
    assert_eq!(trace.op, expected_op(&record.root));
    let timestamp = tx.timestamp.expect("transaction timestamp");
    assert!(tx.start_timestamp <= timestamp, "start <= end");

    let got: BTreeSet<(String, String, Option<String>)> = tx
        .spans
        .iter()
        .map(|s| {
            assert_eq!(s.trace_id.to_string(), record.trace_id.to_string());
            let end = s.timestamp.expect("span timestamp");
            let source = record
                .spans
                .iter()
                .find(|r| r.span_id.to_string() == s.span_id.to_string())
                .expect("a recorded span");
            assert_eq!(s.op, expected_op(source), "span op");
            assert!(s.start_timestamp <= end, "span start <= end");
            (
                s.trace_id.to_string(),
                s.span_id.to_string(),
                s.parent_span_id.map(|id| id.to_string()),
            )
        })
        .collect();
    let want: BTreeSet<(String, String, Option<String>)> = record
        .spans
        .iter()
        .map(|s| {
            (
                record.trace_id.to_string(),
                s.span_id.to_string(),
                s.parent_span_id.map(|id| id.to_string()),
            )
        })
        .collect();
    assert_eq!(got, want, "child spans");
}

impl Default for ExportConfig {
    /// Test defaults: no sink, the builder's usual capacity and timeout.
    fn default() -> Self {
        Self {
            dsn: None,
            transport: None,
            spotlight: None,
            release: None,
            environment: "production".to_owned(),
            queue_capacity: 100,
            shutdown_timeout: Duration::from_secs(2),
            stats: Arc::default(),
            debug: false,
            privacy: crate::export::Privacy::default(),
        }
    }
}

/// Options with a 1 ms retry backoff, so retry tests stay fast.
pub(crate) fn fast_retries() -> ExportOptions {
    ExportOptions {
        retry_backoff: Duration::from_millis(1),
        // Client reports ride along with every envelope, so tests see them at once.
        client_report_interval: Duration::ZERO,
        ..ExportOptions::default()
    }
}
