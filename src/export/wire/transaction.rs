//! A finished span tree ([`TransactionRecord`]) becomes a Sentry transaction event
//! (spec 7.2/7.3): the root goes into `contexts.trace`, every descendant into the flat `spans[]`.

use tracing_core::Metadata;

use crate::export::record::{SpanLink, SpanRecord, TransactionRecord, DEFAULT_ORIGIN};
use crate::export::wire::json::{
    push_any_key, push_bool, push_f64, push_i64, push_key, push_plain_str, push_str,
    push_str_parts, push_u64, push_utf8, EpochClock, Timestamps,
};
use crate::export::wire::key_facts::{DataKey, JudgeKey, KeyFacts, Verdict, FILTERED};
use crate::export::wire::limits::MAX_SPAN_BYTES;
use crate::export::wire::sdk::SDK_JSON;
use crate::field::{recycle, AsValueRef, ValueRef};
use crate::id::TraceId;
use crate::thread::ThreadTag;

/// Event fields that come from the configuration and the host, not from the span tree.
#[derive(Clone, Debug, Default)]
pub(crate) struct EventMeta {
    pub(crate) release: Option<String>,
    pub(crate) environment: String,
    pub(crate) server_name: Option<String>,
    /// The operating system and the compiler, read once when the layer is built.
    pub(crate) host: Host,
    /// Their JSON and the contexts' besides `trace`, written on first use: they never
    /// change (see [`EventMeta::json`]).
    pub(crate) json: std::sync::OnceLock<Vec<u8>>,
    /// The attributes every log and metric carries, written on first use (see
    /// `log_item::write_common`).
    pub(crate) common_attributes: std::sync::OnceLock<Vec<u8>>,
}

/// What every transaction says of the process's host, as Sentry's Rust SDK puts it on errors
/// (its `contexts` integration): the `os` context (`name`, `version`, `kernel_version`) and the
/// `runtime` context (`rustc` and its version). Streamed spans carry `os.name` and
/// `process.runtime.name`/`version`, as the span protocol and the Python SDK have them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Host {
    pub(crate) os_name: Option<String>,
    pub(crate) os_version: Option<String>,
    pub(crate) os_kernel_version: Option<String>,
    /// The version of the compiler that built this crate (`1.89.0`).
    pub(crate) rustc_version: Option<String>,
}

/// The runtime's name in the `runtime` context and `process.runtime.name`, as Sentry's Rust SDK
/// names it.
pub(crate) const RUNTIME_NAME: &str = "rustc";

impl EventMeta {
    /// `,"platform":"native","sdk":{...},"release":...,"environment":...,"server_name":...,
    /// "contexts":{"os":{...},"runtime":{...},"trace":{"type":"trace",` (release and server
    /// name only if set, no `os` context with no field known): every transaction's fields
    /// that never change and the opening of its `trace` context, written once and copied in
    /// one piece.
    fn json(&self) -> &[u8] {
        self.json.get_or_init(|| {
            let mut out = Vec::with_capacity(320);
            out.extend_from_slice(br#","platform":"native","sdk":"#);
            out.extend_from_slice(SDK_JSON);
            if let Some(release) = &self.release {
                out.extend_from_slice(br#","release":"#);
                push_str(&mut out, release);
            }
            out.extend_from_slice(br#","environment":"#);
            push_str(&mut out, &self.environment);
            if let Some(server_name) = &self.server_name {
                out.extend_from_slice(br#","server_name":"#);
                push_str(&mut out, server_name);
            }
            out.extend_from_slice(br#","contexts":{"#);
            self.push_contexts(&mut out);
            out.extend_from_slice(br#""trace":{"type":"trace","#);
            out
        })
    }

    /// `"os":{...},"runtime":{...},`: the contexts besides `trace` (nothing for an `os`
    /// context with no field known).
    fn push_contexts(&self, out: &mut Vec<u8>) {
        let host = &self.host;
        let os = [
            ("name", &host.os_name),
            ("version", &host.os_version),
            ("kernel_version", &host.os_kernel_version),
        ];
        if os.iter().any(|(_, value)| value.is_some()) {
            out.extend_from_slice(br#""os":{"type":"os""#);
            for (key, value) in os {
                if let Some(value) = value {
                    out.push(b',');
                    push_key(out, key);
                    push_str(out, value);
                }
            }
            out.extend_from_slice(b"},");
        }
        out.extend_from_slice(br#""runtime":{"type":"runtime","name":"#);
        push_str(out, RUNTIME_NAME);
        if let Some(version) = &host.rustc_version {
            out.extend_from_slice(br#","version":"#);
            push_str(out, version);
        }
        out.extend_from_slice(b"},");
    }
}

/// The JSON a callsite contributes to each of its spans, written once per callsite and
/// sender, in one buffer: `,"op":"{target}::{name}"`, `,"description":"{name}"`,
/// `,"origin":"auto.tracing"` (so a span with the callsite's op and description and the
/// default origin writes the three in one copy) and the `code.*` data; and the end of the
/// data map for the thread its last span started on (see [`CallsiteJson::tail`]).
struct CallsiteJson {
    metadata: &'static Metadata<'static>,
    json: Vec<u8>,
    /// Where the description starts (the op is before it).
    description_at: usize,
    /// Where the origin starts (the description is before it).
    origin_at: usize,
    /// Where the code data starts (the origin is before it): `"code.module.name":...,
    /// "code.file.path":...,"code.line.number":N`, possibly empty.
    code_at: usize,
    code_entries: usize,
    /// The thread `tail` was written for.
    tail_thread: Option<ThreadTag>,
    /// The code data, the thread data of `tail_thread` and the closing brace of the map.
    tail: Vec<u8>,
    /// The callsite's field names, by index (an encoded span's keys).
    names: Box<[&'static str]>,
    /// The callsite's keys written out, by index, and the privacy verdict on each.
    key_json: Box<[KeyJson]>,
    /// Whether a field name begins with `code.` or `thread.`: such a field overrides the
    /// data of `tail`, and the span's data is then written from a list.
    names_override_tail: bool,
}

impl CallsiteJson {
    fn new(metadata: &'static Metadata<'static>) -> Self {
        let mut json = Vec::with_capacity(256);
        json.extend_from_slice(br#","op":"#);
        push_str_parts(&mut json, &[metadata.target(), "::", metadata.name()]);
        let description_at = json.len();
        json.extend_from_slice(br#","description":"#);
        push_str(&mut json, metadata.name());
        let origin_at = json.len();
        json.extend_from_slice(br#","origin":"#);
        push_str(&mut json, DEFAULT_ORIGIN);
        let code_at = json.len();
        let mut code_entries = 0;
        let mut entry = |json: &mut Vec<u8>, key: &str| {
            if code_entries > 0 {
                json.push(b',');
            }
            code_entries += 1;
            push_key(json, key);
        };
        if let Some(module) = metadata.module_path() {
            entry(&mut json, "code.module.name");
            push_str(&mut json, module);
        }
        if let Some(file) = metadata.file() {
            entry(&mut json, "code.file.path");
            push_str(&mut json, crate::code_path::relative(file));
        }
        if let Some(line) = metadata.line() {
            entry(&mut json, "code.line.number");
            push_u64(&mut json, u64::from(line));
        }
        Self {
            metadata,
            json,
            description_at,
            origin_at,
            code_at,
            code_entries,
            tail_thread: None,
            tail: Vec::new(),
            names: metadata.fields().iter().map(|f| f.name()).collect(),
            key_json: metadata
                .fields()
                .iter()
                .map(|f| KeyJson::new(f.name()))
                .collect(),
            names_override_tail: metadata
                .fields()
                .iter()
                .any(|f| f.name().starts_with("code.") || f.name().starts_with("thread.")),
        }
    }

    /// Writes `tail` for `thread`, unless it is written for it:
    /// `"code.module.name":...,"thread.id":"N","thread.name":"…"}`, the entries a span of
    /// this callsite started on `thread` ends its data with (none of them set by a field),
    /// and the closing brace. Written again when the thread differs from the last span's:
    /// the spans of a callsite mostly start on few threads, often one.
    fn write_tail(&mut self, thread: ThreadTag) {
        if self.tail_thread != Some(thread) {
            let code = self.json.get(self.code_at..).unwrap_or_default();
            self.tail.clear();
            self.tail.extend_from_slice(code);
            ThreadData::of(thread).push_entries(&mut self.tail, code.is_empty(), |_| false);
            self.tail.push(b'}');
            self.tail_thread = Some(thread);
        }
    }

    fn op(&self) -> &[u8] {
        self.json.get(..self.description_at).unwrap_or_default()
    }

    fn description(&self) -> &[u8] {
        self.json
            .get(self.description_at..self.origin_at)
            .unwrap_or_default()
    }

    /// The op, the description and the default origin.
    fn head(&self) -> &[u8] {
        self.json.get(..self.code_at).unwrap_or_default()
    }

    fn code(&self) -> &[u8] {
        self.json.get(self.code_at..).unwrap_or_default()
    }
}

/// The longest `"key":` a [`KeyJson`] holds.
const KEY_JSON: usize = 38;

/// One field name of a callsite written as `"key":` (escaped), and what the sender's privacy
/// rules do to it, judged the first time (the rules a sender applies never change).
struct KeyJson {
    /// The length of `json` (0: too long to keep, written each time).
    len: u8,
    json: [u8; KEY_JSON],
    /// `None` until judged.
    verdict: std::cell::Cell<Option<Verdict>>,
}

impl KeyJson {
    fn new(name: &'static str) -> Self {
        let mut written = Vec::with_capacity(KEY_JSON);
        push_any_key(&mut written, name);
        let mut json = [0; KEY_JSON];
        let len = match json.get_mut(..written.len()) {
            Some(dst) => {
                dst.copy_from_slice(&written);
                written.len() as u8
            }
            None => 0,
        };
        Self {
            len,
            json,
            verdict: std::cell::Cell::new(None),
        }
    }

    /// The verdict on `name` (this entry's key) under `scrub`.
    #[inline]
    fn verdict(&self, name: &str, scrub: Option<&dyn JudgeKey>) -> Verdict {
        let Some(privacy) = scrub else {
            return Verdict::Keep;
        };
        match self.verdict.get() {
            Some(verdict) => verdict,
            None => {
                let verdict = privacy.judge(name);
                self.verdict.set(Some(verdict));
                verdict
            }
        }
    }

    /// Writes `"key":`, after a comma unless `first`.
    #[inline]
    fn push(&self, out: &mut Vec<u8>, name: &str, first: bool) {
        if !first {
            out.push(b',');
        }
        if self.len == 0 {
            push_any_key(out, name);
            return;
        }
        // A fixed-size copy (no call) and a shorter length: cheaper than copying `len` bytes.
        let end = out.len() + usize::from(self.len);
        out.extend_from_slice(&self.json);
        out.truncate(end);
    }
}

/// Callsite JSON by callsite, direct-mapped on the metadata's address: a service has a few
/// hundred callsites, and a collision only costs writing the fragments again.
#[derive(Default)]
pub(crate) struct CallsiteCache {
    slots: Vec<Option<CallsiteJson>>,
}

/// Slots of a [`CallsiteCache`].
const CALLSITE_SLOTS: usize = 512;

impl CallsiteCache {
    fn get(&mut self, metadata: &'static Metadata<'static>) -> Option<&mut CallsiteJson> {
        if self.slots.is_empty() {
            self.slots.resize_with(CALLSITE_SLOTS, || None);
        }
        let address = metadata as *const Metadata<'static> as usize;
        let slot = self.slots.get_mut((address >> 4) % CALLSITE_SLOTS)?;
        let hit = slot
            .as_ref()
            .is_some_and(|c| std::ptr::eq(c.metadata, metadata));
        if !hit {
            *slot = Some(CallsiteJson::new(metadata));
        }
        slot.as_mut()
    }
}

impl std::fmt::Debug for CallsiteCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let used = self.slots.iter().filter(|s| s.is_some()).count();
        f.debug_struct("CallsiteCache")
            .field("used", &used)
            .finish()
    }
}

/// What a sender remembers from one span to the next: callsite JSON, facts about static keys
/// and strings, and the last second it wrote a timestamp in.
#[derive(Debug, Default)]
pub(crate) struct SpanCaches {
    callsites: CallsiteCache,
    /// Also what the privacy pass judged of each key.
    pub(crate) keys: KeyFacts,
    timestamps: Timestamps,
    /// The list an encoded span's data is decoded into for writing, kept empty between
    /// spans (no allocation per span).
    data: Vec<(&'static str, ValueRef<'static>)>,
}

/// Writes `s` as a JSON string, without scanning it when it is static text known to be plain.
fn push_text(out: &mut Vec<u8>, s: &impl DataKey, keys: &mut KeyFacts) {
    if keys.is_plain(s) {
        push_plain_str(out, s.text());
    } else {
        push_str(out, s.text());
    }
}

/// Writes the transaction event payload (one JSON object, no trailing newline) into `out`.
pub(crate) fn write_transaction(
    out: &mut Vec<u8>,
    tx: &TransactionRecord,
    event_id: &[u8; 32],
    meta: &EventMeta,
    caches: &mut SpanCaches,
    scrub: Option<&dyn JudgeKey>,
) {
    let ids = ids_prefix(tx.trace_id);
    let clock = EpochClock::new(&tx.clock);

    out.extend_from_slice(br#"{"type":"transaction","event_id":""#);
    out.extend_from_slice(event_id);
    out.extend_from_slice(br#"","transaction":"#);
    push_str(out, &tx.name);
    out.extend_from_slice(br#","transaction_info":{"source":"#);
    push_plain_str(out, tx.source.as_str());
    out.push(b'}');
    caches
        .timestamps
        .push_span_times(out, &clock, tx.root.start, tx.root.end);
    // The constant fields, the contexts besides `trace` and the opening of `trace`.
    out.extend_from_slice(meta.json());
    let root_trimmed = push_span_fields(out, &ids, &tx.root, caches, scrub);
    out.push(b'}');
    out.push(b'}');
    let mut spans_trimmed: Vec<(usize, usize)> = Vec::new();

    out.extend_from_slice(br#","spans":["#);
    for (i, span) in tx.spans.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'{');
        if let Some(entries) = push_span_fields(out, &ids, span, caches, scrub) {
            spans_trimmed.push((i, entries));
        }
        caches
            .timestamps
            .push_span_times(out, &clock, span.start, span.end);
        out.push(b'}');
    }
    out.push(b']');
    let dropped_spans =
        (tx.dropped_spans > 0).then(|| tx.spans.len() as u64 + u64::from(tx.dropped_spans));
    push_meta(out, dropped_spans, root_trimmed, &spans_trimmed);
    out.push(b'}');
}

/// Writes `,"_meta":{...}` saying what was cut, as Sentry's SDKs and Relay annotate it: the
/// number of spans there were (`_meta.spans[""].len`, as the Python SDK does for `max_spans`)
/// and, for each span whose data was trimmed to the budget, how many entries it had
/// (`{"":{"rem":[["!limit","x"]],"len":N}}` at the data's path). Nothing when nothing was cut.
fn push_meta(
    out: &mut Vec<u8>,
    dropped_spans: Option<u64>,
    root_trimmed: Option<usize>,
    spans_trimmed: &[(usize, usize)],
) {
    if dropped_spans.is_none() && root_trimmed.is_none() && spans_trimmed.is_empty() {
        return;
    }
    let trimmed_data = |out: &mut Vec<u8>, entries: usize| {
        out.extend_from_slice(br#"{"data":{"":{"rem":[["!limit","x"]],"len":"#);
        push_u64(out, entries as u64);
        out.extend_from_slice(b"}}}");
    };
    out.extend_from_slice(br#","_meta":{"#);
    let mut first = true;
    if let Some(entries) = root_trimmed {
        out.extend_from_slice(br#""contexts":{"trace":"#);
        trimmed_data(out, entries);
        out.push(b'}');
        first = false;
    }
    if dropped_spans.is_some() || !spans_trimmed.is_empty() {
        if !first {
            out.push(b',');
        }
        out.extend_from_slice(br#""spans":{"#);
        let mut first_span = true;
        if let Some(total) = dropped_spans {
            out.extend_from_slice(br#""":{"len":"#);
            push_u64(out, total);
            out.push(b'}');
            first_span = false;
        }
        for &(index, entries) in spans_trimmed {
            if !first_span {
                out.push(b',');
            }
            first_span = false;
            out.push(b'"');
            push_u64(out, index as u64);
            out.extend_from_slice(b"\":");
            trimmed_data(out, entries);
        }
        out.push(b'}');
    }
    out.push(b'}');
}

/// Kept free of the budget for the span's other fields besides its description.
const SPAN_FIELDS_RESERVE: usize = 512;
/// The data of a span always gets at least this much, however long its description.
const MIN_DATA_BUDGET: usize = 1024;

/// Whether the key of entry `i` is set again later in `data`: a field recorded twice keeps
/// its last value, in transactions and streamed spans alike.
pub(crate) fn repeated_later<K: DataKey, V>(data: &[(K, V)], i: usize) -> bool {
    let Some((key, _)) = data.get(i) else {
        return false;
    };
    let key = key.text();
    data.get(i + 1..)
        .unwrap_or_default()
        .iter()
        .any(|(later, _)| later.text() == key)
}

/// `"trace_id":"…","span_id":"`: how every span of a trace begins, written once per envelope.
pub(super) type IdsPrefix = [u8; 57];

/// The [`IdsPrefix`] of a trace.
pub(super) fn ids_prefix(trace_id: TraceId) -> IdsPrefix {
    let mut prefix = *br#""trace_id":"00000000000000000000000000000000","span_id":""#;
    if let Some(hex) = prefix.get_mut(12..44) {
        hex.copy_from_slice(&trace_id.to_hex());
    }
    prefix
}

/// Writes `"trace_id":"…","span_id":"…"` and, below a root, `,"parent_span_id":"…"`: the
/// fields a transaction's span and a streamed span share. Ids are hex this crate wrote:
/// fixed-size copies, nothing to escape.
pub(super) fn push_ids(out: &mut Vec<u8>, prefix: &IdsPrefix, span: &SpanRecord) {
    // Assembled on the stack and written in one fixed-size copy (a copy of a length known
    // here is a few vector moves; of a variable one, a call).
    const PARENT: &[u8; 20] = br#"","parent_span_id":""#;
    let mut ids = [b'"'; 57 + 16 + 20 + 16 + 1];
    let Some((head, rest)) = ids.split_first_chunk_mut::<57>() else {
        return;
    };
    *head = *prefix;
    let Some((id, rest)) = rest.split_first_chunk_mut::<16>() else {
        return;
    };
    *id = span.span_id.to_hex();
    match span.parent_span_id {
        Some(parent) => {
            if let Some((key, rest)) = rest.split_first_chunk_mut::<20>() {
                *key = *PARENT;
                if let Some(hex) = rest.first_chunk_mut::<16>() {
                    *hex = parent.to_hex();
                }
            }
            out.extend_from_slice(&ids);
        }
        None => {
            if let Some(root) = ids.first_chunk::<{ 57 + 16 + 1 }>() {
                out.extend_from_slice(root);
            }
        }
    }
}

/// The fields a span and the trace context share, without braces or timestamps. The data is
/// cut to what fits in [`MAX_SPAN_BYTES`] with the rest; returns the number of data entries
/// there were if some were cut.
fn push_span_fields(
    out: &mut Vec<u8>,
    ids: &IdsPrefix,
    span: &SpanRecord,
    caches: &mut SpanCaches,
    scrub: Option<&dyn JudgeKey>,
) -> Option<usize> {
    let keys = &mut caches.keys;
    let callsite = span.metadata.and_then(|m| caches.callsites.get(m));
    push_ids(out, ids, span);
    let described = match callsite.as_deref() {
        // The callsite's op and description and the default origin, in one piece.
        Some(callsite)
            if span.op().is_empty()
                && span.description().is_none()
                && span.status.is_none()
                && span.origin() == DEFAULT_ORIGIN =>
        {
            out.extend_from_slice(callsite.head());
            callsite.description().len()
        }
        callsite => push_op_to_origin(out, span, callsite, keys),
    };
    let mut trimmed = None;
    if !span.data.is_empty() || span.metadata.is_some() || span.thread != ThreadTag::default() {
        let thread = ThreadData::of(span.thread);
        out.extend_from_slice(br#","data":"#);
        let budget = MAX_SPAN_BYTES
            .saturating_sub(SPAN_FIELDS_RESERVE + described)
            .max(MIN_DATA_BUDGET);
        // The callsite's code data in one piece, unless a field overrides one of its keys
        // (`push_data` checks).
        let (code, names, direct) = match (span.metadata, callsite) {
            (Some(metadata), Some(callsite)) => {
                callsite.write_tail(span.thread);
                let callsite: &CallsiteJson = callsite;
                let code = Code::Written(
                    callsite.code(),
                    callsite.code_entries,
                    metadata,
                    &callsite.tail,
                );
                let direct = !callsite.names_override_tail;
                (code, Some((&*callsite.names, &*callsite.key_json)), direct)
            }
            (Some(metadata), None) => (Code::Metadata(metadata), None, false),
            (None, _) => (Code::None, None, false),
        };
        let written = match (direct, names, code, span.data.encoded_entries()) {
            (true, Some(names), Code::Written(_, _, _, tail), Some(entries)) => {
                push_encoded_data(out, entries, names, tail, budget, scrub)
            }
            _ => false,
        };
        trimmed = match span.data.owned() {
            _ if written => None,
            Some(data) => push_data(out, data, code, thread, budget, keys, scrub),
            None => {
                // Decoded into a list kept between spans (its allocation reused).
                let mut data = recycle(std::mem::take(&mut caches.data));
                match names.map(|(names, _)| names) {
                    Some(names) => span.data.decode_named(names, &mut data),
                    None => span.data.decode_into(span.metadata, &mut data),
                }
                let trimmed = push_data(out, &data, code, thread, budget, keys, scrub);
                caches.data = recycle(data);
                trimmed
            }
        };
    }
    if !span.links().is_empty() {
        out.push(b',');
        push_key(out, "links");
        push_links(out, span.links());
    }
    trimmed
}

/// [`push_data`] for encoded entries of a callsite whose field names override none of the
/// code and thread data of `tail`, written as they are read (no list): the same JSON, when
/// no key repeats and everything fits in `budget`. Returns whether it wrote; otherwise `out`
/// is left as it was and the entries are written from a list (a repeated key keeps its last
/// value, an entry that does not fit is cut).
#[inline]
fn push_encoded_data<'a>(
    out: &mut Vec<u8>,
    entries: impl Iterator<Item = (u8, ValueRef<'a>)>,
    (names, key_json): (&[&'static str], &[KeyJson]),
    tail: &[u8],
    budget: usize,
    scrub: Option<&dyn JudgeKey>,
) -> bool {
    let start = out.len();
    out.push(b'{');
    let mut first = true;
    // The keys seen, by index; a repeated key (or an index beyond the mask) goes to the list.
    let mut seen = 0u128;
    for (index, value) in entries {
        let bit = 1u128.checked_shl(u32::from(index)).unwrap_or(0);
        let name = names.get(usize::from(index)).copied();
        let key = key_json.get(usize::from(index));
        let (Some(name), Some(key), true) = (name, key, bit != 0 && seen & bit == 0) else {
            out.truncate(start);
            return false;
        };
        seen |= bit;
        let verdict = key.verdict(name, scrub);
        if verdict == Verdict::Remove {
            continue;
        }
        key.push(out, name, first);
        first = false;
        push_value(out, value, verdict);
    }
    if !first && tail.len() > 1 {
        out.push(b',');
    }
    out.extend_from_slice(tail);
    if out.len() - start <= budget {
        return true;
    }
    out.truncate(start);
    false
}

/// Writes `op`, `description`, `status` and `origin` one by one; returns the length of the
/// description written.
fn push_op_to_origin(
    out: &mut Vec<u8>,
    span: &SpanRecord,
    callsite: Option<&CallsiteJson>,
    keys: &mut KeyFacts,
) -> usize {
    if !span.op().is_empty() {
        out.extend_from_slice(br#","op":"#);
        push_text(out, span.op(), keys);
    } else if let Some(callsite) = callsite {
        // `{target}::{name}` of the callsite, as sentry-tracing does.
        out.extend_from_slice(callsite.op());
    }
    // Without an explicit description the span's name is used, written here on the sender so
    // the instrumented thread copies no string.
    let described = match (span.description(), callsite) {
        (Some(description), _) => {
            out.extend_from_slice(br#","description":"#);
            push_str(out, description);
            description.len()
        }
        (None, Some(callsite)) => {
            out.extend_from_slice(callsite.description());
            callsite.description().len()
        }
        (None, None) => 0,
    };
    if let Some(status) = span.status {
        out.extend_from_slice(br#","status":"#);
        push_plain_str(out, status.as_str());
    }
    out.extend_from_slice(br#","origin":"#);
    push_text(out, span.origin(), keys);
    described
}

/// Where the `code.*` data of a span comes from.
#[derive(Clone, Copy)]
enum Code<'a> {
    None,
    /// Written by [`CallsiteJson`]: the JSON and its number of entries, unless a field
    /// overrides one of its keys (then as [`Code::Metadata`]); and the callsite's tail for
    /// the span's thread (the same JSON, the thread data and the closing brace).
    Written(&'a [u8], usize, &'static Metadata<'static>, &'a [u8]),
    /// Written entry by entry (a field overrides one of the keys).
    Metadata(&'static Metadata<'static>),
}

/// Writes the data map: the span's fields, then the callsite's `code.module.name`,
/// `code.file.path` and `code.line.number` (sentry-tracing's keys) unless a field has the same
/// name. When a field name repeats, the last value wins (JSON objects should not repeat keys,
/// and readers disagree on which duplicate they keep).
///
/// At most `budget` bytes are written: entries are written in order until one would not fit;
/// it and every later one are left out. Returns the number of entries there were if some
/// were left out.
fn push_data<K: DataKey, V: AsValueRef>(
    out: &mut Vec<u8>,
    data: &[(K, V)],
    code: Code<'_>,
    thread: ThreadData,
    budget: usize,
    keys: &mut KeyFacts,
    scrub: Option<&dyn JudgeKey>,
) -> Option<usize> {
    // Nearly always everything fits: write it all, then check. Entries are written in order
    // and the object only grows, so when the whole object fits, the budgeted writer would
    // have written exactly this.
    let (tail, metadata) = match code {
        Code::None => (None, None),
        Code::Written(_, _, metadata, tail) => (Some(tail), Some(metadata)),
        Code::Metadata(_) => {
            return push_data_budgeted(out, data, code, thread, budget, keys, scrub)
        }
    };
    let start = out.len();
    out.push(b'{');
    let mut first = true;
    let mut overrides_code = false;
    let mut overrides_thread = false;
    for (i, (key, value)) in data.iter().enumerate() {
        if repeated_later(data, i) {
            continue;
        }
        let mark = out.len();
        if !first {
            out.push(b',');
        }
        let judge = scrub.map(|privacy| |k: &str| privacy.judge(k));
        let verdict = keys.push_key_unless_removed(out, key, judge);
        if verdict == Verdict::Remove {
            out.truncate(mark);
            continue;
        }
        first = false;
        overrides_code |= key.text().starts_with("code.");
        overrides_thread |= key.text().starts_with("thread.");
        push_value(out, value.value_ref(), verdict);
    }
    if overrides_code || overrides_thread {
        out.truncate(start);
        let code = match (overrides_code, metadata) {
            (true, Some(metadata)) => Code::Metadata(metadata),
            _ => code,
        };
        return push_data_budgeted(out, data, code, thread, budget, keys, scrub);
    }
    match tail {
        // The code and thread data and the closing brace in one piece.
        Some(tail) => {
            if !first && tail.len() > 1 {
                out.push(b',');
            }
            out.extend_from_slice(tail);
        }
        None => {
            thread.push_entries(out, first, |_| false);
            out.push(b'}');
        }
    }
    if out.len() - start <= budget {
        return None;
    }
    out.truncate(start);
    push_data_budgeted(out, data, code, thread, budget, keys, scrub)
}

/// The `thread.id` and `thread.name` data of a span (the thread it started on).
#[derive(Clone, Copy)]
pub(super) struct ThreadData {
    id: Option<u32>,
    name: Option<&'static str>,
}

impl ThreadData {
    pub(super) fn of(tag: ThreadTag) -> Self {
        Self {
            id: tag.id(),
            name: tag.name(),
        }
    }

    /// Writes `"thread.id":"N","thread.name":"…"` (each if known and not `taken`), after a
    /// comma unless `first`. The id is a string, as the span protocol's common attributes and
    /// the Python SDK have it.
    fn push_entries(self, out: &mut Vec<u8>, mut first: bool, taken: impl Fn(&str) -> bool) {
        if let Some(id) = self.id.filter(|_| !taken("thread.id")) {
            if !first {
                out.push(b',');
            }
            first = false;
            out.extend_from_slice(br#""thread.id":""#);
            push_u64(out, u64::from(id));
            out.push(b'"');
        }
        if let Some(name) = self.name.filter(|_| !taken("thread.name")) {
            if !first {
                out.push(b',');
            }
            push_key(out, "thread.name");
            push_str(out, name);
        }
    }

    /// The id as text (for the streamed span's string attribute).
    pub(super) fn id(self) -> Option<u32> {
        self.id
    }

    pub(super) fn name(self) -> Option<&'static str> {
        self.name
    }
}

/// What the privacy rules do to a data entry, when the writer applies them (`scrub`).
fn verdict(key: &impl DataKey, keys: &mut KeyFacts, scrub: Option<&dyn JudgeKey>) -> Verdict {
    match scrub {
        Some(privacy) => keys.verdict(key, |k| privacy.judge(k)),
        None => Verdict::Keep,
    }
}

/// Writes one data entry, `"key":value` (`"key":"[Filtered]"` for a denied one).
fn push_entry(
    out: &mut Vec<u8>,
    key: &impl DataKey,
    value: ValueRef<'_>,
    verdict: Verdict,
    keys: &mut KeyFacts,
) {
    keys.push_key(out, key);
    push_value(out, value, verdict);
}

/// Writes a data value (`"[Filtered]"` for a denied one).
fn push_value(out: &mut Vec<u8>, value: ValueRef<'_>, verdict: Verdict) {
    if verdict == Verdict::Filter {
        push_plain_str(out, FILTERED);
        return;
    }
    match value {
        ValueRef::Bool(b) => push_bool(out, b),
        ValueRef::I64(n) => push_i64(out, n),
        ValueRef::U64(n) => push_u64(out, n),
        ValueRef::F64(f) => push_f64(out, f),
        ValueRef::Str(s) => push_utf8(out, s),
    }
}

/// [`push_data`] entry by entry, each only if it still fits in `budget`.
fn push_data_budgeted<K: DataKey, V: AsValueRef>(
    out: &mut Vec<u8>,
    data: &[(K, V)],
    code: Code<'_>,
    thread: ThreadData,
    budget: usize,
    keys: &mut KeyFacts,
    scrub: Option<&dyn JudgeKey>,
) -> Option<usize> {
    let mut map = BudgetedMap::open(out, budget);
    for (i, (key, value)) in data.iter().enumerate() {
        let verdict = verdict(key, keys, scrub);
        if verdict == Verdict::Remove || repeated_later(data, i) {
            continue;
        }
        map.entries(out, 1, |out| {
            push_entry(out, key, value.value_ref(), verdict, keys);
        });
    }
    match code {
        Code::None => {}
        Code::Written(json, entries, _, _) => {
            if !json.is_empty() {
                map.entries(out, entries, |out| out.extend_from_slice(json));
            }
        }
        Code::Metadata(metadata) => {
            let has = |key: &str| data.iter().any(|(k, _)| k.text() == key);
            if let Some(module) = metadata.module_path().filter(|_| !has("code.module.name")) {
                map.entries(out, 1, |out| {
                    push_key(out, "code.module.name");
                    push_str(out, module);
                });
            }
            if let Some(file) = metadata.file().filter(|_| !has("code.file.path")) {
                map.entries(out, 1, |out| {
                    push_key(out, "code.file.path");
                    push_str(out, crate::code_path::relative(file));
                });
            }
            if let Some(line) = metadata.line().filter(|_| !has("code.line.number")) {
                map.entries(out, 1, |out| {
                    push_key(out, "code.line.number");
                    push_u64(out, u64::from(line));
                });
            }
        }
    }
    let has = |key: &str| data.iter().any(|(k, _)| k.text() == key);
    let entries = usize::from(thread.id.is_some() && !has("thread.id"))
        + usize::from(thread.name.is_some() && !has("thread.name"));
    if entries > 0 {
        map.entries(out, entries, |out| {
            thread.push_entries(out, true, has);
        });
    }
    map.close(out)
}

/// A JSON object written under a byte budget: entries go in order until one does not fit;
/// it and every later one are left out, and counted.
struct BudgetedMap {
    start: usize,
    budget: usize,
    written: usize,
    total: usize,
    full: bool,
}

impl BudgetedMap {
    fn open(out: &mut Vec<u8>, budget: usize) -> Self {
        let start = out.len();
        out.push(b'{');
        Self {
            start,
            budget,
            written: 0,
            total: 0,
            full: false,
        }
    }

    /// Writes `count` entries with `write` (keys and values, without separators) if they fit.
    fn entries(&mut self, out: &mut Vec<u8>, count: usize, write: impl FnOnce(&mut Vec<u8>)) {
        self.total += count;
        if self.full {
            return;
        }
        let before = out.len();
        if self.written > 0 {
            out.push(b',');
        }
        write(out);
        // One byte for the closing brace.
        if out.len() - self.start + 1 > self.budget {
            out.truncate(before);
            self.full = true;
        } else {
            self.written += count;
        }
    }

    /// Closes the object; returns how many entries there were if some were left out.
    fn close(self, out: &mut Vec<u8>) -> Option<usize> {
        out.push(b'}');
        (self.written < self.total).then_some(self.total)
    }
}

pub(super) fn push_links(out: &mut Vec<u8>, links: &[SpanLink]) {
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

pub(super) fn hex(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use serde_json::Value;
    use tracing_core::Metadata;

    use crate::export::policy::privacy::Privacy;
    use crate::export::record::{FieldValue, TransactionRecord};
    use crate::export::test_support::{at_micros, sample_record};
    use crate::export::wire::envelope::{EnvelopeBytes, Scratch};
    use crate::export::wire::key_facts::FILTERED;
    use crate::field::{DataFields, Fields};

    use super::EventMeta;

    struct Cs;
    static CS: Cs = Cs;
    impl tracing_core::callsite::Callsite for Cs {
        fn set_interest(&self, _: tracing_core::subscriber::Interest) {}
        fn metadata(&self) -> &Metadata<'_> {
            &META
        }
    }
    static META: Metadata<'static> = tracing_core::metadata!(
        name: "load",
        target: "app::db",
        level: tracing_core::Level::INFO,
        fields: &["n", "kind", "user.id", "db.password", "big"],
        callsite: &CS,
        kind: tracing_core::metadata::Kind::SPAN
    );

    fn payload(record: &TransactionRecord, privacy: &Privacy) -> Value {
        let envelope = EnvelopeBytes::from_transaction(
            record,
            &EventMeta::default(),
            None,
            at_micros(1),
            &mut Scratch::default(),
            privacy.scrubs_when_written(),
        )
        .unwrap();
        let mut tx = envelope.transaction().unwrap();
        tx["event_id"] = Value::Null; // random per envelope
        tx
    }

    /// The record with `fields` on the root and the first child, encoded or as a list.
    fn record(fields: &Fields, encoded: bool) -> TransactionRecord {
        let mut record = sample_record();
        for span in [&mut record.root, &mut record.spans[0]] {
            span.metadata = Some(&META);
            span.data = if encoded {
                DataFields::encode(&META, fields.clone())
            } else {
                DataFields::from(fields.clone())
            };
            assert_eq!(span.data.owned().is_none(), encoded);
        }
        record
    }

    #[test]
    fn encoded_data_is_written_as_its_list_is() {
        let entry = |k: &'static str, v: FieldValue| (Cow::Borrowed(k), v);
        let str = |s: &str| FieldValue::Str(s.to_owned());
        let cases: Vec<Fields> = vec![
            vec![entry("n", FieldValue::U64(3)), entry("kind", str("bench"))],
            // A repeated key: its last value, in the place of the last.
            vec![
                entry("n", FieldValue::U64(3)),
                entry("kind", str("bench")),
                entry("n", FieldValue::I64(-4)),
            ],
            // Private and denied keys.
            vec![
                entry("user.id", FieldValue::U64(7)),
                entry("db.password", str("hunter2")),
                entry("kind", str("x\"y")),
            ],
            // Over the data budget: cut.
            vec![
                entry("n", FieldValue::F64(0.5)),
                entry("big", str(&"v".repeat(9000))),
                entry("kind", str("bench")),
            ],
            vec![],
        ];
        for privacy in [
            Privacy::default(),
            Privacy {
                send_default_pii: true,
                ..Privacy::default()
            },
        ] {
            for fields in &cases {
                let written = payload(&record(fields, true), &privacy);
                assert_eq!(written, payload(&record(fields, false), &privacy));
            }
        }

        let data = |tx: &Value| tx["spans"][0]["data"].clone();
        let tx = payload(&record(&cases[1], true), &Privacy::default());
        assert_eq!(data(&tx)["n"], -4, "the last value of a repeated key");
        assert_eq!(data(&tx)["kind"], "bench");
        assert_eq!(data(&tx)["code.module.name"], META.module_path().unwrap());
        let tx = payload(&record(&cases[2], true), &Privacy::default());
        assert!(data(&tx).get("user.id").is_none(), "private: removed");
        assert_eq!(data(&tx)["db.password"], FILTERED);
        assert_eq!(data(&tx)["kind"], "x\"y");
        let tx = payload(&record(&cases[3], true), &Privacy::default());
        assert!(data(&tx).get("big").is_none(), "over the budget: cut");
        assert_eq!(data(&tx)["n"], 0.5);
        // The three fields and the callsite's three code entries.
        assert_eq!(tx["_meta"]["spans"]["0"]["data"][""]["len"], 6);
    }
}
