//! Wire compatibility with the official Sentry SDKs: every case of `tests/data/vectors.json`.
//! Its `schema` member describes each category's shape and names the SDK commits the vectors
//! were taken from; each case's `source` names the SDK test it comes from, or `derived`.
//!
//! Each test runs all cases of one category and reports every failing case `id` at once. The
//! vector file must be present: a missing or unreadable file fails the tests, it never skips them.

use std::collections::{BTreeMap, BTreeSet};

use crate::propagation::{
    backfill_interval, format_sample_rand, merge_baggage, org_id_from_dsn_host, parse_sample_rand,
    parse_sample_rate, should_continue_trace, strip_sentry_members, Baggage, PropagationTarget,
    PropagationTargets, Traceparent,
};
use crate::{DynamicSamplingContext, PropagationContext, SentryTrace, SpanId, TraceId};
use serde_json::Value;

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/vectors.json");

fn vectors(category: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(VECTORS)
        .unwrap_or_else(|e| panic!("cannot read the wire vectors at {VECTORS}: {e}"));
    let all: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{VECTORS} is not valid JSON: {e}"));
    let cases = all
        .get(category)
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("{VECTORS} has no `{category}` list"));
    assert!(!cases.is_empty(), "`{category}` holds no cases");
    cases.clone()
}

fn id(case: &Value) -> &str {
    case.get("id").and_then(Value::as_str).unwrap_or("<no id>")
}

fn str_field<'a>(case: &'a Value, key: &str) -> Option<&'a str> {
    case.get(key).and_then(Value::as_str)
}

fn f64_field(case: &Value, key: &str) -> f64 {
    case.get(key)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("{}: `{key}` is not a number", id(case)))
}

/// `null` → `None`, `true`/`false` → `Some`.
fn opt_bool(case: &Value, key: &str) -> Option<bool> {
    case.get(key).and_then(Value::as_bool)
}

/// Collects failure messages and asserts there are none, listing them all.
#[derive(Default)]
struct Failures(Vec<String>);

impl Failures {
    fn check(&mut self, ok: bool, id: &str, msg: impl FnOnce() -> String) {
        if !ok {
            self.0.push(format!("{id}: {}", msg()));
        }
    }

    fn assert_none(self, category: &str) {
        assert!(
            self.0.is_empty(),
            "{} `{category}` case(s) failed:\n{}",
            self.0.len(),
            self.0.join("\n")
        );
    }
}

fn members(header: &str) -> BTreeSet<&str> {
    header.split(',').collect()
}

fn dsc_map(dsc: &DynamicSamplingContext) -> BTreeMap<String, String> {
    dsc.iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn json_map(value: Option<&Value>) -> BTreeMap<String, String> {
    value
        .and_then(Value::as_object)
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// The input of a baggage case: one header value or a list of header lines.
fn header_lines(value: Option<&Value>) -> Vec<&str> {
    match value {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

#[test]
fn sentry_trace() {
    let mut f = Failures::default();
    for case in vectors("sentry_trace") {
        let id = id(&case);
        let input = str_field(&case, "input").unwrap_or_default();
        let valid = opt_bool(&case, "valid").unwrap_or(false);
        // `input` may be a comma-joined header value, so the acceptance rule (spec 1.4) applies.
        match SentryTrace::from_header_values([input]) {
            Ok(Some(st)) => {
                f.check(valid, id, || format!("{input:?} was accepted"));
                if !valid {
                    continue;
                }
                let trace = str_field(&case, "trace_id").unwrap_or_default();
                let span = str_field(&case, "span_id").unwrap_or_default();
                f.check(st.trace_id().to_string() == trace, id, || {
                    format!("trace id {} != {trace}", st.trace_id())
                });
                f.check(st.span_id().to_string() == span, id, || {
                    format!("span id {} != {span}", st.span_id())
                });
                let sampled = opt_bool(&case, "sampled");
                f.check(st.sampled() == sampled, id, || {
                    format!("sampled {:?} != {sampled:?}", st.sampled())
                });
                // Continuing through the full extraction gives the same parent.
                let ctx = PropagationContext::from_pairs([("sentry-trace", input)]);
                f.check(
                    matches!(&ctx, Ok(Some(c)) if c.sentry_trace() == &st),
                    id,
                    || format!("from_pairs gave {ctx:?}"),
                );
            }
            Ok(None) | Err(_) => f.check(!valid, id, || format!("{input:?} was rejected")),
        }
    }
    f.assert_none("sentry_trace");
}

#[test]
fn sentry_trace_output() {
    let mut f = Failures::default();
    for (i, case) in vectors("sentry_trace_output").iter().enumerate() {
        let id = format!("sentry_trace_output[{i}]");
        let trace = str_field(case, "trace_id").unwrap_or_default();
        // Python's test asserts only the shape (`<span_id>` is a placeholder for any span id).
        let span = str_field(case, "span_id").unwrap_or_default();
        let span = if span == "<span_id>" {
            "b7ad6b7169203331"
        } else {
            span
        };
        let expected = str_field(case, "expected")
            .unwrap_or_default()
            .replace("<span_id>", span);
        let (Ok(trace_id), Ok(span_id)) = (trace.parse::<TraceId>(), span.parse::<SpanId>()) else {
            f.check(false, &id, || "ids do not parse".into());
            continue;
        };
        let st = SentryTrace::new(trace_id, span_id, opt_bool(case, "sampled"));
        f.check(st.to_string() == expected, &id, || {
            format!("{st} != {expected}")
        });
        f.check(st.to_string().parse::<SentryTrace>() == Ok(st), &id, || {
            "does not round-trip".into()
        });
    }
    f.assert_none("sentry_trace_output");
}

#[test]
fn traceparent_output() {
    let mut f = Failures::default();
    for (i, case) in vectors("traceparent_output").iter().enumerate() {
        let id = format!("traceparent_output[{i}]");
        let trace: TraceId = str_field(case, "trace_id")
            .unwrap_or_default()
            .parse()
            .unwrap();
        let span: SpanId = str_field(case, "span_id")
            .unwrap_or_default()
            .parse()
            .unwrap();
        // Deferred (`null`) is written as not sampled (`00`), as the layer calls it.
        let sampled = opt_bool(case, "sampled") == Some(true);
        let expected = str_field(case, "expected").unwrap_or_default();
        let tp = Traceparent::new(trace, span, sampled);
        f.check(tp.to_string() == expected, &id, || {
            format!("{tp} != {expected}")
        });
        f.check(tp.to_string().parse::<Traceparent>() == Ok(tp), &id, || {
            "does not round-trip".into()
        });
    }
    f.assert_none("traceparent_output");
}

#[test]
fn baggage() {
    let mut f = Failures::default();
    for case in vectors("baggage") {
        let id = id(&case);
        let lines = header_lines(case.get("input"));
        let expected = case.get("expected");
        let b = Baggage::parse_values(lines.iter().copied());

        let want = json_map(expected.and_then(|e| e.get("sentry_items")));
        let got = dsc_map(b.sentry());
        f.check(got == want, id, || {
            format!("sentry items {got:?} != {want:?}")
        });

        let want: Vec<&str> = expected
            .and_then(|e| e.get("third_party_members"))
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        f.check(b.third_party() == want.join(","), id, || {
            format!("third party {:?} != {want:?}", b.third_party())
        });

        let want = expected
            .and_then(|e| e.get("dropped_members"))
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        f.check(b.dropped_members() == want, id, || {
            format!("dropped {} != {want}", b.dropped_members())
        });

        // Frozen = at least one `sentry-` entry (spec 2.3 step 5).
        let frozen = expected
            .and_then(|e| e.get("frozen"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let got = !b.sentry().is_empty();
        f.check(got == frozen, id, || format!("frozen {got} != {frozen}"));
    }
    f.assert_none("baggage");
}

fn dsc_from_json(value: Option<&Value>) -> DynamicSamplingContext {
    let mut dsc = DynamicSamplingContext::new();
    if let Some(o) = value.and_then(Value::as_object) {
        for (k, v) in o {
            dsc.set(k, v.as_str().unwrap_or_default());
        }
    }
    dsc
}

#[test]
fn baggage_serialize() {
    let mut f = Failures::default();
    for case in vectors("baggage_serialize") {
        let id = id(&case);
        let dsc = dsc_from_json(case.get("dsc"));
        let got = dsc.to_baggage();
        match (str_field(&case, "expected"), got.as_deref()) {
            (None, None) => {}
            (Some(want), Some(got)) => {
                // Member order is implementation-defined (spec 2.4): compare as sets.
                f.check(members(got) == members(want), id, || {
                    format!("{got} != {want} (as sets)")
                });
                let back = Baggage::parse(got);
                f.check(back.sentry() == &dsc, id, || {
                    format!("{got} re-parses to {:?}", back.sentry())
                });
            }
            (want, got) => f.check(false, id, || format!("{got:?} != {want:?}")),
        }
    }
    f.assert_none("baggage_serialize");
}

#[test]
fn baggage_encoding() {
    let mut f = Failures::default();
    for case in vectors("baggage_encoding") {
        let id = id(&case);
        let value = str_field(&case, "value").unwrap_or_default();
        let roundtrip = str_field(&case, "must_roundtrip_to").unwrap_or_default();
        let recommended = str_field(&case, "expected_recommended").unwrap_or_default();
        let got = DynamicSamplingContext::new()
            .with("transaction", value)
            .to_baggage()
            .unwrap_or_default();
        let back = Baggage::parse(&got);
        f.check(back.sentry().transaction() == Some(roundtrip), id, || {
            format!("{got} decodes to {:?}", back.sentry().transaction())
        });
        f.check(got == recommended, id, || format!("{got} != {recommended}"));
    }
    f.assert_none("baggage_encoding");
}

#[test]
fn baggage_merge() {
    let mut f = Failures::default();
    for case in vectors("baggage_merge") {
        let id = id(&case);
        let existing = str_field(&case, "existing_outgoing_baggage");
        let sentry = str_field(&case, "sentry_baggage").unwrap_or_default();
        let want = str_field(&case, "expected");
        let got = merge_baggage(existing, sentry);
        f.check(got.as_deref() == want, id, || {
            format!("{got:?} != {want:?}")
        });
    }
    f.assert_none("baggage_merge");
}

#[test]
fn baggage_strip() {
    let mut f = Failures::default();
    for case in vectors("baggage_strip") {
        let id = id(&case);
        let input = str_field(&case, "input").unwrap_or_default();
        let want = str_field(&case, "expected").unwrap_or_default();
        let got = strip_sentry_members(input);
        f.check(got == want, id, || format!("{got:?} != {want:?}"));
    }
    f.assert_none("baggage_strip");
}

#[test]
fn org_id_from_dsn_host_vectors() {
    let mut f = Failures::default();
    for case in vectors("org_id_from_dsn_host") {
        let id = id(&case);
        let host = str_field(&case, "dsn_host").unwrap_or_default();
        let want = str_field(&case, "expected_org_id");
        let got = org_id_from_dsn_host(host);
        f.check(got == want, id, || format!("{host}: {got:?} != {want:?}"));
    }
    f.assert_none("org_id_from_dsn_host");
}

/// The host of a DSN `scheme://key@host[:port]/project`, with plain string operations.
fn dsn_host(dsn: &str) -> Option<&str> {
    let rest = dsn.split_once("://").map_or(dsn, |(_, r)| r);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let authority = rest.split('/').next()?;
    authority.split(':').next()
}

#[test]
fn strict_trace_continuation() {
    let mut f = Failures::default();
    for case in vectors("strict_trace_continuation") {
        let id = id(&case);
        let strict = opt_bool(&case, "strict_trace_continuation").unwrap_or(false);
        let want = opt_bool(&case, "continue_trace").unwrap_or(false);
        let got = if let Some(baggage) = str_field(&case, "baggage") {
            let b = Baggage::parse(baggage);
            let ours = str_field(&case, "org_id_option").or_else(|| {
                str_field(&case, "dsn")
                    .and_then(dsn_host)
                    .and_then(org_id_from_dsn_host)
            });
            should_continue_trace(b.sentry().org_id(), ours, strict)
        } else {
            should_continue_trace(
                str_field(&case, "baggage_org_id"),
                str_field(&case, "sdk_org_id"),
                strict,
            )
        };
        f.check(got == want, id, || format!("continue {got} != {want}"));
    }
    f.assert_none("strict_trace_continuation");
}

#[test]
fn sample_rand() {
    let mut f = Failures::default();
    for case in vectors("sample_rand") {
        let id = id(&case);
        match str_field(&case, "kind").unwrap_or_default() {
            "backfill_interval" => {
                let st = str_field(&case, "incoming_sentry_trace").unwrap_or_default();
                let bg = str_field(&case, "incoming_baggage").unwrap_or_default();
                let ctx = PropagationContext::from_pairs([("sentry-trace", st), ("baggage", bg)]);
                let Ok(Some(ctx)) = ctx else {
                    f.check(false, id, || format!("incoming headers: {ctx:?}"));
                    continue;
                };
                let sampled = opt_bool(&case, "parent_sampled");
                f.check(ctx.sampled() == sampled, id, || {
                    format!("sampled {:?} != {sampled:?}", ctx.sampled())
                });
                let rate = str_field(&case, "incoming_sample_rate").and_then(parse_sample_rate);
                f.check(ctx.dsc().sample_rate() == rate, id, || {
                    format!("rate {:?} != {rate:?}", ctx.dsc().sample_rate())
                });
                let want = case
                    .get("expected_interval")
                    .filter(|v| !v.is_null())
                    .map(|v| (f64_field(v, "min_inclusive"), f64_field(v, "max_exclusive")));
                let got = backfill_interval(ctx.sampled(), ctx.dsc().sample_rate());
                f.check(got == want, id, || format!("{got:?} != {want:?}"));
            }
            "incoming_kept" => {
                let st = str_field(&case, "incoming_sentry_trace").unwrap_or_default();
                let bg = str_field(&case, "incoming_baggage").unwrap_or_default();
                let want = str_field(&case, "expected_sample_rand");
                let ctx = PropagationContext::from_pairs([("sentry-trace", st), ("baggage", bg)]);
                let got = ctx
                    .as_ref()
                    .ok()
                    .and_then(Option::as_ref)
                    .and_then(|c| c.dsc().get("sample_rand"));
                f.check(got == want, id, || format!("{got:?} != {want:?}"));
                let out = ctx
                    .ok()
                    .flatten()
                    .and_then(|c| c.dsc().to_baggage())
                    .unwrap_or_default();
                let raw = format!("sentry-sample_rand={}", want.unwrap_or_default());
                f.check(out.split(',').any(|m| m == raw), id, || {
                    format!("{out} does not forward {raw}")
                });
            }
            "format" => {
                let value = f64_field(&case, "value");
                let want = str_field(&case, "expected").unwrap_or_default();
                let got = format_sample_rand(value);
                f.check(got == want, id, || format!("{got} != {want}"));
            }
            "validity" => {
                let value = str_field(&case, "value").unwrap_or_default();
                let want = opt_bool(&case, "valid").unwrap_or(false);
                let got = parse_sample_rand(value).is_some();
                f.check(got == want, id, || {
                    format!("{value:?}: valid {got} != {want}")
                });
            }
            other => f.check(false, id, || format!("unknown kind {other:?}")),
        }
    }
    f.assert_none("sample_rand");
}

#[test]
fn sampling_decision() {
    let mut f = Failures::default();
    for case in vectors("sampling_decision") {
        let id = id(&case);
        let rand = f64_field(&case, "sample_rand");
        let rate = f64_field(&case, "sample_rate");
        let want = opt_bool(&case, "sampled").unwrap_or(false);
        // The rule (spec 3.2): a strict comparison, so rate 0 never samples and 1 always does.
        let got = rand < rate;
        f.check(got == want, id, || {
            format!("{rand} < {rate} = {got}, want {want}")
        });
    }
    f.assert_none("sampling_decision");
}

#[test]
fn trace_propagation_targets() {
    let mut f = Failures::default();
    for case in vectors("trace_propagation_targets") {
        let id = id(&case);
        let url = str_field(&case, "url").unwrap_or_default();
        let want = opt_bool(&case, "propagate").unwrap_or(false);
        let targets = if let Some(list) = case.get("targets").and_then(Value::as_array) {
            // JS style: strings are substrings, RegExps are regexes.
            let mut targets = Vec::new();
            for t in list {
                if let Some(s) = str_field(t, "str") {
                    targets.push(PropagationTarget::substring(s));
                } else if let Some(r) = str_field(t, "regex") {
                    match PropagationTarget::regex(r) {
                        Ok(t) => targets.push(t),
                        Err(e) => f.check(false, id, || format!("{r}: {e}")),
                    }
                }
            }
            PropagationTargets::new(targets)
        } else {
            match case.get("targets_python").and_then(Value::as_array) {
                // Python: every entry is a regex searched anywhere in the URL.
                Some(list) => {
                    let mut targets = Vec::new();
                    for r in list.iter().filter_map(Value::as_str) {
                        match PropagationTarget::regex(r) {
                            Ok(t) => targets.push(t),
                            Err(e) => f.check(false, id, || format!("{r}: {e}")),
                        }
                    }
                    PropagationTargets::new(targets)
                }
                // Python's `None` means "never propagate" (spec 6), our `none()`.
                None => PropagationTargets::none(),
            }
        };
        let got = targets.matches(url);
        f.check(got == want, id, || format!("{url}: {got} != {want}"));
    }
    f.assert_none("trace_propagation_targets");
}
