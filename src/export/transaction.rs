//! A finished span tree ([`TransactionRecord`]) becomes a Sentry transaction event
//! (spec 7.2/7.3): the root goes into `contexts.trace`, every descendant into the flat `spans[]`.

use std::borrow::Cow;
use std::time::SystemTime;

use tracing_core::Metadata;

use super::json::{
    push_bool, push_f64, push_i64, push_key, push_plain_str, push_str, push_str_parts,
    push_timestamp, push_u64,
};
use super::record::{FieldValue, SpanLink, SpanRecord, TransactionRecord};

/// The SDK name sent in events, envelope headers and `X-Sentry-Auth`.
pub(crate) const SDK_NAME: &str = "sentry.rust.tracing-sentry";
/// The SDK version (this crate's).
pub(crate) const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Event fields that come from the configuration, not from the span tree.
#[derive(Clone, Debug, Default)]
pub(crate) struct EventMeta {
    pub(crate) release: Option<String>,
    pub(crate) environment: String,
    pub(crate) server_name: Option<String>,
}

/// Writes the transaction event payload (one JSON object, no trailing newline) into `out`.
pub(crate) fn write_transaction(
    out: &mut Vec<u8>,
    tx: &TransactionRecord,
    event_id: &str,
    meta: &EventMeta,
) {
    let trace_id = tx.trace_id.to_hex();
    let trace_id = std::str::from_utf8(&trace_id).unwrap_or_default();
    let (start, end) = ordered(tx.root.start, tx.root.end);

    out.push(b'{');
    push_key(out, "type");
    push_str(out, "transaction");
    out.push(b',');
    push_key(out, "event_id");
    push_str(out, event_id);
    out.push(b',');
    push_key(out, "transaction");
    push_str(out, &tx.name);
    out.push(b',');
    push_key(out, "transaction_info");
    out.push(b'{');
    push_key(out, "source");
    push_str(out, tx.source.as_str());
    out.push(b'}');
    out.push(b',');
    push_key(out, "platform");
    push_str(out, "native");
    out.push(b',');
    push_key(out, "sdk");
    push_sdk(out);
    if let Some(release) = &meta.release {
        out.push(b',');
        push_key(out, "release");
        push_str(out, release);
    }
    out.push(b',');
    push_key(out, "environment");
    push_str(out, &meta.environment);
    if let Some(server_name) = &meta.server_name {
        out.push(b',');
        push_key(out, "server_name");
        push_str(out, server_name);
    }
    out.push(b',');
    push_key(out, "start_timestamp");
    push_timestamp(out, start);
    out.push(b',');
    push_key(out, "timestamp");
    push_timestamp(out, end);

    out.push(b',');
    push_key(out, "contexts");
    out.push(b'{');
    push_key(out, "trace");
    out.push(b'{');
    push_key(out, "type");
    push_str(out, "trace");
    out.push(b',');
    push_span_fields(out, trace_id, &tx.root);
    out.push(b'}');
    out.push(b'}');

    out.push(b',');
    push_key(out, "spans");
    out.push(b'[');
    for (i, span) in tx.spans.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'{');
        push_span_fields(out, trace_id, span);
        let (start, end) = ordered(span.start, span.end);
        out.push(b',');
        push_key(out, "start_timestamp");
        push_timestamp(out, start);
        out.push(b',');
        push_key(out, "timestamp");
        push_timestamp(out, end);
        out.push(b'}');
    }
    out.push(b']');
    if tx.dropped_spans > 0 {
        // Tell Sentry how many spans there were, as the Python SDK does for `max_spans`
        // (an annotated `spans` value: `_meta.spans[""].len`).
        let total = tx.spans.len() as u64 + u64::from(tx.dropped_spans);
        out.extend_from_slice(br#","_meta":{"spans":{"":{"len":"#);
        push_u64(out, total);
        out.extend_from_slice(b"}}}");
    }
    out.push(b'}');
}

/// Writes `{"name":...,"version":...}`.
pub(crate) fn push_sdk(out: &mut Vec<u8>) {
    out.push(b'{');
    push_key(out, "name");
    push_str(out, SDK_NAME);
    out.push(b',');
    push_key(out, "version");
    push_str(out, SDK_VERSION);
    out.push(b'}');
}

/// The fields a span and the trace context share, without braces or timestamps.
fn push_span_fields(out: &mut Vec<u8>, trace_id: &str, span: &SpanRecord) {
    push_key(out, "trace_id");
    push_plain_str(out, trace_id);
    out.push(b',');
    push_key(out, "span_id");
    push_plain_str(out, hex(&span.span_id.to_hex()));
    if let Some(parent) = span.parent_span_id {
        out.push(b',');
        push_key(out, "parent_span_id");
        push_plain_str(out, hex(&parent.to_hex()));
    }
    push_op(out, span);
    // Without an explicit description the span's name is used, written here on the worker so
    // the instrumented thread copies no string.
    let description = span
        .description
        .as_deref()
        .or_else(|| span.metadata.map(|m| m.name()));
    if let Some(description) = description {
        out.push(b',');
        push_key(out, "description");
        push_str(out, description);
    }
    if let Some(status) = span.status {
        out.push(b',');
        push_key(out, "status");
        push_str(out, status.as_str());
    }
    out.push(b',');
    push_key(out, "origin");
    push_str(out, &span.origin);
    if !span.data.is_empty() || span.metadata.is_some() {
        out.push(b',');
        push_key(out, "data");
        push_data(out, &span.data, span.metadata);
    }
    if !span.links.is_empty() {
        out.push(b',');
        push_key(out, "links");
        push_links(out, &span.links);
    }
}

/// Writes `,"op":...`: the span's own op, else `{target}::{name}` of its callsite (as
/// sentry-tracing does), else nothing.
fn push_op(out: &mut Vec<u8>, span: &SpanRecord) {
    if !span.op.is_empty() {
        out.push(b',');
        push_key(out, "op");
        push_str(out, &span.op);
    } else if let Some(metadata) = span.metadata {
        out.push(b',');
        push_key(out, "op");
        push_str_parts(out, &[metadata.target(), "::", metadata.name()]);
    }
}

/// Writes the data map: the span's fields, then the callsite's `code.module.name`,
/// `code.file.path` and `code.line.number` (sentry-tracing's keys) unless a field has the same
/// name. When a field name repeats, the last value wins (JSON objects should not repeat keys,
/// and readers disagree on which duplicate they keep).
fn push_data(
    out: &mut Vec<u8>,
    data: &[(Cow<'static, str>, FieldValue)],
    metadata: Option<&'static Metadata<'static>>,
) {
    out.push(b'{');
    let mut first = true;
    for (i, (key, value)) in data.iter().enumerate() {
        let repeated_later = data
            .get(i + 1..)
            .unwrap_or_default()
            .iter()
            .any(|(later, _)| later == key);
        if repeated_later {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        push_key(out, key);
        match value {
            FieldValue::Bool(b) => push_bool(out, *b),
            FieldValue::I64(n) => push_i64(out, *n),
            FieldValue::U64(n) => push_u64(out, *n),
            FieldValue::F64(f) => push_f64(out, *f),
            FieldValue::Str(s) => push_str(out, s),
        }
    }
    if let Some(metadata) = metadata {
        let has = |key: &str| data.iter().any(|(k, _)| k == key);
        let mut code = |key: &str, write: &dyn Fn(&mut Vec<u8>)| {
            if !has(key) {
                if !first {
                    out.push(b',');
                }
                first = false;
                push_key(out, key);
                write(out);
            }
        };
        if let Some(module) = metadata.module_path() {
            code("code.module.name", &|out| push_str(out, module));
        }
        if let Some(file) = metadata.file() {
            code("code.file.path", &|out| push_str(out, file));
        }
        if let Some(line) = metadata.line() {
            code("code.line.number", &|out| push_u64(out, u64::from(line)));
        }
    }
    out.push(b'}');
}

fn push_links(out: &mut Vec<u8>, links: &[SpanLink]) {
    out.push(b'[');
    for (i, link) in links.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'{');
        push_key(out, "trace_id");
        push_plain_str(out, hex(&link.trace_id.to_hex()));
        out.push(b',');
        push_key(out, "span_id");
        push_plain_str(out, hex(&link.span_id.to_hex()));
        if let Some(sampled) = link.sampled {
            out.push(b',');
            push_key(out, "sampled");
            push_bool(out, sampled);
        }
        out.push(b'}');
    }
    out.push(b']');
}

/// Returns `(start, end)` with `end >= start`: Relay drops a transaction whose span ends before
/// it starts. The layer already guarantees this; the check keeps a hand-made record honest.
fn ordered(start: SystemTime, end: SystemTime) -> (SystemTime, SystemTime) {
    (start, end.max(start))
}

fn hex(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap_or_default()
}
