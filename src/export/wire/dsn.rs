//! The Sentry DSN: where envelopes go and how the client authenticates.

use std::fmt;
use std::str::FromStr;

/// The Sentry protocol version sent in `X-Sentry-Auth`.
const SENTRY_PROTOCOL_VERSION: u8 = 7;

/// A parsed Sentry DSN (Data Source Name): the ingest endpoint of one project plus its key.
///
/// The accepted grammar is
///
/// ```text
/// {scheme}://{public_key}[:{secret}]@{host}[:{port}][/{path}]/{project_id}
/// ```
///
/// - `scheme` is `http` or `https` (either case; stored lowercase);
/// - `public_key` and the optional, legacy `secret` are non-empty and hold no `/ : @ ? #`,
///   whitespace or control characters;
/// - `host` is a DNS name or IPv4 address (letters, digits, `-`, `.`, `_`) or a bracketed IPv6
///   address such as `[::1]`;
/// - `port` is a decimal number in `1..=65535`;
/// - `path` is an optional prefix for self-hosted installations behind a reverse proxy;
/// - `project_id` is the last path segment, made of ASCII digits.
///
/// Leading and trailing whitespace is ignored (DSNs often come from environment variables).
/// Queries, fragments and a trailing `/` are rejected.
///
/// The secret, if any, never appears in `Debug` or `Display` output; `Display` writes the DSN
/// without it.
///
/// # Examples
///
/// ```
/// use tracing_sentry::export::Dsn;
///
/// let dsn: Dsn = "https://abc123@o42.ingest.sentry.io/1337".parse()?;
/// assert_eq!(dsn.public_key(), "abc123");
/// assert_eq!(dsn.host(), "o42.ingest.sentry.io");
/// assert_eq!(dsn.project_id(), "1337");
/// assert_eq!(dsn.envelope_url(), "https://o42.ingest.sentry.io/api/1337/envelope/");
///
/// assert!("ftp://abc123@example.com/1".parse::<Dsn>().is_err());
/// # Ok::<(), tracing_sentry::export::ParseDsnError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Dsn {
    scheme: Scheme,
    pub(crate) public_key: String,
    secret: Option<String>,
    pub(crate) host: String,
    port: Option<u16>,
    /// Empty, or a prefix starting with `/` and not ending with `/`.
    path: String,
    project_id: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Scheme {
    Http,
    Https,
}

/// The error returned when a string is not a valid [`Dsn`].
///
/// It names the part that was wrong, never the input, because a DSN may carry a secret.
///
/// # Examples
///
/// ```
/// use tracing_sentry::export::{Dsn, DsnErrorKind};
///
/// let err = "https://example.com/1".parse::<Dsn>().unwrap_err();
/// assert_eq!(err.kind(), DsnErrorKind::MissingPublicKey);
/// assert_eq!(err.to_string(), "invalid DSN: missing public key before `@`");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ParseDsnError {
    kind: DsnErrorKind,
}

/// What was wrong with a DSN; see [`ParseDsnError::kind`].
///
/// # Examples
///
/// ```
/// use tracing_sentry::export::{Dsn, DsnErrorKind};
///
/// let kind = "https://key@example.com/".parse::<Dsn>().unwrap_err().kind();
/// assert_eq!(kind, DsnErrorKind::MissingProjectId);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DsnErrorKind {
    /// The input was empty (or only whitespace).
    Empty,
    /// The scheme was missing or was not `http` or `https`.
    InvalidScheme,
    /// There was no `public_key@` part, or the key was empty.
    MissingPublicKey,
    /// The public key or the secret held a character that is not allowed.
    InvalidKey,
    /// The host was empty or held a character that is not allowed.
    InvalidHost,
    /// The port was empty, not a number, or outside `1..=65535`.
    InvalidPort,
    /// There was no project id after the host (or the DSN ended with `/`).
    MissingProjectId,
    /// The project id was not made of ASCII digits, or a path segment was invalid.
    InvalidProjectId,
    /// The DSN had a query (`?`) or fragment (`#`).
    UnexpectedQuery,
}

// === impl Dsn ===

impl Dsn {
    /// Returns the scheme, `"http"` or `"https"`.
    ///
    /// # Examples
    ///
    /// ```
    /// let dsn: tracing_sentry::export::Dsn = "HTTP://key@localhost:9000/1".parse()?;
    /// assert_eq!(dsn.scheme(), "http");
    /// # Ok::<(), tracing_sentry::export::ParseDsnError>(())
    /// ```
    pub fn scheme(&self) -> &'static str {
        match self.scheme {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    /// Returns the public key (`sentry_key`).
    ///
    /// # Examples
    ///
    /// ```
    /// let dsn: tracing_sentry::export::Dsn = "https://key:secret@example.com/1".parse()?;
    /// assert_eq!(dsn.public_key(), "key");
    /// # Ok::<(), tracing_sentry::export::ParseDsnError>(())
    /// ```
    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    /// Returns the host, without port; an IPv6 address keeps its brackets.
    ///
    /// # Examples
    ///
    /// ```
    /// let dsn: tracing_sentry::export::Dsn = "http://key@[::1]:9000/1".parse()?;
    /// assert_eq!(dsn.host(), "[::1]");
    /// # Ok::<(), tracing_sentry::export::ParseDsnError>(())
    /// ```
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Returns the port: the explicit one, or the scheme's default (80 or 443).
    ///
    /// # Examples
    ///
    /// ```
    /// use tracing_sentry::export::Dsn;
    ///
    /// assert_eq!("http://key@localhost:9000/1".parse::<Dsn>()?.port(), 9000);
    /// assert_eq!("https://key@example.com/1".parse::<Dsn>()?.port(), 443);
    /// # Ok::<(), tracing_sentry::export::ParseDsnError>(())
    /// ```
    pub fn port(&self) -> u16 {
        match (self.port, self.scheme) {
            (Some(port), _) => port,
            (None, Scheme::Http) => 80,
            (None, Scheme::Https) => 443,
        }
    }

    /// Returns the path prefix before the project id: empty, or starting with `/`.
    ///
    /// # Examples
    ///
    /// ```
    /// let dsn: tracing_sentry::export::Dsn = "https://key@example.com/sentry/relay/7".parse()?;
    /// assert_eq!(dsn.path(), "/sentry/relay");
    /// # Ok::<(), tracing_sentry::export::ParseDsnError>(())
    /// ```
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Returns the project id.
    ///
    /// # Examples
    ///
    /// ```
    /// let dsn: tracing_sentry::export::Dsn = "https://key@example.com/42".parse()?;
    /// assert_eq!(dsn.project_id(), "42");
    /// # Ok::<(), tracing_sentry::export::ParseDsnError>(())
    /// ```
    pub fn project_id(&self) -> &str {
        &self.project_id
    }

    /// Returns the URL envelopes are POSTed to:
    /// `{scheme}://{host}[:{port}]{path}/api/{project_id}/envelope/`.
    ///
    /// The port is written when the DSN has one.
    ///
    /// # Examples
    ///
    /// ```
    /// let dsn: tracing_sentry::export::Dsn = "http://key@127.0.0.1:9000/prefix/1".parse()?;
    /// assert_eq!(dsn.envelope_url(), "http://127.0.0.1:9000/prefix/api/1/envelope/");
    /// # Ok::<(), tracing_sentry::export::ParseDsnError>(())
    /// ```
    pub fn envelope_url(&self) -> String {
        let mut url = String::with_capacity(64);
        self.write_origin(&mut url);
        url.push_str(&self.path);
        url.push_str("/api/");
        url.push_str(&self.project_id);
        url.push_str("/envelope/");
        url
    }

    /// Returns the `X-Sentry-Auth` header value for a client named `client`
    /// (`name/version`).
    ///
    /// The value is `Sentry sentry_version=7, sentry_key={public_key}, sentry_client={client}`,
    /// followed by `, sentry_secret={secret}` for a legacy DSN with a secret. The header is only
    /// meant for the DSN's own host.
    ///
    /// # Examples
    ///
    /// ```
    /// let dsn: tracing_sentry::export::Dsn = "https://key@example.com/1".parse()?;
    /// assert_eq!(
    ///     dsn.auth_header("my-sdk/1.0"),
    ///     "Sentry sentry_version=7, sentry_key=key, sentry_client=my-sdk/1.0",
    /// );
    /// # Ok::<(), tracing_sentry::export::ParseDsnError>(())
    /// ```
    pub fn auth_header(&self, client: &str) -> String {
        let mut header = format!(
            "Sentry sentry_version={SENTRY_PROTOCOL_VERSION}, sentry_key={}, sentry_client={client}",
            self.public_key
        );
        if let Some(secret) = &self.secret {
            header.push_str(", sentry_secret=");
            header.push_str(secret);
        }
        header
    }

    fn write_origin(&self, out: &mut String) {
        out.push_str(self.scheme());
        out.push_str("://");
        out.push_str(&self.host);
        if let Some(port) = self.port {
            out.push(':');
            out.push_str(&port.to_string());
        }
    }
}

impl FromStr for Dsn {
    type Err = ParseDsnError;

    /// Parses a DSN; see the [type docs](Dsn) for the grammar.
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let err = |kind| ParseDsnError { kind };
        let s = input.trim();
        if s.is_empty() {
            return Err(err(DsnErrorKind::Empty));
        }
        if s.contains(['?', '#']) {
            return Err(err(DsnErrorKind::UnexpectedQuery));
        }
        let (scheme, rest) = s
            .split_once("://")
            .ok_or(err(DsnErrorKind::InvalidScheme))?;
        let scheme = if scheme.eq_ignore_ascii_case("https") {
            Scheme::Https
        } else if scheme.eq_ignore_ascii_case("http") {
            Scheme::Http
        } else {
            return Err(err(DsnErrorKind::InvalidScheme));
        };

        // The authority ends at the first `/`; the key part ends at the last `@` in it.
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        let (userinfo, host_port) = authority
            .rsplit_once('@')
            .ok_or(err(DsnErrorKind::MissingPublicKey))?;
        let (public_key, secret) = match userinfo.split_once(':') {
            Some((key, secret)) => (key, Some(secret)),
            None => (userinfo, None),
        };
        if public_key.is_empty() {
            return Err(err(DsnErrorKind::MissingPublicKey));
        }
        if !public_key.chars().all(is_key_char) {
            return Err(err(DsnErrorKind::InvalidKey));
        }
        if let Some(secret) = secret {
            if secret.is_empty() || !secret.chars().all(is_key_char) {
                return Err(err(DsnErrorKind::InvalidKey));
            }
        }

        let (host, port) = split_host_port(host_port)?;

        // `path` is empty or starts with `/`: `/{prefix...}/{project_id}`.
        let (prefix, project_id) = path.rsplit_once('/').unwrap_or(("", ""));
        if project_id.is_empty() {
            return Err(err(DsnErrorKind::MissingProjectId));
        }
        if !project_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err(DsnErrorKind::InvalidProjectId));
        }
        if !prefix.is_empty()
            && !prefix
                .split('/')
                .skip(1)
                .all(|segment| !segment.is_empty() && segment.chars().all(is_path_char))
        {
            return Err(err(DsnErrorKind::InvalidProjectId));
        }

        Ok(Dsn {
            scheme,
            public_key: public_key.to_owned(),
            secret: secret.map(str::to_owned),
            host: host.to_owned(),
            port,
            path: prefix.to_owned(),
            project_id: project_id.to_owned(),
        })
    }
}

fn split_host_port(host_port: &str) -> Result<(&str, Option<u16>), ParseDsnError> {
    let err = |kind| ParseDsnError { kind };
    let (host, port) = if let Some(after_bracket) = host_port.strip_prefix('[') {
        // IPv6 literal: `[addr]` or `[addr]:port`.
        let (addr, after) = after_bracket
            .split_once(']')
            .ok_or(err(DsnErrorKind::InvalidHost))?;
        if addr.is_empty()
            || !addr
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        {
            return Err(err(DsnErrorKind::InvalidHost));
        }
        let host_len = addr.len() + 2;
        let port = match after {
            "" => None,
            _ => Some(
                after
                    .strip_prefix(':')
                    .ok_or(err(DsnErrorKind::InvalidHost))?,
            ),
        };
        (host_port.get(..host_len).unwrap_or_default(), port)
    } else {
        match host_port.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        }
    };
    if host.is_empty()
        || !(host.starts_with('[')
            || host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')))
    {
        return Err(err(DsnErrorKind::InvalidHost));
    }
    let port = match port {
        None => None,
        Some(port) => {
            if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err(DsnErrorKind::InvalidPort));
            }
            match port.parse::<u16>() {
                Ok(0) | Err(_) => return Err(err(DsnErrorKind::InvalidPort)),
                Ok(port) => Some(port),
            }
        }
    };
    Ok((host, port))
}

fn is_key_char(c: char) -> bool {
    !(c.is_whitespace() || c.is_control() || matches!(c, '/' | ':' | '@' | '?' | '#'))
}

fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~')
}

impl fmt::Display for Dsn {
    /// Writes the DSN without its secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.scheme())?;
        f.write_str("://")?;
        f.write_str(&self.public_key)?;
        f.write_str("@")?;
        f.write_str(&self.host)?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        f.write_str(&self.path)?;
        f.write_str("/")?;
        f.write_str(&self.project_id)
    }
}

impl fmt::Debug for Dsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dsn")
            .field("scheme", &self.scheme())
            .field("public_key", &self.public_key)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("host", &self.host)
            .field("port", &self.port)
            .field("path", &self.path)
            .field("project_id", &self.project_id)
            .finish()
    }
}

// === impl ParseDsnError ===

impl ParseDsnError {
    /// Returns what was wrong with the DSN.
    ///
    /// # Examples
    ///
    /// ```
    /// use tracing_sentry::export::{Dsn, DsnErrorKind};
    ///
    /// let err = "https://key@example.com:99999/1".parse::<Dsn>().unwrap_err();
    /// assert_eq!(err.kind(), DsnErrorKind::InvalidPort);
    /// ```
    pub fn kind(&self) -> DsnErrorKind {
        self.kind
    }
}

impl fmt::Display for ParseDsnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            DsnErrorKind::Empty => "empty string",
            DsnErrorKind::InvalidScheme => "expected scheme `http://` or `https://`",
            DsnErrorKind::MissingPublicKey => "missing public key before `@`",
            DsnErrorKind::InvalidKey => "invalid character in public key or secret",
            DsnErrorKind::InvalidHost => "invalid host",
            DsnErrorKind::InvalidPort => "expected a port number in 1..=65535",
            DsnErrorKind::MissingProjectId => "missing project id after the host",
            DsnErrorKind::InvalidProjectId => "expected a numeric project id as the last segment",
            DsnErrorKind::UnexpectedQuery => "a DSN has no query or fragment",
        };
        write!(f, "invalid DSN: {what}")
    }
}

impl fmt::Debug for ParseDsnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParseDsnError")
            .field("kind", &self.kind)
            .finish()
    }
}

impl std::error::Error for ParseDsnError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[rustfmt::skip]
    const VALID: &[(&str, &str, &str, u16, &str, &str, &str)] = &[
        // input, scheme, host, port, path, project, envelope url
        ("https://abc@o1.ingest.sentry.io/42", "https", "o1.ingest.sentry.io", 443, "", "42",
         "https://o1.ingest.sentry.io/api/42/envelope/"),
        ("http://servicekey@127.0.0.1:9000/1", "http", "127.0.0.1", 9000, "", "1",
         "http://127.0.0.1:9000/api/1/envelope/"),
        ("HTTPS://abc@Example.com/7", "https", "Example.com", 443, "", "7",
         "https://Example.com/api/7/envelope/"),
        ("https://abc:legacysecret@example.com/7", "https", "example.com", 443, "", "7",
         "https://example.com/api/7/envelope/"),
        ("https://abc@example.com/sentry/relay/7", "https", "example.com", 443, "/sentry/relay", "7",
         "https://example.com/sentry/relay/api/7/envelope/"),
        ("http://abc@[::1]:8080/3", "http", "[::1]", 8080, "", "3",
         "http://[::1]:8080/api/3/envelope/"),
        ("http://abc@[::1]/3", "http", "[::1]", 80, "", "3", "http://[::1]/api/3/envelope/"),
        ("  https://abc@example.com/9\n", "https", "example.com", 443, "", "9",
         "https://example.com/api/9/envelope/"),
        ("https://abc@example.com:443/9", "https", "example.com", 443, "", "9",
         "https://example.com:443/api/9/envelope/"),
        ("https://a-b_c.d@my_host-1.local/18446744073709551615", "https", "my_host-1.local", 443, "",
         "18446744073709551615", "https://my_host-1.local/api/18446744073709551615/envelope/"),
    ];

    #[rustfmt::skip]
    const INVALID: &[(&str, DsnErrorKind, &str)] = &[
        ("", DsnErrorKind::Empty, "empty"),
        ("   ", DsnErrorKind::Empty, "only whitespace"),
        ("abc@example.com/1", DsnErrorKind::InvalidScheme, "no scheme"),
        ("ftp://abc@example.com/1", DsnErrorKind::InvalidScheme, "unsupported scheme"),
        ("://abc@example.com/1", DsnErrorKind::InvalidScheme, "empty scheme"),
        ("https://example.com/1", DsnErrorKind::MissingPublicKey, "no key"),
        ("https://@example.com/1", DsnErrorKind::MissingPublicKey, "empty key"),
        ("https://:secret@example.com/1", DsnErrorKind::MissingPublicKey, "empty key with secret"),
        ("https://abc:@example.com/1", DsnErrorKind::InvalidKey, "empty secret"),
        ("https://a b@example.com/1", DsnErrorKind::InvalidKey, "space in key"),
        ("https://a:b:c@example.com/1", DsnErrorKind::InvalidKey, "colon in secret"),
        ("https://abc@/1", DsnErrorKind::InvalidHost, "empty host"),
        ("https://abc@exa mple.com/1", DsnErrorKind::InvalidHost, "space in host"),
        ("https://abc@[::1/1", DsnErrorKind::InvalidHost, "unclosed bracket"),
        ("https://abc@[]/1", DsnErrorKind::InvalidHost, "empty ipv6"),
        ("https://abc@[::1]x/1", DsnErrorKind::InvalidHost, "junk after ipv6"),
        ("https://abc@exämple.com/1", DsnErrorKind::InvalidHost, "non-ascii host"),
        ("https://abc@example.com:/1", DsnErrorKind::InvalidPort, "empty port"),
        ("https://abc@example.com:0/1", DsnErrorKind::InvalidPort, "port zero"),
        ("https://abc@example.com:65536/1", DsnErrorKind::InvalidPort, "port too large"),
        ("https://abc@example.com:+80/1", DsnErrorKind::InvalidPort, "signed port"),
        ("https://abc@example.com:http/1", DsnErrorKind::InvalidPort, "named port"),
        ("https://abc@example.com", DsnErrorKind::MissingProjectId, "no path"),
        ("https://abc@example.com/", DsnErrorKind::MissingProjectId, "empty path"),
        ("https://abc@example.com/1/", DsnErrorKind::MissingProjectId, "trailing slash"),
        ("https://abc@example.com/abc", DsnErrorKind::InvalidProjectId, "non-numeric project"),
        ("https://abc@example.com/-1", DsnErrorKind::InvalidProjectId, "signed project"),
        ("https://abc@example.com//1", DsnErrorKind::InvalidProjectId, "empty path segment"),
        ("https://abc@example.com/a b/1", DsnErrorKind::InvalidProjectId, "space in path"),
        ("https://abc@example.com/1?x=1", DsnErrorKind::UnexpectedQuery, "query"),
        ("https://abc@example.com/1#frag", DsnErrorKind::UnexpectedQuery, "fragment"),
    ];

    #[test]
    fn valid_dsns_parse() {
        for &(input, scheme, host, port, path, project, url) in VALID {
            let dsn: Dsn = input.parse().unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(dsn.scheme(), scheme, "{input:?}");
            assert_eq!(dsn.host(), host, "{input:?}");
            assert_eq!(dsn.port(), port, "{input:?}");
            assert_eq!(dsn.path(), path, "{input:?}");
            assert_eq!(dsn.project_id(), project, "{input:?}");
            assert_eq!(dsn.envelope_url(), url, "{input:?}");
            // Display round-trips (minus the secret).
            let again: Dsn = dsn.to_string().parse().unwrap();
            assert_eq!(again.envelope_url(), url, "{input:?}");
            assert_eq!(again.public_key(), dsn.public_key());
        }
    }

    #[test]
    fn invalid_dsns_are_rejected_with_a_reason() {
        for &(input, kind, why) in INVALID {
            match input.parse::<Dsn>() {
                Ok(dsn) => panic!("{why}: {input:?} parsed as {dsn:?}"),
                Err(e) => assert_eq!(e.kind(), kind, "{why}: {input:?}"),
            }
        }
    }

    #[test]
    fn the_secret_is_never_displayed() {
        let dsn: Dsn = "https://key:topsecret@example.com/1".parse().unwrap();
        assert!(!format!("{dsn}").contains("topsecret"));
        assert!(!format!("{dsn:?}").contains("topsecret"));
        assert!(format!("{dsn:?}").contains("<redacted>"));
        assert_eq!(dsn.to_string(), "https://key@example.com/1");
        let err = "https://key:topsecret@exa mple.com/1"
            .parse::<Dsn>()
            .unwrap_err();
        assert!(!format!("{err:?} {err}").contains("topsecret"));
    }

    #[test]
    fn auth_header_names_key_client_and_version() {
        let dsn: Dsn = "https://key@example.com/1".parse().unwrap();
        assert_eq!(
            dsn.auth_header("sentry.rust.tracing-sentry/0.1.0"),
            "Sentry sentry_version=7, sentry_key=key, sentry_client=sentry.rust.tracing-sentry/0.1.0"
        );
        let legacy: Dsn = "https://key:s3@example.com/1".parse().unwrap();
        assert!(legacy.auth_header("c/1").ends_with(", sentry_secret=s3"));
    }

    proptest::proptest! {
        #[test]
        fn parsing_never_panics(s in "\\PC*") {
            let _ = s.parse::<Dsn>();
        }

        #[test]
        fn parsing_dsn_like_strings_never_panics(s in "(https?|ftp)://[a-z:@\\[\\]/0-9.]{0,40}") {
            let _ = s.parse::<Dsn>();
        }
    }
}
