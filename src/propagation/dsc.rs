//! The dynamic sampling context (`sentry-*` baggage members, spec 2.2 and 2.4).

use std::fmt;
use std::sync::Arc;

use super::baggage::{MAX_BAGGAGE_BYTES, MAX_BAGGAGE_MEMBERS};
use super::percent;

/// The prefix of every DSC member in `baggage`.
pub(crate) const SENTRY_PREFIX: &str = "sentry-";

/// The dynamic sampling context: the `sentry-*` members of `baggage`, keys without the prefix,
/// values decoded, all as strings. Known keys have accessors; unknown keys are kept as they came.
///
/// Entries keep insertion order; setting an existing key replaces its value in place. Empty keys
/// and empty values are never stored. Equality compares the entries in order.
///
/// # Examples
///
/// ```
/// use tracing_sentry::DynamicSamplingContext;
///
/// let dsc = DynamicSamplingContext::new()
///     .with("trace_id", "771a43a4192642f0b136d5159a501700")
///     .with("transaction", "GET /users/:id")
///     .with("sample_rate", "0.25");
/// assert_eq!(dsc.sample_rate(), Some(0.25));
/// assert_eq!(
///     dsc.to_baggage().as_deref(),
///     Some("sentry-trace_id=771a43a4192642f0b136d5159a501700,\
///           sentry-transaction=GET%20%2Fusers%2F%3Aid,sentry-sample_rate=0.25"),
/// );
/// ```
#[derive(Clone, Default)]
pub struct DynamicSamplingContext {
    // All keys and values live in one buffer and the entry table is inline (up to
    // `INLINE_ENTRIES`), so a parsed DSC costs one allocation (two behind its `Arc`) rather than
    // two per entry: a parsed one is a copy of the incoming `baggage` value, its entries
    // pointing at the members as they arrived (escaped ones decoded after it). `entries` index
    // into it; bytes no entry uses (other members, replaced or removed entries) are `garbage`
    // until the next compaction.
    buf: String,
    entries: Entries,
    garbage: usize,
    /// The [`key_bit`]s of every key an entry has had: a key whose bit is clear is not there,
    /// so looking up an absent key (`org_id` on most requests) costs no search. Bits are never
    /// cleared (a removed key's bit may be shared), so a set bit only means "search".
    keys: u64,
}

/// `buf[start..key_end]` is the key, `buf[key_end + 1..end]` the value: key and value are
/// stored as `key=value`, so a parsed member that arrived that way is copied in one piece.
/// Offsets are `u32`, keeping the inline table small: a DSC holds at most 4 GiB of text (a
/// `set` past that is ignored).
#[derive(Clone, Copy)]
struct Entry {
    start: u32,
    key_end: u32,
    end: u32,
}

/// Entries a DSC holds without a table of their own: Sentry's SDKs send at most 10 members,
/// and a head DSC has 9.
const INLINE_ENTRIES: usize = 10;

/// The entry table: inline up to [`INLINE_ENTRIES`], so a parsed DSC (behind its `Arc`) is two
/// allocations, its `Arc` and its buffer; on the heap past that.
#[derive(Clone)]
enum Entries {
    Inline {
        len: u8,
        items: [Entry; INLINE_ENTRIES],
    },
    Heap(Vec<Entry>),
}

impl Default for Entries {
    fn default() -> Self {
        Self::new()
    }
}

impl Entries {
    #[inline]
    const fn new() -> Self {
        Self::Inline {
            len: 0,
            items: [Entry::EMPTY; INLINE_ENTRIES],
        }
    }

    #[inline]
    fn with_capacity(n: usize) -> Self {
        if n <= INLINE_ENTRIES {
            Self::new()
        } else {
            Self::Heap(Vec::with_capacity(n))
        }
    }

    #[inline]
    fn as_slice(&self) -> &[Entry] {
        match self {
            Self::Inline { len, items } => items.get(..usize::from(*len)).unwrap_or_default(),
            Self::Heap(v) => v,
        }
    }

    #[inline]
    fn as_mut_slice(&mut self) -> &mut [Entry] {
        match self {
            Self::Inline { len, items } => items.get_mut(..usize::from(*len)).unwrap_or_default(),
            Self::Heap(v) => v,
        }
    }

    #[inline]
    fn len(&self) -> usize {
        self.as_slice().len()
    }

    #[inline]
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[inline]
    fn iter(&self) -> std::slice::Iter<'_, Entry> {
        self.as_slice().iter()
    }

    #[inline]
    fn get(&self, i: usize) -> Option<&Entry> {
        self.as_slice().get(i)
    }

    #[inline]
    fn get_mut(&mut self, i: usize) -> Option<&mut Entry> {
        self.as_mut_slice().get_mut(i)
    }

    #[inline]
    fn push(&mut self, e: Entry) {
        match self {
            Self::Inline { len, items } => {
                if let Some(slot) = items.get_mut(usize::from(*len)) {
                    *slot = e;
                    *len += 1;
                } else {
                    self.spill(e);
                }
            }
            Self::Heap(v) => v.push(e),
        }
    }

    /// Moves a full inline table to the heap, adding `e`.
    #[cold]
    #[inline(never)]
    fn spill(&mut self, e: Entry) {
        let mut v = Vec::with_capacity(INLINE_ENTRIES * 2);
        v.extend_from_slice(self.as_slice());
        v.push(e);
        *self = Self::Heap(v);
    }

    /// Removes entry `i`, keeping the others' order.
    #[inline]
    fn remove(&mut self, i: usize) -> Option<Entry> {
        match self {
            Self::Inline { len, items } => {
                let n = usize::from(*len);
                let old = *items.get(..n)?.get(i)?;
                items.copy_within(i + 1..n, i);
                *len -= 1;
                Some(old)
            }
            Self::Heap(v) => (i < v.len()).then(|| v.remove(i)),
        }
    }
}

impl Entry {
    const EMPTY: Self = Self {
        start: 0,
        key_end: 0,
        end: 0,
    };

    /// The entry at these offsets, if they fit.
    #[inline]
    fn new(start: usize, key_end: usize, end: usize) -> Option<Self> {
        Some(Self {
            start: u32::try_from(start).ok()?,
            key_end: u32::try_from(key_end).ok()?,
            end: u32::try_from(end).ok()?,
        })
    }

    #[inline]
    const fn start(&self) -> usize {
        self.start as usize
    }

    #[inline]
    const fn key_end(&self) -> usize {
        self.key_end as usize
    }

    #[inline]
    const fn end(&self) -> usize {
        self.end as usize
    }

    #[inline]
    const fn len(&self) -> usize {
        self.end() - self.start()
    }

    #[inline]
    const fn value_start(&self) -> usize {
        self.key_end() + 1
    }
}

// === impl DynamicSamplingContext ===

impl DynamicSamplingContext {
    /// Returns an empty DSC.
    ///
    /// # Examples
    ///
    /// ```
    /// let dsc = tracing_sentry::DynamicSamplingContext::new();
    /// assert!(dsc.is_empty());
    /// assert_eq!(dsc.to_baggage(), None);
    /// ```
    pub const fn new() -> Self {
        Self {
            buf: String::new(),
            entries: Entries::new(),
            garbage: 0,
            keys: 0,
        }
    }

    /// Sets `key` (without `sentry-`) to `value`, replacing an existing value in place.
    ///
    /// An empty `value` removes the key; an empty `key` is ignored.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut dsc = tracing_sentry::DynamicSamplingContext::new();
    /// dsc.set("release", "1.0");
    /// dsc.set("environment", "prod");
    /// dsc.set("release", "2.0");
    /// assert_eq!(dsc.iter().collect::<Vec<_>>(), [("release", "2.0"), ("environment", "prod")]);
    /// dsc.set("release", "");
    /// assert_eq!(dsc.release(), None);
    /// ```
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        let value = value.into();
        self.set_str(key, &value);
    }

    /// [`set`](Self::set) without taking ownership of the value.
    pub(crate) fn set_str(&mut self, key: &str, value: &str) {
        let at = self.position(key);
        self.set_str_at(key, value, at);
    }

    /// [`set_str`](Self::set_str) with `key`'s [`position`](Self::position) already known.
    pub(crate) fn set_str_at(&mut self, key: &str, value: &str, pos: Option<usize>) {
        if key.is_empty() {
            return;
        }
        if value.is_empty() {
            if let Some(old) = pos.and_then(|i| self.entries.remove(i)) {
                self.garbage += old.len();
            }
            return;
        }
        self.put(key, value, pos);
        if self.garbage > 256 && self.garbage > self.buf.len() / 2 {
            self.compact();
        }
    }

    /// Sets non-empty `key` to non-empty `value` (`pos`: `key`'s [`position`](Self::position)),
    /// appending them to the buffer.
    fn put(&mut self, key: &str, value: &str, pos: Option<usize>) {
        if let Some(i) = pos {
            if self.value_of_index(i) == Some(value) {
                return;
            }
        }
        let start = self.buf.len();
        let Some(new) = Entry::new(
            start,
            start + key.len(),
            start + key.len() + 1 + value.len(),
        ) else {
            return;
        };
        self.buf.push_str(key);
        self.buf.push('=');
        self.buf.push_str(value);
        match pos.and_then(|i| self.entries.get_mut(i)) {
            Some(e) => {
                self.garbage += e.len();
                *e = new;
            }
            None => {
                self.keys |= key_bit(key.as_bytes());
                self.entries.push(new);
            }
        }
    }

    /// An empty DSC with room for `bytes` of `key=value` text in `entries` entries.
    pub(crate) fn with_capacity(bytes: usize, entries: usize) -> Self {
        Self {
            buf: String::with_capacity(bytes),
            entries: Entries::with_capacity(entries),
            garbage: 0,
            keys: 0,
        }
    }

    /// Appends `key` = `value` (an empty one is skipped, as [`set`](Self::set) does) for a key
    /// the DSC does not hold yet: no lookup.
    fn push_new(&mut self, key: &str, value: &str) {
        debug_assert!(
            self.position(key).is_none(),
            "push_new: {key} is already set"
        );
        if !key.is_empty() && !value.is_empty() {
            self.put(key, value, None);
        }
    }

    /// Builder form of [`set`](Self::set).
    ///
    /// # Examples
    ///
    /// ```
    /// let dsc = tracing_sentry::DynamicSamplingContext::new().with("org_id", "42");
    /// assert_eq!(dsc.org_id(), Some("42"));
    /// ```
    #[must_use]
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.set(key, value);
        self
    }

    /// Returns the raw value of `key` (without `sentry-`).
    ///
    /// # Examples
    ///
    /// ```
    /// let dsc = tracing_sentry::DynamicSamplingContext::new().with("foo-bar", "baz");
    /// assert_eq!(dsc.get("foo-bar"), Some("baz"));
    /// assert_eq!(dsc.get("sentry-foo-bar"), None);
    /// ```
    pub fn get(&self, key: &str) -> Option<&str> {
        self.position(key)
            .and_then(|i| self.entries.get(i))
            .map(|e| self.slice(e.value_start(), e.end()))
    }

    /// The index of `key`'s entry, comparing bytes (keys are looked up on every incoming
    /// request, so no per-entry `str` slicing).
    pub(crate) fn position(&self, key: &str) -> Option<usize> {
        self.position_bytes(key.as_bytes())
    }

    /// [`position`](Self::position) of a key given as bytes.
    #[inline]
    pub(crate) fn position_bytes(&self, key: &[u8]) -> Option<usize> {
        if self.keys & key_bit(key) == 0 {
            return None;
        }
        self.search(key)
    }

    /// [`position_bytes`](Self::position_bytes) once `key`'s bit is set: the search.
    #[inline]
    fn search(&self, key: &[u8]) -> Option<usize> {
        let buf = self.buf.as_bytes();
        // Keys of the same length often share a prefix (`sample_rate`, `sample_rand`): the last
        // byte tells most of them apart before a full comparison.
        let last = key.last();
        self.entries.iter().position(|e| {
            e.key_end() - e.start() == key.len()
                && buf.get(e.key_end().wrapping_sub(1)) == last
                && buf.get(e.start()..e.key_end()) == Some(key)
        })
    }

    /// Returns the entries in insertion order.
    ///
    /// # Examples
    ///
    /// ```
    /// let dsc = tracing_sentry::DynamicSamplingContext::new().with("a", "1").with("b", "2");
    /// assert_eq!(dsc.iter().collect::<Vec<_>>(), [("a", "1"), ("b", "2")]);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.entries
            .iter()
            .map(|e| (self.key_of(e), self.slice(e.value_start(), e.end())))
    }

    /// Returns the number of entries.
    ///
    /// # Examples
    ///
    /// ```
    /// let dsc = tracing_sentry::DynamicSamplingContext::new().with("a", "1").with("a", "2");
    /// assert_eq!(dsc.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Returns whether there are no entries.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(tracing_sentry::DynamicSamplingContext::new().with("a", "").is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Returns `trace_id`.
    ///
    /// # Examples
    ///
    /// ```
    /// let dsc = tracing_sentry::propagation::Baggage::parse("sentry-trace_id=771a43a4192642f0b136d5159a501700").into_sentry();
    /// assert_eq!(dsc.trace_id(), Some("771a43a4192642f0b136d5159a501700"));
    /// ```
    pub fn trace_id(&self) -> Option<&str> {
        self.get("trace_id")
    }

    /// Returns `public_key`.
    ///
    /// # Examples
    ///
    /// ```
    /// let dsc = tracing_sentry::DynamicSamplingContext::new().with("public_key", "49d0f7386ad645858ae85020e393bef3");
    /// assert_eq!(dsc.public_key(), Some("49d0f7386ad645858ae85020e393bef3"));
    /// ```
    pub fn public_key(&self) -> Option<&str> {
        self.get("public_key")
    }

    /// Returns `release`.
    ///
    /// # Examples
    ///
    /// ```
    /// let dsc = tracing_sentry::propagation::Baggage::parse("sentry-release=myapp%401.0.0").into_sentry();
    /// assert_eq!(dsc.release(), Some("myapp@1.0.0"));
    /// ```
    pub fn release(&self) -> Option<&str> {
        self.get("release")
    }

    /// Returns `environment`.
    ///
    /// # Examples
    ///
    /// ```
    /// let dsc = tracing_sentry::DynamicSamplingContext::new().with("environment", "production");
    /// assert_eq!(dsc.environment(), Some("production"));
    /// ```
    pub fn environment(&self) -> Option<&str> {
        self.get("environment")
    }

    /// Returns `transaction`.
    ///
    /// # Examples
    ///
    /// ```
    /// let dsc = tracing_sentry::propagation::Baggage::parse("sentry-transaction=GET%20%2Fusers").into_sentry();
    /// assert_eq!(dsc.transaction(), Some("GET /users"));
    /// ```
    pub fn transaction(&self) -> Option<&str> {
        self.get("transaction")
    }

    /// Returns `org_id`, as a string (org ids are compared as strings, spec 4).
    ///
    /// # Examples
    ///
    /// ```
    /// let dsc = tracing_sentry::propagation::Baggage::parse("sentry-org_id=007").into_sentry();
    /// assert_eq!(dsc.org_id(), Some("007"));
    /// ```
    pub fn org_id(&self) -> Option<&str> {
        self.get("org_id")
    }

    /// Returns `replay_id`.
    ///
    /// # Examples
    ///
    /// ```
    /// let dsc = tracing_sentry::DynamicSamplingContext::new();
    /// assert_eq!(dsc.replay_id(), None);
    /// ```
    pub fn replay_id(&self) -> Option<&str> {
        self.get("replay_id")
    }

    /// Returns `sample_rate` parsed as a number in `[0, 1]`; `None` when absent or invalid.
    ///
    /// # Examples
    ///
    /// ```
    /// use tracing_sentry::DynamicSamplingContext;
    ///
    /// assert_eq!(DynamicSamplingContext::new().with("sample_rate", "1.0").sample_rate(), Some(1.0));
    /// assert_eq!(DynamicSamplingContext::new().with("sample_rate", "bogus").sample_rate(), None);
    /// ```
    pub fn sample_rate(&self) -> Option<f64> {
        self.get("sample_rate").and_then(super::parse_sample_rate)
    }

    /// Returns `sample_rand` parsed as a number in `[0, 1)`; `None` when absent or invalid.
    ///
    /// The raw string stays available through [`get`](Self::get) and is what gets propagated.
    ///
    /// # Examples
    ///
    /// ```
    /// use tracing_sentry::DynamicSamplingContext;
    ///
    /// assert_eq!(DynamicSamplingContext::new().with("sample_rand", "0.1").sample_rand(), Some(0.1));
    /// assert_eq!(DynamicSamplingContext::new().with("sample_rand", "1.0").sample_rand(), None);
    /// ```
    pub fn sample_rand(&self) -> Option<f64> {
        self.get("sample_rand").and_then(super::parse_sample_rand)
    }

    /// Returns `sampled` parsed (`"true"`/`"false"`); `None` for any other value or when absent.
    ///
    /// # Examples
    ///
    /// ```
    /// use tracing_sentry::DynamicSamplingContext;
    ///
    /// assert_eq!(DynamicSamplingContext::new().with("sampled", "true").sampled(), Some(true));
    /// assert_eq!(DynamicSamplingContext::new().with("sampled", "yes").sampled(), None);
    /// ```
    pub fn sampled(&self) -> Option<bool> {
        match self.get("sampled") {
            Some("true") => Some(true),
            Some("false") => Some(false),
            _ => None,
        }
    }

    /// Serializes the DSC as a `baggage` value; `None` if there is nothing to send.
    ///
    /// Each entry becomes `sentry-` + key + `=` + value, key and value percent-encoded (every byte
    /// outside RFC 3986 unreserved `[A-Za-z0-9-._~]` as uppercase `%XX`), joined with `,` and no
    /// spaces, in insertion order. The result never exceeds 64 members or
    /// 8,192 bytes: an entry that would cross a limit is left out whole, and later
    /// entries that still fit are kept. An empty header is never produced (spec 2.4).
    ///
    /// # Examples
    ///
    /// ```
    /// use tracing_sentry::DynamicSamplingContext;
    ///
    /// let dsc = DynamicSamplingContext::new().with("release", "a+b").with("environment", "prod");
    /// assert_eq!(dsc.to_baggage().as_deref(), Some("sentry-release=a%2Bb,sentry-environment=prod"));
    ///
    /// let too_big = DynamicSamplingContext::new().with("transaction", "x".repeat(9000));
    /// assert_eq!(too_big.to_baggage(), None);
    /// ```
    pub fn to_baggage(&self) -> Option<String> {
        let mut out = String::new();
        self.write_baggage(&mut out).then_some(out)
    }

    /// Appends the members [`to_baggage`](Self::to_baggage) would return to `out`, with no
    /// leading separator and no intermediate allocation. Returns whether any member was written.
    ///
    /// The limits apply to the appended part alone.
    pub(crate) fn write_baggage(&self, out: &mut String) -> bool {
        let start = out.len();
        let mut members = 0;
        for (key, value) in self.iter() {
            if members == MAX_BAGGAGE_MEMBERS {
                break;
            }
            // Written in one pass, then taken back if it does not fit: the same rule as
            // measuring the encoded member first, without encoding it twice.
            let mark = out.len();
            if members == 0 {
                // Room for the prefixes and separators plus a few escapes.
                let estimate = self.buf.len() + self.entries.len() * 12;
                out.reserve(estimate.min(MAX_BAGGAGE_BYTES));
            } else {
                out.push(',');
            }
            out.push_str(SENTRY_PREFIX);
            percent::encode_into(key, out);
            out.push('=');
            percent::encode_into(value, out);
            if out.len() - start > MAX_BAGGAGE_BYTES {
                out.truncate(mark);
                continue;
            }
            members += 1;
        }
        members > 0
    }

    /// The keys, values redacted, for `Debug` output of parsed headers.
    pub(crate) fn keys_debug(&self) -> RedactedKeys<'_> {
        RedactedKeys(self)
    }

    /// For the baggage parser: appends a header value to the buffer, so that entries can point
    /// into it ([`set_in_place`](Self::set_in_place)); returns where it starts. Room is left for
    /// a few decoded members ([`append_decoded`](Self::append_decoded)) after it.
    pub(crate) fn copy_raw(&mut self, value: &str) -> usize {
        let base = self.buf.len();
        let room = value.len() + 64;
        // Allocated directly when empty (the usual case): cheaper than growing.
        if self.buf.capacity() == 0 {
            self.buf = String::with_capacity(room);
        } else {
            self.buf.reserve(room);
        }
        self.buf.push_str(value);
        base
    }

    /// For the baggage parser: sets the entry whose key is `buf[start..key_end]` (the bytes of
    /// `key`) and whose value is `buf[key_end + 1..end]`, text already in the buffer
    /// ([`copy_raw`](Self::copy_raw));
    /// `pos` is the key's [`position`](Self::position). Key and value are not empty, and the
    /// offsets are char boundaries.
    #[inline]
    pub(crate) fn set_in_place(
        &mut self,
        key: &[u8],
        start: usize,
        key_end: usize,
        end: usize,
        pos: Option<usize>,
    ) {
        let Some(new) = Entry::new(start, key_end, end) else {
            return;
        };
        match pos.and_then(|i| self.entries.get_mut(i)) {
            Some(e) => *e = new,
            None => {
                self.keys |= key_bit(key);
                self.entries.push(new);
            }
        }
    }

    /// The buffer's length (tests of the parser's compaction).
    #[cfg(test)]
    pub(crate) fn buf_len(&self) -> usize {
        self.buf.len()
    }

    /// For the baggage parser: appends `key=value`, `value` percent-decoded if `escaped`, and
    /// returns where (for [`set_in_place`](Self::set_in_place)); `None`, with nothing appended,
    /// if an escape is malformed.
    pub(crate) fn append_decoded(
        &mut self,
        key: &str,
        value: &str,
        escaped: bool,
    ) -> Option<(usize, usize, usize)> {
        let start = self.buf.len();
        self.buf.push_str(key);
        let key_end = self.buf.len();
        self.buf.push('=');
        if escaped {
            if !percent::decode_onto(value, &mut self.buf) {
                self.buf.truncate(start);
                return None;
            }
        } else {
            self.buf.push_str(value);
        }
        Some((start, key_end, self.buf.len()))
    }

    /// For the baggage parser: drops what [`append_decoded`](Self::append_decoded) appended
    /// from `len` on.
    pub(crate) fn truncate_buf(&mut self, len: usize) {
        if self.buf.is_char_boundary(len) {
            self.buf.truncate(len);
        }
    }

    /// For the baggage parser, once done: counts the bytes no entry uses (the copies' other
    /// members), and compacts the buffer if they are most of it, calling `before_compact`
    /// first (ranges of the buffer stop being valid).
    pub(crate) fn finish_parse(&mut self, before_compact: impl FnOnce(&Self)) {
        let used: usize = self.entries.iter().map(Entry::len).sum();
        self.garbage = self.buf.len().saturating_sub(used);
        if self.garbage > 256 && self.garbage > self.buf.len() / 2 {
            before_compact(self);
            self.compact();
        }
    }

    /// For the baggage parser: `start..end` of the buffer (text [`copy_raw`](Self::copy_raw)
    /// copied), or `""` if that is not a range of it.
    pub(crate) fn raw(&self, start: usize, end: usize) -> &str {
        self.slice(start, end)
    }

    fn compact(&mut self) {
        let old = std::mem::take(&mut self.buf);
        let entries = std::mem::take(&mut self.entries);
        self.buf.reserve(old.len().saturating_sub(self.garbage));
        self.garbage = 0;
        for &e in entries.iter() {
            // `key=value` moves in one piece.
            let joined = old.get(e.start()..e.end()).unwrap_or_default();
            let start = self.buf.len();
            // Offsets only shrink, so they fit.
            if let Some(moved) = Entry::new(
                start,
                start + (e.key_end() - e.start()),
                start + joined.len(),
            ) {
                self.buf.push_str(joined);
                self.entries.push(moved);
            }
        }
    }

    fn key_of(&self, e: &Entry) -> &str {
        self.slice(e.start(), e.key_end())
    }

    fn value_of_index(&self, i: usize) -> Option<&str> {
        self.entries
            .get(i)
            .map(|e| self.slice(e.value_start(), e.end()))
    }

    fn slice(&self, from: usize, to: usize) -> &str {
        // Offsets always sit at the ends of pushed `&str`s, so they are char boundaries.
        self.buf.get(from..to).unwrap_or_default()
    }
}

/// A bit standing for key `name` (by length and last byte): see `DynamicSamplingContext::keys`.
#[inline]
fn key_bit(name: &[u8]) -> u64 {
    let last = name.last().copied().unwrap_or(0);
    1 << ((name.len() * 7 + usize::from(last)) & 63)
}

/// What the head of a trace (this service, starting it) puts into its dynamic sampling context.
pub(crate) struct HeadDsc<'a> {
    pub(crate) trace_id: crate::id::TraceId,
    pub(crate) public_key: Option<&'a str>,
    pub(crate) org_id: Option<&'a str>,
    pub(crate) environment: &'a str,
    pub(crate) release: Option<&'a str>,
    /// The transaction name, when there is a transaction and its source may go into the DSC.
    pub(crate) transaction: Option<&'a str>,
    /// The rate the local decision applied, if a local rate decided.
    pub(crate) sample_rate: Option<f64>,
    /// `None` while the decision is deferred (tracing not configured).
    pub(crate) sampled: Option<bool>,
    pub(crate) sample_rand: f64,
}

impl HeadDsc<'_> {
    /// Builds the head-of-trace DSC (spec 2.2). `sample_rand` is propagated in
    /// tracing-without-performance mode too, so every service downstream decides consistently
    /// (spec 3.2).
    pub(crate) fn build(&self) -> DynamicSamplingContext {
        let trace_id = self.trace_id.to_hex();
        let rand = super::sample_rand::sample_rand_text(self.sample_rand);
        let rate = self.sample_rate.map(|rate| rate.to_string());
        let sampled = self.sampled.map(|s| if s { "true" } else { "false" });
        let entries: [(&str, Option<&str>); 9] = [
            ("trace_id", std::str::from_utf8(&trace_id).ok()),
            ("public_key", self.public_key),
            ("org_id", self.org_id),
            ("environment", Some(self.environment)),
            ("release", self.release),
            ("transaction", self.transaction),
            ("sample_rate", rate.as_deref()),
            ("sampled", sampled),
            ("sample_rand", std::str::from_utf8(&rand).ok()),
        ];
        // Sized once, then appended: the keys are distinct, so no entry is looked up.
        let bytes = entries
            .iter()
            .map(|(key, value)| value.map_or(0, |v| key.len() + 1 + v.len()))
            .sum();
        let mut dsc = DynamicSamplingContext::with_capacity(bytes, entries.len());
        for (key, value) in entries {
            if let Some(value) = value {
                dsc.push_new(key, value);
            }
        }
        dsc
    }
}

impl DynamicSamplingContext {
    /// Applies the two exceptions to "frozen" that Sentry's SDKs make for an incoming DSC (spec
    /// 2.6, 3.3): the rate a local decision applied, and a backfilled `sample_rand`. A
    /// frozen-empty DSC (an old SDK upstream) stays empty.
    ///
    /// The DSC is copied only if it changes and its `Arc` is shared.
    pub(crate) fn apply_local_decision(
        this: &mut Arc<Self>,
        applied_rate: Option<f64>,
        backfilled_rand: Option<f64>,
    ) {
        if this.is_empty() || (applied_rate.is_none() && backfilled_rand.is_none()) {
            return;
        }
        let dsc = Arc::make_mut(this);
        if let Some(rate) = applied_rate {
            dsc.set("sample_rate", rate.to_string());
        }
        if let Some(rand) = backfilled_rand {
            dsc.set("sample_rand", super::format_sample_rand(rand));
        }
    }
}

impl PartialEq for DynamicSamplingContext {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for DynamicSamplingContext {}

/// The keys of a DSC, with values redacted: a `Debug` form for what came from headers.
pub(crate) struct RedactedKeys<'a>(&'a DynamicSamplingContext);

impl fmt::Debug for RedactedKeys<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(k, _)| (k, format_args!("<redacted>"))))
            .finish()
    }
}

impl fmt::Debug for DynamicSamplingContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DynamicSamplingContext ")?;
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_find_every_key_whatever_keys_share_a_bit() {
        // `ab` and `xb` have the same length and last byte, so the same bit.
        let mut dsc = DynamicSamplingContext::new().with("ab", "1").with("c", "2");
        assert_eq!(dsc.get("xb"), None);
        assert_eq!(dsc.get("org_id"), None);
        dsc.set("xb", "3");
        assert_eq!((dsc.get("ab"), dsc.get("xb")), (Some("1"), Some("3")));
        dsc.set("ab", "");
        assert_eq!((dsc.get("ab"), dsc.get("xb")), (None, Some("3")));
        dsc.set("ab", "4");
        assert_eq!(dsc.get("ab"), Some("4"));
        let parsed = super::super::Baggage::parse("sentry-ab=5,sentry-xb=6,sentry-ab=7");
        let parsed = parsed.sentry();
        assert_eq!(
            parsed.iter().collect::<Vec<_>>(),
            [("ab", "7"), ("xb", "6")]
        );
        assert_eq!(parsed.get("cb"), None);
    }

    #[test]
    fn set_replaces_in_place_and_empty_removes() {
        let mut dsc = DynamicSamplingContext::new();
        dsc.set("a", "1");
        dsc.set("b", "2");
        dsc.set("a", "3");
        dsc.set("", "ignored");
        assert_eq!(dsc.iter().collect::<Vec<_>>(), [("a", "3"), ("b", "2")]);
        dsc.set("a", "");
        dsc.set("missing", "");
        assert_eq!(dsc.iter().collect::<Vec<_>>(), [("b", "2")]);
        assert_eq!(dsc.len(), 1);
    }

    #[test]
    fn repeated_updates_stay_compact_and_equal() {
        let mut dsc = DynamicSamplingContext::new().with("keep", "me");
        for i in 0..10_000 {
            dsc.set("transaction", format!("name {i}"));
        }
        assert!(
            dsc.buf.len() < 1024,
            "garbage is compacted: {}",
            dsc.buf.len()
        );
        let fresh = DynamicSamplingContext::new()
            .with("keep", "me")
            .with("transaction", "name 9999");
        assert_eq!(dsc, fresh);
        assert_eq!(format!("{dsc:?}"), format!("{fresh:?}"));
    }

    #[test]
    fn equality_is_by_entries_in_order() {
        let a = DynamicSamplingContext::new().with("x", "1").with("y", "2");
        let b = DynamicSamplingContext::new().with("y", "2").with("x", "1");
        assert_ne!(a, b);
        assert_eq!(a, a.clone());
    }

    #[test]
    fn keys_are_encoded_too() {
        let dsc = DynamicSamplingContext::new().with("user+id", "alice");
        assert_eq!(dsc.to_baggage().unwrap(), "sentry-user%2Bid=alice");
    }

    #[test]
    fn serialization_keeps_the_member_limit() {
        let mut dsc = DynamicSamplingContext::new();
        for i in 0..100 {
            dsc.set(&format!("k{i}"), "v");
        }
        let out = dsc.to_baggage().unwrap();
        assert_eq!(out.split(',').count(), MAX_BAGGAGE_MEMBERS);
        assert!(out.starts_with("sentry-k0=v,"));
    }

    #[test]
    fn serialization_drops_whole_members_over_the_byte_limit() {
        let dsc = DynamicSamplingContext::new()
            .with("trace_id", "771a43a4192642f0b136d5159a501700")
            .with("transaction", "é".repeat(2000)) // 12000 encoded bytes: dropped
            .with("release", "x".repeat(8120))
            .with("environment", "prod") // neither fits after the release
            .with("sampled", "true");
        let out = dsc.to_baggage().unwrap();
        assert!(out.len() <= MAX_BAGGAGE_BYTES, "{}", out.len());
        let keys: Vec<_> = out
            .split(',')
            .map(|m| m.split('=').next().unwrap())
            .collect();
        assert_eq!(keys, ["sentry-trace_id", "sentry-release"]);
    }

    #[test]
    fn write_baggage_appends_without_a_separator() {
        let dsc = DynamicSamplingContext::new().with("a", "1");
        let mut out = String::from("x=y,");
        assert!(dsc.write_baggage(&mut out));
        assert_eq!(out, "x=y,sentry-a=1");
        assert!(!DynamicSamplingContext::new().write_baggage(&mut out));
        assert_eq!(out, "x=y,sentry-a=1");
    }

    #[test]
    fn the_head_dsc_carries_the_options_and_the_decision() {
        let head = HeadDsc {
            trace_id: "771a43a4192642f0b136d5159a501700".parse().unwrap(),
            public_key: Some("49d0"),
            org_id: None,
            environment: "prod",
            release: Some("api@1"),
            transaction: Some("GET /"),
            sample_rate: Some(0.25),
            sampled: Some(true),
            sample_rand: 0.1,
        };
        assert_eq!(
            head.build().to_baggage().unwrap(),
            "sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-public_key=49d0,\
             sentry-environment=prod,sentry-release=api%401,sentry-transaction=GET%20%2F,\
             sentry-sample_rate=0.25,sentry-sampled=true,sentry-sample_rand=0.100000"
        );
    }

    #[test]
    fn a_local_decision_updates_a_frozen_dsc_but_not_an_empty_one() {
        let mut empty = Arc::new(DynamicSamplingContext::new());
        DynamicSamplingContext::apply_local_decision(&mut empty, Some(0.5), Some(0.25));
        assert!(empty.is_empty());
        let mut dsc = Arc::new(DynamicSamplingContext::new().with("release", "1"));
        DynamicSamplingContext::apply_local_decision(&mut dsc, Some(0.5), Some(0.25));
        assert_eq!(dsc.sample_rate(), Some(0.5));
        assert_eq!(dsc.get("sample_rand"), Some("0.250000"));
    }

    #[test]
    fn a_local_decision_leaves_a_shared_frozen_dsc_as_it_was() {
        let incoming = Arc::new(DynamicSamplingContext::new().with("sample_rate", "0.1"));
        let mut frozen = Arc::clone(&incoming);
        DynamicSamplingContext::apply_local_decision(&mut frozen, Some(0.5), None);
        assert_eq!(frozen.sample_rate(), Some(0.5));
        assert_eq!(incoming.sample_rate(), Some(0.1));
        // Nothing to apply: still the same DSC, not a copy.
        let mut same = Arc::clone(&incoming);
        DynamicSamplingContext::apply_local_decision(&mut same, None, None);
        assert!(Arc::ptr_eq(&same, &incoming));
    }

    #[test]
    fn entries_past_the_inline_table_keep_their_order_and_removals() {
        let mut dsc = DynamicSamplingContext::new();
        let keys: Vec<String> = (0..25).map(|i| format!("k{i}")).collect();
        for (i, key) in keys.iter().enumerate() {
            dsc.set(key, i.to_string());
        }
        dsc.set("k3", "");
        dsc.set("k20", "x");
        assert_eq!(dsc.len(), 24);
        assert_eq!(dsc.get("k3"), None);
        assert_eq!(dsc.get("k20"), Some("x"));
        assert_eq!(dsc.iter().nth(3), Some(("k4", "4")));
        let mut small = DynamicSamplingContext::new()
            .with("a", "1")
            .with("b", "2")
            .with("c", "3");
        small.set("a", "");
        assert_eq!(small.iter().collect::<Vec<_>>(), [("b", "2"), ("c", "3")]);
    }
}
