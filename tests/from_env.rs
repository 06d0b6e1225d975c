//! `SentryLayerBuilder::from_env`: values from the environment are checked like the setters'.
//! Its own test binary, because it sets process-wide environment variables.

use tracing_sentry::SentryLayer;

#[test]
fn release_and_environment_from_env_are_validated_and_say_where_they_came_from() {
    std::env::set_var("SENTRY_RELEASE", "api/1.0");
    let err = SentryLayer::builder_from_env().build().unwrap_err();
    assert!(err.is_release(), "{err:?}");
    assert_eq!(
        err.to_string(),
        "invalid release (from SENTRY_RELEASE): contains `/` or a control character"
    );
    // A setter replaces the value read from the environment.
    assert!(SentryLayer::builder_from_env()
        .release("api@1.0")
        .build()
        .is_ok());

    std::env::set_var("SENTRY_RELEASE", "api@1.0");
    std::env::set_var("SENTRY_ENVIRONMENT", "..");
    let err = SentryLayer::builder_from_env().build().unwrap_err();
    assert!(err.is_environment(), "{err:?}");
    assert_eq!(
        err.to_string(),
        "invalid environment (from SENTRY_ENVIRONMENT): a restricted name"
    );

    std::env::set_var("SENTRY_ENVIRONMENT", "staging");
    assert!(SentryLayer::builder_from_env().build().is_ok());
    std::env::remove_var("SENTRY_RELEASE");
    std::env::remove_var("SENTRY_ENVIRONMENT");
    // In the same test: tests of one binary run in parallel and share the environment.
    the_trace_lifecycle_is_read_from_the_environment_and_checked();
}

fn the_trace_lifecycle_is_read_from_the_environment_and_checked() {
    std::env::set_var("SENTRY_TRACE_LIFECYCLE", "streaming");
    let err = SentryLayer::builder_from_env().build().unwrap_err();
    assert!(err.is_trace_lifecycle(), "{err:?}");
    assert!(err.to_string().contains("SENTRY_TRACE_LIFECYCLE"));
    // The setter replaces the value read from the environment.
    assert!(SentryLayer::builder_from_env()
        .trace_lifecycle(tracing_sentry::TraceLifecycle::Stream)
        .build()
        .is_ok());
    for ok in ["stream", "static", "STREAM", ""] {
        std::env::set_var("SENTRY_TRACE_LIFECYCLE", ok);
        assert!(SentryLayer::builder_from_env().build().is_ok(), "{ok:?}");
    }
    std::env::remove_var("SENTRY_TRACE_LIFECYCLE");
}
