//! What differs from one provider to the next, in one place.
//!
//! A provider module implements [`Provider`] for a marker type: its name, its
//! default base URL, its client, its environment variables, and the few things the
//! shared layer must ask it: which headers carry the request and trace ids,
//! where the server's own request id is, how an error body yields a message,
//! how it reports rate limits and how long it asks a client to wait. Everything
//! else (retries, time limits, auth, pagination, errors) is shared.

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::engine::hooks::{Hooks, text_field};
use crate::engine::transport::Transport;
use crate::values::rate_limit::RateLimit;

/// What a provider module tells the shared layer.
///
/// Only the first three items are required; the others have defaults that fit
/// an API without request ids or rate-limit headers of its own. Its
/// environment variables come with [`FromEnv`](crate::client::FromEnv).
///
/// ```
/// use cloud_images::provider::{ApiClient, Provider};
/// use cloud_images::transport::Transport;
///
/// struct Example;
/// struct ExampleClient(String);
///
/// impl ApiClient for ExampleClient {
///     fn from_parts(base_url: &str, _http: reqwest::Client, _transport: Transport) -> Self {
///         ExampleClient(base_url.to_owned())
///     }
/// }
///
/// impl Provider for Example {
///     const NAME: &'static str = "Example";
///     const DEFAULT_BASE_URL: &'static str = "https://api.example.com";
///     type Client = ExampleClient;
/// }
///
/// let body = serde_json::json!({"message": "no such image"});
/// assert_eq!(Example::error_message(&body).as_deref(), Some("no such image"));
/// let client = cloud_images::ClientBuilder::<Example>::new().build().unwrap();
/// assert_eq!(client.0, "https://api.example.com");
/// ```
pub trait Provider: Sized {
    /// The provider's name, for messages.
    const NAME: &'static str;
    /// The API's base URL.
    const DEFAULT_BASE_URL: &'static str;
    /// The generated client.
    type Client: ApiClient;

    /// The header that carries the request id the client makes for every
    /// attempt (a fresh UUID v4, unless the call chose one).
    const REQUEST_ID_HEADER: &'static str = crate::values::ids::REQUEST_ID_HEADER;
    /// The header that carries the client's trace id.
    const TRACE_ID_HEADER: &'static str = crate::values::ids::TRACE_ID_HEADER;

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
        crate::engine::retry::retry_after(headers, now)
    }
}

/// A client made of its base URL, an HTTP client and the crate's
/// [`Transport`]: what every generated client is (the providers' modules
/// implement it once for their generated client).
pub trait ApiClient: Sized {
    /// The client for `base_url`, sending through `http` and `transport`.
    fn from_parts(base_url: &str, http: reqwest::Client, transport: Transport) -> Self;
}

impl Hooks {
    /// The hooks of provider `P`.
    pub(crate) fn of<P: Provider>() -> Self {
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
