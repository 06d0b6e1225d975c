//! Wire-encoding primitives: JSON written by hand into a reused buffer, and RFC 3339 timestamps
//! (the calendar arithmetic lives in [`calendar`](crate::export::wire::calendar)).
//!
//! Writing JSON directly (instead of building `serde_json::Value` trees) keeps the export worker
//! to one growing buffer per transaction. Every function here writes valid JSON for any input:
//! strings are escaped, and non-finite floats become strings.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::clock::Clock;
use crate::export::wire::calendar::{civil_from_days, SECS_PER_DAY};

/// The last instant we write, `9999-12-31T23:59:59.999999Z`; RFC 3339 has four-digit years.
const MAX_UNIX_SECS: u64 = 253_402_300_799;

/// Writes `s` as a JSON string, quotes included.
pub(crate) fn push_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    push_str_content(out, s);
    out.push(b'"');
}

/// [`push_str`] for the UTF-8 bytes of a string.
pub(crate) fn push_utf8(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    push_bytes_content(out, bytes);
    out.push(b'"');
}

/// Writes `"key":"value"`, both escaped.
pub(crate) fn push_str_entry(out: &mut Vec<u8>, key: &str, value: &str) {
    out.push(b'"');
    push_str_content(out, key);
    out.extend_from_slice(b"\":\"");
    push_str_content(out, value);
    out.push(b'"');
}

/// Writes `prefix` as it is (JSON this crate spells, ending in an opening quote, such as
/// `,"key":"`), then `value` escaped and the closing quote.
#[inline]
pub(crate) fn push_after(out: &mut Vec<u8>, prefix: &[u8], value: &str) {
    out.extend_from_slice(prefix);
    push_str_content(out, value);
    out.push(b'"');
}

/// Writes the concatenation of `parts` as one JSON string, quotes included, without
/// allocating the concatenation.
pub(crate) fn push_str_parts(out: &mut Vec<u8>, parts: &[&str]) {
    out.push(b'"');
    for part in parts {
        push_str_content(out, part);
    }
    out.push(b'"');
}

/// Strings up to this long are copied byte by byte while checked.
const SHORT: usize = 8;

/// Writes `s` escaped, without quotes.
fn push_str_content(out: &mut Vec<u8>, s: &str) {
    push_bytes_content(out, s.as_bytes());
}

/// Writes the UTF-8 bytes of a string escaped, without quotes.
#[inline]
fn push_bytes_content(out: &mut Vec<u8>, bytes: &[u8]) {
    if bytes.len() <= SHORT {
        // Checked and gathered into one word in one pass; the word is written whole (no
        // copy call) and the length cut back to the string's. (A byte-by-byte copy into a
        // buffer would be turned back into a copy call.)
        let mut word = 0u64;
        let mut escapes = false;
        for (i, &b) in bytes.iter().enumerate() {
            word |= u64::from(b) << (8 * i);
            escapes |= needs_escape(b);
        }
        if !escapes {
            let end = out.len() + bytes.len();
            out.extend_from_slice(&word.to_le_bytes());
            out.truncate(end);
            return;
        }
    }
    // Most strings (ids, names, paths) need no escaping: copy them in one go.
    if !any_needs_escape(bytes) {
        out.extend_from_slice(bytes);
        return;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if !needs_escape(b) {
            continue;
        }
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            _ => b"",
        };
        out.extend_from_slice(bytes.get(start..i).unwrap_or_default());
        if escape.is_empty() {
            push_unicode_escape(out, b);
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(bytes.get(start..).unwrap_or_default());
}

#[expect(
    clippy::indexing_slicing,
    reason = "indexing in this const initialiser is bounded by the loop and evaluated at compile time"
)]
/// Bytes JSON strings must escape: controls, `"`, `\\`, and DEL (escaped for safety).
static NEEDS_ESCAPE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table[0x7f] = true;
    table
};

/// Whether any byte of `bytes` needs escaping, eight bytes at a time (SWAR): a byte needs it
/// when it is below 0x20, `"`, `\\` or DEL.
pub(crate) fn any_needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // Sets the high bit of each byte of `x` that is zero (exact when no byte of x is >= 0x80
    // after the xor, and otherwise only too eager, which the slow path double-checks).
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        let below_space = x.wrapping_sub(ONES * 0x20) & !x & HIGHS;
        let hits = below_space
            | has_zero(x ^ (ONES * u64::from(b'"')))
            | has_zero(x ^ (ONES * u64::from(b'\\')))
            | has_zero(x ^ (ONES * 0x7f));
        if hits != 0 && chunk.iter().any(|&b| needs_escape(b)) {
            return true;
        }
    }
    chunks.remainder().iter().any(|&b| needs_escape(b))
}

#[inline]
fn needs_escape(b: u8) -> bool {
    // A 256-entry table indexed by a byte: always in bounds.
    NEEDS_ESCAPE.get(usize::from(b)).copied().unwrap_or(true)
}

fn push_unicode_escape(out: &mut Vec<u8>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.extend_from_slice(b"\\u00");
    for nibble in [b >> 4, b & 0xf] {
        out.push(HEX.get(usize::from(nibble)).copied().unwrap_or(b'0'));
    }
}

/// Writes `"key":` for a key this crate spells (plain ASCII, nothing to escape): no scan.
pub(crate) fn push_key(out: &mut Vec<u8>, key: &str) {
    debug_assert!(!any_needs_escape(key.as_bytes()), "not plain: {key:?}");
    out.push(b'"');
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
}

/// Writes `"key":` for a key from outside (a field name, a baggage key), escaped.
pub(crate) fn push_any_key(out: &mut Vec<u8>, key: &str) {
    push_str(out, key);
    out.push(b':');
}

/// Writes `s` as a JSON string without scanning it for escapes: only for text this crate
/// produced itself and knows to be plain ASCII without `"` or `\\` (hex ids).
pub(crate) fn push_plain_str(out: &mut Vec<u8>, s: &str) {
    debug_assert!(!s.bytes().any(needs_escape), "not plain: {s:?}");
    out.push(b'"');
    out.extend_from_slice(s.as_bytes());
    out.push(b'"');
}

/// Writes an unsigned integer.
pub(crate) fn push_u64(out: &mut Vec<u8>, n: u64) {
    if n < 10 {
        out.push(b'0' + n as u8);
        return;
    }
    if n < 10_000 {
        // Fixed-size copies for the small numbers span data mostly holds.
        let [c, d] = digit_pair((n % 100) as u32);
        match n {
            0..=99 => out.extend_from_slice(&[c, d]),
            100..=999 => out.extend_from_slice(&[b'0' + (n / 100) as u8, c, d]),
            _ => {
                let [a, b] = digit_pair((n / 100) as u32);
                out.extend_from_slice(&[a, b, c, d]);
            }
        }
        return;
    }
    // Digits are produced backwards into a stack buffer, two at a time.
    let mut digits = [b'0'; 20];
    let mut i = digits.len();
    let mut n = n;
    while n >= 10 {
        if let Some(pair) = digits.get_mut(i.saturating_sub(2)..i) {
            pair.copy_from_slice(&digit_pair((n % 100) as u32));
        }
        i = i.saturating_sub(2);
        n /= 100;
    }
    if n > 0 {
        i = i.saturating_sub(1);
        if let Some(d) = digits.get_mut(i) {
            *d = b'0' + n as u8;
        }
    }
    out.extend_from_slice(digits.get(i..).unwrap_or_default());
}

/// Writes a signed integer.
pub(crate) fn push_i64(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    push_u64(out, n.unsigned_abs());
}

/// Writes a float as a JSON number, or as the string `"NaN"`, `"Infinity"` or `"-Infinity"`
/// (JSON has no non-finite numbers).
pub(crate) fn push_f64(out: &mut Vec<u8>, f: f64) {
    use std::io::Write as _;
    if f.is_nan() {
        push_str(out, "NaN");
    } else if f.is_infinite() {
        push_str(out, if f > 0.0 { "Infinity" } else { "-Infinity" });
    } else {
        // `Debug` writes the shortest round-tripping form: `1.0`, `0.1`, `1e300`, `-0.0`, all of
        // which are JSON numbers. Writing into a `Vec` cannot fail.
        let _ = write!(out, "{f:?}");
    }
}

/// Writes a time since the epoch as float seconds to the microsecond: the JSON text
/// [`push_f64`] writes for `secs as f64 + micros as f64 / 1e6`, without float formatting.
///
/// From `2^13` seconds after the epoch to `2^32` (year 2106), doubles are under a microsecond
/// apart, and no decimal `secs.micros` lies near enough to the midpoint of two of them for
/// the rounding of `micros / 1e6` to matter: the sum is the double nearest `secs.micros`, and
/// its shortest round-tripping text is that decimal (at least one fractional digit, trailing
/// zeros cut). Other times (never a real clock's) go through [`push_f64`].
pub(crate) fn push_epoch_seconds(out: &mut Vec<u8>, since: Duration) {
    let (secs, micros) = (since.as_secs(), since.subsec_micros());
    if !(1 << 13..1 << 32).contains(&secs) {
        push_f64(out, secs as f64 + f64::from(micros) / 1e6);
        return;
    }
    push_u64(out, secs);
    let [a, b] = digit_pair(micros / 10_000);
    let [c, d] = digit_pair(micros / 100 % 100);
    let [e, f] = digit_pair(micros % 100);
    let fraction = [b'.', a, b, c, d, e, f];
    // The point and one digit always; then up to the last non-zero digit.
    let len = fraction
        .iter()
        .rposition(|&digit| digit != b'0')
        .map_or(2, |last| last.max(1) + 1);
    out.extend_from_slice(fraction.get(..len).unwrap_or(b".0"));
}

/// Writes `true` or `false`.
pub(crate) fn push_bool(out: &mut Vec<u8>, b: bool) {
    out.extend_from_slice(if b { b"true" } else { b"false" });
}

/// Writes `t` as an RFC 3339 UTC timestamp with microseconds, unquoted (for a single
/// timestamp; a sender writing many uses a [`Timestamps`]).
pub(crate) fn push_rfc3339(out: &mut Vec<u8>, t: SystemTime) {
    let mut quoted = Vec::with_capacity(29);
    Timestamps::default().push(&mut quoted, t);
    out.extend_from_slice(quoted.get(1..quoted.len() - 1).unwrap_or_default());
}

/// Writes quoted RFC 3339 UTC timestamps with microseconds, e.g.
/// `"2026-11-24T14:32:22.849756Z"`, remembering the date and time of the last second it
/// wrote: the spans of a transaction mostly share their second, so only the microseconds are
/// formatted again.
///
/// Times before 1970 are written as the epoch and times after year 9999 as its last
/// microsecond; neither occurs with a sane clock.
#[derive(Clone, Debug)]
pub(crate) struct Timestamps {
    /// The second of `text`, or `u64::MAX` before the first timestamp.
    secs: u64,
    /// `"YYYY-MM-DDTHH:MM:SS.000000Z"` for `secs`: the microseconds are filled in per
    /// timestamp.
    text: [u8; 29],
}

impl Default for Timestamps {
    fn default() -> Self {
        Self {
            secs: u64::MAX,
            text: *b"\"1970-01-01T00:00:00.000000Z\"",
        }
    }
}

impl Timestamps {
    /// Writes `t`, quoted.
    pub(crate) fn push(&mut self, out: &mut Vec<u8>, t: SystemTime) {
        out.extend_from_slice(&self.quoted(t));
    }

    /// Writes `,"start_timestamp":"…","timestamp":"…"` (a span's or an event's) in one copy.
    #[cfg(test)]
    pub(crate) fn push_start_and_end(
        &mut self,
        out: &mut Vec<u8>,
        start: SystemTime,
        end: SystemTime,
    ) {
        self.push_pair(out, unix_parts(start), unix_parts(end));
    }

    /// [`push_start_and_end`](Self::push_start_and_end) for a span's monotonic instants,
    /// turned into wall-clock times by `clock` (an end before the start is taken as the
    /// start: Relay drops a span that ends before it starts).
    pub(crate) fn push_span_times(
        &mut self,
        out: &mut Vec<u8>,
        clock: &EpochClock,
        start: Instant,
        end: Instant,
    ) {
        let (start, end) = clock.span(start, end);
        self.push_pair(out, epoch_parts(start), epoch_parts(end));
    }

    #[inline]
    fn push_pair(&mut self, out: &mut Vec<u8>, start: (u64, u32), end: (u64, u32)) {
        // Assembled on the stack and written in one fixed-size copy.
        const START: &[u8; 19] = br#","start_timestamp":"#;
        const END: &[u8; 13] = br#","timestamp":"#;
        let start = self.quoted_parts(start);
        let end = self.quoted_parts(end);
        let mut pair = [0u8; 19 + 29 + 13 + 29];
        if let Some((head, rest)) = pair.split_first_chunk_mut::<19>() {
            *head = *START;
            if let Some((first, rest)) = rest.split_first_chunk_mut::<29>() {
                *first = start;
                if let Some((middle, rest)) = rest.split_first_chunk_mut::<13>() {
                    *middle = *END;
                    if let Some(last) = rest.first_chunk_mut::<29>() {
                        *last = end;
                    }
                }
            }
        }
        out.extend_from_slice(&pair);
    }

    /// `t`, quoted.
    #[inline]
    fn quoted(&mut self, t: SystemTime) -> [u8; 29] {
        self.quoted_parts(unix_parts(t))
    }

    /// The time `secs` seconds and `micros` microseconds after the epoch, quoted.
    #[inline]
    fn quoted_parts(&mut self, (secs, micros): (u64, u32)) -> [u8; 29] {
        if secs != self.secs {
            self.set_second(secs);
        }
        // Below a million: three pairs of digits.
        let high = micros / 10_000;
        let rest = micros % 10_000;
        let [a, b] = digit_pair(high);
        let [c, d] = digit_pair(rest / 100);
        let [e, f] = digit_pair(rest % 100);
        let mut quoted = self.text;
        if let Some(digits) = quoted.get_mut(21..27) {
            digits.copy_from_slice(&[a, b, c, d, e, f]);
        }
        quoted
    }

    #[cold]
    fn set_second(&mut self, secs: u64) {
        let (year, month, day) = civil_from_days(secs / SECS_PER_DAY);
        let of_day = (secs % SECS_PER_DAY) as u32;
        // Years have four digits: `secs` is at most `MAX_UNIX_SECS`.
        let year = year.min(9999) as u32;
        let [y0, y1] = digit_pair(year / 100);
        let [y2, y3] = digit_pair(year % 100);
        let [m0, m1] = digit_pair(month);
        let [d0, d1] = digit_pair(day);
        let [h0, h1] = digit_pair(of_day / 3600);
        let [i0, i1] = digit_pair(of_day / 60 % 60);
        let [s0, s1] = digit_pair(of_day % 60);
        let head = [
            b'"', y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1, b'T', h0, h1, b':', i0, i1, b':', s0,
            s1,
        ];
        if let Some(text) = self.text.get_mut(..20) {
            text.copy_from_slice(&head);
        }
        self.secs = secs;
    }
}

/// The seconds and microseconds of `t` since the epoch, as [`Timestamps`] writes them: the
/// epoch for a time before it, the last microsecond of year 9999 for one after.
fn unix_parts(t: SystemTime) -> (u64, u32) {
    match t.duration_since(UNIX_EPOCH) {
        Ok(since) => epoch_parts(since),
        Err(_) => (0, 0),
    }
}

/// [`unix_parts`] of a time since the epoch.
#[inline]
fn epoch_parts(since: Duration) -> (u64, u32) {
    if since.as_secs() <= MAX_UNIX_SECS {
        (since.as_secs(), since.subsec_micros())
    } else {
        (MAX_UNIX_SECS, 999_999)
    }
}

/// A [`Clock`] read as the time since the epoch at its anchor instant: an instant's time is
/// then one monotonic subtraction and one addition of durations, with no wall-clock
/// arithmetic per timestamp. The same times as [`Clock::wall`], to the nanosecond.
#[derive(Clone, Copy, Debug)]
pub(crate) struct EpochClock {
    clock: Clock,
    mono: Instant,
    /// The anchor's time since the epoch (`None` before it: such times take the slow path).
    epoch: Option<Duration>,
}

impl EpochClock {
    pub(crate) fn new(clock: &Clock) -> Self {
        let (wall, mono) = clock.anchor();
        Self {
            clock: *clock,
            mono,
            epoch: wall.duration_since(UNIX_EPOCH).ok(),
        }
    }

    /// The times since the epoch of a span's start and end, an end before the start taken as
    /// the start (Relay drops a span that ends before it starts); zero for a time before the
    /// epoch.
    #[inline]
    pub(crate) fn span(&self, start: Instant, end: Instant) -> (Duration, Duration) {
        self.fast_span(start, end)
            .unwrap_or_else(|| self.wall_span(start, end))
    }

    /// [`span`](Self::span) by durations only, or `None` for an instant before the anchor, an
    /// anchor before the epoch or a time beyond `Duration`.
    #[inline]
    fn fast_span(&self, start: Instant, end: Instant) -> Option<(Duration, Duration)> {
        let since_start = self
            .epoch?
            .checked_add(start.checked_duration_since(self.mono)?)?;
        let since_end = since_start.checked_add(end.saturating_duration_since(start))?;
        Some((since_start, since_end))
    }

    /// [`span`](Self::span) through the clock's wall-clock times.
    #[cold]
    fn wall_span(&self, start: Instant, end: Instant) -> (Duration, Duration) {
        let since = |t: SystemTime| t.duration_since(UNIX_EPOCH).unwrap_or_default();
        (
            since(self.clock.wall(start)),
            since(self.clock.wall(end.max(start))),
        )
    }
}

/// The two decimal digits of `n`, below 100 (`00` otherwise).
#[inline]
fn digit_pair(n: u32) -> [u8; 2] {
    DIGIT_PAIRS.get(n as usize).copied().unwrap_or([b'0'; 2])
}

/// `00` to `99`.
#[expect(
    clippy::indexing_slicing,
    reason = "indexing in this const initialiser is bounded by the loop and evaluated at compile time"
)]
static DIGIT_PAIRS: [[u8; 2]; 100] = {
    let mut table = [[0u8; 2]; 100];
    let mut n = 0;
    while n < 100 {
        table[n] = [b'0' + (n / 10) as u8, b'0' + (n % 10) as u8];
        n += 1;
    }
    table
};

/// Returns `t` formatted as [`push_rfc3339`] does.
#[cfg(test)]
pub(crate) fn rfc3339(t: SystemTime) -> String {
    let mut out = Vec::with_capacity(27);
    push_rfc3339(&mut out, t);
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Just;
    use std::time::Duration;

    fn at(secs: u64, micros: u32) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_micros(u64::from(micros))
    }

    #[test]
    fn timestamps_match_known_dates() {
        #[rustfmt::skip]
        let table = [
            (0, 0, "1970-01-01T00:00:00.000000Z"),
            (951_782_400, 0, "2000-02-29T00:00:00.000000Z"),          // leap day of a /400 year
            (951_868_799, 999_999, "2000-02-29T23:59:59.999999Z"),
            (1_583_020_800, 0, "2020-03-01T00:00:00.000000Z"),        // day after a leap day
            (1_595_256_674, 296_000, "2020-07-20T14:51:14.296000Z"),  // sentry-types test_transaction
            (1_709_251_199, 0, "2024-02-29T23:59:59.000000Z"),
            (1_798_761_599, 1, "2026-12-31T23:59:59.000001Z"),
            (1_795_530_742, 849_756, "2026-11-24T14:32:22.849756Z"),  // spec 7.2 sent_at
            (4_102_444_800, 0, "2100-01-01T00:00:00.000000Z"),        // 2100 is not a leap year
            (4_107_542_400, 0, "2100-03-01T00:00:00.000000Z"),
            (MAX_UNIX_SECS, 999_999, "9999-12-31T23:59:59.999999Z"),
        ];
        for (secs, micros, want) in table {
            assert_eq!(rfc3339(at(secs, micros)), want, "{secs}.{micros}");
        }
    }

    #[test]
    fn out_of_range_times_are_clamped() {
        assert_eq!(
            rfc3339(UNIX_EPOCH - Duration::from_secs(5)),
            "1970-01-01T00:00:00.000000Z"
        );
        assert_eq!(
            rfc3339(at(MAX_UNIX_SECS + 86_400 * 1000, 5)),
            "9999-12-31T23:59:59.999999Z"
        );
    }

    #[test]
    fn the_word_at_a_time_scan_agrees_with_the_byte_table() {
        // Every byte value at every position of strings up to 17 bytes long.
        for len in 1..=17 {
            for pos in 0..len {
                for b in 0..=255u8 {
                    let mut bytes = vec![b'a'; len];
                    bytes[pos] = b;
                    assert_eq!(
                        any_needs_escape(&bytes),
                        needs_escape(b),
                        "byte {b:#x} at {pos} of {len}"
                    );
                }
            }
        }
        assert!(!any_needs_escape(b""));
    }

    #[test]
    fn strings_are_escaped_into_valid_json() {
        for s in [
            "plain",
            "quote\"back\\slash",
            "nl\ncr\rtab\t",
            "\u{0}\u{1f}\u{7f}",
            "ünïcødé ✓",
            "",
        ] {
            let mut out = Vec::new();
            push_str(&mut out, s);
            let back: String = serde_json::from_slice(&out).unwrap();
            assert_eq!(back, s);
        }
    }

    #[test]
    fn numbers_are_valid_json() {
        for f in [
            0.0,
            -0.0,
            1.0,
            0.1,
            1e300,
            -1e-300,
            f64::MAX,
            f64::MIN_POSITIVE,
        ] {
            let mut out = Vec::new();
            push_f64(&mut out, f);
            let back: f64 = serde_json::from_slice(&out).unwrap();
            assert_eq!(back, f);
        }
        for (f, s) in [
            (f64::NAN, "\"NaN\""),
            (f64::INFINITY, "\"Infinity\""),
            (f64::NEG_INFINITY, "\"-Infinity\""),
        ] {
            let mut out = Vec::new();
            push_f64(&mut out, f);
            assert_eq!(out, s.as_bytes());
        }
        for n in [0, 1, -1, i64::MIN, i64::MAX] {
            let mut out = Vec::new();
            push_i64(&mut out, n);
            assert_eq!(String::from_utf8(out).unwrap(), n.to_string());
        }
        let mut out = Vec::new();
        push_u64(&mut out, u64::MAX);
        assert_eq!(String::from_utf8(out).unwrap(), u64::MAX.to_string());
        // Every small number (each has its own fixed-size path) and the edges above them.
        for n in (0..=20_000).chain([99_999, 100_000, 1_000_000, 10_000_001]) {
            let mut out = Vec::new();
            push_u64(&mut out, n);
            assert_eq!(String::from_utf8(out).unwrap(), n.to_string());
        }
    }

    /// Reads `YYYY-MM-DDTHH:MM:SS.ffffffZ` back into seconds and microseconds, with the
    /// calendar's own inverse (`days_from_civil`).
    fn parse_rfc3339(text: &str) -> (u64, u32) {
        let num = |range: std::ops::Range<usize>| text[range].parse::<u64>().unwrap();
        let days = crate::export::wire::calendar::days_from_civil(
            num(0..4),
            num(5..7) as u32,
            num(8..10) as u32,
        )
        .unwrap();
        let secs = days * SECS_PER_DAY + num(11..13) * 3600 + num(14..16) * 60 + num(17..19);
        assert_eq!(&text[19..20], ".");
        assert_eq!(&text[26..], "Z");
        (secs, num(20..26) as u32)
    }

    #[test]
    fn epoch_seconds_match_known_floats() {
        for (secs, micros, want) in [
            (1_795_530_742, 849_756, "1795530742.849756"),
            (1_795_530_742, 0, "1795530742.0"),
            (1_795_530_742, 500_000, "1795530742.5"),
            (1_795_530_742, 1, "1795530742.000001"),
            (8192, 100, "8192.0001"),
            (0, 1, "1e-6"),
            (1, 999_999, "1.9999989999999999"),
            ((1 << 32) - 1, 999_999, "4294967295.999999"),
        ] {
            let mut out = Vec::new();
            push_epoch_seconds(&mut out, Duration::new(secs, micros * 1000));
            assert_eq!(String::from_utf8(out).unwrap(), want, "{secs}.{micros}");
        }
    }

    proptest::proptest! {
        /// The decimal text is the float's, for the times it covers and around its limits.
        #[test]
        fn epoch_seconds_are_written_as_the_float_would_be(
            secs in proptest::prop_oneof![
                0u64..100,
                8_092u64..8_292,
                1_000_000_000u64..2_500_000_000,
                (1u64 << 32) - 100..(1u64 << 32) + 100,
                0u64..1 << 40,
            ],
            micros in proptest::prop_oneof![0u32..1_000_000, Just(0), Just(999_999)],
            nanos in 0u32..1000,
        ) {
            let mut fast = Vec::new();
            push_epoch_seconds(&mut fast, Duration::new(secs, micros * 1000 + nanos));
            let mut float = Vec::new();
            push_f64(&mut float, secs as f64 + f64::from(micros) / 1e6);
            proptest::prop_assert_eq!(String::from_utf8(fast).unwrap(), String::from_utf8(float).unwrap());
        }

        /// A span's times by durations are its local root clock's wall-clock times, the end
        /// taken as the start when it is before it, also for instants before the anchor.
        #[test]
        fn span_times_by_durations_are_the_clocks_wall_times(
            anchor_secs in 0u64..4_000_000_000,
            anchor_nanos in 0u32..1_000_000_000,
            start_after in -5_000_000_000i64..5_000_000_000,
            lasted in -2_000_000_000i64..5_000_000_000,
        ) {
            let base = Instant::now() + Duration::from_secs(10);
            let shift = |at: Instant, nanos: i64| {
                if nanos >= 0 {
                    at + Duration::from_nanos(nanos.unsigned_abs())
                } else {
                    at - Duration::from_nanos(nanos.unsigned_abs())
                }
            };
            let wall = UNIX_EPOCH + Duration::new(anchor_secs, anchor_nanos);
            let clock = Clock::new(wall, base);
            let start = shift(base, start_after);
            let end = shift(start, lasted);
            let since = |t: SystemTime| t.duration_since(UNIX_EPOCH).unwrap_or_default();
            let want = (since(clock.wall(start)), since(clock.wall(end.max(start))));
            proptest::prop_assert_eq!(EpochClock::new(&clock).span(start, end), want);
        }

        /// One writer reused over many timestamps (its remembered second changing or not)
        /// writes each as it is.
        #[test]
        fn a_reused_timestamp_writer_writes_every_instant(
            instants in proptest::collection::vec((0..=MAX_UNIX_SECS, 0..1_000_000u32), 1..8),
        ) {
            let mut writer = Timestamps::default();
            for (secs, micros) in instants {
                for _ in 0..2 {
                    let mut out = Vec::new();
                    writer.push(&mut out, at(secs, micros));
                    let text = String::from_utf8(out).unwrap();
                    let unquoted = text.strip_prefix('"').and_then(|t| t.strip_suffix('"'));
                    proptest::prop_assert_eq!(parse_rfc3339(unquoted.unwrap()), (secs, micros));
                }
                // The pair of a span, the end one microsecond later.
                let mut out = b"{\"x\":0".to_vec();
                let start = at(secs, micros);
                writer.push_start_and_end(&mut out, start, start + Duration::from_micros(1));
                out.push(b'}');
                let fields: serde_json::Value = serde_json::from_slice(&out).unwrap();
                let read = |key: &str| parse_rfc3339(fields[key].as_str().unwrap());
                let end = if micros + 1 == 1_000_000 {
                    (secs + 1, 0)
                } else {
                    (secs, micros + 1)
                };
                proptest::prop_assert_eq!(read("start_timestamp"), (secs, micros));
                if secs < MAX_UNIX_SECS || micros < 999_999 {
                    proptest::prop_assert_eq!(read("timestamp"), end);
                }
            }
        }

        #[test]
        fn integers_are_written_as_rust_writes_them(n: u64, i: i64) {
            let mut out = Vec::new();
            push_u64(&mut out, n);
            out.push(b' ');
            push_i64(&mut out, i);
            proptest::prop_assert_eq!(String::from_utf8(out).unwrap(), format!("{n} {i}"));
        }

        /// Short and long strings, with and without bytes to escape, read back as written.
        #[test]
        fn strings_read_back_as_written(s in "\\PC{0,20}|[ -~]{0,12}|[\\x00-\\x7f]{0,12}") {
            let mut out = b"[1,".to_vec();
            push_str(&mut out, &s);
            out.push(b']');
            let back: (u8, String) = serde_json::from_slice(&out).unwrap();
            proptest::prop_assert_eq!(&back.1, &s);
            let mut entry = b"{".to_vec();
            push_str_entry(&mut entry, &s, &back.1);
            entry.push(b'}');
            let object: serde_json::Map<String, serde_json::Value> =
                serde_json::from_slice(&entry).unwrap();
            proptest::prop_assert_eq!(object.get(&s).and_then(|v| v.as_str()), Some(&s[..]));
        }

        #[test]
        fn ids_the_writers_copy_are_lowercase_hex_pairs(bytes: [u8; 16]) {
            // The writers copy `TraceId::to_hex`/`SpanId::to_hex` unescaped into JSON.
            let want: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            let trace_id = crate::id::TraceId::from_bytes(bytes).to_hex();
            proptest::prop_assert_eq!(&trace_id[..], want.as_bytes());
            let mut eight = [0u8; 8];
            eight.copy_from_slice(&bytes[..8]);
            let span_id = crate::id::SpanId::from_bytes(eight).to_hex();
            proptest::prop_assert_eq!(&span_id[..], &want.as_bytes()[..16]);
        }
    }
}
