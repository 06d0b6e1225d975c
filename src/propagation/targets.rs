//! Trace propagation targets (spec 6).
//!
//! Outgoing `sentry-trace`, `baggage` and `traceparent` headers are attached to a request only
//! when its URL matches one of the targets: a substring target matches when the URL contains it,
//! a regex target when the regex finds a match anywhere in the URL (unanchored, like JS's
//! `RegExp.test` and Python's `re.search`).

use std::fmt;

/// One entry of [`PropagationTargets`]: a substring or an unanchored regex.
///
/// # Examples
///
/// ```
/// use tracing_sentry::propagation::PropagationTarget;
///
/// let api = PropagationTarget::regex(r"myApi.com/v[2-4]")?;
/// assert!(api.matches("https://myApi.com/v2/projects"));
/// assert!(!api.matches("https://myApi.com/v1/projects"));
/// assert!(PropagationTarget::substring("localhost").matches("http://mylocalhost:8080/"));
/// # Ok::<(), tracing_sentry::propagation::InvalidTargetError>(())
/// ```
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
///
/// # Examples
///
/// ```
/// use tracing_sentry::propagation::PropagationTarget;
///
/// let err = PropagationTarget::regex("(unclosed").unwrap_err();
/// assert!(err.to_string().starts_with("invalid propagation target regex"));
/// ```
#[derive(Clone, Debug)]
pub struct InvalidTargetError {
    message: String,
}

/// Where outgoing trace headers may go.
///
/// [`all`](Self::all) (the default) propagates everywhere, like the SDKs' default `[".*"]`;
/// [`none`](Self::none) (an empty list, or Python's `trace_propagation_targets=None`) propagates
/// nowhere while incoming traces are still continued.
///
/// # Examples
///
/// ```
/// use tracing_sentry::propagation::{PropagationTarget, PropagationTargets};
///
/// let targets = PropagationTargets::new([
///     PropagationTarget::substring("localhost"),
///     PropagationTarget::regex(r"^/")?,
/// ]);
/// assert!(targets.matches("localhost:8443/api/users"));
/// assert!(targets.matches("/api/envelopes"));
/// assert!(!targets.matches("someHost.com/data"));
///
/// assert!(PropagationTargets::default().matches("https://anywhere.example"));
/// assert!(!PropagationTargets::none().matches("https://anywhere.example"));
/// # Ok::<(), tracing_sentry::propagation::InvalidTargetError>(())
/// ```
#[derive(Clone, Debug)]
pub struct PropagationTargets {
    targets: Option<Vec<PropagationTarget>>,
}

// === impl PropagationTarget ===

impl PropagationTarget {
    /// Returns a target matching URLs that contain `s` (case-sensitive).
    ///
    /// # Examples
    ///
    /// ```
    /// use tracing_sentry::propagation::PropagationTarget;
    ///
    /// let t = PropagationTarget::substring("api.example.com");
    /// assert!(t.matches("https://api.example.com/v1"));
    /// assert!(!t.matches("https://example.com/"));
    /// ```
    pub fn substring(s: impl Into<String>) -> Self {
        Self {
            kind: TargetKind::Substring(s.into()),
        }
    }

    /// Returns a target matching URLs in which the regex finds a match (unanchored).
    ///
    /// The syntax is that of [`regex_lite`] (Perl-style classes such as `\w` and `\d` are ASCII
    /// only). To mirror Python's SDK, where every entry is a regex, pass its strings here.
    ///
    /// # Errors
    ///
    /// Returns [`InvalidTargetError`] if `pattern` is not a valid regex.
    ///
    /// # Examples
    ///
    /// ```
    /// use tracing_sentry::propagation::PropagationTarget;
    ///
    /// let t = PropagationTarget::regex(r"https?://[\w\-]+(\.[\w\-]+)+\.net")?;
    /// assert!(t.matches("https://good.example.net/some/thing"));
    /// assert!(!t.matches("https://example.net"));
    /// assert!(PropagationTarget::regex("[").is_err());
    /// # Ok::<(), tracing_sentry::propagation::InvalidTargetError>(())
    /// ```
    pub fn regex(pattern: &str) -> Result<Self, InvalidTargetError> {
        regex_lite::Regex::new(pattern)
            .map(|r| Self {
                kind: TargetKind::Regex(r),
            })
            .map_err(|e| InvalidTargetError {
                message: e.to_string(),
            })
    }

    /// Returns whether `url` matches this target.
    ///
    /// # Examples
    ///
    /// ```
    /// use tracing_sentry::propagation::PropagationTarget;
    ///
    /// assert!(PropagationTarget::regex(r"^/api")?.matches("/api/users"));
    /// assert!(!PropagationTarget::regex(r"^/api")?.matches("https://host/api"));
    /// # Ok::<(), tracing_sentry::propagation::InvalidTargetError>(())
    /// ```
    pub fn matches(&self, url: &str) -> bool {
        match &self.kind {
            TargetKind::Substring(s) => url.contains(s.as_str()),
            TargetKind::Regex(r) => r.is_match(url),
        }
    }
}

// === impl PropagationTargets ===

impl PropagationTargets {
    /// Returns targets that propagate everywhere (the default).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(tracing_sentry::propagation::PropagationTargets::all().matches("https://example.com/"));
    /// ```
    pub fn all() -> Self {
        Self { targets: None }
    }

    /// Returns targets that propagate nowhere (an empty list).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!tracing_sentry::propagation::PropagationTargets::none().matches("https://example.com/"));
    /// ```
    pub fn none() -> Self {
        Self {
            targets: Some(Vec::new()),
        }
    }

    /// Returns targets that propagate only to URLs matching one of `targets`.
    ///
    /// An empty iterator gives the same as [`none`](Self::none).
    ///
    /// # Examples
    ///
    /// ```
    /// use tracing_sentry::propagation::{PropagationTarget, PropagationTargets};
    ///
    /// let targets = PropagationTargets::new([PropagationTarget::substring("example.com")]);
    /// assert!(targets.matches("https://api.example.com/"));
    /// assert!(!targets.matches("https://example.org/"));
    /// ```
    pub fn new(targets: impl IntoIterator<Item = PropagationTarget>) -> Self {
        Self {
            targets: Some(targets.into_iter().collect()),
        }
    }

    /// Returns whether headers may be sent to `url`: always for [`all`](Self::all), otherwise when
    /// any target matches.
    ///
    /// # Examples
    ///
    /// ```
    /// use tracing_sentry::propagation::{PropagationTarget, PropagationTargets};
    ///
    /// let targets = PropagationTargets::new([PropagationTarget::regex(r"myApi.com/v[2-4]")?]);
    /// assert!(targets.matches("myApi.com/v2/projects"));
    /// assert!(!targets.matches("myApi.com/v1/projects"));
    /// # Ok::<(), tracing_sentry::propagation::InvalidTargetError>(())
    /// ```
    pub fn matches(&self, url: &str) -> bool {
        match &self.targets {
            None => true,
            Some(t) => t.iter().any(|t| t.matches(url)),
        }
    }
}

impl Default for PropagationTargets {
    fn default() -> Self {
        Self::all()
    }
}

impl fmt::Display for InvalidTargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid propagation target regex: {}", self.message)
    }
}

impl std::error::Error for InvalidTargetError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[rustfmt::skip]
    const SPEC_EXAMPLE: &[(&str, bool)] = &[
        ("localhost:8443/api/users",   true),
        ("mylocalhost:8080/api/users", true),
        ("/api/envelopes",             true),
        ("myApi.com/v2/projects",      true),
        ("someHost.com/data",          false),
        ("myApi.com/v1/projects",      false),
    ];

    #[test]
    fn the_spec_example_matches() {
        let targets = PropagationTargets::new([
            PropagationTarget::substring("localhost"),
            PropagationTarget::regex(r"^\/").unwrap(),
            PropagationTarget::regex(r"myApi.com\/v[2-4]").unwrap(),
        ]);
        for (url, expected) in SPEC_EXAMPLE {
            assert_eq!(targets.matches(url), *expected, "{url}");
        }
    }

    #[test]
    fn empty_lists_propagate_nowhere() {
        assert!(!PropagationTargets::new([]).matches(""));
        assert!(!PropagationTargets::none().matches("x"));
        assert!(PropagationTargets::all().matches(""));
    }
}
