//! Trace and span identifiers, as they cross process boundaries.

use std::fmt;
use std::str::FromStr;

use crate::rng;

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A 128-bit trace identifier, written as 32 lowercase hex digits.
///
/// Every span of a distributed trace carries the same trace id, in every service it crosses.
/// Parsing accepts upper- or lowercase hex and normalises it; output is always lowercase, which
/// is the only form every Sentry SDK accepts on input. All-zero ids parse (Sentry SDKs accept
/// them on incoming headers) but are never generated.
///
/// # Examples
///
/// ```
/// use tracing_sentry::TraceId;
///
/// let id: TraceId = "771A43A4192642F0B136D5159A501700".parse()?;
/// assert_eq!(id.to_string(), "771a43a4192642f0b136d5159a501700");
///
/// assert!("771a43a4".parse::<TraceId>().is_err());
/// assert_ne!(TraceId::random(), TraceId::random());
/// # Ok::<(), tracing_sentry::ParseIdError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TraceId([u8; 16]);

/// A 64-bit span identifier, written as 16 lowercase hex digits.
///
/// Parsing accepts upper- or lowercase hex; output is always lowercase.
///
/// # Examples
///
/// ```
/// use tracing_sentry::SpanId;
///
/// let id: SpanId = "b7ad6b7169203331".parse()?;
/// assert_eq!(id.to_string(), "b7ad6b7169203331");
/// assert!("b7ad6b71692033".parse::<SpanId>().is_err());
/// # Ok::<(), tracing_sentry::ParseIdError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SpanId([u8; 8]);

/// The error returned when a [`TraceId`] or [`SpanId`] cannot be parsed.
///
/// Its `Debug` and `Display` name what was expected and the input's length, never its bytes,
/// because ids arrive in request headers that callers may not want in their logs.
#[derive(Clone, PartialEq, Eq)]
pub struct ParseIdError {
    what: &'static str,
    expected_len: usize,
    len: usize,
    bad_digit: bool,
}

// === impl TraceId ===

impl TraceId {
    /// Returns a new random trace id, never all zeros.
    ///
    /// # Examples
    ///
    /// ```
    /// let id = tracing_sentry::TraceId::random();
    /// assert_ne!(id.to_bytes(), [0; 16]);
    /// ```
    pub fn random() -> Self {
        loop {
            let hi = rng::next_u64();
            let lo = rng::next_u64();
            if hi | lo != 0 {
                let mut bytes = [0; 16];
                bytes[..8].copy_from_slice(&hi.to_be_bytes());
                bytes[8..].copy_from_slice(&lo.to_be_bytes());
                return Self(bytes);
            }
        }
    }

    /// Creates a trace id from its 16 bytes, most significant first.
    ///
    /// # Examples
    ///
    /// ```
    /// let id = tracing_sentry::TraceId::from_bytes([0xab; 16]);
    /// assert_eq!(id.to_string(), "ab".repeat(16));
    /// ```
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// Returns the 16 bytes of this id, most significant first.
    ///
    /// # Examples
    ///
    /// ```
    /// let id = tracing_sentry::TraceId::from_bytes([7; 16]);
    /// assert_eq!(id.to_bytes(), [7; 16]);
    /// ```
    pub const fn to_bytes(self) -> [u8; 16] {
        self.0
    }

    /// Returns the 32 lowercase hex digits of this id without allocating.
    pub(crate) fn to_hex(self) -> [u8; 32] {
        let mut out = [0; 32];
        encode_hex(&self.0, &mut out);
        out
    }
}

impl FromStr for TraceId {
    type Err = ParseIdError;

    /// Parses exactly 32 hex digits (either case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut bytes = [0; 16];
        decode_hex(s.as_bytes(), &mut bytes).map_err(|bad_digit| ParseIdError {
            what: "trace id",
            expected_len: 32,
            len: s.len(),
            bad_digit,
        })?;
        Ok(Self(bytes))
    }
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex = self.to_hex();
        f.write_str(hex_str(&hex))
    }
}

impl fmt::LowerHex for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Debug for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TraceId({self})")
    }
}

// === impl SpanId ===

impl SpanId {
    /// Returns a new random span id, never all zeros.
    ///
    /// # Examples
    ///
    /// ```
    /// let id = tracing_sentry::SpanId::random();
    /// assert_ne!(id.to_bytes(), [0; 8]);
    /// ```
    #[inline]
    pub fn random() -> Self {
        loop {
            let v = rng::next_u64();
            if v != 0 {
                return Self(v.to_be_bytes());
            }
        }
    }

    /// Creates a span id from its 8 bytes, most significant first.
    ///
    /// # Examples
    ///
    /// ```
    /// let id = tracing_sentry::SpanId::from_bytes([0, 0, 0, 0, 0, 0, 0, 1]);
    /// assert_eq!(id.to_string(), "0000000000000001");
    /// ```
    pub const fn from_bytes(bytes: [u8; 8]) -> Self {
        Self(bytes)
    }

    /// Returns the 8 bytes of this id, most significant first.
    ///
    /// # Examples
    ///
    /// ```
    /// let id = tracing_sentry::SpanId::from_bytes([1; 8]);
    /// assert_eq!(id.to_bytes(), [1; 8]);
    /// ```
    pub const fn to_bytes(self) -> [u8; 8] {
        self.0
    }

    /// Returns the 16 lowercase hex digits of this id without allocating.
    pub(crate) fn to_hex(self) -> [u8; 16] {
        let mut out = [0; 16];
        encode_hex(&self.0, &mut out);
        out
    }
}

impl FromStr for SpanId {
    type Err = ParseIdError;

    /// Parses exactly 16 hex digits (either case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut bytes = [0; 8];
        decode_hex(s.as_bytes(), &mut bytes).map_err(|bad_digit| ParseIdError {
            what: "span id",
            expected_len: 16,
            len: s.len(),
            bad_digit,
        })?;
        Ok(Self(bytes))
    }
}

impl fmt::Display for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex = self.to_hex();
        f.write_str(hex_str(&hex))
    }
}

impl fmt::LowerHex for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Debug for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SpanId({self})")
    }
}

// === impl ParseIdError ===

impl ParseIdError {
    /// Returns `true` if the input had the right length but held a character that is not a hex
    /// digit, and `false` if its length was wrong.
    ///
    /// # Examples
    ///
    /// ```
    /// use tracing_sentry::SpanId;
    ///
    /// assert!("zzzzzzzzzzzzzzzz".parse::<SpanId>().unwrap_err().is_invalid_digit());
    /// assert!(!"abc".parse::<SpanId>().unwrap_err().is_invalid_digit());
    /// ```
    pub fn is_invalid_digit(&self) -> bool {
        self.bad_digit
    }
}

impl fmt::Display for ParseIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.bad_digit {
            write!(f, "invalid {}: expected only hex digits", self.what)
        } else {
            write!(
                f,
                "invalid {}: expected {} hex digits, got {} bytes",
                self.what, self.expected_len, self.len
            )
        }
    }
}

impl fmt::Debug for ParseIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParseIdError")
            .field("what", &self.what)
            .field("len", &self.len)
            .field("invalid_digit", &self.bad_digit)
            .finish()
    }
}

impl std::error::Error for ParseIdError {}

// === hex helpers ===

/// Each byte's two lowercase hex digits: encoding is one lookup per byte.
#[expect(
    clippy::indexing_slicing,
    reason = "built at compile time: an index out of bounds fails the build, it cannot panic"
)]
const HEX_PAIRS: [[u8; 2]; 256] = {
    let mut table = [[0; 2]; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = [HEX[i >> 4], HEX[i & 0xf]];
        i += 1;
    }
    table
};

/// Each byte's value as a hex digit (either case), or `0xff`: decoding is one lookup per digit.
#[expect(
    clippy::indexing_slicing,
    reason = "built at compile time: an index out of bounds fails the build, it cannot panic"
)]
const HEX_VALUES: [u8; 256] = {
    let mut table = [0xff; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

fn encode_hex(bytes: &[u8], out: &mut [u8]) {
    for (byte, pair) in bytes.iter().zip(out.chunks_exact_mut(2)) {
        // A `u8` index is always in the table.
        let digits = HEX_PAIRS
            .get(usize::from(*byte))
            .copied()
            .unwrap_or([b'0'; 2]);
        pair.copy_from_slice(&digits);
    }
}

fn hex_str(hex: &[u8]) -> &str {
    // Only ASCII hex digits are ever written into these buffers.
    std::str::from_utf8(hex).unwrap_or_default()
}

/// The value of hex digit `c` (either case), or `0xff`.
#[inline]
fn hex_value(c: u8) -> u8 {
    // A `u8` index is always in the table.
    HEX_VALUES.get(usize::from(c)).copied().unwrap_or(0xff)
}

/// Decodes `input` (exactly `2 * out.len()` hex digits) into `out`.
/// On failure returns whether the length was right but a digit was not.
pub(crate) fn decode_hex(input: &[u8], out: &mut [u8]) -> Result<(), bool> {
    if input.len() != out.len() * 2 {
        return Err(false);
    }
    // Digits are checked all at once at the end: a bad one sets a high bit in `bad`.
    let mut bad = 0;
    for (pair, byte) in input.chunks_exact(2).zip(out.iter_mut()) {
        let [a, b] = pair else {
            return Err(false);
        };
        let (hi, lo) = (hex_value(*a), hex_value(*b));
        bad |= hi | lo;
        *byte = hi << 4 | (lo & 0xf);
    }
    if bad & 0xf0 != 0 {
        return Err(true);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[rustfmt::skip]
    const INVALID_TRACE_IDS: &[(&str, &str)] = &[
        ("", "empty"),
        ("771a43a4192642f0b136d5159a50170", "31 digits"),
        ("771a43a4192642f0b136d5159a5017000", "33 digits"),
        ("771a43a4192642f0b136d5159a50170g", "non-hex letter"),
        ("771a43a4192642f0b136d5159a50170 ", "trailing space"),
        ("+71a43a4192642f0b136d5159a501700", "sign"),
        ("771a43a4192642f0b136d5159a5017é", "non-ascii, 32 bytes"),
    ];

    #[test]
    fn invalid_trace_ids_are_rejected() {
        for (input, why) in INVALID_TRACE_IDS {
            assert!(input.parse::<TraceId>().is_err(), "{why}: {input:?} parsed");
        }
    }

    #[test]
    fn uppercase_is_lowercased() {
        let id: TraceId = "D49D9BF66F13450B81F65BC51CF49C03".parse().unwrap();
        assert_eq!(id.to_string(), "d49d9bf66f13450b81f65bc51cf49c03");
        let id: SpanId = "1CC4B26AB9094EF0".parse().unwrap();
        assert_eq!(id.to_string(), "1cc4b26ab9094ef0");
    }

    #[test]
    fn every_byte_pair_decodes_as_hex_digits_do() {
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                let digit = |c: u8| char::from(c).to_digit(16);
                let expected = match (digit(a), digit(b)) {
                    (Some(hi), Some(lo)) => Ok((hi * 16 + lo) as u8),
                    _ => Err(true),
                };
                let mut out = [0];
                assert_eq!(decode_hex(&[a, b], &mut out).map(|()| out[0]), expected);
            }
            let mut pair = [0; 2];
            encode_hex(&[a], &mut pair);
            assert_eq!(pair, format!("{a:02x}").as_bytes());
        }
    }

    #[test]
    fn all_zero_ids_parse() {
        assert_eq!(
            "00000000000000000000000000000000".parse::<TraceId>(),
            Ok(TraceId::from_bytes([0; 16]))
        );
        assert_eq!(
            "0000000000000000".parse::<SpanId>(),
            Ok(SpanId::from_bytes([0; 8]))
        );
    }

    #[test]
    fn errors_do_not_echo_input() {
        let err = "secret-token-value-secret-token!"
            .parse::<TraceId>()
            .unwrap_err();
        assert!(!format!("{err:?}").contains("secret"));
        assert!(!err.to_string().contains("secret"));
    }

    #[test]
    fn random_ids_differ() {
        let ids: std::collections::HashSet<SpanId> =
            (0..10_000).map(|_| SpanId::random()).collect();
        assert_eq!(ids.len(), 10_000);
    }
}
