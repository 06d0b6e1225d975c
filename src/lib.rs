//! tracing-sentry (work in progress)
#![deny(missing_docs)]
#![deny(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod builder;
pub mod export;
mod headers;
mod id;
mod layer;
pub mod propagation;
mod rng;
pub mod sampling;
mod span_data;
mod span_ext;
mod stats;
mod status;
mod trace_context;

pub use builder::{
    BuildError, SentryLayerBuilder, DEFAULT_ENVIRONMENT, DEFAULT_MAX_SPANS, DEFAULT_QUEUE_CAPACITY,
    DEFAULT_SHUTDOWN_TIMEOUT,
};
pub use export::record::FieldValue;
pub use export::ExportGuard;
pub use headers::{
    current_headers, current_trace_context, headers_for_url, inject_current_headers,
    inject_headers_for_url, BAGGAGE, SENTRY_TRACE, TRACEPARENT,
};
pub use id::{ParseIdError, SpanId, TraceId};
pub use layer::{continue_trace, SentryLayer};
pub use propagation::{DynamicSamplingContext, PropagationContext, SentryTrace};
pub use sampling::SamplingContext;
pub use span_ext::{SentrySpanExt, SetParentError};
pub use stats::Stats;
pub use status::{SpanStatus, UnknownSpanStatus};
pub use trace_context::TraceContext;
