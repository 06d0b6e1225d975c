//! W3C `traceparent`.
use crate::id::{SpanId, TraceId};

/// A W3C `traceparent` value `00-{trace_id}-{span_id}-{flags}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Traceparent {
    trace_id: TraceId,
    span_id: SpanId,
    sampled: bool,
}
/// The error returned for an invalid `traceparent`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseTraceparentError {
    len: usize,
}
impl Traceparent {
    /// Creates a value.
    pub const fn new(trace_id: TraceId, span_id: SpanId, sampled: bool) -> Self { Self { trace_id, span_id, sampled } }
    /// The trace id.
    pub const fn trace_id(&self) -> TraceId { self.trace_id }
    /// The span id.
    pub const fn span_id(&self) -> SpanId { self.span_id }
    /// Whether the sampled flag is set.
    pub const fn sampled(&self) -> bool { self.sampled }
}
impl std::str::FromStr for Traceparent {
    type Err = ParseTraceparentError;
    fn from_str(s: &str) -> Result<Self, Self::Err> { let _ = s; unimplemented!() }
}
impl std::fmt::Display for Traceparent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "00-{}-{}-{}", self.trace_id, self.span_id, if self.sampled { "01" } else { "00" })
    }
}
impl std::fmt::Display for ParseTraceparentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { write!(f, "invalid traceparent value ({} bytes)", self.len) }
}
impl std::error::Error for ParseTraceparentError {}
