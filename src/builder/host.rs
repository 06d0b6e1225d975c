//! What the layer says of its host, read once when it is built: the host name (the
//! transaction's `server_name`, a streamed span's `server.address`), the operating system and
//! the compiler. Read without dependencies: `/proc/sys/kernel/*` on Linux, the `HOSTNAME` and
//! `COMPUTERNAME` environment variables elsewhere; what cannot be read is left out.

use crate::export::Host;

/// The longest host fact kept, in bytes (a longer file is not a host name or a version).
const MAX_FACT_BYTES: usize = 256;

/// The host name, as Sentry's SDKs send it in `server_name` (the Python SDK's
/// `socket.gethostname()`, sentry-rust's `hostname`): the kernel's host name on Linux, else
/// `HOSTNAME`, else `COMPUTERNAME` (Windows sets it).
pub(super) fn host_name() -> Option<String> {
    read_fact("/proc/sys/kernel/hostname")
        .or_else(|| env_fact("HOSTNAME"))
        .or_else(|| env_fact("COMPUTERNAME"))
}

/// The operating system and the compiler. On Linux the `os` context is what sentry-rust puts
/// on errors (`uname`'s system name, release and version); elsewhere the system's name only.
pub(super) fn host() -> Host {
    let (os_name, os_version, os_kernel_version) = if cfg!(target_os = "linux") {
        (
            read_fact("/proc/sys/kernel/ostype").or_else(|| Some("Linux".to_owned())),
            read_fact("/proc/sys/kernel/osrelease"),
            read_fact("/proc/sys/kernel/version"),
        )
    } else {
        (Some(os_name(std::env::consts::OS).to_owned()), None, None)
    };
    Host {
        os_name,
        os_version,
        os_kernel_version,
        rustc_version: option_env!("TRACING_SENTRY_RUSTC_VERSION").map(str::to_owned),
    }
}

/// The system's name as Sentry shows it, from `std::env::consts::OS`.
fn os_name(os: &str) -> &str {
    match os {
        "linux" => "Linux",
        "macos" => "macOS",
        "windows" => "Windows",
        "ios" => "iOS",
        "android" => "Android",
        "freebsd" => "FreeBSD",
        "netbsd" => "NetBSD",
        "openbsd" => "OpenBSD",
        "dragonfly" => "DragonFly",
        "solaris" => "Solaris",
        "illumos" => "illumos",
        other => other,
    }
}

fn read_fact(path: &str) -> Option<String> {
    clean(&std::fs::read_to_string(path).ok()?)
}

fn env_fact(name: &str) -> Option<String> {
    clean(&std::env::var(name).ok()?)
}

/// `text` trimmed, if it is not empty, has no control character and is not too long.
fn clean(text: &str) -> Option<String> {
    let text = text.trim();
    let fits =
        !text.is_empty() && text.len() <= MAX_FACT_BYTES && !text.chars().any(char::is_control);
    fits.then(|| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_are_trimmed_and_refused_when_empty_long_or_binary() {
        assert_eq!(clean("web-1\n").as_deref(), Some("web-1"));
        assert_eq!(clean("  \n"), None);
        assert_eq!(clean(&"x".repeat(MAX_FACT_BYTES + 1)), None);
        assert_eq!(clean("a\u{0}b"), None);
    }

    #[test]
    fn system_names_are_sentrys() {
        assert_eq!(os_name("macos"), "macOS");
        assert_eq!(os_name("linux"), "Linux");
        assert_eq!(os_name("haiku"), "haiku");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn on_linux_the_kernel_gives_the_host_and_the_system() {
        // Read independently of the code under test: the files themselves.
        let file = |path: &str| std::fs::read_to_string(path).unwrap().trim().to_owned();
        assert_eq!(host_name(), Some(file("/proc/sys/kernel/hostname")));
        let host = host();
        assert_eq!(host.os_name.as_deref(), Some("Linux"));
        assert_eq!(host.os_version, Some(file("/proc/sys/kernel/osrelease")));
        assert_eq!(
            host.os_kernel_version,
            Some(file("/proc/sys/kernel/version"))
        );
    }

    #[test]
    fn the_compiler_version_is_the_one_that_built_the_crate() {
        let version = host().rustc_version.expect("build.rs recorded it");
        // `1.89.0` or `1.91.0-nightly`: three numbers first.
        let numbers: Vec<&str> = version.split('-').next().unwrap().split('.').collect();
        assert_eq!(numbers.len(), 3, "{version}");
        assert!(
            numbers.iter().all(|n| n.parse::<u32>().is_ok()),
            "{version}"
        );
    }
}
