//! Sentry's rate limits, per data category, as every export sender shares them
//! (develop docs: sdk/expected-features/rate-limiting).
//!
//! - `X-Sentry-Rate-Limits: <retry_after>:<categories>:<scope>[:<reason>...][, ...]` on any
//!   response: `categories` is a `;`-separated list, empty meaning every category. Categories
//!   we do not send, and malformed groups, are ignored.
//! - Otherwise, a `429` with `Retry-After` (delay-seconds or an HTTP date) limits everything;
//!   a `429` with neither header, or one that cannot be parsed, limits everything for 60 s.
//!
//! Deadlines are kept on the monotonic clock, so a wall-clock jump cannot lift or extend a limit.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use crate::export::wire::calendar::parse_http_date;
use crate::export::wire::category::DataCategory;
use crate::export::TransportResponse;

/// How long to back off after a `429` without a usable `Retry-After`.
pub(crate) const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(60);

/// The rate limits in force, per category.
#[derive(Debug, Default)]
pub(crate) struct RateLimiter {
    /// Every category (a `429` + `Retry-After`, or an empty category list).
    all: Option<Instant>,
    /// One deadline per [`DataCategory`].
    categories: [Option<Instant>; DataCategory::COUNT],
}

impl RateLimiter {
    /// Returns how long `category` stays limited, or `None` if it may be sent.
    pub(crate) fn limit(&self, category: DataCategory, now: Instant) -> Option<Duration> {
        let own = self.categories.get(category.index()).copied().flatten();
        [self.all, own]
            .into_iter()
            .flatten()
            .filter(|&until| until > now)
            .max()
            .map(|until| until - now)
    }

    /// Whether any limit, on any category, is in force at `now`.
    pub(crate) fn any_in_force(&self, now: Instant) -> bool {
        self.all
            .iter()
            .chain(self.categories.iter().flatten())
            .any(|&until| until > now)
    }

    /// Whether [`update`](Self::update) could set a limit from `response`: it carries
    /// `X-Sentry-Rate-Limits`, or it is a `429`. Anything else leaves the limits as they are.
    #[inline]
    pub(crate) fn may_limit(response: &TransportResponse) -> bool {
        response.rate_limits().is_some() || response.status() == 429
    }

    /// Returns how long transactions stay limited, or `None` if they may be sent.
    #[cfg(test)]
    pub(crate) fn transaction_limit(&self, now: Instant) -> Option<Duration> {
        self.limit(DataCategory::Transaction, now)
    }

    /// Applies the rate-limit information of `response`; returns whether it set or extended a
    /// limit on a category we send.
    pub(crate) fn update(
        &mut self,
        response: &TransportResponse,
        now: Instant,
        wall_now: SystemTime,
    ) -> bool {
        if let Some(header) = response.rate_limits() {
            return self.update_from_sentry_header(header, now);
        }
        if response.status() == 429 {
            let delay = response
                .retry_after()
                .and_then(|value| parse_retry_after(value, wall_now))
                .unwrap_or(DEFAULT_RETRY_AFTER);
            return set(&mut self.all, now, delay);
        }
        false
    }

    fn update_from_sentry_header(&mut self, header: &str, now: Instant) -> bool {
        let mut changed = false;
        for group in header.split(',') {
            let mut parts = group.trim().split(':');
            let (Some(secs), Some(categories)) = (parts.next(), parts.next()) else {
                continue;
            };
            let Some(delay) = parse_seconds(secs) else {
                continue;
            };
            if categories.is_empty() {
                changed |= set(&mut self.all, now, delay);
                continue;
            }
            for category in categories.split(';').filter_map(DataCategory::from_name) {
                if let Some(slot) = self.categories.get_mut(category.index()) {
                    changed |= set(slot, now, delay);
                }
            }
        }
        changed
    }
}

/// The rate limits every sender shares, checked without a lock while none is in force.
#[derive(Debug, Default)]
pub(crate) struct RateGate {
    limiter: Mutex<RateLimiter>,
    /// Whether the limiter may hold a limit in force: set (under the limiter's lock) by every
    /// response that can limit, cleared (under it) when a check finds none in force. While
    /// clear, [`limited`](Self::limited) answers without the lock or the clock.
    set: AtomicBool,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl RateGate {
    /// Whether `category` is limited now.
    #[inline]
    pub(crate) fn limited(&self, category: DataCategory) -> bool {
        self.set.load(Ordering::Acquire) && self.limited_now(category)
    }

    /// [`limited`](Self::limited) once a limit may be in force: under the limiter's lock.
    #[cold]
    fn limited_now(&self, category: DataCategory) -> bool {
        let now = Instant::now();
        let limiter = lock(&self.limiter);
        if limiter.limit(category, now).is_some() {
            return true;
        }
        if !limiter.any_in_force(now) {
            self.set.store(false, Ordering::Release);
        }
        false
    }

    /// Whether a limit on any category is in force now.
    pub(crate) fn any_limited(&self) -> bool {
        self.set.load(Ordering::Acquire) && lock(&self.limiter).any_in_force(Instant::now())
    }

    /// Applies the rate-limit information of `response`; returns whether it set or extended a
    /// limit on a category we send.
    #[inline]
    pub(crate) fn apply(&self, response: &TransportResponse) -> bool {
        RateLimiter::may_limit(response) && self.apply_now(response)
    }

    #[cold]
    fn apply_now(&self, response: &TransportResponse) -> bool {
        let mut limiter = lock(&self.limiter);
        let changed = limiter.update(response, Instant::now(), SystemTime::now());
        self.set.store(true, Ordering::Release);
        changed
    }
}

/// Sets `slot` to `now + delay` (the newest answer wins); returns whether that limits anything.
fn set(slot: &mut Option<Instant>, now: Instant, delay: Duration) -> bool {
    let until = now
        .checked_add(delay)
        .or_else(|| now.checked_add(DEFAULT_RETRY_AFTER));
    *slot = until;
    until.is_some_and(|until| until > now)
}

/// Parses non-negative (possibly fractional) seconds, rounded up.
fn parse_seconds(value: &str) -> Option<Duration> {
    let secs: f64 = value.trim().parse().ok()?;
    if secs.is_nan() || secs < 0.0 {
        return None;
    }
    Duration::try_from_secs_f64(secs.ceil()).ok()
}

/// Parses `Retry-After`: delay-seconds, or an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`,
/// the form RFC 9110 requires senders to use). A date in the past means no delay.
pub(crate) fn parse_retry_after(value: &str, wall_now: SystemTime) -> Option<Duration> {
    if let Some(delay) = parse_seconds(value) {
        return Some(delay);
    }
    let at = parse_http_date(value)?;
    Some(at.duration_since(wall_now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    #[test]
    fn only_a_header_or_a_429_may_limit() {
        assert!(!RateLimiter::may_limit(&TransportResponse::new(200)));
        assert!(!RateLimiter::may_limit(&TransportResponse::new(503)));
        assert!(RateLimiter::may_limit(&TransportResponse::new(429)));
        assert!(RateLimiter::may_limit(
            &TransportResponse::new(200).with_rate_limits("60:span:key")
        ));
        // What `update` does with the responses `may_limit` turns away: nothing.
        let now = Instant::now();
        let mut rl = RateLimiter::default();
        assert!(!rl.update(&TransportResponse::new(200), now, SystemTime::now()));
        assert!(!rl.update(&TransportResponse::new(503), now, SystemTime::now()));
        assert!(!rl.any_in_force(now));
    }

    #[test]
    fn any_in_force_sees_every_category_until_its_deadline() {
        let now = Instant::now();
        let mut rl = RateLimiter::default();
        assert!(!rl.any_in_force(now));
        let response = TransportResponse::new(200).with_rate_limits("5:internal:key");
        assert!(rl.update(&response, now, SystemTime::now()));
        assert!(rl.any_in_force(now));
        assert!(rl.any_in_force(now + Duration::from_secs(4)));
        assert!(!rl.any_in_force(now + Duration::from_secs(5)));
        let everything = TransportResponse::new(429).with_retry_after("10");
        assert!(rl.update(&everything, now, SystemTime::now()));
        assert!(rl.any_in_force(now + Duration::from_secs(9)));
        assert!(!rl.any_in_force(now + Duration::from_secs(10)));
    }

    #[test]
    fn each_category_is_limited_on_its_own() {
        let now = Instant::now();
        let mut rl = RateLimiter::default();
        let response = TransportResponse::new(200).with_rate_limits("60:span:key, 5:internal:key");
        assert!(rl.update(&response, now, SystemTime::now()));
        let secs = |c| rl.limit(c, now).map(|d| d.as_secs());
        assert_eq!(
            secs(DataCategory::Transaction),
            None,
            "transactions still go"
        );
        assert_eq!(secs(DataCategory::Span), Some(60));
        assert_eq!(secs(DataCategory::Internal), Some(5));
        // An "all categories" limit covers every one of them.
        let response = TransportResponse::new(200).with_rate_limits("10::organization");
        rl.update(&response, now, SystemTime::now());
        let secs = |c| rl.limit(c, now).map(|d| d.as_secs());
        assert_eq!(secs(DataCategory::Transaction), Some(10));
        assert_eq!(secs(DataCategory::Span), Some(60), "the longer limit wins");
    }

    fn limited_for(rl: &RateLimiter, now: Instant) -> Option<u64> {
        rl.transaction_limit(now).map(|d| d.as_secs())
    }

    #[test]
    fn sentry_header_limits_transactions_or_everything() {
        let now = Instant::now();
        let wall = SystemTime::now();
        #[rustfmt::skip]
        let table: &[(&str, Option<u64>, &str)] = &[
            ("60:transaction:key", Some(60), "transaction category"),
            ("60:transaction;error:key:quota_exceeded", Some(60), "one of several categories, with reason"),
            ("30::organization", Some(30), "empty category list = all"),
            ("60:metric_bucket:key", None, "a category we do not send only"),
            ("60:error:key, 10:transaction:project", Some(10), "several groups"),
            ("2.5:transaction:key", Some(3), "fractional seconds round up"),
            ("abc:transaction:key", None, "unparseable seconds"),
            ("-5:transaction:key", None, "negative seconds"),
            ("60", None, "no category field"),
            ("", None, "empty header"),
            ("60:transactions:key", None, "near-miss category name"),
        ];
        for &(header, want, why) in table {
            let mut rl = RateLimiter::default();
            let response = TransportResponse::new(200).with_rate_limits(header);
            let changed = rl.update(&response, now, wall);
            assert_eq!(limited_for(&rl, now), want, "{why}: {header:?}");
            assert_eq!(changed, want.is_some(), "{why}: {header:?}");
        }
    }

    #[test]
    fn sentry_header_wins_over_retry_after() {
        let now = Instant::now();
        let mut rl = RateLimiter::default();
        let response = TransportResponse::new(429)
            .with_retry_after("120")
            .with_rate_limits("60:error:key");
        assert!(
            rl.update(&response, now, SystemTime::now()),
            "errors are limited"
        );
        assert_eq!(limited_for(&rl, now), None, "transactions are not");
        assert!(rl.limit(DataCategory::Error, now).is_some());
    }

    #[test]
    fn a_429_uses_retry_after_or_sixty_seconds() {
        let now = Instant::now();
        let wall = UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        #[rustfmt::skip]
        let table: &[(Option<&str>, u64, &str)] = &[
            (Some("30"), 30, "delay-seconds"),
            (Some(" 7 "), 7, "whitespace around seconds"),
            (Some("0"), 0, "zero"),
            (None, 60, "no header"),
            (Some("soon"), 60, "unparseable"),
            (Some("-1"), 60, "negative"),
            (Some("1e400"), 60, "overflowing float"),
            (Some("Sun, 06 Nov 1994 08:51:37 GMT"), 120, "HTTP date two minutes ahead"),
            (Some("Sun, 06 Nov 1994 08:49:47 GMT"), 10, "HTTP date ten seconds ahead"),
            (Some("Sun, 06 Nov 1994 08:00:00 GMT"), 0, "HTTP date in the past"),
            (Some("Sunday, 06-Nov-94 08:49:37 GMT"), 60, "obsolete RFC 850 date"),
            (Some("Sun, 31 Feb 1994 08:49:37 GMT"), 60, "impossible date"),
        ];
        for &(retry_after, want, why) in table {
            let mut rl = RateLimiter::default();
            let mut response = TransportResponse::new(429);
            if let Some(value) = retry_after {
                response = response.with_retry_after(value);
            }
            rl.update(&response, now, wall);
            let got = rl.transaction_limit(now).map_or(0, |d| d.as_secs());
            assert_eq!(got, want, "{why}: {retry_after:?}");
        }
    }

    #[test]
    fn retry_after_on_success_is_ignored() {
        let now = Instant::now();
        let mut rl = RateLimiter::default();
        assert!(!rl.update(
            &TransportResponse::new(200).with_retry_after("60"),
            now,
            SystemTime::now()
        ));
        assert!(!rl.update(
            &TransportResponse::new(503).with_retry_after("60"),
            now,
            SystemTime::now()
        ));
        assert_eq!(limited_for(&rl, now), None);
    }

    #[test]
    fn limits_expire() {
        let now = Instant::now();
        let mut rl = RateLimiter::default();
        rl.update(
            &TransportResponse::new(429).with_retry_after("5"),
            now,
            SystemTime::now(),
        );
        assert!(rl.transaction_limit(now).is_some());
        assert!(rl.transaction_limit(now + Duration::from_secs(5)).is_none());
    }

    proptest::proptest! {
        #[test]
        fn header_parsing_never_panics(value in "\\PC*") {
            let now = Instant::now();
            let mut rl = RateLimiter::default();
            rl.update(&TransportResponse::new(429).with_retry_after(value.clone()), now, SystemTime::now());
            rl.update(&TransportResponse::new(200).with_rate_limits(value), now, SystemTime::now());
        }

        #[test]
        fn date_like_values_never_panic(
            day in 0u32..100, year in proptest::prelude::any::<u64>(),
            h in 0u64..100, m in 0u64..100, s in 0u64..100,
        ) {
            let value = format!("Sun, {day:02} Nov {year} {h:02}:{m:02}:{s:02} GMT");
            let _ = parse_retry_after(&value, SystemTime::now());
            let _ = parse_retry_after(&format!("{year}e300"), SystemTime::now());
        }
    }
}
