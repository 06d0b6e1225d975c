//! Who we are on the wire: the SDK name and version sent in events, envelope headers,
//! `X-Sentry-Auth` and `User-Agent`.

/// The SDK name sent in events, envelope headers and `X-Sentry-Auth` (a macro, for `concat!`).
macro_rules! sdk_name {
    () => {
        "sentry.rust.tracing-sentry"
    };
}

/// The SDK name alone (the `sentry.sdk.name` attribute of streamed spans).
pub(crate) const SDK_NAME: &str = sdk_name!();

/// `name/version` (the version is this crate's), as `X-Sentry-Auth`'s `sentry_client` and
/// `User-Agent` carry it (the Spotlight post's too).
pub(crate) const CLIENT_NAME: &str = concat!(sdk_name!(), "/", env!("CARGO_PKG_VERSION"));

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
