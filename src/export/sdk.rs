//! Who we are on the wire: the SDK name and version sent in events, envelope headers,
//! `X-Sentry-Auth` and `User-Agent`.

use super::json::{push_key, push_str};

/// The SDK name sent in events, envelope headers and `X-Sentry-Auth`.
pub(crate) const SDK_NAME: &str = "sentry.rust.tracing-sentry";
/// The SDK version (this crate's).
pub(crate) const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Returns `name/version`, as `X-Sentry-Auth`'s `sentry_client` and `User-Agent` carry it.
#[cfg(feature = "ureq")]
pub(crate) fn client_name() -> String {
    format!("{SDK_NAME}/{SDK_VERSION}")
}

/// Writes `{"name":...,"version":...}`.
pub(crate) fn push_sdk(out: &mut Vec<u8>) {
    out.push(b'{');
    push_key(out, "name");
    push_str(out, SDK_NAME);
    out.push(b',');
    push_key(out, "version");
    push_str(out, SDK_VERSION);
    out.push(b'}');
}
