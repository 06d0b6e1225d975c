//! `code.file.path` without the build machine's directories.
//!
//! `tracing`'s callsite metadata holds the path `file!()` gave when the crate that created the
//! span was compiled: relative to the workspace root for the application's own crates, but
//! absolute for everything Cargo builds elsewhere: crates.io dependencies
//! (`$CARGO_HOME/registry/src/<index>/<crate>-<version>/...`), git dependencies
//! (`$CARGO_HOME/git/checkouts/<repo>-<hash>/<rev>/...`), path dependencies outside the
//! workspace. Those would send the home directory and the machine's layout to Sentry.
//! [`relative`] maps every path to one that is never absolute.

/// Returns `path` relative to its crate or workspace root, as a suffix of `path` (nothing is
/// allocated, nothing is added):
///
/// - a relative path is returned unchanged;
/// - under a Cargo registry (`.../registry/src/<index>/`): from the crate's directory on,
///   `<crate>-<version>/src/lib.rs`;
/// - under a Cargo git checkout (`.../git/checkouts/<repo>-<hash>/<rev>/`): from the
///   repository's root on, `crates/foo/src/lib.rs`;
/// - else from the directory that holds the last `src`, `examples`, `tests` or `benches`
///   directory on (the crate's directory): `mycrate/src/lib.rs`;
/// - else the file name.
///
/// `/` and `\` are both separators, and `C:\`, `\\server\share\` and `\\?\C:\` paths are
/// absolute, so paths from Windows build machines are mapped too.
pub(crate) fn relative(path: &str) -> &str {
    if !is_absolute(path) {
        return path;
    }
    // The last four component names before the current one, nearest last.
    let mut before: [&str; 4] = [""; 4];
    let mut crate_dir = None;
    let mut last = 0;
    for (start, name) in components(path) {
        let [b4, b3, b2, b1] = before;
        if b3 == "registry" && b2 == "src" && !b1.is_empty() && !name.is_empty() {
            return tail(path, start);
        }
        if b4 == "git" && b3 == "checkouts" && !b2.is_empty() && !b1.is_empty() && !name.is_empty()
        {
            return tail(path, start);
        }
        if matches!(name, "src" | "examples" | "tests" | "benches") && is_crate_dir(b1) {
            crate_dir = Some(start - b1.len() - 1);
        }
        before = [b3, b2, b1, name];
        last = start;
    }
    tail(path, crate_dir.unwrap_or(last))
}

/// `path` from `start` on, without what would still make it absolute (a component that reads
/// as a drive, `k:` in `/k:/lib.rs`).
fn tail(path: &str, start: usize) -> &str {
    let mut tail = path.get(start..).unwrap_or_default();
    while is_absolute(tail) {
        let skip = if tail.as_bytes().get(1) == Some(&b':') {
            2
        } else {
            1
        };
        tail = tail.get(skip..).unwrap_or_default();
    }
    tail
}

fn is_separator(c: char) -> bool {
    c == '/' || c == '\\'
}

/// `/...`, `\...` (UNC and device paths included) and `X:...` (a drive).
fn is_absolute(path: &str) -> bool {
    let bytes = path.as_bytes();
    match bytes {
        [b'/' | b'\\', ..] => true,
        [drive, b':', ..] => drive.is_ascii_alphabetic(),
        _ => false,
    }
}

/// A component that can be a crate's directory: not the root, a drive or a device prefix.
fn is_crate_dir(name: &str) -> bool {
    !name.is_empty() && !name.ends_with(':') && name != "?" && name != "."
}

/// Each component of `path` with the byte offset where it starts.
fn components(path: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut start = 0;
    path.split(is_separator).map(move |name| {
        let at = start;
        start += name.len() + 1;
        (at, name)
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn examples() {
        let cases = [
            ("src/main.rs", "src/main.rs"),
            ("crates/api/src/main.rs", "crates/api/src/main.rs"),
            ("../shared/src/lib.rs", "../shared/src/lib.rs"),
            (
                "/home/alice/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/tracing-sentry-0.1.0/src/integrations/tower.rs",
                "tracing-sentry-0.1.0/src/integrations/tower.rs",
            ),
            (
                "/home/alice/.cargo/git/checkouts/tracing-sentry-3f2a1b/54ad971/crates/core/src/lib.rs",
                "crates/core/src/lib.rs",
            ),
            ("/home/alice/work/shared-lib/src/net/mod.rs", "shared-lib/src/net/mod.rs"),
            ("/home/alice/src/projects/app/examples/demo.rs", "app/examples/demo.rs"),
            ("/build/gen/out.rs", "out.rs"),
            ("/src/lib.rs", "lib.rs"),
            (
                r"C:\Users\alice\.cargo\registry\src\index.crates.io-1949cf8c6b5b557f\tracing-sentry-0.1.0\src\lib.rs",
                r"tracing-sentry-0.1.0\src\lib.rs",
            ),
            (r"C:\src\lib.rs", "lib.rs"),
            (r"\\?\C:\work\app\src\main.rs", r"app\src\main.rs"),
            (r"\\server\share\app\tests\it.rs", r"app\tests\it.rs"),
            ("D:/a/app/src/main.rs", "app/src/main.rs"),
            ("/", ""),
            ("/k:", ""),
            ("/x/C:/lib.rs", "lib.rs"),
            ("", ""),
        ];
        for (path, expected) in cases {
            assert_eq!(relative(path), expected, "{path}");
        }
    }

    /// A path component: no separators, never empty, never `.` or `..`.
    fn component() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9_-][a-zA-Z0-9_.-]{0,11}"
    }

    fn join(parts: &[String], sep: char) -> String {
        let mut out = String::new();
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                out.push(sep);
            }
            out.push_str(part);
        }
        out
    }

    /// A home directory on Linux, macOS or Windows, with the separator its system uses.
    fn home() -> impl Strategy<Value = (String, char)> {
        (component(), 0..3u8).prop_map(|(user, os)| match os {
            0 => (format!("/home/{user}"), '/'),
            1 => (format!("/Users/{user}"), '/'),
            _ => (format!(r"C:\Users\{user}"), '\\'),
        })
    }

    proptest! {
        #[test]
        fn never_absolute_never_new_and_stable(
            path in prop_oneof![any::<String>(), r"[/\\a-cC:.?srgitychko]{0,40}"],
        ) {
            let out = relative(&path);
            prop_assert!(!is_absolute(out), "{path:?} -> {out:?}");
            prop_assert!(path.ends_with(out));
            prop_assert_eq!(relative(out), out);
        }

        #[test]
        fn relative_paths_are_unchanged(
            parts in prop::collection::vec(component(), 1..6),
            sep in prop::sample::select(vec!['/', '\\']),
        ) {
            let path = join(&parts, sep);
            prop_assume!(!is_absolute(&path));
            prop_assert_eq!(relative(&path), path.as_str());
        }

        #[test]
        fn registry_paths_start_at_the_crate_directory(
            (home, sep) in home(),
            index in component(),
            krate in component(),
            rest in prop::collection::vec(component(), 1..5),
        ) {
            let tail = join(&rest, sep);
            let path = format!("{home}{sep}.cargo{sep}registry{sep}src{sep}{index}{sep}{krate}{sep}src{sep}{tail}");
            let expected = format!("{krate}{sep}src{sep}{tail}");
            prop_assert_eq!(relative(&path), expected.as_str());
            prop_assert!(!relative(&path).contains(home.as_str()));
        }

        #[test]
        fn git_checkouts_start_at_the_repository_root(
            (home, sep) in home(),
            repo in component(),
            rev in component(),
            rest in prop::collection::vec(component(), 1..5),
        ) {
            let tail = join(&rest, sep);
            let path = format!("{home}{sep}.cargo{sep}git{sep}checkouts{sep}{repo}{sep}{rev}{sep}{tail}");
            prop_assert_eq!(relative(&path), tail.as_str());
        }

        #[test]
        fn other_absolute_paths_start_at_the_crate_directory(
            (home, sep) in home(),
            dirs in prop::collection::vec(component(), 0..4),
            krate in component(),
            kind in prop::sample::select(vec!["src", "examples", "tests", "benches"]),
            rest in prop::collection::vec("[a-z]{1,8}\\.rs", 1..4),
        ) {
            prop_assume!(!rest.iter().any(|r| ["src", "examples", "tests", "benches"].contains(&r.as_str())));
            let path = format!(
                "{home}{sep}{}{}{krate}{sep}{kind}{sep}{}",
                join(&dirs, sep),
                if dirs.is_empty() { String::new() } else { sep.to_string() },
                join(&rest, sep),
            );
            let expected = format!("{krate}{sep}{kind}{sep}{}", join(&rest, sep));
            prop_assert_eq!(relative(&path), expected.as_str());
        }
    }
}
