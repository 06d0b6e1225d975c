//! The dynamic sampling context (`sentry-*` baggage members).

/// The dynamic sampling context: the `sentry-*` members of `baggage`, keys without the prefix,
/// values decoded, all as strings. Known keys have accessors; unknown keys are kept as they came.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DynamicSamplingContext {
    entries: Vec<(String, String)>,
}

impl DynamicSamplingContext {
    /// An empty DSC.
    pub const fn new() -> Self { Self { entries: Vec::new() } }
    /// Sets `key` (without `sentry-`) to `value`, replacing an existing value in place. Empty values remove the key.
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        let value = value.into();
        let pos = self.entries.iter().position(|(k, _)| k == key);
        match (pos, value.is_empty()) {
            (Some(i), true) => { self.entries.remove(i); }
            (Some(i), false) => self.entries[i].1 = value,
            (None, true) => {}
            (None, false) => self.entries.push((key.to_owned(), value)),
        }
    }
    /// Builder form of [`set`](Self::set).
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self { self.set(key, value); self }
    /// The raw value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
    /// Entries in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
    /// Number of entries.
    pub fn len(&self) -> usize { self.entries.len() }
    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool { self.entries.is_empty() }
    /// `trace_id`.
    pub fn trace_id(&self) -> Option<&str> { self.get("trace_id") }
    /// `public_key`.
    pub fn public_key(&self) -> Option<&str> { self.get("public_key") }
    /// `release`.
    pub fn release(&self) -> Option<&str> { self.get("release") }
    /// `environment`.
    pub fn environment(&self) -> Option<&str> { self.get("environment") }
    /// `transaction`.
    pub fn transaction(&self) -> Option<&str> { self.get("transaction") }
    /// `org_id`.
    pub fn org_id(&self) -> Option<&str> { self.get("org_id") }
    /// `replay_id`.
    pub fn replay_id(&self) -> Option<&str> { self.get("replay_id") }
    /// `sample_rate` parsed as a number in `[0, 1]`.
    pub fn sample_rate(&self) -> Option<f64> { self.get("sample_rate").and_then(super::parse_sample_rate) }
    /// `sample_rand` parsed as a number in `[0, 1)`.
    pub fn sample_rand(&self) -> Option<f64> { self.get("sample_rand").and_then(super::parse_sample_rand) }
    /// `sampled` parsed (`"true"`/`"false"`).
    pub fn sampled(&self) -> Option<bool> {
        match self.get("sampled") { Some("true") => Some(true), Some("false") => Some(false), _ => None }
    }
    /// Serialises as a `baggage` value (`sentry-` prefix, percent-encoded, limits kept); `None` if empty.
    pub fn to_baggage(&self) -> Option<String> { unimplemented!() }
}
