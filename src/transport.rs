//! The path every request of every provider takes.
//!
//! The generated clients carry a [`Transport`] as their inner value and call it
//! through progenitor's `ClientHooks`: `pre` refuses a request that left the
//! base URL or carries a bad id and puts the credentials on the request,
//! `exec` sends it: a fresh `x-request-id` per attempt (unless the caller
//! chose one), the trace id, the client's default headers (where the call did
//! not set them), the per-attempt and whole-operation time limits, the
//! response body read within the size limit, no answer from another origin,
//! retries with back-off, one token refresh after a 401, and a tracing span.
//! What it did is recorded for the running call (see
//! [`crate::request_id`]) so that responses and errors can report it.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use futures::future::Either;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use tokio::time::Instant;
use tracing::Instrument;

use crate::auth::{Authorizer, TokenSource, token_of};
use crate::body::{Received, receive};
use crate::error::TimeoutKind;
use crate::provider::Hooks;
use crate::request_id::{Call, check_id, new_request_id};
use crate::retry::{RetryPolicy, is_retryable_status};

/// Time limits of a client.
///
/// ```
/// use std::time::Duration;
/// use cloud_images::Timeouts;
///
/// let t = Timeouts::default().with_attempt(Duration::from_secs(10));
/// assert_eq!(t.attempt(), Some(Duration::from_secs(10)));
/// assert_eq!(t.connect(), Some(Duration::from_secs(10)));
/// assert_eq!(t.operation(), Some(Duration::from_secs(120)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    connect: Option<Duration>,
    attempt: Option<Duration>,
    operation: Option<Duration>,
}

impl Default for Timeouts {
    /// Connect 10 s, one attempt 30 s, a whole operation (retries and their
    /// waits included) 120 s.
    fn default() -> Self {
        Self {
            connect: Some(Duration::from_secs(10)),
            attempt: Some(Duration::from_secs(30)),
            operation: Some(Duration::from_secs(120)),
        }
    }
}

impl Timeouts {
    /// No limits at all.
    pub fn none() -> Self {
        Self {
            connect: None,
            attempt: None,
            operation: None,
        }
    }
    /// Limit on establishing a connection.
    pub fn with_connect(mut self, limit: impl Into<Option<Duration>>) -> Self {
        self.connect = limit.into();
        self
    }
    /// Limit on one attempt: sending the request and reading the whole response.
    pub fn with_attempt(mut self, limit: impl Into<Option<Duration>>) -> Self {
        self.attempt = limit.into();
        self
    }
    /// Limit on a whole operation, retries and back-off included.
    pub fn with_operation(mut self, limit: impl Into<Option<Duration>>) -> Self {
        self.operation = limit.into();
        self
    }
    /// The connect limit.
    pub fn connect(&self) -> Option<Duration> {
        self.connect
    }
    /// The per-attempt limit.
    pub fn attempt(&self) -> Option<Duration> {
        self.attempt
    }
    /// The whole-operation limit.
    pub fn operation(&self) -> Option<Duration> {
        self.operation
    }
}

/// A `reqwest::ClientBuilder` with the crate's TLS setup and reqwest's
/// defaults otherwise (the OAuth2 token client starts from it). For a client
/// to hand to [`ClientBuilder::http_client`](crate::ClientBuilder::http_client),
/// start from [`api_http_client_builder`], which leaves retries to the layer.
///
/// With the default `rustls` feature, that is rustls with the *ring* crypto
/// provider (or the process's default provider, when one is installed) and
/// the platform's certificate verifier, speaking HTTP/2 or HTTP/1.1. reqwest
/// is then built without a crypto provider of its own, so a client built
/// from a plain `reqwest::Client::builder()` would have none: start from this
/// one (or install a rustls provider first). With the `rustls-aws-lc` or
/// `native-tls` feature instead, reqwest's own TLS setup.
///
/// ```
/// let http = cloud_images::transport::http_client_builder()?
///     .pool_max_idle_per_host(4)
///     .build()
///     .unwrap();
/// # drop(http);
/// # Ok::<(), cloud_images::Error>(())
/// ```
pub fn http_client_builder() -> Result<reqwest::ClientBuilder, crate::Error> {
    let builder = reqwest::Client::builder();
    #[cfg(all(feature = "rustls", not(feature = "native-tls")))]
    let builder = builder.tls_backend_preconfigured(rustls_config()?);
    Ok(builder)
}

/// [`http_client_builder`] set up as the crate's API clients are: where they
/// start from, and where to start from for
/// [`ClientBuilder::http_client`](crate::ClientBuilder::http_client).
///
/// Retries are left to the layer: reqwest's own retry (of a request an
/// HTTP/2 server refused) would resend the request with the same request id
/// in an attempt nobody counts, and copies every request for it; the layer
/// retries such a request itself, with a fresh id. Redirects are followed
/// only within the origin (an answer from another origin is refused anyway).
///
/// ```
/// let http = cloud_images::transport::api_http_client_builder()?
///     .pool_max_idle_per_host(4)
///     .build()
///     .unwrap();
/// # drop(http);
/// # Ok::<(), cloud_images::Error>(())
/// ```
pub fn api_http_client_builder() -> Result<reqwest::ClientBuilder, crate::Error> {
    Ok(http_client_builder()?
        .retry(reqwest::retry::never().max_retries_per_request(0))
        .redirect(crate::redirect::same_origin_policy()))
}

/// rustls with the process's default crypto provider, else *ring*, and the
/// platform's verifier (what reqwest does with its own provider).
#[cfg(all(feature = "rustls", not(feature = "native-tls")))]
fn rustls_config() -> Result<rustls::ClientConfig, crate::Error> {
    use rustls::crypto::CryptoProvider;

    let failed = |e: rustls::Error| crate::Error::Config(format!("cannot set up TLS: {e}"));
    let provider = CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
    let verifier = rustls_platform_verifier::Verifier::new(Arc::clone(&provider)).map_err(failed)?;
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(failed)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// The shared request pipeline of a client (the generated client's inner value).
///
/// Built by the providers' client builders; cheap to clone. Its `Debug` shows
/// the settings, never a secret.
#[derive(Clone)]
pub struct Transport(Arc<Shared>);

/// The settings, and what is made from them once.
struct Shared {
    settings: Settings,
    /// The `Authorization` headers, from `settings.auth`.
    authorizer: Option<Authorizer>,
    /// The base URL, ready to make request URLs from.
    urls: crate::path::Base,
    /// The provider's request-id and trace-id headers, parsed.
    request_id_header: HeaderName,
    trace_id_header: HeaderName,
}

impl std::ops::Deref for Shared {
    type Target = Settings;
    fn deref(&self) -> &Settings {
        &self.settings
    }
}

pub(crate) struct Settings {
    pub auth: Option<Arc<dyn TokenSource>>,
    pub trace_id: Option<HeaderValue>,
    /// Sent with every request that does not set them itself.
    pub default_headers: HeaderMap,
    pub retry: RetryPolicy,
    pub timeouts: Timeouts,
    pub provider: Hooks,
    /// Every request must go under this URL.
    pub base_url: reqwest::Url,
    /// The largest response body read, in bytes.
    pub max_body_size: u64,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("provider", &self.0.provider)
            .field("auth", &self.0.auth)
            .field("trace_id", &self.0.trace_id)
            .field(
                "default_headers",
                &self.0.default_headers.keys().collect::<Vec<_>>(),
            )
            .field("retry", &self.0.retry)
            .field("timeouts", &self.0.timeouts)
            .field("max_body_size", &self.0.max_body_size)
            .finish()
    }
}

/// What the attempts of one request share.
struct Plan {
    /// The request id the caller chose, sent with every attempt.
    chosen_id: Option<HeaderValue>,
    retryable_method: bool,
    max_attempts: u32,
    /// Whether a rejected token may be refreshed for one more attempt.
    can_refresh: bool,
}

/// What one attempt ended in.
enum Outcome {
    Done,
    RetryAfter(Duration),
    RefreshToken,
}

impl Transport {
    pub(crate) fn new(settings: Settings) -> Self {
        let authorizer = settings.auth.clone().map(Authorizer::new);
        let header = |name: &str| {
            HeaderName::from_bytes(name.as_bytes())
                .unwrap_or_else(|_| panic!("the provider's header name `{name}` is not a valid header name"))
        };
        Self(Arc::new(Shared {
            urls: crate::path::Base::new(settings.base_url.clone()),
            request_id_header: header(settings.provider.request_id_header),
            trace_id_header: header(settings.provider.trace_id_header),
            authorizer,
            settings,
        }))
    }

    /// The base URL every request goes under.
    pub fn base_url(&self) -> &reqwest::Url {
        &self.0.base_url
    }

    /// The URL of a request: `path` under the base URL (what the generated
    /// code makes its request URLs with; see `crate::path::Base::join`).
    pub(crate) fn request_url(&self, path: std::fmt::Arguments<'_>) -> Result<reqwest::Url, String> {
        self.0.urls.join(path)
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.0.retry
    }

    /// The time limits.
    pub fn timeouts(&self) -> &Timeouts {
        &self.0.timeouts
    }

    /// The largest response body read, in bytes.
    pub fn max_body_size(&self) -> u64 {
        self.0.max_body_size
    }

    /// progenitor's `pre` hook: the request's checks, and the bearer token of
    /// the first attempt.
    pub(crate) async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        _info: &progenitor_client::OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        if let Err(reason) = self.check(request) {
            return Err(progenitor_client::Error::InvalidRequest(reason));
        }
        if let Err(e) = self.authorize(request, None).await {
            let message = e.to_string();
            Call::current().update(|r| r.failure = Some(e));
            return Err(progenitor_client::Error::Custom(message));
        }
        Ok(())
    }

    /// Refuses, before anything is sent (or authorized), a request whose URL
    /// is not under the base URL or whose request or trace id breaks the id
    /// rules.
    fn check(&self, request: &reqwest::Request) -> Result<(), String> {
        self.0.urls.check(request.url())?;
        // One pass over the request's few headers, cheaper than a hashed
        // lookup of each id header; every value is checked.
        for (name, value) in request.headers() {
            if *name == self.0.request_id_header || *name == self.0.trace_id_header {
                check_id(name.as_str(), value.as_bytes())?;
            }
        }
        Ok(())
    }

    async fn authorize(
        &self,
        request: &mut reqwest::Request,
        rejected: Option<secrecy::SecretString>,
    ) -> Result<(), crate::Error> {
        if let Some(auth) = &self.0.authorizer {
            request
                .headers_mut()
                .insert(AUTHORIZATION, auth.header(rejected).await?);
        }
        Ok(())
    }

    /// progenitor's `exec` hook: sends the request, with retries.
    ///
    /// The future is made here rather than by an `async fn`, which would keep
    /// a copy of its arguments (the request among them) for as long as it
    /// runs: each layer of that would make every call's future larger.
    pub(crate) fn exec<'a>(
        &'a self,
        client: &'a reqwest::Client,
        mut request: reqwest::Request,
        info: &progenitor_client::OperationInfo,
    ) -> impl Future<Output = reqwest::Result<reqwest::Response>> + Send + 'a {
        let span = tracing::info_span!(
            "cloud_images.request",
            operation = info.operation_id,
            method = %request.method(),
            path = request.url().path(),
            status = tracing::field::Empty,
            attempt = tracing::field::Empty,
            request_id = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
        );
        let call = Call::current();
        let plan = self.plan(&mut request, &call);
        let send = self.send_with_retries(client, Some(request), plan, call, info.operation_id, span.clone());
        // Without a subscriber that wants the span, no span to enter and
        // leave on every poll.
        if span.is_disabled() {
            Either::Left(send)
        } else {
            Either::Right(send.instrument(span))
        }
    }

    /// What the attempts of `request` share: its request id, if chosen, and
    /// whether and how often it may go again. Puts the default headers on it.
    fn plan(&self, request: &mut reqwest::Request, call: &Call) -> Plan {
        let shared = &*self.0;
        let (request_id, has_trace_id) = id_headers(
            request.headers(),
            &shared.request_id_header,
            &shared.trace_id_header,
        );
        // The caller's request id (a generated builder parameter or the call's
        // options) is kept on every attempt; otherwise each attempt gets a fresh one.
        let chosen_id = match request_id {
            Some(value) => Some(value.clone()),
            None => call
                .options
                .get_request_id()
                .and_then(|id| HeaderValue::try_from(id).ok()),
        };
        self.add_default_headers(request, has_trace_id, call);
        let retryable_method = matches!(
            *request.method(),
            Method::GET | Method::PUT | Method::PATCH | Method::DELETE | Method::HEAD | Method::OPTIONS
        );
        // A request with a streaming body cannot be sent twice.
        let resendable = request.body().is_none_or(|body| body.as_bytes().is_some());
        Plan {
            chosen_id,
            retryable_method,
            max_attempts: if resendable {
                shared.retry.max_attempts()
            } else {
                1
            },
            can_refresh: resendable && shared.auth.as_ref().is_some_and(|a| a.can_refresh()),
        }
    }

    /// The attempts of one call. `template` is the request (taken for the
    /// last attempt).
    ///
    /// Not an `async fn`, which would keep two copies of its arguments.
    #[allow(clippy::manual_async_fn)] // on purpose, see above
    fn send_with_retries<'a>(
        &'a self,
        client: &'a reqwest::Client,
        mut template: Option<reqwest::Request>,
        plan: Plan,
        call: Arc<Call>,
        operation: &'static str,
        span: tracing::Span,
    ) -> impl Future<Output = reqwest::Result<reqwest::Response>> + Send + 'a {
        async move {
            let shared = &*self.0;
            let settings = &shared.settings;
            // (The plan's fields are read where used: copies of them would
            // make the future larger.)
            let started = Instant::now();
            // A limit too far away to be an instant is no limit.
            let deadline = settings
                .timeouts
                .operation
                .and_then(|d| Some((started.checked_add(d)?, d)));
            let mut backoff = Backoff::new(&settings.retry);
            let mut refreshed = false;
            let mut rejected: Option<secrecy::SecretString> = None;
            let mut retries = 0;
            let mut attempt = 0;
            // Boxed, as on retries only.
            let mut previous: Option<Box<Ended>> = None;

            let ended = loop {
                attempt += 1;
                // The attempt's request, in a block of its own: it is handed to
                // reqwest before the exchange, and the call's future need not
                // keep room for it while the exchange runs.
                let (pending, limit, sent_auth) = {
                    // The request is copied only when another attempt may follow
                    // this one (a retry, or one after a token refresh).
                    let may_follow = retries + 1 < plan.max_attempts || (plan.can_refresh && !refreshed);
                    let mut req = next_request(&mut template, may_follow)
                        .expect("the template is only taken for the last attempt");
                    // Boxed, as on retries only.
                    if attempt > 1
                        && let Err(e) = Box::pin(self.authorize(&mut req, rejected.take())).await
                    {
                        call.update(|r| r.failure = Some(e));
                        // Report what the previous attempt got.
                        break *previous
                            .take()
                            .expect("an attempt after the first has a previous result");
                    }
                    let (id_header, request_id) = match &plan.chosen_id {
                        Some(id) => (id.clone(), id.to_str().unwrap_or_default().to_owned()),
                        None => {
                            let id = new_request_id();
                            (HeaderValue::try_from(&id).expect("a UUID is a header value"), id)
                        }
                    };
                    record(&span, "attempt", attempt);
                    record(&span, "request_id", request_id.as_str());
                    req.headers_mut()
                        .insert(shared.request_id_header.clone(), id_header);
                    let limit = attempt_limit(settings.timeouts.attempt, deadline, Instant::now());
                    // The header sent, to name the rejected token after a 401.
                    let sent_auth = if plan.can_refresh && !refreshed {
                        req.headers().get(AUTHORIZATION).cloned()
                    } else {
                        None
                    };
                    call.update(|r| {
                        r.provider = Some(settings.provider);
                        r.attempts = attempt;
                        r.request_id = Some(request_id);
                        r.connect_timeout = settings.timeouts.connect;
                    });
                    (client.execute(req), limit, sent_auth)
                };

                let got = self.exchange(pending, limit.map(|(_, at, _)| at)).await;
                let outcome = match &got {
                    Received::Answer(resp, _) => {
                        let status = resp.status();
                        if let Some(id) = (settings.provider.server_request_id)(resp.headers(), None) {
                            record(&span, "request_id", id.as_str());
                            call.update(|r| r.request_id = Some(id));
                        }
                        tracing::debug!(
                            attempt,
                            request_id = call.request_id(),
                            status = status.as_u16(),
                            "attempt answered"
                        );
                        if status == StatusCode::UNAUTHORIZED && !refreshed && plan.can_refresh {
                            Outcome::RefreshToken
                        } else if is_retryable_status(status)
                            && plan.retryable_method
                            && retries + 1 < plan.max_attempts
                        {
                            match (settings.provider.retry_after)(
                                resp.headers(),
                                std::time::SystemTime::now(),
                            ) {
                                Some(wait) if wait > settings.retry.max_retry_after() => {
                                    tracing::debug!(
                                        ?wait,
                                        "Retry-After is longer than the cap; not retrying"
                                    );
                                    Outcome::Done
                                }
                                Some(wait) => Outcome::RetryAfter(wait),
                                None => Outcome::RetryAfter(backoff.next().unwrap_or_default()),
                            }
                        } else {
                            Outcome::Done
                        }
                    }
                    Received::NoAnswer(e) | Received::Failed(e) => {
                        tracing::debug!(attempt, request_id = call.request_id(), error = %e, "attempt failed");
                        // A request the server never processed can always go
                        // again (not one whose answer began: the server had it).
                        let unprocessed =
                            matches!(got, Received::NoAnswer(_)) && (e.is_connect() || never_processed(e));
                        after_failure(
                            unprocessed || plan.retryable_method,
                            retries,
                            plan.max_attempts,
                            &mut backoff,
                        )
                    }
                    Received::TimedOut => {
                        tracing::debug!(attempt, request_id = call.request_id(), "attempt timed out");
                        after_failure(plan.retryable_method, retries, plan.max_attempts, &mut backoff)
                    }
                    Received::Refused(_) => Outcome::Done,
                };
                let wait = match outcome {
                    Outcome::Done => None,
                    Outcome::RefreshToken => {
                        refreshed = true;
                        rejected = sent_auth.as_ref().and_then(token_of);
                        Some(Duration::ZERO)
                    }
                    Outcome::RetryAfter(wait) => {
                        retries += 1;
                        Some(wait)
                    }
                };
                // No time left for the wait and another attempt: stop here.
                let wait = wait.filter(|w| {
                    deadline.is_none_or(|(at, _)| Instant::now().checked_add(*w).is_some_and(|t| t < at))
                });
                let ended = Ended {
                    got,
                    attempt,
                    limit: limit.map(|(kind, _, total)| (kind, total)),
                };

                let (Some(wait), Some(_)) = (wait, template.as_ref()) else {
                    break ended;
                };
                tracing::info!(attempt, ?wait, "retrying");
                previous = Some(Box::new(ended));
                tokio::time::sleep(wait).await;
            };
            match self.deliver(ended, &call, operation, started, &span) {
                Ok(outcome) => outcome,
                // Boxed: only a refused answer needs this future.
                Err(refusal) => Box::pin(crate::body::refuse(&call, refusal)).await,
            }
        }
    }

    /// Puts the client's default headers and the trace id on `request`,
    /// where it does not set them itself.
    fn add_default_headers(&self, request: &mut reqwest::Request, has_trace_id: bool, call: &Call) {
        let shared = &*self.0;
        for (name, value) in &shared.default_headers {
            if !request.headers().contains_key(name) {
                request.headers_mut().insert(name.clone(), value.clone());
            }
        }
        if !has_trace_id {
            let trace = match call.options.get_trace_id() {
                Some(t) => HeaderValue::try_from(t).ok(),
                None => shared.trace_id.clone(),
            };
            if let Some(trace) = trace {
                request
                    .headers_mut()
                    .insert(shared.trace_id_header.clone(), trace);
            }
        }
    }

    /// One attempt: awaits the answer to a request sent with `pending`
    /// and reads it, all before `fires_at`.
    ///
    /// The limit is a timer around the whole exchange rather than reqwest's
    /// per-request timeout, which costs more per call (it boxes a timer and
    /// the body, and gives each request an extension map).
    fn exchange<'a>(
        &'a self,
        pending: impl Future<Output = reqwest::Result<reqwest::Response>> + 'a,
        fires_at: Option<Instant>,
    ) -> impl Future<Output = Received> + 'a {
        let settings = &self.0.settings;
        // Every request went to the base URL's origin (`pre` checked).
        let answer = async move {
            match pending.await {
                Ok(response) => receive(response, &settings.base_url, settings.max_body_size).await,
                Err(e) => Received::NoAnswer(e),
            }
        };
        match fires_at {
            Some(at) => {
                Either::Left(tokio::time::timeout_at(at, answer).map(|got| got.unwrap_or(Received::TimedOut)))
            }
            None => Either::Right(answer),
        }
    }

    /// What the generated code gets for the last attempt: its outcome, or
    /// the error that refuses it (a time limit or a refused answer), which
    /// goes into the call's record, where it wins over what the generated
    /// code makes of it (unless a failure that ended the call is there
    /// already, e.g. a token that could not be had for a retry).
    fn deliver(
        &self,
        ended: Ended,
        call: &Call,
        operation: &str,
        started: Instant,
        span: &tracing::Span,
    ) -> Result<reqwest::Result<reqwest::Response>, crate::Error> {
        // (Not read from the clock for a span nobody wants.)
        if !span.is_disabled() {
            span.record("duration_ms", started.elapsed().as_millis() as u64);
        }
        match ended.got {
            Received::Answer(mut response, body) => {
                record(span, "status", response.status().as_u16());
                // An `execute()` call takes the headers and the body from its
                // record (the generated code decodes the body through
                // `body::from_response`) rather than from a response rebuilt
                // around them.
                if call.executing {
                    let headers = std::mem::take(response.headers_mut());
                    call.update(|r| {
                        r.headers = Some(headers);
                        r.body = Some(body);
                    });
                    Ok(Ok(response))
                } else {
                    Ok(Ok(crate::body::with_body(response, body)))
                }
            }
            Received::NoAnswer(e) | Received::Failed(e) => Ok(Err(e)),
            Received::TimedOut => {
                let (limit, after) = ended.limit.unwrap_or((TimeoutKind::Attempt, Duration::ZERO));
                Err(crate::Error::Timeout {
                    operation: operation.to_owned(),
                    limit,
                    after,
                    request_id: call.request_id(),
                    attempts: ended.attempt,
                })
            }
            Received::Refused(refusal) => {
                Err(refusal.into_error(operation, call.request_id(), ended.attempt))
            }
        }
    }
}

/// The first value of the request id header on `headers`, and whether the
/// trace id header is there: one pass over the request's few headers, which
/// costs less than a hashed lookup of each.
fn id_headers<'h>(
    headers: &'h reqwest::header::HeaderMap,
    request_id_header: &HeaderName,
    trace_id_header: &HeaderName,
) -> (Option<&'h HeaderValue>, bool) {
    let (mut request_id, mut has_trace_id) = (None, false);
    for (name, value) in headers {
        if name == request_id_header {
            request_id = request_id.or(Some(value));
        } else if name == trace_id_header {
            has_trace_id = true;
        }
    }
    (request_id, has_trace_id)
}

/// A copy of `request` for another attempt, or none when its body cannot be
/// copied (a stream). A request without a body or a time limit of its own
/// (the only extension a request built by a generated builder can have) is
/// copied without reqwest's `try_clone`, which gives every copy an extension
/// map for its time limit: an allocation, and more work, in every call.
fn copy_request(request: &reqwest::Request) -> Option<reqwest::Request> {
    if request.body().is_some() || request.timeout().is_some() {
        return request.try_clone();
    }
    let mut copy = reqwest::Request::new(request.method().clone(), request.url().clone());
    *copy.headers_mut() = request.headers().clone();
    *copy.version_mut() = request.version();
    Some(copy)
}

/// Records a field of the request's span, when a subscriber wants the span
/// (else each record still costs a call, and with tracing's `log` feature a
/// check of the logger).
fn record<V: tracing::Value>(span: &tracing::Span, field: &str, value: V) {
    if !span.is_disabled() {
        span.record(field, value);
    }
}

/// The request of the next attempt: a copy of `template` when another
/// attempt may follow, else the template itself (taken). None when the
/// template was taken already.
fn next_request(template: &mut Option<reqwest::Request>, may_follow: bool) -> Option<reqwest::Request> {
    let copy = if may_follow {
        template.as_ref().and_then(copy_request)
    } else {
        None
    };
    copy.or_else(|| template.take())
}

/// The back-off delays of one call, made at its first retry (most calls
/// have none, and the iterator would make every call's future larger).
struct Backoff<'a> {
    policy: &'a RetryPolicy,
    delays: Option<Box<dyn Iterator<Item = Duration> + Send>>,
}

impl<'a> Backoff<'a> {
    fn new(policy: &'a RetryPolicy) -> Self {
        Self { policy, delays: None }
    }
}

impl Iterator for Backoff<'_> {
    type Item = Duration;
    fn next(&mut self) -> Option<Duration> {
        let policy = self.policy;
        self.delays
            .get_or_insert_with(|| Box::new(policy.backoff()))
            .next()
    }
}

/// Whether `error` says an HTTP/2 server did not process the request: it
/// refused the stream (`REFUSED_STREAM`) or shut the connection down
/// gracefully (`GOAWAY` with `NO_ERROR`) before the request's stream (RFC
/// 9113, section 8.7). Such a request can go again whatever its method, like
/// one whose connection could not be made, when the error came before any
/// answer: a stream reset while its answer is read was processed. (The
/// refusals reqwest's own retry, which the crate's API clients turn off,
/// retries.)
fn never_processed(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(e) = cause {
        if let Some(h2) = e.downcast_ref::<h2::Error>() {
            return h2.is_remote()
                && match h2.reason() {
                    Some(h2::Reason::REFUSED_STREAM) => h2.is_reset(),
                    Some(h2::Reason::NO_ERROR) => h2.is_go_away(),
                    _ => false,
                };
        }
        cause = e.source();
    }
    false
}

/// What follows an attempt that failed or timed out: a retry after the next
/// back-off, if the request may go again and attempts are left.
fn after_failure(
    may_retry: bool,
    retries: u32,
    max_attempts: u32,
    backoff: &mut impl Iterator<Item = Duration>,
) -> Outcome {
    if may_retry && retries + 1 < max_attempts {
        Outcome::RetryAfter(backoff.next().unwrap_or_default())
    } else {
        Outcome::Done
    }
}

/// How an attempt ended: what it got, its number, and its time limit (which
/// limit, and its full length).
struct Ended {
    got: Received,
    attempt: u32,
    limit: Option<(TimeoutKind, Duration)>,
}

/// The time limit of an attempt that starts at `now`: which limit, when it
/// fires, and its full length. The per-attempt limit is cut short by the
/// operation's deadline, and is then reported as the operation's limit. A
/// limit too far away to be an instant is none.
fn attempt_limit(
    attempt: Option<Duration>,
    deadline: Option<(Instant, Duration)>,
    now: Instant,
) -> Option<(TimeoutKind, Instant, Duration)> {
    let own = attempt.and_then(|a| Some((now.checked_add(a)?, a)));
    match (own, deadline) {
        (Some((at, _)), Some((end, total))) if end < at => Some((TimeoutKind::Operation, end, total)),
        (Some((at, a)), _) => Some((TimeoutKind::Attempt, at, a)),
        (None, Some((end, total))) => Some((TimeoutKind::Operation, end, total)),
        (None, None) => None,
    }
}

/// Implements progenitor's `ClientHooks` for a generated client whose inner
/// value is a [`Transport`].
macro_rules! impl_client_hooks {
    ($client:ty) => {
        impl ::progenitor_client::ClientHooks<$crate::transport::Transport> for $client {
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
    };
}
pub(crate) use impl_client_hooks;

#[cfg(test)]
mod tests {
    use tokio::io::AsyncReadExt;

    use super::*;

    fn request(method: Method, body: Option<&'static str>) -> reqwest::Request {
        let mut r = reqwest::Request::new(method, "http://127.0.0.1:1/v1/x?a=b".parse().unwrap());
        r.headers_mut()
            .insert(AUTHORIZATION, HeaderValue::from_static("Bearer t"));
        r.headers_mut().append("x-many", HeaderValue::from_static("1"));
        r.headers_mut().append("x-many", HeaderValue::from_static("2"));
        *r.version_mut() = reqwest::Version::HTTP_2;
        *r.body_mut() = body.map(reqwest::Body::from);
        r
    }

    fn same_request(a: &reqwest::Request, b: &reqwest::Request) {
        assert_eq!(a.method(), b.method());
        assert_eq!(a.url(), b.url());
        assert_eq!(a.headers(), b.headers());
        assert_eq!(a.version(), b.version());
        assert_eq!(a.timeout(), b.timeout());
        assert_eq!(
            a.body().and_then(|b| b.as_bytes()),
            b.body().and_then(|b| b.as_bytes())
        );
    }

    #[test]
    fn only_a_server_refusal_counts_as_never_processed() {
        // A reset the client made itself, and errors of other kinds, say
        // nothing of what the server did. (A server's refusal: the HTTP/2
        // tests in `tests/resilience.rs`.)
        let own = h2::Error::from(h2::Reason::REFUSED_STREAM);
        assert!(!own.is_remote() && !never_processed(&own));
        assert!(!never_processed(&std::io::Error::other("refused")));
    }

    #[test]
    fn id_headers_are_found_in_one_pass() {
        let (rid, tid) = (
            HeaderName::from_static("x-request-id"),
            HeaderName::from_static("x-trace-id"),
        );
        let mut headers = request(Method::GET, None).headers().clone();
        assert_eq!(id_headers(&headers, &rid, &tid), (None, false));
        headers.append(&rid, HeaderValue::from_static("first"));
        headers.append(&rid, HeaderValue::from_static("second"));
        assert_eq!(
            id_headers(&headers, &rid, &tid),
            (Some(&HeaderValue::from_static("first")), false),
            "the first value, as `get` gives it"
        );
        headers.insert(&tid, HeaderValue::from_static("t"));
        assert!(id_headers(&headers, &rid, &tid).1);
        headers.remove(&rid);
        assert_eq!(id_headers(&headers, &rid, &tid), (None, true));
    }

    #[test]
    fn a_copy_for_another_attempt_is_the_same_request() {
        for body in [None, Some("{\"name\":\"x\"}")] {
            let mut original = request(Method::POST, body);
            same_request(&copy_request(&original).unwrap(), &original);
            *original.timeout_mut() = Some(Duration::from_secs(3));
            same_request(&copy_request(&original).unwrap(), &original);
        }
        // A streaming body cannot be copied.
        let mut streaming = request(Method::PUT, None);
        *streaming.body_mut() = Some(reqwest::Body::wrap_stream(futures::stream::empty::<
            Result<bytes::Bytes, std::io::Error>,
        >()));
        assert!(copy_request(&streaming).is_none());
    }

    #[test]
    fn the_template_is_copied_while_another_attempt_may_follow_and_then_taken() {
        let mut template = Some(request(Method::GET, None));
        let first = next_request(&mut template, true).unwrap();
        same_request(&first, template.as_ref().unwrap());
        let last = next_request(&mut template, false).unwrap();
        same_request(&last, &first);
        assert!(template.is_none());
        assert!(next_request(&mut template, true).is_none());
    }

    #[test]
    fn back_off_delays_are_made_at_the_first_retry() {
        let policy = RetryPolicy::default().with_initial_backoff(Duration::from_millis(100));
        let mut backoff = Backoff::new(&policy);
        assert!(backoff.delays.is_none());
        let first = backoff.next().unwrap();
        // Jittered into [d/2, d), like the policy's own delays.
        assert!(
            first >= Duration::from_millis(50) && first < Duration::from_millis(100),
            "{first:?}"
        );
        assert!(backoff.delays.is_some());
    }

    #[test]
    fn an_attempt_is_limited_by_its_own_limit_or_the_operation_deadline() {
        let now = Instant::now();
        let s = Duration::from_secs;
        assert_eq!(attempt_limit(None, None, now), None);
        assert_eq!(
            attempt_limit(Some(s(30)), None, now),
            Some((TimeoutKind::Attempt, now + s(30), s(30)))
        );
        assert_eq!(
            attempt_limit(None, Some((now + s(5), s(120))), now),
            Some((TimeoutKind::Operation, now + s(5), s(120)))
        );
        // The operation ends first: its limit is the one reported.
        assert_eq!(
            attempt_limit(Some(s(30)), Some((now + s(5), s(120))), now),
            Some((TimeoutKind::Operation, now + s(5), s(120)))
        );
        assert_eq!(
            attempt_limit(Some(s(30)), Some((now + s(100), s(120))), now),
            Some((TimeoutKind::Attempt, now + s(30), s(30)))
        );
        // A deadline already passed still fires (at once).
        assert_eq!(
            attempt_limit(Some(s(30)), Some((now, s(120))), now + s(1)),
            Some((TimeoutKind::Operation, now, s(120)))
        );
        // Too far away to be an instant: no limit of its own.
        assert_eq!(attempt_limit(Some(Duration::MAX), None, now), None);
    }

    /// The TLS setup works without a process-wide crypto provider: a client
    /// builds, and an `https` request starts a TLS handshake (to a loopback
    /// server that reads the first record and hangs up) instead of panicking.
    #[tokio::test]
    async fn https_requests_start_a_tls_handshake() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut first = [0u8; 3];
            stream.read_exact(&mut first).await.unwrap();
            first
        });
        let http = http_client_builder().unwrap().build().unwrap();
        let result = http.get(format!("https://localhost:{port}/")).send().await;
        assert!(result.is_err(), "no TLS server there");
        let first = server.await.unwrap();
        // A TLS handshake record (22), version 3.x.
        assert_eq!(first[..2], [22, 3], "{first:?}");
    }
}
