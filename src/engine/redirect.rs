//! Redirects: followed only within the origin of the request.
//!
//! A redirect to another origin (scheme, host or port) could take the
//! request's ids, and with a caller's own HTTP client its body, to a server
//! the client was not configured for, and its answer would be taken for the
//! API's. The clients this crate builds follow redirects only within the
//! origin of the first request, so the `https`-or-loopback rule for
//! credentials holds on every hop; the transport refuses an answer that comes
//! from, or points to, another origin, whichever HTTP client was used. Token
//! requests follow no redirect at all (see [`crate::engine::auth::PasswordGrant`]).

use reqwest::Url;
use reqwest::header::LOCATION;
use reqwest::redirect::Policy;

/// Redirects followed in a row at most.
const MAX_REDIRECTS: usize = 10;

/// Whether to follow a redirect to `next`, after the requests in `previous`
/// (the first of them the original request).
fn follows(previous: &[Url], next: &Url) -> bool {
    match previous.first() {
        Some(first) => previous.len() <= MAX_REDIRECTS && same_origin(first, next),
        None => false,
    }
}

/// The redirect policy of the HTTP clients this crate builds for API requests.
pub(crate) fn same_origin_policy() -> Policy {
    Policy::custom(|attempt| {
        if follows(attempt.previous(), attempt.url()) {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

/// Whether `a` and `b` have the same origin (scheme, host and port), as
/// [`Url::origin`] compares them but without allocating. URLs whose scheme
/// has no such origin (`file:`, `data:`, `blob:` ...) share none.
pub(crate) fn same_origin(a: &Url, b: &Url) -> bool {
    matches!(a.scheme(), "http" | "https" | "ws" | "wss" | "ftp")
        && a.scheme() == b.scheme()
        && a.host() == b.host()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Where a response to a request sent to `origin` (any URL of that origin)
/// left it, if it did: the response came from elsewhere (a redirect the HTTP
/// client followed), or it is a redirect that points elsewhere.
pub(crate) fn left_origin(origin: &Url, response: &reqwest::Response) -> Option<String> {
    if !same_origin(response.url(), origin) {
        return Some(crate::values::url::redact(response.url().as_str()));
    }
    if !response.status().is_redirection() {
        return None;
    }
    let location = response.headers().get(LOCATION)?;
    let Some(target) = location.to_str().ok().and_then(|l| response.url().join(l).ok()) else {
        return Some(String::from_utf8_lossy(location.as_bytes()).into_owned());
    };
    (!same_origin(&target, origin)).then(|| crate::values::url::redact(target.as_str()))
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
    fn only_same_origin_redirects_are_followed() {
        let first = url("https://api.example.com/v1/a");
        let one = std::slice::from_ref(&first);
        assert!(follows(one, &url("https://api.example.com/v1/b")));
        assert!(!follows(one, &url("http://api.example.com/v1/b")));
        assert!(!follows(one, &url("https://api.example.com:8443/v1/b")));
        assert!(!follows(one, &url("https://evil.example.com/v1/a")));
        assert!(follows(&vec![first.clone(); MAX_REDIRECTS], &first));
        assert!(!follows(&vec![first.clone(); MAX_REDIRECTS + 1], &first));
        assert!(!follows(&[], &first));
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
    fn an_answer_from_or_pointing_to_another_origin_is_named() {
        let req = url("http://127.0.0.1:8080/v1/x");
        assert_eq!(
            left_origin(&req, &answer(200, "http://127.0.0.1:8080/v1/y", None)),
            None
        );
        assert_eq!(
            left_origin(&req, &answer(200, "http://127.0.0.1:9090/v1/x", None)).as_deref(),
            Some("http://127.0.0.1:9090/v1/x")
        );
        assert_eq!(
            left_origin(&req, &answer(307, "http://127.0.0.1:8080/v1/x", Some("/v1/z"))),
            None
        );
        assert_eq!(
            left_origin(
                &req,
                &answer(308, "http://127.0.0.1:8080/v1/x", Some("http://u:p@evil/x"))
            )
            .as_deref(),
            Some("http://***@evil/x")
        );
        assert_eq!(
            left_origin(&req, &answer(304, "http://127.0.0.1:8080/v1/x", None)),
            None
        );
    }
}
