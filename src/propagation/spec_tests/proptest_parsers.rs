//! Property tests for the protocol parsers: round-trip laws, totality (no input panics) and the
//! W3C baggage limits.

use crate::propagation::{
    format_sample_rand, merge_baggage, org_id_from_dsn_host, parse_sample_rand, parse_sample_rate,
    sample_rand_in, strip_sentry_members, Baggage, ExtractOptions, Traceparent, MAX_BAGGAGE_BYTES,
    MAX_BAGGAGE_MEMBERS,
};
use crate::{DynamicSamplingContext, PropagationContext, SentryTrace, SpanId, TraceId};
use http::{HeaderMap, HeaderValue};
use proptest::prelude::*;

fn trace_id() -> impl Strategy<Value = TraceId> {
    any::<[u8; 16]>().prop_map(TraceId::from_bytes)
}

fn span_id() -> impl Strategy<Value = SpanId> {
    any::<[u8; 8]>().prop_map(SpanId::from_bytes)
}

/// Strings made of the characters the header grammars care about, so that generated inputs get
/// past the first checks and exercise the deeper paths.
fn header_like() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9a-fA-F]{0,40}(-[0-9a-fA-F]{0,20}){0,4}[ \t,]{0,3}",
        "[ \t]{0,2}(sentry-)?[a-z%0-9]{0,6}[ \t]{0,2}(=[ -~]{0,12})?(;[a-z=]{0,4})?(,[ \t]{0,2}(sentry-)?[a-z0-9%]{0,6}=[a-zA-Z0-9%;+ ]{0,8}){0,6}",
        "[0-9.eE+-]{0,12}",
    ]
}

/// A third-party baggage member: a token key that is not `sentry-*`, a `baggage-octet` value
/// (no `%`, so it never decodes into something else), maybe with properties.
fn third_party_member() -> impl Strategy<Value = String> {
    (
        "[a-zA-Z0-9_]{1,8}",
        "[!#$&'()*+\\-./0-9:<>?@A-Z\\[\\]^_`a-z{|}~]{0,12}",
        proptest::option::of("[a-z]{1,4}(=[a-z0-9]{1,4})?"),
    )
        .prop_map(|(k, v, prop)| match prop {
            Some(p) => format!("{k}={v};{p}"),
            None => format!("{k}={v}"),
        })
}

/// DSC entries with distinct keys from a safe key alphabet and arbitrary non-empty values.
fn dsc_entries(max: usize, value_len: usize) -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::vec(
        (
            "[a-z_][a-z0-9_.~-]{0,15}",
            proptest::collection::vec(any::<char>(), 1..=value_len)
                .prop_map(|c| c.into_iter().collect::<String>()),
        ),
        0..=max,
    )
    .prop_map(|entries| {
        let mut seen = std::collections::HashSet::new();
        entries
            .into_iter()
            .filter(|(k, _)| seen.insert(k.clone()))
            .collect()
    })
}

/// Many DSC entries with long values, cheap to generate: a repeated character (any Unicode
/// scalar, so encoded sizes vary from 1 to 12 bytes per character).
fn bulky_entries(max: usize) -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::vec(
        ("[a-z_]{1,12}", any::<char>(), 1..400usize)
            .prop_map(|(k, c, n)| (k, c.to_string().repeat(n))),
        0..=max,
    )
}

fn dsc_of(entries: &[(String, String)]) -> DynamicSamplingContext {
    let mut dsc = DynamicSamplingContext::new();
    for (k, v) in entries {
        dsc.set(k, v.as_str());
    }
    dsc
}

fn assert_within_limits(header: &str) -> Result<(), TestCaseError> {
    prop_assert!(header.len() <= MAX_BAGGAGE_BYTES, "{} bytes", header.len());
    prop_assert!(header.split(',').count() <= MAX_BAGGAGE_MEMBERS);
    prop_assert!(!header.is_empty(), "an empty header is never produced");
    Ok(())
}

/// Runs every parser on `s`; the property is that none of them panics.
fn parse_everything(s: &str) {
    let _ = s.parse::<TraceId>();
    let _ = s.parse::<SpanId>();
    let _ = s.parse::<SentryTrace>();
    let _ = SentryTrace::from_header_values([s, s]);
    let _ = s.parse::<Traceparent>();
    let b = Baggage::parse(s);
    let _ = b.sentry().to_baggage();
    let _ = Baggage::parse_values([s, "", s]);
    let _ = parse_sample_rand(s);
    let _ = parse_sample_rate(s);
    let _ = org_id_from_dsn_host(s);
    let _ = strip_sentry_members(s);
    let _ = merge_baggage(Some(s), s);
    let options = ExtractOptions {
        accept_traceparent: true,
        ..ExtractOptions::default()
    };
    let _ = PropagationContext::from_pairs_with(
        options,
        [("sentry-trace", s), ("baggage", s), ("traceparent", s)],
    );
    let _ = PropagationContext::from_pairs_with(options, [("baggage", s), ("traceparent", s)]);
}

proptest! {
    #[test]
    fn trace_ids_round_trip(id in trace_id()) {
        prop_assert_eq!(id.to_string().parse::<TraceId>(), Ok(id));
    }

    #[test]
    fn span_ids_round_trip(id in span_id()) {
        prop_assert_eq!(id.to_string().parse::<SpanId>(), Ok(id));
    }

    #[test]
    fn sentry_trace_round_trips(t in trace_id(), s in span_id(), sampled in any::<Option<bool>>()) {
        let st = SentryTrace::new(t, s, sampled);
        let text = st.to_string();
        prop_assert_eq!(text.parse::<SentryTrace>(), Ok(st));
        prop_assert_eq!(SentryTrace::from_header_values([text.as_str()]), Ok(Some(st)));
        prop_assert_eq!(text.to_ascii_lowercase(), text);
    }

    #[test]
    fn traceparent_round_trips(t in trace_id(), s in span_id(), sampled in any::<bool>()) {
        prop_assume!(t.to_bytes() != [0; 16] && s.to_bytes() != [0; 8]);
        let tp = Traceparent::new(t, s, sampled);
        prop_assert_eq!(tp.to_string().parse::<Traceparent>(), Ok(tp));
    }

    #[test]
    fn dsc_round_trips_through_baggage(entries in dsc_entries(10, 40)) {
        let dsc = dsc_of(&entries);
        match dsc.to_baggage() {
            None => prop_assert!(dsc.is_empty()),
            Some(header) => {
                prop_assert!(header.bytes().all(|b| b.is_ascii_graphic()), "{}", header);
                let back = Baggage::parse(&header);
                prop_assert_eq!(back.sentry(), &dsc);
                prop_assert!(back.third_party().is_empty());
                prop_assert_eq!(back.dropped_members(), 0);
            }
        }
    }

    #[test]
    fn no_string_panics_a_parser(s in header_like()) {
        parse_everything(&s);
    }

    #[test]
    fn no_byte_sequence_panics_a_parser(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        parse_everything(&String::from_utf8_lossy(&bytes));
        if let Ok(value) = HeaderValue::from_bytes(&bytes) {
            let mut headers = HeaderMap::new();
            headers.append("sentry-trace", value.clone());
            headers.append("baggage", value.clone());
            headers.append("traceparent", value.clone());
            let options = ExtractOptions {
                accept_traceparent: true,
                ..ExtractOptions::default()
            };
            let _ = PropagationContext::from_headers_with(options, &headers);
            headers.remove("sentry-trace");
            let _ = PropagationContext::from_headers_with(options, &headers);
        }
    }

    #[test]
    fn to_baggage_keeps_the_limits(entries in bulky_entries(100)) {
        if let Some(header) = dsc_of(&entries).to_baggage() {
            assert_within_limits(&header)?;
        }
    }

    #[test]
    fn merge_keeps_the_limits(
        existing in proptest::collection::vec(
            (prop_oneof!["[ a-z]{0,4}", "sentry-[a-z]{1,4}"], "[=; ]{0,2}", 0..400usize),
            0..90,
        ),
        new in bulky_entries(80),
    ) {
        let existing = existing
            .iter()
            .map(|(k, sep, n)| format!("{k}{sep}{}", "v".repeat(*n)))
            .collect::<Vec<_>>()
            .join(",");
        let sentry = dsc_of(&new).to_baggage().unwrap_or_default();
        if let Some(merged) = merge_baggage(Some(&existing), &sentry) {
            assert_within_limits(&merged)?;
        }
    }

    #[test]
    fn parse_then_merge_keeps_third_party_members_verbatim_and_in_order(
        members in proptest::collection::vec((third_party_member(), "[ \t]{0,2}", "[ \t]{0,2}"), 0..20),
        sentry in dsc_entries(5, 20),
    ) {
        let header = members
            .iter()
            .map(|(m, pre, post)| format!("{pre}{m}{post}"))
            .collect::<Vec<_>>()
            .join(",");
        let parsed = Baggage::parse(&header);
        let expected: Vec<&str> = members.iter().map(|(m, _, _)| m.as_str()).collect();
        prop_assert_eq!(parsed.third_party(), expected.join(","));

        let sentry = dsc_of(&sentry).to_baggage().unwrap_or_default();
        let merged = merge_baggage(Some(&header), &sentry).unwrap_or_default();
        let kept: Vec<&str> = merged
            .split(',')
            .filter(|m| !m.is_empty() && !m.starts_with("sentry-"))
            .collect();
        prop_assert_eq!(kept, expected);
    }

    #[test]
    fn formatted_sample_rands_parse_back_with_six_decimals(value in any::<f64>()) {
        let s = format_sample_rand(value);
        prop_assert_eq!(s.len(), 8, "{}", s);
        prop_assert!(s.starts_with("0.") && s[2..].bytes().all(|b| b.is_ascii_digit()), "{}", s);
        let parsed = parse_sample_rand(&s);
        prop_assert!(matches!(parsed, Some(v) if (0.0..1.0).contains(&v)), "{}", s);
        prop_assert_eq!(format_sample_rand(parsed.unwrap_or(f64::NAN)), s);
    }

    #[test]
    fn drawn_sample_rands_stay_in_their_interval(
        a in 0.0f64..=1.0,
        b in 0.0f64..=1.0,
        u in 0.0f64..1.0,
    ) {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        let v = sample_rand_in(lo, hi, u);
        prop_assert!((0.0..1.0).contains(&v));
        prop_assert_eq!(parse_sample_rand(&format_sample_rand(v)), Some(v));
        // The interval holds a six-decimal value when its smallest candidate is below `hi`.
        let first = (lo * 1e6).ceil() / 1e6;
        if hi - lo > 2e-6 || (first >= lo && first < hi) {
            prop_assert!(v >= lo && v < hi, "[{}, {}) gave {}", lo, hi, v);
        }
    }
}
