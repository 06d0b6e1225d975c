//! The head-of-trace DSC before it is built: what the layer's options give it
//! ([`HeadOptions`], one copy per layer) and what one trace gives it ([`HeadFacts`]).
//!
//! A local root that starts a trace freezes its DSC the first time the DSC leaves the process
//! (an outgoing `baggage`, a linked event). A root whose DSC never left needs it only for its
//! transaction's envelope header: the record carries these facts instead, and the export
//! sender builds the DSC, so the instrumented thread never does.

use std::sync::Arc;

use super::dsc::{DynamicSamplingContext, HeadDsc};
use crate::id::TraceId;

/// The layer's options that go into every head DSC it builds.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct HeadOptions {
    /// The DSN's public key.
    pub(crate) public_key: Option<String>,
    pub(crate) org_id: Option<String>,
    pub(crate) environment: String,
    pub(crate) release: Option<String>,
}

/// One trace's values for its head DSC: everything but the trace id and the transaction's
/// name, which the root (or its transaction record) holds already.
#[derive(Clone, Debug)]
pub(crate) struct HeadFacts {
    pub(crate) options: Arc<HeadOptions>,
    /// The rate the local decision applied, if a local rate decided.
    pub(crate) sample_rate: Option<f64>,
    /// `None` while the decision is deferred (tracing not configured).
    pub(crate) sampled: Option<bool>,
    pub(crate) sample_rand: f64,
}

impl HeadFacts {
    /// Builds the head DSC of trace `trace_id`, whose transaction is named `name`.
    ///
    /// `transaction` names the transaction for dynamic-sampling rules: it is left out when the
    /// name is a raw URL (`name_is_url`: it would be high-cardinality and may hold private
    /// data), and when tracing is not configured, since no transaction then exists (Sentry's
    /// SDKs leave it out too, vector ps-010).
    pub(crate) fn build(
        &self,
        trace_id: TraceId,
        name: &str,
        name_is_url: bool,
    ) -> DynamicSamplingContext {
        let options = &*self.options;
        HeadDsc {
            trace_id,
            public_key: options.public_key.as_deref(),
            org_id: options.org_id.as_deref(),
            environment: &options.environment,
            release: options.release.as_deref(),
            transaction: (self.sampled.is_some() && !name_is_url).then_some(name),
            sample_rate: self.sample_rate,
            sampled: self.sampled,
            sample_rand: self.sample_rand,
        }
        .build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(sampled: Option<bool>) -> HeadFacts {
        HeadFacts {
            options: Arc::new(HeadOptions {
                public_key: Some("49d0".to_owned()),
                org_id: Some("7".to_owned()),
                environment: "prod".to_owned(),
                release: None,
            }),
            sample_rate: sampled.map(|_| 0.5),
            sampled,
            sample_rand: 0.25,
        }
    }

    const TRACE: &str = "771a43a4192642f0b136d5159a501700";

    #[test]
    fn the_head_dsc_names_its_transaction_unless_the_name_is_a_url() {
        let named = facts(Some(true)).build(TRACE.parse().unwrap(), "GET /users", false);
        assert_eq!(
            named.to_baggage().unwrap(),
            "sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-public_key=49d0,\
             sentry-org_id=7,sentry-environment=prod,sentry-transaction=GET%20%2Fusers,\
             sentry-sample_rate=0.5,sentry-sampled=true,sentry-sample_rand=0.250000"
        );
        let url = facts(Some(false)).build(TRACE.parse().unwrap(), "/users/42", true);
        assert_eq!(url.get("transaction"), None);
        assert_eq!(url.get("sampled"), Some("false"));
    }

    #[test]
    fn without_a_decision_there_is_no_transaction_and_no_sampled() {
        let dsc = facts(None).build(TRACE.parse().unwrap(), "GET /users", false);
        assert_eq!(dsc.get("transaction"), None);
        assert_eq!(dsc.get("sampled"), None);
        assert_eq!(dsc.get("sample_rate"), None);
        assert_eq!(dsc.get("sample_rand"), Some("0.250000"));
    }
}
