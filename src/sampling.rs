//! Head sampling: `traces_sample_rate`, `traces_sampler`, and consistent decisions through
//! `sample_rand` (spec section 3).
//!
//! A decision is made once per local root (a span with no parent, or a span given a remote
//! parent) and inherited by every child. The rule is always `sample_rand < rate`, with a strict
//! comparison, so a rate of `0.0` never samples and `1.0` always does, and every service that
//! sees the same `sample_rand` and rate reaches the same decision.

use std::borrow::Cow;
use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use tracing_core::{Level, Metadata};

use crate::field::FieldValue;
use crate::stats::StatsInner;

/// A user-supplied sampling function: returns the sample rate in `[0, 1]` for a new local root.
///
/// Values outside `[0, 1]` (and NaN) are clamped. A sampler that panics is caught: the span is
/// treated as not sampled (rate `0`) and the panic is counted in
/// [`Stats::sampler_panics`](crate::Stats), so a panicking sampler can never panic the layer
/// or lose a transaction silently.
pub(crate) type TracesSampler = Arc<dyn Fn(&SamplingContext<'_>) -> f64 + Send + Sync>;

/// What a [`traces_sampler`](crate::SentryLayerBuilder::traces_sampler) sees about a span that
/// starts a trace or continues one.
///
/// # Examples
///
/// ```no_run
/// use tracing_sentry::{SamplingContext, SentryLayer};
///
/// let layer = SentryLayer::builder()
///     .traces_sampler(|ctx: &SamplingContext<'_>| {
///         // Keep the caller's decision where there is one.
///         if let Some(sampled) = ctx.parent_sampled() {
///             return if sampled { 1.0 } else { 0.0 };
///         }
///         match ctx.name() {
///             "health_check" => 0.0,
///             _ if ctx.field("user.tier").and_then(|v| v.as_str()) == Some("gold") => 1.0,
///             _ => 0.25,
///         }
///     })
///     .build()?;
/// # drop(layer);
/// # Ok::<(), tracing_sentry::BuildError>(())
/// ```
pub struct SamplingContext<'a> {
    pub(crate) metadata: &'static Metadata<'static>,
    pub(crate) fields: &'a [(Cow<'static, str>, FieldValue)],
    pub(crate) parent_sampled: Option<bool>,
    pub(crate) parent_sample_rate: Option<f64>,
}

impl<'a> SamplingContext<'a> {
    /// Returns the span's name.
    pub fn name(&self) -> &'static str {
        self.metadata.name()
    }

    /// Returns the span's target (usually its module path).
    pub fn target(&self) -> &'static str {
        self.metadata.target()
    }

    /// Returns the span's level.
    pub fn level(&self) -> &'static Level {
        self.metadata.level()
    }

    /// Returns the value of a field recorded when the span was created, if any.
    ///
    /// Fields are available when the sampler runs at span creation, and when a remote parent is
    /// attached to a span that was already recording. A span that was not recording when its
    /// remote parent arrived (its own trace was unsampled) shows the sampler no fields.
    pub fn field(&self, name: &str) -> Option<&'a FieldValue> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// Returns every field recorded when the span was created.
    pub fn fields(&self) -> impl Iterator<Item = (&'a str, &'a FieldValue)> + 'a {
        self.fields.iter().map(|(k, v)| (k.as_ref(), v))
    }

    /// Returns the remote parent's decision: `Some` when a `sentry-trace` header carried `-1` or
    /// `-0`, `None` for a new trace or a deferred one.
    pub fn parent_sampled(&self) -> Option<bool> {
        self.parent_sampled
    }

    /// Returns the remote parent's sample rate (the incoming `sentry-sample_rate`), if any.
    ///
    /// Returning it keeps the whole trace at the rate its head chose, as Sentry recommends.
    pub fn parent_sample_rate(&self) -> Option<f64> {
        self.parent_sample_rate
    }
}

impl fmt::Debug for SamplingContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SamplingContext")
            .field("name", &self.name())
            .field("target", &self.target())
            .field("level", self.level())
            .field("fields", &self.fields.len())
            .field("parent_sampled", &self.parent_sampled)
            .field("parent_sample_rate", &self.parent_sample_rate)
            .finish()
    }
}

/// The outcome of head sampling for one local root.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Decision {
    /// `Some(true)`/`Some(false)` once decided; `None` while deferred (tracing not configured).
    pub(crate) sampled: Option<bool>,
    /// The rate that was applied locally, if a local rate decided (goes into the DSC).
    pub(crate) applied_rate: Option<f64>,
    /// Not sampled only because backpressure handling lowered the rate.
    pub(crate) downsampled: bool,
}

impl Decision {
    /// Applies backpressure handling's downsampling: a rate this process applied is divided
    /// by `2^factor` (an inherited decision is kept, so that traces stay whole). A span the
    /// full rate would have sampled and the lowered one does not is marked `downsampled`.
    pub(crate) fn downsample(mut self, sample_rand: f64, factor: u32) -> Self {
        let (Some(rate), true) = (self.applied_rate, factor > 0) else {
            return self;
        };
        let lowered = rate / f64::from(1u32 << factor.min(30));
        if self.sampled == Some(true) && sample_rand >= lowered {
            self.sampled = Some(false);
            self.downsampled = true;
        }
        self.applied_rate = Some(lowered);
        self
    }
}

/// The sampling options of a layer.
#[derive(Clone, Default)]
pub(crate) struct SamplingOptions {
    pub(crate) traces_sample_rate: Option<f64>,
    pub(crate) traces_sampler: Option<TracesSampler>,
}

impl SamplingOptions {
    /// Whether tracing (span export) is enabled at all; without a rate or a sampler the crate
    /// only propagates ("tracing without performance").
    pub(crate) fn tracing_enabled(&self) -> bool {
        self.traces_sample_rate.is_some() || self.traces_sampler.is_some()
    }

    /// Decides for a local root, with the precedence of spec 3.1: the sampler, then the parent's
    /// decision, then the rate. `ctx` is built lazily because it needs the span's fields.
    pub(crate) fn decide(
        &self,
        sample_rand: f64,
        parent_sampled: Option<bool>,
        sampler_ctx: impl FnOnce() -> Option<f64>,
    ) -> Decision {
        if self.traces_sampler.is_some() {
            if let Some(rate) = sampler_ctx() {
                let rate = clamp_rate(rate);
                return Decision {
                    sampled: Some(sample_rand < rate),
                    applied_rate: Some(rate),
                    downsampled: false,
                };
            }
        }
        if let Some(sampled) = parent_sampled {
            // An inherited decision keeps the incoming sample_rate in the frozen DSC (spec 3.3,
            // as JavaScript does); the decision is kept even without tracing configured (ps-011).
            return Decision {
                sampled: Some(sampled),
                applied_rate: None,
                downsampled: false,
            };
        }
        match self.traces_sample_rate {
            Some(rate) => {
                let rate = clamp_rate(rate);
                Decision {
                    sampled: Some(sample_rand < rate),
                    applied_rate: Some(rate),
                    downsampled: false,
                }
            }
            None => Decision {
                sampled: None,
                applied_rate: None,
                downsampled: false,
            },
        }
    }

    /// Runs the user's sampler, if any. A sampler that panics is contained: the panic is
    /// counted in `sampler_panics` and the span is treated as not sampled (rate `0`).
    pub(crate) fn run_sampler(&self, ctx: &SamplingContext<'_>, stats: &StatsInner) -> Option<f64> {
        let sampler = self.traces_sampler.as_ref()?;
        match std::panic::catch_unwind(AssertUnwindSafe(|| sampler(ctx))) {
            Ok(rate) => Some(rate),
            Err(_) => {
                StatsInner::incr(&stats.sampler_panics);
                Some(0.0)
            }
        }
    }
}

/// Clamps a rate into `[0, 1]`; NaN becomes `0`.
pub(crate) fn clamp_rate(rate: f64) -> f64 {
    if rate.is_nan() {
        0.0
    } else {
        rate.clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(rate: Option<f64>) -> SamplingOptions {
        SamplingOptions {
            traces_sample_rate: rate,
            traces_sampler: None,
        }
    }

    #[test]
    fn the_rule_is_a_strict_comparison() {
        #[rustfmt::skip]
        let table = [
            (0.0, 0.0, false), (0.0, 0.25, true), (0.25, 0.5, true),
            (0.5, 0.5, false), (0.75, 0.5, false), (0.75, 1.0, true), (0.999999, 1.0, true),
        ];
        for (rand, rate, sampled) in table {
            let d = opts(Some(rate)).decide(rand, None, || None);
            assert_eq!(d.sampled, Some(sampled), "rand {rand} rate {rate}");
            assert_eq!(d.applied_rate, Some(rate));
        }
    }

    #[test]
    fn an_inherited_decision_wins_over_the_rate_and_applies_no_rate() {
        let d = opts(Some(0.0)).decide(0.1, Some(true), || None);
        assert_eq!(
            d,
            Decision {
                sampled: Some(true),
                applied_rate: None,
                downsampled: false,
            }
        );
        let d = opts(Some(1.0)).decide(0.1, Some(false), || None);
        assert_eq!(d.sampled, Some(false));
    }

    #[test]
    fn backpressure_halves_a_local_rate_per_step_and_keeps_inherited_decisions() {
        let rate = opts(Some(0.5));
        // sample_rand 0.3: sampled at 0.5, not at 0.25.
        let d = rate.decide(0.3, None, || None).downsample(0.3, 1);
        assert_eq!(
            (d.sampled, d.applied_rate, d.downsampled),
            (Some(false), Some(0.25), true)
        );
        // 0.1 stays sampled at 0.25 and 0.125 but not at 0.0625.
        let d = rate.decide(0.1, None, || None).downsample(0.1, 2);
        assert_eq!((d.sampled, d.downsampled), (Some(true), false));
        let d = rate.decide(0.1, None, || None).downsample(0.1, 3);
        assert_eq!((d.sampled, d.downsampled), (Some(false), true));
        // A span the full rate did not sample is not counted as downsampled.
        let d = rate.decide(0.9, None, || None).downsample(0.9, 3);
        assert_eq!((d.sampled, d.downsampled), (Some(false), false));
        // Healthy: nothing changes; inherited decisions are never lowered.
        let d = rate.decide(0.3, None, || None);
        assert_eq!(d.downsample(0.3, 0), d);
        let d = rate.decide(0.99, Some(true), || None).downsample(0.99, 10);
        assert_eq!((d.sampled, d.downsampled), (Some(true), false));
    }

    #[test]
    fn without_tracing_the_decision_stays_deferred_unless_inherited() {
        assert_eq!(opts(None).decide(0.1, None, || None).sampled, None);
        assert_eq!(
            opts(None).decide(0.1, Some(true), || None).sampled,
            Some(true)
        );
    }

    #[test]
    fn a_sampler_has_the_final_say_and_its_rate_is_clamped() {
        let o = SamplingOptions {
            traces_sample_rate: Some(1.0),
            traces_sampler: Some(Arc::new(|_| 0.0)),
        };
        let d = o.decide(0.0, Some(true), || Some(-3.0));
        assert_eq!(
            d,
            Decision {
                sampled: Some(false),
                applied_rate: Some(0.0),
                downsampled: false,
            }
        );
        let d = o.decide(0.5, None, || Some(f64::NAN));
        assert!(!d.downsampled);
        assert_eq!(d.sampled, Some(false));
        let d = o.decide(0.5, None, || Some(7.0));
        assert_eq!(
            d,
            Decision {
                sampled: Some(true),
                applied_rate: Some(1.0),
                downsampled: false,
            }
        );
    }
}
