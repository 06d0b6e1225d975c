//! What the privacy rules and the `before_send_*` hooks cost the export senders per
//! transaction, next to what building its envelope costs (the baseline, in the same run).
//!
//! Instructions come from callgrind, counting only inside the rules
//! (`Privacy::process_transaction`) and, separately, inside the envelope builder:
//!
//! ```sh
//! cargo bench --bench privacy_hooks --no-run
//! BIN=$(ls -t target/release/deps/privacy_hooks-* | grep -v '\.d$' | head -1)
//! for c in defaults none hooks ignore; do
//!   valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.$c \
//!     --toggle-collect='tracing_sentry::export::policy::privacy::Privacy::process_transaction*' \
//!     --toggle-collect='tracing_sentry::export::wire::envelope::EnvelopeBytes::from_transaction*' \
//!     $BIN --config $c --spans 10 --transactions 200
//! done   # then: callgrind_annotate --inclusive=yes /tmp/cg.$c | grep -E 'process_transaction|from_transaction'
//! ```
//!
//! `--config`: `none` (empty denylist, `send_default_pii(true)`: the rules' fixed cost),
//! `defaults` (the default denylist, `send_default_pii(false)`), `hooks` (the defaults plus a
//! `before_send_span` that sets one data entry and a `before_send_transaction` that renames the
//! transaction), `ignore` (the defaults plus two `ignore_spans` names and a predicate that
//! match nothing).
//!
//! Measured (10 children of 4 fields and a root of 2, 200 transactions, per transaction).
//! Without `before_send_*` hooks nothing sees the spans before they are written, so the
//! envelope writer applies private data and the denylist itself as it writes, and
//! `process_transaction` returns at once: the rules' cost is then the envelope's difference to
//! `none`.
//!
//! | config | `process_transaction` | `from_transaction` | both | over `none` |
//! |---|--:|--:|--:|--:|
//! | `none` | 0 | 22,360 | 22,360 | |
//! | `defaults` | 0 | 24,460 | 24,460 | 2,100 |
//! | `hooks` | 15,100 | 27,860 | 42,960 | 20,600 |
//! | `ignore` | 0 | 23,310 | 23,310 | 950 |
//!
//! Comparing every denylist word at every position of a key would cost 47,000 for `defaults`
//! (1.4 times the envelope). Indexing the words by first byte brings that to 19,500; judging
//! each key once per sender (its verdict remembered by the key's address) and applying the
//! verdicts while writing, to 2,100.

use std::time::Duration;

use tracing_sentry::export::InMemoryTransport;
use tracing_sentry::{FieldValue, SentryLayer};
use tracing_subscriber::prelude::*;

fn arg<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    let at = args.iter().position(|a| a == name)?;
    args.get(at + 1).map(String::as_str)
}

/// One transaction like the interop service's, with fields a scrubber looks at: a server root
/// and `spans` children of four fields each.
fn record(spans: u32) {
    let root = tracing::info_span!(
        "http.server",
        sentry.op = "http.server",
        http.route = "/call",
        http.request.method = "GET"
    );
    root.in_scope(|| {
        for i in 0..spans {
            tracing::info_span!(
                "query",
                db.system = "postgresql",
                db.statement = "SELECT 1",
                rows = i,
                auth_token = "t"
            )
            .in_scope(|| {});
        }
    });
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let config = arg(&args, "--config").unwrap_or("defaults").to_owned();
    let spans = arg(&args, "--spans")
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let transactions: u32 = arg(&args, "--transactions")
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let transport = InMemoryTransport::new();
    let mut builder = SentryLayer::builder()
        .traces_sample_rate(1.0)
        .queue_capacity(100_000)
        .transport(transport.clone());
    match config.as_str() {
        "none" => {
            builder = builder
                .data_denylist(Vec::<String>::new())
                .send_default_pii(true);
        }
        "hooks" => {
            builder = builder
                .before_send_span(|span| span.set_data("scrubbed", FieldValue::Bool(true)))
                .before_send_transaction(|tx| {
                    tx.set_name("renamed");
                    true
                });
        }
        "ignore" => {
            builder = builder
                .ignore_spans(["health", "metrics"])
                .ignore_spans_where(|span| span.target() == "hyper");
        }
        _ => {}
    }
    let (layer, guard) = builder.build().expect("layer");
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        for _ in 0..transactions {
            record(spans);
        }
    });
    assert!(guard.flush(Duration::from_secs(30)));
    println!(
        "{config}: {} envelopes, {} bytes in the first",
        transport.len(),
        transport
            .envelopes()
            .first()
            .map_or(0, |e| e.as_bytes().len())
    );
}
