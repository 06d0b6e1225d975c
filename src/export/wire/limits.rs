//! Every size or count limit of Sentry's ingestion (Relay) that the wire writers respect, in
//! one place, each with its source. Limits the SDK chooses for itself (queue and buffer bounds,
//! flush thresholds) live with the code that applies them; only what Sentry imposes is here.

/// The largest transaction item payload Sentry accepts: 1 MiB (spec 7.1, "Size limit: 1 MiB
/// per event or transaction item"). A larger transaction is dropped before sending, as a `413`
/// would drop it.
pub(crate) const MAX_ITEM_BYTES: usize = 1024 * 1024;

/// The largest span v2 item payload a batch of streamed spans may become: 10 MiB (the span
/// buffer rules of the develop docs' span streaming page, which `@sentry/node`'s and
/// `sentry-sdk`'s buffers follow: a batch is sent at about 5 MiB and never exceeds 10 MiB).
pub(crate) const MAX_SPAN_ITEM_BYTES: usize = 10 * 1024 * 1024;

/// The most spans one span v2 item holds: 1,000 (spec 7.4, "`{"items":[…]}` with 1 to 1000
/// spans").
pub(crate) const MAX_SPANS_PER_ITEM: usize = 1000;

/// The most bytes of JSON Sentry's ingestion keeps of a span's fields in a transaction: Relay
/// trims the trace context and each span as a "large" data bag of 8,192 estimated bytes
/// (relay-event-normalization's `BagSize::Large`). What does not fit is cut by the writer, the
/// fields written last first, and the cut is recorded in `_meta`.
pub(crate) const MAX_SPAN_BYTES: usize = 8192;

/// The largest `log` or `trace_metric` item payload a batch may become: 10 MiB, the container
/// limit of the span v2 item. Batches are handed on at 1 MiB (estimated), far below it.
pub(crate) const MAX_TELEMETRY_ITEM_BYTES: usize = 10 * 1024 * 1024;
