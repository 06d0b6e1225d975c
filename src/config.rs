//! [`Config`]: a layer's resolved options, shared by every span of the layer through an `Arc`.
//!
//! The builder resolves them once; span code reads them here and never depends on the builder.

use std::fmt;
use std::sync::Arc;

use crate::export::ExportHandle;
use crate::propagation::PropagationTargets;
use crate::sampling::SamplingOptions;
use crate::stats::StatsInner;

/// The layer's resolved options, shared by every span through an `Arc`.
pub(crate) struct Config {
    pub(crate) public_key: Option<String>,
    pub(crate) org_id: Option<String>,
    pub(crate) release: Option<String>,
    pub(crate) environment: String,
    pub(crate) sampling: SamplingOptions,
    pub(crate) strict_trace_continuation: bool,
    pub(crate) targets: PropagationTargets,
    pub(crate) propagate_traceparent: bool,
    pub(crate) accept_traceparent: bool,
    pub(crate) forward_third_party_baggage: bool,
    pub(crate) max_spans: usize,
    /// `Some` when transactions are recorded and exported.
    pub(crate) export: Option<ExportHandle>,
    pub(crate) stats: Arc<StatsInner>,
}

impl Config {
    /// Whether sampled spans are recorded (tracing is configured and there is somewhere to send).
    pub(crate) fn records(&self) -> bool {
        self.export.is_some() && self.sampling.tracing_enabled()
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("public_key", &self.public_key)
            .field("org_id", &self.org_id)
            .field("release", &self.release)
            .field("environment", &self.environment)
            .field("traces_sample_rate", &self.sampling.traces_sample_rate)
            .field("traces_sampler", &self.sampling.traces_sampler.is_some())
            .field("strict_trace_continuation", &self.strict_trace_continuation)
            .field("propagate_traceparent", &self.propagate_traceparent)
            .field("accept_traceparent", &self.accept_traceparent)
            .field("exports", &self.export.is_some())
            .finish()
    }
}
