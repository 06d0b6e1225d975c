//! W3C `traceparent` (spec 5, W3C Trace Context level 1 §3.2).
//!
//! ```text
//! traceparent = OWS version "-" trace-id "-" parent-id "-" trace-flags [ "-" *CHAR ] OWS
//! version     = 2HEXDIGLC          ; not "ff"; "00" allows no suffix (exactly 55 chars)
//! trace-id    = 32HEXDIGLC         ; not all zeros
//! parent-id   = 16HEXDIGLC         ; not all zeros
//! trace-flags = 2HEXDIGLC          ; bit 0 = sampled
//! ```

use std::fmt;
use std::str::FromStr;

use super::sentry_trace::trim_ows;
use crate::id::{SpanId, TraceId};

/// Length of a version-`00` value.
const V00_LEN: usize = 55;
/// Longest value looked at; future versions may append fields, but not unboundedly.
const MAX_LEN: usize = 512;

/// A W3C `traceparent` value `00-{trace_id}-{span_id}-{flags}`.
///
/// `Display` always writes version `00` with flags `01` (sampled) or `00`. Sentry SDKs write `00`
/// for a deferred decision as well, so the layer builds it with
/// `Traceparent::new(trace, span, sampled == Some(true))`.
///
/// # Examples
///
/// ```
/// use tracing_sentry::propagation::Traceparent;
///
/// let tp: Traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".parse()?;
/// assert!(tp.sampled());
/// assert_eq!(tp.to_string(), "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
///
/// // Uppercase hex is invalid in traceparent.
/// assert!("00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01".parse::<Traceparent>().is_err());
/// # Ok::<(), tracing_sentry::propagation::ParseTraceparentError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Traceparent {
    trace_id: TraceId,
    span_id: SpanId,
    sampled: bool,
}

/// The error returned for an invalid `traceparent`.
///
/// Its `Debug` and `Display` show the [kind](TraceparentErrorKind) and the input's length, never
/// its bytes.
///
/// # Examples
///
/// ```
/// use tracing_sentry::propagation::{Traceparent, TraceparentErrorKind};
///
/// let err = "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
///     .parse::<Traceparent>()
///     .unwrap_err();
/// assert_eq!(err.kind(), TraceparentErrorKind::Version);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseTraceparentError {
    kind: TraceparentErrorKind,
    len: usize,
}

/// What was wrong with a `traceparent` value.
///
/// # Examples
///
/// ```
/// use tracing_sentry::propagation::{Traceparent, TraceparentErrorKind};
///
/// let v00_suffix = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra";
/// assert_eq!(v00_suffix.parse::<Traceparent>().unwrap_err().kind(), TraceparentErrorKind::Format);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TraceparentErrorKind {
    /// Wrong length or separators (including a suffix after a version-`00` value).
    Format,
    /// The version was not two lowercase hex digits, or was `ff`.
    Version,
    /// The trace id was not 32 lowercase hex digits, or was all zeros.
    TraceId,
    /// The parent id was not 16 lowercase hex digits, or was all zeros.
    SpanId,
    /// The flags were not two lowercase hex digits.
    Flags,
    /// The value was longer than 512 bytes.
    TooLong,
}

// === impl Traceparent ===

impl Traceparent {
    /// Creates a value.
    ///
    /// # Examples
    ///
    /// ```
    /// use tracing_sentry::propagation::Traceparent;
    /// use tracing_sentry::{SpanId, TraceId};
    ///
    /// let tp = Traceparent::new(TraceId::from_bytes([1; 16]), SpanId::from_bytes([2; 8]), false);
    /// assert_eq!(tp.to_string(), "00-01010101010101010101010101010101-0202020202020202-00");
    /// ```
    pub const fn new(trace_id: TraceId, span_id: SpanId, sampled: bool) -> Self {
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
    /// let tp: tracing_sentry::propagation::Traceparent =
    ///     "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".parse()?;
    /// assert_eq!(tp.trace_id().to_string(), "0af7651916cd43dd8448eb211c80319c");
    /// # Ok::<(), tracing_sentry::propagation::ParseTraceparentError>(())
    /// ```
    pub const fn trace_id(&self) -> TraceId {
        self.trace_id
    }

    /// Returns the parent (span) id.
    ///
    /// # Examples
    ///
    /// ```
    /// let tp: tracing_sentry::propagation::Traceparent =
    ///     "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".parse()?;
    /// assert_eq!(tp.span_id().to_string(), "b7ad6b7169203331");
    /// # Ok::<(), tracing_sentry::propagation::ParseTraceparentError>(())
    /// ```
    pub const fn span_id(&self) -> SpanId {
        self.span_id
    }

    /// Returns whether the sampled flag (bit 0 of `trace-flags`) is set.
    ///
    /// # Examples
    ///
    /// ```
    /// use tracing_sentry::propagation::Traceparent;
    ///
    /// assert!(!"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00".parse::<Traceparent>()?.sampled());
    /// # Ok::<(), tracing_sentry::propagation::ParseTraceparentError>(())
    /// ```
    pub const fn sampled(&self) -> bool {
        self.sampled
    }
}

impl FromStr for Traceparent {
    type Err = ParseTraceparentError;

    /// Parses a value per W3C Trace Context: lowercase hex only, version not `ff`, exactly 55
    /// characters for version `00`, and for higher versions 55 characters or a `-` followed by
    /// anything after them. Surrounding SP/HTAB is trimmed.
    ///
    /// # Errors
    ///
    /// Returns a [`ParseTraceparentError`] naming the first part that is wrong; inputs over 512
    /// bytes are rejected as [`TooLong`](TraceparentErrorKind::TooLong) without being scanned.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |kind| ParseTraceparentError { kind, len: s.len() };
        if s.len() > MAX_LEN {
            return Err(err(TraceparentErrorKind::TooLong));
        }
        let v = trim_ows(s);
        let field = |range: std::ops::Range<usize>| v.get(range).unwrap_or_default();
        let dash_at = |i: usize| v.as_bytes().get(i) == Some(&b'-');

        let version = field(0..2);
        if !is_lower_hex(version, 2) || version == "ff" {
            return Err(err(TraceparentErrorKind::Version));
        }
        if v.len() < V00_LEN || !dash_at(2) || !dash_at(35) || !dash_at(52) {
            return Err(err(TraceparentErrorKind::Format));
        }
        if v.len() > V00_LEN && (version == "00" || !dash_at(V00_LEN)) {
            return Err(err(TraceparentErrorKind::Format));
        }
        let trace = field(3..35);
        let span = field(36..52);
        let flags = field(53..55);
        let trace_id = parse_non_zero::<TraceId>(trace, 32)
            .ok_or_else(|| err(TraceparentErrorKind::TraceId))?;
        let span_id =
            parse_non_zero::<SpanId>(span, 16).ok_or_else(|| err(TraceparentErrorKind::SpanId))?;
        if !is_lower_hex(flags, 2) {
            return Err(err(TraceparentErrorKind::Flags));
        }
        let flags = u8::from_str_radix(flags, 16).map_err(|_| err(TraceparentErrorKind::Flags))?;
        Ok(Self::new(trace_id, span_id, flags & 1 == 1))
    }
}

impl fmt::Display for Traceparent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let flags = if self.sampled { "01" } else { "00" };
        write!(f, "00-{}-{}-{flags}", self.trace_id, self.span_id)
    }
}

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn parse_non_zero<T: FromStr>(s: &str, len: usize) -> Option<T> {
    if !is_lower_hex(s, len) || s.bytes().all(|b| b == b'0') {
        return None;
    }
    s.parse().ok()
}

// === impl ParseTraceparentError ===

impl ParseTraceparentError {
    /// Returns what was wrong.
    ///
    /// # Examples
    ///
    /// ```
    /// use tracing_sentry::propagation::{Traceparent, TraceparentErrorKind};
    ///
    /// let zero = "00-00000000000000000000000000000000-b7ad6b7169203331-01";
    /// assert_eq!(zero.parse::<Traceparent>().unwrap_err().kind(), TraceparentErrorKind::TraceId);
    /// ```
    pub fn kind(&self) -> TraceparentErrorKind {
        self.kind
    }
}

impl fmt::Display for ParseTraceparentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            TraceparentErrorKind::Format => "expected `version-trace_id-parent_id-flags`",
            TraceparentErrorKind::Version => "invalid version",
            TraceparentErrorKind::TraceId => {
                "trace id is not 32 lowercase hex digits, or is all zeros"
            }
            TraceparentErrorKind::SpanId => {
                "parent id is not 16 lowercase hex digits, or is all zeros"
            }
            TraceparentErrorKind::Flags => "flags are not 2 lowercase hex digits",
            TraceparentErrorKind::TooLong => "value too long",
        };
        write!(f, "invalid traceparent value ({} bytes): {what}", self.len)
    }
}

impl std::error::Error for ParseTraceparentError {}

#[cfg(test)]
mod tests {
    use super::*;
    use TraceparentErrorKind as K;

    const T: &str = "0af7651916cd43dd8448eb211c80319c";
    const S: &str = "b7ad6b7169203331";

    #[rustfmt::skip]
    const VALID: &[(&str, bool, &str)] = &[
        ("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", true,  "sampled"),
        ("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00", false, "not sampled"),
        ("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03", true,  "other flag bits"),
        ("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-fe", false, "bit 0 clear"),
        ("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", true,  "future version, no suffix"),
        ("cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-what-the-future-holds", true, "future version with suffix"),
        (" \t00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01 ", true, "OWS trimmed"),
    ];

    #[rustfmt::skip]
    const INVALID: &[(&str, TraceparentErrorKind, &str)] = &[
        ("",                                                            K::Version, "empty"),
        ("ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",     K::Version, "version ff"),
        ("0g-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",     K::Version, "version not hex"),
        ("0A-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",     K::Version, "version uppercase"),
        ("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-",    K::Format,  "v00 with suffix"),
        ("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0",      K::Format,  "too short"),
        ("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01x",    K::Format,  "future version, suffix without dash"),
        ("00_0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",     K::Format,  "wrong separator"),
        ("00-0af7651916cd43dd8448eb211c80319c0-b7ad6b7169203331-1",     K::Format,  "shifted fields"),
        ("00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",     K::TraceId, "uppercase trace id"),
        ("00-00000000000000000000000000000000-b7ad6b7169203331-01",     K::TraceId, "all-zero trace id"),
        ("00-0af7651916cd43dd8448eb211c80319x-b7ad6b7169203331-01",     K::TraceId, "non-hex trace id"),
        ("00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",     K::SpanId,  "all-zero parent id"),
        ("00-0af7651916cd43dd8448eb211c80319c-B7AD6B7169203331-01",     K::SpanId,  "uppercase parent id"),
        ("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0x",     K::Flags,   "flags not hex"),
        ("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0A",     K::Flags,   "flags uppercase"),
        ("00-0af7651916cd43dd8448eb211c80319c-b7ad6b716920333é-01",     K::Format,  "non-ASCII shifts the separators"),
        ("0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1",         K::Format,  "sentry-trace form"),
    ];

    #[test]
    fn valid_values_parse() {
        for (input, sampled, why) in VALID {
            let tp: Traceparent = input.parse().unwrap_or_else(|e| panic!("{why}: {e}"));
            assert_eq!(tp.trace_id().to_string(), T, "{why}");
            assert_eq!(tp.span_id().to_string(), S, "{why}");
            assert_eq!(tp.sampled(), *sampled, "{why}");
        }
    }

    #[test]
    fn invalid_values_are_rejected_with_a_specific_kind() {
        for (input, kind, why) in INVALID {
            let err = input.parse::<Traceparent>().expect_err(why);
            assert_eq!(err.kind(), *kind, "{why}: {input:?}");
        }
    }

    #[test]
    fn oversized_values_are_rejected() {
        let long = format!("cc-{T}-{S}-01-{}", "x".repeat(600));
        assert_eq!(long.parse::<Traceparent>().unwrap_err().kind(), K::TooLong);
    }

    #[test]
    fn display_round_trips() {
        for sampled in [true, false] {
            let tp = Traceparent::new(T.parse().unwrap(), S.parse().unwrap(), sampled);
            assert_eq!(tp.to_string().parse::<Traceparent>(), Ok(tp));
        }
    }

    #[test]
    fn errors_never_echo_the_input() {
        let err = "secret-secret".parse::<Traceparent>().unwrap_err();
        assert!(!format!("{err:?}").contains("secret"));
        assert!(!err.to_string().contains("secret"));
    }
}
