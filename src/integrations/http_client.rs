//! Outgoing HTTP requests: an `http.client` span, trace headers where the propagation targets
//! allow them, and the response status.
//!
//! This is the building block of the client integrations (the `reqwest` middleware and the
//! `tower` client layer); use it directly with any other client whose headers are an
//! [`http::HeaderMap`].
//!
//! # What the span carries
//!
//! Following Sentry's span data conventions, and keeping private data out of span names:
//!
//! | | value |
//! | --- | --- |
//! | op | `http.client` |
//! | description | `METHOD scheme://host/path`: no query, no fragment, credentials replaced by `[Filtered]` |
//! | `http.request.method`, `url.full` | span fields (also shown by a fmt layer); `url.full` is sanitized like the description |
//! | `http.query`, `http.fragment`, `server.address`, `server.port` | data set through the layer (not span fields, so they stay out of local logs) |
//! | `http.response.status_code` | data set through the layer with the response |
//! | status | from the HTTP status as Sentry's SDKs map it, `internal_error` when no response came |
//!
//! Nothing from the request headers is recorded. The trace propagation targets are matched
//! against the full URL (query included), as Sentry's SDKs match them.

use std::fmt::{self, Write as _};

use http::{HeaderMap, Method, Request, StatusCode};
use tracing::Span;

use crate::field::FieldValue;
use crate::span::recording::Property;
use crate::status::SpanStatus;

/// What replaces the user name and password of a URL in span names and data.
const FILTERED: &str = "[Filtered]";

/// The span origin of spans created by this crate's client integrations.
pub(crate) const ORIGIN_CLIENT: &str = "auto.http.tracing_sentry";

/// An outgoing request in flight: its `http.client` span, started by [`OutgoingRequest::start`].
///
/// # Examples
///
/// ```
/// use tracing_sentry::integrations::http_client::OutgoingRequest;
/// use tracing_sentry::SentryLayer;
/// use tracing_subscriber::prelude::*;
///
/// let subscriber = tracing_subscriber::registry().with(SentryLayer::new());
/// tracing::subscriber::with_default(subscriber, || {
///     let _handler = tracing::info_span!("handler").entered();
///
///     let mut request = http::Request::get("http://payments.internal/charge")
///         .header("baggage", "tenant=t42")
///         .body(())
///         .unwrap();
///     let call = OutgoingRequest::start(&mut request);
///     assert!(request.headers().contains_key("sentry-trace"));
///     assert!(request.headers()["baggage"].to_str().unwrap().starts_with("tenant=t42,sentry-"));
///
///     // ... send `request` with any client, then:
///     call.finish(http::StatusCode::OK);
/// });
/// ```
#[derive(Debug)]
#[must_use = "finish the request with `finish` or `finish_with_error` to record its outcome"]
pub struct OutgoingRequest {
    span: Span,
}

impl OutgoingRequest {
    /// Starts an `http.client` span (a child of the current span) described as
    /// `METHOD scheme://host/path`, and adds `sentry-trace`, `baggage` (merged with any
    /// existing `baggage`) and, if configured, `traceparent` to `request`, naming that span as
    /// the parent, unless the
    /// [trace propagation targets](crate::SentryLayerBuilder::trace_propagation_targets) exclude
    /// the request's URL.
    ///
    /// # Examples
    ///
    /// ```
    /// use tracing_sentry::integrations::http_client::OutgoingRequest;
    ///
    /// let mut request = http::Request::get("http://inventory.internal/items").body(()).unwrap();
    /// let call = OutgoingRequest::start(&mut request);
    /// call.finish(http::StatusCode::OK);
    /// ```
    pub fn start<B>(request: &mut Request<B>) -> Self {
        Self::start_http(request, false)
    }

    /// Starts the span of an `http::Request`, a `grpc.client` span if `grpc` and the path
    /// names a gRPC method.
    pub(crate) fn start_http<B>(request: &mut Request<B>, grpc: bool) -> Self {
        // Take the headers out rather than copy the URI: the parts borrow the request.
        let mut headers = std::mem::take(request.headers_mut());
        let uri = request.uri();
        let parts = UrlParts::of_uri(uri);
        let grpc = if grpc {
            crate::integrations::grpc::service_and_method(uri.path())
        } else {
            None
        };
        // The targets are matched against the URL as sent (an `http::Uri` has no fragment).
        let full = uri.to_string();
        let call = Self::start_parts(request.method(), &parts, &full, &mut headers, grpc);
        *request.headers_mut() = headers;
        call
    }

    /// Starts the span for a request given as its parts (the client integrations' entry).
    pub(crate) fn start_parts(
        method: &Method,
        url: &UrlParts<'_>,
        full_url: &str,
        headers: &mut HeaderMap,
        grpc: Option<(&str, &str)>,
    ) -> Self {
        // Written only if a layer reads it (no allocation in an unsampled trace without a
        // fmt layer).
        let sanitized = Sanitized(url);
        let span = match grpc {
            None => tracing::info_span!(
                "http.client",
                http.request.method = method.as_str(),
                url.full = %sanitized,
            ),
            Some((service, rpc_method)) => tracing::info_span!(
                "grpc.client",
                rpc.system = "grpc",
                rpc.service = service,
                rpc.method = rpc_method,
            ),
        };
        let _ = crate::span::access::with_registry_span(&span, |span| {
            crate::span::access::with_span_data(&span, |data| {
                if data.root.config.targets.matches(full_url) {
                    crate::span::access::insert_headers(data, headers, true);
                }
            });
            crate::span::properties::set_typed_properties_on(&span, || {
                let (op, description) = match grpc {
                    None => {
                        // Sized once: the sanitized URL is at most the full one (plus a
                        // `[Filtered]` for short credentials, which then grows it once).
                        let mut description =
                            String::with_capacity(method.as_str().len() + 1 + full_url.len());
                        let _ = write!(description, "{method} {sanitized}");
                        ("http.client", description)
                    }
                    Some(_) => ("grpc.client", url.path.to_owned()),
                };
                client_properties(url, op, description)
            });
        });
        Self { span }
    }

    /// Gives up the handle: the span is closed when the returned `Span` is dropped.
    #[cfg(feature = "tower")]
    pub(crate) fn into_span(self) -> Span {
        self.span
    }

    /// Returns the `http.client` span, to enter around the call or to add fields to.
    ///
    /// # Examples
    ///
    /// ```
    /// use tracing_sentry::integrations::http_client::OutgoingRequest;
    ///
    /// let mut request = http::Request::get("http://inventory.internal/items").body(()).unwrap();
    /// let call = OutgoingRequest::start(&mut request);
    /// let _entered = call.span().enter();
    /// // ... the client's own spans and events nest under `http.client` here.
    /// # drop(_entered);
    /// call.finish(http::StatusCode::OK);
    /// ```
    pub fn span(&self) -> &Span {
        &self.span
    }

    /// Records the response status (and the span status Sentry's SDKs map it to) and closes the
    /// span.
    ///
    /// # Examples
    ///
    /// ```
    /// use tracing_sentry::integrations::http_client::OutgoingRequest;
    ///
    /// let mut request = http::Request::get("http://inventory.internal/items").body(()).unwrap();
    /// let call = OutgoingRequest::start(&mut request);
    /// call.finish(http::StatusCode::NOT_FOUND); // status `not_found`
    /// ```
    pub fn finish(self, status: StatusCode) {
        record_status_code(
            &self.span,
            "http.response.status_code",
            status.as_u16().into(),
        );
    }

    /// Records a span status chosen by the caller (for example from a gRPC status, see
    /// [`grpc::span_status`](crate::integrations::grpc::span_status)) and closes the span.
    ///
    /// # Examples
    ///
    /// ```
    /// use tracing_sentry::integrations::http_client::OutgoingRequest;
    /// use tracing_sentry::SpanStatus;
    ///
    /// let mut request = http::Request::post("http://inventory.internal/pkg.Items/Get")
    ///     .body(())
    ///     .unwrap();
    /// let call = OutgoingRequest::start(&mut request);
    /// call.finish_with_status(SpanStatus::NotFound);
    /// ```
    pub fn finish_with_status(self, status: SpanStatus) {
        set_status(&self.span, status);
    }

    /// Records a failed request (no response: connection error, timeout) as `internal_error`
    /// and closes the span.
    ///
    /// # Examples
    ///
    /// ```
    /// use tracing_sentry::integrations::http_client::OutgoingRequest;
    ///
    /// let mut request = http::Request::get("http://inventory.internal/items").body(()).unwrap();
    /// let call = OutgoingRequest::start(&mut request);
    /// call.finish_with_error(); // e.g. the connection was refused
    /// ```
    pub fn finish_with_error(self) {
        set_status(&self.span, SpanStatus::InternalError);
    }
}

/// Sets the span status through the layer (no `sentry.status` span field).
pub(crate) fn set_status(span: &Span, status: SpanStatus) {
    crate::span::properties::set_typed_properties(span, || [Property::Status(status)]);
}

/// Records a response's status code as `field` and the span status it maps to, in one trip
/// through the layer (the code is not a span field: it would only show on the span's close).
pub(crate) fn record_status_code(span: &Span, field: &'static str, code: i64) {
    let status = match field {
        "rpc.grpc.status_code" => {
            crate::integrations::grpc::span_status(i32::try_from(code).unwrap_or(-1))
        }
        _ => SpanStatus::from_http_status(u16::try_from(code).unwrap_or(0)),
    };
    crate::span::properties::set_typed_properties(span, || {
        [
            Property::Status(status),
            Property::Data(field, FieldValue::I64(code)),
        ]
    });
}

/// The client span's properties and data, in the order they are sent.
fn client_properties(
    url: &UrlParts<'_>,
    op: &'static str,
    description: String,
) -> impl Iterator<Item = Property> {
    let text = |s: &str| FieldValue::Str(s.to_owned());
    [
        Some(Property::Op(op)),
        Some(Property::Name(description)),
        Some(Property::Origin(ORIGIN_CLIENT)),
        url.query
            .filter(|q| !q.is_empty())
            .map(|q| Property::Data("http.query", text(q))),
        url.fragment
            .filter(|f| !f.is_empty())
            .map(|f| Property::Data("http.fragment", text(f))),
        url.host.map(|h| Property::Data("server.address", text(h))),
        url.port
            .or_else(|| default_port(url.scheme))
            .map(|p| Property::Data("server.port", FieldValue::U64(p.into()))),
    ]
    .into_iter()
    .flatten()
}

fn default_port(scheme: Option<&str>) -> Option<u16> {
    match scheme? {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

/// The user information (`user:password`) of an authority, if it has one.
fn user_info(authority: &str) -> Option<UserInfo> {
    let (info, _) = authority.rsplit_once('@')?;
    Some(if info.contains(':') {
        UserInfo::UserAndPassword
    } else {
        UserInfo::User
    })
}

/// Which credentials a URL carries (never their values).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum UserInfo {
    User,
    UserAndPassword,
}

/// A URL taken apart, whichever type it came from (`http::Uri`, `url::Url`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct UrlParts<'a> {
    pub(crate) scheme: Option<&'a str>,
    pub(crate) user_info: Option<UserInfo>,
    pub(crate) host: Option<&'a str>,
    pub(crate) port: Option<u16>,
    pub(crate) path: &'a str,
    pub(crate) query: Option<&'a str>,
    pub(crate) fragment: Option<&'a str>,
}

impl<'a> UrlParts<'a> {
    /// The parts of an `http::Uri` (which has no fragment).
    pub(crate) fn of_uri(uri: &'a http::Uri) -> Self {
        let authority = uri.authority();
        UrlParts {
            scheme: uri.scheme_str(),
            user_info: authority.and_then(|a| user_info(a.as_str())),
            host: authority.map(|a| a.host()),
            port: authority.and_then(|a| a.port_u16()),
            path: uri.path(),
            query: uri.query(),
            fragment: None,
        }
    }

    /// `scheme://host:port/path`, credentials replaced by `[Filtered]`, without the query and
    /// the fragment: what may appear in a span's description and `url.full`.
    #[cfg(test)]
    pub(crate) fn sanitized(&self) -> String {
        Sanitized(self).to_string()
    }
}

/// Writes a URL as `scheme://host:port/path`, credentials replaced by `[Filtered]`, without
/// the query and the fragment: what may appear in a span's description and `url.full`.
#[derive(Clone, Copy)]
struct Sanitized<'u, 'a>(&'u UrlParts<'a>);

impl fmt::Display for Sanitized<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = self.0;
        if let Some(host) = url.host {
            if let Some(scheme) = url.scheme {
                write!(f, "{scheme}:")?;
            }
            f.write_str("//")?;
            match url.user_info {
                Some(UserInfo::UserAndPassword) => write!(f, "{FILTERED}:{FILTERED}@")?,
                Some(UserInfo::User) => write!(f, "{FILTERED}@")?,
                None => {}
            }
            f.write_str(host)?;
            if let Some(port) = url.port {
                write!(f, ":{port}")?;
            }
        }
        f.write_str(url.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts_of(uri: &str) -> (String, Option<String>) {
        let mut request = Request::get(uri).body(()).unwrap();
        let uri = request.uri_mut().clone();
        let parts = UrlParts::of_uri(&uri);
        (parts.sanitized(), parts.query.map(str::to_owned))
    }

    #[rustfmt::skip]
    const CASES: &[(&str, &str, Option<&str>)] = &[
        // (request URI, sanitized URL, query)
        ("http://api.internal/items", "http://api.internal/items", None),
        ("https://api.internal:8443/a/b?token=s3cret&x=1", "https://api.internal:8443/a/b", Some("token=s3cret&x=1")),
        ("https://alice:hunter2@api.internal/p", "https://[Filtered]:[Filtered]@api.internal/p", None),
        ("https://alice@api.internal/p?k=v", "https://[Filtered]@api.internal/p", Some("k=v")),
        ("http://[::1]:8080/x", "http://[::1]:8080/x", None),
        ("/relative/path?q=1", "/relative/path", Some("q=1")),
    ];

    #[test]
    fn urls_lose_their_query_and_credentials() {
        for (uri, sanitized, query) in CASES {
            let (got, got_query) = parts_of(uri);
            assert_eq!(&got, sanitized, "{uri}");
            assert_eq!(got_query.as_deref(), *query, "{uri}");
            assert!(!got.contains("hunter2") && !got.contains("alice") && !got.contains("s3cret"));
        }
    }

    proptest::proptest! {
        #[test]
        fn no_credential_or_query_survives_sanitizing(
            user in "[5-9]{1,12}",
            password in "[A-Z0-9]{1,12}",
            path in "(/[a-z0-4._-]{0,8}){0,4}",
            query in "[a-zA-Z0-9=&%._-]{0,40}",
        ) {
            // Credentials use alphabets that nothing else in the output contains (digits 5-9, a
            // `Q` marker).
            let uri = format!("https://{user}:Q{password}@host.internal{path}?QX{query}");
            let Ok(mut request) = Request::get(uri.as_str()).body(()) else {
                return Ok(()); // not a URI `http` accepts
            };
            let uri = request.uri_mut().clone();
            let parts = UrlParts::of_uri(&uri);
            let sanitized = parts.sanitized();
            proptest::prop_assert!(!sanitized.contains('Q'), "{}", sanitized);
            proptest::prop_assert!(!sanitized.contains(&user), "{}", sanitized);
            proptest::prop_assert!(
                sanitized.starts_with("https://[Filtered]:[Filtered]@host.internal"),
                "{}",
                sanitized
            );
        }
    }
}
