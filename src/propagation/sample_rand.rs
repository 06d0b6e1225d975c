//! `sample_rand` and `sample_rate` values (spec 3.2).

/// Parses a `sample_rand`: a float in `[0, 1)`.
pub fn parse_sample_rand(s: &str) -> Option<f64> { let _ = s; unimplemented!() }
/// Parses a `sample_rate`: a float in `[0, 1]`.
pub fn parse_sample_rate(s: &str) -> Option<f64> { let _ = s; unimplemented!() }
/// Formats a `sample_rand` with six decimals, truncated.
pub fn format_sample_rand(value: f64) -> String { let _ = value; unimplemented!() }
/// The interval a missing `sample_rand` is drawn from so that the incoming decision is reproduced.
pub fn backfill_interval(sampled: Option<bool>, sample_rate: Option<f64>) -> Option<(f64, f64)> { let _ = (sampled, sample_rate); unimplemented!() }
/// Draws a six-decimal value in `[lo, hi)` using `u`, a uniform float in `[0, 1)`.
pub fn sample_rand_in(lo: f64, hi: f64, u: f64) -> f64 { let _ = (lo, hi, u); unimplemented!() }
