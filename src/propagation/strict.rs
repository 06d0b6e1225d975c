//! Strict trace continuation (spec 4).

/// The org id in a DSN host (`^o(\d+)\.`).
pub fn org_id_from_dsn_host(host: &str) -> Option<&str> { let _ = host; unimplemented!() }
/// Whether to continue an incoming trace given both org ids.
pub fn should_continue_trace(incoming: Option<&str>, ours: Option<&str>, strict: bool) -> bool { let _ = (incoming, ours, strict); unimplemented!() }
