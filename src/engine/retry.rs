//! When and how long to wait before trying a request again.

use std::time::{Duration, SystemTime};

use backon::{BackoffBuilder, ExponentialBuilder};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

/// Which failures are retried, how often, and how long to wait in between.
///
/// Retried: 429, 502, 503 and 504 answers and transport errors for GET, HEAD,
/// OPTIONS, PUT, PATCH and DELETE; 500 answers for the idempotent ones among
/// them (not PATCH), as the AWS SDKs do (Contabo's 500 asks to try again).
/// Never retried: a request that cannot be made (a URL too long or
/// unparsable): it would fail the same way. A POST is retried only
/// when the server never processed it: its connection could not be made, or
/// an HTTP/2 server refused its stream (`REFUSED_STREAM`) or shut the
/// connection down gracefully (`GOAWAY` with `NO_ERROR`) before it. The wait
/// grows exponentially with full jitter; a `Retry-After` from the server
/// (seconds or an HTTP date) is honoured instead when it is at most
/// [`max_retry_after`](Self::max_retry_after), and ends the retries when it is
/// longer. Every attempt sends a fresh `x-request-id`.
///
/// ```
/// use std::time::Duration;
/// use cloud_images::RetryPolicy;
///
/// let default = RetryPolicy::default();
/// assert_eq!(default.max_attempts(), 3);
///
/// let patient = RetryPolicy::default()
///     .with_max_attempts(6)
///     .with_initial_backoff(Duration::from_millis(500));
/// assert_eq!(patient.max_attempts(), 6);
/// assert_eq!(RetryPolicy::disabled().max_attempts(), 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_retry_after: Duration,
}

impl Default for RetryPolicy {
    /// 3 attempts in total, back-off from 200 ms up to 5 s, `Retry-After`
    /// honoured up to 30 s.
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// One attempt, no retries.
    pub fn disabled() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Attempts in total, the first included (at least 1).
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The first back-off (before jitter); each further one doubles.
    pub fn with_initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// The longest back-off.
    pub fn with_max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// The longest `Retry-After` that is waited for; a longer one ends the
    /// retries and the error reports it.
    pub fn with_max_retry_after(mut self, cap: Duration) -> Self {
        self.max_retry_after = cap;
        self
    }

    /// Attempts in total.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The longest `Retry-After` that is waited for.
    pub fn max_retry_after(&self) -> Duration {
        self.max_retry_after
    }

    /// The back-off delays between attempts, jittered.
    pub(crate) fn backoff(&self) -> impl Iterator<Item = Duration> + Send + use<> {
        // backon's jitter multiplies by a float, which overflows near
        // `Duration::MAX`; a century is as good as forever.
        let cap = Duration::from_secs(100 * 365 * 24 * 3600);
        let first = self.initial_backoff.min(cap);
        ExponentialBuilder::default()
            .with_min_delay(first)
            .with_max_delay(self.max_backoff.min(cap).max(first))
            .with_factor(2.0)
            .with_jitter()
            .without_max_times()
            .build()
            // backon's jitter adds up to one delay; halve for a wait in [d/2, d).
            .map(|d| d / 2)
    }
}

/// Whether an answer with this status is worth another attempt: 429, 502,
/// 503 and 504 say the server (or a proxy before it) did not handle the
/// request; a 500 may have come after a change was made, so it is retried
/// only for an `idempotent` request (GET, HEAD, OPTIONS, PUT, DELETE), as
/// the AWS SDKs' transient-error classifiers do.
pub(crate) fn is_retryable_status(status: StatusCode, idempotent: bool) -> bool {
    match status.as_u16() {
        429 | 502 | 503 | 504 => true,
        500 => idempotent,
        _ => false,
    }
}

/// The server's `Retry-After`, as seconds or as an HTTP date (a date in the
/// past means now).
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_500_is_retried_only_for_idempotent_methods() {
        let status = |n| StatusCode::from_u16(n).unwrap();
        for code in [429, 502, 503, 504] {
            assert!(is_retryable_status(status(code), true), "{code}");
            assert!(is_retryable_status(status(code), false), "{code}");
        }
        assert!(is_retryable_status(status(500), true));
        assert!(!is_retryable_status(status(500), false));
        for code in [200, 400, 401, 404, 501, 505] {
            assert!(!is_retryable_status(status(code), true), "{code}");
        }
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(
            retry_after(&headers, SystemTime::now()),
            Some(Duration::from_secs(7))
        );

        let later = SystemTime::now() + Duration::from_secs(120);
        headers.insert(RETRY_AFTER, httpdate::fmt_http_date(later).parse().unwrap());
        let got = retry_after(&headers, SystemTime::now()).unwrap();
        assert!(
            got > Duration::from_secs(110) && got <= Duration::from_secs(120),
            "{got:?}"
        );

        headers.insert(RETRY_AFTER, "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap());
        assert_eq!(
            retry_after(&headers, SystemTime::now()),
            Some(Duration::ZERO),
            "a past date means now"
        );

        headers.insert(RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&headers, SystemTime::now()), None);
    }

    #[test]
    fn huge_backoffs_saturate_instead_of_panicking() {
        let policy = RetryPolicy::default()
            .with_initial_backoff(Duration::MAX)
            .with_max_backoff(Duration::MAX);
        let delays: Vec<Duration> = policy.backoff().take(3).collect();
        assert!(
            delays.iter().all(|d| *d >= Duration::from_secs(365 * 24 * 3600)),
            "{delays:?}"
        );
    }

    #[test]
    fn backoff_grows_and_stays_capped() {
        let policy = RetryPolicy::default()
            .with_initial_backoff(Duration::from_millis(100))
            .with_max_backoff(Duration::from_millis(800));
        let delays: Vec<Duration> = policy.backoff().take(8).collect();
        for d in &delays {
            assert!(*d <= Duration::from_millis(800), "{delays:?}");
        }
        assert!(
            delays[0] >= Duration::from_millis(50) && delays[0] < Duration::from_millis(100),
            "{delays:?}"
        );
        assert!(delays[7] >= Duration::from_millis(400), "{delays:?}");
    }
}
