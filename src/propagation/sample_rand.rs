//! `sample_rand` and `sample_rate` values (spec 3.2).
//!
//! `sample_rand` is a float in `[0, 1)` written with exactly six decimals, created once per trace
//! and propagated as `sentry-sample_rand`; the decision rule is `sample_rand < rate`. Six-decimal
//! values are handled as integer micro-units (`0.123456` is 123 456) so that formatting never
//! rounds up and drawing from an interval never lands outside it.

/// One million: six-decimal values are integer multiples of `1 / MICROS`.
const MICROS: u32 = 1_000_000;

/// Parses a `sample_rand`: a decimal float in `[0, 1)`.
///
/// Accepted grammar: ASCII digits with an optional `.` and fraction and an optional exponent
/// (`0`, `0.1`, `.5`, `1e-3`); the value must be finite and `0 <= v < 1`. Signs, whitespace,
/// `inf`, `NaN`, and `1`/`1.0` are rejected (the range is half-open, as in Python and Rust; JS
/// also accepts `1`).
pub(crate) fn parse_sample_rand(s: &str) -> Option<f64> {
    parse_decimal(s).filter(|v| (0.0..1.0).contains(v))
}

/// Parses a `sample_rate`: a decimal float in `[0, 1]`.
///
/// Same grammar as [`parse_sample_rand`]; `1` and `1.0` are valid rates.
pub(crate) fn parse_sample_rate(s: &str) -> Option<f64> {
    parse_decimal(s).filter(|v| (0.0..=1.0).contains(v))
}

/// Formats a `sample_rand` with exactly six decimals, truncated (never rounded up).
///
/// The result is the largest six-decimal number not greater than `value`, so
/// `0.9999999` gives `"0.999999"` and formatting a parsed six-decimal string gives it back.
/// Inputs outside `[0, 1)` are clamped: NaN and negatives give `"0.000000"`, values `>= 1` give
/// `"0.999999"`.
pub(crate) fn format_sample_rand(value: f64) -> String {
    String::from_utf8_lossy(&sample_rand_text(value)).into_owned()
}

/// [`format_sample_rand`]'s text on the stack: `0.` and six digits.
pub(crate) fn sample_rand_text(value: f64) -> [u8; 8] {
    let mut micros = floor_micros(value);
    let mut out = *b"0.000000";
    for digit in out.iter_mut().skip(2).rev() {
        // `micros` < 1_000_000: six digits.
        *digit = b'0' + (micros % 10) as u8;
        micros /= 10;
    }
    out
}

/// Returns the interval `[lo, hi)` a missing `sample_rand` is drawn from so that the incoming
/// decision is reproduced (spec 3.2).
///
/// | `sampled` | `sample_rate` | interval |
/// | --- | --- | --- |
/// | `Some(true)` | `r > 0` | `[0, r)` |
/// | `Some(true)` | `0` | `None`: inconsistent, no value can reproduce the decision |
/// | `Some(false)` | `r < 1` | `[r, 1)` |
/// | `Some(false)` | `1` | `None`: inconsistent |
/// | anything else (deferred, or no valid rate) | | `[0, 1)` |
///
/// A rate outside `[0, 1]` (or NaN) counts as absent. Python also leaves `sample_rand` unset
/// when the interval is empty (vector `sr-013`).
pub(crate) fn backfill_interval(
    sampled: Option<bool>,
    sample_rate: Option<f64>,
) -> Option<(f64, f64)> {
    let rate = sample_rate.filter(|r| (0.0..=1.0).contains(r));
    match (sampled, rate) {
        (Some(true), Some(r)) => (r > 0.0).then_some((0.0, r)),
        (Some(false), Some(r)) => (r < 1.0).then_some((r, 1.0)),
        _ => Some((0.0, 1.0)),
    }
}

/// Draws a six-decimal value `v` with `lo <= v < hi` from `u`, a uniform float in `[0, 1)`.
///
/// The six-decimal numbers inside `[lo, hi)` (intersected with `[0, 1)`) are equally likely.
/// The result formats exactly with [`format_sample_rand`] and always lies in `[0, 1)`.
///
/// If the interval holds no six-decimal number (it is empty, inverted, or narrower than `1e-6`
/// between two grid points), the result is `lo` truncated to six decimals and clamped to
/// `[0, 0.999999]`: the closest value that still formats validly. It may then lie just below `lo`;
/// callers that must reproduce a decision exactly check [`backfill_interval`] first.
pub(crate) fn sample_rand_in(lo: f64, hi: f64, u: f64) -> f64 {
    let lo_m = ceil_micros(lo);
    let hi_m = ceil_micros(hi);
    if lo_m >= hi_m {
        return micros_to_f64(floor_micros(lo));
    }
    let span = hi_m - lo_m;
    let u = if u.is_nan() { 0.0 } else { u.clamp(0.0, 1.0) };
    // `u * span` may round up to `span` when `u` is just below 1.
    let offset = ((u * f64::from(span)).floor() as u32).min(span - 1);
    micros_to_f64(lo_m + offset)
}

/// Derives the `sample_rand` of a trace this service starts from its trace id, as Sentry
/// recommends: the same trace always gets the same value, and random trace ids make it uniform.
/// Six decimals, in `[0, 1)`.
pub(crate) fn sample_rand_from_trace_id(trace_id: crate::id::TraceId) -> f64 {
    let bytes = trace_id.to_bytes();
    let mut low = [0u8; 8];
    low.copy_from_slice(bytes.get(8..16).unwrap_or(&[0; 8]));
    let micros = u64::from_be_bytes(low) % u64::from(MICROS);
    micros as f64 / f64::from(MICROS)
}

/// The `sample_rand` of a continued trace: the incoming one, or one drawn (from the uniform
/// `u` in `[0, 1)`) so that the incoming decision is reproduced (spec 3.2).
///
/// Returns the value and whether it was backfilled (and so belongs in the frozen DSC). For
/// inconsistent input (sampled with rate 0) no value can reproduce the decision: one is drawn
/// from `[0, 1)` for local use, and nothing is written into the frozen DSC.
pub(crate) fn continued_sample_rand(
    incoming: Option<f64>,
    sampled: Option<bool>,
    sample_rate: Option<f64>,
    u: f64,
) -> (f64, bool) {
    match incoming {
        Some(rand) => (rand, false),
        None => match backfill_interval(sampled, sample_rate) {
            Some((lo, hi)) => (sample_rand_in(lo, hi, u), true),
            None => (sample_rand_in(0.0, 1.0, u), false),
        },
    }
}

// === helpers ===

/// The decimal grammar shared by rates and rands; rejects what `f64::from_str` would accept
/// beyond plain decimals (`inf`, `NaN`, signs).
fn parse_decimal(s: &str) -> Option<f64> {
    if let Some(value) = parse_short_decimal(s.as_bytes()) {
        return Some(value);
    }
    let first = *s.as_bytes().first()?;
    if !(first.is_ascii_digit() || first == b'.') {
        return None;
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return None;
    }
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Parses `digits [ "." digits ]` of at most 15 digits (what SDKs send: `0.25`, `0.123456`)
/// without `f64::from_str`: the digits as an integer, exact below 2^53, divided by an exact
/// power of ten, which IEEE division rounds correctly, so the result is the one `from_str`
/// gives. `None` for anything else.
fn parse_short_decimal(s: &[u8]) -> Option<f64> {
    /// Powers of ten up to 10^15, all exact in an `f64`.
    const POW10: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    if s.len() > 16 {
        return None;
    }
    let mut mantissa: u64 = 0;
    let mut digits = 0;
    let mut point = None;
    for (i, &b) in s.iter().enumerate() {
        match b {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + u64::from(b - b'0');
                digits += 1;
            }
            b'.' if point.is_none() => point = Some(i),
            _ => return None,
        }
    }
    if digits == 0 || digits > 15 {
        return None;
    }
    let scale = point.map_or(0, |p| s.len() - p - 1);
    // Below 10^15 < 2^53: the conversion is exact.
    let mantissa = mantissa as f64;
    Some(mantissa / POW10.get(scale)?)
}

/// `m / 10^6` as the `f64` nearest to that decimal (the same value parsing `"0.mmmmmm"` gives:
/// both operands are exact and IEEE division rounds correctly).
fn micros_to_f64(m: u32) -> f64 {
    f64::from(m) / f64::from(MICROS)
}

/// The largest `m` in `[0, 999_999]` with `micros_to_f64(m) <= x` (0 for NaN and negatives).
fn floor_micros(x: f64) -> u32 {
    if x.is_nan() || x <= 0.0 {
        return 0;
    }
    if x >= 1.0 {
        return MICROS - 1;
    }
    // The product is off by at most ~1e-10, so one correction either way suffices.
    let mut m = (x * f64::from(MICROS)).floor();
    if m >= 1.0 && m / f64::from(MICROS) > x {
        m -= 1.0;
    }
    if (m + 1.0) / f64::from(MICROS) <= x {
        m += 1.0;
    }
    (m as u32).min(MICROS - 1)
}

/// The smallest `m` in `[0, 1_000_000]` with `micros_to_f64(m) >= x` (0 for NaN and negatives).
fn ceil_micros(x: f64) -> u32 {
    if x.is_nan() || x <= 0.0 {
        return 0;
    }
    if x >= 1.0 {
        return MICROS;
    }
    let mut m = (x * f64::from(MICROS)).ceil();
    if m >= 1.0 && (m - 1.0) / f64::from(MICROS) >= x {
        m -= 1.0;
    }
    if m / f64::from(MICROS) < x {
        m += 1.0;
    }
    (m as u32).min(MICROS)
}

#[cfg(test)]
#[expect(
    clippy::type_complexity,
    reason = "vector tables are tuples of inputs and expectations"
)]
mod tests {
    use super::*;

    #[rustfmt::skip]
    const RAND_VALIDITY: &[(&str, Option<f64>, &str)] = &[
        ("0",            Some(0.0),      "zero"),
        ("0.0",          Some(0.0),      "zero with decimals"),
        ("0.1",          Some(0.1),      "plain"),
        ("0.999999",     Some(0.999999), "largest six-decimal"),
        (".5",           Some(0.5),      "no integer part"),
        ("1e-3",         Some(0.001),    "exponent"),
        ("1",            None,           "1 is outside [0,1)"),
        ("1.0",          None,           "1.0 is outside [0,1)"),
        ("-0.1",         None,           "negative"),
        ("-0",           None,           "sign"),
        ("+0.1",         None,           "sign"),
        ("NaN",          None,           "NaN"),
        ("inf",          None,           "infinity"),
        ("1e999",        None,           "overflows to infinity"),
        ("abc",          None,           "garbage"),
        ("",             None,           "empty"),
        (" 0.1",         None,           "whitespace"),
        ("0.1 ",         None,           "whitespace"),
        ("0,5",          None,           "comma"),
        ("0x1",          None,           "hex"),
    ];

    #[test]
    fn sample_rand_validity() {
        for (input, expected, why) in RAND_VALIDITY {
            assert_eq!(parse_sample_rand(input), *expected, "{why}: {input:?}");
        }
    }

    #[test]
    fn sample_rate_includes_one() {
        assert_eq!(parse_sample_rate("1"), Some(1.0));
        assert_eq!(parse_sample_rate("1.0"), Some(1.0));
        assert_eq!(parse_sample_rate("0"), Some(0.0));
        assert_eq!(parse_sample_rate("1.0000001"), None);
        assert_eq!(parse_sample_rate("bogus"), None);
    }

    #[rustfmt::skip]
    const FORMAT: &[(f64, &str)] = &[
        (0.0,           "0.000000"),
        (0.25,          "0.250000"),
        (0.9999999,     "0.999999"),
        (0.123456,      "0.123456"),
        (0.1234569,     "0.123456"),
        (0.000001,      "0.000001"),
        (0.0000009,     "0.000000"),
        (0.3,           "0.300000"),
        (0.7,           "0.700000"),
        (1.0,           "0.999999"),
        (7.5,           "0.999999"),
        (-0.5,          "0.000000"),
        (f64::NAN,      "0.000000"),
        (f64::INFINITY, "0.999999"),
    ];

    #[test]
    fn formatting_truncates_to_six_decimals() {
        for (value, expected) in FORMAT {
            assert_eq!(format_sample_rand(*value), *expected, "{value}");
        }
    }

    #[test]
    fn every_six_decimal_value_formats_to_itself() {
        for m in (0..MICROS).step_by(7).chain([MICROS - 1]) {
            let s = format!("0.{m:06}");
            let v = parse_sample_rand(&s).unwrap();
            assert_eq!(format_sample_rand(v), s);
            assert_eq!(micros_to_f64(m), v, "{s}");
        }
    }

    #[rustfmt::skip]
    const BACKFILL: &[(Option<bool>, Option<f64>, Option<(f64, f64)>)] = &[
        (None,        None,           Some((0.0, 1.0))),
        (None,        Some(0.5),      Some((0.0, 1.0))),
        (Some(true),  None,           Some((0.0, 1.0))),
        (Some(false), None,           Some((0.0, 1.0))),
        (Some(true),  Some(0.25),     Some((0.0, 0.25))),
        (Some(false), Some(0.25),     Some((0.25, 1.0))),
        (Some(false), Some(0.0),      Some((0.0, 1.0))),
        (Some(true),  Some(1.0),      Some((0.0, 1.0))),
        (Some(true),  Some(0.0),      None),
        (Some(false), Some(1.0),      None),
        (Some(true),  Some(1.5),      Some((0.0, 1.0))),
        (Some(true),  Some(f64::NAN), Some((0.0, 1.0))),
    ];

    #[test]
    fn backfill_reproduces_the_incoming_decision() {
        for (sampled, rate, expected) in BACKFILL {
            assert_eq!(
                backfill_interval(*sampled, *rate),
                *expected,
                "{sampled:?} {rate:?}"
            );
        }
    }

    #[test]
    fn drawing_stays_inside_the_interval_at_the_edges() {
        let us = [
            0.0,
            1e-12,
            0.5,
            0.999_999,
            0.999_999_999_999,
            1.0 - f64::EPSILON,
        ];
        let intervals = [
            (0.0, 1.0),
            (0.0, 0.25),
            (0.25, 1.0),
            (0.1, 0.2),
            (0.3, 0.7),
            (0.0, 1e-6),
            (0.0, 1.1e-6),
            (0.999_999, 1.0),
            (0.5, 0.500_000_1),
            (1e-7, 1.0),
        ];
        for (lo, hi) in intervals {
            for u in us {
                let v = sample_rand_in(lo, hi, u);
                assert!(v >= lo && v < hi, "[{lo}, {hi}) u={u} gave {v}");
                assert_eq!(
                    parse_sample_rand(&format_sample_rand(v)),
                    Some(v),
                    "{v} is six-decimal"
                );
            }
        }
    }

    #[test]
    fn drawing_decision_matches_for_backfilled_values() {
        for rate in [0.01, 0.1, 0.3, 0.5, 0.7, 0.123_456_7, 0.999_999_9] {
            for u in [0.0, 0.3, 0.999_999_999] {
                let (lo, hi) = backfill_interval(Some(true), Some(rate)).unwrap();
                assert!(sample_rand_in(lo, hi, u) < rate);
                let (lo, hi) = backfill_interval(Some(false), Some(rate)).unwrap();
                let v = sample_rand_in(lo, hi, u);
                if rate < 0.999_999 {
                    assert!(v >= rate, "rate {rate} u {u} gave {v}");
                }
            }
        }
    }

    #[test]
    fn an_interval_without_a_six_decimal_value_gives_lo_truncated() {
        assert_eq!(sample_rand_in(0.123_456_1, 0.123_456_5, 0.5), 0.123_456);
        assert_eq!(sample_rand_in(0.999_999_9, 1.0, 0.5), 0.999_999);
        assert_eq!(sample_rand_in(0.5, 0.25, 0.5), 0.5);
        assert_eq!(sample_rand_in(f64::NAN, f64::NAN, f64::NAN), 0.0);
    }

    #[test]
    fn sample_rand_from_a_trace_id_is_a_six_decimal_value_below_one() {
        for _ in 0..10_000 {
            let rand = sample_rand_from_trace_id(crate::id::TraceId::random());
            assert!((0.0..1.0).contains(&rand));
            assert_eq!((rand * 1e6).round() / 1e6, rand);
        }
        let id: crate::id::TraceId = "771a43a4192642f0b136d5159a501700".parse().unwrap();
        // The low eight bytes 0xb136d5159a501700 modulo one million, in micro-units.
        assert_eq!(sample_rand_from_trace_id(id), 0.589632);
        assert_eq!(sample_rand_from_trace_id(id), sample_rand_from_trace_id(id));
    }

    #[test]
    fn a_continued_trace_keeps_or_backfills_its_sample_rand() {
        assert_eq!(
            continued_sample_rand(Some(0.5), Some(true), Some(0.1), 0.9),
            (0.5, false)
        );
        // Sampled at 0.25: the drawn value must fall below the rate.
        let (rand, backfilled) = continued_sample_rand(None, Some(true), Some(0.25), 0.999);
        assert!(backfilled && rand < 0.25, "{rand}");
        // Not sampled at 0.25: at or above it.
        let (rand, backfilled) = continued_sample_rand(None, Some(false), Some(0.25), 0.0);
        assert!(backfilled && rand >= 0.25, "{rand}");
        // Inconsistent: sampled with rate 0 is drawn for local use only.
        let (_, backfilled) = continued_sample_rand(None, Some(true), Some(0.0), 0.3);
        assert!(!backfilled);
    }

    proptest::proptest! {
        /// The text written on the stack is the six-decimal `format!` of the floored micros,
        /// for any value, the clamped ones (negative, NaN, 1 and above) included.
        #[test]
        fn sample_rand_text_is_the_six_decimal_format(
            value in proptest::prop_oneof![0.0f64..1.0, proptest::num::f64::ANY],
        ) {
            let expected = format!("0.{:06}", floor_micros(value));
            proptest::prop_assert_eq!(&sample_rand_text(value), expected.as_bytes());
        }
    }

    proptest::proptest! {
        /// The short-decimal shortcut gives what `f64::from_str` gives, whenever it applies.
        #[test]
        fn short_decimals_parse_as_from_str_does(s in "[0-9]{0,9}\\.?[0-9]{0,9}|[0-9.]{0,17}") {
            if let Some(value) = parse_short_decimal(s.as_bytes()) {
                proptest::prop_assert_eq!(Some(value), s.parse::<f64>().ok(), "{}", s);
            }
        }
    }
}

/// The examples of the crate-private helpers above, run as unit tests.
#[cfg(test)]
mod examples {
    #[test]
    fn parse_sample_rand_example() {
        use crate::propagation::parse_sample_rand;

        assert_eq!(parse_sample_rand("0.999999"), Some(0.999999));
        assert_eq!(parse_sample_rand("1.0"), None);
    }

    #[test]
    fn parse_sample_rate_example() {
        use crate::propagation::parse_sample_rate;

        assert_eq!(parse_sample_rate("1.0"), Some(1.0));
        assert_eq!(parse_sample_rate("-0.5"), None);
    }

    #[test]
    fn format_sample_rand_example() {
        use crate::propagation::format_sample_rand;

        assert_eq!(format_sample_rand(0.25), "0.250000");
        assert_eq!(format_sample_rand(0.9999999), "0.999999");
    }

    #[test]
    fn backfill_interval_example() {
        use crate::propagation::backfill_interval;

        assert_eq!(backfill_interval(Some(true), Some(0.25)), Some((0.0, 0.25)));
        assert_eq!(
            backfill_interval(Some(false), Some(0.25)),
            Some((0.25, 1.0))
        );
        assert_eq!(backfill_interval(None, Some(0.25)), Some((0.0, 1.0)));
        assert_eq!(backfill_interval(Some(true), Some(0.0)), None);
    }

    #[test]
    fn sample_rand_in_example() {
        use crate::propagation::sample_rand_in;

        assert_eq!(sample_rand_in(0.0, 1.0, 0.5), 0.5);
        let v = sample_rand_in(0.25, 0.5, 0.999_999_999);
        assert!((0.25..0.5).contains(&v));
        // No six-decimal number in [0.1234561, 0.1234565): lo, truncated.
        assert_eq!(sample_rand_in(0.1234561, 0.1234565, 0.3), 0.123456);
    }
}
