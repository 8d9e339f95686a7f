//! Redirects: followed only under the API's base URL, and only where the
//! request stays what it was.
//!
//! A redirect elsewhere could take the request's credentials, ids and body
//! to a server, or a part of the server, the client was not configured for,
//! and its answer would be taken for the API's. The clients this crate
//! builds follow a redirect only when it keeps the request as it is (`307`
//! or `308`: the same method and body) and points under the client's base
//! URL, at most ten in a row; more is an error that says "too many
//! redirects". A `301`, `302` or `303` would turn a change (`POST`, `PATCH`,
//! `DELETE`) into a `GET` whose answer would be taken for the change's: it is
//! not followed. Whichever HTTP client was used, the transport refuses an
//! answer that comes from outside the base URL, or that is a redirect the
//! client did not follow, naming where it pointed
//! ([`Error::Redirect`](crate::Error::Redirect)). Token requests follow no
//! redirect at all (see [`crate::engine::auth::PasswordGrant`]).

use reqwest::header::LOCATION;
use reqwest::redirect::Policy;
use reqwest::{StatusCode, Url};

use crate::engine::path::{base_text, is_under};

/// Redirects followed in a row at most.
const MAX_REDIRECTS: usize = 10;

/// What to do with one redirect.
#[derive(Debug, PartialEq, Eq)]
enum Hop {
    Follow,
    /// Hand the redirect to the caller as the answer (the transport refuses it).
    Stop,
    /// The chain is longer than [`MAX_REDIRECTS`].
    TooMany,
}

/// What to do with a redirect answered with `status` that points to `next`,
/// after `previous` requests of the chain, for a client whose base URL's
/// text is `base` (see [`is_under`]); `None` for a client without one (any
/// target of the first request's origin).
fn hop(base: Option<&str>, previous: &[Url], status: StatusCode, next: &Url) -> Hop {
    let Some(first) = previous.first() else {
        return Hop::Stop;
    };
    if previous.len() > MAX_REDIRECTS {
        return Hop::TooMany;
    }
    let keeps_request = matches!(
        status,
        StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT
    );
    let inside = match base {
        Some(base) => is_under(base, next),
        None => same_origin(first, next),
    };
    if keeps_request && inside {
        Hop::Follow
    } else {
        Hop::Stop
    }
}

/// The redirect policy of the HTTP clients this crate builds for the API
/// at `base`.
pub(crate) fn policy_under(base: &Url) -> Policy {
    policy(Some(base_text(base)))
}

/// The redirect policy of [`api_http_client_builder`](crate::transport::api_http_client_builder),
/// whose base URL is not known yet: the first request's origin.
pub(crate) fn same_origin_policy() -> Policy {
    policy(None)
}

fn policy(base: Option<String>) -> Policy {
    Policy::custom(move |attempt| {
        match hop(
            base.as_deref(),
            attempt.previous(),
            attempt.status(),
            attempt.url(),
        ) {
            Hop::Follow => attempt.follow(),
            Hop::Stop => attempt.stop(),
            Hop::TooMany => attempt.error(TooManyRedirects),
        }
    })
}

/// A redirect chain longer than [`MAX_REDIRECTS`] (a loop, most likely).
#[derive(Debug)]
struct TooManyRedirects;

impl std::fmt::Display for TooManyRedirects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "too many redirects (more than {MAX_REDIRECTS} in a row)")
    }
}

impl std::error::Error for TooManyRedirects {}

/// Whether `a` and `b` have the same origin (scheme, host and port), as
/// [`Url::origin`] compares them but without allocating. URLs whose scheme
/// has no such origin (`file:`, `data:`, `blob:` ...) share none.
pub(crate) fn same_origin(a: &Url, b: &Url) -> bool {
    matches!(a.scheme(), "http" | "https" | "ws" | "wss" | "ftp")
        && a.scheme() == b.scheme()
        && a.host() == b.host()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Where a response to a request under `base` (the client's base URL) left
/// it, if it did: the response came from outside the base URL (a redirect
/// the HTTP client followed), or it is a redirect the client did not follow;
/// `None` for an answer from under the base URL that is no redirect (every
/// answer of a well-behaved API, found with one comparison).
pub(crate) fn left_base(base: &Url, response: &reqwest::Response) -> Option<String> {
    let status = response.status();
    // `304 Not Modified` is an answer, not a redirect.
    let redirect = status.is_redirection() && status != StatusCode::NOT_MODIFIED;
    let text = base.as_str().trim_end_matches('/');
    if !redirect && is_under(text, response.url()) {
        return None;
    }
    if !is_under(text, response.url()) {
        return Some(shown(response.url()));
    }
    let Some(location) = response.headers().get(LOCATION) else {
        return Some("nowhere (no Location)".to_owned());
    };
    Some(
        match location.to_str().ok().and_then(|l| response.url().join(l).ok()) {
            Some(target) => shown(&target),
            None => "an unreadable Location".to_owned(),
        },
    )
}

/// A URL as errors and logs show it: no user information, and no query (a
/// presigned URL's signature or a token may be there), only that there was one.
fn shown(url: &Url) -> String {
    let mut bare = url.clone();
    bare.set_query(None);
    bare.set_fragment(None);
    let shown = crate::values::url::redact(bare.as_str());
    if url.query().is_some() {
        format!("{shown}?<query hidden>")
    } else {
        shown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn same_origin_agrees_with_url_origin() {
        let urls = [
            "https://api.example.com/v1/a",
            "https://api.example.com:443/v1/b?x=1",
            "https://API.example.com/",
            "https://api.example.com:8443/",
            "http://api.example.com/",
            "http://api.example.com:443/",
            "http://127.0.0.1:8080/x",
            "http://127.0.0.1:8081/x",
            "http://[::1]:8080/x",
            "http://[0:0::1]:8080/y",
            "http://127.0.0.1:80/",
            "http://127.0.0.1/",
            "http://bücher.example/",
            "http://xn--bcher-kva.example/",
            "https://u:p@api.example.com/v1",
            "wss://api.example.com/",
            "ftp://files.example.com/a",
            "file:///etc/passwd",
            "data:text/plain,x",
            "blob:https://api.example.com/uuid",
            "mailto:a@example.com",
        ];
        for a in urls {
            for b in urls {
                let (a, b) = (url(a), url(b));
                // `blob:` URLs count as their own origin here (url gives
                // them the origin of the URL inside).
                let blob = a.scheme() == "blob" || b.scheme() == "blob";
                assert_eq!(
                    same_origin(&a, &b),
                    a.origin().is_tuple() && !blob && a.origin() == b.origin(),
                    "{a} vs {b}"
                );
            }
        }
    }

    #[test]
    fn only_redirects_that_keep_the_request_and_stay_under_the_base_are_followed() {
        let base = Some("https://api.example.com/v1");
        let first = url("https://api.example.com/v1/a");
        let one = std::slice::from_ref(&first);
        let s = |code| StatusCode::from_u16(code).unwrap();
        assert_eq!(
            hop(base, one, s(307), &url("https://api.example.com/v1/b")),
            Hop::Follow
        );
        assert_eq!(
            hop(base, one, s(308), &url("https://api.example.com/v1/b?x=1")),
            Hop::Follow
        );
        assert_eq!(
            hop(base, one, s(307), &url("https://api.example.com/v1")),
            Hop::Follow
        );
        // Outside the base path, even on the same origin.
        assert_eq!(
            hop(base, one, s(307), &url("https://api.example.com/outside/a")),
            Hop::Stop
        );
        assert_eq!(
            hop(base, one, s(307), &url("https://api.example.com/v10/a")),
            Hop::Stop
        );
        assert_eq!(
            hop(base, one, s(307), &url("https://api.example.com/v1/../x")),
            Hop::Stop
        );
        // Other origins.
        assert_eq!(
            hop(base, one, s(307), &url("http://api.example.com/v1/b")),
            Hop::Stop
        );
        assert_eq!(
            hop(base, one, s(307), &url("https://api.example.com:8443/v1/b")),
            Hop::Stop
        );
        assert_eq!(
            hop(base, one, s(307), &url("https://evil.example.com/v1/a")),
            Hop::Stop
        );
        // Redirects that would resend the request as a GET.
        for code in [301, 302, 303] {
            assert_eq!(
                hop(base, one, s(code), &url("https://api.example.com/v1/b")),
                Hop::Stop
            );
        }
        // A loop ends after ten.
        assert_eq!(
            hop(base, &vec![first.clone(); MAX_REDIRECTS], s(307), &first),
            Hop::Follow
        );
        assert_eq!(
            hop(base, &vec![first.clone(); MAX_REDIRECTS + 1], s(307), &first),
            Hop::TooMany
        );
        assert_eq!(hop(base, &[], s(307), &first), Hop::Stop);
        // Without a base URL: the first request's origin.
        assert_eq!(
            hop(None, one, s(308), &url("https://api.example.com/other")),
            Hop::Follow
        );
        assert_eq!(
            hop(None, one, s(308), &url("https://evil.example.com/v1/a")),
            Hop::Stop
        );
        assert_eq!(
            hop(None, one, s(302), &url("https://api.example.com/v1/a")),
            Hop::Stop
        );
    }

    #[test]
    fn too_many_redirects_says_so() {
        assert_eq!(
            TooManyRedirects.to_string(),
            "too many redirects (more than 10 in a row)"
        );
    }

    fn answer(status: u16, from: &str, location: Option<&str>) -> reqwest::Response {
        let mut builder =
            reqwest::ResponseBuilderExt::url(http::Response::builder(), url(from)).status(status);
        if let Some(l) = location {
            builder = builder.header(LOCATION, l);
        }
        reqwest::Response::from(builder.body("").unwrap())
    }

    #[test]
    fn an_answer_from_outside_the_base_or_a_redirect_not_followed_is_named() {
        let base = url("http://127.0.0.1:8080/v1");
        let left = |status, from, location| left_base(&base, &answer(status, from, location));
        assert_eq!(left(200, "http://127.0.0.1:8080/v1/y", None), None);
        assert_eq!(left(404, "http://127.0.0.1:8080/v1", None), None);
        assert_eq!(left(304, "http://127.0.0.1:8080/v1/x", None), None);
        // An answer from elsewhere: another origin, or outside the base path.
        assert_eq!(
            left(200, "http://127.0.0.1:9090/v1/x", None).as_deref(),
            Some("http://127.0.0.1:9090/v1/x")
        );
        assert_eq!(
            left(200, "http://127.0.0.1:8080/outside/x", None).as_deref(),
            Some("http://127.0.0.1:8080/outside/x")
        );
        // A redirect that reached the transport was not followed: named, wherever it points.
        assert_eq!(
            left(303, "http://127.0.0.1:8080/v1/x", Some("/v1/z")).as_deref(),
            Some("http://127.0.0.1:8080/v1/z")
        );
        assert_eq!(
            left(308, "http://127.0.0.1:8080/v1/x", Some("http://u:p@evil/x")).as_deref(),
            Some("http://***@evil/x")
        );
        assert_eq!(
            left(302, "http://127.0.0.1:8080/v1/x", None).as_deref(),
            Some("nowhere (no Location)")
        );
        // A query may hold a signature or a token: not shown.
        assert_eq!(
            left(
                302,
                "http://127.0.0.1:8080/v1/x",
                Some("https://store.example/o?X-Amz-Signature=s3cr3t")
            )
            .as_deref(),
            Some("https://store.example/o?<query hidden>")
        );
        assert_eq!(
            left(200, "http://127.0.0.1:9090/x?token=s3cr3t#f", None).as_deref(),
            Some("http://127.0.0.1:9090/x?<query hidden>")
        );
    }
}
