//! What one attempt got back: the redirect check and the body, read inside
//! the attempt with a size limit.
//!
//! The transport reads every response body itself, chunk by chunk, and stops
//! as soon as it exceeds the client's limit, so a huge or endless answer costs
//! at most the limit in memory. Reading inside the attempt also puts a
//! connection reset in the middle of a body under the retry policy. For an
//! [`crate::Execute`] call, the body (and the headers) go into the call's
//! record, where the generated code decodes it ([`from_response`], code patch
//! `DecodeReadBody`) and the call's error reads it; a builder's own `send()`
//! gets a response rebuilt around the body ([`with_body`]).

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::future::Either;
use progenitor_client::ResponseValue;
use reqwest::header::CONTENT_LENGTH;
use serde::de::DeserializeOwned;

use crate::engine::call::Call;

/// The default limit on a response body: 16 MiB (a page of 100 images is
/// about 100 KiB).
pub const DEFAULT_MAX_BODY_SIZE: u64 = 16 * 1024 * 1024;

/// What reading a body ended in, when it did not end in the body.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The body (or its declared length) is larger than the limit.
    TooLarge,
    /// Reading failed (a reset, or the time limit of an HTTP client brought
    /// along; the layer's own limits are a timer around the whole attempt).
    Failed(reqwest::Error),
}

/// Whether a body of `declared` bytes (its `Content-Length`) may be read at all.
fn declared_fits(declared: Option<u64>, limit: u64) -> bool {
    declared.is_none_or(|n| n <= limit)
}

/// Reads the rest of `response`'s body, stopping as soon as it would exceed
/// `limit` bytes (without reading further).
pub(crate) async fn read_capped(response: &mut reqwest::Response, limit: u64) -> Result<Bytes, ReadError> {
    let declared = response
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if !declared_fits(declared, limit) {
        return Err(ReadError::TooLarge);
    }
    // A body that comes in one chunk is kept as it is; more chunks are
    // joined.
    let mut first: Option<Bytes> = None;
    let mut joined: Vec<u8> = Vec::new();
    let mut read: u64 = 0;
    while let Some(chunk) = response.chunk().await.map_err(ReadError::Failed)? {
        read += chunk.len() as u64;
        if read > limit {
            return Err(ReadError::TooLarge);
        }
        match first.take() {
            None if joined.is_empty() => first = Some(chunk),
            earlier => {
                if let Some(earlier) = earlier {
                    let initial = declared.unwrap_or(0).min(limit).min(1024 * 1024);
                    joined.reserve(
                        usize::try_from(initial)
                            .unwrap_or(0)
                            .max(earlier.len() + chunk.len()),
                    );
                    joined.extend_from_slice(&earlier);
                }
                joined.extend_from_slice(&chunk);
            }
        }
    }
    Ok(first.unwrap_or_else(|| Bytes::from(joined)))
}

/// What one attempt got back.
pub(crate) enum Received {
    /// A response (its body read) and its body.
    Answer(reqwest::Response, Bytes),
    /// Sending failed, before any answer; the retry policy decides.
    NoAnswer(reqwest::Error),
    /// Reading the answer failed (the response, its body not read, shows
    /// the status); the retry policy decides.
    Failed(reqwest::Error, reqwest::Response),
    /// The attempt's time limit fired first; the retry policy decides.
    TimedOut,
    /// An answer that must not be used; final.
    Refused(Refusal),
}

/// Why an answer must not be used.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Refusal {
    /// The body is larger than the limit (in bytes); the answer's status
    /// (a success to a change says the change was made).
    TooLarge(u64, reqwest::StatusCode),
    /// The server sent the request outside the base URL, or answered with a
    /// redirect the client did not follow (the location).
    Redirect(String),
}

impl Refusal {
    /// The error the caller sees.
    pub(crate) fn into_error(
        self,
        operation: &str,
        request_id: Option<String>,
        attempts: u32,
        outcome: crate::values::error::Outcome,
    ) -> crate::Error {
        let operation = operation.to_owned();
        match self {
            Refusal::TooLarge(limit, _) => crate::Error::BodyTooLarge {
                operation,
                limit,
                request_id,
                attempts,
                outcome,
            },
            Refusal::Redirect(location) => crate::Error::Redirect {
                operation,
                location,
                request_id,
                attempts,
                outcome,
            },
        }
    }
}

/// Checks where `response` (to a request under the base URL `origin`) came
/// from and reads its body with `limit`.
///
/// Not an `async fn`, which would keep two copies of the response.
#[allow(clippy::manual_async_fn)] // on purpose, see above
pub(crate) fn receive(
    mut response: reqwest::Response,
    origin: &reqwest::Url,
    limit: u64,
) -> impl Future<Output = Received> + '_ {
    async move {
        if let Some(location) = crate::engine::redirect::left_base(origin, &response) {
            return Received::Refused(Refusal::Redirect(location));
        }
        match read_capped(&mut response, limit).await {
            Ok(body) => Received::Answer(response, body),
            Err(ReadError::TooLarge) => {
                let status = response.status();
                Received::Refused(Refusal::TooLarge(limit, status))
            }
            Err(ReadError::Failed(e)) => Received::Failed(e, response),
        }
    }
}

/// `response` (whose body was read) with `body` in memory: the same status,
/// version, headers, URL and extensions.
pub(crate) fn with_body(mut response: reqwest::Response, body: Bytes) -> reqwest::Response {
    let mut builder = http::Response::builder()
        .status(response.status())
        .version(response.version());
    if let Some(headers) = builder.headers_mut() {
        *headers = std::mem::take(response.headers_mut());
    }
    if let Some(extensions) = builder.extensions_mut() {
        *extensions = std::mem::take(response.extensions_mut());
    }
    // reqwest keeps the URL in an extension that only its builder sets.
    let builder = reqwest::ResponseBuilderExt::url(builder, response.url().clone());
    let rebuilt = match builder.body(()) {
        Ok(rebuilt) => rebuilt.map(|()| body),
        // Not reached: the parts came from a response.
        Err(_) => http::Response::new(body),
    };
    reqwest::Response::from(rebuilt)
}

/// What the generated code decodes an answer's body with (code patch
/// `DecodeReadBody`): the body the transport read for the running call, else
/// (outside [`crate::Execute`], or when none was kept) the response's own. The
/// outcome is that of progenitor's `ResponseValue::from_response`.
///
/// The future is ready at once for a body in memory; reading the response is
/// boxed, as only a builder's own `send()` needs it (and it would make every
/// call's future larger).
pub(crate) fn from_response<T: DeserializeOwned, E>(
    mut response: reqwest::Response,
) -> impl Future<Output = Result<ResponseValue<T>, progenitor_client::Error<E>>> {
    let Some(body) = Call::take_current_body() else {
        return Either::Right(Box::pin(ResponseValue::from_response(response)));
    };
    let status = response.status();
    let headers = std::mem::take(response.headers_mut());
    Either::Left(std::future::ready(match serde_json::from_slice(&body) {
        Ok(inner) => Ok(ResponseValue::new(inner, status, headers)),
        Err(e) => Err(progenitor_client::Error::InvalidResponsePayload(body, e)),
    }))
}

/// A body that fails at once: the way to hand the generated code a
/// `reqwest::Error` for an answer the transport refused (the call's record
/// carries the real error, which wins).
struct Refused(Option<String>);

impl http_body::Body for Refused {
    type Data = &'static [u8];
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Poll::Ready(self.0.take().map(|reason| Err(std::io::Error::other(reason))))
    }
}

/// Ends the running call with `error`: it goes into the call's record (where
/// it wins, unless the record already holds the failure that ended the
/// call), and the generated code gets a `reqwest::Error` that says it.
pub(crate) async fn refuse(call: &Call, error: crate::Error) -> reqwest::Result<reqwest::Response> {
    tracing::debug!(%error, "call ended");
    let reason = error.to_string();
    call.update(|r| {
        r.failure.get_or_insert(error);
    });
    refused(reason).await
}

/// The outcome the generated code gets for a refused answer: a
/// `reqwest::Error` whose source says `reason`.
async fn refused(reason: String) -> reqwest::Result<reqwest::Response> {
    let failing = reqwest::Response::from(http::Response::new(reqwest::Body::wrap(Refused(Some(reason)))));
    // Reading that body fails, and its error is the outcome. Were it ever to
    // succeed, a 500 still keeps the refused answer from passing as a success.
    let body = failing.bytes().await?;
    let mut fallback = http::Response::new(body);
    *fallback.status_mut() = reqwest::StatusCode::INTERNAL_SERVER_ERROR;
    Ok(reqwest::Response::from(fallback))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(body: &'static str, content_length: Option<&str>) -> reqwest::Response {
        let mut r = http::Response::new(body);
        if let Some(n) = content_length {
            r.headers_mut().insert(CONTENT_LENGTH, n.parse().unwrap());
        }
        reqwest::Response::from(r)
    }

    #[test]
    fn a_declared_length_over_the_limit_is_refused_unread() {
        assert!(declared_fits(None, 0));
        assert!(declared_fits(Some(10), 10));
        assert!(!declared_fits(Some(11), 10));
    }

    #[tokio::test]
    async fn reading_stops_at_the_limit() {
        let read = |body, len, limit| async move { read_capped(&mut response(body, len), limit).await };
        assert_eq!(read("0123456789", None, 10).await.unwrap(), &b"0123456789"[..]);
        assert!(matches!(
            read("0123456789", None, 9).await,
            Err(ReadError::TooLarge)
        ));
        assert!(matches!(
            read("", Some("1000"), 10).await,
            Err(ReadError::TooLarge)
        ));
        assert_eq!(read("", None, 0).await.unwrap(), &b""[..]);
    }

    #[tokio::test]
    async fn a_refusal_is_a_reqwest_error_that_names_the_reason() {
        let e = refused("too big".into()).await.unwrap_err();
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        let mut said = Vec::new();
        while let Some(s) = source {
            said.push(s.to_string());
            source = s.source();
        }
        assert!(said.iter().any(|s| s == "too big"), "{said:?}");
        assert!(!e.is_timeout() && !e.is_connect());
    }

    #[tokio::test]
    async fn a_received_answer_keeps_status_headers_url_and_body() {
        let url = reqwest::Url::parse("http://127.0.0.1:1/v1/x").unwrap();
        let r = reqwest::ResponseBuilderExt::url(http::Response::builder(), url.clone())
            .status(201)
            .header("x-thing", "1")
            .body("{}")
            .unwrap();
        let Received::Answer(answer, body) = receive(reqwest::Response::from(r), &url, 100).await else {
            panic!("an answer")
        };
        assert_eq!(body, "{}");
        let answer = with_body(answer, body);
        assert_eq!(answer.status(), reqwest::StatusCode::CREATED);
        assert_eq!(answer.url(), &url);
        assert_eq!(answer.headers()["x-thing"], "1");
        assert_eq!(answer.bytes().await.unwrap(), "{}");
    }

    /// A response whose body was read already, as the transport hands it on.
    fn read_answer(status: u16) -> reqwest::Response {
        reqwest::Response::from(
            http::Response::builder()
                .status(status)
                .header("x-thing", "1")
                .body("")
                .unwrap(),
        )
    }

    #[tokio::test]
    async fn a_call_decodes_the_body_its_record_holds_once() {
        let call = Call::new(crate::CallOptions::default());
        call.update(|r| r.body = Some(Bytes::from_static(br#"{"n": 7}"#)));
        let decoded = Call::scope(call.clone(), async {
            crate::engine::body::from_response::<serde_json::Value, ()>(read_answer(200)).await
        })
        .await
        .unwrap();
        assert_eq!(decoded.status(), reqwest::StatusCode::OK);
        assert_eq!(decoded.headers()["x-thing"], "1");
        assert_eq!(decoded.into_inner(), serde_json::json!({"n": 7}));
        assert!(call.update(|r| r.body.is_none()), "the body is taken");

        // A body that does not decode is progenitor's error, with the bytes.
        call.update(|r| r.body = Some(Bytes::from_static(b"{\"n\":")));
        let e = Call::scope(call.clone(), async {
            crate::engine::body::from_response::<serde_json::Value, ()>(read_answer(200)).await
        })
        .await
        .unwrap_err();
        let progenitor_client::Error::InvalidResponsePayload(bytes, _) = e else {
            panic!("{e:?}")
        };
        assert_eq!(bytes, "{\"n\":");
    }

    #[tokio::test]
    async fn outside_a_call_the_response_body_is_decoded() {
        let response = reqwest::Response::from(http::Response::new(r#"[1, 2]"#));
        let decoded = crate::engine::body::from_response::<Vec<u8>, ()>(response)
            .await
            .unwrap();
        assert_eq!(decoded.into_inner(), vec![1, 2]);
    }
}
