//! The `sentry-trace` header (spec section 1).
//!
//! Grammar accepted for one element (spec 1.4, the crate's acceptance rule):
//!
//! ```text
//! element  = OWS traceid "-" spanid [ "-" sampled ] OWS
//! traceid  = 32HEXDIG        ; either case on input, lowercase on output
//! spanid   = 16HEXDIG
//! sampled  = "1" / "0"       ; absent = deferred
//! OWS      = *( SP / HTAB )
//! ```
//!
//! Every lenient form some SDK accepts (a flag alone, a trace id alone, a trailing `-`, other flag
//! characters, extra components, the 4-part `traceparent` form, a 16-digit trace id) is rejected,
//! which the caller treats as "no incoming trace".

use std::cell::RefCell;
use std::fmt;
use std::str::FromStr;

use http::HeaderValue;

use crate::id::{SpanId, TraceId};

/// Decodes `2 * N` hex digits (either case; `N` a multiple of 4) into `N` bytes, eight digits at
/// a time; `None` if `hex` has another length or holds anything but hex digits.
#[inline(always)]
fn decode_hex_words<const N: usize>(hex: &[u8]) -> Option<[u8; N]> {
    if hex.len() != 2 * N {
        return None;
    }
    let mut out = [0; N];
    for (bytes, digits) in out.chunks_exact_mut(4).zip(hex.chunks_exact(8)) {
        let digits = <[u8; 8]>::try_from(digits).ok()?;
        bytes.copy_from_slice(&decode_hex8(u64::from_le_bytes(digits))?);
    }
    Some(out)
}

/// Decodes eight hex digits (either case), the first in the lowest byte of `w`, into four bytes;
/// `None` if one of them is not a hex digit.
///
/// Every byte is below 0x80 once the high bits are checked, so adding `0x80 - lo` to each sets
/// its high bit exactly when it is at least `lo`, and no sum carries into the next byte.
#[inline(always)]
fn decode_hex8(w: u64) -> Option<[u8; 4]> {
    const fn rep(b: u8) -> u64 {
        0x0101_0101_0101_0101 * b as u64
    }
    const HIGHS: u64 = rep(0x80);
    let at_least = |x: u64, lo: u8| x.wrapping_add(rep(0x80 - lo)) & HIGHS;
    if w & HIGHS != 0 {
        return None;
    }
    let digit = at_least(w, b'0') & !at_least(w, b'9' + 1);
    let lower = w | rep(0x20);
    let letter = at_least(lower, b'a') & !at_least(lower, b'f' + 1);
    if digit | letter != HIGHS {
        return None;
    }
    // `0`-`9` are 0x30-0x39 and `a`-`f`/`A`-`F` end in 1-6: the low nibble, plus 9 for a letter.
    let nibbles = (w & rep(0x0f)) + (letter >> 7) * 9;
    // Each 16-bit lane: its first digit's nibble above its second's, in its low byte.
    const LOW_NIBBLES: u64 = 0x000f_000f_000f_000f;
    let pairs = ((nibbles & LOW_NIBBLES) << 4) | ((nibbles >> 8) & LOW_NIBBLES);
    let pairs = (pairs | (pairs >> 8)) & 0x0000_ffff_0000_ffff;
    let pairs = (pairs | (pairs >> 16)) & 0xffff_ffff;
    Some((pairs as u32).to_le_bytes())
}

/// The longest element [`SentryTrace::from_str`] looks at. A valid element is at most 51 bytes;
/// the slack allows generous surrounding whitespace while keeping the work per header bounded.
const MAX_ELEMENT_LEN: usize = 256;

/// A parsed `sentry-trace` value: `{trace_id}-{span_id}[-{1|0}]`.
///
/// `Display` writes the wire form with lowercase ids, plus `-1` or `-0` only when a sampling
/// decision exists. `parse(display(x)) == x` holds for every value.
///
/// # Examples
///
/// ```
/// use tracing_sentry::SentryTrace;
///
/// let st: SentryTrace = "771A43A4192642F0B136D5159A501700-B7AD6B7169203331-1".parse()?;
/// assert_eq!(st.sampled(), Some(true));
/// assert_eq!(st.to_string(), "771a43a4192642f0b136d5159a501700-b7ad6b7169203331-1");
///
/// // A lone sampling flag is not a trace.
/// assert!("1".parse::<SentryTrace>().is_err());
/// # Ok::<(), tracing_sentry::propagation::ParseSentryTraceError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SentryTrace {
    trace_id: TraceId,
    span_id: SpanId,
    sampled: Option<bool>,
}

/// The error returned when a `sentry-trace` value cannot be parsed.
///
/// Its `Debug` and `Display` show the [kind](SentryTraceErrorKind) and the input's length, never
/// its bytes: headers may carry data callers do not want in their logs.
///
/// # Examples
///
/// ```
/// use tracing_sentry::propagation::SentryTraceErrorKind;
/// use tracing_sentry::SentryTrace;
///
/// let err = "771a43a4192642f0b136d5159a501700-b7ad6b7169203331-2"
///     .parse::<SentryTrace>()
///     .unwrap_err();
/// assert_eq!(err.kind(), SentryTraceErrorKind::Sampled);
/// assert!(!err.to_string().contains("771a43a4"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ParseSentryTraceError {
    kind: SentryTraceErrorKind,
    len: usize,
}

/// What was wrong with a `sentry-trace` value.
///
/// # Examples
///
/// ```
/// use tracing_sentry::propagation::SentryTraceErrorKind;
/// use tracing_sentry::SentryTrace;
///
/// assert_eq!("771a43a4192642f0b136d5159a501700-b7ad6b7169203331-".parse::<SentryTrace>().unwrap_err().kind(), SentryTraceErrorKind::Sampled);
/// assert_eq!("".parse::<SentryTrace>().unwrap_err().kind(), SentryTraceErrorKind::Empty);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SentryTraceErrorKind {
    /// No non-empty value.
    Empty,
    /// Not of the form `trace-span[-flag]`: no `-` at all, or more than three components.
    Format,
    /// The trace id was not 32 hex digits.
    TraceId,
    /// The span id was not 16 hex digits.
    SpanId,
    /// The sampled flag was not `1` or `0`.
    Sampled,
    /// The value was longer than any valid header (more than 256 bytes).
    TooLong,
}

// === impl SentryTrace ===

impl SentryTrace {
    /// Creates a value from its parts; `sampled: None` means the decision is deferred.
    ///
    /// # Examples
    ///
    /// ```
    /// use tracing_sentry::{SentryTrace, SpanId, TraceId};
    ///
    /// let st = SentryTrace::new(TraceId::from_bytes([1; 16]), SpanId::from_bytes([2; 8]), None);
    /// assert_eq!(st.to_string(), "01010101010101010101010101010101-0202020202020202");
    /// ```
    pub const fn new(trace_id: TraceId, span_id: SpanId, sampled: Option<bool>) -> Self {
        Self {
            trace_id,
            span_id,
            sampled,
        }
    }

    /// Returns the trace id.
    ///
    /// # Examples
    ///
    /// ```
    /// let st: tracing_sentry::SentryTrace = "771a43a4192642f0b136d5159a501700-b7ad6b7169203331".parse()?;
    /// assert_eq!(st.trace_id().to_string(), "771a43a4192642f0b136d5159a501700");
    /// # Ok::<(), tracing_sentry::propagation::ParseSentryTraceError>(())
    /// ```
    pub const fn trace_id(&self) -> TraceId {
        self.trace_id
    }

    /// Returns the span id of the remote parent.
    ///
    /// # Examples
    ///
    /// ```
    /// let st: tracing_sentry::SentryTrace = "771a43a4192642f0b136d5159a501700-b7ad6b7169203331".parse()?;
    /// assert_eq!(st.span_id().to_string(), "b7ad6b7169203331");
    /// # Ok::<(), tracing_sentry::propagation::ParseSentryTraceError>(())
    /// ```
    pub const fn span_id(&self) -> SpanId {
        self.span_id
    }

    /// Returns the sampling decision; `None` means deferred.
    ///
    /// # Examples
    ///
    /// ```
    /// use tracing_sentry::SentryTrace;
    ///
    /// assert_eq!("771a43a4192642f0b136d5159a501700-b7ad6b7169203331-0".parse::<SentryTrace>()?.sampled(), Some(false));
    /// assert_eq!("771a43a4192642f0b136d5159a501700-b7ad6b7169203331".parse::<SentryTrace>()?.sampled(), None);
    /// # Ok::<(), tracing_sentry::propagation::ParseSentryTraceError>(())
    /// ```
    pub const fn sampled(&self) -> Option<bool> {
        self.sampled
    }

    /// Applies the acceptance rule (spec 1.4) to all values of the header.
    ///
    /// Each value is split on `,`, each element trimmed of SP/HTAB, and the **first non-empty**
    /// element across all values is parsed as by [`from_str`](Self::from_str). Later elements are
    /// never looked at, even when the first one is invalid.
    ///
    /// Returns `Ok(None)` when there is no non-empty element at all (no header, or only empty
    /// values and commas).
    ///
    /// # Errors
    ///
    /// Returns the [`ParseSentryTraceError`] of the first non-empty element when it is not a valid
    /// `sentry-trace` value.
    ///
    /// # Examples
    ///
    /// ```
    /// use tracing_sentry::SentryTrace;
    ///
    /// let first = "771a43a4192642f0b136d5159a501700-b7ad6b7169203331-1";
    /// let second = "0af7651916cd43dd8448eb211c80319c-b9c7c989f97918e1-0";
    /// let joined = format!(" , {first}, {second}");
    /// let st = SentryTrace::from_header_values([joined.as_str()])?.unwrap();
    /// assert_eq!(st.to_string(), first);
    ///
    /// assert_eq!(SentryTrace::from_header_values(["", " , "])?, None);
    /// assert!(SentryTrace::from_header_values(["garbage", second]).is_err());
    /// # Ok::<(), tracing_sentry::propagation::ParseSentryTraceError>(())
    /// ```
    pub fn from_header_values<'a, I>(values: I) -> Result<Option<Self>, ParseSentryTraceError>
    where
        I: IntoIterator<Item = &'a str>,
    {
        Self::from_maybe_values(values.into_iter().map(Some))
    }

    /// Like [`from_header_values`](Self::from_header_values), where `None` stands for a value
    /// that is not text (a non-ASCII `HeaderValue`). Reaching such a value before any non-empty
    /// element makes the header malformed.
    pub(crate) fn from_maybe_values<'a, I>(values: I) -> Result<Option<Self>, ParseSentryTraceError>
    where
        I: IntoIterator<Item = Option<&'a str>>,
    {
        for value in values {
            let Some(value) = value else {
                return Err(ParseSentryTraceError::new(SentryTraceErrorKind::Format, 0));
            };
            // The usual value: exactly one element.
            if let Some(st) = Self::parse_exact(value.as_bytes()) {
                return Ok(Some(st));
            }
            // Byte scans for `,` (a `str::split` searcher costs more than the short scan).
            let mut rest = value;
            loop {
                let (element, next) = match split_once_byte(rest, b',') {
                    Some((element, next)) => (element, Some(next)),
                    None => (rest, None),
                };
                let element = trim_ows(element);
                if !element.is_empty() {
                    return element.parse().map(Some);
                }
                match next {
                    Some(next) => rest = next,
                    None => break,
                }
            }
        }
        Ok(None)
    }

    /// [`from_maybe_values`](Self::from_maybe_values) for raw header values (such as
    /// `http::HeaderValue` bytes): a value that is not visible ASCII (SP and HTAB allowed) is not
    /// text. The common case, a first value that is exactly one element, is parsed as it is,
    /// with no scan for `,` or OWS.
    pub(crate) fn from_byte_values<'a, I>(values: I) -> Result<Option<Self>, ParseSentryTraceError>
    where
        I: IntoIterator<Item = &'a [u8]>,
    {
        let mut values = values.into_iter();
        let Some(first) = values.next() else {
            return Ok(None);
        };
        if let Some(st) = Self::parse_exact(first) {
            return Ok(Some(st));
        }
        let text = |value: &'a [u8]| {
            let visible = value
                .iter()
                .all(|&b| (0x20..0x7f).contains(&b) || b == b'\t');
            visible.then(|| std::str::from_utf8(value).ok()).flatten()
        };
        Self::from_maybe_values(std::iter::once(first).chain(values).map(text))
    }

    /// Parses `32HEXDIG "-" 16HEXDIG [ "-" ( "1" / "0" ) ]` with nothing around it; `None` for
    /// anything else (which the general path then parses or rejects).
    fn parse_exact(bytes: &[u8]) -> Option<Self> {
        let sampled = match (bytes.len(), bytes.get(49..)) {
            (49, _) => None,
            (51, Some(b"-1")) => Some(true),
            (51, Some(b"-0")) => Some(false),
            _ => return None,
        };
        if bytes.get(32) != Some(&b'-') {
            return None;
        }
        let trace = decode_hex_words::<16>(bytes.get(..32)?)?;
        let span = decode_hex_words::<8>(bytes.get(33..49)?)?;
        Some(Self::new(
            TraceId::from_bytes(trace),
            SpanId::from_bytes(span),
            sampled,
        ))
    }

    /// The header value as an `http::HeaderValue`.
    ///
    /// A span that calls several services sends the same value each time: the last value made
    /// on this thread is kept, and asking again for it costs a comparison and a reference count
    /// instead of encoding, checking and copying 51 bytes into a new allocation. The value is a
    /// function of `self` alone, so the cache can never answer with another span's value; it
    /// holds one value per thread.
    pub(crate) fn header_value(&self) -> Option<HeaderValue> {
        thread_local! {
            static LAST: RefCell<Option<(SentryTrace, HeaderValue)>> = const { RefCell::new(None) };
        }
        LAST.try_with(|last| {
            let mut last = last.try_borrow_mut().ok()?;
            if let Some((key, value)) = last.as_ref() {
                if key == self {
                    return Some(value.clone());
                }
            }
            let value = self.new_header_value()?;
            *last = Some((*self, value.clone()));
            Some(value)
        })
        .unwrap_or_else(|_| self.new_header_value())
    }

    /// [`header_value`](Self::header_value) without the cache.
    fn new_header_value(&self) -> Option<HeaderValue> {
        let mut buf = [0; 51];
        HeaderValue::from_bytes(self.encode_bytes(&mut buf)).ok()
    }

    /// Writes the header value into a stack buffer (at most 51 bytes) and returns it as `&str`.
    pub(crate) fn encode<'b>(&self, buf: &'b mut [u8; 51]) -> &'b str {
        // Only ASCII hex digits and `-` are written.
        std::str::from_utf8(self.encode_bytes(buf)).unwrap_or_default()
    }

    /// [`encode`](Self::encode) as bytes, for a header value (which checks them anyway).
    pub(crate) fn encode_bytes<'b>(&self, buf: &'b mut [u8; 51]) -> &'b [u8] {
        let trace = self.trace_id.to_hex();
        let span = self.span_id.to_hex();
        let flag: &[u8] = match self.sampled {
            Some(true) => b"-1",
            Some(false) => b"-0",
            None => b"",
        };
        let len = 32 + 1 + 16 + flag.len();
        let (head, rest) = buf.split_at_mut(32);
        head.copy_from_slice(&trace);
        let (dash, rest) = rest.split_at_mut(1);
        dash.copy_from_slice(b"-");
        let (span_part, rest) = rest.split_at_mut(16);
        span_part.copy_from_slice(&span);
        if let Some(tail) = rest.get_mut(..flag.len()) {
            tail.copy_from_slice(flag);
        }
        buf.get(..len).unwrap_or_default()
    }
}

impl FromStr for SentryTrace {
    type Err = ParseSentryTraceError;

    /// Parses one element: `OWS 32HEXDIG "-" 16HEXDIG [ "-" ( "1" / "0" ) ] OWS`.
    ///
    /// Hex digits may be of either case; they are stored (and written) lowercase.
    ///
    /// # Errors
    ///
    /// Returns a [`ParseSentryTraceError`] naming the first part that is wrong; inputs over 256
    /// bytes are rejected as [`TooLong`](SentryTraceErrorKind::TooLong) without being scanned.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match Self::parse_exact(s.as_bytes()) {
            Some(st) => Ok(st),
            None => Self::parse_element(s),
        }
    }
}

impl SentryTrace {
    /// [`from_str`](Self::from_str) without the shortcut for exact elements.
    fn parse_element(s: &str) -> Result<Self, ParseSentryTraceError> {
        let err = |kind| ParseSentryTraceError::new(kind, s.len());
        if s.len() > MAX_ELEMENT_LEN {
            return Err(err(SentryTraceErrorKind::TooLong));
        }
        let element = trim_ows(s);
        if element.is_empty() {
            return Err(err(SentryTraceErrorKind::Empty));
        }
        // `trace-span[-flag]`, split with byte scans; a fourth part is malformed.
        let Some((trace, rest)) = split_once_byte(element, b'-') else {
            return Err(err(SentryTraceErrorKind::Format));
        };
        let (span, flag) = match split_once_byte(rest, b'-') {
            Some((span, flag)) => (span, Some(flag)),
            None => (rest, None),
        };
        if flag.is_some_and(|flag| flag.as_bytes().contains(&b'-')) {
            return Err(err(SentryTraceErrorKind::Format));
        }
        let trace_id = trace
            .parse::<TraceId>()
            .map_err(|_| err(SentryTraceErrorKind::TraceId))?;
        let span_id = span
            .parse::<SpanId>()
            .map_err(|_| err(SentryTraceErrorKind::SpanId))?;
        let sampled = match flag {
            None => None,
            Some("1") => Some(true),
            Some("0") => Some(false),
            Some(_) => return Err(err(SentryTraceErrorKind::Sampled)),
        };
        Ok(Self::new(trace_id, span_id, sampled))
    }
}

impl fmt::Display for SentryTrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0; 51];
        f.write_str(self.encode(&mut buf))
    }
}

/// Trims SP and HTAB (HTTP's OWS), and nothing else.
pub(crate) fn trim_ows(s: &str) -> &str {
    // SP and HTAB are ASCII, so trimming bytes keeps `s` on char boundaries.
    let bytes = s.as_bytes();
    let is_ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = bytes.iter().position(|b| !is_ows(b)).unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !is_ows(b))
        .map_or(start, |i| i + 1);
    s.get(start..end.max(start)).unwrap_or_default()
}

/// Splits `s` at the first `byte` (an ASCII delimiter, so both halves stay valid `str`s).
#[inline]
pub(crate) fn split_once_byte(s: &str, byte: u8) -> Option<(&str, &str)> {
    let i = s.as_bytes().iter().position(|&b| b == byte)?;
    Some((s.get(..i)?, s.get(i + 1..)?))
}

// === impl ParseSentryTraceError ===

impl ParseSentryTraceError {
    pub(crate) const fn new(kind: SentryTraceErrorKind, len: usize) -> Self {
        Self { kind, len }
    }

    /// Returns what was wrong.
    ///
    /// # Examples
    ///
    /// ```
    /// use tracing_sentry::propagation::SentryTraceErrorKind;
    /// use tracing_sentry::SentryTrace;
    ///
    /// let err = "not-a-trace".parse::<SentryTrace>().unwrap_err();
    /// assert_eq!(err.kind(), SentryTraceErrorKind::TraceId);
    /// ```
    pub fn kind(&self) -> SentryTraceErrorKind {
        self.kind
    }
}

impl fmt::Debug for ParseSentryTraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParseSentryTraceError")
            .field("kind", &self.kind)
            .field("len", &self.len)
            .finish()
    }
}

impl fmt::Display for ParseSentryTraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            SentryTraceErrorKind::Empty => "empty value",
            SentryTraceErrorKind::Format => "expected `trace_id-span_id[-sampled]`",
            SentryTraceErrorKind::TraceId => "trace id is not 32 hex digits",
            SentryTraceErrorKind::SpanId => "span id is not 16 hex digits",
            SentryTraceErrorKind::Sampled => "sampled flag is not `1` or `0`",
            SentryTraceErrorKind::TooLong => "value too long",
        };
        write!(f, "invalid sentry-trace value ({} bytes): {what}", self.len)
    }
}

impl std::error::Error for ParseSentryTraceError {}

#[cfg(test)]
#[expect(
    clippy::type_complexity,
    reason = "vector tables are tuples of inputs and expectations"
)]
mod tests {
    use super::*;
    use SentryTraceErrorKind as K;

    /// The word-at-a-time decoder against the table decoder, for every byte at every position.
    #[test]
    fn eight_digits_decode_as_by_the_table() {
        let base = *b"09afAF5c";
        for pos in 0..8 {
            for b in 0..=255u8 {
                let mut digits = base;
                digits[pos] = b;
                let mut expected = [0; 4];
                let expected = crate::id::decode_hex(&digits, &mut expected)
                    .ok()
                    .map(|()| expected);
                let got = decode_hex8(u64::from_le_bytes(digits));
                assert_eq!(got, expected, "digit {b:#04x} at {pos}");
            }
        }
        assert_eq!(
            decode_hex_words::<8>(b"0123456789abcdef"),
            Some([0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef])
        );
        assert_eq!(decode_hex_words::<8>(b"0123456789abcde"), None);
    }

    const T: &str = "d49d9bf66f13450b81f65bc51cf49c03";
    const S: &str = "1cc4b26ab9094ef0";

    #[test]
    fn header_values_follow_every_part_of_the_value_through_the_cache() {
        // Each value differs from the one before it in one part only: a cache keyed on less
        // than the whole value would answer with the previous one.
        for (value, again) in [
            ("d49d9bf66f13450b81f65bc51cf49c03-1cc4b26ab9094ef0-1", true),
            ("d49d9bf66f13450b81f65bc51cf49c03-1cc4b26ab9094ef0-1", false),
            ("d49d9bf66f13450b81f65bc51cf49c03-1cc4b26ab9094ef0-0", true),
            ("d49d9bf66f13450b81f65bc51cf49c03-1cc4b26ab9094ef0", false),
            ("d49d9bf66f13450b81f65bc51cf49c03-1cc4b26ab9094ef1", true),
            ("e49d9bf66f13450b81f65bc51cf49c03-1cc4b26ab9094ef1", false),
        ] {
            let st: SentryTrace = value.parse().unwrap();
            assert_eq!(st.header_value().unwrap(), value);
            if again {
                assert_eq!(st.header_value().unwrap(), value);
            }
        }
    }

    #[rustfmt::skip]
    const VALID: &[(&str, &str, &str, Option<bool>)] = &[
        ("d49d9bf66f13450b81f65bc51cf49c03-1cc4b26ab9094ef0-1", T, S, Some(true)),
        ("d49d9bf66f13450b81f65bc51cf49c03-1cc4b26ab9094ef0-0", T, S, Some(false)),
        ("d49d9bf66f13450b81f65bc51cf49c03-1cc4b26ab9094ef0",   T, S, None),
        ("D49D9BF66F13450B81F65BC51CF49C03-1CC4B26AB9094EF0-1", T, S, Some(true)),   // uppercase, lowercased
        ("D49d9bf66f13450b81f65bc51cf49c03-1cC4b26ab9094ef0",   T, S, None),         // mixed case
        (" \t d49d9bf66f13450b81f65bc51cf49c03-1cc4b26ab9094ef0 \t ", T, S, None),   // SP/HTAB trimmed
        ("00000000000000000000000000000000-0000000000000000",
            "00000000000000000000000000000000", "0000000000000000", None),           // all-zero ids accepted
    ];

    #[rustfmt::skip]
    const INVALID: &[(&str, SentryTraceErrorKind, &str)] = &[
        ("",                                                        K::Empty,   "empty"),
        (" \t ",                                                    K::Empty,   "whitespace only"),
        ("1",                                                       K::Format,  "flag only"),
        ("0",                                                       K::Format,  "flag only"),
        ("d49d9bf66f13450b81f65bc51cf49c03",                        K::Format,  "trace id only"),
        ("d49d9bf66f13450b81f65bc51cf49c031cc4b26ab9094ef0",        K::Format,  "no separators"),
        ("-",                                                       K::TraceId, "single dash"),
        ("d49d9bf66f13450b81f65bc51cf49c03-1cc4b26ab9094ef0-",      K::Sampled, "trailing dash"),
        ("d49d9bf66f13450b81f65bc51cf49c03-1cc4b26ab9094ef0-2",     K::Sampled, "flag 2"),
        ("d49d9bf66f13450b81f65bc51cf49c03-1cc4b26ab9094ef0-11",    K::Sampled, "flag 11"),
        ("d49d9bf66f13450b81f65bc51cf49c03-1cc4b26ab9094ef0-x",     K::Sampled, "flag x"),
        ("d49d9bf66f13450b81f65bc51cf49c03-1cc4b26ab9094ef0-1\n",   K::Sampled, "trailing LF is not OWS"),
        ("d49d9bf66f13450b81f65bc51cf49c03-1cc4b26ab9094ef0-1-extra", K::Format, "extra component"),
        ("00-d49d9bf66f13450b81f65bc51cf49c03-1cc4b26ab9094ef0-01", K::Format,  "traceparent form"),
        ("00-d49d9bf66f13450b81f65bc51cf49c03-1cc4b26ab9094ef0",    K::TraceId, "traceparent without flags"),
        ("81f65bc51cf49c03-1cc4b26ab9094ef0-1",                     K::TraceId, "16-hex trace id (b3)"),
        ("d49d9bf66f13450b81f65bc51cf49c0-1cc4b26ab9094ef0",        K::TraceId, "31-hex trace id"),
        ("d49d9bf66f13450b81f65bc51cf49c03a-1cc4b26ab9094ef0",      K::TraceId, "33-hex trace id"),
        ("d49d9bf66f13450b81f65bc51cf49c0g-1cc4b26ab9094ef0",       K::TraceId, "non-hex trace id"),
        ("d49d9bf66f13450b81f65bc51cf49c03-1cc4b26ab9094ef",        K::SpanId,  "15-hex span id"),
        ("d49d9bf66f13450b81f65bc51cf49c03-1cc4b26ab9094ef0a",      K::SpanId,  "17-hex span id"),
        ("d49d9bf66f13450b81f65bc51cf49c03--1cc4b26ab9094ef0",      K::SpanId,  "double dash"),
        ("d49d9bf66f13450b81f65bc51cf49c03-1cc4b26ab9094eé",        K::SpanId,  "non-ASCII, right byte length"),
        ("d49d9bf66f13450b81f65bc51cf49c03-1cc4b26ab9094ef0-1,x",   K::Sampled, "FromStr takes one element"),
        ("xxx-malformed",                                           K::TraceId, "garbage"),
    ];

    #[test]
    fn valid_elements_parse_to_lowercase_ids() {
        for (input, trace, span, sampled) in VALID {
            let st: SentryTrace = input.parse().unwrap_or_else(|e| panic!("{input:?}: {e:?}"));
            assert_eq!(st.trace_id().to_string(), *trace, "{input:?}");
            assert_eq!(st.span_id().to_string(), *span, "{input:?}");
            assert_eq!(st.sampled(), *sampled, "{input:?}");
            assert_eq!(
                st.to_string().parse::<SentryTrace>(),
                Ok(st),
                "round trip {input:?}"
            );
        }
    }

    #[test]
    fn invalid_elements_are_rejected_with_a_specific_kind() {
        for (input, kind, why) in INVALID {
            let err = input.parse::<SentryTrace>().expect_err(why);
            assert_eq!(err.kind(), *kind, "{why}: {input:?}");
        }
    }

    #[test]
    fn oversized_input_is_rejected_before_parsing() {
        let long = format!("{T}-{S}-1{}", " ".repeat(300));
        assert_eq!(long.parse::<SentryTrace>().unwrap_err().kind(), K::TooLong);
    }

    #[test]
    fn errors_never_echo_the_input() {
        for input in ["secret-secret-secret", "secretsecretsecretsecretsecret12-x"] {
            let err = input.parse::<SentryTrace>().unwrap_err();
            assert!(!format!("{err:?}").contains("secret"));
            assert!(!err.to_string().contains("secret"));
        }
    }

    #[rustfmt::skip]
    const HEADER_VALUES: &[(&[&str], Result<Option<Option<bool>>, SentryTraceErrorKind>, &str)] = &[
        (&[],                                         Ok(None),              "no header"),
        (&["", " ", ",", " , \t,"],                   Ok(None),              "only empty elements"),
        (&["d49d9bf66f13450b81f65bc51cf49c03-1cc4b26ab9094ef0-1,d49d9bf66f13450b81f65bc51cf49c03-1cc4b26ab9094ef0-0"],
                                                      Ok(Some(Some(true))),  "comma-joined: first wins"),
        (&["", "d49d9bf66f13450b81f65bc51cf49c03-1cc4b26ab9094ef0-0", "garbage"],
                                                      Ok(Some(Some(false))), "repeated header: first non-empty wins"),
        (&[" , d49d9bf66f13450b81f65bc51cf49c03-1cc4b26ab9094ef0"],
                                                      Ok(Some(None)),        "leading empty element skipped"),
        (&["d49d9bf66f13450b81f65bc51cf49c03-1cc4b26ab9094ef0-1, "],
                                                      Ok(Some(Some(true))),  "trailing comma"),
        (&["garbage", "d49d9bf66f13450b81f65bc51cf49c03-1cc4b26ab9094ef0-1"],
                                                      Err(K::Format),        "invalid first element does not fall through"),
        (&["1, d49d9bf66f13450b81f65bc51cf49c03-1cc4b26ab9094ef0-1"],
                                                      Err(K::Format),        "flag-only first element"),
    ];

    #[test]
    fn header_values_follow_the_first_non_empty_element_rule() {
        for (values, expected, why) in HEADER_VALUES {
            let got = SentryTrace::from_header_values(values.iter().copied())
                .map(|o| o.map(|st| st.sampled()))
                .map_err(|e| e.kind());
            assert_eq!(got, *expected, "{why}");
        }
    }

    #[test]
    fn a_non_text_value_before_any_element_is_malformed() {
        let got = SentryTrace::from_maybe_values([Some(" , "), None]);
        assert_eq!(got.unwrap_err().kind(), K::Format);
        let first = format!("{T}-{S}");
        let got = SentryTrace::from_maybe_values([Some(first.as_str()), None]);
        assert!(got.unwrap().is_some());
    }

    #[test]
    fn encode_writes_the_flag_only_when_decided() {
        let t: TraceId = T.parse().unwrap();
        let s: SpanId = S.parse().unwrap();
        let mut buf = [0; 51];
        for (sampled, suffix) in [(None, ""), (Some(true), "-1"), (Some(false), "-0")] {
            let st = SentryTrace::new(t, s, sampled);
            assert_eq!(st.encode(&mut buf), format!("{T}-{S}{suffix}"));
        }
    }

    proptest::proptest! {
        /// The shortcut for exact elements accepts only what the general parse accepts, with
        /// the same result.
        #[test]
        fn exact_elements_parse_as_any_element(
            s in "[0-9a-fA-F]{32}-[0-9a-fA-F]{16}(-[01])?|[-0-9a-gA-G \t]{47,53}",
        ) {
            if let Some(st) = SentryTrace::parse_exact(s.as_bytes()) {
                proptest::prop_assert_eq!(SentryTrace::parse_element(&s), Ok(st));
            }
        }

        /// Raw header bytes give what their text gives (a value that is not visible ASCII is
        /// malformed), whether or not the exact-element shortcut applies.
        #[test]
        fn byte_values_parse_as_their_text(
            values in proptest::collection::vec(
                proptest::prop_oneof![
                    "[0-9a-fA-F]{32}-[0-9a-fA-F]{16}(-[01])?",
                    "[ \t]?[0-9a-fA-Fg]{31,33}-[0-9a-fA-F\u{e9}]{15,17}(-[012x])?[ \t,]{0,2}",
                    "[-0-9a-f, \t\u{7f}\u{1}]{0,60}",
                ],
                0..3,
            ),
        ) {
            let text = SentryTrace::from_maybe_values(values.iter().map(|v| {
                let visible = v.bytes().all(|b| (0x20..0x7f).contains(&b) || b == b'\t');
                visible.then_some(v.as_str())
            }));
            let bytes = SentryTrace::from_byte_values(values.iter().map(|v| v.as_bytes()));
            proptest::prop_assert_eq!(bytes, text);
        }
    }
}
