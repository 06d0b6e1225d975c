//! Log correlation in local logs (feature `fmt`): the trace id and span id of each event's span
//! on every line written by `tracing-subscriber`'s fmt layer.
//!
//! - [`Json`]: JSON lines for log pipelines, with `trace_id` and `span_id` as top-level fields.
//!   It works with any field formatter (no `JsonFields` needed) and needs no feature of
//!   `tracing-subscriber` beyond `fmt`.
//! - [`WithTraceIds`]: wraps any event format. Around the text formats (full, compact, pretty)
//!   it writes `trace_id=<32 hex> span_id=<16 hex> ` before the line; around a format that writes
//!   JSON objects (`tracing_subscriber::fmt::format().json()`) it adds `trace_id` and `span_id`
//!   as fields of the object.
//!
//! Events outside any span, or in spans the [`SentryLayer`](crate::SentryLayer) does not know,
//! are written without the two fields. Spans of unsampled traces carry them too: the ids are
//! what the trace propagates, sampled or not.

use std::fmt;
use std::sync::OnceLock;

use serde::Serialize;
use serde_json::Value;
use tracing_core::field::{Field, Visit};
use tracing_core::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use crate::span::trace_context::TraceContext;

/// A [`FormatEvent`] that adds the trace id and span id of the event's span to what the wrapped
/// format writes.
///
/// - Text formats (`tracing_subscriber::fmt::format()`, `.compact()`, `.pretty()`, or your
///   own): `trace_id=<32 hex> span_id=<16 hex> ` before the line, as `key=value` fields that
///   logfmt parsers read.
/// - A format whose lines are JSON objects (`tracing_subscriber::fmt::format().json()`):
///   `"trace_id"` and `"span_id"` become the object's first fields, so every line stays valid
///   JSON. `tracing-subscriber`'s JSON format reads span fields as JSON, so it needs
///   `.fmt_fields(JsonFields::new())` on the fmt layer (the `tracing_subscriber::fmt().json()`
///   builder sets it); without it, it panics in debug builds ("span had malformed fields"). Use
///   [`Json`] instead, which needs neither.
///
/// Which of the two the wrapped format writes is learned from its first non-empty line and
/// kept. Text lines are written straight to the fmt layer's writer (colours kept); JSON lines
/// go through a buffer, one per event.
///
/// It reads the event's span from the formatter's context (an explicit `parent:` or the
/// contextual current span), not from the global dispatcher, so it works with scoped
/// subscribers (`with_default`) and any layer stack built on a `Registry`. Events outside any
/// span are written as the wrapped format writes them.
///
/// # Examples
///
/// ```
/// use tracing_sentry::fmt::WithTraceIds;
/// use tracing_sentry::SentryLayer;
/// use tracing_subscriber::prelude::*;
///
/// let fmt = tracing_subscriber::fmt::layer()
///     .event_format(WithTraceIds::new(tracing_subscriber::fmt::format()))
///     .with_test_writer();
/// let subscriber = tracing_subscriber::registry().with(SentryLayer::new()).with(fmt);
/// tracing::subscriber::with_default(subscriber, || {
///     // trace_id=771a43a4192642f0b136d5159a501700 span_id=b7ad6b7169203331 ... INFO request: handled
///     tracing::info_span!("request").in_scope(|| tracing::info!("handled"));
/// });
/// ```
#[derive(Clone, Debug, Default)]
pub struct WithTraceIds<F> {
    inner: F,
    /// Whether the wrapped format writes JSON objects, learned from its first non-empty line.
    json: OnceLock<bool>,
}

impl<F> WithTraceIds<F> {
    /// Wraps `inner`, the format that writes the rest of the line (for example
    /// `tracing_subscriber::fmt::format()`, `.compact()` or `.pretty()` of it).
    ///
    /// # Examples
    ///
    /// ```
    /// let format = tracing_sentry::fmt::WithTraceIds::new(tracing_subscriber::fmt::format().compact());
    /// let _layer = tracing_subscriber::fmt::layer::<tracing_subscriber::Registry>().event_format(format);
    /// ```
    pub fn new(inner: F) -> Self {
        Self {
            inner,
            json: OnceLock::new(),
        }
    }
}

impl<S, N, F> FormatEvent<S, N> for WithTraceIds<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let Some(trace) = ctx
            .parent_span()
            .and_then(|span| TraceContext::from_span_ref(&span))
        else {
            return self.inner.format_event(ctx, writer, event);
        };
        if self.json.get() == Some(&false) {
            write_text_ids(&mut writer, &trace)?;
            return self.inner.format_event(ctx, writer, event);
        }
        // JSON, or not known yet: format into a buffer, then decide.
        let mut line = String::new();
        self.inner
            .format_event(ctx, Writer::new(&mut line), event)?;
        let Some(json) = detect_json(&line) else {
            // Nothing written: nothing to add the ids to.
            return writer.write_str(&line);
        };
        let json = *self.json.get_or_init(|| json);
        if json {
            match line.strip_prefix('{') {
                Some(rest) => {
                    write!(
                        writer,
                        r#"{{"trace_id":"{}","span_id":"{}""#,
                        trace.trace_id(),
                        trace.span_id()
                    )?;
                    if !rest.trim_start().starts_with('}') {
                        writer.write_char(',')?;
                    }
                    writer.write_str(rest)
                }
                // A line that is not an object from a format that writes objects: as it is.
                None => writer.write_str(&line),
            }
        } else {
            // The first text line: formatted again on the real writer, which keeps its colours.
            write_text_ids(&mut writer, &trace)?;
            self.inner.format_event(ctx, writer, event)
        }
    }
}

/// Whether a formatted line is a JSON object; `None` for an empty line.
fn detect_json(line: &str) -> Option<bool> {
    let trimmed = line.trim();
    if trimmed.is_empty() {
        return None;
    }
    Some(trimmed.starts_with('{') && trimmed.ends_with('}'))
}

fn write_text_ids(writer: &mut Writer<'_>, trace: &TraceContext) -> fmt::Result {
    write!(
        writer,
        "trace_id={} span_id={} ",
        trace.trace_id(),
        trace.span_id()
    )
}

/// A JSON-lines [`FormatEvent`]: one JSON object per event, with the trace id and span id of
/// the event's span as top-level fields, for log pipelines that read JSON.
///
/// The line has the layout of `tracing-subscriber`'s JSON format, plus the two ids:
///
/// ```text
/// {"timestamp":"2025-05-01T12:00:00.000000Z","level":"INFO","fields":{"message":"handled","items":3},"target":"checkout","trace_id":"771a43a4192642f0b136d5159a501700","span_id":"b7ad6b7169203331","span":{"name":"request","order":7},"spans":[{"name":"request","order":7}]}
/// ```
///
/// `trace_id`, `span_id`, `span` and `spans` are left out for events outside any span. Span
/// fields are taken from what the fmt layer's field formatter stored: `JsonFields`' objects as
/// they are, and the default formatter's `key=value` text read back into typed fields (colour
/// codes removed); text that is not made of such pairs (a `Debug` value with spaces) is kept
/// as one string, `"fields":"..."`. Either way the line is valid JSON and nothing panics: no
/// `JsonFields` needed, and no feature of `tracing-subscriber` beyond `fmt`.
///
/// # Examples
///
/// ```
/// use tracing_subscriber::prelude::*;
///
/// let fmt = tracing_subscriber::fmt::layer()
///     .event_format(tracing_sentry::fmt::Json::new())
///     .with_test_writer();
/// let subscriber = tracing_subscriber::registry()
///     .with(tracing_sentry::SentryLayer::new())
///     .with(fmt);
/// tracing::subscriber::with_default(subscriber, || {
///     tracing::info_span!("request", order = 7).in_scope(|| tracing::info!(items = 3, "handled"));
/// });
/// ```
#[derive(Clone, Debug)]
pub struct Json<T = SystemTime> {
    timer: T,
    flatten_event: bool,
    current_span: bool,
    span_list: bool,
}

impl Default for Json {
    fn default() -> Self {
        Self::new()
    }
}

impl Json {
    /// Returns the format: the current time as RFC 3339 in UTC, the event's fields under
    /// `fields`, the current span under `span` and the span list under `spans`.
    ///
    /// # Examples
    ///
    /// ```
    /// let _layer = tracing_subscriber::fmt::layer::<tracing_subscriber::Registry>()
    ///     .event_format(tracing_sentry::fmt::Json::new());
    /// ```
    pub fn new() -> Self {
        Self {
            timer: SystemTime,
            flatten_event: false,
            current_span: true,
            span_list: true,
        }
    }
}

impl<T> Json<T> {
    /// Writes the event's fields at the top level of the object instead of under `fields`.
    ///
    /// # Examples
    ///
    /// ```
    /// let format = tracing_sentry::fmt::Json::new().flatten_event(true);
    /// # drop(format);
    /// ```
    pub fn flatten_event(mut self, flatten: bool) -> Self {
        self.flatten_event = flatten;
        self
    }

    /// Whether to write the event's span (its name and fields) under `span` (default on).
    ///
    /// # Examples
    ///
    /// ```
    /// let format = tracing_sentry::fmt::Json::new().with_current_span(false);
    /// # drop(format);
    /// ```
    pub fn with_current_span(mut self, on: bool) -> Self {
        self.current_span = on;
        self
    }

    /// Whether to write the event's spans, root first, under `spans` (default on).
    ///
    /// # Examples
    ///
    /// ```
    /// let format = tracing_sentry::fmt::Json::new().with_span_list(false);
    /// # drop(format);
    /// ```
    pub fn with_span_list(mut self, on: bool) -> Self {
        self.span_list = on;
        self
    }

    /// Uses `timer` for `timestamp` (any `tracing-subscriber` timer; `()` leaves the field out).
    ///
    /// # Examples
    ///
    /// ```
    /// let format = tracing_sentry::fmt::Json::new().with_timer(tracing_subscriber::fmt::time::Uptime::default());
    /// # drop(format);
    /// ```
    pub fn with_timer<T2>(self, timer: T2) -> Json<T2> {
        Json {
            timer,
            flatten_event: self.flatten_event,
            current_span: self.current_span,
            span_list: self.span_list,
        }
    }

    /// Leaves `timestamp` out.
    ///
    /// # Examples
    ///
    /// ```
    /// let format = tracing_sentry::fmt::Json::new().without_time();
    /// # drop(format);
    /// ```
    pub fn without_time(self) -> Json<()> {
        self.with_timer(())
    }
}

impl<S, N, T> FormatEvent<S, N> for Json<T>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    T: FormatTime,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut object = JsonObject::default();
        let mut timestamp = String::new();
        self.timer.format_time(&mut Writer::new(&mut timestamp))?;
        if !timestamp.is_empty() {
            object.entry("timestamp", &timestamp)?;
        }
        let meta = event.metadata();
        object.entry("level", meta.level().as_str())?;
        let mut fields = EventFields::default();
        event.record(&mut fields);
        if self.flatten_event {
            for (name, value) in &fields.0 {
                object.entry(name, value)?;
            }
        } else {
            object.entry_with("fields", |out| write_object(out, &fields.0))?;
        }
        object.entry("target", meta.target())?;
        let span = ctx.parent_span();
        if let Some(trace) = span.as_ref().and_then(TraceContext::from_span_ref) {
            object.entry("trace_id", &trace.trace_id().to_string())?;
            object.entry("span_id", &trace.span_id().to_string())?;
        }
        if let Some(span) = &span {
            if self.current_span {
                object.entry_with("span", |out| write_span::<S, N>(out, span))?;
            }
            if self.span_list {
                object.entry_with("spans", |out| {
                    out.push(b'[');
                    for (i, span) in span.scope().from_root().enumerate() {
                        if i > 0 {
                            out.push(b',');
                        }
                        write_span::<S, N>(out, &span)?;
                    }
                    out.push(b']');
                    Ok(())
                })?;
            }
        }
        let line = object.finish();
        let line = std::str::from_utf8(&line).map_err(|_| fmt::Error)?;
        writer.write_str(line)?;
        writer.write_char('\n')
    }
}

/// A JSON object written entry by entry, in order.
#[derive(Default)]
struct JsonObject {
    out: Vec<u8>,
}

impl JsonObject {
    fn entry<V: Serialize + ?Sized>(&mut self, key: &str, value: &V) -> fmt::Result {
        self.entry_with(key, |out| {
            serde_json::to_writer(out, value).map_err(|_| fmt::Error)
        })
    }

    fn entry_with(
        &mut self,
        key: &str,
        value: impl FnOnce(&mut Vec<u8>) -> fmt::Result,
    ) -> fmt::Result {
        self.out.push(if self.out.is_empty() { b'{' } else { b',' });
        serde_json::to_writer(&mut self.out, key).map_err(|_| fmt::Error)?;
        self.out.push(b':');
        value(&mut self.out)
    }

    fn finish(mut self) -> Vec<u8> {
        if self.out.is_empty() {
            self.out.push(b'{');
        }
        self.out.push(b'}');
        self.out
    }
}

fn write_object(out: &mut Vec<u8>, entries: &[(&str, Value)]) -> fmt::Result {
    let mut object = JsonObject::default();
    for (name, value) in entries {
        object.entry(name, value)?;
    }
    out.extend_from_slice(&object.finish());
    Ok(())
}

/// A span as `{"name":..., <its fields>}`: its fields as JSON when the field formatter wrote a
/// JSON object, else as one string under `fields`.
fn write_span<S, N>(out: &mut Vec<u8>, span: &SpanRef<'_, S>) -> fmt::Result
where
    S: for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    let mut object = JsonObject::default();
    object.entry("name", span.name())?;
    let extensions = span.extensions();
    let formatted = extensions
        .get::<FormattedFields<N>>()
        .map(|f| f.fields.as_str())
        .unwrap_or("");
    if !formatted.is_empty() {
        if let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(formatted) {
            for (name, value) in &fields {
                if name != "name" {
                    object.entry(name, value)?;
                }
            }
        } else {
            let plain = strip_ansi(formatted);
            match parse_key_values(&plain) {
                Some(fields) => {
                    for (name, value) in &fields {
                        if *name != "name" {
                            object.entry(name, value)?;
                        }
                    }
                }
                None => object.entry("fields", plain.as_str())?,
            }
        }
    }
    out.extend_from_slice(&object.finish());
    Ok(())
}

/// `text` without ANSI escape sequences (the fmt layer colours field names when it writes to
/// a terminal).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters, ended by a byte in `@`..=`~`.
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// Reads the `key=value key2="text"` output of `tracing-subscriber`'s default field formatter
/// back into typed fields: quoted values as strings, numbers and booleans as such, other bare
/// words as strings. `None` when the text is not made of such pairs (a `Debug` value with
/// spaces), which is then written as one string.
fn parse_key_values(text: &str) -> Option<Vec<(&str, Value)>> {
    let mut fields = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let (key, after_key) = rest.split_once('=')?;
        if key.is_empty() || key.contains(|c: char| c.is_whitespace() || c == '"') {
            return None;
        }
        let (value, after) = if after_key.starts_with('"') {
            let end = closing_quote(after_key)?;
            let (literal, after) = after_key.split_at(end + 1);
            let value = serde_json::from_str::<String>(literal)
                .ok()
                .or_else(|| literal.get(1..end).map(str::to_owned))?;
            (Value::String(value), after)
        } else {
            let end = after_key.find(' ').unwrap_or(after_key.len());
            let (raw, after) = after_key.split_at(end);
            let value = serde_json::from_str::<Value>(raw)
                .ok()
                .filter(|v| v.is_number() || v.is_boolean())
                .unwrap_or_else(|| Value::String(raw.to_owned()));
            (value, after)
        };
        if !(after.is_empty() || after.starts_with(' ')) {
            return None;
        }
        fields.push((key, value));
        rest = after.trim_start();
    }
    Some(fields)
}

/// The byte index of the quote that closes the string opened at `text`'s first byte.
fn closing_quote(text: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, b) in text.bytes().enumerate().skip(1) {
        match b {
            _ if escaped => escaped = false,
            b'\\' => escaped = true,
            b'"' => return Some(i),
            _ => {}
        }
    }
    None
}

/// An event's fields, typed, in the order they were recorded.
#[derive(Default)]
struct EventFields(Vec<(&'static str, Value)>);

impl Visit for EventFields {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.push((field.name(), Value::from(value)));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.push((field.name(), Value::from(value)));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.push((field.name(), Value::from(value)));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.push((field.name(), Value::from(value)));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push((field.name(), Value::from(value)));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0.push((field.name(), Value::from(value.to_string())));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .push((field.name(), Value::from(format!("{value:?}"))));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::prelude::*;

    use super::*;
    use crate::{SentryLayer, SentrySpanExt};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Buffer {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    struct Ids {
        root: TraceContext,
        child: TraceContext,
    }

    /// Writes, through a fmt layer with `format` (and the layer's default field formatter),
    /// an event outside spans, one in a root span with fields, one in its child (an explicit
    /// parent), and one in the child entered; returns what was written and the two contexts.
    fn log_with<E>(sampled: bool, format: E) -> (String, Ids)
    where
        E: FormatEvent<
                tracing_subscriber::Registry,
                tracing_subscriber::fmt::format::DefaultFields,
            > + Send
            + Sync
            + 'static,
    {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let fmt = tracing_subscriber::fmt::layer()
            .event_format(format)
            .with_ansi(false)
            .with_writer(move || writer.clone());
        let rate = if sampled { 1.0 } else { 0.0 };
        let (layer, _guard) = SentryLayer::builder()
            .traces_sample_rate(rate)
            .build()
            .unwrap();
        // The fmt layer first, so that its subscriber is the bare `Registry`: it still sees the
        // contexts, which the Sentry layer gives each span when it is created.
        let subscriber = tracing_subscriber::registry().with(fmt).with(layer);
        let ids = tracing::subscriber::with_default(subscriber, || {
            tracing::info!(answer = 42, "outside");
            let root = tracing::info_span!("request", order = 7, note = "a \"quoted\" note");
            let child = tracing::info_span!(parent: &root, "query", table = "items");
            root.in_scope(|| tracing::info!(ok = true, "in root"));
            tracing::warn!(parent: &child, "in child");
            child.in_scope(|| tracing::error!(ratio = 0.5, "entered child"));
            Ids {
                root: root.trace_context().unwrap(),
                child: child.trace_context().unwrap(),
            }
        });
        (buffer.text(), ids)
    }

    fn parse_lines(text: &str) -> Vec<Value> {
        text.lines()
            .map(|line| {
                serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"))
            })
            .collect()
    }

    fn assert_ids(line: &Value, ctx: &TraceContext) {
        assert_eq!(line["trace_id"], ctx.trace_id().to_string(), "{line}");
        assert_eq!(line["span_id"], ctx.span_id().to_string(), "{line}");
    }

    #[test]
    fn json_lines_carry_the_ids_as_top_level_fields_without_json_fields() {
        for sampled in [true, false] {
            let (text, ids) = log_with(sampled, Json::new().without_time());
            let lines = parse_lines(&text);
            assert_eq!(lines.len(), 4, "{text}");

            let outside = &lines[0];
            assert_eq!(outside["fields"]["message"], "outside");
            assert_eq!(outside["fields"]["answer"], 42);
            assert_eq!(outside["level"], "INFO");
            assert!(outside.get("trace_id").is_none(), "{outside}");
            assert!(outside.get("span_id").is_none(), "{outside}");
            assert!(outside.get("span").is_none(), "{outside}");
            assert!(outside.get("timestamp").is_none(), "{outside}");

            let in_root = &lines[1];
            assert_ids(in_root, &ids.root);
            assert_eq!(in_root["fields"]["ok"], true);
            assert_eq!(in_root["span"]["name"], "request");
            // The default field formatter's text, read back into typed fields.
            assert_eq!(in_root["span"]["order"], 7);
            assert_eq!(in_root["span"]["note"], r#"a "quoted" note"#);
            assert_eq!(lines[3]["span"]["table"], "items");

            assert_ids(&lines[2], &ids.child);
            assert_eq!(lines[2]["level"], "WARN");
            assert_ids(&lines[3], &ids.child);
            assert_eq!(lines[3]["fields"]["ratio"], 0.5);
            let spans: Vec<&Value> = lines[3]["spans"].as_array().unwrap().iter().collect();
            assert_eq!(spans.len(), 2);
            assert_eq!(spans[0]["name"], "request");
            assert_eq!(spans[1]["name"], "query");
            assert_eq!(lines[3]["span"]["name"], "query");

            assert_eq!(ids.root.trace_id(), ids.child.trace_id());
            assert_ne!(ids.root.span_id(), ids.child.span_id());
        }
    }

    #[test]
    fn json_options_flatten_and_leave_out_spans() {
        let format = Json::new()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false);
        let (text, ids) = log_with(true, format);
        let lines = parse_lines(&text);
        assert_eq!(lines.len(), 4, "{text}");
        assert!(lines[0]["timestamp"].as_str().unwrap().ends_with('Z'));
        assert_eq!(lines[1]["message"], "in root");
        assert_eq!(lines[1]["ok"], true);
        assert!(lines[1].get("span").is_none());
        assert!(lines[1].get("spans").is_none());
        assert_ids(&lines[1], &ids.root);
    }

    #[test]
    fn text_formats_carry_the_ids_as_key_value_fields() {
        use tracing_subscriber::fmt::format;
        let expect =
            |ctx: &TraceContext| format!("trace_id={} span_id={} ", ctx.trace_id(), ctx.span_id());
        let check = |text: &str, ids: &Ids, lines_per_event: usize| {
            let events: Vec<&str> = text
                .lines()
                .filter(|l| l.contains("outside") || l.contains("in root") || l.contains("child"))
                .filter(|l| !l.trim_start().starts_with("in "))
                .collect();
            assert_eq!(events.len(), 4, "{lines_per_event}: {text}");
            assert!(!events[0].contains("trace_id="), "{text}");
            assert!(events[1].starts_with(&expect(&ids.root)), "{text}");
            assert!(events[2].starts_with(&expect(&ids.child)), "{text}");
            assert!(events[3].starts_with(&expect(&ids.child)), "{text}");
        };
        for sampled in [true, false] {
            let (text, ids) = log_with(sampled, WithTraceIds::new(format().without_time()));
            check(&text, &ids, 1);
            let (text, ids) = log_with(
                sampled,
                WithTraceIds::new(format().compact().without_time()),
            );
            check(&text, &ids, 1);
            let (text, ids) =
                log_with(sampled, WithTraceIds::new(format().pretty().without_time()));
            check(&text, &ids, 3);
        }
    }

    /// Writes each event as a JSON object, as `tracing_subscriber::fmt::format().json()` does.
    struct ObjectLines {
        empty: bool,
    }

    impl<S, N> FormatEvent<S, N> for ObjectLines
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
        N: for<'a> FormatFields<'a> + 'static,
    {
        fn format_event(
            &self,
            _ctx: &FmtContext<'_, S, N>,
            mut writer: Writer<'_>,
            event: &Event<'_>,
        ) -> fmt::Result {
            if self.empty {
                return writeln!(writer, "{{}}");
            }
            writeln!(writer, r#"{{"level":"{}"}}"#, event.metadata().level())
        }
    }

    #[test]
    fn around_a_json_format_the_ids_become_fields_of_each_object() {
        for empty in [false, true] {
            let (text, ids) = log_with(true, WithTraceIds::new(ObjectLines { empty }));
            let lines = parse_lines(&text);
            assert_eq!(lines.len(), 4, "{text}");
            assert!(lines[0].get("trace_id").is_none(), "{text}");
            assert_ids(&lines[1], &ids.root);
            assert_ids(&lines[2], &ids.child);
            assert_ids(&lines[3], &ids.child);
            if !empty {
                assert_eq!(lines[3]["level"], "ERROR");
            }
        }
    }

    #[test]
    fn around_tracing_subscribers_json_format_every_line_is_json_with_the_ids() {
        use tracing_subscriber::fmt::format::{self, JsonFields};
        let buffer = Buffer::default();
        let writer = buffer.clone();
        // The `fmt().json()` builder sets `JsonFields`, which `format().json()` needs.
        let subscriber = tracing_subscriber::fmt()
            .json()
            .event_format(WithTraceIds::new(format::format().json().without_time()))
            .with_writer(move || writer.clone())
            .finish()
            .with(SentryLayer::new());
        let ids = tracing::subscriber::with_default(subscriber, || {
            tracing::info!("outside");
            let root = tracing::info_span!("request", order = 7);
            root.in_scope(|| tracing::info!(ok = true, "in root"));
            root.trace_context().unwrap()
        });
        let lines = parse_lines(&buffer.text());
        assert_eq!(lines.len(), 2);
        assert!(lines[0].get("trace_id").is_none());
        assert_ids(&lines[1], &ids);
        assert_eq!(lines[1]["fields"]["ok"], true);
        assert_eq!(lines[1]["span"]["order"], 7);

        // Our own format with `JsonFields`: span fields as JSON fields of the span.
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let fmt = tracing_subscriber::fmt::layer()
            .fmt_fields(JsonFields::new())
            .event_format(Json::new())
            .with_writer(move || writer.clone());
        let subscriber = tracing_subscriber::registry()
            .with(fmt)
            .with(SentryLayer::new());
        let ids = tracing::subscriber::with_default(subscriber, || {
            let root = tracing::info_span!("request", order = 7, name = "not the span's name");
            root.in_scope(|| tracing::info!("in root"));
            root.trace_context().unwrap()
        });
        let lines = parse_lines(&buffer.text());
        assert_eq!(lines.len(), 1);
        assert_ids(&lines[0], &ids);
        assert_eq!(lines[0]["span"]["order"], 7);
        assert_eq!(lines[0]["span"]["name"], "request");
        assert_eq!(lines[0]["spans"][0]["order"], 7);
    }

    #[test]
    fn default_field_text_is_read_back_or_kept_as_one_string() {
        let colored =
            "\u{1b}[3mmethod\u{1b}[0m\u{1b}[2m=\u{1b}[0m\"GET\" \u{1b}[3mok\u{1b}[0m=true";
        let plain = strip_ansi(colored);
        assert_eq!(plain, r#"method="GET" ok=true"#);
        let fields = parse_key_values(&plain).unwrap();
        assert_eq!(
            fields,
            vec![("method", Value::from("GET")), ("ok", Value::from(true))]
        );
        let fields = parse_key_values(r#"n=-1.5 word=abc s="x\"y z" e="""#).unwrap();
        assert_eq!(
            fields,
            vec![
                ("n", Value::from(-1.5)),
                ("word", Value::from("abc")),
                ("s", Value::from("x\"y z")),
                ("e", Value::from("")),
            ]
        );
        for text in [
            "x=Foo { a: 1 } y=2",
            "no pairs",
            r#"s="unterminated"#,
            "=1",
            r#"a="b"c=1"#,
        ] {
            assert_eq!(parse_key_values(text), None, "{text}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_field_text_never_panics(text in "[a-z= \"\\\u{1b}\\[0-9m.{}]{0,40}") {
            let plain = strip_ansi(&text);
            let _ = parse_key_values(&plain);
        }
    }
}
