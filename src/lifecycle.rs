//! [`TraceLifecycle`]: whether finished spans go to Sentry as transactions or as streamed spans.

use std::fmt;
use std::str::FromStr;

/// How finished spans reach Sentry.
///
/// - [`Static`](Self::Static) (the default): a local root and its finished descendants are
///   sent together as one transaction when the root and every span under it have closed.
/// - [`Stream`](Self::Stream): Sentry's span-first protocol (develop docs, "Spans" telemetry):
///   each sampled span is sent as soon as it finishes, batched per trace into `span` envelope
///   items (`application/vnd.sentry.items.span.v2+json`). A long-lived root's children reach
///   Sentry before the root closes, and nothing of them is kept in memory once they are sent.
///
/// Both carry the same ids, parents, timestamps, ops, names and statuses. The environment
/// variable `SENTRY_TRACE_LIFECYCLE` (`stream` or `static`, read by
/// [`SentryLayerBuilder::from_env`](crate::SentryLayerBuilder::from_env)) selects it as
/// `@sentry/node` does.
///
/// # Examples
///
/// ```
/// use tracing_sentry::TraceLifecycle;
///
/// assert_eq!("stream".parse::<TraceLifecycle>(), Ok(TraceLifecycle::Stream));
/// assert_eq!(TraceLifecycle::default(), TraceLifecycle::Static);
/// assert!("streaming".parse::<TraceLifecycle>().is_err());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TraceLifecycle {
    /// One transaction per local root (the default).
    #[default]
    Static,
    /// Every sampled span streamed as a span v2 item.
    Stream,
}

impl TraceLifecycle {
    /// The name used by `SENTRY_TRACE_LIFECYCLE` and the `sentry.trace_lifecycle` attribute.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Static => "static",
            Self::Stream => "stream",
        }
    }
}

impl fmt::Display for TraceLifecycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error returned when a string names no [`TraceLifecycle`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseTraceLifecycleError(());

impl fmt::Display for ParseTraceLifecycleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid trace lifecycle: expected `static` or `stream`")
    }
}

impl std::error::Error for ParseTraceLifecycleError {}

impl FromStr for TraceLifecycle {
    type Err = ParseTraceLifecycleError;

    /// `static` or `stream`, ASCII case ignored, surrounding whitespace ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("static") {
            Ok(Self::Static)
        } else if s.eq_ignore_ascii_case("stream") {
            Ok(Self::Stream)
        } else {
            Err(ParseTraceLifecycleError(()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_others_do_not() {
        for (text, expected) in [
            ("static", Some(TraceLifecycle::Static)),
            ("stream", Some(TraceLifecycle::Stream)),
            (" Stream ", Some(TraceLifecycle::Stream)),
            ("STATIC", Some(TraceLifecycle::Static)),
            ("", None),
            ("streaming", None),
            ("span", None),
        ] {
            assert_eq!(text.parse::<TraceLifecycle>().ok(), expected, "{text:?}");
        }
        assert_eq!(TraceLifecycle::Stream.to_string(), "stream");
    }
}
