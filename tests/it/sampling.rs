//! Head sampling through the public API: rates, samplers, inherited and deferred decisions.

use std::sync::{Arc, Mutex};

use tracing_sentry::{SamplingContext, SentryLayer, SentrySpanExt};

use crate::support::*;

fn flag_of_new_root(layer: SentryLayer) -> Option<String> {
    with_layer(layer, || {
        let _g = tracing::info_span!("root").entered();
        sentry_trace(&tracing_sentry::current_headers()).2
    })
}

#[test]
fn rate_one_samples_and_rate_zero_does_not_but_both_propagate() {
    let on = layer(SentryLayer::builder().traces_sample_rate(1.0));
    assert_eq!(flag_of_new_root(on).as_deref(), Some("1"));
    let off = layer(SentryLayer::builder().traces_sample_rate(0.0));
    assert_eq!(
        flag_of_new_root(off).as_deref(),
        Some("0"),
        "unsampled still propagates -0"
    );
    assert_eq!(
        flag_of_new_root(SentryLayer::new()),
        None,
        "no tracing: deferred"
    );
}

#[test]
fn children_inherit_the_roots_decision() {
    let layer = layer(SentryLayer::builder().traces_sample_rate(0.5));
    with_layer(layer, || {
        for _ in 0..200 {
            let root = tracing::info_span!("root");
            let child = tracing::info_span!(parent: &root, "child");
            let grandchild = tracing::info_span!(parent: &child, "grandchild");
            let decision = root.trace_context().unwrap().sampled();
            assert!(decision.is_some());
            assert_eq!(child.trace_context().unwrap().sampled(), decision);
            assert_eq!(grandchild.trace_context().unwrap().sampled(), decision);
        }
    });
}

#[test]
fn the_decision_is_sample_rand_below_the_rate() {
    let layer = layer(SentryLayer::builder().traces_sample_rate(0.3));
    with_layer(layer, || {
        let (mut yes, mut no) = (0, 0);
        for _ in 0..400 {
            let _g = tracing::info_span!("root").entered();
            let headers = tracing_sentry::current_headers();
            let dsc = dsc_of(&headers);
            let rand: f64 = dsc["sample_rand"].parse().unwrap();
            let sampled = sentry_trace(&headers).2.as_deref() == Some("1");
            assert_eq!(sampled, rand < 0.3, "rand {rand}");
            assert_eq!(dsc["sampled"], sampled.to_string());
            if sampled {
                yes += 1
            } else {
                no += 1
            }
        }
        assert!(yes > 60 && no > 200, "{yes} sampled, {no} not");
    });
}

#[test]
fn the_sampler_sees_name_target_level_and_creation_fields() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = Arc::clone(&seen);
    let layer = layer(
        SentryLayer::builder().traces_sampler(move |ctx: &SamplingContext<'_>| {
            seen2.lock().unwrap().push((
                ctx.name(),
                ctx.target().to_owned(),
                *ctx.level(),
                ctx.field("user.tier")
                    .and_then(|v| v.as_str())
                    .map(str::to_owned),
                ctx.field("attempt").and_then(|v| v.as_i64()),
                ctx.parent_sampled(),
            ));
            if ctx.field("user.tier").and_then(|v| v.as_str()) == Some("gold") {
                1.0
            } else {
                0.0
            }
        }),
    );
    with_layer(layer, || {
        let gold = tracing::warn_span!("checkout", user.tier = "gold", attempt = 3);
        let free = tracing::info_span!("checkout", user.tier = "free", attempt = 1);
        let child = tracing::info_span!(parent: &gold, "child");
        assert_eq!(gold.trace_context().unwrap().sampled(), Some(true));
        assert_eq!(free.trace_context().unwrap().sampled(), Some(false));
        assert_eq!(child.trace_context().unwrap().sampled(), Some(true));
    });
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2, "the sampler runs for roots only: {seen:?}");
    assert_eq!(seen[0].0, "checkout");
    assert_eq!(seen[0].1, module_path!());
    assert_eq!(seen[0].2, tracing::Level::WARN);
    assert_eq!(seen[0].3.as_deref(), Some("gold"));
    assert_eq!(seen[0].4, Some(3));
    assert_eq!(seen[0].5, None, "a new trace has no parent decision");
}

#[test]
fn the_sampler_sees_the_parent_decision_and_rate_and_has_the_final_say() {
    let seen = Arc::new(Mutex::new(None));
    let seen2 = Arc::clone(&seen);
    let layer = layer(
        SentryLayer::builder().traces_sampler(move |ctx: &SamplingContext<'_>| {
            *seen2.lock().unwrap() = Some((ctx.parent_sampled(), ctx.parent_sample_rate()));
            0.0
        }),
    );
    with_layer(layer, || {
        let span = tracing::info_span!("request");
        span.set_parent_from_headers(&headers(&[
            ("sentry-trace", &format!("{TRACE}-{PARENT}-1")),
            ("baggage", "sentry-sample_rate=0.25,sentry-sample_rand=0.1,sentry-trace_id=771a43a4192642f0b136d5159a501700"),
        ]))
        .unwrap();
        let _g = span.enter();
        let out = tracing_sentry::current_headers();
        assert_eq!(
            sentry_trace(&out).2.as_deref(),
            Some("0"),
            "the sampler overrode -1"
        );
        assert_eq!(
            dsc_of(&out)["sample_rate"],
            "0",
            "the applied rate goes into the DSC"
        );
    });
    assert_eq!(*seen.lock().unwrap(), Some((Some(true), Some(0.25))));
}

#[test]
fn a_sampler_that_returns_nonsense_is_clamped() {
    for (rate, flag) in [(f64::NAN, "0"), (-1.0, "0"), (42.0, "1")] {
        let layer =
            layer(SentryLayer::builder().traces_sampler(move |_: &SamplingContext<'_>| rate));
        assert_eq!(
            flag_of_new_root(layer).as_deref(),
            Some(flag),
            "rate {rate}"
        );
    }
}
