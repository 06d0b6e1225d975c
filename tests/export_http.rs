//! `UreqTransport` against a loopback ingest server: what goes on the wire, and what comes back
//! for each kind of answer (200, 429, 500, nobody listening, no answer at all).
#![cfg(feature = "ureq")]

#[path = "support/ingest.rs"]
mod ingest;

use std::time::{Duration, Instant};

use ingest::{down_dsn, Behavior, Ingest};
use tracing_sentry::export::{
    Dsn, EnvelopeBytes, EnvelopeTransport, TransportErrorKind, TransportResponse, UreqTransport,
};

const KEY: &str = "49d0f7386ad645858ae85020e393bef3";
const TRACE_ID: &str = "771a43a4192642f0b136d5159a501700";
const ROOT: &str = "83b8bac5042ea482";
const CHILD: &str = "b0a0d08c1903eecb";

/// A transaction envelope as the worker writes one (spec 7.2), built from public parts only.
fn envelope() -> EnvelopeBytes {
    let payload = format!(
        concat!(
            r#"{{"type":"transaction","event_id":"ef1a2d0d16d14c59ac9fd00ce2eadc53","#,
            r#""transaction":"GET /users/:id","transaction_info":{{"source":"route"}},"#,
            r#""platform":"native","start_timestamp":"2026-11-24T14:32:22.848909Z","#,
            r#""timestamp":"2026-11-24T14:32:22.849352Z","#,
            r#""contexts":{{"trace":{{"type":"trace","trace_id":"{t}","span_id":"{r}","op":"http.server","origin":"manual"}}}},"#,
            r#""spans":[{{"trace_id":"{t}","span_id":"{c}","parent_span_id":"{r}","op":"db.query","#,
            r#""start_timestamp":"2026-11-24T14:32:22.849329Z","timestamp":"2026-11-24T14:32:22.849347Z"}}]}}"#,
        ),
        t = TRACE_ID,
        r = ROOT,
        c = CHILD,
    );
    let bytes = format!(
        concat!(
            r#"{{"event_id":"ef1a2d0d16d14c59ac9fd00ce2eadc53","sent_at":"2026-11-24T14:32:22.849756Z","#,
            r#""trace":{{"trace_id":"{t}","public_key":"{k}","sample_rate":"1.0","sampled":"true"}}}}"#,
            "\n",
            r#"{{"type":"transaction","length":{len},"content_type":"application/json"}}"#,
            "\n{payload}\n",
        ),
        t = TRACE_ID,
        k = KEY,
        len = payload.len(),
        payload = payload,
    );
    EnvelopeBytes::from_bytes(bytes.as_bytes()).expect("test envelope parses")
}

fn transport(ingest_dsn: &str) -> UreqTransport {
    let dsn: Dsn = ingest_dsn.parse().expect("loopback DSN");
    UreqTransport::builder(&dsn)
        .connect_timeout(Duration::from_millis(500))
        .read_timeout(Duration::from_millis(300))
        .timeout(Duration::from_secs(1))
        .build()
}

fn send(ingest: &Ingest) -> TransportResponse {
    transport(&ingest.dsn(KEY, 42))
        .send(&envelope())
        .expect("a response")
}

#[test]
fn envelopes_from_8_kib_on_are_gzipped() {
    let ingest = Ingest::start(Behavior::Ok);
    let padding = "a".repeat(9000);
    let payload = format!(r#"{{"type":"transaction","transaction":"big","padding":"{padding}"}}"#);
    let bytes = format!(
        "{{\"event_id\":\"ef1a2d0d16d14c59ac9fd00ce2eadc53\"}}\n{{\"type\":\"transaction\",\"length\":{}}}\n{payload}\n",
        payload.len()
    );
    let big = EnvelopeBytes::from_bytes(bytes.as_bytes()).expect("test envelope parses");
    let response = transport(&ingest.dsn(KEY, 42))
        .send(&big)
        .expect("a response");
    assert_eq!(response.status(), 200);
    let request = &ingest.requests()[0];
    assert_eq!(request.header("content-encoding"), Some("gzip"));
    assert_eq!(&request.raw_body[..2], &[0x1f, 0x8b], "gzip magic");
    assert!(
        request.raw_body.len() < 1000,
        "compressed: {}",
        request.raw_body.len()
    );
    assert_eq!(request.body, big.as_bytes(), "the envelope, byte for byte");
}

#[test]
fn posts_the_envelope_with_auth_to_the_envelope_endpoint() {
    let ingest = Ingest::start(Behavior::Ok);
    let response = send(&ingest);
    assert_eq!(response.status(), 200);
    assert!(response.is_success());
    assert_eq!(response.retry_after(), None);
    assert_eq!(response.rate_limits(), None);

    let requests = ingest.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/api/42/envelope/");
    assert_eq!(
        request.header("x-sentry-auth"),
        Some(
            format!(
                "Sentry sentry_version=7, sentry_key={KEY}, sentry_client=sentry.rust.tracing-sentry/{}",
                env!("CARGO_PKG_VERSION")
            )
            .as_str()
        )
    );
    assert_eq!(
        request.header("content-type"),
        Some("application/x-sentry-envelope")
    );
    assert_eq!(
        request.header("content-encoding"),
        None,
        "a small envelope is not worth compressing"
    );
    assert_eq!(
        request.raw_body,
        envelope().as_bytes(),
        "the envelope, byte for byte"
    );

    // Both readers accept what arrived.
    let ours = EnvelopeBytes::from_bytes(&request.body).expect("our reader");
    assert_eq!(ours.trace().get("trace_id"), Some(TRACE_ID));
    let theirs = sentry_types::protocol::v7::Envelope::from_slice(&request.body)
        .expect("sentry-types reader");
    let tx = theirs
        .items()
        .find_map(|item| match item {
            sentry_types::protocol::v7::EnvelopeItem::Transaction(tx) => Some(tx),
            _ => None,
        })
        .expect("a transaction item");
    assert_eq!(tx.spans.len(), 1);
    assert_eq!(tx.spans[0].span_id.to_string(), CHILD);
}

#[test]
fn the_connection_is_reused_for_the_next_envelope() {
    let ingest = Ingest::start(Behavior::Ok);
    let transport = transport(&ingest.dsn(KEY, 1));
    for _ in 0..3 {
        assert_eq!(transport.send(&envelope()).unwrap().status(), 200);
    }
    assert_eq!(ingest.requests().len(), 3);
}

#[test]
fn a_429_comes_back_with_retry_after_and_rate_limits() {
    let ingest = Ingest::start(Behavior::RateLimited {
        retry_after: "30".into(),
        rate_limits: Some("30:transaction:key".into()),
    });
    let response = send(&ingest);
    assert_eq!(response.status(), 429);
    assert_eq!(response.retry_after(), Some("30"));
    assert_eq!(response.rate_limits(), Some("30:transaction:key"));
}

#[test]
fn rate_limits_on_a_success_come_back_too() {
    let ingest = Ingest::start(Behavior::OkWithRateLimits("60::organization".into()));
    let response = send(&ingest);
    assert_eq!(response.status(), 200);
    assert_eq!(response.rate_limits(), Some("60::organization"));
}

#[test]
fn server_errors_and_rejections_are_responses_not_errors() {
    let ingest = Ingest::start(Behavior::Status(500));
    assert_eq!(send(&ingest).status(), 500);
    ingest.set_behavior(Behavior::Status(403));
    assert_eq!(send(&ingest).status(), 403);
    ingest.set_behavior(Behavior::Status(302));
    assert_eq!(send(&ingest).status(), 302, "redirects are not followed");
    assert_eq!(ingest.requests().len(), 3);
}

#[test]
fn nobody_listening_is_a_connect_error() {
    let dsn = down_dsn(KEY, 1);
    let started = Instant::now();
    let err = transport(&dsn).send(&envelope()).unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Connect, "{err}");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(std::error::Error::source(&err).is_some());
}

#[test]
fn a_server_that_never_answers_times_out_within_the_transport_timeout() {
    let ingest = Ingest::start(Behavior::Hang(Duration::from_secs(10)));
    let started = Instant::now();
    let err = transport(&ingest.dsn(KEY, 1))
        .send(&envelope())
        .unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.kind(), TransportErrorKind::Timeout, "{err}");
    assert!(
        took < Duration::from_millis(1500),
        "bounded by the timeouts ({took:?})"
    );
    assert!(
        ingest.wait_for_requests(1, Duration::from_secs(1)),
        "the request did arrive"
    );
}

// === through the layer ===

mod through_the_layer {
    use super::*;
    use tracing_sentry::SentryLayer;
    use tracing_subscriber::prelude::*;

    /// Closes `n` sampled transactions of one child span each and returns how long the
    /// instrumented code took. The export worker does the network work, never this thread.
    fn instrumented_work(
        dsn: &str,
        n: usize,
    ) -> (Duration, tracing_sentry::ExportGuard, SentryLayer) {
        let (layer, guard) = SentryLayer::builder()
            .dsn_str(dsn)
            .traces_sample_rate(1.0)
            .shutdown_timeout(Duration::from_millis(500))
            .build()
            .expect("the layer builds");
        let subscriber = tracing_subscriber::registry().with(layer.clone());
        let start = Instant::now();
        tracing::subscriber::with_default(subscriber, || {
            for i in 0..n {
                let _root = tracing::info_span!("request", i).entered();
                tracing::info_span!("child").in_scope(|| {});
            }
        });
        (start.elapsed(), guard, layer)
    }

    #[test]
    fn transactions_arrive_readable_by_both_readers() {
        let ingest = Ingest::start(Behavior::Ok);
        let (_, guard, layer) = instrumented_work(&ingest.dsn(KEY, 7), 3);
        assert!(guard.flush(Duration::from_secs(5)));
        assert!(ingest.wait_for_requests(3, Duration::from_secs(5)));
        for request in ingest.requests() {
            assert!(request.header("x-sentry-auth").unwrap().contains(KEY));
            let ours = EnvelopeBytes::from_bytes(&request.body).expect("our reader");
            assert_eq!(
                ours.transaction().unwrap()["spans"]
                    .as_array()
                    .unwrap()
                    .len(),
                1
            );
            sentry_types::protocol::v7::Envelope::from_slice(&request.body)
                .expect("sentry-types reader");
        }
        assert_eq!(layer.stats().transactions_sent, 3);
    }

    /// The bound is far below the server's stall or back-off (seconds), so passing means the
    /// instrumented code never waited on the network; it is not a speed measurement.
    const NEVER_BLOCKED: Duration = Duration::from_millis(1500);

    #[test]
    fn a_rate_limiting_server_is_honoured_and_drops_are_counted() {
        let ingest = Ingest::start(Behavior::Status(429));
        // One transaction meets the 429 first (requests already in flight when it arrives
        // cannot be recalled, so the others follow once it has).
        let (elapsed, guard, layer) = instrumented_work(&ingest.dsn(KEY, 7), 1);
        guard.flush(Duration::from_secs(5));
        let start = Instant::now();
        tracing::subscriber::with_default(
            tracing_subscriber::registry().with(layer.clone()),
            || {
                for i in 0..19 {
                    let _root = tracing::info_span!("request", i).entered();
                    tracing::info_span!("child").in_scope(|| {});
                }
            },
        );
        assert!(elapsed + start.elapsed() < NEVER_BLOCKED);
        guard.flush(Duration::from_secs(5));
        let stats = layer.stats();
        assert_eq!(stats.rate_limit_responses, 1, "{stats:?}");
        assert_eq!(stats.transactions_sent, 0);
        assert_eq!(
            ingest.requests().len(),
            1,
            "while rate limited nothing more is sent, not even client reports"
        );
        assert_eq!(stats.transactions_dropped_rate_limited, 20, "{stats:?}");
    }

    #[test]
    fn a_failing_server_is_retried_within_bounds_and_counted() {
        let ingest = Ingest::start(Behavior::Status(500));
        let (elapsed, guard, layer) = instrumented_work(&ingest.dsn(KEY, 7), 2);
        assert!(elapsed < NEVER_BLOCKED, "{elapsed:?}");
        guard.flush(Duration::from_secs(10));
        let stats = layer.stats();
        assert!(stats.send_failures >= 2, "{stats:?}");
        assert_eq!(stats.transactions_dropped_send_failed, 2, "{stats:?}");
    }

    #[test]
    fn a_server_that_is_down_costs_the_instrumented_code_nothing() {
        let (elapsed, guard, layer) = instrumented_work(&down_dsn(KEY, 7), 20);
        assert!(elapsed < NEVER_BLOCKED, "{elapsed:?}");
        drop(guard);
        let stats = layer.stats();
        assert_eq!(stats.transactions_sent, 0);
        assert!(stats.send_failures >= 1, "{stats:?}");
    }

    #[test]
    fn a_hanging_server_never_blocks_the_instrumented_code_or_shutdown() {
        let ingest = Ingest::start(Behavior::Hang(Duration::from_secs(20)));
        let (elapsed, guard, layer) = instrumented_work(&ingest.dsn(KEY, 7), 50);
        assert!(elapsed < NEVER_BLOCKED, "{elapsed:?}");
        let start = Instant::now();
        assert!(
            !guard.flush(Duration::from_millis(300)),
            "nothing can be delivered"
        );
        drop(guard);
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "shutdown is bounded: {:?}",
            start.elapsed()
        );
        let stats = layer.stats();
        assert_eq!(stats.transactions_sent, 0);
        let _ = ingest;
    }
}
