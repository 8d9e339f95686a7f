//! Rules for the URLs a client is configured with (base URL, token URL).
//!
//! A base URL is scheme, host, port and path: a query or a fragment would end
//! up in the middle of every request URL (`/prefix?x=1/v1/...`) or cut it off
//! (`/prefix#frag`), and a user name or password would be dropped silently.
//! Such URLs are refused, and no message shows a password that was in one.

use std::net::IpAddr;

use reqwest::Url;

/// Why `url` cannot be an endpoint, if it cannot.
pub(crate) fn check(url: &Url) -> Result<(), &'static str> {
    if !url.username().is_empty() || url.password().is_some() {
        return Err("has a user name or password in it; give credentials to the builder instead");
    }
    if url.query().is_some() {
        return Err("has a query (`?...`); a base URL is scheme, host, port and path");
    }
    if url.fragment().is_some() {
        return Err("has a fragment (`#...`); a base URL is scheme, host, port and path");
    }
    Ok(())
}

/// `url` with the user information (`user:password@`) replaced by `***@`,
/// whether or not it parses as a URL (without `://`, everything before an `@`
/// that comes before the first `/` counts as user information); for messages
/// and logs.
pub(crate) fn redact(url: &str) -> String {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}***{}", &url[..scheme_end], &rest[at..]),
        None => url.to_owned(),
    }
}

/// Whether `url` names a loopback host (`localhost`, `127.0.0.0/8`, `::1`):
/// where plain `http` may carry credentials.
pub(crate) fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host_str() {
        Some(host) if host.eq_ignore_ascii_case("localhost") => true,
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_fragment_and_userinfo_are_refused() {
        let check = |s: &str| check(&Url::parse(s).unwrap());
        assert_eq!(check("https://api.example.com"), Ok(()));
        assert_eq!(check("http://127.0.0.1:8080/prefix"), Ok(()));
        for bad in [
            "http://host/prefix?x=1",
            "http://host/prefix?",
            "http://host/prefix#frag",
            "http://host/#",
            "http://user:pass@host/",
            "http://user@host/",
            "http://:pass@host/",
        ] {
            assert!(check(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn redaction_hides_the_user_information_only() {
        assert_eq!(
            redact("http://user:s3cret@host:8080/p?q#f"),
            "http://***@host:8080/p?q#f"
        );
        assert_eq!(redact("https://a@b:c@host/x@y"), "https://***@host/x@y");
        assert_eq!(redact("http://host/path@x"), "http://host/path@x");
        assert_eq!(redact("user:pw@host/x"), "***@host/x");
        assert_eq!(redact("plain text"), "plain text");
        assert_eq!(redact("bad://user:pw@[::1"), "bad://***@[::1");
    }
}
