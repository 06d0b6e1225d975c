//! W3C `baggage` (spec 2.1, 2.3, 2.5).

use std::borrow::Cow;
use std::fmt;

use super::dsc::SENTRY_PREFIX;
use super::percent;
use super::sentry_trace::{split_once_byte, trim_ows};
use super::DynamicSamplingContext;

/// Most members a `baggage` value keeps (the W3C lower bound every platform must propagate).
pub(crate) const MAX_BAGGAGE_MEMBERS: usize = 64;

/// Most bytes a `baggage` value keeps (the W3C lower bound every platform must propagate).
pub(crate) const MAX_BAGGAGE_BYTES: usize = 8192;

/// How many bytes of incoming `baggage` a parse looks at before counting the rest as dropped.
///
/// Eight times [`MAX_BAGGAGE_BYTES`]: generous for padded or partly invalid headers, yet it
/// bounds the work a hostile header can cause.
const SCAN_LIMIT: usize = 64 * 1024;

/// A parsed `baggage` header: the Sentry members as a DSC, the third-party members kept apart.
///
/// Parsing (spec 2.3) never fails:
///
/// 1. All header values form one list. It is split on `,`; each member is trimmed of SP/HTAB and
///    empty members are skipped.
/// 2. A member without `=` is dropped. Otherwise it is split at the **first** `=` and the key is
///    trimmed.
/// 3. If the percent-decoded key starts with `sentry-` (case-sensitive) the member is a DSC
///    entry: its key is the rest (`sentry-foo-bar` gives `foo-bar`), its value is the part before
///    the first `;` (properties are dropped), trimmed and percent-decoded (`+` stays `+`; invalid
///    UTF-8 becomes U+FFFD). It is dropped if an escape is malformed (`100%`, `%zz`), or the key
///    or value is empty. A repeated key keeps the last value.
/// 4. Every other member is third-party baggage, kept trimmed but otherwise verbatim (properties
///    and inner spaces included). It is not forwarded (spec 2.5).
///
/// Limits: at most 64 members and 8,192 bytes (members as
/// they arrived, joined with `,`) are kept, counted separately for Sentry's members and for
/// third-party members, so a long foreign baggage never crowds out the dynamic sampling context;
/// a member that would cross a limit is dropped whole.
/// Only the first 64 KiB of input are looked at; the unscanned remainder counts as one dropped
/// member. Every dropped member is counted in [`dropped_members`](Self::dropped_members).
///
/// # Examples
///
/// ```
/// use tracing_sentry::propagation::Baggage;
///
/// let b = Baggage::parse("other=1;prop, sentry-release=1.0%2Brc, sentry-sample_rand=0.42, junk");
/// assert_eq!(b.sentry().release(), Some("1.0+rc"));
/// assert_eq!(b.sentry().get("sample_rand"), Some("0.42"));
/// assert_eq!(b.third_party(), "other=1;prop");
/// assert_eq!(b.dropped_members(), 1); // `junk` has no `=`
/// ```
///
/// `Debug` shows the keys of the dynamic sampling context and how many third-party members
/// were kept, never values or third-party members: header bytes belong in no log.
#[derive(Clone, Default)]
pub struct Baggage {
    pub(crate) sentry: DynamicSamplingContext,
    /// The third-party members, joined with `,`: where `sentry`'s copy of the header holds
    /// them.
    pub(crate) third_party: ThirdParty,
    pub(crate) third_party_members: usize,
    pub(crate) dropped: usize,
}

impl PartialEq for Baggage {
    fn eq(&self, other: &Self) -> bool {
        self.sentry == other.sentry
            && self.third_party() == other.third_party()
            && self.third_party_members == other.third_party_members
            && self.dropped == other.dropped
    }
}

/// Where the kept third-party members of a parsed `baggage` are, joined with `,`.
///
/// The DSC's buffer starts with a copy of the header value, so members that arrived one after
/// the other (the usual case: all foreign members together, before or after Sentry's) are a
/// range of it, and keeping them allocates nothing. Members scattered between Sentry's ones are
/// joined into a string of their own.
#[derive(Clone, Default, Debug)]
pub(crate) enum ThirdParty {
    /// None kept.
    #[default]
    None,
    /// `start..end` of the DSC's buffer (the buffer is not compacted while this refers to it).
    InDsc(usize, usize),
    /// Joined on their own.
    Owned(String),
}

impl ThirdParty {
    /// The members, `dsc` being the DSC parsed from the same header.
    pub(crate) fn as_str<'a>(&'a self, dsc: &'a DynamicSamplingContext) -> &'a str {
        match self {
            Self::None => "",
            Self::InDsc(start, end) => dsc.raw(*start, *end),
            Self::Owned(joined) => joined,
        }
    }
}

impl Baggage {
    /// Parses one header value. Never fails: invalid members are dropped and counted.
    ///
    /// # Examples
    ///
    /// ```
    /// use tracing_sentry::propagation::Baggage;
    ///
    /// let b = Baggage::parse("sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-release=100%");
    /// assert_eq!(b.sentry().trace_id(), Some("771a43a4192642f0b136d5159a501700"));
    /// assert_eq!(b.sentry().release(), None); // malformed escape: dropped
    /// assert_eq!(b.dropped_members(), 1);
    /// ```
    pub fn parse(value: &str) -> Self {
        Self::parse_values([value])
    }

    /// Parses several header values as one list, as if joined with `,`.
    ///
    /// # Examples
    ///
    /// ```
    /// use tracing_sentry::propagation::Baggage;
    ///
    /// let b = Baggage::parse_values(["a=1", "", "sentry-environment=prod", "b=2"]);
    /// assert_eq!(b.sentry().environment(), Some("prod"));
    /// assert_eq!(b.third_party(), "a=1,b=2");
    /// ```
    pub fn parse_values<'a, I: IntoIterator<Item = &'a str>>(values: I) -> Self {
        let mut parser = Parser::default();
        for value in values {
            if !parser.value(value) {
                break;
            }
        }
        parser.finish()
    }

    /// Parses raw header values (such as `http::HeaderValue` bytes), converting bytes that are
    /// not UTF-8 to U+FFFD first. Never panics. With `skip_third_party`, third-party members
    /// are checked and counted against the limits but not kept (nothing is allocated for them).
    pub(crate) fn parse_byte_values<'a, I: IntoIterator<Item = &'a [u8]>>(
        values: I,
        skip_third_party: bool,
    ) -> Self {
        let mut parser = Parser::new(skip_third_party);
        for value in values {
            // Header bytes are almost always ASCII: validate in one pass, and only fall back
            // to lossy decoding (U+FFFD) when they are not UTF-8.
            let text = match std::str::from_utf8(value) {
                Ok(text) => Cow::Borrowed(text),
                Err(_) => String::from_utf8_lossy(value),
            };
            if !parser.value(&text) {
                break;
            }
        }
        parser.finish()
    }

    /// Returns the `sentry-*` members.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = tracing_sentry::propagation::Baggage::parse("sentry-release=1.0,other=x");
    /// assert_eq!(b.sentry().release(), Some("1.0"));
    /// ```
    pub fn sentry(&self) -> &DynamicSamplingContext {
        &self.sentry
    }

    /// Takes the `sentry-*` members.
    ///
    /// # Examples
    ///
    /// ```
    /// let dsc = tracing_sentry::propagation::Baggage::parse("sentry-environment=prod").into_sentry();
    /// assert_eq!(dsc.environment(), Some("prod"));
    /// ```
    pub fn into_sentry(self) -> DynamicSamplingContext {
        self.sentry
    }

    /// Returns the third-party members, trimmed, verbatim, in order, joined with `,` (a member
    /// never holds a `,`, so `split(',')` gives them back); empty when there are none.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = tracing_sentry::propagation::Baggage::parse(" key2 = value2 ;p, sentry-release=1, k=v");
    /// assert_eq!(b.third_party(), "key2 = value2 ;p,k=v");
    /// assert_eq!(b.third_party().split(',').collect::<Vec<_>>(), ["key2 = value2 ;p", "k=v"]);
    /// ```
    pub fn third_party(&self) -> &str {
        self.third_party.as_str(&self.sentry)
    }

    /// Returns how many members were dropped: without `=`, with a malformed escape or an empty
    /// `sentry-` key or value, over the limits, or beyond the scanned prefix.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = tracing_sentry::propagation::Baggage::parse("novalue,sentry-empty=,ok=1");
    /// assert_eq!(b.dropped_members(), 2);
    /// ```
    pub fn dropped_members(&self) -> usize {
        self.dropped
    }
}

impl fmt::Debug for Baggage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Baggage")
            .field("sentry_keys", &self.sentry.keys_debug())
            .field("third_party_members", &self.third_party_members)
            .field("dropped", &self.dropped)
            .finish()
    }
}

/// Parsing state: the result so far, the byte budgets, and room for decoding.
#[derive(Default)]
struct Parser {
    baggage: Baggage,
    /// Whether third-party members are kept (they are still checked and counted otherwise).
    skip_third_party: bool,
    /// Length of the value being parsed, to size the buffers once.
    hint: usize,
    /// Bytes kept so far, per budget: Sentry's members and third-party members are limited
    /// separately, so a long foreign baggage cannot crowd out the dynamic sampling context.
    sentry_bytes: usize,
    third_party_bytes: usize,
    scanned: usize,
    /// Where the DSC's copy of the value being parsed starts, once it has one.
    base: Option<usize>,
}

/// A member's delimiters, as offsets into the value being parsed.
struct Member {
    start: usize,
    /// The `,` that ends it, or the value's length.
    end: usize,
    /// The first `=`.
    eq: Option<usize>,
    /// The first `;` after the `=` (only looked for in `sentry-` members).
    semi: Option<usize>,
    escaped_key: bool,
    escaped_value: bool,
    /// The key, trimmed and not decoded, starts with `sentry-`.
    sentry: bool,
}

/// Where the text of a new DSC entry is.
#[derive(Clone, Copy)]
enum Text<'a> {
    /// `key=value` as it arrived: offsets into the header value being parsed.
    InView {
        start: usize,
        key_end: usize,
        end: usize,
    },
    /// A key and a value to write out, the value percent-decoded if `escaped`.
    Decoded {
        name: &'a str,
        value: &'a str,
        escaped: bool,
    },
}

impl Parser {
    fn new(skip_third_party: bool) -> Self {
        Self {
            skip_third_party,
            ..Self::default()
        }
    }

    /// Parses one header value; returns `false` once the scan limit is reached.
    fn value(&mut self, value: &str) -> bool {
        let remaining = SCAN_LIMIT.saturating_sub(self.scanned);
        let (view, truncated) = if value.len() > remaining {
            (prefix_at_char_boundary(value, remaining), true)
        } else {
            (value, false)
        };
        self.scanned += view.len() + 1;
        self.hint = view.len();
        self.base = None;
        let bytes = view.as_bytes();
        let mut start = 0;
        loop {
            let member = Member::scan(bytes, start);
            let last = member.end >= bytes.len();
            if truncated && last {
                // The last piece was cut by the scan limit: it and everything after it count as
                // one dropped member.
                self.baggage.dropped += 1;
                return false;
            }
            self.member(view, &member);
            if last {
                return !truncated;
            }
            start = member.end + 1;
        }
    }

    /// Takes one member of `view`, found by [`Member::scan`]. Works on offsets: the
    /// delimiters are ASCII, so every offset used here is a char boundary.
    #[inline(always)]
    fn member(&mut self, view: &str, m: &Member) {
        let bytes = view.as_bytes();
        let (start, end) = trim_range(bytes, m.start, m.end);
        if start == end {
            return;
        }
        let Some(eq) = m.eq else {
            self.baggage.dropped += 1;
            return;
        };
        if !m.sentry && !m.escaped_key {
            return self.third_party(view, start, end);
        }
        let name_start = start + SENTRY_PREFIX.len();
        let (value_start, value_end) = m.value_range(bytes);
        // A key as Sentry's SDKs write it: no escape, no SP/HTAB before the `=`.
        let plain_key =
            !m.escaped_key && !matches!(bytes.get(eq.wrapping_sub(1)), Some(b' ' | b'\t'));
        if !plain_key {
            return self.irregular(view, (start, end), eq, (value_start, value_end), m);
        }
        if m.escaped_value || value_start != eq + 1 {
            // A value with an escape (`sentry-release=app%401.0`) or SP/HTAB after the `=`:
            // written out (decoded) after the copy of the header.
            let name = view.get(name_start..eq).unwrap_or_default();
            let value = view.get(value_start..value_end).unwrap_or_default();
            return self.sentry_value(view, name, end - start, (value, m.escaped_value));
        }
        // A member as Sentry's SDKs write it, `sentry-name=value` with no escape and no SP/HTAB
        // around the `=`, becomes an entry that points into a copy of the header.
        let name = bytes.get(name_start..eq).unwrap_or_default();
        if name.is_empty() || value_start == value_end {
            self.baggage.dropped += 1;
            return;
        }
        let text = Text::InView {
            start: name_start,
            key_end: eq,
            end: value_end,
        };
        self.add_entry(view, name, end - start, text);
    }

    /// A `sentry-` member with SP/HTAB before its `=` or an escape in its key, or any member
    /// whose key holds a `%` (its decoded key decides what it is): decoded, and stored on its
    /// own.
    #[cold]
    #[inline(never)]
    fn irregular(
        &mut self,
        view: &str,
        (start, end): (usize, usize),
        eq: usize,
        (value_start, value_end): (usize, usize),
        m: &Member,
    ) {
        let member = view.get(start..end).unwrap_or_default();
        let (_, key_end) = trim_range(view.as_bytes(), start, eq);
        let key = view.get(start..key_end).unwrap_or_default();
        let value = view.get(value_start..value_end).unwrap_or_default();
        if !m.escaped_key {
            let name = key.get(SENTRY_PREFIX.len()..).unwrap_or_default();
            return self.sentry_value(view, name, member.len(), (value, m.escaped_value));
        }
        let mut decoded = String::new();
        if !percent::decode_onto(key, &mut decoded) {
            // A `sentry-` member whose key does not decode is a broken DSC entry; any other
            // member with a bad escape is third-party and kept verbatim.
            if key.starts_with(SENTRY_PREFIX) {
                self.baggage.dropped += 1;
            } else {
                self.third_party(view, start, end);
            }
            return;
        }
        match decoded.strip_prefix(SENTRY_PREFIX) {
            Some(name) => self.sentry_value(view, name, member.len(), (value, m.escaped_value)),
            None => self.third_party(view, start, end),
        }
    }

    /// Adds DSC entry `name` (prefix removed) of a member `len` bytes long (trimmed), with
    /// `value` (trimmed, not yet decoded; whether it holds a `%`) if it is valid and fits.
    fn sentry_value(&mut self, view: &str, name: &str, len: usize, value: (&str, bool)) {
        let (value, escaped) = value;
        // An escape decodes to one byte: a value is empty exactly when it arrived empty.
        if value.is_empty() || name.is_empty() {
            self.baggage.dropped += 1;
            return;
        }
        let text = Text::Decoded {
            name,
            value,
            escaped,
        };
        self.add_entry(view, name.as_bytes(), len, text);
    }

    /// Adds DSC entry `name` (not empty, prefix removed; its value not empty either) of a
    /// member `len` bytes long (trimmed), if it fits: it points into the DSC's copy of `view`,
    /// or its decoded text goes after that copy, in the room left there.
    #[inline(always)]
    fn add_entry(&mut self, view: &str, name: &[u8], len: usize, text: Text<'_>) {
        let Self {
            baggage,
            sentry_bytes,
            base,
            ..
        } = self;
        let base = *base.get_or_insert_with(|| baggage.sentry.copy_raw(view));
        let dsc = &mut baggage.sentry;
        let (start, key_end, end) = match text {
            Text::InView {
                start,
                key_end,
                end,
            } => (base + start, base + key_end, base + end),
            Text::Decoded {
                name,
                value,
                escaped,
            } => match dsc.append_decoded(name, value, escaped) {
                Some(place) => place,
                None => {
                    baggage.dropped += 1;
                    return;
                }
            },
        };
        let at = dsc.position_bytes(name);
        if fits(
            &mut baggage.dropped,
            dsc.len(),
            sentry_bytes,
            len,
            at.is_none(),
        ) {
            dsc.set_in_place(name, start, key_end, end, at);
        } else if matches!(text, Text::Decoded { .. }) {
            dsc.truncate_buf(start);
        }
    }

    /// The result, its DSC's buffer trimmed if copies of the headers left it mostly unused.
    fn finish(mut self) -> Baggage {
        let Baggage {
            sentry,
            third_party,
            ..
        } = &mut self.baggage;
        sentry.finish_parse(|dsc| {
            // Compaction keeps only the entries: the members move out first.
            if let ThirdParty::InDsc(..) = third_party {
                *third_party = ThirdParty::Owned(third_party.as_str(dsc).to_owned());
            }
        });
        self.baggage
    }

    /// Keeps the third-party member `view[start..end]` (trimmed, verbatim) if it fits.
    fn third_party(&mut self, view: &str, start: usize, end: usize) {
        let len = end - start;
        let Self {
            baggage,
            base,
            third_party_bytes,
            skip_third_party,
            ..
        } = self;
        let kept = baggage.third_party_members;
        if !fits(&mut baggage.dropped, kept, third_party_bytes, len, true) {
            return;
        }
        baggage.third_party_members += 1;
        if *skip_third_party {
            return;
        }
        let base = *base.get_or_insert_with(|| baggage.sentry.copy_raw(view));
        let (start, end) = (base + start, base + end);
        match &mut baggage.third_party {
            ThirdParty::None => baggage.third_party = ThirdParty::InDsc(start, end),
            // Right after the last one, past the `,` that ends it: the range grows.
            ThirdParty::InDsc(_, last)
                if *last + 1 == start && baggage.sentry.raw(*last, start) == "," =>
            {
                *last = end;
            }
            ThirdParty::InDsc(first, last) => {
                let mut joined = String::with_capacity(*last - *first + 1 + len);
                joined.push_str(baggage.sentry.raw(*first, *last));
                joined.push(',');
                joined.push_str(baggage.sentry.raw(start, end));
                baggage.third_party = ThirdParty::Owned(joined);
            }
            ThirdParty::Owned(joined) => {
                joined.push(',');
                joined.push_str(baggage.sentry.raw(start, end));
            }
        }
    }
}

impl Member {
    /// Where the member's value is: up to its first `;` (its properties are dropped), trimmed.
    fn value_range(&self, bytes: &[u8]) -> (usize, usize) {
        match self.eq {
            Some(eq) => trim_range(bytes, eq + 1, self.semi.unwrap_or(self.end)),
            None => (self.end, self.end),
        }
    }

    /// Finds the member of `bytes` that starts at `start`: its end and, in one pass over its
    /// bytes, the delimiters parsing it needs. A third-party member's value is only searched
    /// for its end.
    #[inline]
    fn scan(bytes: &[u8], start: usize) -> Self {
        // A key that starts right away with `sentry-` (no SP/HTAB first, the usual case) needs
        // no search through its prefix, which holds no delimiter.
        let prefixed = bytes
            .get(start..)
            .is_some_and(|rest| rest.starts_with(SENTRY_PREFIX.as_bytes()));
        let mut m = Self {
            start,
            end: bytes.len(),
            eq: None,
            semi: None,
            escaped_key: false,
            escaped_value: false,
            sentry: prefixed,
        };
        let key_from = if prefixed {
            start + SENTRY_PREFIX.len()
        } else {
            start
        };
        // The key: up to the first `=`.
        let mut at = find_any(bytes, key_from, [b',', b'=', b'%']);
        if bytes.get(at) == Some(&b'%') {
            m.escaped_key = true;
            at = find_any(bytes, at + 1, [b',', b'=']);
        }
        if bytes.get(at) != Some(&b'=') {
            m.end = at;
            return m;
        }
        m.eq = Some(at);
        // Only a key that starts with `sentry-` (or holds an escape) can be a DSC entry; any
        // other member is kept verbatim, so its value is only searched for its end.
        if !prefixed {
            let (key, _) = trim_range(bytes, start, at);
            m.sentry = bytes
                .get(key..at)
                .is_some_and(|key| key.starts_with(SENTRY_PREFIX.as_bytes()));
        }
        if !m.escaped_key && !m.sentry {
            m.end = find_any(bytes, at + 1, [b',']);
            return m;
        }
        // The value: up to the first `;` (properties follow) or the end.
        at = find_any(bytes, at + 1, [b',', b';', b'%']);
        if bytes.get(at) == Some(&b'%') {
            m.escaped_value = true;
            at = find_any(bytes, at + 1, [b',', b';']);
        }
        if bytes.get(at) == Some(&b';') {
            m.semi = Some(at);
            at = find_any(bytes, at + 1, [b',']);
        }
        m.end = at;
        m
    }
}

/// `start..end` without the SP/HTAB at either end.
#[inline]
fn trim_range(bytes: &[u8], start: usize, end: usize) -> (usize, usize) {
    // The usual member has no SP/HTAB at either end: two byte checks.
    let is_ows = |b: &u8| matches!(b, b' ' | b'\t');
    match bytes.get(start..end) {
        Some([first, .., last]) if !is_ows(first) && !is_ows(last) => (start, end),
        _ => trim_range_slow(bytes, start, end),
    }
}

/// [`trim_range`] when an end may hold SP/HTAB (or the range is one byte or empty).
#[cold]
fn trim_range_slow(bytes: &[u8], mut start: usize, mut end: usize) -> (usize, usize) {
    while start < end && matches!(bytes.get(start), Some(b' ' | b'\t')) {
        start += 1;
    }
    while end > start && matches!(bytes.get(end - 1), Some(b' ' | b'\t')) {
        end -= 1;
    }
    (start, end)
}

/// The offset of the first byte of `bytes[from..]` that is in `set`, or `bytes.len()`.
///
/// Eight bytes at a time: the exact zero-byte test on the word XOR each delimiter repeated.
/// The test can also flag a byte above a true match, never below one, so the lowest flagged
/// byte is the first match.
#[inline(always)]
fn find_any<const N: usize>(bytes: &[u8], mut from: usize, set: [u8; N]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    while let Some(word) = bytes
        .get(from..from + 8)
        .and_then(|w| <[u8; 8]>::try_from(w).ok())
    {
        let word = u64::from_le_bytes(word);
        let mut found = 0;
        for d in set {
            let v = word ^ (ONES * u64::from(d));
            found |= v.wrapping_sub(ONES) & !v & HIGHS;
        }
        if found != 0 {
            return from + (found.trailing_zeros() / 8) as usize;
        }
        from += 8;
    }
    while let Some(b) = bytes.get(from) {
        if set.contains(b) {
            return from;
        }
        from += 1;
    }
    bytes.len()
}

/// Charges a member `len` bytes long against a budget (`kept` members and `bytes` so far);
/// counts it in `dropped` if it does not fit.
fn fits(
    dropped: &mut usize,
    kept: usize,
    bytes: &mut usize,
    len: usize,
    adds_member: bool,
) -> bool {
    let cost = len + usize::from(*bytes > 0);
    if (adds_member && kept >= MAX_BAGGAGE_MEMBERS) || *bytes + cost > MAX_BAGGAGE_BYTES {
        *dropped += 1;
        return false;
    }
    // A repeated `sentry-` key replaces a value but its bytes still count: a conservative bound
    // that keeps the accounting simple.
    *bytes += cost;
    true
}

/// The longest prefix of `s` of at most `max` bytes that ends on a char boundary.
fn prefix_at_char_boundary(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default()
}

/// Returns the key of a trimmed member: the trimmed text before its first `=`, or all of it.
fn member_key(member: &str) -> &str {
    member.split_once('=').map_or(member, |(k, _)| trim_ows(k))
}

fn members(value: &str) -> impl Iterator<Item = &str> + Clone {
    value.split(',').map(trim_ows).filter(|m| !m.is_empty())
}

/// Merges Sentry members into a request's existing `baggage` (spec 2.5); `None` when empty.
///
/// - Members of `existing` are kept verbatim (trimmed of SP/HTAB; empty members skipped), in
///   order, first.
/// - If `sentry` has at least one `sentry-` member, **all** `sentry-` members of `existing` are
///   removed; otherwise they stay.
/// - Each member of `sentry` is appended unless a member with the same key is already in the
///   result.
/// - The result holds at most 64 members and 8,192 bytes: a
///   member that would cross a limit is left out whole, so new members are the first to go.
///
/// Unlike JavaScript's helper it never re-encodes anything, so W3C properties survive.
///
/// # Examples
///
/// ```
/// use tracing_sentry::propagation::merge_baggage;
///
/// let merged = merge_baggage(
///     Some("key1=value1;property1, sentry-trace_id=old"),
///     "sentry-trace_id=new,sentry-sampled=true",
/// );
/// assert_eq!(
///     merged.as_deref(),
///     Some("key1=value1;property1,sentry-trace_id=new,sentry-sampled=true"),
/// );
/// assert_eq!(merge_baggage(None, ""), None);
/// ```
pub fn merge_baggage(existing: Option<&str>, sentry: &str) -> Option<String> {
    let new = members(sentry);
    let replace_sentry = new.clone().any(|m| m.starts_with(SENTRY_PREFIX));
    let old = members(existing.unwrap_or_default())
        .filter(|m| !(replace_sentry && m.starts_with(SENTRY_PREFIX)));

    let mut out = String::new();
    let mut keys: Vec<&str> = Vec::new();
    for (member, is_new) in old.map(|m| (m, false)).chain(new.map(|m| (m, true))) {
        if keys.len() == MAX_BAGGAGE_MEMBERS {
            break;
        }
        let key = member_key(member);
        if is_new && keys.contains(&key) {
            continue;
        }
        let sep = usize::from(!out.is_empty());
        if out.len() + sep + member.len() > MAX_BAGGAGE_BYTES {
            continue;
        }
        if sep == 1 {
            out.push(',');
        }
        out.push_str(member);
        keys.push(key);
    }
    (!out.is_empty()).then_some(out)
}

/// Whether a (trimmed) member follows the W3C `baggage` grammar, so it may be forwarded:
///
/// ```text
/// list-member = key OWS "=" OWS value *( OWS ";" OWS property )
/// property    = key OWS "=" OWS value / key OWS
/// key         = token                        ; RFC 7230 tchar
/// value       = *baggage-octet               ; %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E
/// ```
///
/// Incoming third-party members are kept verbatim when parsed; this is checked before one is
/// forwarded, so a control character or a non-ASCII byte in one member never invalidates the
/// whole outgoing header.
pub(crate) fn is_w3c_member(member: &str) -> bool {
    let mut parts = member.split(';');
    let Some((key, value)) = parts.next().and_then(|kv| split_once_byte(kv, b'=')) else {
        return false;
    };
    is_token(trim_ows(key))
        && trim_ows(value).bytes().all(is_baggage_octet)
        && parts.all(|property| match split_once_byte(property, b'=') {
            Some((key, value)) => {
                is_token(trim_ows(key)) && trim_ows(value).bytes().all(is_baggage_octet)
            }
            None => is_token(trim_ows(property)),
        })
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'!' | b'#'
                        | b'$'
                        | b'%'
                        | b'&'
                        | b'\''
                        | b'*'
                        | b'+'
                        | b'-'
                        | b'.'
                        | b'^'
                        | b'_'
                        | b'`'
                        | b'|'
                        | b'~'
                )
        })
}

fn is_baggage_octet(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x2B | 0x2D..=0x3A | 0x3C..=0x5B | 0x5D..=0x7E)
}

/// Removes the `sentry-*` members, keeping the others verbatim.
///
/// The value is split on `,`; a member is removed when its SP/HTAB-trimmed form starts with
/// `sentry-`. Every other member, empty ones included, is kept untrimmed and the rest are
/// re-joined with `,` (sentry-python's `Baggage.strip_sentry_baggage`).
///
/// # Examples
///
/// ```
/// use tracing_sentry::propagation::strip_sentry_members;
///
/// assert_eq!(strip_sentry_members("foo=bar,sentry-trace_id=123, baz = qux"), "foo=bar, baz = qux");
/// assert_eq!(strip_sentry_members("  sentry-trace_id = 123  "), "");
/// ```
pub fn strip_sentry_members(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut first = true;
    for member in value
        .split(',')
        .filter(|m| !trim_ows(m).starts_with(SENTRY_PREFIX))
    {
        if !first {
            out.push(',');
        }
        out.push_str(member);
        first = false;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    type Entries<'a> = &'a [(&'a str, &'a str)];

    #[rustfmt::skip]
    const PARSE: &[(&str, Entries<'_>, &[&str], usize, &str)] = &[
        ("",                                   &[],                    &[],                 0, "empty"),
        (" , ,,\t",                            &[],                    &[],                 0, "only empty members"),
        ("foo",                                &[],                    &[],                 1, "no `=`"),
        ("sentry-a=value,sentry-b",            &[("a", "value")],      &[],                 1, "partial parse"),
        ("  sentry-trace_id = 123  ",          &[("trace_id", "123")], &[],                 0, "OWS around `=`"),
        ("sentry-foo-bar=baz",                 &[("foo-bar", "baz")],  &[],                 0, "dashes in the key"),
        ("sentry-dup=a,sentry-dup=b",          &[("dup", "b")],        &[],                 0, "last wins"),
        ("sentry-x=1;prop=2",                  &[("x", "1")],          &[],                 0, "properties dropped"),
        ("sentry-x= 1 ;prop",                  &[("x", "1")],          &[],                 0, "value trimmed before `;`"),
        ("sentry-x=a=b",                       &[("x", "a=b")],        &[],                 0, "split at the first `=`"),
        ("sentry-x=a+b",                       &[("x", "a+b")],        &[],                 0, "`+` stays"),
        ("sentry-x=%E2%82%AC%20%c3%a9",        &[("x", "€ é")],        &[],                 0, "UTF-8, either hex case"),
        ("sentry-x=%FF",                       &[("x", "\u{FFFD}")],   &[],                 0, "invalid UTF-8 → U+FFFD"),
        ("sentry-x=100%",                      &[],                    &[],                 1, "malformed escape"),
        ("sentry-x=%zz",                       &[],                    &[],                 1, "malformed escape"),
        ("sentry-x=",                          &[],                    &[],                 1, "empty value"),
        ("sentry-x=;p",                        &[],                    &[],                 1, "empty value before properties"),
        ("sentry-=x",                          &[],                    &[],                 1, "empty DSC key"),
        ("sentry%2Dx=1",                       &[("x", "1")],          &[],                 0, "key decoded before the prefix test"),
        ("sentry-%zz=1",                       &[],                    &[],                 1, "sentry key with a malformed escape"),
        ("a%zz=1",                             &[],                    &["a%zz=1"],         0, "third-party kept verbatim even if malformed"),
        ("SENTRY-release=1.0",                 &[],                    &["SENTRY-release=1.0"], 0, "prefix is case-sensitive"),
        ("key2 = value2",                      &[],                    &["key2 = value2"],  0, "third-party inner spaces kept"),
        ("k=v;p1;p2=x , sentry-a=1",           &[("a", "1")],          &["k=v;p1;p2=x"],    0, "third-party properties kept"),
        ("ключ=значение,sentry-é=ü",           &[("é", "ü")],          &["ключ=значение"],  0, "non-ASCII raw text never panics"),
    ];

    /// The third-party members, one by one.
    fn third(b: &Baggage) -> Vec<&str> {
        b.third_party()
            .split(',')
            .filter(|m| !m.is_empty())
            .collect()
    }

    #[test]
    fn the_word_search_finds_every_delimiter_at_every_position() {
        for d in [b',', b'=', b';', b'%'] {
            for len in 0..20 {
                for at in 0..len {
                    let mut hay = vec![b'a'; len];
                    hay[at] = d;
                    assert_eq!(find_any(&hay, 0, [d]), at, "{d} at {at} of {len}");
                    assert_eq!(find_any(&hay, 0, [b',', b'=', b';', b'%']), at);
                    assert_eq!(find_any(&hay, at + 1, [d]), len, "none after it");
                }
            }
        }
        // Bytes one above or below a delimiter, or with the high bit set, are no match.
        let near = [
            0x2b, 0x2d, 0x3c, 0x3e, 0x3a, 0x24, 0x26, 0xac, 0xbd, 0, 0xff, 0x7f,
        ];
        assert_eq!(find_any(&near, 0, [b',', b'=', b';', b'%']), near.len());
        // A match right after a byte that borrows in the zero test is still found first.
        assert_eq!(find_any(b"\x01,=;%%%%%", 0, [b',']), 1);
    }

    #[test]
    fn parse_table() {
        for (input, entries, members, dropped, why) in PARSE {
            let b = Baggage::parse(input);
            assert_eq!(b.sentry().iter().collect::<Vec<_>>(), *entries, "{why}");
            assert_eq!(third(&b), *members, "{why}");
            assert_eq!(b.dropped_members(), *dropped, "{why}");
        }
    }

    #[test]
    fn several_values_form_one_list() {
        let b = Baggage::parse_values(["a=1,sentry-x=1", "", "sentry-x=2, b=2"]);
        assert_eq!(b.sentry().get("x"), Some("2"));
        assert_eq!(b.third_party(), "a=1,b=2");
    }

    #[test]
    fn at_most_64_members_are_kept() {
        let input: Vec<String> = (0..100).map(|i| format!("k{i}=v")).collect();
        let b = Baggage::parse(&input.join(","));
        assert_eq!(third(&b).len(), MAX_BAGGAGE_MEMBERS);
        assert_eq!(b.dropped_members(), 100 - MAX_BAGGAGE_MEMBERS);
        assert_eq!(third(&b)[63], "k63=v");
    }

    #[test]
    fn a_repeated_sentry_key_at_the_member_limit_still_replaces() {
        let mut input: Vec<String> = (0..63).map(|i| format!("k{i}=v")).collect();
        input.push("sentry-x=1".into());
        input.push("sentry-x=2".into());
        let b = Baggage::parse(&input.join(","));
        assert_eq!(b.sentry().get("x"), Some("2"));
        assert_eq!(b.dropped_members(), 0);
    }

    #[test]
    fn foreign_members_cannot_crowd_out_the_dsc() {
        let mut input: Vec<String> = (0..100).map(|i| format!("k{i}=v")).collect();
        input.push("sentry-trace_id=771a43a4192642f0b136d5159a501700".into());
        input.push("sentry-sample_rand=0.3".into());
        let b = Baggage::parse(&input.join(","));
        assert_eq!(third(&b).len(), MAX_BAGGAGE_MEMBERS);
        assert_eq!(b.sentry().sample_rand(), Some(0.3));
        assert_eq!(b.sentry().len(), 2);
    }

    #[test]
    fn at_most_8192_bytes_are_kept_dropping_whole_members() {
        let big = format!("big={}", "x".repeat(5000));
        let input = format!("a=1,{big},{big},sentry-release=1,b=2");
        let b = Baggage::parse(&input);
        assert_eq!(third(&b), ["a=1", big.as_str(), "b=2"]);
        assert_eq!(b.sentry().release(), Some("1"));
        assert_eq!(b.dropped_members(), 1);
    }

    #[test]
    fn a_single_oversized_member_is_dropped() {
        let b = Baggage::parse(&format!("sentry-transaction={}", "x".repeat(9000)));
        assert!(b.sentry().is_empty());
        assert_eq!(b.dropped_members(), 1);
    }

    #[test]
    fn hostile_input_is_scanned_only_up_to_the_limit() {
        // 1 MiB of commas and one member past the scan limit: nothing panics, the tail counts once.
        let mut input = ",".repeat(1 << 20);
        input.push_str("sentry-release=late");
        let b = Baggage::parse(&input);
        assert!(b.sentry().is_empty());
        assert_eq!(b.dropped_members(), 1);

        let long_member = format!("sentry-release=1,k={}", "é".repeat(SCAN_LIMIT));
        let b = Baggage::parse_values([long_member.as_str(), "sentry-environment=never"]);
        assert_eq!(b.sentry().release(), Some("1"));
        assert_eq!(b.sentry().environment(), None);
        assert_eq!(b.dropped_members(), 1);
    }

    #[test]
    fn parse_counts_many_small_members_within_the_scan_limit() {
        let input = "x".repeat(10) + &",y".repeat(20_000);
        let b = Baggage::parse(&input);
        assert!(b.third_party().is_empty());
        assert!(b.dropped_members() > 0);
    }

    #[rustfmt::skip]
    const MERGE: &[(Option<&str>, &str, Option<&str>, &str)] = &[
        (None,                               "",                         None,                               "nothing"),
        (Some(" , "),                        " ,",                       None,                               "only empty members"),
        (Some("a=1 ,, b=2"),                 "",                         Some("a=1,b=2"),                    "existing trimmed, empties skipped"),
        (Some("sentry-x=1,a=1"),             "b=2",                      Some("sentry-x=1,a=1,b=2"),         "no new sentry: old kept"),
        (Some("sentry-x=1,a=1"),             "sentry-y=2",               Some("a=1,sentry-y=2"),             "new sentry: all old removed"),
        (Some("a=1"),                        "a=2,b=2",                  Some("a=1,b=2"),                    "existing key wins"),
        (Some("a = 1"),                      "a=2",                      Some("a = 1"),                      "keys compared trimmed"),
        (None,                               "b=1,b=2",                  Some("b=1"),                        "duplicate new keys"),
        (Some("k=v;p1;p2"),                  "sentry-t=1",               Some("k=v;p1;p2,sentry-t=1"),       "properties survive"),
    ];

    #[test]
    fn merge_table() {
        for (existing, sentry, expected, why) in MERGE {
            assert_eq!(
                merge_baggage(*existing, sentry).as_deref(),
                *expected,
                "{why}"
            );
        }
    }

    #[test]
    fn merge_keeps_the_limits_and_drops_new_members_first() {
        let existing: Vec<String> = (0..64).map(|i| format!("k{i}=v")).collect();
        let out = merge_baggage(Some(&existing.join(",")), "sentry-a=1").unwrap();
        assert_eq!(out, existing.join(","));

        let big = "x".repeat(8000);
        let out = merge_baggage(Some(&format!("a={big}")), "sentry-a=1,sentry-b=2");
        assert_eq!(out, Some(format!("a={big},sentry-a=1,sentry-b=2")));
        let out = merge_baggage(
            Some(&format!("a={big}")),
            &format!("sentry-t={}", "y".repeat(200)),
        );
        assert_eq!(out, Some(format!("a={big}")));
    }

    #[rustfmt::skip]
    const STRIP: &[(&str, &str)] = &[
        ("",                                         ""),
        ("foo=bar",                                  "foo=bar"),
        (" foo=bar, baz =  qux ",                    " foo=bar, baz =  qux "),
        ("  sentry-trace_id = 123  ",                ""),
        ("foo=bar,sentry-trace_id=123,baz=qux",      "foo=bar,baz=qux"),
        ("a=1,,b=2",                                 "a=1,,b=2"),
        ("SENTRY-x=1,sentryx=2",                     "SENTRY-x=1,sentryx=2"),
    ];

    #[test]
    fn strip_table() {
        for (input, expected) in STRIP {
            assert_eq!(strip_sentry_members(input), *expected, "{input:?}");
        }
    }

    #[test]
    fn the_w3c_member_grammar() {
        #[rustfmt::skip]
        let table: &[(&str, bool)] = &[
            ("k=v", true), ("key2 = value2 ;p", true), ("k=v;p1=x;p2", true), ("k=", true),
            ("k=%F0%9F%98%80", true), ("k=a=b", true), ("!#$%&'*+-.^_`|~09AZaz=v", true),
            ("k", false), ("=v", false), ("k v=1", false), ("k=v w", false), ("k=\"v\"", false),
            ("k=a\\b", false), ("k=\u{1}", false), ("k=\u{7f}", false), ("k=caf\u{e9}", false),
            ("k=\u{fffd}", false), ("k\u{0}=v", false), ("k=v;", false), ("k=v;=x", false),
            ("k=v;p q", false), ("k=v;p=\u{7}", false), ("(k)=v", false),
        ];
        for (member, valid) in table {
            assert_eq!(is_w3c_member(member), *valid, "{member:?}");
        }
    }

    use proptest::strategy::Strategy as _;

    /// The parsing rules of [`Baggage`]'s documentation, written as plainly as possible (no
    /// limits: the inputs of the test that uses it stay far below them).
    fn reference(values: &[String]) -> (Vec<(String, String)>, Vec<String>, usize) {
        let decode = |s: &str| {
            let mut buf = Vec::new();
            percent::decode_into(s, &mut buf).then(|| String::from_utf8_lossy(&buf).into_owned())
        };
        let (mut entries, mut third, mut dropped) = (Vec::<(String, String)>::new(), vec![], 0);
        for raw in values.iter().flat_map(|v| v.split(',')) {
            let member = trim_ows(raw);
            if member.is_empty() {
                continue;
            }
            let Some((key, value)) = member.split_once('=') else {
                dropped += 1;
                continue;
            };
            let key = trim_ows(key);
            let name = match decode(key) {
                None if key.starts_with(SENTRY_PREFIX) => {
                    dropped += 1;
                    continue;
                }
                None => None,
                Some(decoded) => decoded.strip_prefix(SENTRY_PREFIX).map(str::to_owned),
            };
            let Some(name) = name else {
                third.push(member.to_owned());
                continue;
            };
            let value = trim_ows(value.split(';').next().unwrap_or_default());
            match decode(value) {
                Some(value) if !value.is_empty() && !name.is_empty() => {
                    match entries.iter_mut().find(|(k, _)| *k == name) {
                        Some(entry) => entry.1 = value,
                        None => entries.push((name, value)),
                    }
                }
                _ => dropped += 1,
            }
        }
        (entries, third, dropped)
    }

    #[test]
    fn debug_shows_keys_and_counts_never_values_or_members() {
        let b = Baggage::parse("sentry-release=secret-release,tok=s3cr3t;p,junk");
        let debug = format!("{b:?}");
        for secret in ["secret-release", "tok", "s3cr3t", "junk"] {
            assert!(!debug.contains(secret), "{secret} in {debug}");
        }
        assert!(debug.contains("\"release\": <redacted>"), "{debug}");
        assert!(debug.contains("third_party_members: 1"), "{debug}");
        assert!(debug.contains("dropped: 1"), "{debug}");
    }

    #[test]
    fn a_layer_that_does_not_forward_keeps_no_third_party_member_but_counts_them() {
        let value = format!("a=1,sentry-x=1,{}", "b=2,".repeat(70));
        let kept = Baggage::parse_byte_values([value.as_bytes()], false);
        let skipped = Baggage::parse_byte_values([value.as_bytes()], true);
        assert_eq!(skipped.sentry(), kept.sentry());
        assert!(skipped.third_party().is_empty());
        assert!(
            matches!(skipped.third_party, ThirdParty::None),
            "nothing kept"
        );
        assert_eq!(skipped.third_party_members, kept.third_party_members);
        assert_eq!(skipped.dropped_members(), kept.dropped_members());
        assert_eq!(kept.dropped_members(), 71 - MAX_BAGGAGE_MEMBERS);
    }

    #[test]
    fn third_party_members_join_with_commas_wherever_they_sit() {
        #[rustfmt::skip]
        let cases: &[(&[&str], &str)] = &[
            (&["a=1,b=2;p,sentry-release=1"],          "a=1,b=2;p"),
            (&["sentry-release=1,a=1,b=2"],            "a=1,b=2"),
            (&["a=1,sentry-release=1,b=2"],            "a=1,b=2"),
            (&["a=1 , b=2,,c=3"],                      "a=1,b=2,c=3"),
            (&["a=1 ", "b=2"],                         "a=1,b=2"),
            (&["a=1\t", "sentry-release=1", "b=2"],    "a=1,b=2"),
            (&["a=1,", "b=2"],                         "a=1,b=2"),
            (&["a=1", "", "b=2", "c=3"],               "a=1,b=2,c=3"),
            (&["sentry-release=1", "a=1"],             "a=1"),
        ];
        for (values, want) in cases {
            let b = Baggage::parse_values(values.iter().copied());
            assert_eq!(b.third_party(), *want, "{values:?}");
            assert_eq!(
                b.sentry().get("release").is_some(),
                values.concat().contains("sentry-")
            );
        }
        // A compacted DSC keeps the members apart.
        let header = format!("big={},tail=2,sentry-a=1", "x".repeat(600));
        let b = Baggage::parse(&header);
        assert!(
            b.sentry.buf_len() < 100,
            "compacted: {}",
            b.sentry.buf_len()
        );
        assert_eq!(b.third_party(), format!("big={},tail=2", "x".repeat(600)));
    }

    #[test]
    fn a_mostly_foreign_header_leaves_a_compact_dsc_that_stays_right() {
        let header = format!("sentry-a=1,big={},sentry-b=2,sentry-a=3", "x".repeat(600));
        let mut b = Baggage::parse(&header);
        assert_eq!(
            b.sentry().iter().collect::<Vec<_>>(),
            [("a", "3"), ("b", "2")]
        );
        assert!(
            b.sentry.buf_len() < 100,
            "compacted: {}",
            b.sentry.buf_len()
        );
        b.sentry.set("c", "4");
        b.sentry.set("a", "");
        assert_eq!(
            b.sentry().iter().collect::<Vec<_>>(),
            [("b", "2"), ("c", "4")]
        );
    }

    proptest::proptest! {
        /// The parser gives what the plain reading of the rules gives, for members of every
        /// shape (as Sentry's SDKs write them, with SP/HTAB or escapes, repeated keys, foreign
        /// members and junk), in one header value or several.
        #[test]
        fn parsing_follows_the_rules(
            values in proptest::collection::vec(
                proptest::collection::vec(
                    proptest::prop_oneof![
                        4 => ("[a-c]{1,2}", "[a-z0-9.]{0,4}").prop_map(|(k, v)| format!("sentry-{k}={v}")),
                        1 => ("[a-c]{1,2}", "[a-z0-9.]{0,3}").prop_map(|(k, v)| format!(" sentry-{k} =\t{v} ")),
                        1 => ("[a-c]{1,2}", "[a-z%0-9E]{0,6}").prop_map(|(k, v)| format!("sentry-{k}={v}")),
                        1 => ("[a-c]{1,2}", "(%C3%A9|%E2%82|%AC|%FF|%2C|[a-z]){0,3}").prop_map(|(k, v)| format!("sentry-{k}={v}")),
                        1 => ("[a-c]{1,2}", "[a-z0-9]{0,3}").prop_map(|(k, v)| format!("sentry%2D{k}={v};p=1")),
                        1 => ("[a-c%]{1,3}", "[a-z0-9;]{0,4}").prop_map(|(k, v)| format!("{k}={v}")),
                        1 => "[a-c%= ;\t]{0,6}",
                    ],
                    0..8,
                )
                .prop_map(|members| members.join(",")),
                1..3,
            ),
        ) {
            let parsed = Baggage::parse_values(values.iter().map(String::as_str));
            let (entries, members, dropped) = reference(&values);
            let got: Vec<(String, String)> = parsed
                .sentry()
                .iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            proptest::prop_assert_eq!(got, entries);
            proptest::prop_assert_eq!(third(&parsed), members);
            proptest::prop_assert_eq!(parsed.dropped_members(), dropped);
        }

        /// Whatever the input, an accepted member is one line of visible ASCII (SP/HTAB aside),
        /// so it is a valid header value and cannot break the list it is put in.
        #[test]
        fn an_accepted_member_is_safe_to_forward(member in "\\PC{0,24}|[ -~\t]{0,24}") {
            if is_w3c_member(&member) {
                proptest::prop_assert!(member.bytes().all(|b| b == b'\t' || (0x20..0x7f).contains(&b)));
                proptest::prop_assert!(!member.contains(','));
                proptest::prop_assert!(http::HeaderValue::from_str(&member).is_ok());
            }
        }

        /// The word-at-a-time scan finds what a byte-by-byte scan finds, wherever the
        /// delimiters fall and wherever the member starts.
        #[test]
        fn a_members_delimiters_are_found_as_by_a_byte_scan(
            before in "[a=;%,]{0,9}",
            rest in "[ \t]?(sentry-)?[a-c,=;% \t\u{e9}]{0,40}",
        ) {
            let text = format!("{before},{rest}");
            let start = before.len() + 1;
            let m = Member::scan(text.as_bytes(), start);
            // The same facts from plain searches.
            let bytes = rest.as_bytes();
            let end = bytes.iter().position(|&b| b == b',');
            let member = &bytes[..end.unwrap_or(bytes.len())];
            let eq = member.iter().position(|&b| b == b'=');
            let key = &member[..eq.unwrap_or(member.len())];
            let trimmed = trim_ows(std::str::from_utf8(key).unwrap());
            let candidate = key.contains(&b'%') || trimmed.starts_with(SENTRY_PREFIX);
            let after = eq.map_or(&[][..], |i| &member[i + 1..]);
            let semi = after.iter().position(|&b| b == b';').zip(eq).map(|(j, i)| i + 1 + j);
            let value = &after[..semi.map_or(after.len(), |s| s - eq.unwrap_or(0) - 1)];
            let (semi, escaped_value) = match (candidate, eq) {
                (true, Some(_)) => (semi, value.contains(&b'%')),
                _ => (None, false),
            };
            let at = |i: usize| start + i;
            proptest::prop_assert_eq!(
                (m.start, m.end, m.eq, m.semi, m.escaped_key, m.escaped_value),
                (
                    start,
                    at(end.unwrap_or(bytes.len())),
                    eq.map(at),
                    semi.map(at),
                    key.contains(&b'%'),
                    escaped_value,
                )
            );
        }

        /// Members built from the grammar's own alphabet are accepted.
        #[test]
        fn members_of_the_grammar_are_accepted(
            key in "[!#$%&'*+.^_`|~0-9A-Za-z-]{1,8}",
            value in "[!#-+\\--:<-\\[\\]-~]{0,8}",
            property in proptest::option::of("[a-z]{1,4}(=[a-z0-9]{0,4})?"),
        ) {
            let member = match property {
                Some(p) => format!("{key} = {value} ; {p}"),
                None => format!("{key}={value}"),
            };
            proptest::prop_assert!(is_w3c_member(&member), "{member:?}");
        }
    }
}

/// The examples of the crate-private helpers above, run as unit tests.
#[cfg(test)]
mod examples {
    #[test]
    fn max_baggage_members_example() {
        let members: Vec<String> = (0..100).map(|i| format!("k{i}=v")).collect();
        let b = crate::propagation::Baggage::parse(&members.join(","));
        assert_eq!(
            b.third_party().split(',').count(),
            crate::propagation::MAX_BAGGAGE_MEMBERS
        );
    }

    #[test]
    fn max_baggage_bytes_example() {
        use crate::propagation::MAX_BAGGAGE_BYTES;
        let b =
            crate::propagation::Baggage::parse(&format!("big={}", "x".repeat(MAX_BAGGAGE_BYTES)));
        assert!(b.third_party().is_empty());
        assert_eq!(b.dropped_members(), 1);
    }
}
