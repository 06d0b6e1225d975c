//! Threads and async tasks: the context follows the span, not the thread.

use std::collections::HashSet;

use tracing::instrument::WithSubscriber;
use tracing::Instrument;
use tracing_sentry::{SentryLayer, SentrySpanExt, TraceId};
use tracing_subscriber::prelude::*;

use crate::support::*;

#[test]
fn a_span_created_on_one_thread_and_entered_on_another_keeps_its_context() {
    let subscriber = tracing_subscriber::registry().with(SentryLayer::new());
    let dispatch = tracing::Dispatch::new(subscriber);
    let (span, expected) = tracing::dispatcher::with_default(&dispatch, || {
        let span = tracing::info_span!("created here");
        let ctx = span.trace_context().unwrap();
        (span, ctx)
    });
    let dispatch2 = dispatch.clone();
    let seen = std::thread::spawn(move || {
        tracing::dispatcher::with_default(&dispatch2, || {
            let _g = span.enter();
            let child = tracing::info_span!("child on the other thread");
            (
                tracing_sentry::current_trace_context(),
                child.trace_context(),
            )
        })
    })
    .join()
    .unwrap();
    assert_eq!(seen.0, Some(expected));
    let child = seen.1.unwrap();
    assert_eq!(child.trace_id(), expected.trace_id());
    assert_eq!(child.parent_span_id(), Some(expected.span_id()));
}

#[tracing::instrument(skip_all, fields(n))]
async fn handle(n: usize, incoming: http::HeaderMap) -> (http::HeaderMap, String) {
    tracing::Span::current()
        .set_parent_from_headers(&incoming)
        .expect("a fresh handler span accepts its parent");
    tokio::task::yield_now().await;
    let own = tracing::Span::current()
        .trace_context()
        .unwrap()
        .span_id()
        .to_string();
    let out = async {
        tokio::task::yield_now().await;
        tracing_sentry::current_headers()
    }
    .instrument(tracing::info_span!("outgoing call", n))
    .await;
    (out, own)
}

#[test]
fn concurrent_tasks_continuing_different_traces_never_cross_talk() {
    const TASKS: usize = 8;
    const PER_TASK: usize = 1250; // 10,000 requests in all
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    let layer = layer(SentryLayer::builder().traces_sample_rate(1.0));
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    let checked: usize = runtime.block_on(async {
        let mut tasks = Vec::new();
        for task in 0..TASKS {
            let fut = async move {
                let mut checked = 0;
                let mut seen_spans = HashSet::new();
                for i in 0..PER_TASK {
                    let trace = TraceId::random().to_string();
                    let parent = format!("{:016x}", (task * PER_TASK + i + 1) as u64);
                    let flag = if i % 2 == 0 { "1" } else { "0" };
                    let baggage = format!(
                        "sentry-trace_id={trace},sentry-sample_rand=0.5,sentry-release=t{task}"
                    );
                    let incoming = headers(&[
                        ("sentry-trace", &format!("{trace}-{parent}-{flag}")),
                        ("baggage", &baggage),
                    ]);
                    let (out, own) = handle(i, incoming).await;
                    let (t, s, f) = sentry_trace(&out);
                    assert_eq!(t, trace, "task {task} request {i}: trace id");
                    assert_eq!(
                        f.as_deref(),
                        Some(flag),
                        "task {task} request {i}: decision"
                    );
                    assert_ne!(s, parent, "never the caller's span id");
                    assert_ne!(s, own, "the child span made the call");
                    assert!(seen_spans.insert(s), "span ids are unique");
                    let dsc = dsc_of(&out);
                    assert_eq!(dsc["trace_id"], trace);
                    assert_eq!(
                        dsc["release"],
                        format!("t{task}"),
                        "the DSC of this request"
                    );
                    checked += 1;
                }
                checked
            }
            .with_subscriber(dispatch.clone());
            tasks.push(tokio::spawn(fut));
        }
        let mut total = 0;
        for t in tasks {
            total += t.await.expect("no task panicked");
        }
        total
    });
    assert_eq!(checked, TASKS * PER_TASK);
}

#[test]
fn instrumented_async_fns_nest_under_the_continued_trace() {
    #[tracing::instrument]
    async fn inner() -> Option<tracing_sentry::TraceContext> {
        tokio::task::yield_now().await;
        tracing_sentry::current_trace_context()
    }
    #[tracing::instrument(skip_all)]
    async fn outer(
        incoming: http::HeaderMap,
    ) -> (tracing_sentry::TraceContext, tracing_sentry::TraceContext) {
        tracing::Span::current()
            .set_parent_from_headers(&incoming)
            .unwrap();
        let own = tracing_sentry::current_trace_context().unwrap();
        (own, inner().await.unwrap())
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(SentryLayer::new()));
    let incoming = headers(&[("sentry-trace", &format!("{TRACE}-{PARENT}-1"))]);
    let (own, inner) = runtime.block_on(outer(incoming).with_subscriber(dispatch));
    assert_eq!(own.trace_id().to_string(), TRACE);
    assert_eq!(inner.trace_id().to_string(), TRACE);
    assert_eq!(inner.parent_span_id(), Some(own.span_id()));
}
