//! [`Config`]: a layer's resolved options, shared by every span of the layer through an `Arc`.
//!
//! The builder resolves them once; span code reads them here and never depends on the builder.

use std::fmt;
use std::sync::Arc;

use crate::export::ExportHandle;
use crate::propagation::{ExtractOptions, HeadOptions, PropagationTargets};
use crate::sampling::SamplingOptions;
use crate::stats::StatsInner;

/// The layer's resolved options, shared by every span through an `Arc`.
pub(crate) struct Config {
    /// The public key, org id, environment and release: what a head DSC takes from the
    /// options, shared with the transaction records that carry an unbuilt head DSC.
    pub(crate) head: Arc<HeadOptions>,
    pub(crate) sampling: SamplingOptions,
    /// Most new local roots are likely not to record (a rate under one half, no sampler): a
    /// new span looks for an unrecorded root's data first (an order of lookups only).
    pub(crate) roots_mostly_lazy: bool,
    pub(crate) strict_trace_continuation: bool,
    pub(crate) targets: PropagationTargets,
    pub(crate) propagate_traceparent: bool,
    pub(crate) accept_traceparent: bool,
    pub(crate) forward_third_party_baggage: bool,
    /// Whether the integrations record user data (the export removes it too when off).
    #[cfg_attr(
        not(feature = "tower"),
        expect(dead_code, reason = "read by the tower server only")
    )]
    pub(crate) send_default_pii: bool,
    pub(crate) max_spans: usize,
    /// Transactions, or streamed spans.
    pub(crate) lifecycle: crate::TraceLifecycle,
    /// `Some` when transactions are recorded and exported.
    pub(crate) export: Option<ExportHandle>,
    pub(crate) stats: Arc<StatsInner>,
    /// The `ignore_spans` rules, applied when a span is created; `None` when there are none.
    pub(crate) ignore: Option<Arc<crate::ignore::IgnoreRules>>,
    /// Logs and metrics from events; `None` when neither is sent (or nothing is exported).
    pub(crate) telemetry: Option<crate::telemetry::TelemetryConfig>,
}

impl Config {
    /// The options incoming headers are extracted with (the layer's `accept_traceparent`;
    /// third-party baggage is read only if the layer forwards it).
    pub(crate) fn extract_options(&self) -> ExtractOptions {
        ExtractOptions {
            accept_traceparent: self.accept_traceparent,
            skip_third_party: !self.forward_third_party_baggage,
        }
    }

    /// Whether sampled spans are recorded (tracing is configured and there is somewhere to send).
    pub(crate) fn records(&self) -> bool {
        self.export.is_some() && self.sampling.tracing_enabled()
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("public_key", &self.head.public_key)
            .field("org_id", &self.head.org_id)
            .field("release", &self.head.release)
            .field("environment", &self.head.environment)
            .field("traces_sample_rate", &self.sampling.traces_sample_rate)
            .field("traces_sampler", &self.sampling.traces_sampler.is_some())
            .field("strict_trace_continuation", &self.strict_trace_continuation)
            .field("propagate_traceparent", &self.propagate_traceparent)
            .field("accept_traceparent", &self.accept_traceparent)
            .field("exports", &self.export.is_some())
            .finish()
    }
}

/// The longest release Sentry's ingestion accepts, in bytes.
pub(crate) const MAX_RELEASE_BYTES: usize = 200;
/// The longest environment Sentry's ingestion accepts, in bytes.
pub(crate) const MAX_ENVIRONMENT_BYTES: usize = 64;

/// Why Sentry's ingestion would refuse a release or an environment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum InvalidName {
    /// Longer than [`MAX_RELEASE_BYTES`] / [`MAX_ENVIRONMENT_BYTES`].
    TooLong,
    /// `.`, `..`, and `latest` (release) or `none` (environment), in any case.
    Restricted,
    /// A `/`, a newline, a tab or another control character.
    BadCharacters,
}

impl InvalidName {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::TooLong => "too long",
            Self::Restricted => "a restricted name",
            Self::BadCharacters => "contains `/` or a control character",
        }
    }
}

/// Checks a release as Sentry's ingestion does (sentry-release-parser's `validate_release`,
/// which Relay applies: getsentry/sentry-release-parser, `src/parser.rs`): at most 200 bytes,
/// not `.`, `..` or `latest` (any case), and none of `/`, `\r`, `\n`, `\t`, `\x0c`. Any other
/// control character is refused too: no header or UI shows it faithfully.
pub(crate) fn validate_release(release: &str) -> Result<(), InvalidName> {
    validate_name(release, MAX_RELEASE_BYTES, "latest")
}

/// Checks an environment as Sentry's ingestion does (`validate_environment`, same source): at
/// most 64 bytes, not `.`, `..` or `none` (any case), and the characters of
/// [`validate_release`].
pub(crate) fn validate_environment(environment: &str) -> Result<(), InvalidName> {
    validate_name(environment, MAX_ENVIRONMENT_BYTES, "none")
}

fn validate_name(value: &str, max_bytes: usize, restricted: &str) -> Result<(), InvalidName> {
    if value.len() > max_bytes {
        Err(InvalidName::TooLong)
    } else if value == "." || value == ".." || value.eq_ignore_ascii_case(restricted) {
        Err(InvalidName::Restricted)
    } else if value.chars().any(|c| c == '/' || c.is_control()) {
        Err(InvalidName::BadCharacters)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_follow_the_ingestion_rules() {
        #[rustfmt::skip]
        let table: &[(&str, Result<(), InvalidName>)] = &[
            ("checkout@1.4.2", Ok(())), ("my app 1.0+build.7", Ok(())), ("é-1", Ok(())),
            (".", Err(InvalidName::Restricted)), ("..", Err(InvalidName::Restricted)),
            ("latest", Err(InvalidName::Restricted)), ("LaTeSt", Err(InvalidName::Restricted)),
            ("...", Ok(())), ("latest-1", Ok(())),
            ("a/b", Err(InvalidName::BadCharacters)), ("a\nb", Err(InvalidName::BadCharacters)),
            ("a\rb", Err(InvalidName::BadCharacters)), ("a\tb", Err(InvalidName::BadCharacters)),
            ("a\x0cb", Err(InvalidName::BadCharacters)), ("a\x00b", Err(InvalidName::BadCharacters)),
            ("a\x7fb", Err(InvalidName::BadCharacters)),
        ];
        for (release, expected) in table {
            assert_eq!(validate_release(release), *expected, "{release:?}");
        }
        assert_eq!(validate_release(&"r".repeat(200)), Ok(()));
        assert_eq!(
            validate_release(&"r".repeat(201)),
            Err(InvalidName::TooLong)
        );
        // Bytes, not characters: 101 two-byte characters are 202 bytes.
        assert_eq!(
            validate_release(&"é".repeat(101)),
            Err(InvalidName::TooLong)
        );
    }

    #[test]
    fn environments_follow_the_ingestion_rules() {
        #[rustfmt::skip]
        let table: &[(&str, Result<(), InvalidName>)] = &[
            ("production", Ok(())), ("staging-eu", Ok(())), ("latest", Ok(())),
            ("none", Err(InvalidName::Restricted)), ("None", Err(InvalidName::Restricted)),
            (".", Err(InvalidName::Restricted)), ("..", Err(InvalidName::Restricted)),
            ("eu/west", Err(InvalidName::BadCharacters)), ("prod\n", Err(InvalidName::BadCharacters)),
        ];
        for (environment, expected) in table {
            assert_eq!(
                validate_environment(environment),
                *expected,
                "{environment:?}"
            );
        }
        assert_eq!(validate_environment(&"e".repeat(64)), Ok(()));
        assert_eq!(
            validate_environment(&"e".repeat(65)),
            Err(InvalidName::TooLong)
        );
    }

    proptest::proptest! {
        /// Whatever the input, an accepted release or environment holds no `/` and no control
        /// character and is within its byte limit; validation never panics.
        #[test]
        fn accepted_names_are_within_the_rules(value in "\\PC{0,80}|[\\x00-\\x7f]{0,80}|.{190,210}") {
            if validate_release(&value).is_ok() {
                proptest::prop_assert!(value.len() <= MAX_RELEASE_BYTES);
                proptest::prop_assert!(!value.chars().any(|c| c == '/' || c.is_control()));
            }
            if validate_environment(&value).is_ok() {
                proptest::prop_assert!(value.len() <= MAX_ENVIRONMENT_BYTES);
                proptest::prop_assert!(!value.eq_ignore_ascii_case("none"));
            }
        }
    }
}
