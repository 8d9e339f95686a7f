//! A provider's rate-limit state, as an answer reports it.

use std::time::{Duration, SystemTime};

use http::HeaderMap;

/// A provider's rate-limit state, as one answer reported it.
///
/// ```no_run
/// # async fn demo(client: &cloud_images::contabo::Client) -> Result<(), cloud_images::Error> {
/// use cloud_images::Execute;
///
/// let stats = client.retrieve_custom_images_stats().execute().await?;
/// if let Some(limit) = stats.rate_limit() {
///     println!("{:?} of {:?} requests left", limit.remaining, limit.limit);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct RateLimit {
    /// Requests allowed in the provider's window.
    pub limit: Option<u64>,
    /// Requests left in the window.
    pub remaining: Option<u64>,
    /// When the window resets (may lie in the past).
    pub reset: Option<SystemTime>,
    /// Requests allowed in a burst (IONOS).
    pub burst: Option<u64>,
}

impl RateLimit {
    /// Reads whole numbers from the named headers; `None` when none is there.
    pub fn from_headers(
        headers: &HeaderMap,
        limit: &str,
        remaining: &str,
        reset_epoch_seconds: Option<&str>,
        burst: Option<&str>,
    ) -> Option<Self> {
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let found = Self {
            limit: number(limit),
            remaining: number(remaining),
            reset: reset_epoch_seconds
                .and_then(number)
                .and_then(|secs| SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs))),
            burst: burst.and_then(number),
        };
        (found != Self::default()).then_some(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limits_are_read_from_the_named_headers() {
        let mut headers = HeaderMap::new();
        assert_eq!(
            RateLimit::from_headers(&headers, "ratelimit-limit", "ratelimit-remaining", None, None),
            None
        );
        headers.insert("ratelimit-limit", "5000".parse().unwrap());
        headers.insert("ratelimit-remaining", "4999".parse().unwrap());
        headers.insert("ratelimit-reset", "1700000000".parse().unwrap());
        let got = RateLimit::from_headers(
            &headers,
            "ratelimit-limit",
            "ratelimit-remaining",
            Some("ratelimit-reset"),
            None,
        )
        .unwrap();
        assert_eq!(got.limit, Some(5000));
        assert_eq!(got.remaining, Some(4999));
        assert_eq!(
            got.reset,
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000))
        );
        headers.insert("ratelimit-remaining", "lots".parse().unwrap());
        let got = RateLimit::from_headers(&headers, "ratelimit-limit", "ratelimit-remaining", None, None);
        assert_eq!(
            got.unwrap().remaining,
            None,
            "a value that is not a number is left out"
        );
    }
}
