//! The decisions of the request pipeline, as pure functions: what the
//! attempts of a request share, which request an attempt sends, what follows
//! an attempt, and its time limit.

use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};
use tokio::time::Instant;

use crate::engine::body::Received;
use crate::engine::retry::{RetryPolicy, is_retryable_status};
use crate::values::error::{Outcome, TimeoutKind};

/// What the attempts of one request share.
pub(crate) struct Plan {
    /// The request id the caller chose, sent with every attempt.
    pub(crate) chosen_id: Option<HeaderValue>,
    /// Whether an answer or a failure may be retried at all (GET, HEAD,
    /// OPTIONS, PUT, PATCH, DELETE).
    pub(crate) retryable_method: bool,
    /// Whether sending the request twice does what sending it once does
    /// (GET, HEAD, OPTIONS, PUT, DELETE): a 500 may be retried.
    pub(crate) idempotent: bool,
    /// Whether the request changes something (not GET, HEAD, OPTIONS).
    pub(crate) changes: bool,
    pub(crate) max_attempts: u32,
    /// Whether a rejected token may be refreshed for one more attempt.
    pub(crate) can_refresh: bool,
}

/// What follows one attempt.
pub(crate) enum Next {
    Done,
    RetryAfter(Duration),
    RefreshToken,
}

/// The first value of the request id header on `headers`, and whether the
/// trace id header is there: one pass over the request's few headers, which
/// costs less than a hashed lookup of each.
pub(crate) fn id_headers<'h>(
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

/// What follows an answer with `status`: a token refresh after a first 401
/// (when the token can be refreshed), a retry after the server's
/// `Retry-After` (up to `max_retry_after`; a longer one ends the retries) or
/// the next back-off for a retryable status of a retryable method while
/// attempts are left, else nothing.
pub(crate) fn after_answer(
    status: reqwest::StatusCode,
    plan: &Plan,
    retries: u32,
    refreshed: bool,
    retry_after: impl FnOnce() -> Option<Duration>,
    max_retry_after: Duration,
    backoff: &mut impl Iterator<Item = Duration>,
) -> Next {
    if status == reqwest::StatusCode::UNAUTHORIZED && !refreshed && plan.can_refresh {
        return Next::RefreshToken;
    }
    if !(is_retryable_status(status, plan.idempotent)
        && plan.retryable_method
        && retries + 1 < plan.max_attempts)
    {
        return Next::Done;
    }
    match retry_after() {
        Some(wait) if wait > max_retry_after => {
            tracing::debug!(?wait, "Retry-After is longer than the cap; not retrying");
            Next::Done
        }
        Some(wait) => Next::RetryAfter(wait),
        None => Next::RetryAfter(backoff.next().unwrap_or_default()),
    }
}

/// The methods of a plan: (may be retried, idempotent, changes something).
pub(crate) fn method_class(method: &reqwest::Method) -> (bool, bool, bool) {
    use reqwest::Method as M;
    match *method {
        M::GET | M::HEAD | M::OPTIONS => (true, true, false),
        M::PUT | M::DELETE => (true, true, true),
        M::PATCH => (true, false, true),
        _ => (false, false, true),
    }
}

/// Whether a change happened, from an answer with `status` to a request
/// that `changes` something: a success says it did, a server error (5xx)
/// that it may have, anything else (a refusal, a redirect) that it did not.
/// A read never changes anything.
pub(crate) fn answer_outcome(changes: bool, status: reqwest::StatusCode) -> Outcome {
    if !changes {
        Outcome::NotApplied
    } else if status.is_success() {
        Outcome::Applied
    } else if status.is_server_error() {
        Outcome::MaybeApplied
    } else {
        Outcome::NotApplied
    }
}

/// Whether a change happened, from an attempt that got no usable answer:
/// one that was `sent` (its answer lost, late, or unread) may have; one
/// that never left (no connection, a refused stream, a request that could
/// not be made) did not.
pub(crate) fn failure_outcome(changes: bool, sent: bool) -> Outcome {
    if changes && sent {
        Outcome::MaybeApplied
    } else {
        Outcome::NotApplied
    }
}

/// Whether a change happened, from an answer whose status came but whose
/// body was too large to read: a success says it was made; anything else
/// may still have made it (the body that would say more was not read).
pub(crate) fn unread_answer_outcome(changes: bool, status: reqwest::StatusCode) -> Outcome {
    if changes && status.is_success() {
        Outcome::Applied
    } else {
        failure_outcome(changes, true)
    }
}

/// A copy of `request` for another attempt, or none when its body cannot be
/// copied (a stream). A request without a body or a time limit of its own
/// (the only extension a request built by a generated builder can have) is
/// copied without reqwest's `try_clone`, which gives every copy an extension
/// map for its time limit: an allocation, and more work, in every call.
pub(crate) fn copy_request(request: &reqwest::Request) -> Option<reqwest::Request> {
    if request.body().is_some() || request.timeout().is_some() {
        return request.try_clone();
    }
    let mut copy = reqwest::Request::new(request.method().clone(), request.url().clone());
    *copy.headers_mut() = request.headers().clone();
    *copy.version_mut() = request.version();
    Some(copy)
}

/// The request of the next attempt: a copy of `template` when another
/// attempt may follow, else the template itself (taken). None when the
/// template was taken already.
pub(crate) fn next_request(
    template: &mut Option<reqwest::Request>,
    may_follow: bool,
) -> Option<reqwest::Request> {
    let copy = if may_follow {
        template.as_ref().and_then(copy_request)
    } else {
        None
    };
    copy.or_else(|| template.take())
}

/// The back-off delays of one call, made at its first retry (most calls
/// have none, and the iterator would make every call's future larger).
pub(crate) struct Backoff<'a> {
    policy: &'a RetryPolicy,
    delays: Option<Box<dyn Iterator<Item = Duration> + Send>>,
}

impl<'a> Backoff<'a> {
    pub(crate) fn new(policy: &'a RetryPolicy) -> Self {
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
pub(crate) fn never_processed(error: &(dyn std::error::Error + 'static)) -> bool {
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
pub(crate) fn after_failure(
    may_retry: bool,
    retries: u32,
    max_attempts: u32,
    backoff: &mut impl Iterator<Item = Duration>,
) -> Next {
    if may_retry && retries + 1 < max_attempts {
        Next::RetryAfter(backoff.next().unwrap_or_default())
    } else {
        Next::Done
    }
}

/// How an attempt ended: what it got, its number, and its time limit (which
/// limit, and its full length).
pub(crate) struct Ended {
    pub(crate) got: Received,
    pub(crate) attempt: u32,
    pub(crate) limit: Option<(TimeoutKind, Duration)>,
}

/// The time limit of an attempt that starts at `now`: which limit, when it
/// fires, and its full length. The per-attempt limit is cut short by the
/// operation's deadline, and is then reported as the operation's limit. A
/// limit too far away to be an instant is none.
pub(crate) fn attempt_limit(
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

#[cfg(test)]
mod tests {
    use reqwest::Method;
    use reqwest::header::AUTHORIZATION;

    use super::*;

    fn plan(retryable_method: bool, max_attempts: u32, can_refresh: bool) -> Plan {
        Plan {
            chosen_id: None,
            retryable_method,
            idempotent: retryable_method,
            changes: false,
            max_attempts,
            can_refresh,
        }
    }

    #[test]
    fn an_answer_is_retried_only_for_a_retryable_status_and_method_with_attempts_left() {
        let s = Duration::from_secs;
        let status = |n| reqwest::StatusCode::from_u16(n).unwrap();
        let decide = |code, plan: &Plan, retries, refreshed, after: Option<Duration>| {
            let mut backoff = std::iter::repeat(Duration::from_millis(7));
            after_answer(
                status(code),
                plan,
                retries,
                refreshed,
                || after,
                s(30),
                &mut backoff,
            )
        };
        let get = plan(true, 3, true);
        assert!(matches!(decide(200, &get, 0, false, None), Next::Done));
        assert!(matches!(decide(401, &get, 0, false, None), Next::RefreshToken));
        assert!(
            matches!(decide(401, &get, 0, true, None), Next::Done),
            "one refresh"
        );
        assert!(matches!(
            decide(401, &plan(true, 3, false), 0, false, None),
            Next::Done
        ));
        for code in [429, 502, 503, 504] {
            assert!(
                matches!(decide(code, &get, 0, false, None), Next::RetryAfter(d) if d == Duration::from_millis(7)),
                "{code}"
            );
        }
        assert!(
            matches!(decide(500, &get, 0, false, None), Next::RetryAfter(_)),
            "a 500 is retried for an idempotent method"
        );
        let patch = Plan {
            idempotent: false,
            ..plan(true, 3, true)
        };
        assert!(
            matches!(decide(500, &patch, 0, false, None), Next::Done),
            "a 500 is not retried for a PATCH"
        );
        assert!(matches!(decide(503, &patch, 0, false, None), Next::RetryAfter(_)));
        assert!(matches!(decide(501, &get, 0, false, None), Next::Done));
        assert!(
            matches!(decide(503, &get, 2, false, None), Next::Done),
            "no attempts left"
        );
        assert!(
            matches!(decide(503, &plan(false, 3, true), 0, false, None), Next::Done),
            "a POST is not retried on an answer"
        );
        assert!(matches!(decide(429, &get, 0, false, Some(s(3))), Next::RetryAfter(d) if d == s(3)));
        assert!(
            matches!(decide(429, &get, 0, false, Some(s(31))), Next::Done),
            "a Retry-After over the cap ends the retries"
        );
    }

    #[test]
    fn methods_are_classed_by_what_sending_them_twice_does() {
        assert_eq!(method_class(&Method::GET), (true, true, false));
        assert_eq!(method_class(&Method::HEAD), (true, true, false));
        assert_eq!(method_class(&Method::PUT), (true, true, true));
        assert_eq!(method_class(&Method::DELETE), (true, true, true));
        assert_eq!(method_class(&Method::PATCH), (true, false, true));
        assert_eq!(method_class(&Method::POST), (false, false, true));
    }

    #[test]
    fn what_an_attempt_says_of_a_change() {
        let status = |n| reqwest::StatusCode::from_u16(n).unwrap();
        for code in [200, 201, 202, 204] {
            assert_eq!(answer_outcome(true, status(code)), Outcome::Applied, "{code}");
            assert_eq!(answer_outcome(false, status(code)), Outcome::NotApplied, "{code}");
        }
        for code in [500, 502, 503, 504] {
            assert_eq!(
                answer_outcome(true, status(code)),
                Outcome::MaybeApplied,
                "{code}"
            );
            assert_eq!(answer_outcome(false, status(code)), Outcome::NotApplied, "{code}");
        }
        for code in [301, 400, 404, 409, 422, 429] {
            assert_eq!(answer_outcome(true, status(code)), Outcome::NotApplied, "{code}");
        }
        assert_eq!(failure_outcome(true, true), Outcome::MaybeApplied);
        assert_eq!(failure_outcome(true, false), Outcome::NotApplied);
        assert_eq!(failure_outcome(false, true), Outcome::NotApplied);
    }

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

    #[test]
    fn an_answer_too_large_to_read_says_applied_only_for_a_successful_change() {
        let status = |n| reqwest::StatusCode::from_u16(n).unwrap();
        for code in [200, 201, 202, 204] {
            assert_eq!(
                unread_answer_outcome(true, status(code)),
                Outcome::Applied,
                "{code}"
            );
            assert_eq!(
                unread_answer_outcome(false, status(code)),
                Outcome::NotApplied,
                "{code}"
            );
        }
        for code in [302, 400, 404, 500, 503] {
            assert_eq!(
                unread_answer_outcome(true, status(code)),
                Outcome::MaybeApplied,
                "{code}"
            );
            assert_eq!(
                unread_answer_outcome(false, status(code)),
                Outcome::NotApplied,
                "{code}"
            );
        }
    }
}
