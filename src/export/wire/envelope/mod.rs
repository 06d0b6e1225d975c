//! Envelope framing (spec 7.1): a header line, then items (each an item header line and its
//! payload), separated by `\n`. The writer builds the envelope of one transaction (a
//! `transaction` item), of one batch of streamed spans (a `span` item) or of client reports
//! alone, and a `client_report` item may ride along; the reader reads any envelope back.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

mod read;
mod write;

pub use read::{EnvelopeErrorKind, ParseEnvelopeError};
pub(crate) use write::{Scratch, TooLarge};

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

#[cfg(test)]
mod tests {
    use super::write::new_event_id;
    use super::*;
    use crate::export::record::FieldValue;
    use crate::export::record::{TransactionDsc, TransactionRecord, TransactionSource};
    use crate::export::test_support::*;
    use crate::export::wire::limits::MAX_ITEM_BYTES;
    use crate::export::wire::transaction::{write_transaction, EventMeta, SpanCaches};
    use crate::propagation::DynamicSamplingContext;
    use crate::propagation::{HeadFacts, HeadOptions};
    use serde_json::Value;
    use std::sync::Arc;
    use std::time::Duration;
    use std::time::SystemTime;

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
        assert_eq!(trace.len(), record.dsc().len());
        for (key, value) in record.dsc().iter() {
            assert_eq!(
                trace[key],
                Value::String(value.to_owned()),
                "DSC {key} is a string"
            );
        }
        assert_eq!(envelope.trace(), *record.dsc());
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
            record.dsc = TransactionDsc::Frozen(Arc::new(dsc));
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

    /// The `trace` a transaction with an unbuilt head DSC gets: the DSC its facts build, in
    /// order, whatever one scratch wrote before.
    fn head_trace_case(
        scratch: &mut Scratch,
        options: &Arc<HeadOptions>,
        (name, source): (&str, TransactionSource),
        (sample_rate, sampled, sample_rand): (Option<f64>, Option<bool>, f64),
    ) {
        let mut record = sample_record();
        record.name = Cow::Owned(name.to_owned());
        record.source = source;
        record.dsc = TransactionDsc::Head(HeadFacts {
            options: Arc::clone(options),
            sample_rate,
            sampled,
            sample_rand,
        });
        let envelope = EnvelopeBytes::from_transaction(
            &record,
            &meta(),
            Some(DSN),
            at_micros(1_000),
            scratch,
            None,
        )
        .unwrap();
        let built: Vec<(String, String)> = record
            .dsc()
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        assert!(built.iter().any(|(k, _)| k == "trace_id"));
        assert_eq!(
            wire_trace(&envelope),
            built,
            "{name:?} {source:?} {sampled:?}"
        );
        scratch.recycle(envelope);
    }

    #[test]
    fn a_head_dsc_is_written_as_its_facts_build_it() {
        let options = Arc::new(HeadOptions {
            public_key: Some("49d0f7386ad645858ae85020e393bef3".to_owned()),
            org_id: Some("42".to_owned()),
            environment: "prod".to_owned(),
            release: Some("app@1.0".to_owned()),
        });
        let odd = Arc::new(HeadOptions {
            public_key: None,
            org_id: None,
            environment: String::new(),
            release: Some("say \"hi\"\\\n".to_owned()),
        });
        let mut scratch = Scratch::default();
        for options in [&options, &odd, &options] {
            for name in [
                ("GET /users/:id", TransactionSource::Route),
                ("", TransactionSource::Custom),
            ]
            .into_iter()
            .chain([
                ("/users/42", TransactionSource::Url),
                ("a \"b\"\u{1}", TransactionSource::Task),
            ]) {
                for facts in [
                    (Some(1.0), Some(true), 0.5),
                    (Some(0.25), Some(false), 0.999_999),
                    (Some(0.25), Some(true), 0.0),
                    (None, Some(true), 0.123_456),
                    (None, None, 0.75),
                ] {
                    head_trace_case(&mut scratch, options, name, facts);
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn any_head_dsc_is_written_as_its_facts_build_it(
            public_key in proptest::option::of(".{0,8}"),
            org_id in proptest::option::of("[0-9]{0,3}"),
            environment in ".{0,8}",
            release in proptest::option::of(".{0,8}"),
            name in ".{0,12}",
            url in proptest::bool::ANY,
            rate in proptest::option::of(0.0f64..=1.0),
            sampled in proptest::option::of(proptest::bool::ANY),
            rand in 0.0f64..1.0,
        ) {
            let options = Arc::new(HeadOptions { public_key, org_id, environment, release });
            let source = if url { TransactionSource::Url } else { TransactionSource::Route };
            head_trace_case(&mut Scratch::default(), &options, (&name, source), (rate, sampled, rand));
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
        ]
        .into();
        record.spans[0]
            .data_mut()
            .push(("http.query".into(), FieldValue::Str("q=1".into())));
        record.spans[0]
            .data_mut()
            .push(("db.password".into(), FieldValue::I64(1)));
        record.spans[0]
            .data_mut()
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
        record.root.details_mut().op = None;
        record.root.metadata = Some(&METADATA);
        record.spans[0].metadata = Some(&METADATA);
        record.spans[0].details_mut().description = None;
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
        record.root.details_mut().op = None;
        record.root.metadata = Some(&METADATA);
        record.spans[0].details_mut().op = None;
        record.spans[1].metadata = Some(&METADATA);
        record.spans[1]
            .data_mut()
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
        record.dsc = TransactionDsc::Frozen(Arc::new(DynamicSamplingContext::new()));
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
        record.root.end = instant_at_micros(0) - Duration::from_secs(1);
        record.spans[0].end = instant_at_micros(0);
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
        let base = record.spans[0].details_mut().description.take();
        assert!(base.is_none());
        let filler = MAX_ITEM_BYTES - overhead - r#","description":"""#.len();
        for (extra, fits) in [(filler - 1, true), (filler, true), (filler + 1, false)] {
            record.spans[0].details_mut().description = Some("x".repeat(extra));
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
