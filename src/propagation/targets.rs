//! Trace propagation targets (spec 6).

/// One entry of [`PropagationTargets`].
#[derive(Clone, Debug)]
pub struct PropagationTarget {
    kind: TargetKind,
}
#[derive(Clone, Debug)]
enum TargetKind {
    Substring(String),
    Regex(regex_lite::Regex),
}

/// The error returned for an invalid regex target.
#[derive(Clone, Debug)]
pub struct InvalidTargetError {
    message: String,
}

/// Where outgoing trace headers may go. Default: everywhere. Empty: nowhere.
#[derive(Clone, Debug)]
pub struct PropagationTargets {
    targets: Option<Vec<PropagationTarget>>,
}

impl PropagationTarget {
    /// A target matching URLs that contain `s`.
    pub fn substring(s: impl Into<String>) -> Self { Self { kind: TargetKind::Substring(s.into()) } }
    /// A target matching URLs the regex finds a match in (unanchored).
    pub fn regex(pattern: &str) -> Result<Self, InvalidTargetError> {
        regex_lite::Regex::new(pattern).map(|r| Self { kind: TargetKind::Regex(r) }).map_err(|e| InvalidTargetError { message: e.to_string() })
    }
    /// Whether `url` matches.
    pub fn matches(&self, url: &str) -> bool {
        match &self.kind { TargetKind::Substring(s) => url.contains(s.as_str()), TargetKind::Regex(r) => r.is_match(url) }
    }
}
impl PropagationTargets {
    /// Propagate everywhere (the default).
    pub fn all() -> Self { Self { targets: None } }
    /// Propagate nowhere.
    pub fn none() -> Self { Self { targets: Some(Vec::new()) } }
    /// Propagate only to URLs matching one of `targets`.
    pub fn new(targets: impl IntoIterator<Item = PropagationTarget>) -> Self { Self { targets: Some(targets.into_iter().collect()) } }
    /// Whether headers may be sent to `url`.
    pub fn matches(&self, url: &str) -> bool {
        match &self.targets { None => true, Some(t) => t.iter().any(|t| t.matches(url)) }
    }
}
impl Default for PropagationTargets { fn default() -> Self { Self::all() } }
impl std::fmt::Display for InvalidTargetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { write!(f, "invalid propagation target regex: {}", self.message) }
}
impl std::error::Error for InvalidTargetError {}
