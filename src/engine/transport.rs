//! The path every request of every provider takes.
//!
//! The generated clients carry a [`Transport`] as their inner value and call it
//! through progenitor's `ClientHooks`: `pre` refuses a request that left the
//! base URL or carries a bad id and puts the credentials on the request,
//! `exec` sends it: a fresh `x-request-id` per attempt (unless the caller
//! chose one), the trace id, the client's default headers (where the call did
//! not set them), the per-attempt and whole-operation time limits, the
//! response body read within the size limit, no answer from outside the base URL,
//! retries with back-off, one token refresh after a 401, and a tracing span.
//! What it did is recorded for the running call (see
//! `engine/call.rs`) so that responses and errors can report it.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use futures::future::Either;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use tokio::time::Instant;
use tracing::Instrument;

use crate::engine::attempt::{
    Backoff, Ended, Next, Plan, after_answer, after_failure, answer_outcome, attempt_limit, failure_outcome,
    id_headers, method_class, never_processed, next_request, unread_answer_outcome,
};
use crate::engine::auth::{Authorizer, TokenSource, token_of};
use crate::engine::body::{Received, Refusal, receive};
use crate::engine::call::Call;
use crate::engine::hooks::Hooks;
use crate::engine::retry::RetryPolicy;
use crate::engine::timeouts::Timeouts;
use crate::values::error::TimeoutKind;
use crate::values::ids::{check_id, new_request_id};

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
    urls: crate::engine::path::Base,
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
    /// The provider's own settings, from its builder.
    pub extensions: http::Extensions,
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

impl Transport {
    /// The provider's own setting of type `T`, as its builder set it.
    pub(crate) fn extension<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.0.settings.extensions.get::<T>()
    }

    pub(crate) fn new(settings: Settings) -> Self {
        let authorizer = settings.auth.clone().map(Authorizer::new);
        let header = |name: &str| {
            HeaderName::from_bytes(name.as_bytes())
                .unwrap_or_else(|_| panic!("the provider's header name `{name}` is not a valid header name"))
        };
        Self(Arc::new(Shared {
            urls: crate::engine::path::Base::new(settings.base_url.clone()),
            request_id_header: header(settings.provider.request_id_header),
            trace_id_header: header(settings.provider.trace_id_header),
            authorizer,
            settings,
        }))
    }

    /// The token requests are sent with now (fetched or renewed as for a
    /// request), when the client has one: what a provider reads its claims
    /// from (Contabo's user id).
    #[cfg_attr(not(feature = "upload"), allow(dead_code))]
    pub(crate) async fn current_token(&self) -> Result<Option<secrecy::SecretString>, crate::Error> {
        let Some(authorizer) = &self.0.authorizer else {
            return Ok(None);
        };
        Ok(token_of(&authorizer.header(None).await?))
    }

    /// The base URL every request goes under.
    pub fn base_url(&self) -> &reqwest::Url {
        &self.0.base_url
    }

    /// The URL of a request: `path` under the base URL (what the generated
    /// code makes its request URLs with; see `crate::engine::path::Base::join`).
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
        info: &progenitor_client::OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        if let Err(reason) = self.check(request) {
            return Err(progenitor_client::Error::InvalidRequest(reason));
        }
        let call = Call::for_pre();
        let deadline = self.deadline(call.update(|r| r.start()));
        if let Err(e) = self
            .authorize_within(request, None, deadline, info.operation_id)
            .await
        {
            let message = e.to_string();
            call.update(|r| r.failure = Some(e));
            return Err(progenitor_client::Error::Custom(message));
        }
        // The last thing before `exec`: its record (and start) is this one.
        Call::hand_over(&call);
        Ok(())
    }

    /// When the operation's limit ends for a call that started at `started`,
    /// and the limit; none for no limit, or one too far away to be an instant.
    fn deadline(&self, started: Instant) -> Option<(Instant, Duration)> {
        self.0
            .settings
            .timeouts
            .operation()
            .and_then(|d| Some((started.checked_add(d)?, d)))
    }

    /// [`authorize`](Self::authorize) within what is left of the operation's
    /// limit: the wait for a token counts against it, so no caller waits for
    /// a slow token endpoint longer than its own limit.
    async fn authorize_within(
        &self,
        request: &mut reqwest::Request,
        rejected: Option<secrecy::SecretString>,
        deadline: Option<(Instant, Duration)>,
        operation: &str,
    ) -> Result<(), crate::Error> {
        let Some((at, limit)) =
            deadline.filter(|_| self.0.authorizer.as_ref().is_some_and(|a| !a.is_fixed()))
        else {
            // A fixed credential is at hand: nothing to wait for.
            return self.authorize(request, rejected).await;
        };
        // Boxed: only a token source that may wait needs the timer.
        match Box::pin(tokio::time::timeout_at(at, self.authorize(request, rejected))).await {
            Ok(authorized) => authorized,
            Err(_) => Err(crate::Error::Timeout {
                operation: operation.to_owned(),
                limit: TimeoutKind::Operation,
                after: limit,
                request_id: None,
                attempts: 0,
                outcome: crate::values::error::Outcome::NotApplied,
            }),
        }
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
        // First: takes the call `pre` handed over, before anything else runs.
        let call = Call::current();
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
                .request_id()
                .and_then(|id| HeaderValue::try_from(id).ok()),
        };
        self.add_default_headers(request, has_trace_id, call);
        let (retryable_method, idempotent, changes) = method_class(request.method());
        // A request with a streaming body cannot be sent twice.
        let resendable = request.body().is_none_or(|body| body.as_bytes().is_some());
        Plan {
            chosen_id,
            retryable_method,
            idempotent,
            changes,
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
            // From before the call's token was had (see `pre`).
            let started = call.update(|r| r.start());
            let deadline = self.deadline(started);
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
                        && let Err(e) =
                            Box::pin(self.authorize_within(&mut req, rejected.take(), deadline, operation))
                                .await
                    {
                        // The token failure is the call's error unless an
                        // earlier attempt may have made the change: then what
                        // that attempt got, which says so.
                        call.update(|r| {
                            if !r.outcome.may_have_applied() {
                                r.failure = Some(e);
                            }
                        });
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
                    let limit = attempt_limit(settings.timeouts.attempt(), deadline, Instant::now());
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
                        r.connect_timeout = settings.timeouts.connect();
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
                        after_answer(
                            status,
                            &plan,
                            retries,
                            refreshed,
                            || (settings.provider.retry_after)(resp.headers(), std::time::SystemTime::now()),
                            settings.retry.max_retry_after(),
                            &mut backoff,
                        )
                    }
                    // A request that could not be made fails the same way
                    // every time, and so does a redirect loop.
                    Received::NoAnswer(e) if e.is_builder() || e.is_redirect() => Next::Done,
                    Received::NoAnswer(e) | Received::Failed(e, _) => {
                        tracing::debug!(attempt, request_id = call.request_id(), error = %e, "attempt failed");
                        // A request the server never processed can always go
                        // again (not one whose answer began: the server had it).
                        let unprocessed = matches!(got, Received::NoAnswer(_)) && never_sent(e);
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
                    Received::Refused(_) => Next::Done,
                };
                let said = match &got {
                    Received::Answer(resp, _) | Received::Failed(_, resp) => {
                        answer_outcome(plan.changes, resp.status())
                    }
                    Received::NoAnswer(e) => failure_outcome(plan.changes, !never_sent(e)),
                    Received::TimedOut => failure_outcome(plan.changes, true),
                    // Its status came, not its body: a success made the change.
                    Received::Refused(Refusal::TooLarge(_, status)) => {
                        unread_answer_outcome(plan.changes, *status)
                    }
                    // The server had the request: it may answer a change it
                    // made with a redirect (`303 See Other`).
                    Received::Refused(Refusal::Redirect(_)) => failure_outcome(plan.changes, true),
                };
                let status = match &got {
                    Received::Answer(resp, _) | Received::Failed(_, resp) => Some(resp.status()),
                    Received::Refused(Refusal::TooLarge(_, status)) => Some(*status),
                    _ => None,
                };
                call.update(|r| {
                    r.outcome = r.outcome.max(said);
                    r.status = status;
                });
                let wait = match outcome {
                    Next::Done => None,
                    Next::RefreshToken => {
                        refreshed = true;
                        rejected = sent_auth.as_ref().and_then(token_of);
                        Some(Duration::ZERO)
                    }
                    Next::RetryAfter(wait) => {
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
                Err(refusal) => Box::pin(crate::engine::body::refuse(&call, refusal)).await,
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
            let trace = match call.options.trace_id() {
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
                    Ok(Ok(crate::engine::body::with_body(response, body)))
                }
            }
            Received::NoAnswer(e) | Received::Failed(e, _) => Ok(Err(e)),
            Received::TimedOut => {
                let (limit, after) = ended.limit.unwrap_or((TimeoutKind::Attempt, Duration::ZERO));
                Err(crate::Error::Timeout {
                    operation: operation.to_owned(),
                    limit,
                    after,
                    request_id: call.request_id(),
                    attempts: ended.attempt,
                    outcome: call.update(|r| r.outcome),
                })
            }
            Received::Refused(refusal) => Err(refusal.into_error(
                operation,
                call.request_id(),
                ended.attempt,
                call.update(|r| r.outcome),
            )),
        }
    }
}

/// Whether a request that got no answer never reached the server: no
/// connection was made (DNS, refused, TLS), the request could not be made
/// (reqwest's builder errors: a URL too long or unparsable), or an HTTP/2
/// server refused it.
fn never_sent(error: &reqwest::Error) -> bool {
    error.is_connect() || error.is_builder() || never_processed(error)
}

/// Records a field of the request's span, when a subscriber wants the span
/// (else each record still costs a call, and with tracing's `log` feature a
/// check of the logger).
fn record<V: tracing::Value>(span: &tracing::Span, field: &str, value: V) {
    if !span.is_disabled() {
        span.record(field, value);
    }
}
