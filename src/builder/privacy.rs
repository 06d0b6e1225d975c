//! The builder's options for what may leave the process (see the
//! [`what_is_sent`](crate::what_is_sent) page): `send_default_pii`, the data denylist,
//! `ignore_spans` (applied when a span is created) and the `before_send_*` hooks (run on the
//! export worker, like the private-data rules and the denylist).

use std::sync::Arc;

use super::SentryLayerBuilder;
use crate::export::{SpanView, TransactionView};

impl SentryLayerBuilder {
    /// Sends data that identifies users (default `false`, as in Sentry's SDKs).
    ///
    /// Off, span data keys that carry user data by Sentry's and OpenTelemetry's conventions are
    /// removed before sending, whoever recorded them: query strings and fragments
    /// (`http.query`, `http.fragment`, `url.query`, `url.fragment`), the client's address and
    /// user agent (`client.address`, `client.port`, `http.client_ip`, `user_agent.original`,
    /// `http.user_agent`), request and response headers and cookies (`http.request.header.*`,
    /// `http.response.header.*`, `http.request.cookies*`) and user attributes (`user.id`,
    /// `user.email`, `user.name`, `user.username`, `user.full_name`, `user.hash`,
    /// `user.ip_address`, `enduser.id`). The [denylist](Self::data_denylist) applies either
    /// way. On, the `tower` server integration also records the query string
    /// (`http.query`), the user agent (`user_agent.original`) and the client's address as
    /// proxies report it (`client.address`: `X-Forwarded-For`'s first entry, else
    /// `X-Real-IP`). With a `sentry` client (feature `sentry`) and no call of this method, the
    /// client's `send_default_pii` applies.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let (layer, _guard) = tracing_sentry::SentryLayer::builder().send_default_pii(true).build()?;
    /// # drop(layer);
    /// # Ok::<(), tracing_sentry::BuildError>(())
    /// ```
    pub fn send_default_pii(mut self, send: bool) -> Self {
        self.send_default_pii = Some(send);
        self
    }

    /// Replaces the data denylist (default [`DEFAULT_DENYLIST`](crate::export::DEFAULT_DENYLIST)).
    ///
    /// The value of every span data entry whose key contains one of these words, in any case
    /// (`db.password`, `Authorization`, `refresh_token`), is sent as `[Filtered]`. An empty
    /// list filters nothing. To add words, extend the default.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use tracing_sentry::export::DEFAULT_DENYLIST;
    ///
    /// let words = DEFAULT_DENYLIST.iter().copied().chain(["iban", "ssn"]);
    /// let (layer, _guard) = tracing_sentry::SentryLayer::builder().data_denylist(words).build()?;
    /// # drop(layer);
    /// # Ok::<(), tracing_sentry::BuildError>(())
    /// ```
    pub fn data_denylist<I, S>(mut self, words: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let words: Vec<String> = words.into_iter().map(Into::into).collect();
        self.privacy.denylist = crate::export::Denylist::new(words);
        self
    }

    /// Never sends spans whose name contains one of `names` (the span's `sentry.name` if it
    /// set one, else its `tracing` name), as the `ignoreSpans` option of Sentry's SDKs.
    ///
    /// The rules apply when a span is created, to its name and creation fields (a name or
    /// field recorded later is not seen). An ignored child span is never recorded (it takes no
    /// place among the transaction's [`max_spans`](Self::max_spans), and is not streamed) and
    /// its children attach to its nearest recorded ancestor; an ignored root is not sampled, as
    /// in Sentry's JavaScript SDK: its trace propagates as not sampled (`-0`) and nothing of it
    /// is sent. Both are counted ([`Stats::spans_ignored`](crate::Stats::spans_ignored),
    /// [`Stats::transactions_ignored`](crate::Stats::transactions_ignored)) and reported to
    /// Sentry with reason `ignored`. Rules add up across calls. With no rule, a new span pays
    /// one branch for them.
    ///
    /// A span filtered out of this layer with `tracing-subscriber`'s per-layer filters
    /// (`layer.with_filter(...)`) is not recorded either and its children attach the same way,
    /// but nothing is counted or reported. Use a filter for whole targets or levels you never
    /// want traced, and `ignore_spans` for spans chosen by their name or fields, or when the
    /// loss should show in Sentry's stats.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let (layer, _guard) = tracing_sentry::SentryLayer::builder()
    ///     .ignore_spans(["GET /health", "db.ping"])
    ///     .build()?;
    /// # drop(layer);
    /// # Ok::<(), tracing_sentry::BuildError>(())
    /// ```
    pub fn ignore_spans<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.ignore
            .names
            .extend(names.into_iter().map(Into::into).filter(|n| !n.is_empty()));
        self
    }

    /// Never sends spans for which `predicate` returns `true`; it sees the span's name, target,
    /// op, description and data (its fields). Otherwise as [`ignore_spans`](Self::ignore_spans).
    /// A panicking predicate ignores nothing and is counted in
    /// [`Stats::ignore_predicate_panics`](crate::Stats::ignore_predicate_panics).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let (layer, _guard) = tracing_sentry::SentryLayer::builder()
    ///     .ignore_spans_where(|span| {
    ///         span.target().starts_with("hyper") || span.get_data("cache.hit").is_some()
    ///     })
    ///     .build()?;
    /// # drop(layer);
    /// # Ok::<(), tracing_sentry::BuildError>(())
    /// ```
    pub fn ignore_spans_where<F>(mut self, predicate: F) -> Self
    where
        F: Fn(&SpanView<'_>) -> bool + Send + Sync + 'static,
    {
        self.ignore.predicates.push(Arc::new(predicate));
        self
    }

    /// Calls `hook` on every span about to be sent (a transaction's root and each child), on
    /// the export worker, after the private data and the denylist were removed. It may change
    /// the op, description, status and data; it cannot drop the span (Sentry's spans spec: use
    /// [`ignore_spans`](Self::ignore_spans) or `before_send_transaction` for that).
    ///
    /// If it panics, the panic is caught and counted in
    /// [`Stats::before_send_panics`](crate::Stats::before_send_panics), and the transaction is
    /// not sent (reported as `before_send`): a scrubber that failed half-way may have left what
    /// it was written to remove.
    ///
    /// See [`SpanView`] for an example.
    pub fn before_send_span<F>(mut self, hook: F) -> Self
    where
        F: Fn(&mut SpanView<'_>) + Send + Sync + 'static,
    {
        self.privacy.before_send_span = Some(Arc::new(hook));
        self
    }

    /// Calls `hook` on every transaction about to be sent, on the export worker, after
    /// `before_send_span`. It may rename it, edit its root and child spans, remove child spans
    /// ([`TransactionView::retain_spans`]), and returns `false` to drop it.
    ///
    /// A dropped transaction is counted in
    /// [`Stats::transactions_dropped_before_send`](crate::Stats::transactions_dropped_before_send)
    /// and reported to Sentry with reason `before_send` (one transaction and all its spans, root
    /// included); removed child spans as `before_send` spans. A panicking hook is caught and
    /// counted, and the transaction is dropped (see [`before_send_span`](Self::before_send_span)).
    ///
    /// See [`TransactionView`] for an example.
    pub fn before_send_transaction<F>(mut self, hook: F) -> Self
    where
        F: Fn(&mut TransactionView<'_>) -> bool + Send + Sync + 'static,
    {
        self.privacy.before_send_transaction = Some(Arc::new(hook));
        self
    }
}
