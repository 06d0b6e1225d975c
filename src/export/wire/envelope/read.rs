//! Reading envelopes: parsing the framing back into items, and the accessors over the
//! bytes (header, items, the DSC; the `serde_json` views with feature `test-util`).

use std::fmt;

use crate::propagation::DynamicSamplingContext;

use super::{EnvelopeBytes, EventId, Item, Items};

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
    pub(super) kind: EnvelopeErrorKind,
    pub(super) offset: usize,
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

impl EnvelopeBytes {
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

    /// Returns the logs of every `log` item (the container's `items`), in order (feature
    /// `test-util`).
    ///
    /// # Examples
    ///
    /// ```
    /// let envelope = tracing_sentry::export::EnvelopeBytes::from_bytes(
    ///     b"{}\n{\"type\":\"log\",\"item_count\":1}\n{\"items\":[{\"body\":\"hello\"}]}\n",
    /// )?;
    /// assert_eq!(envelope.logs()[0]["body"], "hello");
    /// # Ok::<(), tracing_sentry::export::ParseEnvelopeError>(())
    /// ```
    #[cfg(any(test, feature = "test-util"))]
    #[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
    pub fn logs(&self) -> Vec<serde_json::Value> {
        self.container_items("log")
    }

    /// Returns the metrics of every `trace_metric` item (the container's `items`), in order
    /// (feature `test-util`).
    ///
    /// # Examples
    ///
    /// ```
    /// let envelope = tracing_sentry::export::EnvelopeBytes::from_bytes(
    ///     b"{}\n{\"type\":\"trace_metric\",\"item_count\":1}\n{\"items\":[{\"name\":\"jobs\"}]}\n",
    /// )?;
    /// assert_eq!(envelope.metrics()[0]["name"], "jobs");
    /// # Ok::<(), tracing_sentry::export::ParseEnvelopeError>(())
    /// ```
    #[cfg(any(test, feature = "test-util"))]
    #[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
    pub fn metrics(&self) -> Vec<serde_json::Value> {
        self.container_items("trace_metric")
    }

    /// The `items` of every item of type `ty` whose payload is an item container.
    #[cfg(any(test, feature = "test-util"))]
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

pub(super) fn find_newline(bytes: &[u8], from: usize) -> Option<usize> {
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
