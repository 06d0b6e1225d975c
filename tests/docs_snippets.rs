//! The user-facing documentation as a user's crate sees it: snippets that compile as pasted
//! (no `#[cfg(feature = ...)]`, which compiles to nothing outside this crate), the
//! compatibility table true to `Cargo.toml`, and the dependency advice for the `sentry` set-up.

use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn files(dir: &str, ext: &str, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(Path::new(ROOT).join(dir)).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(path.strip_prefix(ROOT).unwrap().to_str().unwrap(), ext, out);
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
}

/// The code blocks of Markdown `text` (or of doc comments, their `///`/`//!` stripped), with
/// their info string.
fn code_blocks(text: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut open: Option<(String, String)> = None;
    for line in text.lines() {
        let line = line.trim_start();
        let line = line
            .strip_prefix("//!")
            .or_else(|| line.strip_prefix("///"))
            .map_or(line, str::trim_start);
        if let Some(info) = line.strip_prefix("```") {
            match open.take() {
                Some(block) => blocks.push(block),
                None => open = Some((info.trim().to_owned(), String::new())),
            }
        } else if let Some((_, body)) = &mut open {
            body.push_str(line);
            body.push('\n');
        }
    }
    blocks
}

fn is_rust(info: &str) -> bool {
    info.is_empty()
        || info.split(',').any(|part| part.trim() == "rust")
        || info
            .split(',')
            .all(|p| ["no_run", "ignore", "should_panic", "compile_fail"].contains(&p.trim()))
}

#[test]
fn no_snippet_depends_on_a_feature_of_this_crate() {
    let mut paths = vec![Path::new(ROOT).join("README.md")];
    files("docs", "md", &mut paths);
    files("src", "rs", &mut paths);
    let mut checked = 0;
    for path in &paths {
        for (info, body) in code_blocks(&read(path)) {
            if !is_rust(&info) {
                continue;
            }
            checked += 1;
            assert!(
                !body.contains("cfg(feature") && !body.contains("cfg!(feature"),
                "{}: a snippet is wrapped in a feature cfg, which compiles to nothing in an \
                 application:\n{body}",
                path.display()
            );
        }
    }
    assert!(checked > 50, "only {checked} Rust snippets found");
}

/// The version requirement of `name` in `Cargo.toml` (its first mention).
fn cargo_version(manifest: &str, name: &str) -> String {
    let line = manifest
        .lines()
        .find(|l| {
            l.starts_with(&format!("{name} = \""))
                || l.starts_with(&format!("{name} = {{ version = \""))
        })
        .unwrap_or_else(|| panic!("{name} is not in Cargo.toml"));
    let start = line.find('"').unwrap() + 1;
    let end = start + line[start..].find('"').unwrap();
    line[start..end].to_owned()
}

#[test]
fn the_compatibility_table_names_the_versions_cargo_toml_uses() {
    let manifest = read(&Path::new(ROOT).join("Cargo.toml"));
    let readme = read(&Path::new(ROOT).join("README.md"));
    let crate_docs = read(&Path::new(ROOT).join("src/lib.rs"));
    let compatibility = readme
        .find("## Compatibility")
        .expect("a Compatibility section");
    let quick_start = readme.find("## Quick start").unwrap();
    assert!(
        compatibility < quick_start,
        "the table comes before the quick start"
    );
    let table = &readme[compatibility..quick_start];
    let crates = [
        "reqwest",
        "reqwest-middleware",
        "sentry",
        "axum",
        "tonic",
        "tower",
        "http",
        "tracing-subscriber",
    ];
    for name in crates {
        // The semver-compatible part (`0.3.18` -> `0.3`, `1.2` -> `1`): what the table names.
        let version = cargo_version(&manifest, name);
        let parts: Vec<&str> = version.split('.').collect();
        let version = if parts[0] == "0" {
            parts[..2].join(".")
        } else {
            parts[0].to_owned()
        };
        let cell = format!("`{name}` {version}");
        assert!(table.contains(&cell), "README table lacks {cell}");
        assert!(crate_docs.contains(&cell), "crate docs lack {cell}");
    }
    let msrv = cargo_version(&manifest, "rust-version");
    let msrv = format!("Rust {msrv} or later (MSRV)");
    assert!(
        table.contains(&msrv) && crate_docs.contains(&msrv),
        "{msrv}"
    );
    for text in [table, crate_docs.as_str()] {
        assert!(text.contains("E0277"));
        assert!(text.contains("not implemented for `SentryReqwestMiddleware`"));
    }
}

#[test]
fn sentry_set_ups_leave_out_the_second_tls_stack() {
    // With `link(..)`, this crate's pipeline (its default `ureq` feature) sends what the
    // `sentry` crate captures: every set-up the README shows keeps `ureq` on and builds the
    // `sentry` crate without its own transport (`default-features = false`).
    let readme = read(&Path::new(ROOT).join("README.md"));
    let blocks: Vec<String> = code_blocks(&readme)
        .into_iter()
        .filter(|(info, body)| info == "toml" && body.contains("\"sentry\""))
        .map(|(_, body)| body)
        .collect();
    assert!(!blocks.is_empty(), "the README shows the dependency lines");
    for block in blocks {
        for line in block.lines() {
            if line.starts_with("tracing-sentry = ") && line.contains("\"sentry\"") {
                assert!(!line.contains("default-features = false"), "{line}");
            }
            if line.starts_with("sentry = ") {
                assert!(line.contains("default-features = false"), "{line}");
            }
        }
        assert!(block.lines().any(|l| l.starts_with("sentry = ")), "{block}");
    }
    assert!(readme.contains("one TLS stack"), "the README says why");
}
