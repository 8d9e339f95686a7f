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

use crate::engine::builder::ClientBuilder;
use crate::engine::transport::Transport;
use crate::values::error::Error;
use crate::values::rate_limit::RateLimit;

/// What a provider module tells the shared layer.
///
/// Only the first three items are required; the others have defaults that fit
/// an API without request ids, rate-limit headers or environment variables
/// of its own.
///
/// ```
/// use cloud_images::provider::{ApiClient, Provider};
/// use cloud_images::Transport;
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
/// let client = cloud_images::ClientBuilder::<Example>::from_lookup(|_| None).unwrap().build().unwrap();
/// assert_eq!(client.0, "https://api.example.com");
/// ```
pub trait Provider: Sized {
    /// The provider's name, for messages.
    const NAME: &'static str;
    /// The API's base URL.
    const DEFAULT_BASE_URL: &'static str;
    /// The generated client.
    type Client: ApiClient;

    /// Sets up `builder` from the provider's own environment variables, as
    /// `lookup` gives them (an empty value counts as unset; default: none).
    /// A missing or invalid variable is an [`Error::Config`] naming it.
    fn configure(
        builder: ClientBuilder<Self>,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<ClientBuilder<Self>, Error> {
        let _ = lookup;
        Ok(builder)
    }

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
/// implement it with [`impl_generated_client`]).
pub trait ApiClient: Sized {
    /// The client for `base_url`, sending through `http` and `transport`.
    fn from_parts(base_url: &str, http: reqwest::Client, transport: Transport) -> Self;
}

/// A non-empty string field of a JSON object.
pub(crate) fn text_field(body: &Value, field: &str) -> Option<String> {
    body.get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
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

/// What a provider's module writes once for its generated client: the
/// progenitor hooks into the [`Transport`], [`ApiClient`], and the
/// constructors `builder()` and `from_env()` and the getter `transport()`.
macro_rules! impl_generated_client {
    ($client:ty, $provider:ty) => {
        impl ::progenitor_client::ClientHooks<$crate::engine::transport::Transport> for $client {
            async fn pre<E>(
                &self,
                request: &mut ::reqwest::Request,
                info: &::progenitor_client::OperationInfo,
            ) -> ::std::result::Result<(), ::progenitor_client::Error<E>> {
                self.inner.pre(request, info).await
            }

            // Not an `async fn`: that would be one more future holding the
            // request.
            fn exec(
                &self,
                request: ::reqwest::Request,
                info: &::progenitor_client::OperationInfo,
            ) -> impl ::std::future::Future<Output = ::reqwest::Result<::reqwest::Response>> {
                self.inner.exec(&self.client, request, info)
            }
        }

        impl $crate::engine::provider::ApiClient for $client {
            fn from_parts(
                base_url: &str,
                http: ::reqwest::Client,
                transport: $crate::engine::transport::Transport,
            ) -> Self {
                Self::new_with_client(base_url, http, transport)
            }
        }

        impl $client {
            /// A builder for a client of this provider, with its defaults
            /// (its public API's base URL, the default retries and time
            /// limits); see [`ClientBuilder`]($crate::ClientBuilder).
            pub fn builder() -> $crate::ClientBuilder<$provider> {
                $crate::ClientBuilder::new()
            }

            /// A client configured from the provider's environment
            /// variables: [`ClientBuilder::from_env`]($crate::ClientBuilder::from_env),
            /// then `build()`.
            pub fn from_env() -> ::std::result::Result<Self, $crate::Error> {
                $crate::ClientBuilder::<$provider>::from_env()?.build()
            }

            /// The client's request pipeline (retry policy, time limits).
            pub fn transport(&self) -> &$crate::engine::transport::Transport {
                &self.inner
            }
        }
    };
}
pub(crate) use impl_generated_client;
