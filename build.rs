//! Records the version of the compiler that builds this crate, for the `runtime` context of
//! transactions and the `process.runtime.version` attribute of streamed spans (what Sentry's
//! Rust SDK sends in its `runtime` context). Reads `rustc --version` once per build; if that
//! fails, nothing is recorded and the version is left out.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=RUSTC");
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let Ok(output) = Command::new(rustc).arg("--version").output() else {
        return;
    };
    let text = String::from_utf8_lossy(&output.stdout);
    // `rustc 1.89.0 (29483883e 2025-08-04)`, `rustc 1.91.0-nightly (...)`.
    let version = text.split_whitespace().nth(1).unwrap_or_default();
    if output.status.success()
        && !version.is_empty()
        && version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    {
        println!("cargo:rustc-env=TRACING_SENTRY_RUSTC_VERSION={version}");
    }
}
