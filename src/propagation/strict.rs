//! Strict trace continuation and `org_id` (spec 4).

/// Returns the org id in a DSN host, as matched by `^o(\d+)\.` (ASCII digits).
///
/// `o1234.ingest.sentry.io` gives `1234`; `sentry.io`, `oabc.sentry.io`, `o.sentry.io` and a host
/// without a `.` after the digits give `None`. An `org_id` option, when set, takes precedence over
/// this value.
pub(crate) fn org_id_from_dsn_host(host: &str) -> Option<&str> {
    let rest = host.strip_prefix('o')?;
    let (digits, _) = rest.split_once('.')?;
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// Returns whether to continue an incoming trace, given the incoming `sentry-org_id` (from
/// baggage) and the SDK's own org id (spec 4).
///
/// Org ids are compared as strings, as Python and JS do (`"007"` and `"7"` differ). An empty
/// string counts as absent.
///
/// | incoming | ours | `strict = false` | `strict = true` |
/// | --- | --- | --- | --- |
/// | `1` | `1` | continue | continue |
/// | none | `1` | continue | new trace |
/// | `1` | none | continue | new trace |
/// | none | none | continue | continue |
/// | `1` | `2` | new trace | new trace |
pub(crate) fn should_continue_trace(
    incoming: Option<&str>,
    ours: Option<&str>,
    strict: bool,
) -> bool {
    let incoming = incoming.filter(|s| !s.is_empty());
    let ours = ours.filter(|s| !s.is_empty());
    match (incoming, ours) {
        (Some(a), Some(b)) => a == b,
        (None, None) => true,
        _ => !strict,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[rustfmt::skip]
    const HOSTS: &[(&str, Option<&str>)] = &[
        ("o1234.ingest.sentry.io",   Some("1234")),
        ("o1.sentry.io",             Some("1")),
        ("o007.example.com",         Some("007")),
        ("o123456.custom-domain.com", Some("123456")),
        ("sentry.io",                None),
        ("o.sentry.io",              None),
        ("oabc.sentry.io",           None),
        ("oX123.sentry.io",          None),
        ("o123",                     None),
        ("o12a.sentry.io",           None),
        ("O123.sentry.io",           None),
        ("xo123.sentry.io",          None),
        ("o١٢.sentry.io",            None), // non-ASCII digits
        ("",                         None),
    ];

    #[test]
    fn org_ids_come_from_the_first_host_label() {
        for (host, expected) in HOSTS {
            assert_eq!(org_id_from_dsn_host(host), *expected, "{host:?}");
        }
    }

    #[rustfmt::skip]
    const TABLE: &[(Option<&str>, Option<&str>, bool, bool)] = &[
        (Some("1"), Some("1"), false, true),
        (None,      Some("1"), false, true),
        (Some("1"), None,      false, true),
        (None,      None,      false, true),
        (Some("1"), Some("2"), false, false),
        (Some("1"), Some("1"), true,  true),
        (None,      Some("1"), true,  false),
        (Some("1"), None,      true,  false),
        (None,      None,      true,  true),
        (Some("1"), Some("2"), true,  false),
        (Some("01"), Some("1"), false, false), // compared as strings
        (Some(""),  None,      true,  true),   // empty = absent
    ];

    #[test]
    fn continuation_follows_the_spec_table() {
        for (incoming, ours, strict, expected) in TABLE {
            assert_eq!(
                should_continue_trace(*incoming, *ours, *strict),
                *expected,
                "{incoming:?} {ours:?} strict={strict}"
            );
        }
    }
}

/// The examples of the crate-private helpers above, run as unit tests.
#[cfg(test)]
mod examples {
    #[test]
    fn org_id_from_dsn_host_example() {
        use crate::propagation::org_id_from_dsn_host;

        assert_eq!(org_id_from_dsn_host("o1234.ingest.sentry.io"), Some("1234"));
        assert_eq!(org_id_from_dsn_host("oabc.sentry.io"), None);
    }

    #[test]
    fn should_continue_trace_example() {
        use crate::propagation::should_continue_trace;

        assert!(should_continue_trace(Some("1"), Some("1"), true));
        assert!(!should_continue_trace(Some("1"), Some("2"), false));
        assert!(!should_continue_trace(None, Some("1"), true));
    }
}
