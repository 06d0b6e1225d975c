//! Envelope framing (spec 7.1): a header line, then items (each an item header line and its
//! payload), separated by `\n`. The writer builds the envelope of one transaction (a
//! `transaction` item), of one batch of streamed spans (a `span` item) or of client reports
//! alone, and a `client_report` item may ride along; the reader reads any envelope back.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::time::SystemTime;

use crate::export::record::{SpanBatch, TransactionRecord};
use crate::export::wire::json::{push_after, push_key, push_str, push_str_entry, Timestamps};
use crate::export::wire::key_facts::JudgeKey;
use crate::export::wire::limits::{MAX_ITEM_BYTES, MAX_SPAN_ITEM_BYTES, MAX_TELEMETRY_ITEM_BYTES};
use crate::export::wire::sdk::SDK_JSON;
use crate::export::wire::span_item::{write_span_payload, SPAN_CONTENT_TYPE};
use crate::export::wire::transaction::{write_transaction, EventMeta, SpanCaches};
use crate::id::TraceId;
use crate::propagation::DynamicSamplingContext;

/// A Sentry envelope: the bytes that go on the wire, with read-only views for tests and tools.
///
/// The export senders build one envelope per transaction or per batch of streamed spans: a
/// header line
/// (`event_id`, `sent_at`, `dsn` if configured, `sdk`, and `trace` with the dynamic sampling
/// context, all values strings), an item header
/// (`{"type":"transaction","length":N,"content_type":"application/json"}`) and the transaction
/// payload, each followed by `\n`, and possibly a `client_report` item. `sent_at` is the time of
/// the first send attempt, so every [`EnvelopeTransport`](crate::export::EnvelopeTransport) sees a stamped envelope.
///
/// [`EnvelopeBytes::from_bytes`] reads any envelope back (for example in a test, or a local sink that
/// replays files), so the views below work on both.
///
/// # Examples
///
/// ```
/// use tracing_sentry::export::EnvelopeBytes;
///
/// let bytes = concat!(
///     r#"{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","trace":{"sample_rate":"1.0"}}"#, "\n",
///     r#"{"type":"transaction","length":42}"#, "\n",
///     r#"{"type":"transaction","transaction":"GET"}"#, "\n",
/// );
/// let envelope = EnvelopeBytes::from_bytes(bytes.as_bytes())?;
/// assert_eq!(envelope.event_id(), Some("9ec79c33ec9942ab8353589fcb2e04dc"));
/// assert_eq!(envelope.trace().get("sample_rate"), Some("1.0"));
/// assert_eq!(envelope.transaction().unwrap()["transaction"], "GET");
/// assert_eq!(envelope.as_bytes(), bytes.as_bytes());
/// # Ok::<(), tracing_sentry::export::ParseEnvelopeError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct EnvelopeBytes {
    bytes: Vec<u8>,
    event_id: Option<EventId>,
    /// The header line, without its `\n`.
    header: Range<usize>,
    items: Items,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Item {
    ty: Cow<'static, str>,
    payload: Range<usize>,
}

/// The items of an envelope in order; the first (the only one, mostly) without an allocation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Items {
    first: Option<Item>,
    rest: Vec<Item>,
}

impl Items {
    fn one(item: Item) -> Self {
        Self {
            first: Some(item),
            rest: Vec::new(),
        }
    }

    fn push(&mut self, item: Item) {
        if self.first.is_none() {
            self.first = Some(item);
        } else {
            self.rest.push(item);
        }
    }

    fn iter(&self) -> impl Iterator<Item = &Item> + '_ {
        self.first.iter().chain(&self.rest)
    }
}

/// An envelope's `event_id`: the digits we generated, or the text of a parsed header.
#[derive(Clone)]
enum EventId {
    Hex([u8; 32]),
    Parsed(String),
}

impl EventId {
    fn as_str(&self) -> &str {
        match self {
            Self::Hex(hex) => crate::export::wire::transaction::hex(hex),
            Self::Parsed(text) => text,
        }
    }
}

impl PartialEq for EventId {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for EventId {}

impl fmt::Debug for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// The error returned by [`EnvelopeBytes::from_bytes`] when the input is not a Sentry envelope.
///
/// # Examples
///
/// ```
/// use tracing_sentry::export::{EnvelopeBytes, EnvelopeErrorKind};
///
/// let err = EnvelopeBytes::from_bytes(b"not json\n").unwrap_err();
/// assert_eq!(err.kind(), EnvelopeErrorKind::InvalidHeader);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ParseEnvelopeError {
    kind: EnvelopeErrorKind,
    offset: usize,
}

/// What was wrong with an envelope; see [`ParseEnvelopeError::kind`].
///
/// # Examples
///
/// ```
/// use tracing_sentry::export::{EnvelopeBytes, EnvelopeErrorKind};
///
/// let err = EnvelopeBytes::from_bytes(b"{}\n{\"type\":\"event\",\"length\":10}\n{}\n").unwrap_err();
/// assert_eq!(err.kind(), EnvelopeErrorKind::Truncated);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EnvelopeErrorKind {
    /// The envelope header line was missing, not JSON, or not an object.
    InvalidHeader,
    /// An item header line was not a JSON object with a string `type`.
    InvalidItemHeader,
    /// An item's `length` ran past the end of the input.
    Truncated,
    /// A payload with a `length` was not followed by `\n` or the end of the input.
    MissingNewline,
}

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
    /// The last envelope's buffer, for the next one (see [`Scratch::recycle`]).
    spare: Vec<u8>,
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

// === impl EnvelopeBytes ===

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
        let header = push_header(
            &mut bytes,
            Some(&event_id),
            scratch.fixed.json(dsn),
            sent_at,
            Some((&tx.dsc, &mut scratch.steady)),
            &mut scratch.sent_at,
        );
        bytes.extend_from_slice(br#"{"type":"transaction","length":"#);
        let length_at = bytes.len();
        bytes.extend_from_slice(&[b' '; LENGTH_WIDTH]);
        bytes.extend_from_slice(b",\"content_type\":\"application/json\"}\n");
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
        let mut payload = Vec::with_capacity(scratch.size_hint.clamp(2048, MAX_ITEM_BYTES));
        write_span_payload(&mut payload, batch, meta);
        scratch.size_hint = payload.len();
        if payload.len() > MAX_SPAN_ITEM_BYTES {
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
            Some((&batch.dsc, &mut scratch.steady)),
            &mut scratch.sent_at,
        );
        bytes.extend_from_slice(br#"{"type":"span","item_count":"#);
        crate::export::wire::json::push_u64(&mut bytes, batch.spans.len() as u64);
        bytes.extend_from_slice(br#","content_type":"#);
        push_str(&mut bytes, SPAN_CONTENT_TYPE);
        bytes.extend_from_slice(br#","length":"#);
        crate::export::wire::json::push_u64(&mut bytes, payload.len() as u64);
        bytes.extend_from_slice(b"}\n");
        let start = bytes.len();
        bytes.extend_from_slice(&payload);
        let items = Items::one(Item {
            ty: Cow::Borrowed("span"),
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

    /// Builds the envelope of one batch of logs or metrics: a header with `sent_at`, the DSN
    /// and `sdk` (no `trace`: a batch mixes traces, and the spec forbids a DSC then), then one
    /// item of type `ty` with `item_count`, `content_type` and the payload `write` produces.
    /// A payload over [`MAX_TELEMETRY_ITEM_BYTES`] is refused.
    pub(crate) fn from_batch(
        ty: &'static str,
        content_type: &str,
        count: usize,
        dsn: Option<&str>,
        sent_at: SystemTime,
        scratch: &mut Scratch,
        write: impl FnOnce(&mut Vec<u8>),
    ) -> Result<Self, TooLarge> {
        let mut payload = Vec::with_capacity(scratch.size_hint.clamp(1024, MAX_ITEM_BYTES));
        write(&mut payload);
        scratch.size_hint = payload.len();
        if payload.len() > MAX_TELEMETRY_ITEM_BYTES {
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
            None,
            &mut scratch.sent_at,
        );
        bytes.extend_from_slice(br#"{"type":"#);
        push_str(&mut bytes, ty);
        bytes.extend_from_slice(br#","item_count":"#);
        crate::export::wire::json::push_u64(&mut bytes, count as u64);
        bytes.extend_from_slice(br#","content_type":"#);
        push_str(&mut bytes, content_type);
        bytes.extend_from_slice(br#","length":"#);
        crate::export::wire::json::push_u64(&mut bytes, payload.len() as u64);
        bytes.extend_from_slice(b"}\n");
        let start = bytes.len();
        bytes.extend_from_slice(&payload);
        let items = Items::one(Item {
            ty: Cow::Borrowed(ty),
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
            None,
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

    /// Parses an envelope: a header line holding a JSON object, then items, each an item header
    /// line (a JSON object with a string `type` and an optional `length`) and a payload of
    /// `length` bytes, or up to the next `\n` without one.
    ///
    /// The bytes are kept as they are; [`as_bytes`](Self::as_bytes) returns them unchanged.
    ///
    /// # Errors
    ///
    /// Returns [`ParseEnvelopeError`] when a header is not a JSON object, an item header has no
    /// `type`, or a `length` runs past the end of the input or is not followed by `\n`.
    ///
    /// # Examples
    ///
    /// ```
    /// use tracing_sentry::export::EnvelopeBytes;
    ///
    /// let envelope = EnvelopeBytes::from_bytes(b"{}\n{\"type\":\"event\"}\n{}\n")?;
    /// assert_eq!(envelope.event_id(), None);
    /// assert!(envelope.transaction().is_none());
    ///
    /// assert!(EnvelopeBytes::from_bytes(b"{}\n{\"type\":\"event\",\"length\":99}\n{}").is_err());
    /// # Ok::<(), tracing_sentry::export::ParseEnvelopeError>(())
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ParseEnvelopeError> {
        Self::from_vec(bytes.to_vec())
    }

    /// [`from_bytes`](Self::from_bytes) keeping `bytes` (no copy).
    pub(crate) fn from_vec(bytes: Vec<u8>) -> Result<Self, ParseEnvelopeError> {
        let err = |kind, offset| ParseEnvelopeError { kind, offset };
        let header_end = find_newline(&bytes, 0).unwrap_or(bytes.len());
        let header_value: serde_json::Value = bytes
            .get(..header_end)
            .and_then(|line| serde_json::from_slice(line).ok())
            .ok_or(err(EnvelopeErrorKind::InvalidHeader, 0))?;
        let header_obj = header_value
            .as_object()
            .ok_or(err(EnvelopeErrorKind::InvalidHeader, 0))?;
        let event_id = header_obj
            .get("event_id")
            .and_then(|v| v.as_str())
            .map(|id| EventId::Parsed(id.to_owned()));

        let mut items = Items::default();
        let mut pos = header_end + 1;
        while pos < bytes.len() {
            let line_end = find_newline(&bytes, pos).unwrap_or(bytes.len());
            let item_header: serde_json::Value = bytes
                .get(pos..line_end)
                .and_then(|line| serde_json::from_slice(line).ok())
                .ok_or(err(EnvelopeErrorKind::InvalidItemHeader, pos))?;
            let ty = item_header
                .get("type")
                .and_then(|v| v.as_str())
                .ok_or(err(EnvelopeErrorKind::InvalidItemHeader, pos))?
                .to_owned()
                .into();
            let start = (line_end + 1).min(bytes.len());
            let end = match item_header.get("length") {
                Some(length) => {
                    let end = length
                        .as_u64()
                        .and_then(|len| usize::try_from(len).ok())
                        .and_then(|len| start.checked_add(len))
                        .filter(|&end| end <= bytes.len())
                        .ok_or(err(EnvelopeErrorKind::Truncated, pos))?;
                    match bytes.get(end) {
                        None | Some(b'\n') => end,
                        Some(_) => return Err(err(EnvelopeErrorKind::MissingNewline, end)),
                    }
                }
                None => find_newline(&bytes, start).unwrap_or(bytes.len()),
            };
            items.push(Item {
                ty,
                payload: start..end,
            });
            pos = end + 1;
        }

        Ok(Self {
            bytes,
            event_id,
            header: 0..header_end,
            items,
        })
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

    /// Returns the envelope's `event_id` (32 hex digits), if the header has one.
    ///
    /// Envelopes built by the export worker always have one; it equals the transaction's.
    ///
    /// # Examples
    ///
    /// ```
    /// let envelope = tracing_sentry::export::EnvelopeBytes::from_bytes(
    ///     br#"{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc"}"#,
    /// )?;
    /// assert_eq!(envelope.event_id(), Some("9ec79c33ec9942ab8353589fcb2e04dc"));
    /// # Ok::<(), tracing_sentry::export::ParseEnvelopeError>(())
    /// ```
    pub fn event_id(&self) -> Option<&str> {
        self.event_id.as_ref().map(EventId::as_str)
    }

    /// Returns the wire bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// let envelope = tracing_sentry::export::EnvelopeBytes::from_bytes(b"{}\n")?;
    /// assert_eq!(envelope.as_bytes(), b"{}\n");
    /// # Ok::<(), tracing_sentry::export::ParseEnvelopeError>(())
    /// ```
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Returns a copy of the wire bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// let envelope = tracing_sentry::export::EnvelopeBytes::from_bytes(b"{}\n")?;
    /// assert_eq!(envelope.to_bytes(), b"{}\n".to_vec());
    /// # Ok::<(), tracing_sentry::export::ParseEnvelopeError>(())
    /// ```
    pub fn to_bytes(&self) -> Vec<u8> {
        self.bytes.clone()
    }

    /// Returns the wire bytes, consuming the envelope.
    ///
    /// # Examples
    ///
    /// ```
    /// let envelope = tracing_sentry::export::EnvelopeBytes::from_bytes(b"{}")?;
    /// assert_eq!(envelope.into_bytes(), b"{}".to_vec());
    /// # Ok::<(), tracing_sentry::export::ParseEnvelopeError>(())
    /// ```
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// Returns the envelope header as a JSON object (feature `test-util`; elsewhere read
    /// [`header_bytes`](Self::header_bytes) with the JSON parser of your choice).
    ///
    /// # Examples
    ///
    /// ```
    /// let envelope = tracing_sentry::export::EnvelopeBytes::from_bytes(br#"{"sent_at":"2026-01-01T00:00:00.000000Z"}"#)?;
    /// assert_eq!(envelope.header()["sent_at"], "2026-01-01T00:00:00.000000Z");
    /// # Ok::<(), tracing_sentry::export::ParseEnvelopeError>(())
    /// ```
    #[cfg(any(test, feature = "test-util"))]
    #[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
    pub fn header(&self) -> serde_json::Value {
        self.bytes
            .get(self.header.clone())
            .and_then(|line| serde_json::from_slice(line).ok())
            .unwrap_or(serde_json::Value::Null)
    }

    /// Returns the dynamic sampling context from the header's `trace` object (empty if there is
    /// none). Values that are JSON numbers or booleans are returned as their JSON text.
    ///
    /// # Examples
    ///
    /// ```
    /// let envelope = tracing_sentry::export::EnvelopeBytes::from_bytes(
    ///     br#"{"trace":{"trace_id":"771a43a4192642f0b136d5159a501700","sampled":"true"}}"#,
    /// )?;
    /// let dsc = envelope.trace();
    /// assert_eq!(dsc.trace_id(), Some("771a43a4192642f0b136d5159a501700"));
    /// assert_eq!(dsc.sampled(), Some(true));
    /// # Ok::<(), tracing_sentry::export::ParseEnvelopeError>(())
    /// ```
    pub fn trace(&self) -> DynamicSamplingContext {
        let mut dsc = DynamicSamplingContext::new();
        let entries = self
            .bytes
            .get(self.header.clone())
            .and_then(|line| serde_json::from_slice::<HeaderTrace>(line).ok())
            .map(|header| header.0)
            .unwrap_or_default();
        for (key, value) in entries {
            match value {
                serde_json::Value::String(s) => dsc.set(&key, s),
                serde_json::Value::Number(_) | serde_json::Value::Bool(_) => {
                    dsc.set(&key, value.to_string());
                }
                _ => {}
            }
        }
        dsc
    }

    /// Returns the payload of the first `transaction` item, parsed as JSON, or `None` if there
    /// is no such item or it is not JSON (feature `test-util`; elsewhere read
    /// [`items`](Self::items)).
    ///
    /// # Examples
    ///
    /// ```
    /// let envelope = tracing_sentry::export::EnvelopeBytes::from_bytes(
    ///     b"{}\n{\"type\":\"transaction\"}\n{\"transaction\":\"checkout\"}\n",
    /// )?;
    /// assert_eq!(envelope.transaction().unwrap()["transaction"], "checkout");
    /// # Ok::<(), tracing_sentry::export::ParseEnvelopeError>(())
    /// ```
    #[cfg(any(test, feature = "test-util"))]
    #[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
    pub fn transaction(&self) -> Option<serde_json::Value> {
        let item = self.items.iter().find(|item| item.ty == "transaction")?;
        serde_json::from_slice(self.bytes.get(item.payload.clone())?).ok()
    }

    /// Returns the spans of every `span` item (span v2: the `items` of
    /// `{"version":2,"items":[...]}`), in order: what the stream lifecycle sends (feature
    /// `test-util`; elsewhere read [`items`](Self::items)).
    ///
    /// # Examples
    ///
    /// ```
    /// let envelope = tracing_sentry::export::EnvelopeBytes::from_bytes(
    ///     b"{}\n{\"type\":\"span\",\"item_count\":1}\n{\"version\":2,\"items\":[{\"name\":\"GET /\"}]}\n",
    /// )?;
    /// assert_eq!(envelope.spans()[0]["name"], "GET /");
    /// # Ok::<(), tracing_sentry::export::ParseEnvelopeError>(())
    /// ```
    #[cfg(any(test, feature = "test-util"))]
    #[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
    pub fn spans(&self) -> Vec<serde_json::Value> {
        self.container_items("span")
    }

    /// Returns the logs of every `log` item (the `items` of `{"version":2,"items":[...]}`), in
    /// order.
    ///
    /// # Examples
    ///
    /// ```
    /// let envelope = tracing_sentry::export::EnvelopeBytes::from_bytes(
    ///     b"{}\n{\"type\":\"log\",\"item_count\":1}\n{\"version\":2,\"items\":[{\"body\":\"hello\"}]}\n",
    /// )?;
    /// assert_eq!(envelope.logs()[0]["body"], "hello");
    /// # Ok::<(), tracing_sentry::export::ParseEnvelopeError>(())
    /// ```
    pub fn logs(&self) -> Vec<serde_json::Value> {
        self.container_items("log")
    }

    /// Returns the metrics of every `trace_metric` item (the `items` of
    /// `{"version":2,"items":[...]}`), in order.
    ///
    /// # Examples
    ///
    /// ```
    /// let envelope = tracing_sentry::export::EnvelopeBytes::from_bytes(
    ///     b"{}\n{\"type\":\"trace_metric\",\"item_count\":1}\n{\"version\":2,\"items\":[{\"name\":\"jobs\"}]}\n",
    /// )?;
    /// assert_eq!(envelope.metrics()[0]["name"], "jobs");
    /// # Ok::<(), tracing_sentry::export::ParseEnvelopeError>(())
    /// ```
    pub fn metrics(&self) -> Vec<serde_json::Value> {
        self.container_items("trace_metric")
    }

    /// The `items` of every item of type `ty` whose payload is an item container.
    fn container_items(&self, ty: &str) -> Vec<serde_json::Value> {
        let mut spans = Vec::new();
        for item in self.items.iter().filter(|item| item.ty == ty) {
            let payload = self
                .bytes
                .get(item.payload.clone())
                .and_then(|p| serde_json::from_slice::<serde_json::Value>(p).ok());
            if let Some(serde_json::Value::Array(items)) =
                payload.and_then(|mut p| p.get_mut("items").map(serde_json::Value::take))
            {
                spans.extend(items);
            }
        }
        spans
    }

    /// Returns the JSON bytes of the envelope header line.
    ///
    /// # Examples
    ///
    /// ```
    /// let envelope = tracing_sentry::export::EnvelopeBytes::from_bytes(
    ///     b"{\"sent_at\":\"2026-01-01T00:00:00.000000Z\"}\n{\"type\":\"transaction\"}\n{}\n",
    /// )?;
    /// assert_eq!(envelope.header_bytes(), br#"{"sent_at":"2026-01-01T00:00:00.000000Z"}"#);
    /// # Ok::<(), tracing_sentry::export::ParseEnvelopeError>(())
    /// ```
    pub fn header_bytes(&self) -> &[u8] {
        self.bytes.get(self.header.clone()).unwrap_or_default()
    }

    /// Returns the items in order, each as its type (`"transaction"`, `"span"`, `"event"`,
    /// ...) and its payload bytes (JSON for every item type this crate writes).
    ///
    /// # Examples
    ///
    /// ```
    /// let envelope = tracing_sentry::export::EnvelopeBytes::from_bytes(
    ///     b"{}\n{\"type\":\"transaction\"}\n{\"transaction\":\"checkout\"}\n",
    /// )?;
    /// let (item_type, payload) = envelope.items().next().unwrap();
    /// assert_eq!(item_type, "transaction");
    /// assert_eq!(payload, br#"{"transaction":"checkout"}"#);
    /// # Ok::<(), tracing_sentry::export::ParseEnvelopeError>(())
    /// ```
    pub fn items(&self) -> impl Iterator<Item = (&str, &[u8])> + '_ {
        self.items.iter().map(|item| {
            let payload = self.bytes.get(item.payload.clone()).unwrap_or_default();
            (item.ty.as_ref(), payload)
        })
    }

    /// Returns the types of the items in order (`"transaction"`, `"event"`, ...).
    ///
    /// # Examples
    ///
    /// ```
    /// let envelope = tracing_sentry::export::EnvelopeBytes::from_bytes(
    ///     b"{}\n{\"type\":\"transaction\"}\n{}\n",
    /// )?;
    /// assert_eq!(envelope.item_types().collect::<Vec<_>>(), ["transaction"]);
    /// # Ok::<(), tracing_sentry::export::ParseEnvelopeError>(())
    /// ```
    pub fn item_types(&self) -> impl Iterator<Item = &str> + '_ {
        self.items.iter().map(|item| item.ty.as_ref())
    }
}

impl fmt::Debug for EnvelopeBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvelopeBytes")
            .field("event_id", &self.event_id)
            .field("len", &self.bytes.len())
            .field(
                "items",
                &self.items.iter().map(|i| &i.ty).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// The `trace` entries of an envelope header, in wire order (`serde_json::Map` sorts keys, and
/// a DSC keeps its order).
struct HeaderTrace(Vec<(String, serde_json::Value)>);

/// The entries of a JSON object in wire order; anything else reads as no entries.
struct OrderedEntries(Vec<(String, serde_json::Value)>);

impl<'de> serde::Deserialize<'de> for HeaderTrace {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = HeaderTrace;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an envelope header object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<HeaderTrace, A::Error> {
                let mut trace = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    if key == "trace" {
                        trace = map.next_value::<OrderedEntries>()?.0;
                    } else {
                        map.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
                Ok(HeaderTrace(trace))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

impl<'de> serde::Deserialize<'de> for OrderedEntries {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = OrderedEntries;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<OrderedEntries, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<String, serde_json::Value>()? {
                    entries.push(entry);
                }
                Ok(OrderedEntries(entries))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<OrderedEntries, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(OrderedEntries(Vec::new()))
            }
            fn visit_bool<E>(self, _: bool) -> Result<OrderedEntries, E> {
                Ok(OrderedEntries(Vec::new()))
            }
            fn visit_i64<E>(self, _: i64) -> Result<OrderedEntries, E> {
                Ok(OrderedEntries(Vec::new()))
            }
            fn visit_u64<E>(self, _: u64) -> Result<OrderedEntries, E> {
                Ok(OrderedEntries(Vec::new()))
            }
            fn visit_f64<E>(self, _: f64) -> Result<OrderedEntries, E> {
                Ok(OrderedEntries(Vec::new()))
            }
            fn visit_str<E>(self, _: &str) -> Result<OrderedEntries, E> {
                Ok(OrderedEntries(Vec::new()))
            }
            fn visit_unit<E>(self) -> Result<OrderedEntries, E> {
                Ok(OrderedEntries(Vec::new()))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// Writes the header line and its `\n`; returns the header's range (without the `\n`).
/// `fixed` is what [`push_fixed_header`] wrote.
fn push_header(
    bytes: &mut Vec<u8>,
    event_id: Option<&[u8; 32]>,
    fixed: &[u8],
    sent_at: SystemTime,
    dsc: Option<(&DynamicSamplingContext, &mut SteadyEntries)>,
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
    if let Some((dsc, steady)) = dsc {
        push_trace_header(bytes, dsc, steady);
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
fn new_event_id() -> [u8; 32] {
    let mut bytes = TraceId::random().to_bytes();
    if let Some(b) = bytes.get_mut(6) {
        *b = (*b & 0x0f) | 0x40;
    }
    if let Some(b) = bytes.get_mut(8) {
        *b = (*b & 0x3f) | 0x80;
    }
    TraceId::from_bytes(bytes).to_hex()
}

fn find_newline(bytes: &[u8], from: usize) -> Option<usize> {
    bytes
        .get(from..)?
        .iter()
        .position(|&b| b == b'\n')
        .map(|i| i + from)
}

// === impl ParseEnvelopeError ===

impl ParseEnvelopeError {
    /// Returns what was wrong.
    ///
    /// # Examples
    ///
    /// ```
    /// use tracing_sentry::export::{EnvelopeBytes, EnvelopeErrorKind};
    ///
    /// let err = EnvelopeBytes::from_bytes(b"{}\n{\"length\":2}\n{}\n").unwrap_err();
    /// assert_eq!(err.kind(), EnvelopeErrorKind::InvalidItemHeader);
    /// ```
    pub fn kind(&self) -> EnvelopeErrorKind {
        self.kind
    }

    /// Returns the byte offset where the problem was found.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = tracing_sentry::export::EnvelopeBytes::from_bytes(b"{}\nnope\n").unwrap_err();
    /// assert_eq!(err.offset(), 3);
    /// ```
    pub fn offset(&self) -> usize {
        self.offset
    }
}

impl fmt::Display for ParseEnvelopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            EnvelopeErrorKind::InvalidHeader => "expected a JSON object as the envelope header",
            EnvelopeErrorKind::InvalidItemHeader => {
                "expected a JSON object with a string `type` as item header"
            }
            EnvelopeErrorKind::Truncated => "item length runs past the end of the envelope",
            EnvelopeErrorKind::MissingNewline => "expected a newline after the item payload",
        };
        write!(f, "invalid envelope at byte {}: {what}", self.offset)
    }
}

impl fmt::Debug for ParseEnvelopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParseEnvelopeError")
            .field("kind", &self.kind)
            .field("offset", &self.offset)
            .finish()
    }
}

impl std::error::Error for ParseEnvelopeError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::record::FieldValue;
    use crate::export::test_support::*;
    use serde_json::Value;
    use std::sync::Arc;
    use std::time::Duration;

    const DSN: &str = "https://49d0f7386ad645858ae85020e393bef3@o1.ingest.sentry.io/42";

    fn meta() -> EventMeta {
        EventMeta {
            release: Some("myapp@1.0.0".to_owned()),
            environment: "production".to_owned(),
            server_name: Some("web-1".to_owned()),
            ..EventMeta::default()
        }
    }

    fn build(record: &TransactionRecord) -> EnvelopeBytes {
        let envelope = EnvelopeBytes::from_transaction(
            record,
            &meta(),
            Some(DSN),
            at_micros(1_000),
            &mut Scratch::default(),
            None,
        )
        .unwrap();
        assert_sentry_types_reads(&envelope, record);
        envelope
    }

    fn lines(envelope: &EnvelopeBytes) -> Vec<&[u8]> {
        let bytes = envelope.as_bytes();
        assert_eq!(bytes.last(), Some(&b'\n'), "ends with a newline");
        bytes[..bytes.len() - 1].split(|&b| b == b'\n').collect()
    }

    fn find_span<'a>(tx: &'a Value, id: &str) -> &'a Value {
        tx["spans"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["span_id"] == id)
            .unwrap_or_else(|| panic!("no span {id} in {tx}"))
    }

    fn keys(value: &Value) -> Vec<&str> {
        let mut keys: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        keys
    }

    #[test]
    fn envelope_header_holds_event_id_sent_at_dsn_sdk_and_string_dsc() {
        let record = sample_record();
        let envelope = build(&record);
        let lines = lines(&envelope);
        assert_eq!(lines.len(), 3, "header, item header, payload");

        let header: Value = serde_json::from_slice(lines[0]).unwrap();
        assert_eq!(header, envelope.header());
        assert_eq!(
            keys(&header),
            ["dsn", "event_id", "sdk", "sent_at", "trace"]
        );
        let event_id = header["event_id"].as_str().unwrap();
        assert_eq!(event_id.len(), 32);
        assert!(event_id
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_eq!(Some(event_id), envelope.event_id());
        assert_eq!(header["sent_at"], "2026-11-24T14:32:22.001000Z");
        assert_eq!(header["dsn"], DSN);
        assert_eq!(header["sdk"]["name"], "sentry.rust.tracing-sentry");
        assert_eq!(header["sdk"]["version"], env!("CARGO_PKG_VERSION"));

        let trace = header["trace"].as_object().unwrap();
        assert_eq!(trace.len(), record.dsc.len());
        for (key, value) in record.dsc.iter() {
            assert_eq!(
                trace[key],
                Value::String(value.to_owned()),
                "DSC {key} is a string"
            );
        }
        assert_eq!(envelope.trace(), *record.dsc);
    }

    /// The `trace` object of `envelope`'s header, entries in wire order, parsed by serde.
    fn wire_trace(envelope: &EnvelopeBytes) -> Vec<(String, String)> {
        envelope
            .trace()
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    #[test]
    fn one_scratch_writes_each_envelopes_own_dsc() {
        // One sender's scratch across envelopes whose steady members (public_key, release,
        // environment, org_id) stay, change, need escaping, disappear and come back: each
        // header holds exactly its own DSC, in order.
        let dscs = [
            [
                ("trace_id", "771a43a4192642f0b136d5159a501700"),
                ("public_key", "49d0f7386ad645858ae85020e393bef3"),
                ("release", "app@1.0"),
                ("environment", "prod"),
                ("org_id", "42"),
                ("sample_rate", "1"),
            ],
            [
                ("trace_id", "0af7651916cd43dd8448eb211c80319c"),
                ("public_key", "49d0f7386ad645858ae85020e393bef3"),
                ("release", "app@1.0"),
                ("environment", "prod"),
                ("org_id", "42"),
                ("sample_rate", "0.5"),
            ],
            [
                ("trace_id", "0af7651916cd43dd8448eb211c80319c"),
                ("public_key", "other"),
                ("release", "say \"hi\"\\\n"),
                ("environment", "stag\u{1}ing"),
                ("transaction", "GET \"/\""),
                ("third-party\"key", "v\u{7f}"),
            ],
            [
                ("environment", "prod"),
                ("release", "app@1.0"),
                ("org_id", "42"),
                ("sampled", "true"),
                ("sample_rand", "0.123456"),
                ("public_key", "49d0f7386ad645858ae85020e393bef3"),
            ],
        ];
        let mut scratch = Scratch::default();
        let mut record = sample_record();
        for entries in dscs.iter().chain(dscs.iter()) {
            let mut dsc = DynamicSamplingContext::new();
            for (key, value) in entries {
                dsc.set(key, *value);
            }
            record.dsc = Arc::new(dsc);
            let envelope = EnvelopeBytes::from_transaction(
                &record,
                &meta(),
                Some(DSN),
                at_micros(1_000),
                &mut scratch,
                None,
            )
            .unwrap();
            let expected: Vec<(String, String)> = entries
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            assert_eq!(wire_trace(&envelope), expected);
            scratch.recycle(envelope);
        }
    }

    #[test]
    fn a_recycled_buffer_holds_only_the_new_envelope() {
        let mut scratch = Scratch::default();
        let record = sample_record();
        let build = |scratch: &mut Scratch| {
            EnvelopeBytes::from_transaction(
                &record,
                &meta(),
                Some(DSN),
                at_micros(1_000),
                scratch,
                None,
            )
            .unwrap()
        };
        let first = build(&mut scratch);
        let fresh = build(&mut Scratch::default());
        scratch.recycle(first.clone());
        let second = build(&mut scratch);
        assert_eq!(second.as_bytes().len(), fresh.as_bytes().len());
        assert_eq!(second.trace(), first.trace());
        assert_eq!(
            second.transaction(),
            first.transaction().map(|mut tx| {
                tx["event_id"] = second.event_id().unwrap().into();
                tx
            })
        );
        assert_eq!(
            EnvelopeBytes::from_bytes(second.as_bytes()).unwrap(),
            second,
            "parsing the bytes gives the same envelope (event id and items)"
        );
    }

    #[test]
    fn item_header_announces_the_payload_length() {
        let envelope = build(&sample_record());
        let lines = lines(&envelope);
        let item: Value = serde_json::from_slice(lines[1]).unwrap();
        assert_eq!(
            item,
            serde_json::json!({
                "type": "transaction",
                "length": lines[2].len(),
                "content_type": "application/json",
            })
        );
        assert_eq!(envelope.item_types().collect::<Vec<_>>(), ["transaction"]);
    }

    #[test]
    fn payload_has_the_transaction_fields() {
        let record = sample_record();
        let envelope = build(&record);
        let tx = envelope.transaction().unwrap();
        assert_eq!(
            keys(&tx),
            [
                "contexts",
                "environment",
                "event_id",
                "platform",
                "release",
                "sdk",
                "server_name",
                "spans",
                "start_timestamp",
                "timestamp",
                "transaction",
                "transaction_info",
                "type",
            ]
        );
        assert_eq!(tx["type"], "transaction");
        assert_eq!(tx["event_id"], envelope.header()["event_id"]);
        assert_eq!(tx["transaction"], "GET /users/:id");
        assert_eq!(tx["transaction_info"]["source"], "route");
        assert_eq!(tx["platform"], "native");
        assert_eq!(tx["sdk"]["name"], "sentry.rust.tracing-sentry");
        assert_eq!(tx["release"], "myapp@1.0.0");
        assert_eq!(tx["environment"], "production");
        assert_eq!(tx["server_name"], "web-1");
        assert_eq!(tx["start_timestamp"], "2026-11-24T14:32:22.000000Z");
        assert_eq!(tx["timestamp"], "2026-11-24T14:32:22.000500Z");
    }

    #[test]
    fn root_span_becomes_the_trace_context() {
        let envelope = build(&sample_record());
        let tx = envelope.transaction().unwrap();
        assert_eq!(
            tx["contexts"]["trace"],
            serde_json::json!({
                "type": "trace",
                "trace_id": TRACE_ID,
                "span_id": ROOT,
                "parent_span_id": REMOTE_PARENT,
                "op": "http.server",
                "description": "GET /users/:id",
                "status": "ok",
                "origin": "auto.tracing",
                "data": {"thread.name": "main", "http.response.status_code": 200},
            })
        );
    }

    #[test]
    fn descendants_become_flat_spans_pointing_at_their_parents() {
        let envelope = build(&sample_record());
        let tx = envelope.transaction().unwrap();
        assert_eq!(tx["spans"].as_array().unwrap().len(), 2);

        let child = find_span(&tx, CHILD);
        assert_eq!(child["trace_id"], TRACE_ID);
        assert_eq!(
            child["parent_span_id"], ROOT,
            "the root's children point to the root"
        );
        assert_eq!(child["op"], "db.query");
        assert_eq!(
            child["description"],
            "SELECT * FROM \"users\" WHERE id = $1\n"
        );
        assert_eq!(child["status"], "not_found");
        assert_eq!(child["origin"], "auto.tracing");
        assert_eq!(child["start_timestamp"], "2026-11-24T14:32:22.000100Z");
        assert_eq!(child["timestamp"], "2026-11-24T14:32:22.000300Z");
        assert_eq!(
            child["data"],
            serde_json::json!({
                "db.system": "postgresql", "cached": false, "ratio": 0.25,
                "nan": "NaN", "inf": "Infinity", "rows": 7,
            }),
            "typed values; the last of a repeated key wins"
        );
        assert_eq!(
            child["links"],
            serde_json::json!([
                {"trace_id": "0123456789abcdef0123456789abcdef", "span_id": "0123456789abcdef", "sampled": true},
                {"trace_id": "fedcba9876543210fedcba9876543210", "span_id": "fedcba9876543210"},
            ])
        );

        let grandchild = find_span(&tx, GRANDCHILD);
        assert_eq!(grandchild["parent_span_id"], CHILD);
        assert_eq!(grandchild["start_timestamp"], grandchild["timestamp"]);
        for absent in ["description", "status", "data", "links"] {
            assert!(
                grandchild.get(absent).is_none(),
                "{absent} is omitted when empty"
            );
        }
    }

    /// Without hooks the writer scrubs as it writes; what it sends is what scrubbing the
    /// record first and writing it unchanged sends, cut data and `_meta` included.
    #[test]
    fn scrubbing_while_writing_sends_what_scrubbing_first_sends() {
        use crate::export::policy::privacy::Privacy;
        use crate::export::wire::key_facts::KeyFacts;
        use crate::export::wire::key_facts::FILTERED;
        use crate::stats::StatsInner;

        let mut record = sample_record();
        record.root.metadata = Some(&METADATA);
        let big = FieldValue::Str("x".repeat(3000));
        record.root.data = vec![
            ("user.id".into(), FieldValue::U64(7)),
            ("db.password".into(), FieldValue::Str("hunter2".into())),
            ("user.id".into(), FieldValue::U64(8)),
            ("code.line.number".into(), FieldValue::U64(1)),
            ("a".into(), big.clone()),
            ("Api_Key".into(), FieldValue::Str("k".into())),
            ("b".into(), big.clone()),
            ("c".into(), big),
        ];
        record.spans[0]
            .data
            .push(("http.query".into(), FieldValue::Str("q=1".into())));
        record.spans[0]
            .data
            .push(("db.password".into(), FieldValue::I64(1)));
        record.spans[0]
            .data
            .push(("db.password".into(), FieldValue::I64(2)));
        for privacy in [
            Privacy::default(),
            Privacy {
                send_default_pii: true,
                ..Privacy::default()
            },
        ] {
            let payload = |record: &TransactionRecord, scrub| {
                let envelope = EnvelopeBytes::from_transaction(
                    record,
                    &meta(),
                    None,
                    at_micros(1),
                    &mut Scratch::default(),
                    scrub,
                )
                .unwrap();
                let mut tx = envelope.transaction().unwrap();
                tx["event_id"] = Value::Null; // random per envelope
                tx
            };
            let mut scrubbed = record.clone();
            let (stats, mut keys) = (StatsInner::default(), KeyFacts::default());
            assert!(privacy.process_span(&mut scrubbed.root, &stats, &mut keys));
            for span in &mut scrubbed.spans {
                assert!(privacy.process_span(span, &stats, &mut keys));
            }
            let written = payload(&record, privacy.scrubs_when_written());
            assert_eq!(written, payload(&scrubbed, None));

            let data = &written["contexts"]["trace"]["data"];
            assert_eq!(data["db.password"], FILTERED);
            assert_eq!(data["Api_Key"], FILTERED);
            assert_eq!(
                data["code.line.number"], 1,
                "a field overrides the callsite's"
            );
            assert_eq!(data["user.id"].is_null(), !privacy.send_default_pii);
            assert!(written["_meta"]["contexts"]["trace"]["data"][""]["len"].is_u64());
            let child = &written["spans"][0]["data"];
            assert_eq!(child["db.password"], FILTERED);
            assert_eq!(child["http.query"].is_null(), !privacy.send_default_pii);
        }
    }

    #[test]
    fn callsite_json_from_the_cache_is_what_a_fresh_sender_writes() {
        let mut record = sample_record();
        record.root.op = "".into();
        record.root.metadata = Some(&METADATA);
        record.spans[0].metadata = Some(&METADATA);
        record.spans[0].description = None;
        record.spans[1].metadata = Some(&METADATA);
        let payload = |scratch: &mut Scratch| {
            let envelope = EnvelopeBytes::from_transaction(
                &record,
                &meta(),
                None,
                at_micros(1),
                scratch,
                None,
            )
            .unwrap();
            let mut tx = envelope.transaction().unwrap();
            tx["event_id"] = Value::Null; // random per envelope
            tx
        };
        let mut warm = Scratch::default();
        let first = payload(&mut warm);
        let again = payload(&mut warm);
        assert_eq!(first, again, "a cache hit writes the same JSON");
        assert_eq!(first, payload(&mut Scratch::default()));
        let child = &first["spans"][0];
        assert_eq!(child["description"], METADATA.name(), "the callsite's name");
        assert_eq!(child["data"]["code.line.number"], METADATA.line().unwrap());
    }

    #[test]
    fn spans_without_op_get_target_and_name_and_every_span_gets_code_data() {
        let mut record = sample_record();
        record.root.op = "".into();
        record.root.metadata = Some(&METADATA);
        record.spans[0].op = "".into();
        record.spans[1].metadata = Some(&METADATA);
        record.spans[1]
            .data
            .push(("code.line.number".into(), FieldValue::U64(7)));
        let envelope = build(&record);
        let tx = envelope.transaction().unwrap();

        let trace = &tx["contexts"]["trace"];
        assert_eq!(trace["op"], "my_app::http::handle_request", "default op");
        assert_eq!(trace["data"]["thread.name"], "main", "fields first");
        assert_eq!(
            trace["data"]["code.module.name"],
            "tracing_sentry::export::test_support"
        );
        assert_eq!(trace["data"]["code.file.path"], METADATA.file().unwrap());
        assert_eq!(trace["data"]["code.line.number"], METADATA.line().unwrap());

        let grandchild = find_span(&tx, GRANDCHILD);
        assert!(
            grandchild.get("op").is_none(),
            "no op and no callsite: omitted"
        );
        let child = find_span(&tx, CHILD);
        assert_eq!(child["op"], "db.query", "an explicit op wins");
        assert_eq!(
            child["data"]["code.line.number"], 7,
            "a field wins over code data"
        );
        assert_eq!(child["data"]["code.file.path"], METADATA.file().unwrap());
    }

    #[test]
    fn dropped_spans_are_announced_in_meta() {
        let mut record = sample_record();
        let tx = build(&record).transaction().unwrap();
        assert!(tx.get("_meta").is_none(), "nothing dropped, no _meta");
        record.dropped_spans = 998;
        let tx = build(&record).transaction().unwrap();
        assert_eq!(
            tx["_meta"],
            serde_json::json!({"spans": {"": {"len": 1000}}})
        );
    }

    #[test]
    fn data_over_the_span_budget_is_cut_and_the_cut_is_recorded_in_meta() {
        use crate::export::record::FieldValue;
        use crate::export::wire::limits::MAX_SPAN_BYTES;
        use std::borrow::Cow;

        let mut record = sample_record();
        let field = |i: usize| {
            (
                Cow::Owned(format!("field.{i:03}")),
                FieldValue::Str("v".repeat(200)),
            )
        };
        // The root: 100 fields of about 215 bytes, far over 8 KiB.
        record.root.data = (0..100).map(field).collect();
        // The first child: just under the budget, untouched.
        record.spans[0].data = (0..20).map(field).collect();
        // The second child: over it.
        record.spans[1].data = (0..60).map(field).collect();
        record.dropped_spans = 3;
        let tx = build(&record).transaction().unwrap();

        let trace = &tx["contexts"]["trace"];
        assert_eq!(
            trace["description"], "GET /users/:id",
            "the description survives"
        );
        let trace_len = serde_json::to_vec(trace).unwrap().len();
        assert!(
            trace_len <= MAX_SPAN_BYTES,
            "trace context is {trace_len} bytes"
        );
        let kept = trace["data"].as_object().unwrap();
        assert!(kept.len() > 10 && kept.len() < 100, "kept {}", kept.len());
        assert!(kept.contains_key("field.000"), "entries are kept in order");
        assert!(!kept.contains_key("field.099"));

        assert_eq!(
            tx["_meta"]["contexts"]["trace"]["data"][""],
            serde_json::json!({"rem": [["!limit", "x"]], "len": 100})
        );
        assert_eq!(
            tx["_meta"]["spans"][""]["len"], 5,
            "dropped spans still counted"
        );
        // Spans are written in record order, so `_meta.spans` indexes match.
        let spans = tx["spans"].as_array().unwrap();
        assert_eq!(
            spans[0]["data"].as_object().unwrap().len(),
            20,
            "under the budget"
        );
        assert!(tx["_meta"]["spans"].get("0").is_none(), "nothing cut there");
        let cut = spans[1]["data"].as_object().unwrap().len();
        assert!(cut < 60, "kept {cut}");
        assert_eq!(tx["_meta"]["spans"]["1"]["data"][""]["len"], 60);
    }

    #[test]
    fn head_transaction_has_no_parent_and_no_dsc_means_no_trace_header() {
        let mut record = sample_record();
        record.root.parent_span_id = None;
        record.dsc = Arc::new(DynamicSamplingContext::new());
        let envelope = EnvelopeBytes::from_transaction(
            &record,
            &EventMeta::default(),
            None,
            SystemTime::now(),
            &mut Scratch::default(),
            None,
        )
        .unwrap();
        assert_sentry_types_reads(&envelope, &record);
        let header = envelope.header();
        assert_eq!(keys(&header), ["event_id", "sdk", "sent_at"]);
        assert!(envelope.trace().is_empty());
        let tx = envelope.transaction().unwrap();
        assert!(tx["contexts"]["trace"].get("parent_span_id").is_none());
        assert!(tx.get("release").is_none());
        assert!(tx.get("server_name").is_none());
    }

    #[test]
    fn a_span_that_ends_before_it_starts_is_written_with_end_equal_to_start() {
        let mut record = sample_record();
        record.root.end = at_micros(0) - Duration::from_secs(1);
        record.spans[0].end = at_micros(0);
        let envelope = build(&record);
        let tx = envelope.transaction().unwrap();
        assert_eq!(tx["timestamp"], tx["start_timestamp"]);
        let grandchild = find_span(&tx, GRANDCHILD);
        assert_eq!(grandchild["timestamp"], grandchild["start_timestamp"]);
    }

    #[test]
    fn a_client_report_item_is_appended_after_the_transaction() {
        let mut envelope = build(&sample_record());
        let payload = br#"{"timestamp":"2026-11-24T14:32:22.000001Z","discarded_events":[]}"#;
        envelope.push_item("client_report", payload);
        assert_eq!(
            envelope.item_types().collect::<Vec<_>>(),
            ["transaction", "client_report"]
        );
        assert_eq!(envelope.item_len("client_report"), Some(payload.len()));
        let reread = EnvelopeBytes::from_bytes(envelope.as_bytes()).unwrap();
        assert_eq!(
            reread, envelope,
            "item offsets and lengths agree with the bytes"
        );
        assert!(reread.transaction().is_some());
        assert_eq!(envelope.header()["sent_at"], "2026-11-24T14:32:22.001000Z");
    }

    #[test]
    fn an_envelope_without_event_has_sent_at_and_no_event_id() {
        let mut envelope = EnvelopeBytes::without_event(Some(DSN), at_micros(1));
        envelope.push_item("client_report", b"{}");
        let header = envelope.header();
        assert_eq!(keys(&header), ["dsn", "sdk", "sent_at"]);
        assert_eq!(header["sent_at"], "2026-11-24T14:32:22.000001Z");
        assert_eq!(envelope.event_id(), None);
        assert_eq!(
            EnvelopeBytes::from_bytes(envelope.as_bytes()).unwrap(),
            envelope
        );
    }

    #[test]
    fn event_ids_are_random_uuid_v4() {
        let a = String::from_utf8(new_event_id().to_vec()).unwrap();
        let b = String::from_utf8(new_event_id().to_vec()).unwrap();
        assert_ne!(a, b);
        for id in [a, b] {
            assert_eq!(id.len(), 32);
            assert_eq!(&id[12..13], "4", "version nibble of {id}");
            assert!(
                matches!(&id[16..17], "8" | "9" | "a" | "b"),
                "variant of {id}"
            );
        }
    }

    #[test]
    fn payload_over_one_mib_is_refused_and_under_is_kept() {
        let mut record = sample_record();
        let overhead = {
            let mut buf = Vec::new();
            write_transaction(
                &mut buf,
                &record,
                &new_event_id(),
                &meta(),
                &mut SpanCaches::default(),
                None,
            );
            buf.len()
        };
        // One byte under, exactly at, and one byte over the limit (the description grows the
        // payload byte for byte: plain ASCII needs no escaping).
        let base = record.spans[0].description.take();
        assert!(base.is_none());
        let filler = MAX_ITEM_BYTES - overhead - r#","description":"""#.len();
        for (extra, fits) in [(filler - 1, true), (filler, true), (filler + 1, false)] {
            record.spans[0].description = Some("x".repeat(extra));
            let result = EnvelopeBytes::from_transaction(
                &record,
                &meta(),
                None,
                SystemTime::now(),
                &mut Scratch::default(),
                None,
            );
            match result {
                Ok(envelope) => {
                    assert!(fits, "{extra} extra bytes should not fit");
                    assert_sentry_types_reads(&envelope, &record);
                }
                Err(TooLarge { payload_len }) => {
                    assert!(!fits, "{extra} extra bytes should fit");
                    assert_eq!(payload_len, MAX_ITEM_BYTES + 1);
                }
            }
        }
    }

    #[test]
    fn from_bytes_reads_items_with_and_without_length() {
        let bytes = b"{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\"}\n\
            {\"type\":\"attachment\",\"length\":3}\na\nb\n\
            {\"type\":\"transaction\"}\n{\"transaction\":\"t\"}\n";
        let envelope = EnvelopeBytes::from_bytes(bytes).unwrap();
        assert_eq!(
            envelope.item_types().collect::<Vec<_>>(),
            ["attachment", "transaction"]
        );
        assert_eq!(envelope.transaction().unwrap()["transaction"], "t");
        // The last payload needs no trailing newline.
        let envelope =
            EnvelopeBytes::from_bytes(b"{}\n{\"type\":\"transaction\",\"length\":2}\n{}").unwrap();
        assert_eq!(envelope.transaction(), Some(serde_json::json!({})));
        // Non-string DSC values are returned as their JSON text.
        let envelope =
            EnvelopeBytes::from_bytes(br#"{"trace":{"sample_rate":1.0,"sampled":true,"x":null}}"#)
                .unwrap();
        assert_eq!(envelope.trace().get("sample_rate"), Some("1.0"));
        assert_eq!(envelope.trace().get("sampled"), Some("true"));
        assert_eq!(envelope.trace().get("x"), None);
        // Wire order is kept; a `trace` that is not an object reads as empty.
        let envelope =
            EnvelopeBytes::from_bytes(br#"{"trace":{"z":"1","a":"2"},"x":[1,{"y":2}]}"#).unwrap();
        assert_eq!(
            envelope.trace().iter().collect::<Vec<_>>(),
            [("z", "1"), ("a", "2")]
        );
        for header in [
            &br#"{"trace":[1,2]}"#[..],
            br#"{"trace":"x"}"#,
            br#"{"trace":null}"#,
        ] {
            assert!(EnvelopeBytes::from_bytes(header)
                .unwrap()
                .trace()
                .is_empty());
        }
    }

    #[test]
    fn header_fields_are_added_to_an_envelope_written_elsewhere() {
        let dsc = DynamicSamplingContext::new()
            .with("trace_id", "771a43a4192642f0b136d5159a501700")
            .with("replay_id", "a \"quoted\" value");
        let written = b"{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\"}\n{\"type\":\"event\",\"length\":2}\n{}\n";
        let envelope = EnvelopeBytes::with_header_fields(
            written,
            Some(&dsc),
            SystemTime::UNIX_EPOCH,
            Vec::new(),
        )
        .unwrap();
        let header = envelope.header();
        assert_eq!(header["event_id"], "9ec79c33ec9942ab8353589fcb2e04dc");
        assert_eq!(header["sent_at"], "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            header["trace"]["trace_id"],
            "771a43a4192642f0b136d5159a501700"
        );
        assert_eq!(header["trace"]["replay_id"], "a \"quoted\" value");
        assert_eq!(envelope.item_types().collect::<Vec<_>>(), ["event"]);

        // An empty header, and one that has both already: nothing doubled.
        let bare =
            EnvelopeBytes::with_header_fields(b"{}\n", None, SystemTime::UNIX_EPOCH, Vec::new())
                .unwrap();
        assert_eq!(bare.header().as_object().unwrap().len(), 1);
        let full = br#"{"sent_at":"2020-01-01T00:00:00Z","trace":{"trace_id":"x"}}"#;
        let kept =
            EnvelopeBytes::with_header_fields(full, Some(&dsc), SystemTime::UNIX_EPOCH, Vec::new())
                .unwrap();
        assert_eq!(kept.as_bytes(), full);
        assert!(EnvelopeBytes::with_header_fields(
            b"[1]\n",
            None,
            SystemTime::UNIX_EPOCH,
            Vec::new()
        )
        .is_err());
        assert!(
            EnvelopeBytes::with_header_fields(b"", None, SystemTime::UNIX_EPOCH, Vec::new())
                .is_err()
        );
    }

    #[test]
    fn from_bytes_rejects_malformed_envelopes() {
        #[rustfmt::skip]
        let table: &[(&[u8], EnvelopeErrorKind, &str)] = &[
            (b"", EnvelopeErrorKind::InvalidHeader, "empty"),
            (b"\n", EnvelopeErrorKind::InvalidHeader, "empty header line"),
            (b"[]\n", EnvelopeErrorKind::InvalidHeader, "header not an object"),
            (b"{\n", EnvelopeErrorKind::InvalidHeader, "header not JSON"),
            (b"{}\n[]\n", EnvelopeErrorKind::InvalidItemHeader, "item header not an object"),
            (b"{}\n{\"length\":0}\n\n", EnvelopeErrorKind::InvalidItemHeader, "no type"),
            (b"{}\n{\"type\":1}\n{}\n", EnvelopeErrorKind::InvalidItemHeader, "non-string type"),
            (b"{}\n{\"type\":\"event\",\"length\":5}\n{}\n", EnvelopeErrorKind::Truncated, "length past the end"),
            (b"{}\n{\"type\":\"event\",\"length\":-1}\n{}\n", EnvelopeErrorKind::Truncated, "negative length"),
            (b"{}\n{\"type\":\"event\",\"length\":1}\n{}\n", EnvelopeErrorKind::MissingNewline, "short length"),
        ];
        for &(input, kind, why) in table {
            let err = EnvelopeBytes::from_bytes(input).unwrap_err();
            assert_eq!(err.kind(), kind, "{why}");
            assert!(!err.to_string().is_empty());
        }
    }

    proptest::proptest! {
        #[test]
        fn from_bytes_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256)) {
            if let Ok(envelope) = EnvelopeBytes::from_bytes(&bytes) {
                let _ = (envelope.header(), envelope.trace(), envelope.transaction());
            }
        }
    }
}
