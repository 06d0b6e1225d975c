//! W3C `baggage`.
use super::DynamicSamplingContext;

/// Most members a `baggage` value keeps (W3C lower bound).
pub const MAX_BAGGAGE_MEMBERS: usize = 64;
/// Most bytes a `baggage` value keeps (W3C lower bound).
pub const MAX_BAGGAGE_BYTES: usize = 8192;

/// A parsed `baggage` header: the Sentry members as a DSC, the third-party members kept apart.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Baggage {
    pub(crate) sentry: DynamicSamplingContext,
    pub(crate) third_party: Vec<String>,
    pub(crate) dropped: usize,
}

impl Baggage {
    /// Parses one header value. Never fails: invalid members are dropped and counted.
    pub fn parse(value: &str) -> Self { Self::parse_values([value]) }
    /// Parses several header values as one list.
    pub fn parse_values<'a, I: IntoIterator<Item = &'a str>>(values: I) -> Self { let _ = values; unimplemented!() }
    /// The `sentry-*` members.
    pub fn sentry(&self) -> &DynamicSamplingContext { &self.sentry }
    /// Takes the `sentry-*` members.
    pub fn into_sentry(self) -> DynamicSamplingContext { self.sentry }
    /// Third-party members, trimmed, verbatim, in order.
    pub fn third_party(&self) -> &[String] { &self.third_party }
    /// Members dropped as invalid or over the limits.
    pub fn dropped_members(&self) -> usize { self.dropped }
}

/// Merges Sentry members into a request's existing `baggage` (spec 2.5); `None` when empty.
pub fn merge_baggage(existing: Option<&str>, sentry: &str) -> Option<String> { let _ = (existing, sentry); unimplemented!() }

/// Removes the `sentry-*` members, keeping the others verbatim.
pub fn strip_sentry_members(value: &str) -> String { let _ = value; unimplemented!() }
