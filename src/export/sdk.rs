//! Who we are on the wire: the SDK name and version sent in events, envelope headers,
//! `X-Sentry-Auth` and `User-Agent`.

/// The SDK name sent in events, envelope headers and `X-Sentry-Auth` (a macro, for `concat!`).
macro_rules! sdk_name {
    () => {
        "sentry.rust.tracing-sentry"
    };
}

/// The SDK name sent in events, envelope headers and `X-Sentry-Auth`.
pub(crate) const SDK_NAME: &str = sdk_name!();
/// The SDK version (this crate's).
pub(crate) const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Returns `name/version`, as `X-Sentry-Auth`'s `sentry_client` and `User-Agent` carry it.
#[cfg(feature = "ureq")]
pub(crate) fn client_name() -> String {
    format!("{SDK_NAME}/{SDK_VERSION}")
}

/// `{"name":...,"version":...}`, as events and envelope headers carry it (plain ASCII: nothing
/// to escape).
pub(crate) const SDK_JSON: &[u8] = concat!(
    r#"{"name":""#,
    sdk_name!(),
    r#"","version":""#,
    env!("CARGO_PKG_VERSION"),
    r#""}"#
)
.as_bytes();
