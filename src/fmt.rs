//! Log correlation in local logs (feature `fmt`): [`WithTraceIds`] prints the trace id and span
//! id of each event's span on every line written by `tracing-subscriber`'s fmt layer.

use std::fmt;

use tracing_core::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use crate::trace_context::TraceContext;

/// A [`FormatEvent`] that writes `trace_id=<32 hex> span_id=<16 hex> ` before what the wrapped
/// format writes, for events inside a span that has a Sentry trace context.
///
/// It reads the event's span from the formatter's context (an explicit `parent:` or the
/// contextual current span), not from the global dispatcher, so it works with scoped
/// subscribers (`with_default`) and any layer stack built on a `Registry`. Events outside any
/// span are written as the wrapped format writes them.
///
/// # Examples
///
/// ```
/// use tracing_sentry::fmt::WithTraceIds;
/// use tracing_sentry::SentryLayer;
/// use tracing_subscriber::prelude::*;
///
/// let fmt = tracing_subscriber::fmt::layer()
///     .event_format(WithTraceIds::new(tracing_subscriber::fmt::format()))
///     .with_test_writer();
/// let subscriber = tracing_subscriber::registry().with(SentryLayer::new()).with(fmt);
/// tracing::subscriber::with_default(subscriber, || {
///     // ... trace_id=771a43a4192642f0b136d5159a501700 span_id=b7ad6b7169203331  INFO request: handled
///     tracing::info_span!("request").in_scope(|| tracing::info!("handled"));
/// });
/// ```
#[derive(Clone, Debug, Default)]
pub struct WithTraceIds<F> {
    inner: F,
}

impl<F> WithTraceIds<F> {
    /// Wraps `inner`, the format that writes the rest of the line (for example
    /// `tracing_subscriber::fmt::format()` or `.json()` of it).
    ///
    /// # Examples
    ///
    /// ```
    /// let format = tracing_sentry::fmt::WithTraceIds::new(tracing_subscriber::fmt::format().compact());
    /// let _layer = tracing_subscriber::fmt::layer::<tracing_subscriber::Registry>().event_format(format);
    /// ```
    pub fn new(inner: F) -> Self {
        Self { inner }
    }
}

impl<S, N, F> FormatEvent<S, N> for WithTraceIds<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let trace = ctx
            .parent_span()
            .and_then(|span| TraceContext::from_span_ref(&span));
        if let Some(trace) = trace {
            write!(
                writer,
                "trace_id={} span_id={} ",
                trace.trace_id(),
                trace.span_id()
            )?;
        }
        self.inner.format_event(ctx, writer, event)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::prelude::*;

    use super::*;
    use crate::{SentryLayer, SentrySpanExt};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_line_in_a_span_carries_its_ids_and_lines_outside_do_not() {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let fmt = tracing_subscriber::fmt::layer()
            .event_format(WithTraceIds::new(
                tracing_subscriber::fmt::format()
                    .without_time()
                    .with_ansi(false),
            ))
            .with_writer(move || writer.clone());
        let subscriber = tracing_subscriber::registry()
            .with(SentryLayer::new())
            .with(fmt);
        let (root_ctx, child_ctx) = tracing::subscriber::with_default(subscriber, || {
            tracing::info!("outside");
            let root = tracing::info_span!("request");
            let child = tracing::info_span!(parent: &root, "query");
            root.in_scope(|| tracing::info!("in root"));
            tracing::info!(parent: &child, "in child");
            (
                root.trace_context().unwrap(),
                child.trace_context().unwrap(),
            )
        });
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(
            lines[0].starts_with(" INFO") || lines[0].starts_with("INFO"),
            "{}",
            lines[0]
        );
        assert!(!lines[0].contains("trace_id="));
        let expect =
            |ctx: &TraceContext| format!("trace_id={} span_id={} ", ctx.trace_id(), ctx.span_id());
        assert!(lines[1].starts_with(&expect(&root_ctx)), "{}", lines[1]);
        assert!(lines[2].starts_with(&expect(&child_ctx)), "{}", lines[2]);
        assert_ne!(root_ctx.span_id(), child_ctx.span_id());
    }
}
