//! Path parameters and the request path, for every provider.
//!
//! The generated clients build a request's URL with
//! `format!("{}/v1/compute/images/{}", baseurl, <parameter>)`. A build-time code
//! patch (see `build.rs`) routes every path parameter through [`segment`], so
//! that it becomes exactly one path segment: `..`, `a/b` or `a\b` can never
//! name another resource. [`under_base`] checks, before anything is sent, that
//! the request still goes to the client's base URL.

use reqwest::Url;

/// Percent-encodes a path parameter so that it is exactly one path segment.
///
/// Every byte outside RFC 3986's unreserved set (`A-Z a-z 0-9 - . _ ~`) is
/// percent-encoded, so `/`, `\`, `%`, `?` and `#` cannot be reinterpreted.
/// Refused, naming the parameter and why: the empty string, `.` and `..`
/// (they would address the collection or its parent).
pub(crate) fn segment(name: &str, value: &str) -> Result<String, String> {
    match value {
        "" => return Err(format!("path parameter `{name}` is empty")),
        "." | ".." => {
            return Err(format!(
                "path parameter `{name}` is `{value}`, which would address another resource"
            ));
        }
        _ => {}
    }
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    Ok(out)
}

/// Whether `url` lies under `base`: the same origin (scheme, host, port), and
/// a path that is the base's path or continues it after a `/`.
pub(crate) fn under_base(base: &Url, url: &Url) -> bool {
    if !crate::redirect::same_origin(base, url) {
        return false;
    }
    let prefix = base.path().trim_end_matches('/');
    match url.path().strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}

/// [`under_base`], as the reason a request is refused.
pub(crate) fn check_under_base(base: &Url, url: &Url) -> Result<(), String> {
    if under_base(base, url) {
        return Ok(());
    }
    Err(format!(
        "the request URL {} is not under the client's base URL {base}",
        crate::endpoint::redact(url.as_str())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_segment_is_unreserved_bytes_or_percent_escapes() {
        let ok = |v: &str| segment("image_id", v).unwrap();
        assert_eq!(
            ok("d5a1c1f0-35b8-4f0e-8a3a-1f1bd2a1c6e4"),
            "d5a1c1f0-35b8-4f0e-8a3a-1f1bd2a1c6e4"
        );
        assert_eq!(ok("a.b_c~d"), "a.b_c~d");
        assert_eq!(ok("..."), "...");
        assert_eq!(ok("a\\b"), "a%5Cb");
        assert_eq!(ok("a/b"), "a%2Fb");
        assert_eq!(ok("..\\..\\admin"), "..%5C..%5Cadmin");
        assert_eq!(ok("%2e%2e"), "%252e%252e");
        assert_eq!(ok("a?b#c d"), "a%3Fb%23c%20d");
        assert_eq!(ok("ü"), "%C3%BC");
        assert_eq!(ok("\n"), "%0A");
    }

    #[test]
    fn empty_and_dot_segments_are_refused_with_the_parameter_named() {
        assert_eq!(
            segment("image_id", "").unwrap_err(),
            "path parameter `image_id` is empty"
        );
        for dots in [".", ".."] {
            let e = segment("image_id", dots).unwrap_err();
            assert!(
                e.starts_with(&format!("path parameter `image_id` is `{dots}`")),
                "{e}"
            );
        }
    }

    #[test]
    fn a_url_is_under_the_base_when_origin_and_path_prefix_match() {
        let url = |s: &str| Url::parse(s).unwrap();
        let root = url("http://127.0.0.1:8080");
        let prefixed = url("https://api.example.com/prefix");
        assert!(under_base(
            &root,
            &url("http://127.0.0.1:8080/v1/compute/images/x")
        ));
        assert!(under_base(&prefixed, &url("https://api.example.com/prefix/v1/x")));
        assert!(under_base(&prefixed, &url("https://api.example.com/prefix")));
        assert!(!under_base(
            &prefixed,
            &url("https://api.example.com/prefixed/v1")
        ));
        assert!(!under_base(&prefixed, &url("https://api.example.com/admin")));
        assert!(!under_base(
            &prefixed,
            &url("https://api.example.com/prefix/../admin")
        ));
        assert!(!under_base(&root, &url("http://127.0.0.1:8081/v1")));
        assert!(!under_base(&root, &url("https://127.0.0.1:8080/v1")));
        assert!(!under_base(&root, &url("http://localhost:8080/v1")));
        let e = check_under_base(&prefixed, &url("https://api.example.com/admin")).unwrap_err();
        assert!(e.contains("https://api.example.com/admin"), "{e}");
    }
}
