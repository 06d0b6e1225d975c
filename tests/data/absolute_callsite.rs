// Included with an absolute path by tests/it/code_path.rs: `file!()` of these callsites is that
// absolute path, as it is for a crate compiled outside the application's workspace (crates.io,
// git or path dependencies).
fn span_from_elsewhere() -> tracing::Span {
    tracing::info_span!("from_elsewhere")
}
