//! tracing-sentry (work in progress)
#![deny(missing_docs)]
#![deny(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod export;
mod id;
pub mod propagation;
mod rng;
mod stats;
mod status;

pub use export::ExportGuard;
pub use id::{ParseIdError, SpanId, TraceId};
pub use propagation::{DynamicSamplingContext, PropagationContext, SentryTrace};
pub use stats::Stats;
pub use status::{SpanStatus, UnknownSpanStatus};
