//! [`FieldValue`]: a span field's typed value, shared by sampling (what a
//! [`traces_sampler`](crate::SentryLayerBuilder::traces_sampler) sees), recording and export.
//!
//! It lives here, below both, so that sampling does not depend on export.

/// A typed value of a span field, as it is sent in span `data` and shown to a
/// [`traces_sampler`](crate::SentryLayerBuilder::traces_sampler).
///
/// # Examples
///
/// ```
/// use tracing_sentry::FieldValue;
///
/// let v = FieldValue::Str("gold".to_owned());
/// assert_eq!(v.as_str(), Some("gold"));
/// assert_eq!(FieldValue::I64(-3).as_i64(), Some(-3));
/// assert_eq!(FieldValue::U64(3).as_i64(), Some(3));
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum FieldValue {
    /// A boolean.
    Bool(bool),
    /// A signed integer.
    I64(i64),
    /// An unsigned integer.
    U64(u64),
    /// A float.
    F64(f64),
    /// A string, or a value recorded with `Debug` or `Display`.
    Str(String),
}

impl FieldValue {
    /// Returns the string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Returns the value as an `i64`, if it is an integer that fits.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Self::I64(v) => Some(v),
            Self::U64(v) => i64::try_from(v).ok(),
            _ => None,
        }
    }

    /// Returns the value as an `f64`, if it is a number.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Self::F64(v) => Some(v),
            Self::I64(v) => Some(v as f64),
            Self::U64(v) => Some(v as f64),
            _ => None,
        }
    }

    /// Returns the boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Self::Bool(v) => Some(v),
            _ => None,
        }
    }
}

/// The most bytes of a string field that are kept (8 KiB); longer values are cut at a character
/// boundary.
pub(crate) const MAX_FIELD_BYTES: usize = 8 * 1024;

/// `s` cut to at most `max` bytes, at a character boundary.
pub(crate) fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default()
}

/// Implements `tracing`'s `Visit` for a type with a `push(&mut self, &Field, FieldValue)`
/// method: every value typed as a [`FieldValue`], strings and `Debug` values cut to
/// [`MAX_FIELD_BYTES`]. Span fields and event fields are visited alike.
macro_rules! visit_as_field_values {
    ($ty:ty) => {
        impl tracing_core::field::Visit for $ty {
            fn record_bool(&mut self, field: &tracing_core::field::Field, value: bool) {
                self.push(field, $crate::field::FieldValue::Bool(value));
            }
            fn record_i64(&mut self, field: &tracing_core::field::Field, value: i64) {
                self.push(field, $crate::field::FieldValue::I64(value));
            }
            fn record_u64(&mut self, field: &tracing_core::field::Field, value: u64) {
                self.push(field, $crate::field::FieldValue::U64(value));
            }
            fn record_f64(&mut self, field: &tracing_core::field::Field, value: f64) {
                self.push(field, $crate::field::FieldValue::F64(value));
            }
            fn record_str(&mut self, field: &tracing_core::field::Field, value: &str) {
                let value = $crate::field::cut(value, $crate::field::MAX_FIELD_BYTES);
                self.push(field, $crate::field::FieldValue::Str(value.to_owned()));
            }
            fn record_debug(
                &mut self,
                field: &tracing_core::field::Field,
                value: &dyn std::fmt::Debug,
            ) {
                let mut text = format!("{value:?}");
                let kept = $crate::field::cut(&text, $crate::field::MAX_FIELD_BYTES).len();
                text.truncate(kept);
                self.push(field, $crate::field::FieldValue::Str(text));
            }
        }
    };
}
pub(crate) use visit_as_field_values;

// === a recorded span's data ===

/// Fields as visited: name and typed value, in visiting order.
pub(crate) type Fields = Vec<(std::borrow::Cow<'static, str>, FieldValue)>;

/// Bytes of encoded entries kept inside [`DataFields`] itself (no allocation).
const INLINE_BYTES: usize = 22;

/// Encoded value tags.
const TAG_FALSE: u8 = 0;
const TAG_TRUE: u8 = 1;
const TAG_I64: u8 = 2;
const TAG_U64: u8 = 3;
const TAG_F64: u8 = 4;
const TAG_STR: u8 = 5;

/// The data of a recorded span: its fields, keyed by their index in the span's callsite and
/// encoded in a few bytes (small values inline, no allocation; larger ones in one boxed
/// buffer), or, once something edits them (a hook, a privacy rule) or a key is not one of the
/// callsite's, as a plain list.
///
/// A span's fields are written on the instrumented thread and read on the export worker: the
/// encoded form spares the thread an allocation per field list and per string, and the
/// worker freeing them across threads.
#[derive(Clone, Debug)]
pub(crate) enum DataFields {
    /// Encoded entries, held inline: `len` bytes of `bytes`.
    Inline { len: u8, bytes: [u8; INLINE_BYTES] },
    /// Encoded entries too long to hold inline.
    Packed(Box<[u8]>),
    /// Plain entries (boxed: rare, and the encoded form gets the room inline).
    Owned(Box<Fields>),
}

impl Default for DataFields {
    fn default() -> Self {
        Self::Inline {
            len: 0,
            bytes: [0; INLINE_BYTES],
        }
    }
}

impl From<Fields> for DataFields {
    fn from(fields: Fields) -> Self {
        Self::Owned(Box::new(fields))
    }
}

impl FromIterator<(std::borrow::Cow<'static, str>, FieldValue)> for DataFields {
    fn from_iter<I: IntoIterator<Item = (std::borrow::Cow<'static, str>, FieldValue)>>(
        iter: I,
    ) -> Self {
        Self::Owned(Box::new(iter.into_iter().collect()))
    }
}

/// A borrowed [`FieldValue`]. A string is its UTF-8 bytes: decoding the encoded form does not
/// check again what was a `&str` when it was encoded.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum ValueRef<'a> {
    Bool(bool),
    I64(i64),
    U64(u64),
    F64(f64),
    Str(&'a [u8]),
}

impl ValueRef<'_> {
    pub(crate) fn to_owned(self) -> FieldValue {
        match self {
            Self::Bool(b) => FieldValue::Bool(b),
            Self::I64(n) => FieldValue::I64(n),
            Self::U64(n) => FieldValue::U64(n),
            Self::F64(n) => FieldValue::F64(n),
            Self::Str(s) => FieldValue::Str(String::from_utf8_lossy(s).into_owned()),
        }
    }
}

impl<'a> From<&'a FieldValue> for ValueRef<'a> {
    fn from(value: &'a FieldValue) -> Self {
        match value {
            FieldValue::Bool(b) => Self::Bool(*b),
            FieldValue::I64(n) => Self::I64(*n),
            FieldValue::U64(n) => Self::U64(*n),
            FieldValue::F64(n) => Self::F64(*n),
            FieldValue::Str(s) => Self::Str(s.as_bytes()),
        }
    }
}

/// A value that can be read as a [`ValueRef`] (the writers take plain and decoded data alike).
pub(crate) trait AsValueRef {
    fn value_ref(&self) -> ValueRef<'_>;
}

impl AsValueRef for FieldValue {
    fn value_ref(&self) -> ValueRef<'_> {
        self.into()
    }
}

impl AsValueRef for ValueRef<'_> {
    fn value_ref(&self) -> ValueRef<'_> {
        *self
    }
}

/// `list` emptied, for values of another lifetime: a list of decoded entries kept between
/// uses keeps its allocation (the element layout is the same, so collecting the empty list
/// reuses it).
pub(crate) fn recycle<'b>(
    mut list: Vec<(&'static str, ValueRef<'_>)>,
) -> Vec<(&'static str, ValueRef<'b>)> {
    list.clear();
    list.into_iter()
        .map(|(key, _)| (key, ValueRef::Bool(false)))
        .collect()
}

/// Encoded entries being written: inline while they fit, then in a growing buffer.
pub(crate) struct Encoder {
    inline: [u8; INLINE_BYTES],
    len: usize,
    /// Every byte once the entries outgrow `inline` (empty until then).
    heap: Vec<u8>,
}

impl Encoder {
    #[inline]
    pub(crate) fn new() -> Self {
        Self {
            inline: [0; INLINE_BYTES],
            len: 0,
            heap: Vec::new(),
        }
    }

    fn from_bytes(bytes: &[u8]) -> Self {
        let mut encoder = Self::new();
        encoder.extend(bytes);
        encoder
    }

    /// Moves the inline bytes to the heap, with room for `more`.
    #[cold]
    fn spill(&mut self, more: usize) {
        self.heap.reserve((self.len + more).max(32));
        self.heap
            .extend_from_slice(self.inline.get(..self.len).unwrap_or_default());
    }

    #[inline]
    fn byte(&mut self, b: u8) {
        if self.heap.is_empty() {
            if let Some(slot) = self.inline.get_mut(self.len) {
                *slot = b;
                self.len += 1;
                return;
            }
            self.spill(1);
        }
        self.heap.push(b);
    }

    fn extend(&mut self, bytes: &[u8]) {
        if self.heap.is_empty() {
            let end = self.len + bytes.len();
            if let Some(slot) = self.inline.get_mut(self.len..end) {
                slot.copy_from_slice(bytes);
                self.len = end;
                return;
            }
            self.spill(bytes.len());
        }
        self.heap.extend_from_slice(bytes);
    }

    #[inline]
    fn varint(&mut self, mut n: u64) {
        while n >= 0x80 {
            self.byte((n as u8 & 0x7f) | 0x80);
            n >>= 7;
        }
        self.byte(n as u8);
    }

    /// Appends one entry: the key's index in the callsite, then the value.
    #[inline]
    pub(crate) fn push(&mut self, key: u8, value: ValueRef<'_>) {
        if !(self.heap.is_empty() && self.push_inline(key, value)) {
            self.push_slow(key, value);
        }
    }

    /// [`Encoder::push`] while the entries fit inline, the common case: a number or a short
    /// string, written in one piece. `false` (nothing written) when it does not fit.
    #[inline]
    fn push_inline(&mut self, key: u8, value: ValueRef<'_>) -> bool {
        let start = self.len;
        match value {
            ValueRef::I64(n) => self.inline_number(key, TAG_I64, n.to_le_bytes()),
            ValueRef::U64(n) => self.inline_number(key, TAG_U64, n.to_le_bytes()),
            ValueRef::F64(n) => self.inline_number(key, TAG_F64, n.to_le_bytes()),
            ValueRef::Bool(b) => match self.inline.get_mut(start..start + 2) {
                Some(slot) => {
                    slot.copy_from_slice(&[key, if b { TAG_TRUE } else { TAG_FALSE }]);
                    self.len = start + 2;
                    true
                }
                None => false,
            },
            // A length under 0x80 is its own one-byte varint.
            ValueRef::Str(s) if s.len() < 0x80 => {
                let end = start + 3 + s.len();
                match self
                    .inline
                    .get_mut(start..end)
                    .and_then(<[u8]>::split_first_chunk_mut::<3>)
                {
                    Some((head, rest)) => {
                        *head = [key, TAG_STR, s.len() as u8];
                        rest.copy_from_slice(s);
                        self.len = end;
                        true
                    }
                    None => false,
                }
            }
            ValueRef::Str(_) => false,
        }
    }

    #[inline]
    fn inline_number(&mut self, key: u8, tag: u8, payload: [u8; 8]) -> bool {
        let start = self.len;
        match self
            .inline
            .get_mut(start..start + 10)
            .and_then(<[u8]>::split_first_chunk_mut::<2>)
        {
            Some((head, rest)) => {
                *head = [key, tag];
                rest.copy_from_slice(&payload);
                self.len = start + 10;
                true
            }
            None => false,
        }
    }

    fn push_slow(&mut self, key: u8, value: ValueRef<'_>) {
        self.byte(key);
        match value {
            ValueRef::Bool(b) => self.byte(if b { TAG_TRUE } else { TAG_FALSE }),
            ValueRef::I64(n) => {
                self.byte(TAG_I64);
                self.extend(&n.to_le_bytes());
            }
            ValueRef::U64(n) => {
                self.byte(TAG_U64);
                self.extend(&n.to_le_bytes());
            }
            ValueRef::F64(n) => {
                self.byte(TAG_F64);
                self.extend(&n.to_le_bytes());
            }
            ValueRef::Str(s) => {
                self.byte(TAG_STR);
                self.varint(s.len() as u64);
                self.extend(s);
            }
        }
    }

    #[inline]
    pub(crate) fn finish(self) -> DataFields {
        if self.heap.is_empty() {
            DataFields::Inline {
                len: self.len as u8,
                bytes: self.inline,
            }
        } else {
            DataFields::Packed(self.heap.into_boxed_slice())
        }
    }
}

/// Reads encoded entries: `(index of the key in the callsite, value)`.
struct Decoder<'a> {
    bytes: &'a [u8],
}

impl<'a> Decoder<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.bytes.split_first()?;
        self.bytes = rest;
        Some(b)
    }

    fn varint(&mut self) -> Option<u64> {
        let mut n = 0u64;
        let mut shift = 0u32;
        loop {
            let b = self.byte()?;
            n |= u64::from(b & 0x7f).checked_shl(shift).unwrap_or(0);
            if b < 0x80 {
                return Some(n);
            }
            shift += 7;
        }
    }

    #[inline]
    fn eight(&mut self) -> Option<[u8; 8]> {
        let (raw, rest) = self.bytes.split_first_chunk::<8>()?;
        self.bytes = rest;
        Some(*raw)
    }

    fn take(&mut self, len: usize) -> Option<&'a [u8]> {
        let taken = self.bytes.get(..len)?;
        self.bytes = self.bytes.get(len..).unwrap_or_default();
        Some(taken)
    }
}

impl<'a> Iterator for Decoder<'a> {
    type Item = (u8, ValueRef<'a>);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let (&[key, tag], rest) = self.bytes.split_first_chunk::<2>()?;
        self.bytes = rest;
        let value = match tag {
            TAG_FALSE => ValueRef::Bool(false),
            TAG_TRUE => ValueRef::Bool(true),
            TAG_I64 => ValueRef::I64(i64::from_le_bytes(self.eight()?)),
            TAG_U64 => ValueRef::U64(u64::from_le_bytes(self.eight()?)),
            TAG_F64 => ValueRef::F64(f64::from_le_bytes(self.eight()?)),
            TAG_STR => {
                let len = usize::try_from(self.varint()?).ok()?;
                ValueRef::Str(self.take(len)?)
            }
            _ => return None,
        };
        Some((key, value))
    }
}

/// The name of field `index` of `metadata`'s callsite.
fn key_name(metadata: Option<&'static Metadata<'static>>, index: u8) -> &'static str {
    metadata
        .and_then(|m| m.fields().iter().nth(usize::from(index)))
        .map_or("", |f| f.name())
}

use tracing_core::Metadata;

impl DataFields {
    fn encoded(&self) -> Option<&[u8]> {
        match self {
            Self::Inline { len, bytes } => bytes.get(..usize::from(*len)),
            Self::Packed(bytes) => Some(bytes),
            Self::Owned(_) => None,
        }
    }

    /// Whether there are no entries.
    pub(crate) fn is_empty(&self) -> bool {
        match self {
            Self::Owned(fields) => fields.is_empty(),
            _ => self.encoded().map_or(true, <[u8]>::is_empty),
        }
    }

    /// Every entry, in order (a repeated key may appear twice only in the plain form).
    /// `metadata` is the span's callsite: encoded keys are indices into its fields.
    pub(crate) fn for_each(
        &self,
        metadata: Option<&'static Metadata<'static>>,
        mut f: impl FnMut(&str, ValueRef<'_>),
    ) {
        match self.encoded() {
            Some(bytes) => {
                for (key, value) in (Decoder { bytes }) {
                    f(key_name(metadata, key), value);
                }
            }
            None => {
                if let Self::Owned(fields) = self {
                    for (key, value) in fields.iter() {
                        f(key, value.into());
                    }
                }
            }
        }
    }

    /// The entries as a plain list: borrowed when they are one, else decoded into `scratch`
    /// (emptied first).
    pub(crate) fn as_slice<'s>(
        &'s self,
        metadata: Option<&'static Metadata<'static>>,
        scratch: &'s mut Fields,
    ) -> &'s [(std::borrow::Cow<'static, str>, FieldValue)] {
        if let Self::Owned(fields) = self {
            return fields;
        }
        scratch.clear();
        if let Some(bytes) = self.encoded() {
            for (key, value) in (Decoder { bytes }) {
                scratch.push((
                    std::borrow::Cow::Borrowed(key_name(metadata, key)),
                    value.to_owned(),
                ));
            }
        }
        scratch
    }

    /// `fields` encoded, or kept as they are if a key is not one of the callsite's.
    pub(crate) fn encode(metadata: &'static Metadata<'static>, fields: Fields) -> Self {
        let mut encoder = Encoder::new();
        for (key, value) in &fields {
            match callsite_index(metadata, key) {
                Some(index) => encoder.push(index, value.into()),
                None => return Self::from(fields),
            }
        }
        encoder.finish()
    }

    /// Appends the encoded entries to `list`, borrowed (nothing for the plain form: read
    /// [`DataFields::owned`]).
    pub(crate) fn decode_into<'a>(
        &'a self,
        metadata: Option<&'static Metadata<'static>>,
        list: &mut Vec<(&'static str, ValueRef<'a>)>,
    ) {
        let (Some(bytes), Some(metadata)) = (self.encoded(), metadata) else {
            return;
        };
        // Keys come in the callsite's order unless a field was recorded again: the names
        // are walked forward, from the start again only when a key goes back.
        let mut names = metadata.fields().iter();
        let mut next = 0usize;
        for (key, value) in (Decoder { bytes }) {
            let key = usize::from(key);
            if key < next {
                names = metadata.fields().iter();
                next = 0;
            }
            let name = names.nth(key - next).map_or("", |f| f.name());
            next = key + 1;
            list.push((name, value));
        }
    }

    /// The encoded entries, `(index of the key in the callsite, value)` in order, read
    /// without decoding them into a list (`None` for the plain form: read
    /// [`DataFields::owned`]).
    #[inline]
    pub(crate) fn encoded_entries(&self) -> Option<impl Iterator<Item = (u8, ValueRef<'_>)>> {
        self.encoded().map(|bytes| Decoder { bytes })
    }

    /// [`DataFields::decode_into`] with the callsite's field names at hand, by index.
    pub(crate) fn decode_named<'a>(
        &'a self,
        names: &[&'static str],
        list: &mut Vec<(&'static str, ValueRef<'a>)>,
    ) {
        if let Some(bytes) = self.encoded() {
            for (key, value) in (Decoder { bytes }) {
                list.push((names.get(usize::from(key)).copied().unwrap_or(""), value));
            }
        }
    }

    /// The entries as a plain list, to edit (decoded once, on first edit).
    pub(crate) fn to_mut(&mut self, metadata: Option<&'static Metadata<'static>>) -> &mut Fields {
        if !matches!(self, Self::Owned(_)) {
            let mut fields = Vec::new();
            let _ = self.as_slice(metadata, &mut fields);
            *self = Self::Owned(Box::new(fields));
        }
        match self {
            Self::Owned(fields) => fields,
            // Not reached: the entries were made plain above.
            other => {
                *other = Self::Owned(Box::default());
                other.to_mut(metadata)
            }
        }
    }

    /// The entries as a plain list, taken (this is left empty).
    pub(crate) fn take(&mut self, metadata: Option<&'static Metadata<'static>>) -> Fields {
        std::mem::take(self.to_mut(metadata))
    }

    /// The plain list, if the entries are one.
    pub(crate) fn owned(&self) -> Option<&Fields> {
        match self {
            Self::Owned(fields) => Some(fields),
            _ => None,
        }
    }

    /// Sets `key` to `value`: a key already present keeps its place and takes the new value,
    /// a new key goes last.
    pub(crate) fn set(
        &mut self,
        metadata: &'static Metadata<'static>,
        key: std::borrow::Cow<'static, str>,
        value: ValueRef<'_>,
    ) {
        let index = match self.encoded() {
            Some(_) => callsite_index(metadata, &key),
            None => None,
        };
        let (Some(index), Some(bytes)) = (index, self.encoded()) else {
            let fields = self.to_mut(Some(metadata));
            if let Some(slot) = fields.iter_mut().find(|(k, _)| *k == key) {
                slot.1 = value.to_owned();
            } else {
                fields.push((key, value.to_owned()));
            }
            return;
        };
        let mut encoder = Encoder::from_bytes(&[]);
        let mut replaced = false;
        for (k, v) in (Decoder { bytes }) {
            if k == index {
                encoder.push(k, value);
                replaced = true;
            } else {
                encoder.push(k, v);
            }
        }
        if !replaced {
            encoder.push(index, value);
        }
        *self = encoder.finish();
    }

    /// Appends one entry of the callsite's field `field` (slow path: one entry at a time).
    #[cfg(test)]
    pub(crate) fn append(
        &mut self,
        metadata: &'static Metadata<'static>,
        field: &Field,
        value: ValueRef<'_>,
    ) {
        match (u8::try_from(field.index()).ok(), self.encoded()) {
            (Some(index), Some(bytes)) => {
                let mut encoder = Encoder::from_bytes(bytes);
                encoder.push(index, value);
                *self = encoder.finish();
            }
            _ => self.set(metadata, std::borrow::Cow::Borrowed(field.name()), value),
        }
    }

    /// The weight estimate of the entries (see `export/pipeline/weight.rs`) without decoding
    /// them: the encoded bytes (a string's bytes are most of them), plus 32 for every field
    /// of the callsite (a key, its quotes and a number).
    pub(crate) fn estimate(
        &self,
        metadata: Option<&'static Metadata<'static>>,
        entry: impl Fn(&str, ValueRef<'_>) -> usize,
    ) -> usize {
        match (self.encoded(), metadata) {
            (Some([]), _) => 0,
            (Some(bytes), Some(metadata)) => bytes.len() + 32 * metadata.fields().len(),
            _ => {
                let mut total = 0;
                self.for_each(metadata, |key, value| total += entry(key, value));
                total
            }
        }
    }
}

/// The index of the callsite's field named `key`, if it has one that an encoded key can hold.
fn callsite_index(metadata: &'static Metadata<'static>, key: &str) -> Option<u8> {
    metadata
        .fields()
        .iter()
        .position(|f| f.name() == key)
        .and_then(|i| u8::try_from(i).ok())
}

#[cfg(test)]
use tracing_core::field::Field;

#[cfg(test)]
mod tests_support {
    use super::*;

    pub(super) struct Cs;
    static CS: Cs = Cs;
    impl tracing_core::callsite::Callsite for Cs {
        fn set_interest(&self, _: tracing_core::subscriber::Interest) {}
        fn metadata(&self) -> &Metadata<'_> {
            &META
        }
    }
    pub(super) static META: Metadata<'static> = tracing_core::metadata!(
        name: "s",
        target: "t",
        level: tracing_core::Level::INFO,
        fields: &["a", "b", "c", "d", "e"],
        callsite: &CS,
        kind: tracing_core::metadata::Kind::SPAN
    );

    pub(super) fn field(name: &str) -> Field {
        META.fields().field(name).expect("declared")
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;

    use super::tests_support::*;

    fn plain(data: &DataFields) -> Fields {
        let mut scratch = Vec::new();
        data.as_slice(Some(&META), &mut scratch).to_vec()
    }

    #[test]
    fn encoded_entries_read_back_as_written() {
        let long = "x".repeat(300);
        let values = [
            ("a", FieldValue::U64(u64::MAX)),
            ("b", FieldValue::I64(-5)),
            ("c", FieldValue::Str(long.clone())),
            ("d", FieldValue::F64(1.5)),
            ("e", FieldValue::Bool(true)),
        ];
        let mut data = DataFields::default();
        for (name, value) in &values {
            data.append(&META, &field(name), value.into());
        }
        assert!(matches!(data, DataFields::Packed(_)));
        let expected: Fields = values
            .iter()
            .map(|(k, v)| (Cow::Borrowed(*k), v.clone()))
            .collect();
        assert_eq!(plain(&data), expected);
        assert_eq!(data.clone().take(Some(&META)), expected);
    }

    #[test]
    fn small_entries_stay_inline_and_a_set_keeps_the_order() {
        let mut data = DataFields::default();
        assert!(data.is_empty());
        data.append(&META, &field("a"), ValueRef::U64(7));
        data.append(&META, &field("b"), ValueRef::Str(b"GET"));
        assert!(matches!(data, DataFields::Inline { .. }));
        assert!(!data.is_empty());
        data.set(&META, Cow::Borrowed("a"), ValueRef::I64(-1));
        data.set(&META, Cow::Borrowed("c"), ValueRef::Bool(false));
        assert!(!matches!(data, DataFields::Owned(_)));
        assert_eq!(
            plain(&data),
            vec![
                (Cow::Borrowed("a"), FieldValue::I64(-1)),
                (Cow::Borrowed("b"), FieldValue::Str("GET".into())),
                (Cow::Borrowed("c"), FieldValue::Bool(false)),
            ]
        );
        // A key the callsite does not declare: the entries become a plain list.
        data.set(&META, Cow::Borrowed("other"), ValueRef::U64(1));
        assert!(matches!(data, DataFields::Owned(_)));
        assert_eq!(plain(&data).len(), 4);
        assert_eq!(
            plain(&data).last(),
            Some(&(Cow::Borrowed("other"), FieldValue::U64(1)))
        );
    }

    #[test]
    fn the_data_of_a_span_costs_no_more_than_a_vec() {
        assert!(std::mem::size_of::<DataFields>() <= 24);
    }
}

#[cfg(test)]
mod more_tests {
    use std::borrow::Cow;

    use super::tests_support::*;
    use super::*;

    #[test]
    fn a_visited_list_is_encoded_unless_a_key_is_not_the_callsites() {
        let fields: Fields = vec![
            (Cow::Borrowed("b"), FieldValue::Str("x".into())),
            (Cow::Borrowed("a"), FieldValue::U64(3)),
        ];
        let data = DataFields::encode(&META, fields.clone());
        assert!(matches!(data, DataFields::Inline { .. }));
        let mut scratch = Vec::new();
        assert_eq!(data.as_slice(Some(&META), &mut scratch), fields.as_slice());
        let mut other = fields;
        other.push((Cow::Borrowed("zz"), FieldValue::Bool(true)));
        let data = DataFields::encode(&META, other.clone());
        assert_eq!(data.owned(), Some(&other));
    }

    #[test]
    fn entries_spill_to_the_heap_mid_way_and_keys_may_go_back() {
        let mut data = DataFields::default();
        data.append(&META, &field("c"), ValueRef::U64(1));
        data.append(&META, &field("d"), ValueRef::I64(-2));
        assert!(matches!(data, DataFields::Inline { .. }));
        // Does not fit in what is left inline.
        data.append(&META, &field("e"), ValueRef::Str(b"GET"));
        assert!(matches!(data, DataFields::Packed(_)));
        // A key before the last one.
        data.set(&META, Cow::Borrowed("a"), ValueRef::Bool(true));
        let mut list = Vec::new();
        data.decode_into(Some(&META), &mut list);
        assert_eq!(
            list,
            vec![
                ("c", ValueRef::U64(1)),
                ("d", ValueRef::I64(-2)),
                ("e", ValueRef::Str(b"GET")),
                ("a", ValueRef::Bool(true)),
            ]
        );
    }
}
