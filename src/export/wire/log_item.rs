//! Logs ([`LogBatch`]) become one `log` item (develop docs, "Logs" telemetry, the Sentry Log
//! protocol): the container `{"version":2,"items":[...]}` with content type
//! `application/vnd.sentry.items.log+json` and the item header's `item_count`. The container's
//! `version` is what `sentry-sdk` 2.75.0 and `@sentry/node` 11.12.0 send (the interop suite
//! compares their log items with ours), as for span v2 items.
//!
//! Each log carries `timestamp` (float seconds), `trace_id`, `span_id` (top-level, where
//! `sentry-sdk` 2.75.0 puts it; earlier SDKs sent the attribute `sentry.trace.parent_span_id`),
//! `level` (`trace`, `debug`, `info`, `warn`, `error`), `body`, and typed `attributes`: the
//! event's fields, then what every log carries (`sentry.sdk.name`/`version`,
//! `sentry.environment`, `sentry.release`, `server.address` when there is a server name,
//! `process.runtime.name`/`version` as `sentry-sdk` sends them,
//! `sentry.origin` = `auto.log.tracing` as the spec names logs captured from a logging
//! library, `sentry.severity_number`/`sentry.severity_text` as `sentry-sdk` writes them, and
//! `code.file.path` (never absolute: see `code_path`), `code.line.number`,
//! `code.module.name` from the callsite). A field with
//! one of those names is left out rather than written twice.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::export::record::{FieldValue, LogBatch, SentryLog};
use crate::export::wire::json::{push_epoch_seconds, push_str, push_str_parts};
use crate::export::wire::sdk::SDK_NAME;
use crate::export::wire::span_item::Attributes;
use crate::export::wire::transaction::{repeated_later, EventMeta, RUNTIME_NAME};

/// The item's content type.
pub(crate) const LOG_CONTENT_TYPE: &str = "application/vnd.sentry.items.log+json";

/// `sentry.origin` of every log: captured from a logging library (`auto.log.<library>`).
pub(crate) const LOG_ORIGIN: &str = "auto.log.tracing";

/// The start of a log or metric item container, up to its first item: the version the pinned
/// SDKs write, then the items.
pub(crate) const CONTAINER_OPEN: &[u8] = br#"{"version":2,"items":["#;

/// Attribute keys this module writes itself, besides [`COMMON_KEYS`].
const RESERVED: &[&str] = &[
    "sentry.origin",
    "sentry.severity_number",
    "sentry.severity_text",
];

/// The level's name and OpenTelemetry severity number (the first of its range, as the SDKs
/// send them: trace 1, debug 5, info 9, warn 13, error 17).
pub(crate) fn severity(level: tracing_core::Level) -> (&'static str, i64) {
    match level {
        tracing_core::Level::TRACE => ("trace", 1),
        tracing_core::Level::DEBUG => ("debug", 5),
        tracing_core::Level::INFO => ("info", 9),
        tracing_core::Level::WARN => ("warn", 13),
        _ => ("error", 17),
    }
}

/// Writes the item payload for `batch` into `out`.
pub(crate) fn write_log_payload(out: &mut Vec<u8>, batch: &LogBatch, meta: &EventMeta) {
    out.extend_from_slice(CONTAINER_OPEN);
    for (i, log) in batch.items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_log(out, log, meta);
    }
    out.extend_from_slice(b"]}");
}

fn write_log(out: &mut Vec<u8>, log: &SentryLog, meta: &EventMeta) {
    let (level, number) = severity(log.level);
    out.extend_from_slice(br#"{"timestamp":"#);
    push_epoch_seconds(out, since_epoch(log.timestamp));
    push_ids(out, log.trace_id, log.span_id);
    out.extend_from_slice(br#","level":"#);
    push_str(out, level);
    out.extend_from_slice(br#","body":"#);
    push_str(out, &log.body);
    out.extend_from_slice(br#","attributes":{"#);
    let mut attrs = Attributes { out, first: true };
    write_user_attributes(&mut attrs, &log.attributes, RESERVED);
    write_common(&mut attrs, meta);
    attrs.string("sentry.origin", LOG_ORIGIN);
    attrs.value("sentry.severity_number", &FieldValue::I64(number));
    attrs.string("sentry.severity_text", level);
    if let Some(metadata) = log.metadata {
        let has = |key: &str| log.attributes.iter().any(|(k, _)| k == key);
        if let Some(file) = metadata.file().filter(|_| !has("code.file.path")) {
            attrs.string("code.file.path", crate::code_path::relative(file));
        }
        if let Some(line) = metadata.line().filter(|_| !has("code.line.number")) {
            attrs.value("code.line.number", &FieldValue::I64(i64::from(line)));
        }
        if let Some(module) = metadata.module_path().filter(|_| !has("code.module.name")) {
            attrs.string("code.module.name", module);
        }
    }
    out.extend_from_slice(b"}}");
}

/// Writes `,"trace_id":"…"` and, if there is one, `,"span_id":"…"`.
pub(crate) fn push_ids(
    out: &mut Vec<u8>,
    trace_id: crate::id::TraceId,
    span_id: Option<crate::id::SpanId>,
) {
    out.extend_from_slice(br#","trace_id":"#);
    let trace = trace_id.to_hex();
    push_str_parts(out, &[std::str::from_utf8(&trace).unwrap_or_default()]);
    if let Some(span_id) = span_id {
        out.extend_from_slice(br#","span_id":"#);
        let span = span_id.to_hex();
        push_str_parts(out, &[std::str::from_utf8(&span).unwrap_or_default()]);
    }
}

/// The user's attributes: a key repeated later, one of `reserved` or one of [`COMMON_KEYS`] is
/// left out.
pub(crate) fn write_user_attributes(
    attrs: &mut Attributes<'_>,
    data: &[(std::borrow::Cow<'static, str>, FieldValue)],
    reserved: &[&str],
) {
    for (i, (key, value)) in data.iter().enumerate() {
        if repeated_later(data, i)
            || reserved.contains(&key.as_ref())
            || COMMON_KEYS.contains(&key.as_ref())
        {
            continue;
        }
        attrs.value(key, value);
    }
}

/// Attribute keys every log and metric gets from [`write_common`].
pub(crate) const COMMON_KEYS: &[&str] = &[
    "sentry.sdk.name",
    "sentry.sdk.version",
    "sentry.environment",
    "sentry.release",
    "server.address",
    "process.runtime.name",
    "process.runtime.version",
];

/// What every log and metric carries: the SDK, the environment, the release, the server and
/// the runtime (`process.runtime.name`/`version`, which `sentry-sdk` 2.75.0 puts on its logs
/// and metrics and the crate on its streamed spans).
///
/// They never change for a pipeline: written once, then copied.
pub(crate) fn write_common(attrs: &mut Attributes<'_>, meta: &EventMeta) {
    let json = meta.common_attributes.get_or_init(|| {
        let mut json = Vec::with_capacity(384);
        write_common_entries(
            &mut Attributes {
                out: &mut json,
                first: true,
            },
            meta,
        );
        json
    });
    if json.is_empty() {
        return;
    }
    if !attrs.first {
        attrs.out.push(b',');
    }
    attrs.first = false;
    attrs.out.extend_from_slice(json);
}

/// The attributes of [`write_common`], one by one.
fn write_common_entries(attrs: &mut Attributes<'_>, meta: &EventMeta) {
    attrs.string("sentry.sdk.name", SDK_NAME);
    attrs.string("sentry.sdk.version", env!("CARGO_PKG_VERSION"));
    attrs.string("sentry.environment", &meta.environment);
    if let Some(release) = &meta.release {
        attrs.string("sentry.release", release);
    }
    if let Some(server) = &meta.server_name {
        attrs.string("server.address", server);
    }
    attrs.string("process.runtime.name", RUNTIME_NAME);
    if let Some(version) = &meta.host.rustc_version {
        attrs.string("process.runtime.version", version);
    }
}

/// The time since the epoch (zero before it), written as float seconds to the microsecond
/// by [`push_epoch_seconds`].
pub(crate) fn since_epoch(t: SystemTime) -> Duration {
    t.duration_since(UNIX_EPOCH).unwrap_or_default()
}

/// The size Relay counts for a log in `log_byte` outcomes: the body's bytes plus each
/// attribute's key and value (strings their bytes, numbers 8, booleans 1), at least 1
/// (Relay's `relay-ourlogs` size and the EAP attribute size rules, as `sentry-types` 0.49
/// computes it for its client reports).
pub(crate) fn log_byte_size(log: &SentryLog) -> u64 {
    let attrs: usize = log
        .attributes
        .iter()
        .map(|(key, value)| key.len() + value_size(value))
        .sum();
    ((log.body.len() + attrs) as u64).max(1)
}

fn value_size(value: &FieldValue) -> usize {
    match value {
        FieldValue::Bool(_) => 1,
        FieldValue::Str(s) => s.len(),
        _ => 8,
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use serde_json::Value;

    use super::*;
    use crate::export::record::TelemetryBatch;
    use crate::id::{SpanId, TraceId};

    fn meta() -> EventMeta {
        EventMeta {
            release: Some("svc@1".to_owned()),
            environment: "production".to_owned(),
            ..EventMeta::default()
        }
    }

    fn log(body: &str) -> SentryLog {
        SentryLog {
            level: tracing_core::Level::INFO,
            body: body.to_owned(),
            attributes: vec![("n".into(), FieldValue::I64(3))],
            trace_id: TraceId::from_bytes([0x11; 16]),
            span_id: Some(SpanId::from_bytes([0x22; 8])),
            timestamp: UNIX_EPOCH + Duration::from_millis(1_700_000_000_250),
            metadata: None,
        }
    }

    /// `sentry-sdk` 2.75.0 and `@sentry/node` 11.12.0 both send `{"version": 2, "items": [...]}`
    /// for logs (observed by the interop suite); the container once lacked `version`.
    #[test]
    fn the_container_has_version_2_and_the_items() {
        let batch = TelemetryBatch {
            items: vec![log("a"), log("b")],
            bytes: 0,
        };
        let mut out = Vec::new();
        write_log_payload(&mut out, &batch, &meta());
        let payload: Value = serde_json::from_slice(&out).unwrap();
        let mut keys: Vec<&str> = payload
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(keys, ["items", "version"]);
        assert_eq!(payload["version"], 2);
        let items = payload["items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[1]["body"], "b");
        assert_eq!(items[0]["trace_id"], "11111111111111111111111111111111");
        assert_eq!(items[0]["span_id"], "2222222222222222");
        assert_eq!(items[0]["timestamp"], 1_700_000_000.25);
        assert_eq!(
            items[0]["attributes"]["n"],
            serde_json::json!({"type": "integer", "value": 3})
        );
    }
    /// `sentry-sdk` 2.75.0 puts its runtime on every log and metric (`process.runtime.name`,
    /// `process.runtime.version`; seen by the interop suite); they once lacked it. A field of
    /// the same name does not override it.
    #[test]
    fn logs_carry_the_runtime_as_sentry_sdk_does() {
        let mut meta = meta();
        meta.host.rustc_version = Some("1.90.0".to_owned());
        let mut with_field = log("a");
        with_field.attributes.push((
            "process.runtime.name".into(),
            FieldValue::Str("mine".into()),
        ));
        let batch = TelemetryBatch {
            items: vec![with_field],
            bytes: 0,
        };
        let mut out = Vec::new();
        write_log_payload(&mut out, &batch, &meta);
        let payload: Value = serde_json::from_slice(&out).unwrap();
        let attributes = &payload["items"][0]["attributes"];
        assert_eq!(
            attributes["process.runtime.name"],
            serde_json::json!({"type": "string", "value": "rustc"})
        );
        assert_eq!(
            attributes["process.runtime.version"],
            serde_json::json!({"type": "string", "value": "1.90.0"})
        );
        let text = std::str::from_utf8(&out).unwrap();
        assert_eq!(text.matches("process.runtime.name").count(), 1);
    }
}
