//! Sending a generated builder and turning its outcome into a [`Response`] or
//! an [`Error`] that carries the request id.

use std::ops::Deref;

use futures::FutureExt;
use futures::future::Either;

use progenitor_client::ResponseValue;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::engine::call::{Call, CallRecord};
use crate::engine::hooks::Hooks;
use crate::values::error::{AcceptedAnswer, ApiError, Error, Outcome, TimeoutKind};
use crate::values::ids::{CallOptions, check_id};
use crate::values::rate_limit::RateLimit;

/// A successful answer: the decoded body and what a user may need to quote.
///
/// Derefs to the body.
///
/// ```no_run
/// # async fn demo(client: &cloud_images::contabo::Client) -> Result<(), cloud_images::Error> {
/// use cloud_images::Execute;
///
/// let response = client.retrieve_custom_images_stats().execute().await?;
/// println!("request id {}", response.request_id().unwrap_or("-"));
/// let stats = response.into_inner();
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Response<T> {
    inner: T,
    status: StatusCode,
    headers: HeaderMap,
    request_id: Option<String>,
    attempts: u32,
    /// The provider's reading of its rate-limit headers, done when asked.
    read_rate_limit: fn(&HeaderMap) -> Option<RateLimit>,
}

impl<T: std::fmt::Debug> std::fmt::Debug for Response<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field("inner", &self.inner)
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("request_id", &self.request_id)
            .field("attempts", &self.attempts)
            .field("rate_limit", &self.rate_limit())
            .finish()
    }
}

impl<T> Response<T> {
    /// The decoded body.
    pub fn into_inner(self) -> T {
        self.inner
    }
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }
    /// The request id to quote to the provider's support: the server's own
    /// where the provider sends one (DigitalOcean), else the `x-request-id`
    /// the successful attempt sent.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }
    /// The rate-limit state the answer reported, where the provider reports
    /// one (read from the headers when asked).
    pub fn rate_limit(&self) -> Option<RateLimit> {
        (self.read_rate_limit)(&self.headers)
    }
    /// Attempts made, retries included.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
    /// Applies `f` to the body, keeping the metadata.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Response<U> {
        Response {
            inner: f(self.inner),
            status: self.status,
            headers: self.headers,
            request_id: self.request_id,
            attempts: self.attempts,
            read_rate_limit: self.read_rate_limit,
        }
    }
    /// Applies a fallible `f` to the body, keeping the metadata on success;
    /// `f` sees the request id (for its error).
    pub fn try_map<U, E>(self, f: impl FnOnce(T, Option<&str>) -> Result<U, E>) -> Result<Response<U>, E> {
        let inner = f(self.inner, self.request_id.as_deref())?;
        Ok(Response {
            inner,
            status: self.status,
            headers: self.headers,
            request_id: self.request_id,
            attempts: self.attempts,
            read_rate_limit: self.read_rate_limit,
        })
    }
}

impl<T> Deref for Response<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

/// For answers from no known provider.
fn no_rate_limit(_: &HeaderMap) -> Option<RateLimit> {
    None
}

/// Sends a generated request builder through the crate's layer.
///
/// Implemented for every operation builder of the generated clients. Compared
/// with the builder's own `send()`, the outcome is a [`Response`] with the
/// request id and attempt count, or an [`Error`] that names the operation, the
/// status, the API's message and the request id.
///
/// ```no_run
/// # async fn demo(client: &cloud_images::contabo::Client) -> Result<(), cloud_images::Error> {
/// use cloud_images::{CallOptions, Execute};
///
/// let image = client.retrieve_image().image_id("d5a1c1f0-35b8-4f0e-8a3a-1f1bd2a1c6e4").execute().await?;
/// // Choose the request id and trace id of one call:
/// let stats = client
///     .retrieve_custom_images_stats()
///     .execute_with(CallOptions::new().with_trace_id("nightly-sync"))
///     .await?;
/// # Ok(()) }
/// ```
pub trait Execute: Sized + Send {
    /// The decoded body of a success.
    type Output;
    /// The operation's name, as errors show it (e.g. `retrieve_image`).
    const OPERATION: &'static str;

    /// Sends the request with fresh request ids and the client's trace id.
    fn execute(self) -> impl Future<Output = Result<Response<Self::Output>, Error>> + Send {
        self.execute_with(CallOptions::default())
    }

    /// Sends the request with these per-call options.
    fn execute_with(
        self,
        options: CallOptions,
    ) -> impl Future<Output = Result<Response<Self::Output>, Error>> + Send;
}

/// Implements [`Execute`] for generated builders: `Builder<'_> => Output, "operation"`.
macro_rules! impl_execute {
    ($($builder:ty => $output:ty, $operation:literal;)+) => {$(
        impl $crate::Execute for $builder {
            type Output = $output;
            const OPERATION: &'static str = $operation;
            fn execute_with(
                self,
                options: $crate::CallOptions,
            ) -> impl ::std::future::Future<
                Output = ::std::result::Result<$crate::Response<$output>, $crate::Error>,
            > + Send {
                $crate::engine::execute::run($operation, options, self.send())
            }
        }
    )+};
}
pub(crate) use impl_execute;

/// Runs one generated call as the current [`Call`] and maps its outcome.
///
/// Made of combinators rather than an `async fn`, which would keep two
/// copies of `send` (the generated future, the largest part of a call).
pub(crate) fn run<T, E>(
    operation: &'static str,
    options: CallOptions,
    send: impl Future<Output = Result<ResponseValue<T>, progenitor_client::Error<E>>> + Send,
) -> impl Future<Output = Result<Response<T>, Error>> + Send
where
    T: DeserializeOwned + Send,
    E: Serialize + Send,
{
    if let Err(e) = check_options(operation, &options) {
        return Either::Left(std::future::ready(Err(e)));
    }
    let call = Call::new(options);
    Either::Right(Call::scope(call.clone(), send).map(move |result| finish(operation, &call, result)))
}

/// Refuses per-call ids that break the id rules, before anything is sent.
fn check_options(operation: &str, options: &CallOptions) -> Result<(), Error> {
    for (what, value) in [
        ("request id", options.request_id()),
        ("trace id", options.trace_id()),
    ] {
        if let Some(value) = value
            && let Err(reason) = check_id(what, value.as_bytes())
        {
            return Err(Error::InvalidRequest(format!("{operation}: {reason}")));
        }
    }
    Ok(())
}

/// The call's outcome from what the generated code returned and what the
/// call's record holds.
fn finish<T, E>(
    operation: &'static str,
    call: &Call,
    result: Result<ResponseValue<T>, progenitor_client::Error<E>>,
) -> Result<Response<T>, Error>
where
    T: DeserializeOwned,
    E: Serialize,
{
    let mut record = call.take_record();
    // What the transport refused wins, whatever the generated code made of it.
    if let Some(failure) = record.failure.take() {
        return Err(failure);
    }
    match result {
        Ok(value) => {
            let status = value.status();
            let headers = record.take_headers(value.headers());
            Ok(Response {
                inner: value.into_inner(),
                status,
                headers,
                request_id: record.request_id,
                attempts: record.attempts,
                read_rate_limit: record.provider.map_or(no_rate_limit, |p| p.rate_limit),
            })
        }
        Err(e) => Err(map_error::<T, E>(operation, e, record)),
    }
}

/// The error of a call whose record holds no failure of its own (`finish`
/// took that first).
fn map_error<T: DeserializeOwned, E: Serialize>(
    operation: &str,
    error: progenitor_client::Error<E>,
    mut record: CallRecord,
) -> Error {
    use progenitor_client::Error as P;
    let operation = operation.to_owned();
    let request_id = record.request_id.clone();
    let attempts = record.attempts;
    match error {
        P::InvalidRequest(message) => Error::InvalidRequest(format!("{operation}: {message}")),
        P::Custom(message) => Error::Auth(message),
        P::CommunicationError(e) | P::ResponseBodyError(e) | P::InvalidUpgrade(e) => {
            transport_error(operation, e, &record)
        }
        P::ErrorResponse(value) => {
            let status = value.status();
            let headers = record.take_headers(value.headers());
            let provider = Answer::new(record.provider, &headers);
            let body = serde_json::to_value(value.into_inner())
                .ok()
                .filter(|v| !v.is_null());
            Error::Api(Box::new(ApiError {
                operation,
                status,
                message: body.as_ref().and_then(|b| provider.message(b)),
                retry_after: provider.retry_after,
                request_id: provider.request_id(body.as_ref()).or(request_id),
                rate_limit: provider.rate_limit,
                body,
                attempts,
                outcome: record.outcome,
            }))
        }
        P::InvalidResponsePayload(bytes, e) => match record.status {
            // An error status whose body is not the one the spec declares
            // for it: still the API's error, with what the body says.
            Some(status) if !status.is_success() => {
                let headers = record.take_headers(&HeaderMap::new());
                api_error(operation, status, &headers, &bytes, &record)
            }
            // A change the server carried out, whose answer does not decode.
            Some(status) if record.outcome == Outcome::Applied => {
                let headers = record.take_headers(&HeaderMap::new());
                let provider = Answer::new(record.provider, &headers);
                let Error::Decode { path, message, .. } = decode_error::<T>(String::new(), &bytes, e, None)
                else {
                    unreachable!("decode_error makes a Decode")
                };
                let mut answer = AcceptedAnswer::new(operation, status, String::from_utf8_lossy(&bytes))
                    .with_decode_error(path, message)
                    .with_request_id(provider.request_id(None).or(request_id));
                answer.attempts = attempts;
                answer.into()
            }
            _ => decode_error::<T>(operation, &bytes, e, request_id),
        },
        P::UnexpectedResponse(response) => {
            let status = response.status();
            let headers = record.take_headers(response.headers());
            // The transport keeps the body of an `execute()` call's answer in
            // the record; a body still in the response is in memory.
            let bytes = match record.body.take() {
                Some(bytes) => bytes,
                None => match response.bytes().now_or_never() {
                    Some(Ok(bytes)) => bytes,
                    Some(Err(e)) => return transport_error(operation, e, &record),
                    None => bytes::Bytes::new(),
                },
            };
            api_error(operation, status, &headers, &bytes, &record)
        }
    }
}

/// The API's error from an answer's status, headers and raw body: the
/// message the provider (or [`best_message`]) finds in a JSON body, else
/// the body's text.
fn api_error(
    operation: String,
    status: StatusCode,
    headers: &HeaderMap,
    bytes: &[u8],
    record: &CallRecord,
) -> Error {
    let provider = Answer::new(record.provider, headers);
    let body: Option<serde_json::Value> = serde_json::from_slice(bytes).ok();
    let message = body.as_ref().and_then(|b| provider.message(b)).or_else(|| {
        let text = String::from_utf8_lossy(bytes);
        let text = text.trim();
        (!text.is_empty()).then(|| text.chars().take(200).collect())
    });
    Error::Api(Box::new(ApiError {
        operation,
        status,
        message,
        retry_after: provider.retry_after,
        request_id: provider
            .request_id(body.as_ref())
            .or_else(|| record.request_id.clone()),
        rate_limit: provider.rate_limit,
        body,
        attempts: record.attempts,
        outcome: record.outcome,
    }))
}

/// The human message of an error body in a shape no provider hook knows:
/// the first of `message`, `detail`, `error_description`, `error`, `title`,
/// `errorMessage` that says something (a string; an array of them, joined
/// with `; ` as Contabo's validation errors send them; or an object with a
/// message of its own), else the messages of a `messages` or `errors` list.
pub(crate) fn best_message(body: &serde_json::Value) -> Option<String> {
    best_message_within(body, 4)
}

fn best_message_within(body: &serde_json::Value, depth: u8) -> Option<String> {
    use serde_json::Value;
    let depth = depth.checked_sub(1)?;
    let said = |value: &Value| -> Option<String> {
        match value {
            Value::String(s) => Some(s.trim().to_owned()),
            Value::Array(items) => Some(
                items
                    .iter()
                    .filter_map(|item| match item {
                        Value::String(s) => Some(s.trim().to_owned()),
                        other => best_message_within(other, depth),
                    })
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            Value::Object(_) => best_message_within(value, depth),
            _ => None,
        }
        .filter(|s| !s.is_empty())
    };
    const KEYS: [&str; 8] = [
        "message",
        "detail",
        "error_description",
        "error",
        "title",
        "errorMessage",
        "messages",
        "errors",
    ];
    KEYS.iter().find_map(|key| body.get(key).and_then(said))
}

/// What the provider makes of an error answer's headers and body.
struct Answer<'a> {
    provider: Option<Hooks>,
    headers: &'a HeaderMap,
    retry_after: Option<std::time::Duration>,
    rate_limit: Option<RateLimit>,
}

impl<'a> Answer<'a> {
    fn new(provider: Option<Hooks>, headers: &'a HeaderMap) -> Self {
        let now = std::time::SystemTime::now();
        Self {
            provider,
            headers,
            retry_after: match provider {
                Some(p) => (p.retry_after)(headers, now),
                None => crate::engine::retry::retry_after(headers, now),
            },
            rate_limit: provider.and_then(|p| (p.rate_limit)(headers)),
        }
    }

    /// The provider's reading of the body, else the best message found in it.
    fn message(&self, body: &serde_json::Value) -> Option<String> {
        self.provider
            .and_then(|p| (p.error_message)(body))
            .or_else(|| best_message(body))
    }

    fn request_id(&self, body: Option<&serde_json::Value>) -> Option<String> {
        self.provider
            .and_then(|p| (p.server_request_id)(self.headers, body))
    }
}

fn transport_error(operation: String, source: reqwest::Error, record: &CallRecord) -> Error {
    let request_id = record.request_id.clone();
    let attempts = record.attempts;
    let outcome = record.outcome;
    // A request that could not be made (reqwest's builder errors: a URL too
    // long or unparsable for HTTP): the caller's input, not the network.
    if source.is_builder() && record.status.is_none() {
        return Error::InvalidRequest(format!(
            "{operation}: the request cannot be sent: {}",
            crate::values::text::transport_error_for_display(&source)
        ));
    }
    if source.is_timeout() && source.is_connect() {
        return Error::Timeout {
            operation,
            limit: TimeoutKind::Connect,
            after: record.connect_timeout.unwrap_or_default(),
            request_id,
            attempts,
            outcome,
        };
    }
    // The layer's own attempt and operation limits come as `Error::Timeout`
    // from the transport; any other time limit is the HTTP client's own
    // (one passed to `ClientBuilder::http_client`), whose length the layer
    // does not know: a transport error whose source says it timed out.
    Error::Transport {
        operation,
        kind: if source.is_connect() { "connect" } else { "request" },
        source,
        request_id,
        attempts,
        outcome,
    }
}

/// A decode error that names the field path, e.g. `data[2].imageId`.
pub(crate) fn decode_error<T: DeserializeOwned>(
    operation: String,
    bytes: &[u8],
    fallback: serde_json::Error,
    request_id: Option<String>,
) -> Error {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let (path, message) = match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Err(e) => (e.path().to_string(), e.into_inner().to_string()),
        Ok(_) => (".".to_owned(), fallback.to_string()),
    };
    Error::Decode {
        operation,
        path,
        message,
        request_id,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::best_message;

    #[test]
    fn the_best_message_is_found_in_common_shapes() {
        let cases = [
            (json!({"message": "Not found"}), Some("Not found")),
            (
                json!({"statusCode": 400, "message": ["productId must be longer than 1", "name must be a string"], "error": "Bad Request"}),
                Some("productId must be longer than 1; name must be a string"),
            ),
            (
                json!({"error": "invalid_grant", "error_description": "bad password"}),
                Some("bad password"),
            ),
            (
                json!({"error": {"code": 503, "message": "backend down"}}),
                Some("backend down"),
            ),
            (json!({"detail": "Rate limited"}), Some("Rate limited")),
            (
                json!({"httpStatus": 500, "messages": [{"errorCode": "1", "message": "a"}, {"message": "b"}]}),
                Some("a; b"),
            ),
            (json!({"errors": ["x", {"title": "y"}]}), Some("x; y")),
            (
                json!({"message": "  ", "error": "Bad Gateway"}),
                Some("Bad Gateway"),
            ),
            (json!({"message": [], "title": "T"}), Some("T")),
            (json!({"message": 7}), None),
            (json!(["a"]), None),
            (json!({}), None),
        ];
        for (body, want) in cases {
            assert_eq!(best_message(&body).as_deref(), want, "{body}");
        }
        // Nesting is followed a few levels only.
        let deep = json!({"error": {"error": {"error": {"error": {"message": "deep"}}}}});
        assert_eq!(best_message(&deep), None);
    }
}
