//! `HttpTransport` against a loopback ingest server: what goes on the wire, and what comes back
//! for each kind of answer (200, 429, 500, nobody listening, no answer at all).
#![cfg(feature = "ureq")]

#[path = "support/ingest.rs"]
mod ingest;

use std::time::{Duration, Instant};

use ingest::{down_dsn, Behavior, Ingest};
use tracing_sentry::export::{
    Dsn, Envelope, HttpTransport, Transport, TransportErrorKind, TransportResponse,
};

const KEY: &str = "49d0f7386ad645858ae85020e393bef3";
const TRACE_ID: &str = "771a43a4192642f0b136d5159a501700";
const ROOT: &str = "83b8bac5042ea482";
const CHILD: &str = "b0a0d08c1903eecb";

/// A transaction envelope as the worker writes one (spec 7.2), built from public parts only.
fn envelope() -> Envelope {
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
    Envelope::from_bytes(bytes.as_bytes()).expect("test envelope parses")
}

fn transport(ingest_dsn: &str) -> HttpTransport {
    let dsn: Dsn = ingest_dsn.parse().expect("loopback DSN");
    HttpTransport::builder(&dsn)
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
fn posts_the_gzipped_envelope_with_auth_to_the_envelope_endpoint() {
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
    assert_eq!(request.header("content-encoding"), Some("gzip"));
    assert_eq!(&request.raw_body[..2], &[0x1f, 0x8b], "gzip magic");
    assert_eq!(
        request.body,
        envelope().as_bytes(),
        "the envelope, byte for byte"
    );

    // Both readers accept what arrived.
    let ours = Envelope::from_bytes(&request.body).expect("our reader");
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
