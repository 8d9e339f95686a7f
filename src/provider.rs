//! What differs from one provider to the next, in one place.
//!
//! A provider module implements [`Provider`] for a marker type: its name, its
//! default base URL, how its generated client is made, and the few things the
//! shared layer must ask it: which headers carry the request and trace ids,
//! where the server's own request id is, how an error body yields a message,
//! how it reports rate limits and how long it asks a client to wait. Everything
//! else (retries, time limits, auth, pagination, errors) is shared.

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::transport::Transport;

/// What a provider module tells the shared layer.
///
/// Only the first four items are required; the others have defaults that fit
/// an API without request ids or rate-limit headers of its own.
///
/// ```
/// use cloud_images::{Provider, Transport};
///
/// struct Example;
/// struct ExampleClient(String);
///
/// impl Provider for Example {
///     const NAME: &'static str = "Example";
///     const DEFAULT_BASE_URL: &'static str = "https://api.example.com";
///     type Client = ExampleClient;
///     fn new_client(base_url: &str, _http: reqwest::Client, _transport: Transport) -> ExampleClient {
///         ExampleClient(base_url.to_owned())
///     }
/// }
///
/// let body = serde_json::json!({"message": "no such image"});
/// assert_eq!(Example::error_message(&body).as_deref(), Some("no such image"));
/// ```
pub trait Provider {
    /// The provider's name, for messages.
    const NAME: &'static str;
    /// The API's base URL.
    const DEFAULT_BASE_URL: &'static str;
    /// The generated client.
    type Client;
    /// Makes the generated client.
    fn new_client(base_url: &str, http: reqwest::Client, transport: Transport) -> Self::Client;

    /// The header that carries the request id the client makes for every
    /// attempt (a fresh UUID v4, unless the call chose one).
    const REQUEST_ID_HEADER: &'static str = crate::request_id::REQUEST_ID_HEADER;
    /// The header that carries the client's trace id.
    const TRACE_ID_HEADER: &'static str = crate::request_id::TRACE_ID_HEADER;

    /// The request id the provider's support can look up, when the server
    /// sends its own: from the answer's headers, or from an error body. When
    /// this gives `None`, responses and errors report the id the client sent.
    fn server_request_id(headers: &HeaderMap, error_body: Option<&Value>) -> Option<String> {
        let _ = (headers, error_body);
        None
    }

    /// The human message of an error body (default: a non-empty `message`).
    fn error_message(body: &Value) -> Option<String> {
        text_field(body, "message")
    }

    /// The rate-limit state an answer reports (default: none).
    fn rate_limit(headers: &HeaderMap) -> Option<RateLimit> {
        let _ = headers;
        None
    }

    /// How long the server asks a client to wait before trying again
    /// (default: `Retry-After`, in seconds or as an HTTP date).
    fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
        crate::retry::retry_after(headers, now)
    }
}

/// A non-empty string field of a JSON object.
pub(crate) fn text_field(body: &Value, field: &str) -> Option<String> {
    body.get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

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

/// A provider's answers to the shared layer, as plain function pointers the
/// transport keeps (it is not generic over the provider).
#[derive(Clone, Copy)]
pub(crate) struct Hooks {
    pub name: &'static str,
    pub request_id_header: &'static str,
    pub trace_id_header: &'static str,
    pub server_request_id: fn(&HeaderMap, Option<&Value>) -> Option<String>,
    pub error_message: fn(&Value) -> Option<String>,
    pub rate_limit: fn(&HeaderMap) -> Option<RateLimit>,
    pub retry_after: fn(&HeaderMap, SystemTime) -> Option<Duration>,
}

impl Hooks {
    pub fn of<P: Provider>() -> Self {
        Self {
            name: P::NAME,
            request_id_header: P::REQUEST_ID_HEADER,
            trace_id_header: P::TRACE_ID_HEADER,
            server_request_id: P::server_request_id,
            error_message: P::error_message,
            rate_limit: P::rate_limit,
            retry_after: P::retry_after,
        }
    }
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("name", &self.name)
            .field("request_id_header", &self.request_id_header)
            .field("trace_id_header", &self.trace_id_header)
            .finish_non_exhaustive()
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
