//! The private per-span extension and the per-local-root state it shares.
//!
//! Which spans carry a [`SpanData`]:
//! - every local root (a span with no parent for this layer, or one given a remote parent);
//! - every child of a recorded (sampled and exported) span;
//! - any other span only once something asks for its own trace context (an outgoing header,
//!   [`TraceContext`](crate::TraceContext)); until then it borrows its nearest ancestor's.
//!
//! So a child span in an unsampled trace costs one read of its parent's extensions and no
//! allocation: it gets an id only if it ever propagates.

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use tracing_core::field::{Field, Visit};
use tracing_core::Metadata;

use crate::builder::Config;
use crate::export::record::{
    FieldValue, SpanLink, SpanRecord, TransactionRecord, TransactionSource,
};
use crate::id::{SpanId, TraceId};
use crate::propagation::{
    backfill_interval, format_sample_rand, sample_rand_in, should_continue_trace,
    DynamicSamplingContext, PropagationContext,
};
use crate::rng;
use crate::sampling::{Decision, SamplingContext};
use crate::stats::StatsInner;
use crate::status::SpanStatus;

/// Field names with a meaning of their own (the names sentry-tracing uses, so users can move
/// over): they set the span's properties instead of becoming `data`.
pub(crate) const FIELD_OP: &str = "sentry.op";
pub(crate) const FIELD_NAME: &str = "sentry.name";
pub(crate) const FIELD_DESCRIPTION: &str = "sentry.description";
pub(crate) const FIELD_STATUS: &str = "sentry.status";
pub(crate) const FIELD_ORIGIN: &str = "sentry.origin";
pub(crate) const FIELD_SOURCE: &str = "sentry.source";

/// The longest string kept in span `data`; longer values are cut at a character boundary.
pub(crate) const MAX_FIELD_BYTES: usize = 8 * 1024;

const DEFAULT_ORIGIN: &str = "auto.tracing";

/// Marks a span without [`SpanData`] that has had children, so that a later remote parent can
/// be refused (its children may already carry the old trace).
pub(crate) struct HasChildren;

/// The trace context of one span (private; users see [`TraceContext`](crate::TraceContext)).
pub(crate) struct SpanData {
    pub(crate) trace_id: TraceId,
    pub(crate) span_id: SpanId,
    pub(crate) parent_span_id: Option<SpanId>,
    pub(crate) sampled: Option<bool>,
    /// Set once the span has a child or its context has left the process.
    started: AtomicBool,
    pub(crate) is_local_root: bool,
    pub(crate) root: Arc<RootState>,
    pub(crate) recording: Option<Recording>,
}

/// State shared by every span of one local root (one future transaction).
pub(crate) struct RootState {
    pub(crate) config: Arc<Config>,
    pub(crate) trace_id: TraceId,
    pub(crate) sample_rand: f64,
    pub(crate) decision: Decision,
    /// Set at creation for a continued trace (the incoming DSC is frozen at once); built from
    /// the options and the root's name the first time it leaves the process otherwise.
    dsc: OnceLock<Arc<DynamicSamplingContext>>,
    /// The `baggage` header value for the frozen DSC, computed once.
    baggage: OnceLock<Option<http::HeaderValue>>,
    /// The name and source the head DSC and the transaction are built with.
    name: Mutex<(Cow<'static, str>, TransactionSource)>,
    /// Incoming third-party members, kept only when forwarding them is configured.
    third_party: Vec<String>,
    /// Wall clock and monotonic clock read together when the root started recording, so child
    /// spans need only a monotonic read for their wall-clock start.
    anchor: (SystemTime, Instant),
    /// Finished children waiting for the root to close; `None` when the root does not record.
    tx: Option<Mutex<TxBuffer>>,
}

struct TxBuffer {
    spans: Vec<SpanRecord>,
    dropped: u32,
    /// The local root's own record, once it closed. The transaction is sent when the last span
    /// of this local root is gone (see `Drop for RootState`): tracing-subscriber closes a
    /// parent before it drops the data of a child that outlived the parent's handle.
    root: Option<SpanRecord>,
    closed: bool,
}

/// What a recorded span accumulates until it closes. Kept small (it is moved into the span's
/// extension); what few spans set lives behind one optional box.
pub(crate) struct Recording {
    start: Instant,
    metadata: &'static Metadata<'static>,
    status: Option<SpanStatus>,
    error_seen: bool,
    pub(crate) data: Vec<(Cow<'static, str>, FieldValue)>,
    extra: Option<Box<Extra>>,
}

/// Special-field overrides and links: set by few spans.
#[derive(Default)]
struct Extra {
    op: Option<String>,
    name: Option<String>,
    description: Option<String>,
    origin: Option<String>,
    source: Option<TransactionSource>,
    links: Vec<SpanLink>,
}

/// Everything needed to create a local root.
pub(crate) struct RootInit<'a> {
    pub(crate) config: &'a Arc<Config>,
    pub(crate) metadata: &'static Metadata<'static>,
    /// The span's attributes, visited only if a sampler runs or the span records.
    pub(crate) attrs: Option<&'a tracing_core::span::Attributes<'a>>,
    pub(crate) remote: Option<PropagationContext>,
    /// The span's recording so far, when a span that already records is given a remote parent:
    /// its start time and fields are kept.
    pub(crate) previous: Option<Recording>,
}

// === impl SpanData ===

impl SpanData {
    /// Creates the data of a local root: continues `init.remote` when the org-id rule allows,
    /// otherwise starts a trace; makes the head-sampling decision.
    pub(crate) fn new_root(init: RootInit<'_>) -> Self {
        let config = init.config;
        let remote = init.remote.filter(|remote| {
            let ok = should_continue_trace(
                remote.dsc().org_id(),
                config.org_id.as_deref(),
                config.strict_trace_continuation,
            );
            if !ok {
                StatsInner::incr(&config.stats.traces_not_continued_org_mismatch);
            }
            ok
        });

        let (trace_id, parent_span_id, parent_sampled, mut dsc, sample_rand, rand_backfilled) =
            match &remote {
                Some(remote) => {
                    let dsc = remote.dsc().clone();
                    let (rand, backfilled) = match dsc.sample_rand() {
                        Some(rand) => (rand, false),
                        // Draw so that the incoming decision is reproduced (spec 3.2). For
                        // inconsistent input (sampled with rate 0) no value can; draw from
                        // [0, 1) for local use but write nothing into the frozen DSC.
                        None => match backfill_interval(remote.sampled(), dsc.sample_rate()) {
                            Some((lo, hi)) => (sample_rand_in(lo, hi, rng::next_f64()), true),
                            None => (sample_rand_in(0.0, 1.0, rng::next_f64()), false),
                        },
                    };
                    (
                        remote.trace_id(),
                        Some(remote.parent_span_id()),
                        remote.sampled(),
                        Some(dsc),
                        rand,
                        backfilled,
                    )
                }
                None => {
                    let trace_id = TraceId::random();
                    (trace_id, None, None, None, sample_rand_of(trace_id), false)
                }
            };

        let mut previous = init.previous;
        let start = previous.as_ref().map(|p| p.start);
        let mut fields = previous.as_mut().map(|p| std::mem::take(&mut p.data));
        let attrs = init.attrs;
        let parent_sample_rate = dsc.as_ref().and_then(DynamicSamplingContext::sample_rate);
        let decision = config.sampling.decide(sample_rand, parent_sampled, || {
            let ctx = SamplingContext {
                metadata: init.metadata,
                fields: ensure_fields(&mut fields, attrs),
                parent_sampled,
                parent_sample_rate,
            };
            config.sampling.run_sampler(&ctx)
        });

        if let Some(dsc) = dsc.as_mut().filter(|d| !d.is_empty()) {
            // The two exceptions to "frozen" that Sentry SDKs apply (spec 2.6, 3.3): the rate a
            // local decision applied, and a backfilled sample_rand. A frozen-empty DSC (an old
            // SDK upstream) stays empty.
            if let Some(rate) = decision.applied_rate {
                dsc.set("sample_rate", rate.to_string());
            }
            if rand_backfilled {
                dsc.set("sample_rand", format_sample_rand(sample_rand));
            }
        }

        let records = decision.sampled == Some(true) && config.records();
        let now = Instant::now();
        let recording = records.then(|| {
            let mut rec = previous
                .take()
                .unwrap_or_else(|| Recording::new(init.metadata, now));
            ensure_fields(&mut fields, attrs);
            if let Some(fields) = fields.take() {
                rec.absorb(fields);
            }
            rec
        });
        let anchor_mono = start.unwrap_or(now);
        let anchor_wall = if records {
            SystemTime::now()
                .checked_sub(now.saturating_duration_since(anchor_mono))
                .unwrap_or_else(SystemTime::now)
        } else {
            SystemTime::UNIX_EPOCH
        };
        let (name, source) = match &recording {
            Some(rec) => (rec.name().map(|n| Cow::Owned(n.to_owned())), rec.source()),
            // An unrecorded root still names the head DSC's transaction: read `sentry.name`
            // and `sentry.source` if the callsite declares them (no other field is visited).
            None if declares_name(init.metadata) => {
                let fields = ensure_fields(&mut fields, attrs);
                let text = |key: &str| {
                    fields
                        .iter()
                        .find(|(k, _)| k == key)
                        .and_then(|(_, v)| v.as_str().map(str::to_owned))
                };
                (
                    text(FIELD_NAME).map(Cow::Owned),
                    text(FIELD_SOURCE).as_deref().and_then(parse_source),
                )
            }
            None => (None, None),
        };
        let name = name.unwrap_or(Cow::Borrowed(init.metadata.name()));
        let source = source.unwrap_or_else(|| default_source(&name));

        let third_party = match &remote {
            Some(remote) if config.forward_third_party_baggage => {
                remote.third_party_baggage().to_vec()
            }
            _ => Vec::new(),
        };
        let frozen = OnceLock::new();
        if let Some(dsc) = dsc {
            let _ = frozen.set(Arc::new(dsc));
        }
        let root = RootState {
            config: Arc::clone(config),
            trace_id,
            sample_rand,
            decision,
            dsc: frozen,
            baggage: OnceLock::new(),
            name: Mutex::new((name, source)),
            third_party,
            anchor: (anchor_wall, anchor_mono),
            tx: records.then(|| {
                Mutex::new(TxBuffer {
                    spans: Vec::new(),
                    dropped: 0,
                    root: None,
                    closed: false,
                })
            }),
        };
        Self {
            trace_id,
            span_id: SpanId::random(),
            parent_span_id,
            sampled: decision.sampled,
            started: AtomicBool::new(false),
            is_local_root: true,
            root: Arc::new(root),
            recording,
        }
    }

    /// Creates the data of a child of `parent`, recording it if the parent records.
    pub(crate) fn child_of(parent: &SpanData, recording: Option<Recording>) -> Self {
        Self {
            trace_id: parent.trace_id,
            span_id: SpanId::random(),
            parent_span_id: Some(parent.span_id),
            sampled: parent.sampled,
            started: AtomicBool::new(false),
            is_local_root: false,
            root: Arc::clone(&parent.root),
            recording,
        }
    }

    /// Whether children of this span are recorded.
    #[inline]
    pub(crate) fn records(&self) -> bool {
        self.recording.is_some()
    }

    /// Marks that the span has a child or has propagated; a remote parent is refused after this.
    #[inline]
    pub(crate) fn mark_started(&self) {
        // Read first so that the common case (already set) does not write a shared cache line.
        if !self.started.load(Ordering::Relaxed) {
            self.started.store(true, Ordering::Relaxed);
        }
    }

    pub(crate) fn is_started(&self) -> bool {
        self.started.load(Ordering::Relaxed)
    }

    /// Takes this span's recording (when it is replaced by a continued local root), and lets its
    /// transaction go without counting it as unfinished.
    pub(crate) fn take_for_reparent(&mut self) -> Option<Recording> {
        if self.is_local_root {
            self.root.abandon();
        }
        self.recording.take()
    }

    /// The link recorded for `follows_from`.
    pub(crate) fn as_link(&self) -> SpanLink {
        SpanLink {
            trace_id: self.trace_id,
            span_id: self.span_id,
            sampled: self.sampled,
        }
    }

    /// Finishes a recorded span: a child goes into its transaction's buffer, a local root sends
    /// the transaction. Called from `Drop`, when the registry clears the span's extensions as
    /// it closes the span, so spans that record nothing cost nothing at close.
    fn finish(&mut self) {
        let Some(recording) = self.recording.take() else {
            return;
        };
        let root = Arc::clone(&self.root);
        let (record, name, source) = recording.finish(&root, self.span_id, self.parent_span_id);
        if self.is_local_root {
            if let Some(name) = name {
                root.rename(name, source);
            }
            root.finish_root(record);
        } else {
            root.push_child(record);
        }
    }
}

pub(crate) fn declares_name(metadata: &Metadata<'_>) -> bool {
    metadata.fields().field(FIELD_NAME).is_some()
}

/// Visits `attrs` into `fields` once, on first need.
fn ensure_fields<'f>(
    fields: &'f mut Option<Vec<(Cow<'static, str>, FieldValue)>>,
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

impl Drop for SpanData {
    fn drop(&mut self) {
        self.finish();
    }
}

/// Derives `sample_rand` from a new trace id, as Sentry recommends: the same trace always gets
/// the same value, and random trace ids make it uniform. Six decimals, in `[0, 1)`.
fn sample_rand_of(trace_id: TraceId) -> f64 {
    let bytes = trace_id.to_bytes();
    let mut low = [0u8; 8];
    low.copy_from_slice(bytes.get(8..16).unwrap_or(&[0; 8]));
    let micros = u64::from_be_bytes(low) % 1_000_000;
    micros as f64 / 1_000_000.0
}

fn default_source(name: &str) -> TransactionSource {
    // A raw URL is a poor transaction name for dynamic sampling; Sentry keeps such names out
    // of the DSC (spec 2.2).
    if name.contains("://") {
        TransactionSource::Url
    } else {
        TransactionSource::Custom
    }
}

// === impl RootState ===

impl RootState {
    /// The frozen DSC, building (and so freezing) the head-of-trace DSC on first use.
    pub(crate) fn dsc(&self) -> &Arc<DynamicSamplingContext> {
        self.dsc.get_or_init(|| Arc::new(self.head_dsc()))
    }

    /// The `baggage` header value of the frozen DSC (plus forwarded third-party members).
    pub(crate) fn baggage(&self) -> Option<&http::HeaderValue> {
        self.baggage
            .get_or_init(|| {
                let sentry = self.dsc().to_baggage();
                let value = if self.third_party.is_empty() {
                    sentry
                } else {
                    let foreign = self.third_party.join(",");
                    crate::propagation::merge_baggage(
                        Some(&foreign),
                        sentry.as_deref().unwrap_or(""),
                    )
                };
                value.and_then(|v| http::HeaderValue::from_str(&v).ok())
            })
            .as_ref()
    }

    fn head_dsc(&self) -> DynamicSamplingContext {
        let config = &self.config;
        let mut dsc = DynamicSamplingContext::new().with("trace_id", self.trace_id.to_string());
        if let Some(key) = &config.public_key {
            dsc.set("public_key", key.as_str());
        }
        if let Some(org) = &config.org_id {
            dsc.set("org_id", org.as_str());
        }
        dsc.set("environment", config.environment.as_str());
        if let Some(release) = &config.release {
            dsc.set("release", release.as_str());
        }
        // `transaction` names the transaction for dynamic-sampling rules. Without tracing
        // configured no transaction exists, and Sentry's SDKs leave it out (vector ps-010).
        let has_transaction = self.decision.sampled.is_some();
        if let (true, Ok(name)) = (has_transaction, self.name.lock()) {
            if name.1 != TransactionSource::Url {
                dsc.set("transaction", name.0.as_ref());
            }
        }
        if let Some(rate) = self.decision.applied_rate {
            dsc.set("sample_rate", rate.to_string());
        }
        if let Some(sampled) = self.decision.sampled {
            dsc.set("sampled", if sampled { "true" } else { "false" });
        }
        // Propagated in tracing-without-performance mode too, so every service downstream
        // decides consistently (spec 3.2).
        dsc.set("sample_rand", format_sample_rand(self.sample_rand));
        dsc
    }

    /// Renames the transaction (`sentry.name`/`sentry.source` recorded on the root). The head
    /// DSC keeps the name it was frozen with.
    pub(crate) fn rename(&self, name: String, source: Option<TransactionSource>) {
        if let Ok(mut slot) = self.name.lock() {
            let source = source.unwrap_or_else(|| default_source(&name));
            *slot = (Cow::Owned(name), source);
        }
    }

    /// Updates only what a `span.record(..)` on an unrecorded root carried: the name, the
    /// source, or both.
    pub(crate) fn update_name(&self, name: Option<String>, source: Option<TransactionSource>) {
        if let Ok(mut slot) = self.name.lock() {
            if let Some(name) = name {
                slot.1 = default_source(&name);
                slot.0 = Cow::Owned(name);
            }
            if let Some(source) = source {
                slot.1 = source;
            }
        }
    }

    /// Closes the transaction buffer without sending (the root was re-parented).
    fn abandon(&self) {
        if let Some(tx) = &self.tx {
            if let Ok(mut tx) = tx.lock() {
                tx.closed = true;
            }
        }
    }

    fn wall_clock(&self, at: Instant) -> SystemTime {
        let (wall, mono) = self.anchor;
        match at.checked_duration_since(mono) {
            Some(after) => wall + after,
            None => wall
                .checked_sub(mono.saturating_duration_since(at))
                .unwrap_or(wall),
        }
    }

    fn push_child(&self, record: SpanRecord) {
        let stats = &self.config.stats;
        let Some(tx) = &self.tx else { return };
        let Ok(mut tx) = tx.lock() else { return };
        if tx.closed {
            StatsInner::incr(&stats.spans_dropped_late);
        } else if tx.spans.len() >= self.config.max_spans {
            tx.dropped = tx.dropped.saturating_add(1);
            StatsInner::incr(&stats.spans_dropped_limit);
        } else {
            tx.spans.push(record);
        }
    }

    /// Keeps the local root's record; the transaction goes out when the last span of this
    /// local root is dropped.
    fn finish_root(&self, root: SpanRecord) {
        if let Some(Ok(mut tx)) = self.tx.as_ref().map(Mutex::lock) {
            tx.root = Some(root);
        }
    }

    fn send(&self) {
        let Some(tx) = &self.tx else { return };
        let (root, spans, dropped_spans) = match tx.lock() {
            Ok(mut tx) => {
                if tx.closed {
                    return;
                }
                tx.closed = true;
                let Some(root) = tx.root.take() else {
                    // The root span never finished normally (for example the layer was
                    // removed while it was open).
                    StatsInner::incr(&self.config.stats.transactions_unfinished);
                    return;
                };
                (root, std::mem::take(&mut tx.spans), tx.dropped)
            }
            Err(_) => return,
        };
        let (name, source) = match self.name.lock() {
            Ok(name) => (name.0.to_string(), name.1),
            Err(_) => return,
        };
        let record = TransactionRecord {
            trace_id: self.trace_id,
            name,
            source,
            root,
            spans,
            dropped_spans,
            dsc: Arc::clone(self.dsc()),
        };
        if let Some(export) = &self.config.export {
            export.submit(record);
        }
    }
}

impl Drop for RootState {
    fn drop(&mut self) {
        // Every span of this local root is gone: its root and all its children have finished.
        self.send();
    }
}

// === impl Recording ===

impl Recording {
    pub(crate) fn new(metadata: &'static Metadata<'static>, start: Instant) -> Self {
        Self {
            start,
            metadata,
            status: None,
            error_seen: false,
            data: Vec::new(),
            extra: None,
        }
    }

    fn extra(&mut self) -> &mut Extra {
        self.extra.get_or_insert_with(Box::default)
    }

    fn name(&self) -> Option<&str> {
        self.extra.as_ref().and_then(|e| e.name.as_deref())
    }

    fn source(&self) -> Option<TransactionSource> {
        self.extra.as_ref().and_then(|e| e.source)
    }

    /// Applies fields collected by a [`FieldVisitor`] (special fields set properties).
    pub(crate) fn absorb(&mut self, fields: Vec<(Cow<'static, str>, FieldValue)>) {
        if self.data.is_empty() && !fields.iter().any(|(k, _)| k.starts_with("sentry.")) {
            // The common case: no special fields, so the visitor's vector becomes `data`.
            self.data = fields;
            return;
        }
        for (name, value) in fields {
            self.set_field(name, value);
        }
    }

    pub(crate) fn set_field(&mut self, name: Cow<'static, str>, value: FieldValue) {
        let text = |v: FieldValue| match v {
            FieldValue::Str(s) => s,
            FieldValue::Bool(b) => b.to_string(),
            FieldValue::I64(n) => n.to_string(),
            FieldValue::U64(n) => n.to_string(),
            FieldValue::F64(n) => n.to_string(),
        };
        match name.as_ref() {
            FIELD_OP => self.extra().op = Some(text(value)),
            FIELD_NAME => self.extra().name = Some(text(value)),
            FIELD_DESCRIPTION => self.extra().description = Some(text(value)),
            FIELD_STATUS => {
                if let Ok(status) = text(value).parse() {
                    self.status = Some(status);
                }
            }
            FIELD_ORIGIN => self.extra().origin = Some(text(value)),
            FIELD_SOURCE => self.extra().source = parse_source(&text(value)),
            _ => {
                if let Some(slot) = self.data.iter_mut().find(|(k, _)| *k == name) {
                    slot.1 = value;
                } else {
                    self.data.push((name, value));
                }
            }
        }
    }

    /// The transaction name and source this span asks for (`sentry.name`, `sentry.source`).
    pub(crate) fn name_and_source(&self, span_name: &str) -> (String, Option<TransactionSource>) {
        let name = self.name().unwrap_or(span_name).to_owned();
        (name, self.source())
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
        if links.len() < 128 {
            links.push(link);
        }
    }

    /// Whether the span recorded a name (used by the transaction of a local root).
    fn finish(
        self,
        root: &RootState,
        span_id: SpanId,
        parent_span_id: Option<SpanId>,
    ) -> (SpanRecord, Option<String>, Option<TransactionSource>) {
        let end = Instant::now();
        let start = root.wall_clock(self.start);
        let end = start
            + end
                .saturating_duration_since(self.start)
                .max(Duration::ZERO);
        let status = self
            .status
            .or_else(|| self.error_seen.then_some(SpanStatus::InternalError))
            // Dropped while its thread unwinds from a panic (checked only for recorded spans).
            .or_else(|| std::thread::panicking().then_some(SpanStatus::InternalError));
        let extra = self.extra.map(|e| *e).unwrap_or_default();
        // `None` falls back to the span's name when the transaction is serialised.
        let description = extra.description.or_else(|| extra.name.clone());
        let record = SpanRecord {
            span_id,
            parent_span_id,
            op: extra.op.map(Cow::Owned).unwrap_or(Cow::Borrowed("")),
            description,
            status,
            start,
            end,
            data: self.data,
            links: extra.links,
            origin: extra
                .origin
                .map(Cow::Owned)
                .unwrap_or(Cow::Borrowed(DEFAULT_ORIGIN)),
            metadata: Some(self.metadata),
        };
        (record, extra.name, extra.source)
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

// === field visiting ===

/// Collects span fields as typed values (only for recorded spans, or for a sampler).
#[derive(Default)]
pub(crate) struct FieldVisitor {
    pub(crate) fields: Vec<(Cow<'static, str>, FieldValue)>,
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

impl Visit for FieldVisitor {
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.push(field, FieldValue::Bool(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.push(field, FieldValue::I64(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.push(field, FieldValue::U64(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.push(field, FieldValue::F64(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.push(field, FieldValue::Str(truncate(value).to_owned()));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let mut text = format!("{value:?}");
        if text.len() > MAX_FIELD_BYTES {
            let cut = truncate(&text).len();
            text.truncate(cut);
        }
        self.push(field, FieldValue::Str(text));
    }
}

fn truncate(s: &str) -> &str {
    if s.len() <= MAX_FIELD_BYTES {
        return s;
    }
    let mut end = MAX_FIELD_BYTES;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_rand_from_a_trace_id_is_a_six_decimal_value_below_one() {
        for _ in 0..10_000 {
            let rand = sample_rand_of(TraceId::random());
            assert!((0.0..1.0).contains(&rand));
            assert_eq!((rand * 1e6).round() / 1e6, rand);
        }
        let id: TraceId = "771a43a4192642f0b136d5159a501700".parse().unwrap();
        assert_eq!(sample_rand_of(id), sample_rand_of(id));
    }

    #[test]
    fn long_strings_are_cut_at_a_character_boundary() {
        let long = "é".repeat(MAX_FIELD_BYTES);
        let cut = truncate(&long);
        assert!(cut.len() <= MAX_FIELD_BYTES);
        assert!(cut.chars().all(|c| c == 'é'));
    }

    #[test]
    fn raw_urls_are_url_sourced() {
        assert_eq!(default_source("GET https://x.io/a"), TransactionSource::Url);
        assert_eq!(default_source("GET /users/:id"), TransactionSource::Custom);
    }
}
