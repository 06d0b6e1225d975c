//! Streamed spans ([`SpanBatch`]) become one span v2 item: `{"version":2,"items":[...]}`
//! (develop docs, "Spans" telemetry; Relay's `SpanV2` schema).
//!
//! Each span carries `trace_id`, `span_id`, `parent_span_id` (left out at a root without a
//! remote parent), `name`, `status` (`ok` or `error`), `is_segment`, float
//! `start_timestamp`/`end_timestamp` (seconds), typed `attributes`
//! (`{"type":"string"|"boolean"|"integer"|"double","value":...}`) and `links` from
//! `follows_from`. The transaction's fields move into attributes: `sentry.op`,
//! `sentry.origin`, `sentry.release`, `sentry.environment`, `sentry.sdk.name`/`version`,
//! `sentry.segment.id`/`name`, `sentry.trace_lifecycle`, and on the segment
//! `sentry.segment.name.source`. The detailed status (`internal_error`, `not_found`, ...) a
//! transaction would carry is kept in `sentry.status.message`, since span v2 has only `ok` and
//! `error`.

use crate::export::record::{FieldValue, SpanBatch, SpanRecord, StreamedSpan};
use crate::export::wire::json::{
    push_any_key, push_bool, push_epoch_seconds, push_f64, push_i64, push_str, push_u64, EpochClock,
};
use crate::export::wire::transaction::{
    hex, ids_prefix, push_links, EventMeta, IdsPrefix, ThreadData, RUNTIME_NAME,
};
use crate::status::SpanStatus;

/// The item's content type.
pub(crate) const SPAN_CONTENT_TYPE: &str = "application/vnd.sentry.items.span.v2+json";

/// Attribute keys this module writes itself: a span field with one of these names is left out
/// rather than written twice.
const RESERVED: &[&str] = &[
    "sentry.op",
    "sentry.origin",
    "sentry.release",
    "sentry.environment",
    "sentry.sdk.name",
    "sentry.sdk.version",
    "sentry.segment.id",
    "sentry.segment.name",
    "sentry.segment.name.source",
    "sentry.trace_lifecycle",
    "sentry.status.message",
];

/// Writes the item payload for `batch` into `out`.
pub(crate) fn write_span_payload(out: &mut Vec<u8>, batch: &SpanBatch, meta: &EventMeta) {
    let ids = ids_prefix(batch.trace_id);
    out.extend_from_slice(br#"{"version":2,"items":["#);
    for (i, span) in batch.spans.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_span(out, &ids, span, meta);
    }
    out.extend_from_slice(b"]}");
}

fn write_span(out: &mut Vec<u8>, ids: &IdsPrefix, span: &StreamedSpan, meta: &EventMeta) {
    let record = &span.record;
    out.push(b'{');
    crate::export::wire::transaction::push_ids(out, ids, record);
    out.extend_from_slice(br#","name":"#);
    if span.is_segment {
        // The transaction's name, as the transaction would carry it.
        push_str(out, &span.segment_name);
    } else {
        // The description the transaction's span would carry: explicit, or the span's name.
        let name = match (record.description(), record.metadata) {
            (Some(description), _) => description.as_str(),
            (None, Some(metadata)) => metadata.name(),
            (None, None) => "",
        };
        push_str(out, name);
    }
    out.extend_from_slice(br#","status":"#);
    push_str(out, status_of(record.status));
    out.extend_from_slice(br#","is_segment":"#);
    push_bool(out, span.is_segment);
    let (start, end) = EpochClock::new(&span.clock).span(record.start, record.end);
    out.extend_from_slice(br#","start_timestamp":"#);
    push_epoch_seconds(out, start);
    out.extend_from_slice(br#","end_timestamp":"#);
    push_epoch_seconds(out, end);
    out.extend_from_slice(br#","attributes":{"#);
    write_attributes(out, span, meta);
    out.push(b'}');
    if !record.links().is_empty() {
        out.extend_from_slice(br#","links":"#);
        push_links(out, record.links());
    }
    out.push(b'}');
}

/// `ok` for a span without a status or with `ok`, `error` for any other status (span v2 knows
/// only these two; `@sentry/node` maps `cancelled` to `ok`, we keep every non-`ok` status an
/// error, as the transaction's span would count it as failed).
fn status_of(status: Option<SpanStatus>) -> &'static str {
    match status {
        None | Some(SpanStatus::Ok) => "ok",
        Some(_) => "error",
    }
}

/// Writes the attributes (without braces).
fn write_attributes(out: &mut Vec<u8>, span: &StreamedSpan, meta: &EventMeta) {
    let record = &span.record;
    let mut attrs = Attributes { out, first: true };
    let op_parts: [&str; 3];
    let op: &[&str] = if !record.op().is_empty() {
        op_parts = [record.op().as_ref(), "", ""];
        &op_parts
    } else if let Some(metadata) = record.metadata {
        // `{target}::{name}` of the callsite, as the transaction's span would have it.
        op_parts = [metadata.target(), "::", metadata.name()];
        &op_parts
    } else {
        &[]
    };
    if !op.is_empty() {
        attrs.string_parts("sentry.op", op);
    }
    attrs.string("sentry.origin", record.origin());
    if let Some(release) = &meta.release {
        attrs.string("sentry.release", release);
    }
    attrs.string("sentry.environment", &meta.environment);
    attrs.string("sentry.sdk.name", crate::export::wire::sdk::SDK_NAME);
    attrs.string("sentry.sdk.version", env!("CARGO_PKG_VERSION"));
    attrs.string_parts("sentry.segment.id", &[hex(&span.segment_id.to_hex())]);
    attrs.string("sentry.segment.name", &span.segment_name);
    if span.is_segment {
        attrs.string("sentry.segment.name.source", span.source.as_str());
    }
    attrs.string("sentry.trace_lifecycle", "stream");
    if let Some(status) = record.status.filter(|s| *s != SpanStatus::Ok) {
        attrs.string("sentry.status.message", status.as_str());
    }
    let mut scratch = Vec::new();
    let data = record.data_slice(&mut scratch);
    for (i, (key, value)) in data.iter().enumerate() {
        if crate::export::wire::transaction::repeated_later(data, i)
            || RESERVED.contains(&key.as_ref())
        {
            continue;
        }
        attrs.value(key, value);
    }
    if let Some(metadata) = record.metadata {
        let has = |key: &str| data.iter().any(|(k, _)| k == key);
        if let Some(module) = metadata.module_path().filter(|_| !has("code.module.name")) {
            attrs.string("code.module.name", module);
        }
        if let Some(file) = metadata.file().filter(|_| !has("code.file.path")) {
            attrs.string("code.file.path", crate::code_path::relative(file));
        }
        if let Some(line) = metadata.line().filter(|_| !has("code.line.number")) {
            attrs.value("code.line.number", &FieldValue::I64(i64::from(line)));
        }
    }
    write_common_attributes(&mut attrs, record, data, meta);
}

/// The span protocol's common attributes that describe the process rather than the span (a
/// span field of the same name wins: a client span's `server.address` is its peer's): the
/// host (`server.address`, the transaction's `server_name`), `os.name`, the runtime
/// (`process.runtime.name`/`version`, as the Python SDK sends them), and the thread the span
/// started on (`thread.id`, a string as the protocol has it, and `thread.name`). Empty ones
/// are left out, as the protocol asks.
fn write_common_attributes(
    attrs: &mut Attributes<'_>,
    record: &SpanRecord,
    data: &[(std::borrow::Cow<'static, str>, FieldValue)],
    meta: &EventMeta,
) {
    let free = |key: &str| !data.iter().any(|(k, _)| k == key);
    if let Some(server) = meta
        .server_name
        .as_deref()
        .filter(|_| free("server.address"))
    {
        attrs.string("server.address", server);
    }
    if let Some(os) = meta.host.os_name.as_deref().filter(|_| free("os.name")) {
        attrs.string("os.name", os);
    }
    if free("process.runtime.name") {
        attrs.string("process.runtime.name", RUNTIME_NAME);
    }
    if let Some(version) = meta
        .host
        .rustc_version
        .as_deref()
        .filter(|_| free("process.runtime.version"))
    {
        attrs.string("process.runtime.version", version);
    }
    let thread = ThreadData::of(record.thread);
    if let Some(id) = thread.id().filter(|_| free("thread.id")) {
        attrs.open("thread.id", "string");
        attrs.out.push(b'"');
        push_u64(attrs.out, u64::from(id));
        attrs.out.extend_from_slice(b"\"}");
    }
    if let Some(name) = thread.name().filter(|_| free("thread.name")) {
        attrs.string("thread.name", name);
    }
}

/// A writer of typed attributes (`"key":{"type":...,"value":...}`, comma-separated, without
/// the braces), shared by the span v2, log and metric items.
pub(crate) struct Attributes<'a> {
    pub(crate) out: &'a mut Vec<u8>,
    pub(crate) first: bool,
}

impl Attributes<'_> {
    fn open(&mut self, key: &str, ty: &str) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        push_any_key(self.out, key);
        self.out.extend_from_slice(br#"{"type":""#);
        self.out.extend_from_slice(ty.as_bytes());
        self.out.extend_from_slice(br#"","value":"#);
    }

    pub(crate) fn string(&mut self, key: &str, value: &str) {
        self.string_parts(key, &[value]);
    }

    fn string_parts(&mut self, key: &str, parts: &[&str]) {
        self.open(key, "string");
        crate::export::wire::json::push_str_parts(self.out, parts);
        self.out.push(b'}');
    }

    /// A span field as a typed attribute: an unsigned integer beyond `i64` (which Relay's
    /// `integer` holds) is written as a `string` of its digits, so no digit is lost.
    pub(crate) fn value(&mut self, key: &str, value: &FieldValue) {
        match value {
            FieldValue::Str(s) => self.string(key, s),
            FieldValue::Bool(b) => {
                self.open(key, "boolean");
                push_bool(self.out, *b);
                self.out.push(b'}');
            }
            FieldValue::I64(n) => {
                self.open(key, "integer");
                push_i64(self.out, *n);
                self.out.push(b'}');
            }
            FieldValue::U64(n) => match i64::try_from(*n) {
                Ok(n) => {
                    self.open(key, "integer");
                    push_i64(self.out, n);
                    self.out.push(b'}');
                }
                Err(_) => {
                    self.open(key, "string");
                    self.out.push(b'"');
                    push_u64(self.out, *n);
                    self.out.extend_from_slice(b"\"}");
                }
            },
            FieldValue::F64(f) if f.is_finite() => {
                self.open(key, "double");
                push_f64(self.out, *f);
                self.out.push(b'}');
            }
            // JSON has no NaN or infinity: `"NaN"`, `"Infinity"`, as the transaction writes them.
            FieldValue::F64(f) => {
                self.open(key, "string");
                push_f64(self.out, *f);
                self.out.push(b'}');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use serde_json::{json, Value};

    use super::*;
    use crate::export::record::{SpanBatch, StreamedSpan, TransactionRecord};
    use crate::export::test_support::*;
    use crate::export::wire::envelope::{EnvelopeBytes, Scratch};
    use crate::export::wire::json::rfc3339;

    fn streamed(tx: &TransactionRecord) -> SpanBatch {
        let name: Arc<str> = Arc::from(tx.name.as_ref());
        let stream = |record: &crate::export::record::SpanRecord, is_segment| StreamedSpan {
            record: record.clone(),
            clock: tx.clock,
            segment_id: tx.root.span_id,
            segment_name: Arc::clone(&name),
            source: tx.source,
            is_segment,
        };
        let mut spans = vec![stream(&tx.root, true)];
        spans.extend(tx.spans.iter().map(|s| stream(s, false)));
        SpanBatch {
            trace_id: tx.trace_id,
            dsc: Arc::new(tx.dsc().into_owned()),
            spans,
            bytes: 0,
        }
    }

    fn meta() -> EventMeta {
        EventMeta {
            release: Some("myapp@1.0.0".to_owned()),
            environment: "production".to_owned(),
            ..EventMeta::default()
        }
    }

    /// The float seconds of a span v2 timestamp as the transaction's RFC 3339 string.
    fn as_rfc3339(seconds: &Value) -> String {
        let f = seconds.as_f64().unwrap();
        let whole = f.floor();
        let micros = ((f - whole) * 1e6).round() as u64;
        rfc3339(UNIX_EPOCH + Duration::from_secs(whole as u64) + Duration::from_micros(micros))
    }

    #[test]
    fn a_span_item_carries_what_the_transaction_carries() {
        let tx = sample_record();
        let now = SystemTime::now();
        let transaction =
            EnvelopeBytes::from_transaction(&tx, &meta(), None, now, &mut Scratch::default(), None)
                .unwrap()
                .transaction()
                .unwrap();
        let envelope =
            EnvelopeBytes::from_spans(&streamed(&tx), &meta(), None, now, &mut Scratch::default())
                .unwrap();
        assert_eq!(envelope.item_types().collect::<Vec<_>>(), ["span"]);
        assert_eq!(
            envelope.trace().get("public_key"),
            Some("49d0f7386ad645858ae85020e393bef3")
        );
        let spans = envelope.spans();
        assert_eq!(spans.len(), 3);

        let trace = &transaction["contexts"]["trace"];
        let segment = &spans[0];
        assert_eq!(segment["is_segment"], true);
        assert_eq!(segment["name"], transaction["transaction"]);
        for key in ["trace_id", "span_id", "parent_span_id"] {
            assert_eq!(segment[key], trace[key], "{key}");
        }
        assert_eq!(segment["attributes"]["sentry.op"]["value"], trace["op"]);
        assert_eq!(
            segment["attributes"]["sentry.segment.name.source"]["value"],
            "route"
        );
        assert_eq!(
            as_rfc3339(&segment["start_timestamp"]),
            transaction["start_timestamp"]
        );
        assert_eq!(
            as_rfc3339(&segment["end_timestamp"]),
            transaction["timestamp"]
        );
        assert_eq!(segment["status"], "ok");

        for (span, expected) in spans[1..]
            .iter()
            .zip(transaction["spans"].as_array().unwrap())
        {
            assert_eq!(span["is_segment"], false);
            for key in ["trace_id", "span_id", "parent_span_id"] {
                assert_eq!(span[key], expected[key], "{key}");
            }
            assert_eq!(span["attributes"]["sentry.op"]["value"], expected["op"]);
            assert_eq!(span["attributes"]["sentry.segment.id"]["value"], ROOT);
            assert_eq!(
                as_rfc3339(&span["start_timestamp"]),
                expected["start_timestamp"]
            );
            assert_eq!(as_rfc3339(&span["end_timestamp"]), expected["timestamp"]);
            let detailed = expected["status"].as_str().unwrap_or("ok");
            let status = if detailed == "ok" { "ok" } else { "error" };
            assert_eq!(span["status"], status);
        }
        let child = &spans[2];
        assert_eq!(child["name"], "SELECT * FROM \"users\" WHERE id = $1\n");
        assert_eq!(
            child["attributes"]["sentry.status.message"]["value"],
            "not_found"
        );
        let attrs = &child["attributes"];
        assert_eq!(
            attrs["db.system"],
            json!({"type": "string", "value": "postgresql"})
        );
        // A repeated field: the last value wins, as in the transaction's data.
        assert_eq!(attrs["rows"], json!({"type": "integer", "value": 7}));
        assert_eq!(attrs["cached"], json!({"type": "boolean", "value": false}));
        assert_eq!(attrs["ratio"], json!({"type": "double", "value": 0.25}));
        assert_eq!(attrs["nan"], json!({"type": "string", "value": "NaN"}));
        assert_eq!(attrs["inf"], json!({"type": "string", "value": "Infinity"}));
        assert_eq!(child["links"], transaction["spans"][1]["links"]);
        for key in [
            "sentry.release",
            "sentry.environment",
            "sentry.sdk.name",
            "sentry.sdk.version",
            "sentry.origin",
            "sentry.trace_lifecycle",
            "sentry.segment.name",
        ] {
            assert_eq!(attrs[key]["type"], "string", "{key}");
        }
        assert_eq!(attrs["sentry.release"]["value"], "myapp@1.0.0");
    }

    #[test]
    fn integers_beyond_i64_stay_exact() {
        let mut out = Vec::new();
        let mut attrs = Attributes {
            out: &mut out,
            first: true,
        };
        attrs.value("big", &FieldValue::U64(u64::MAX));
        attrs.value("small", &FieldValue::U64(5));
        let value: Value = serde_json::from_slice(&[b"{", &out[..], b"}"].concat()).unwrap();
        assert_eq!(
            value["big"],
            json!({"type": "string", "value": "18446744073709551615"})
        );
        assert_eq!(value["small"], json!({"type": "integer", "value": 5}));
    }
}
