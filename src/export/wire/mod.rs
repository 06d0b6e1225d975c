//! The wire: bytes only. JSON and time encoding, the envelope writer and reader, the
//! transaction, span v2, log and metric items, client-report items, the DSN, the SDK's identity, and every
//! size or count limit of Sentry's ingestion. No threads, no policy: nothing here imports the
//! pipeline or the policy, and its writers are tested by building records and reading the bytes
//! back.

pub(crate) mod calendar;
pub(crate) mod category;
pub(crate) mod client_report;
pub(crate) mod dsn;
pub(crate) mod envelope;
pub(crate) mod json;
pub(crate) mod key_facts;
pub(crate) mod limits;
pub(crate) mod log_item;
pub(crate) mod metric_item;
pub(crate) mod sdk;
pub(crate) mod span_item;
pub(crate) mod transaction;
