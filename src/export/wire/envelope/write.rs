//! Writing envelopes: the header line (event id, `sent_at`, DSN, SDK, the DSC as `trace`)
//! and each item in place after its header, in a buffer a sender reuses.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use crate::export::record::{SpanBatch, TransactionDsc, TransactionRecord, TransactionSource};
use crate::export::wire::json::{push_after, push_key, push_str, push_str_entry, Timestamps};
use crate::export::wire::key_facts::JudgeKey;
use crate::export::wire::limits::{MAX_ITEM_BYTES, MAX_SPAN_ITEM_BYTES, MAX_TELEMETRY_ITEM_BYTES};
use crate::export::wire::sdk::SDK_JSON;
use crate::export::wire::span_item::{write_span_payload, SPAN_CONTENT_TYPE};
use crate::export::wire::transaction::{write_transaction, EventMeta, SpanCaches};
use crate::id::TraceId;
use crate::propagation::{sample_rand_text, DynamicSamplingContext, HeadFacts, HeadOptions};

use super::read::find_newline;
use super::{EnvelopeBytes, EnvelopeErrorKind, EventId, Item, Items, ParseEnvelopeError};

/// What a sender keeps from one envelope to the next.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    /// The size of the last envelope.
    size_hint: usize,
    /// What the span writer remembers (the privacy pass uses its key facts too).
    pub(crate) spans: SpanCaches,
    /// The header fields that never change for a sender, written once.
    fixed: FixedHeader,
    /// For `sent_at`, which is not in the second of the spans when they took longer.
    sent_at: Timestamps,
    /// The DSC entries that are the same in every envelope of a sender, written out.
    steady: SteadyEntries,
    /// What a head DSC takes from the layer's options, and its last sample rate, written out.
    head: HeadJson,
    /// The last envelope's buffer, for the next one (see [`Scratch::recycle`]).
    spare: Vec<u8>,
    /// When the delivery began to send the last envelope (set before its first attempt,
    /// taken by the sender once the unit of work is done): how the senders tell a slow
    /// transport without reading the clock again.
    pub(crate) sending_since: Option<Instant>,
    /// The earliest time client reports can be due, as this sender last saw it.
    pub(crate) reports_not_due_before: Option<Instant>,
}

/// The largest envelope buffer a sender keeps for the next envelope: a rare large transaction
/// does not hold its memory after it was sent.
const MAX_SPARE_BYTES: usize = 64 * 1024;

impl Scratch {
    /// An empty buffer with room for `bytes`: the last envelope's, if it was kept.
    pub(crate) fn buffer(&mut self, bytes: usize) -> Vec<u8> {
        let mut buffer = std::mem::take(&mut self.spare);
        buffer.clear();
        buffer.reserve(bytes);
        buffer
    }

    /// Keeps the buffer of an envelope that was sent, for the next envelope (one allocation
    /// and one free fewer per envelope), unless it holds more than [`MAX_SPARE_BYTES`].
    pub(crate) fn recycle(&mut self, envelope: EnvelopeBytes) {
        if envelope.bytes.capacity() <= MAX_SPARE_BYTES {
            self.spare = envelope.bytes;
        }
    }
}

/// How many DSC keys have values that are the same in every envelope of a sender; see
/// [`DscKey`].
const STEADY_KEYS: usize = 4;

/// What the envelope writer knows of a DSC key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DscKey {
    /// `public_key`, `release`, `environment` or `org_id` (the index of its slot): the same in
    /// every envelope of a sender (the head of a trace takes them from its configuration, and
    /// a service's callers are mostly of one project).
    Steady(usize),
    /// `trace_id`, `transaction`, `sample_rate`, `sample_rand` or `sampled`: a plain key whose
    /// value varies, so only the value is scanned for escapes; `,"key":"` written out.
    Varying(&'static [u8]),
    /// Any other key, escaped as it comes.
    Other,
}

impl DscKey {
    #[inline]
    fn of(key: &str) -> Self {
        match key {
            "public_key" => Self::Steady(0),
            "release" => Self::Steady(1),
            "environment" => Self::Steady(2),
            "org_id" => Self::Steady(3),
            "trace_id" => Self::Varying(br#","trace_id":""#),
            "transaction" => Self::Varying(br#","transaction":""#),
            "sample_rate" => Self::Varying(br#","sample_rate":""#),
            "sample_rand" => Self::Varying(br#","sample_rand":""#),
            "sampled" => Self::Varying(br#","sampled":""#),
            _ => Self::Other,
        }
    }
}

/// The last value of each steady DSC key (see [`DscKey::Steady`]) with its `,"key":"value"`
/// JSON: an entry equal to the last one is copied rather than escaped again.
#[derive(Debug, Default)]
struct SteadyEntries {
    slots: [SteadyEntry; STEADY_KEYS],
}

#[derive(Debug, Default)]
struct SteadyEntry {
    /// The raw value `json` was written from (empty: nothing written yet; DSC values are
    /// never empty).
    value: String,
    json: Vec<u8>,
}

impl SteadyEntries {
    /// Writes `,"key":"value"`, escaped, copying the JSON of the last equal entry.
    fn push(&mut self, out: &mut Vec<u8>, key: &str, value: &str) {
        match DscKey::of(key) {
            DscKey::Steady(i) => match self.slots.get_mut(i) {
                Some(slot) => {
                    if slot.value != value || slot.value.is_empty() {
                        slot.value.clear();
                        slot.value.push_str(value);
                        slot.json.clear();
                        slot.json.push(b',');
                        push_str_entry(&mut slot.json, key, value);
                    }
                    out.extend_from_slice(&slot.json);
                }
                None => {
                    out.push(b',');
                    push_str_entry(out, key, value);
                }
            },
            DscKey::Varying(prefix) => push_after(out, prefix, value),
            DscKey::Other => {
                out.push(b',');
                push_str_entry(out, key, value);
            }
        }
    }
}

/// `,"dsn":"…","sdk":{…}` (the DSN only if configured): the part of every envelope header that
/// never changes for a sender, written on first use (and again if the DSN differs).
#[derive(Debug, Default)]
struct FixedHeader {
    dsn: Option<String>,
    json: Vec<u8>,
}

impl FixedHeader {
    fn json(&mut self, dsn: Option<&str>) -> &[u8] {
        if self.json.is_empty() || self.dsn.as_deref() != dsn {
            self.dsn = dsn.map(str::to_owned);
            self.json.clear();
            push_fixed_header(&mut self.json, dsn);
        }
        &self.json
    }
}

/// Why a transaction could not become an envelope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TooLarge {
    pub(crate) payload_len: usize,
}

impl EnvelopeBytes {
    /// Builds the envelope for one transaction, stamped with `sent_at` (the time of the first
    /// send attempt; retries send the same bytes). `scratch` is the sender's: the previous
    /// envelope's size (so the buffer rarely grows) and its callsite JSON. With `scrub`, the
    /// span data is scrubbed as it is written (see `Privacy::scrubs_when_written`).
    ///
    /// The payload is written in place after its item header, whose `length` is a fixed-width
    /// field (the number right-aligned in ten characters, padded with JSON whitespace) filled
    /// in once the payload is written: no copy of the payload, nothing moved.
    pub(crate) fn from_transaction(
        tx: &TransactionRecord,
        meta: &EventMeta,
        dsn: Option<&str>,
        sent_at: SystemTime,
        scratch: &mut Scratch,
        scrub: Option<&dyn JudgeKey>,
    ) -> Result<Self, TooLarge> {
        const LENGTH_WIDTH: usize = 10;
        let event_id = new_event_id();
        // Room for a client report item besides the transaction.
        let mut bytes = scratch.buffer(scratch.size_hint.clamp(2048, MAX_ITEM_BYTES) + 512);
        let trace = match &tx.dsc {
            TransactionDsc::Frozen(dsc) => TraceJson::Dsc(dsc, &mut scratch.steady),
            TransactionDsc::Head(facts) => TraceJson::Head(tx, facts, &mut scratch.head),
        };
        let header = push_header(
            &mut bytes,
            Some(&event_id),
            scratch.fixed.json(dsn),
            sent_at,
            trace,
            &mut scratch.sent_at,
        );
        // The item header in one copy, the length's ten characters blank.
        const ITEM_HEADER: &[u8] =
            b"{\"type\":\"transaction\",\"length\":          ,\"content_type\":\"application/json\"}\n";
        const LENGTH_AT: usize = br#"{"type":"transaction","length":"#.len();
        const _: () = assert!(
            ITEM_HEADER.len()
                == LENGTH_AT + LENGTH_WIDTH + b",\"content_type\":\"application/json\"}\n".len()
        );
        let length_at = bytes.len() + LENGTH_AT;
        bytes.extend_from_slice(ITEM_HEADER);
        let start = bytes.len();
        write_transaction(&mut bytes, tx, &event_id, meta, &mut scratch.spans, scrub);
        let payload_len = bytes.len() - start;
        scratch.size_hint = bytes.len();
        if payload_len > MAX_ITEM_BYTES {
            return Err(TooLarge { payload_len });
        }
        // The digits right-aligned over the spaces (at most 7 of them: the payload is at most
        // 1 MiB), written in place from the last.
        if let Some(field) = bytes.get_mut(length_at..length_at + LENGTH_WIDTH) {
            let mut n = payload_len;
            for slot in field.iter_mut().rev() {
                *slot = b'0' + (n % 10) as u8;
                n /= 10;
                if n == 0 {
                    break;
                }
            }
        }
        let payload = start..bytes.len();
        bytes.push(b'\n');
        Ok(Self {
            bytes,
            event_id: Some(EventId::Hex(event_id)),
            header,
            items: Items::one(Item {
                ty: Cow::Borrowed("transaction"),
                payload,
            }),
        })
    }

    /// Builds the envelope for one batch of streamed spans of one trace: a header with
    /// `sent_at`, the DSN, `sdk` and the trace's frozen DSC as `trace` (no `event_id`: spans
    /// are not events), then one `span` item (`item_count`, the span v2 content type).
    pub(crate) fn from_spans(
        batch: &SpanBatch,
        meta: &EventMeta,
        dsn: Option<&str>,
        sent_at: SystemTime,
        scratch: &mut Scratch,
    ) -> Result<Self, TooLarge> {
        let item = CountedItem {
            ty: "span",
            content_type: SPAN_CONTENT_TYPE,
            count: batch.spans.len(),
            dsc: Some(&batch.dsc),
            max_bytes: MAX_SPAN_ITEM_BYTES,
        };
        Self::with_counted_item(item, dsn, sent_at, scratch, |out| {
            write_span_payload(out, batch, meta);
        })
    }

    /// Builds the envelope of one batch of logs or metrics: a header with `sent_at`, the DSN
    /// and `sdk` (no `trace`: a batch mixes traces, and the spec forbids a DSC then), then one
    /// item of type `ty` with `item_count`, `content_type` and the payload `write` produces.
    /// A payload over [`MAX_TELEMETRY_ITEM_BYTES`] is refused.
    pub(crate) fn from_batch(
        ty: &'static str,
        content_type: &'static str,
        count: usize,
        dsn: Option<&str>,
        sent_at: SystemTime,
        scratch: &mut Scratch,
        write: impl FnOnce(&mut Vec<u8>),
    ) -> Result<Self, TooLarge> {
        let item = CountedItem {
            ty,
            content_type,
            count,
            dsc: None,
            max_bytes: MAX_TELEMETRY_ITEM_BYTES,
        };
        Self::with_counted_item(item, dsn, sent_at, scratch, write)
    }

    /// An envelope of one item with `item_count` (spans, logs, metrics): the header (with the
    /// DSC as `trace` when there is one), then the item header and the payload `write`
    /// produces. A payload over the item's limit is refused.
    fn with_counted_item(
        item: CountedItem<'_>,
        dsn: Option<&str>,
        sent_at: SystemTime,
        scratch: &mut Scratch,
        write: impl FnOnce(&mut Vec<u8>),
    ) -> Result<Self, TooLarge> {
        let mut payload = Vec::with_capacity(scratch.size_hint.clamp(1024, MAX_ITEM_BYTES));
        write(&mut payload);
        scratch.size_hint = payload.len();
        if payload.len() > item.max_bytes {
            return Err(TooLarge {
                payload_len: payload.len(),
            });
        }
        let mut bytes = scratch.buffer(payload.len() + 1024);
        let header = push_header(
            &mut bytes,
            None,
            scratch.fixed.json(dsn),
            sent_at,
            match item.dsc {
                Some(dsc) => TraceJson::Dsc(dsc, &mut scratch.steady),
                None => TraceJson::None,
            },
            &mut scratch.sent_at,
        );
        bytes.extend_from_slice(br#"{"type":"#);
        push_str(&mut bytes, item.ty);
        bytes.extend_from_slice(br#","item_count":"#);
        crate::export::wire::json::push_u64(&mut bytes, item.count as u64);
        bytes.extend_from_slice(br#","content_type":"#);
        push_str(&mut bytes, item.content_type);
        bytes.extend_from_slice(br#","length":"#);
        crate::export::wire::json::push_u64(&mut bytes, payload.len() as u64);
        bytes.extend_from_slice(b"}\n");
        let start = bytes.len();
        bytes.extend_from_slice(&payload);
        let items = Items::one(Item {
            ty: Cow::Borrowed(item.ty),
            payload: start..bytes.len(),
        });
        bytes.push(b'\n');
        Ok(Self {
            bytes,
            event_id: None,
            header,
            items,
        })
    }

    /// Builds an envelope without an event (a `client_report` alone, for example): a header
    /// with `sent_at` and the DSN, and no items yet; see [`push_item`](Self::push_item).
    pub(crate) fn without_event(dsn: Option<&str>, sent_at: SystemTime) -> Self {
        let mut bytes = Vec::with_capacity(256);
        let mut fixed = Vec::with_capacity(128);
        push_fixed_header(&mut fixed, dsn);
        let header = push_header(
            &mut bytes,
            None,
            &fixed,
            sent_at,
            TraceJson::None,
            &mut Timestamps::default(),
        );
        Self {
            bytes,
            event_id: None,
            header,
            items: Items::default(),
        }
    }

    /// Appends an item of type `ty` (a JSON payload) at the end. Items are only ever appended,
    /// so nothing already written moves.
    pub(crate) fn push_item(&mut self, ty: &'static str, payload: &[u8]) {
        let bytes = &mut self.bytes;
        bytes.extend_from_slice(br#"{"type":"#);
        push_str(bytes, ty);
        bytes.extend_from_slice(br#","length":"#);
        crate::export::wire::json::push_u64(bytes, payload.len() as u64);
        bytes.extend_from_slice(br#","content_type":"application/json"}"#);
        bytes.push(b'\n');
        let start = bytes.len();
        bytes.extend_from_slice(payload);
        self.items.push(Item {
            ty: Cow::Borrowed(ty),
            payload: start..bytes.len(),
        });
        bytes.push(b'\n');
    }

    /// Returns the length of the payload of the first item of type `ty`, if any.
    #[cfg(test)]
    pub(crate) fn item_len(&self, ty: &str) -> Option<usize> {
        self.items
            .iter()
            .find(|i| i.ty == ty)
            .map(|i| i.payload.len())
    }

    /// The envelope in `bytes` (written elsewhere, by the `sentry` crate) with `sent_at` and,
    /// given a DSC, `trace` added to its header line unless it has them. Writes into `out`
    /// (cleared first) and parses the result.
    ///
    /// # Errors
    ///
    /// As [`from_bytes`](Self::from_bytes), for what `bytes` holds.
    #[cfg_attr(
        not(any(feature = "sentry", test)),
        expect(
            dead_code,
            reason = "only the `sentry` integration sends envelopes written elsewhere"
        )
    )]
    pub(crate) fn with_header_fields(
        bytes: &[u8],
        dsc: Option<&DynamicSamplingContext>,
        sent_at: SystemTime,
        mut out: Vec<u8>,
    ) -> Result<Self, ParseEnvelopeError> {
        let invalid = ParseEnvelopeError {
            kind: EnvelopeErrorKind::InvalidHeader,
            offset: 0,
        };
        let end = find_newline(bytes, 0).unwrap_or(bytes.len());
        let header = bytes.get(..end).ok_or(invalid.clone())?;
        let (last, head) = header.split_last().ok_or(invalid.clone())?;
        if *last != b'}' || header.first() != Some(&b'{') {
            return Err(invalid);
        }
        // Which keys the header has: parsed (a short line) rather than guessed from its text.
        let keys: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(header).map_err(|_| invalid.clone())?;
        out.clear();
        out.reserve(bytes.len() + 512);
        // The header line is a JSON object: the new members go before its closing brace.
        out.extend_from_slice(head);
        let mut first = head.len() <= 1;
        let mut comma = |out: &mut Vec<u8>| {
            if !std::mem::replace(&mut first, false) {
                out.push(b',');
            }
        };
        if !keys.contains_key("sent_at") {
            comma(&mut out);
            push_key(&mut out, "sent_at");
            Timestamps::default().push(&mut out, sent_at);
        }
        if let Some(dsc) = dsc.filter(|dsc| !dsc.is_empty() && !keys.contains_key("trace")) {
            comma(&mut out);
            push_key(&mut out, "trace");
            out.push(b'{');
            for (i, (key, value)) in dsc.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                crate::export::wire::json::push_any_key(&mut out, key);
                push_str(&mut out, value);
            }
            out.push(b'}');
        }
        out.push(b'}');
        out.extend_from_slice(bytes.get(end..).unwrap_or_default());
        Self::from_vec(out)
    }
}

/// Writes the header line and its `\n`; returns the header's range (without the `\n`).
/// `fixed` is what [`push_fixed_header`] wrote.
fn push_header(
    bytes: &mut Vec<u8>,
    event_id: Option<&[u8; 32]>,
    fixed: &[u8],
    sent_at: SystemTime,
    trace: TraceJson<'_>,
    timestamps: &mut Timestamps,
) -> Range<usize> {
    let start = bytes.len();
    if let Some(event_id) = event_id {
        bytes.extend_from_slice(br#"{"event_id":""#);
        bytes.extend_from_slice(event_id);
        bytes.extend_from_slice(br#"","sent_at":"#);
    } else {
        bytes.extend_from_slice(br#"{"sent_at":"#);
    }
    timestamps.push(bytes, sent_at);
    bytes.extend_from_slice(fixed);
    match trace {
        TraceJson::None => {}
        TraceJson::Dsc(dsc, steady) => push_trace_header(bytes, dsc, steady),
        TraceJson::Head(tx, facts, head) => push_head_trace_header(bytes, tx, facts, head),
    }
    bytes.push(b'}');
    let header = start..bytes.len();
    bytes.push(b'\n');
    header
}

/// Writes `,"dsn":"…"` (if configured) and `,"sdk":{…}`.
fn push_fixed_header(out: &mut Vec<u8>, dsn: Option<&str>) {
    if let Some(dsn) = dsn {
        out.push(b',');
        push_key(out, "dsn");
        push_str(out, dsn);
    }
    out.push(b',');
    push_key(out, "sdk");
    out.extend_from_slice(SDK_JSON);
}

/// The envelope header's `trace`, and how to write it.
enum TraceJson<'a> {
    /// No `trace`.
    None,
    /// A DSC as it is (frozen, or another SDK's).
    Dsc(&'a DynamicSamplingContext, &'a mut SteadyEntries),
    /// A transaction's head DSC, written from its facts without building it.
    Head(&'a TransactionRecord, &'a HeadFacts, &'a mut HeadJson),
}

/// The parts of a head DSC's JSON that repeat from one transaction to the next: the entries
/// from the layer's options (written again only when the options differ) and the last
/// sample rate's text.
#[derive(Debug, Default)]
struct HeadJson {
    options: Option<Arc<HeadOptions>>,
    /// `,"public_key":"…","org_id":"…","environment":"…","release":"…"`, the set ones.
    json: Vec<u8>,
    /// The bits of the last sample rate, and its text (as a DSC writes it).
    rate: Option<(u64, String)>,
}

impl HeadJson {
    fn options(&mut self, options: &Arc<HeadOptions>) -> &[u8] {
        if !self
            .options
            .as_ref()
            .is_some_and(|o| Arc::ptr_eq(o, options))
        {
            self.json.clear();
            let entries = [
                ("public_key", options.public_key.as_deref()),
                ("org_id", options.org_id.as_deref()),
                ("environment", Some(options.environment.as_str())),
                ("release", options.release.as_deref()),
            ];
            for (key, value) in entries {
                if let Some(value) = value.filter(|v| !v.is_empty()) {
                    self.json.push(b',');
                    push_str_entry(&mut self.json, key, value);
                }
            }
            self.options = Some(Arc::clone(options));
        }
        &self.json
    }

    fn rate(&mut self, rate: f64) -> &str {
        let bits = rate.to_bits();
        if self.rate.as_ref().map_or(true, |(last, _)| *last != bits) {
            self.rate = Some((bits, rate.to_string()));
        }
        self.rate.as_ref().map_or("", |(_, text)| text)
    }
}

/// Writes `,"trace":{...}` for a transaction's head DSC: the entries, in the order and with the
/// values [`HeadFacts::build`] gives them, without building the DSC.
fn push_head_trace_header(
    out: &mut Vec<u8>,
    tx: &TransactionRecord,
    facts: &HeadFacts,
    head: &mut HeadJson,
) {
    out.extend_from_slice(br#","trace":{"trace_id":""#);
    out.extend_from_slice(&tx.trace_id.to_hex());
    out.push(b'"');
    out.extend_from_slice(head.options(&facts.options));
    let named = facts.sampled.is_some() && tx.source != TransactionSource::Url;
    if named && !tx.name.is_empty() {
        push_after(out, br#","transaction":""#, &tx.name);
    }
    if let Some(rate) = facts.sample_rate {
        push_after(out, br#","sample_rate":""#, head.rate(rate));
    }
    match facts.sampled {
        Some(true) => out.extend_from_slice(br#","sampled":"true""#),
        Some(false) => out.extend_from_slice(br#","sampled":"false""#),
        None => {}
    }
    out.extend_from_slice(br#","sample_rand":""#);
    out.extend_from_slice(&sample_rand_text(facts.sample_rand));
    out.extend_from_slice(b"\"}");
}

/// Writes `,"trace":{...}` with the DSC entries as string values; nothing when the DSC is empty.
fn push_trace_header(out: &mut Vec<u8>, dsc: &DynamicSamplingContext, steady: &mut SteadyEntries) {
    if dsc.is_empty() {
        return;
    }
    // Every entry is written after a comma; the first comma becomes the object's `{`.
    out.extend_from_slice(br#","trace":"#);
    let open = out.len();
    for (key, value) in dsc.iter() {
        steady.push(out, key, value);
    }
    if let Some(first) = out.get_mut(open) {
        *first = b'{';
    }
    out.push(b'}');
}

/// A random UUID v4 as 32 lowercase hex digits (the form Sentry recommends for `event_id`).
pub(super) fn new_event_id() -> [u8; 32] {
    let mut bytes = TraceId::random().to_bytes();
    if let Some(b) = bytes.get_mut(6) {
        *b = (*b & 0x0f) | 0x40;
    }
    if let Some(b) = bytes.get_mut(8) {
        *b = (*b & 0x3f) | 0x80;
    }
    TraceId::from_bytes(bytes).to_hex()
}

/// The one item of a [`EnvelopeBytes::with_counted_item`] envelope.
struct CountedItem<'a> {
    ty: &'static str,
    content_type: &'static str,
    count: usize,
    /// The trace's frozen DSC, for the envelope header's `trace` (spans of one trace only).
    dsc: Option<&'a DynamicSamplingContext>,
    max_bytes: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dsc_keys_are_told_apart_exactly() {
        assert_eq!(DscKey::of("public_key"), DscKey::Steady(0));
        assert_eq!(DscKey::of("release"), DscKey::Steady(1));
        assert_eq!(DscKey::of("environment"), DscKey::Steady(2));
        assert_eq!(DscKey::of("org_id"), DscKey::Steady(3));
        for key in [
            "trace_id",
            "transaction",
            "sample_rate",
            "sample_rand",
            "sampled",
        ] {
            let DscKey::Varying(prefix) = DscKey::of(key) else {
                panic!("{key} is a varying key");
            };
            assert_eq!(prefix, format!(r#","{key}":""#).as_bytes());
        }
        // Same length and last byte as a known key, or a known key's prefix: other keys.
        for key in [
            "publicxkey",
            "rexease",
            "org_xd",
            "sample_xand",
            "samplex",
            "",
            "d",
            "user_id",
        ] {
            assert_eq!(DscKey::of(key), DscKey::Other, "{key}");
        }
    }
}
