//! Field recording: what a recorded span accumulates from its fields until it finishes, and
//! the special `sentry.*` fields that set span properties instead of `data`.
//!
//! Only recorded spans (sampled, with export configured) and samplers visit fields; an
//! unsampled span never does.

use std::borrow::Cow;
use std::time::Instant;

use tracing_core::field::Field;
use tracing_core::Metadata;

use crate::export::record::{SpanLink, SpanRecord, TransactionSource};
use crate::field::{DataFields, Encoder, FieldValue, ValueRef};
use crate::id::SpanId;
use crate::status::SpanStatus;
use crate::thread::ThreadTag;

/// Field names with a meaning of their own (the names sentry-tracing uses, so users can move
/// over): they set the span's properties instead of becoming `data`.
pub(crate) const FIELD_OP: &str = "sentry.op";
pub(crate) const FIELD_NAME: &str = "sentry.name";
pub(crate) const FIELD_DESCRIPTION: &str = "sentry.description";
pub(crate) const FIELD_STATUS: &str = "sentry.status";
pub(crate) const FIELD_ORIGIN: &str = "sentry.origin";
pub(crate) const FIELD_SOURCE: &str = "sentry.source";

#[cfg(test)]
use crate::field::MAX_FIELD_BYTES;

/// The most links (`follows_from`) one span keeps.
const MAX_LINKS: usize = 128;

pub(crate) use crate::field::Fields;

/// What a recorded span accumulates until it closes. Kept small (it is moved into the span's
/// extension); what few spans set lives behind one optional box.
pub(crate) struct Recording {
    pub(crate) start: Instant,
    metadata: &'static Metadata<'static>,
    status: Option<SpanStatus>,
    error_seen: bool,
    /// The thread the span started on (in what would be padding).
    thread: ThreadTag,
    data: DataFields,
    /// Special-field overrides and links, set by few spans: handed on to the record as it is.
    extra: Option<Box<Extra>>,
}

use crate::export::record::SpanDetails as Extra;

// === impl Recording ===

impl Recording {
    pub(crate) fn new(metadata: &'static Metadata<'static>, start: Instant) -> Self {
        Self {
            start,
            metadata,
            status: None,
            error_seen: false,
            thread: ThreadTag::current(),
            data: DataFields::default(),
            extra: None,
        }
    }

    fn extra(&mut self) -> &mut Extra {
        self.extra.get_or_insert_with(Box::default)
    }

    /// The transaction name this span asks for (`sentry.name`), if it set one.
    pub(crate) fn name(&self) -> Option<&str> {
        self.extra.as_ref().and_then(|e| e.name.as_deref())
    }

    /// The transaction source this span asks for (`sentry.source`), if it set one.
    pub(crate) fn source(&self) -> Option<TransactionSource> {
        self.extra.as_ref().and_then(|e| e.source)
    }

    /// Applies fields collected by a [`FieldVisitor`] (special fields set properties).
    pub(crate) fn absorb(&mut self, fields: Fields) {
        if self.data.is_empty() && !fields.iter().any(|(k, _)| k.starts_with("sentry.")) {
            // The common case: no special fields, nothing recorded yet. Encoded in one pass
            // when every key is the callsite's, else the list becomes the data as it is.
            self.data = DataFields::encode(self.metadata, fields);
            return;
        }
        for (name, value) in fields {
            self.set_field(name, value);
        }
    }

    /// A new span's recording, its fields visited straight into its data (special fields set
    /// properties): the data is built in place, not a default one replaced.
    #[inline]
    pub(crate) fn from_attrs(
        metadata: &'static Metadata<'static>,
        start: Instant,
        attrs: &tracing_core::span::Attributes<'_>,
    ) -> Self {
        let mut visitor = DataVisitor {
            metadata,
            encoder: Encoder::new(),
            slow: false,
            rare: Vec::new(),
        };
        attrs.record(&mut visitor);
        let DataVisitor {
            encoder,
            slow,
            rare,
            ..
        } = visitor;
        let mut rec = Self {
            start,
            metadata,
            status: None,
            error_seen: false,
            thread: ThreadTag::current(),
            data: if slow {
                DataFields::default()
            } else {
                encoder.finish()
            },
            extra: None,
        };
        if !rare.is_empty() {
            rec.apply_rare(rare);
        }
        rec
    }

    /// Sets the fields a visit set aside, in visiting order.
    #[cold]
    #[inline(never)]
    fn apply_rare(&mut self, rare: Fields) {
        for (name, value) in rare {
            self.set_field(name, value);
        }
    }

    /// The fields recorded so far, as a plain list (what a sampler sees of a span given a
    /// remote parent).
    pub(crate) fn data_list(&self) -> Fields {
        if let Some(list) = self.data.owned() {
            return list.clone();
        }
        let mut list = Vec::new();
        let _ = self.data.as_slice(Some(self.metadata), &mut list);
        list
    }

    fn set_field(&mut self, name: Cow<'static, str>, value: FieldValue) {
        match name.as_ref() {
            FIELD_OP => self.extra().op = Some(Cow::Owned(into_text(value))),
            FIELD_NAME => self.extra().name = Some(into_text(value)),
            FIELD_DESCRIPTION => self.extra().description = Some(into_text(value)),
            FIELD_STATUS => {
                if let Ok(status) = into_text(value).parse() {
                    self.status = Some(status);
                }
            }
            FIELD_ORIGIN => self.extra().origin = Some(Cow::Owned(into_text(value))),
            FIELD_SOURCE => self.extra().source = parse_source(&into_text(value)),
            _ => self.data.set(self.metadata, name, (&value).into()),
        }
    }

    /// Sets one typed property (what the special field of the same meaning would set, without
    /// formatting or parsing a string).
    pub(crate) fn set(&mut self, property: Property) {
        match property {
            Property::Op(op) => self.extra().op = Some(Cow::Borrowed(op)),
            Property::Name(name) => self.extra().name = Some(name),
            Property::Origin(origin) => self.extra().origin = Some(Cow::Borrowed(origin)),
            Property::Status(status) => self.status = Some(status),
            Property::Data(key, value) => self.set_field(Cow::Borrowed(key), value),
        }
    }

    /// The `sentry.op` the span set, if any.
    #[cfg(feature = "sentry")]
    pub(crate) fn op(&self) -> Option<&str> {
        self.extra.as_ref().and_then(|e| e.op.as_deref())
    }

    pub(crate) fn error_seen(&mut self) {
        self.error_seen = true;
    }

    pub(crate) fn add_link(&mut self, link: SpanLink) {
        // Links are bounded like spans: a span that follows from thousands of others keeps the
        // first ones.
        let links = &mut self.extra().links;
        if links.len() < MAX_LINKS {
            links.push(link);
        }
    }

    /// What an `ignore_spans` rule sees of a span being created: its name, op, description,
    /// origin and data so far (ids and times are placeholders; the rules do not see them).
    pub(crate) fn preview(&self) -> SpanRecord {
        let details = self.extra.as_deref().map(|e| {
            Box::new(Extra {
                op: e.op.clone(),
                name: e.name.clone(),
                description: e.description.clone(),
                origin: e.origin.clone(),
                source: e.source,
                links: Vec::new(),
            })
        });
        SpanRecord {
            span_id: SpanId::from_bytes([0; 8]),
            parent_span_id: None,
            status: self.status,
            start: self.start,
            end: self.start,
            data: self.data.clone(),
            details,
            metadata: Some(self.metadata),
            thread: self.thread,
        }
    }

    /// Turns the recording into the finished span's record, which ends now.
    pub(crate) fn finish(self, span_id: SpanId, parent_span_id: Option<SpanId>) -> SpanRecord {
        self.finish_at(span_id, parent_span_id, Instant::now())
    }

    /// Turns the recording into the finished span's record, which ended at `end`.
    #[inline]
    pub(crate) fn finish_at(
        self,
        span_id: SpanId,
        parent_span_id: Option<SpanId>,
        end: Instant,
    ) -> SpanRecord {
        let start = self.start;
        let status = self
            .status
            .or_else(|| self.error_seen.then_some(SpanStatus::InternalError))
            // Dropped while its thread unwinds from a panic (checked only for recorded spans).
            .or_else(|| std::thread::panicking().then_some(SpanStatus::InternalError));
        SpanRecord {
            span_id,
            parent_span_id,
            status,
            start,
            end,
            data: self.data,
            // Most spans set none of the extras: no box for them.
            details: self.extra,
            metadata: Some(self.metadata),
            thread: self.thread,
        }
    }
}

/// A span property set by this crate's integrations: the typed form of a special field
/// (`sentry.op`, `sentry.name`, `sentry.origin`, `sentry.status`) or a data entry, so that
/// constant strings are not allocated for every span.
#[derive(Debug)]
pub(crate) enum Property {
    /// `sentry.op`.
    Op(&'static str),
    /// `sentry.name`.
    Name(String),
    /// `sentry.origin`.
    Origin(&'static str),
    /// `sentry.status`.
    Status(SpanStatus),
    /// A data entry.
    Data(&'static str, FieldValue),
}

impl Property {
    /// The field that sets the same property (for a local root, whose name also goes through
    /// the fields path).
    pub(crate) fn into_field(self) -> (Cow<'static, str>, FieldValue) {
        let text = |s: &str| FieldValue::Str(s.to_owned());
        match self {
            Self::Op(op) => (Cow::Borrowed(FIELD_OP), text(op)),
            Self::Name(name) => (Cow::Borrowed(FIELD_NAME), FieldValue::Str(name)),
            Self::Origin(origin) => (Cow::Borrowed(FIELD_ORIGIN), text(origin)),
            Self::Status(status) => (Cow::Borrowed(FIELD_STATUS), text(status.as_str())),
            Self::Data(key, value) => (Cow::Borrowed(key), value),
        }
    }
}

fn into_text(value: FieldValue) -> String {
    match value {
        FieldValue::Str(s) => s,
        FieldValue::Bool(b) => b.to_string(),
        FieldValue::I64(n) => n.to_string(),
        FieldValue::U64(n) => n.to_string(),
        FieldValue::F64(n) => n.to_string(),
    }
}

// === transaction names ===

/// Whether the callsite declares `sentry.name` (only then does an unrecorded root visit fields
/// to name its transaction).
pub(crate) fn declares_name(metadata: &Metadata<'_>) -> bool {
    metadata.fields().field(FIELD_NAME).is_some()
}

/// The transaction name and source that `fields` ask for (`sentry.name`, `sentry.source`).
pub(crate) fn requested_name(fields: &[(Cow<'static, str>, FieldValue)]) -> RequestedName {
    let text = |key: &str| {
        fields
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| v.as_str().map(str::to_owned))
    };
    RequestedName {
        name: text(FIELD_NAME),
        source: text(FIELD_SOURCE).as_deref().and_then(parse_source),
    }
}

/// A transaction name and/or source that a span asked for; either may be missing.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct RequestedName {
    pub(crate) name: Option<String>,
    pub(crate) source: Option<TransactionSource>,
}

impl RequestedName {
    pub(crate) fn is_empty(&self) -> bool {
        self.name.is_none() && self.source.is_none()
    }
}

pub(crate) fn parse_source(s: &str) -> Option<TransactionSource> {
    Some(match s {
        "custom" => TransactionSource::Custom,
        "url" => TransactionSource::Url,
        "route" => TransactionSource::Route,
        "view" => TransactionSource::View,
        "component" => TransactionSource::Component,
        "task" => TransactionSource::Task,
        _ => return None,
    })
}

/// The source of a name nobody gave a source for.
pub(crate) fn default_source(name: &str) -> TransactionSource {
    // A raw URL is a poor transaction name for dynamic sampling; Sentry keeps such names out
    // of the DSC (spec 2.2). A byte scan for `://`: a substring searcher's set-up costs more
    // than the scan of a short name (every local root asks).
    if name.as_bytes().windows(3).any(|w| w == b"://") {
        TransactionSource::Url
    } else {
        TransactionSource::Custom
    }
}

// === field visiting ===

/// Collects span fields as typed values (only for recorded spans, or for a sampler).
#[derive(Default)]
pub(crate) struct FieldVisitor {
    pub(crate) fields: Fields,
}

impl FieldVisitor {
    /// A visitor sized for the callsite's fields, so recording them allocates once.
    pub(crate) fn for_metadata(metadata: &Metadata<'_>) -> Self {
        Self {
            fields: Vec::with_capacity(metadata.fields().len()),
        }
    }

    fn push(&mut self, field: &Field, value: FieldValue) {
        self.fields.push((Cow::Borrowed(field.name()), value));
    }
}

crate::field::visit_as_field_values!(FieldVisitor);

/// Visits a recorded span's fields straight into its [`DataFields`]: no list is built and no
/// string copied to the heap when they fit inline. Special fields (`sentry.*`) are set aside
/// for [`Recording::set_field`].
struct DataVisitor {
    metadata: &'static Metadata<'static>,
    encoder: Encoder,
    /// Every field goes to `rare` instead (a field the encoding cannot key was met).
    slow: bool,
    /// What [`Recording::set_field`] applies after the visit, in visiting order: special
    /// fields, and every field once `slow`.
    rare: Fields,
}

impl DataVisitor {
    #[inline]
    fn push(&mut self, field: &Field, value: ValueRef<'_>) {
        let name = field.name();
        let special = name.as_bytes().first() == Some(&b's') && name.starts_with("sentry.");
        match u8::try_from(field.index()) {
            Ok(index) if !self.slow && !special => self.encoder.push(index, value),
            _ => self.push_rare(name, value, special),
        }
    }

    #[cold]
    fn push_rare(&mut self, name: &'static str, value: ValueRef<'_>, special: bool) {
        if !self.slow && !special {
            // A key the encoding cannot hold: what is encoded goes first, then field by field.
            self.slow = true;
            let mut encoded = std::mem::replace(&mut self.encoder, Encoder::new()).finish();
            // Before any special field already set aside: those never become data.
            let mut list = encoded.take(Some(self.metadata));
            list.append(&mut self.rare);
            self.rare = list;
        }
        self.rare.push((Cow::Borrowed(name), value.to_owned()));
    }
}

impl tracing_core::field::Visit for DataVisitor {
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.push(field, ValueRef::Bool(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.push(field, ValueRef::I64(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.push(field, ValueRef::U64(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.push(field, ValueRef::F64(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        let value = crate::field::cut(value, crate::field::MAX_FIELD_BYTES);
        self.push(field, ValueRef::Str(value.as_bytes()));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let text = format!("{value:?}");
        let kept = crate::field::cut(&text, crate::field::MAX_FIELD_BYTES);
        self.push(field, ValueRef::Str(kept.as_bytes()));
    }
}

/// Visits `attrs` into `fields` once, on first need (the sampler and the recording share one
/// visit).
pub(crate) fn ensure_fields<'f>(
    fields: &'f mut Option<Fields>,
    attrs: Option<&tracing_core::span::Attributes<'_>>,
) -> &'f [(Cow<'static, str>, FieldValue)] {
    if fields.is_none() {
        let visitor = attrs.map(|attrs| {
            let mut visitor = FieldVisitor::for_metadata(attrs.metadata());
            attrs.record(&mut visitor);
            visitor
        });
        *fields = Some(visitor.unwrap_or_default().fields);
    }
    fields.as_deref().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_strings_are_cut_at_a_character_boundary() {
        let long = "é".repeat(MAX_FIELD_BYTES);
        let cut = crate::field::cut(&long, MAX_FIELD_BYTES);
        assert!(cut.len() <= MAX_FIELD_BYTES);
        assert!(cut.chars().all(|c| c == 'é'));
    }

    #[test]
    fn raw_urls_are_url_sourced() {
        assert_eq!(default_source("GET https://x.io/a"), TransactionSource::Url);
        assert_eq!(default_source("GET /users/:id"), TransactionSource::Custom);
        for (name, url) in [
            ("://", true),
            ("a:://", true),
            ("x:/", false),
            (":", false),
            ("é://é", true),
            ("", false),
            ("a: //b", false),
        ] {
            assert_eq!(
                default_source(name) == TransactionSource::Url,
                url,
                "{name:?}"
            );
        }
    }

    #[test]
    fn a_requested_name_reads_only_the_special_fields() {
        let fields: Fields = vec![
            ("user.id".into(), FieldValue::U64(7)),
            (FIELD_NAME.into(), FieldValue::Str("GET /a".into())),
            (FIELD_SOURCE.into(), FieldValue::Str("route".into())),
        ];
        assert_eq!(
            requested_name(&fields),
            RequestedName {
                name: Some("GET /a".into()),
                source: Some(TransactionSource::Route)
            }
        );
        let fields: Fields = vec![(FIELD_SOURCE.into(), FieldValue::Str("nonsense".into()))];
        assert!(requested_name(&fields).is_empty());
    }
}
