//! The `sentry-trace` header.
use crate::id::{SpanId, TraceId};

/// A parsed `sentry-trace` value: `{trace_id}-{span_id}[-{1|0}]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SentryTrace {
    trace_id: TraceId,
    span_id: SpanId,
    sampled: Option<bool>,
}

/// The error returned when a `sentry-trace` value cannot be parsed.
#[derive(Clone, PartialEq, Eq)]
pub struct ParseSentryTraceError {
    kind: SentryTraceErrorKind,
    len: usize,
}

/// What was wrong with a `sentry-trace` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SentryTraceErrorKind {
    /// No non-empty value.
    Empty,
    /// Not of the form `trace-span[-flag]`.
    Format,
    /// The trace id was not 32 hex digits.
    TraceId,
    /// The span id was not 16 hex digits.
    SpanId,
    /// The sampled flag was not `1` or `0`.
    Sampled,
    /// The value was longer than any valid header.
    TooLong,
}

impl SentryTrace {
    /// Creates a value.
    pub const fn new(trace_id: TraceId, span_id: SpanId, sampled: Option<bool>) -> Self {
        Self { trace_id, span_id, sampled }
    }
    /// The trace id.
    pub const fn trace_id(&self) -> TraceId { self.trace_id }
    /// The span id.
    pub const fn span_id(&self) -> SpanId { self.span_id }
    /// The sampling decision; `None` means deferred.
    pub const fn sampled(&self) -> Option<bool> { self.sampled }
    /// Applies the acceptance rule to all values of the header: split on `,`, first non-empty element.
    pub fn from_header_values<'a, I>(values: I) -> Result<Option<Self>, ParseSentryTraceError>
    where
        I: IntoIterator<Item = &'a str>,
    {
        let _ = values;
        unimplemented!()
    }
    /// Writes the header value into a stack buffer (at most 51 bytes) and returns it as `&str`.
    pub(crate) fn encode(&self, buf: &mut [u8; 51]) -> &str {
        let _ = buf;
        unimplemented!()
    }
}

impl ParseSentryTraceError {
    /// What was wrong.
    pub fn kind(&self) -> SentryTraceErrorKind { self.kind }
}

impl std::str::FromStr for SentryTrace {
    type Err = ParseSentryTraceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let _ = s;
        unimplemented!()
    }
}
impl std::fmt::Display for SentryTrace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut buf = [0; 51];
        f.write_str(self.encode(&mut buf))
    }
}
impl std::fmt::Debug for ParseSentryTraceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParseSentryTraceError").field("kind", &self.kind).field("len", &self.len).finish()
    }
}
impl std::fmt::Display for ParseSentryTraceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid sentry-trace value: {:?}", self.kind)
    }
}
impl std::error::Error for ParseSentryTraceError {}
