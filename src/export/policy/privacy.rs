//! What may leave the process, applied on the export worker to every finished span before it
//! is serialised, in this order (Sentry's SDKs scrub before their hooks run). (`ignore_spans`,
//! which decides at span creation, lives in `crate::ignore`.)
//!
//! 1. **Private data** (`send_default_pii` off, the default): data keys that carry user data by
//!    Sentry's and OpenTelemetry's conventions ([`PII_KEYS`], [`PII_PREFIXES`]) are removed.
//! 2. **The denylist**: values of data keys containing one of the denylist's words
//!    (case-insensitive, anywhere in the key, as Relay's default `@password` rule matches) are
//!    replaced by `[Filtered]`.
//! 3. **`before_send_span`** on the root and on each child; it cannot drop a span (spans spec).
//! 4. **`before_send_transaction`**: may edit, remove child spans, or drop the transaction
//!    (reported as `before_send`, one transaction and all its spans).
//!
//! A panicking hook is caught and counted in `Stats::before_send_panics`, and the transaction
//! is **dropped** (reported as `before_send`): a hook that scrubs data and fails half-way may
//! have left the data it was written to remove, so sending it unchanged is the unsafe choice.
//! The Python SDK does the same (a `before_send_transaction` that raises leaves no event to
//! send).
//!
//! **Streamed spans** (span v2 items): a span-batch serialiser calls
//! [`Privacy::process_span`] on each span record before writing it; it applies steps 1 to 3
//! and says whether the span may be sent (`false` only when the hook panicked).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use crate::export::policy::view::{SpanView, TransactionView};
use crate::export::record::{FieldValue, SentryLog, SentryMetric, SpanRecord, TransactionRecord};
use crate::export::wire::category::DataCategory;
use crate::export::wire::client_report::{ClientReports, DiscardReason};
use crate::export::wire::key_facts::{JudgeKey, KeyFacts, Verdict, FILTERED};
use crate::stats::StatsInner;

/// The default denylist: words that mark a data key as holding a credential. Sentry's Python
/// SDK's `DEFAULT_DENYLIST` and Relay's `@password` rule (password, secret, passwd, api_key,
/// apikey, auth, credentials, mysql_pwd, privatekey, private_key, token, session, csrf, xsrf,
/// cookie, bearer); `auth` covers `authorization`.
pub const DEFAULT_DENYLIST: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "api_key",
    "apikey",
    "auth",
    "credentials",
    "mysql_pwd",
    "privatekey",
    "private_key",
    "token",
    "session",
    "csrf",
    "xsrf",
    "cookie",
    "bearer",
];

/// Data keys that carry user data, removed unless `send_default_pii` is on.
/// (Each starts with `h`, `u`, `c` or `e`: `is_pii_key` relies on it.)
pub(crate) const PII_KEYS: &[&str] = &[
    "http.query",
    "http.fragment",
    "url.query",
    "url.fragment",
    "client.address",
    "client.port",
    "http.client_ip",
    "user_agent.original",
    "http.user_agent",
    "user.id",
    "user.email",
    "user.name",
    "user.username",
    "user.ip_address",
    "user.full_name",
    "user.hash",
    "enduser.id",
];

/// Data key prefixes that carry user data (request and response headers, cookies), removed
/// unless `send_default_pii` is on.
pub(crate) const PII_PREFIXES: &[&str] = &[
    "http.request.header.",
    "http.response.header.",
    "http.request.cookies",
];

/// The user's `before_send_transaction`.
pub(crate) type TransactionHook = Arc<dyn Fn(&mut TransactionView<'_>) -> bool + Send + Sync>;
/// The user's `before_send_span`.
pub(crate) type SpanHook = Arc<dyn Fn(&mut SpanView<'_>) + Send + Sync>;
/// The user's `before_send_log`.
pub(crate) type LogHook = Arc<dyn Fn(&mut SentryLog) -> bool + Send + Sync>;
/// The user's `before_send_metric`.
pub(crate) type MetricHook = Arc<dyn Fn(&mut SentryMetric) -> bool + Send + Sync>;

/// The rules, fixed when the layer is built.
#[derive(Clone)]
pub(crate) struct Privacy {
    pub(crate) send_default_pii: bool,
    pub(crate) denylist: Denylist,
    pub(crate) before_send_span: Option<SpanHook>,
    pub(crate) before_send_transaction: Option<TransactionHook>,
    pub(crate) before_send_log: Option<LogHook>,
    pub(crate) before_send_metric: Option<MetricHook>,
}

impl Default for Privacy {
    fn default() -> Self {
        Self {
            send_default_pii: false,
            denylist: Denylist::new(DEFAULT_DENYLIST.iter().copied()),
            before_send_span: None,
            before_send_transaction: None,
            before_send_log: None,
            before_send_metric: None,
        }
    }
}

impl std::fmt::Debug for Privacy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Privacy")
            .field("send_default_pii", &self.send_default_pii)
            .field("denylist", &self.denylist.words)
            .field("before_send_span", &self.before_send_span.is_some())
            .field(
                "before_send_transaction",
                &self.before_send_transaction.is_some(),
            )
            .field("before_send_log", &self.before_send_log.is_some())
            .field("before_send_metric", &self.before_send_metric.is_some())
            .finish()
    }
}

/// The denylist's words (lowercase), sorted by first byte, with an index from a first byte to
/// its words: a key is compared only with the words that start with its byte at each position,
/// so most positions cost one lookup.
#[derive(Clone)]
pub(crate) struct Denylist {
    words: Vec<String>,
    /// `starts[b]..starts[b + 1]`: the words starting with byte `b`.
    starts: Box<[u32; 257]>,
}

impl Denylist {
    pub(crate) fn new<S: AsRef<str>>(words: impl IntoIterator<Item = S>) -> Self {
        let mut words: Vec<String> = words
            .into_iter()
            .map(|w| w.as_ref().to_ascii_lowercase())
            .filter(|w| !w.is_empty())
            .collect();
        words.sort_unstable();
        words.dedup();
        let mut starts = Box::new([0u32; 257]);
        for word in &words {
            let first = word.as_bytes().first().map_or(0, |&b| usize::from(b));
            // Count the words of each first byte one slot further; prefix sums below.
            if let Some(slot) = starts.get_mut(first + 1) {
                *slot += 1;
            }
        }
        for b in 1..starts.len() {
            let previous = starts.get(b - 1).copied().unwrap_or(0);
            if let Some(slot) = starts.get_mut(b) {
                *slot += previous;
            }
        }
        Self { words, starts }
    }

    /// Whether `key` contains one of the words, ignoring ASCII case; allocates nothing.
    pub(crate) fn matches(&self, key: &str) -> bool {
        let key = key.as_bytes();
        (0..key.len()).any(|i| {
            let Some(first) = key.get(i).map(|b| usize::from(b.to_ascii_lowercase())) else {
                return false;
            };
            let from = self.starts.get(first).copied().unwrap_or(0) as usize;
            let to = self.starts.get(first + 1).copied().unwrap_or(0) as usize;
            self.words
                .get(from..to)
                .unwrap_or_default()
                .iter()
                .any(|word| {
                    key.get(i..i + word.len())
                        .is_some_and(|w| w.eq_ignore_ascii_case(word.as_bytes()))
                })
        })
    }
}

fn is_pii_key(key: &str) -> bool {
    // Every key and prefix starts with one of these: most keys are decided by their first byte.
    let first = key.as_bytes().first().map(u8::to_ascii_lowercase);
    if !matches!(first, Some(b'h' | b'u' | b'c' | b'e')) {
        return false;
    }
    PII_KEYS.iter().any(|k| key.eq_ignore_ascii_case(k))
        || PII_PREFIXES.iter().any(|p| {
            key.get(..p.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(p))
        })
}

impl Privacy {
    /// Whether the transaction writer applies private data and the denylist itself, entry
    /// by entry as it writes (skipping removed entries, writing `[Filtered]` for denied
    /// values): when no hook would see the spans first, that is the same data without a pass
    /// over every span before writing, nor any removal or allocation. `None` when a hook runs
    /// (it must see scrubbed data, and what it adds is not scrubbed) or nothing is scrubbed.
    pub(crate) fn scrubs_when_written(&self) -> Option<&dyn JudgeKey> {
        let scrubs = !self.send_default_pii || !self.denylist.words.is_empty();
        (!self.has_hooks() && scrubs).then_some(self as &dyn JudgeKey)
    }

    /// Whether a `before_send_*` hook is configured.
    fn has_hooks(&self) -> bool {
        self.before_send_span.is_some() || self.before_send_transaction.is_some()
    }

    /// What the rules (private data, then the denylist) do to an entry with this key.
    pub(crate) fn judge(&self, key: &str) -> Verdict {
        if !self.send_default_pii && is_pii_key(key) {
            Verdict::Remove
        } else if !self.denylist.words.is_empty() && self.denylist.matches(key) {
            Verdict::Filter
        } else {
            Verdict::Keep
        }
    }

    /// Removes private data (unless `send_default_pii`) and filters denied values. A key's
    /// verdict is judged once per sender (`keys`), not once per span.
    fn scrub(&self, span: &mut SpanRecord, keys: &mut KeyFacts) {
        // The entries to remove, by index (a bit each for the first 64).
        let mut removed = 0u64;
        let mut removes = false;
        // Only with a hook configured (it edits the plain list anyway).
        let data = span.data_mut();
        for (i, (key, value)) in data.iter_mut().enumerate() {
            match keys.verdict(key, |k| self.judge(k)) {
                Verdict::Keep => {}
                Verdict::Remove => {
                    removes = true;
                    removed |= 1u64.checked_shl(i as u32).unwrap_or(0);
                }
                Verdict::Filter => *value = FieldValue::Str(FILTERED.to_owned()),
            }
        }
        if !removes {
            return;
        }
        let beyond = data.len() > 64;
        if removed.count_ones() == 1 && !beyond {
            data.remove(removed.trailing_zeros() as usize);
            return;
        }
        let mut i = 0u32;
        data.retain(|(key, _)| {
            let remove = match 1u64.checked_shl(i) {
                Some(bit) => removed & bit != 0,
                None => keys.verdict(key, |k| self.judge(k)) == Verdict::Remove,
            };
            i += 1;
            !remove
        });
    }

    /// Removes private data and filters denied values among a log's or metric's attributes.
    fn scrub_attributes(
        &self,
        data: &mut Vec<(std::borrow::Cow<'static, str>, FieldValue)>,
        keys: &mut KeyFacts,
    ) {
        let mut removes = false;
        for (key, value) in data.iter_mut() {
            match keys.verdict(key, |k| self.judge(k)) {
                Verdict::Keep => {}
                Verdict::Remove => removes = true,
                Verdict::Filter => *value = FieldValue::Str(FILTERED.to_owned()),
            }
        }
        if removes {
            data.retain(|(key, _)| keys.verdict(key, |k| self.judge(k)) != Verdict::Remove);
        }
    }

    /// Applies the rules for one log about to be sent: private data, the denylist, then
    /// `before_send_log`. Returns `false` if it must not be sent (the hook returned `false`,
    /// or panicked: counted in `before_send_panics`).
    pub(crate) fn process_log(
        &self,
        log: &mut SentryLog,
        stats: &StatsInner,
        keys: &mut KeyFacts,
    ) -> bool {
        self.scrub_attributes(&mut log.attributes, keys);
        let Some(hook) = &self.before_send_log else {
            return true;
        };
        catch_unwind(AssertUnwindSafe(|| hook(log))).unwrap_or_else(|_| {
            StatsInner::incr(&stats.before_send_panics);
            false
        })
    }

    /// [`process_log`](Self::process_log) for a metric, with `before_send_metric`.
    pub(crate) fn process_metric(
        &self,
        metric: &mut SentryMetric,
        stats: &StatsInner,
        keys: &mut KeyFacts,
    ) -> bool {
        self.scrub_attributes(&mut metric.attributes, keys);
        let Some(hook) = &self.before_send_metric else {
            return true;
        };
        catch_unwind(AssertUnwindSafe(|| hook(metric))).unwrap_or_else(|_| {
            StatsInner::incr(&stats.before_send_panics);
            false
        })
    }

    /// Applies the rules for one span about to be sent (private data, the denylist, then
    /// `before_send_span`). Returns `false` if the hook panicked (counted in
    /// `before_send_panics`): the span must not be sent. The entry point for anything that
    /// sends single spans: the transaction below, and a span-batch (span v2) serialiser, which
    /// calls it on each span before writing it and reports a `false` as a `before_send` span.
    pub(crate) fn process_span(
        &self,
        span: &mut SpanRecord,
        stats: &StatsInner,
        keys: &mut KeyFacts,
    ) -> bool {
        self.scrub(span, keys);
        let Some(hook) = &self.before_send_span else {
            return true;
        };
        let ran = catch_unwind(AssertUnwindSafe(|| hook(&mut SpanView::new(span))));
        if ran.is_err() {
            StatsInner::incr(&stats.before_send_panics);
        }
        ran.is_ok()
    }

    /// Applies every rule to a transaction about to be sent. Returns `false` if it must not be
    /// sent (ignored root, dropped or panicking hook), after counting and reporting it.
    pub(crate) fn process_transaction(
        &self,
        tx: &mut TransactionRecord,
        reports: &ClientReports,
        stats: &StatsInner,
        keys: &mut KeyFacts,
    ) -> bool {
        if !self.has_hooks() {
            // No hook sees the spans: nothing can drop the transaction, and the writer
            // scrubs as it writes, or there is nothing to scrub (`scrubs_when_written`).
            return true;
        }
        let mut sendable = self.process_span(&mut tx.root, stats, keys);
        for span in &mut tx.spans {
            sendable = sendable && self.process_span(span, stats, keys);
        }
        if sendable {
            if let Some(hook) = &self.before_send_transaction {
                let before = tx.spans.len();
                let kept = catch_unwind(AssertUnwindSafe(|| hook(&mut TransactionView::new(tx))));
                match kept {
                    Ok(true) => {
                        let removed = before.saturating_sub(tx.spans.len()) as u64;
                        reports.record(DiscardReason::BeforeSend, DataCategory::Span, removed);
                        StatsInner::add(&stats.spans_dropped_before_send, removed);
                    }
                    Ok(false) => sendable = false,
                    Err(_) => {
                        StatsInner::incr(&stats.before_send_panics);
                        sendable = false;
                    }
                }
            }
        }
        if !sendable {
            let spans = tx.spans.len() as u64 + 1;
            reports.record_transaction(DiscardReason::BeforeSend, spans);
            StatsInner::incr(&stats.transactions_dropped_before_send);
            StatsInner::add(&stats.spans_dropped_before_send, spans);
        }
        sendable
    }
}

impl JudgeKey for Privacy {
    fn judge(&self, key: &str) -> Verdict {
        Privacy::judge(self, key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::test_support::{span, CHILD, ROOT};

    /// The seam a span-batch serialiser uses: one span record, no transaction around it.
    #[test]
    fn process_span_scrubs_runs_the_hook_and_contains_its_panic() {
        let stats = StatsInner::default();
        let mut privacy = Privacy {
            before_send_span: Some(Arc::new(|span: &mut SpanView<'_>| {
                if span.op() == "boom" {
                    panic!("hook bug");
                }
                span.set_data("seen", FieldValue::Bool(true));
            })),
            ..Privacy::default()
        };
        let mut record = span(CHILD, Some(ROOT), "db", 0, 1);
        record.data = vec![
            ("DB_Password".into(), FieldValue::Str("pw".into())),
            ("http.query".into(), FieldValue::Str("q=1".into())),
            ("rows".into(), FieldValue::U64(2)),
        ]
        .into();
        assert!(privacy.process_span(&mut record, &stats, &mut KeyFacts::default()));
        assert_eq!(
            record.data_mut(),
            &vec![
                ("DB_Password".into(), FieldValue::Str(FILTERED.into())),
                ("rows".into(), FieldValue::U64(2)),
                ("seen".into(), FieldValue::Bool(true)),
            ]
        );
        let mut boom = span(CHILD, Some(ROOT), "boom", 0, 1);
        assert!(!privacy.process_span(&mut boom, &stats, &mut KeyFacts::default()));
        assert_eq!(stats.snapshot().before_send_panics, 1);

        privacy.send_default_pii = true;
        privacy.before_send_span = None;
        let mut kept = span(CHILD, Some(ROOT), "http", 0, 1);
        kept.data = vec![("http.query".into(), FieldValue::Str("q=1".into()))].into();
        assert!(privacy.process_span(&mut kept, &stats, &mut KeyFacts::default()));
        assert_eq!(kept.data_mut().len(), 1);
    }

    #[test]
    fn denylist_words_match_anywhere_in_the_key_in_any_case() {
        let list = Denylist::new(DEFAULT_DENYLIST.iter().copied());
        let denied = |key: &str| list.matches(key);
        for key in [
            "password",
            "db.PASSWORD",
            "user_passwd",
            "Authorization",
            "http.request.header.cookie",
            "x-api_key",
            "ApiKey",
            "refresh_token",
            "client_secret",
            "sessionid",
            "X-CSRF-Token",
        ] {
            assert!(denied(key), "{key}");
        }
        for key in ["http.request.method", "url.path", "db.system", "user_count"] {
            assert!(!denied(key), "{key}");
        }
    }

    #[test]
    fn pii_keys_and_prefixes_in_any_case() {
        for key in PII_KEYS.iter().chain(PII_PREFIXES) {
            assert!(
                is_pii_key(key),
                "{key}: the first-byte check must let it through"
            );
        }
        for key in [
            "http.query",
            "client.address",
            "User_Agent.Original",
            "http.request.header.x-forwarded-for",
            "user.email",
            "enduser.id",
        ] {
            assert!(is_pii_key(key), "{key}");
        }
        for key in [
            "http.request.method",
            "url.path",
            "server.address",
            "user.count",
            "",
            "db",
        ] {
            assert!(!is_pii_key(key), "{key}");
        }
    }

    proptest::proptest! {
        /// The first-byte matcher agrees with lowercasing both sides, and never panics.
        #[test]
        fn the_denylist_agrees_with_lowercase_contains(
            key in "\\PC{0,24}|[a-zA-Z_]{0,24}",
            words in proptest::collection::vec("[a-zA-Z_]{0,6}", 0..5),
        ) {
            let lower = key.to_ascii_lowercase();
            let expected = words
                .iter()
                .any(|w| !w.is_empty() && lower.contains(&w.to_ascii_lowercase()));
            proptest::prop_assert_eq!(Denylist::new(&words).matches(&key), expected);
        }
    }
}
