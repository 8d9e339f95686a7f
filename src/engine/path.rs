//! Path parameters and the request path, for every provider.
//!
//! The generated clients build a request's URL with
//! `client.inner.request_url(format_args!("/v1/compute/images/{}", <parameter>))`
//! (progenitor's `format!` of the base URL, rewritten by a build-time code
//! patch, see `build/code_patches.rs`). Another patch routes every path parameter through
//! [`segment`], so that it becomes exactly one path segment: `..`, `a/b` or
//! `a\b` can never name another resource. [`Base::join`] makes the URL;
//! [`Base::check`] refuses, before anything is sent, a request whose URL is
//! not under the client's base URL.

use std::borrow::Cow;

use reqwest::Url;

/// Percent-encodes a path parameter so that it is exactly one path segment.
///
/// Every byte outside RFC 3986's unreserved set (`A-Z a-z 0-9 - . _ ~`) is
/// percent-encoded, so `/`, `\`, `%`, `?` and `#` cannot be reinterpreted.
/// Refused, naming the parameter and why: the empty string, `.` and `..`
/// (they would address the collection or its parent). The encoding is
/// written where the segment is formatted (see [`Segment`]).
pub(crate) fn segment<'a>(name: &str, value: &'a str) -> Result<Segment<'a>, String> {
    match value {
        "" => Err(format!("path parameter `{name}` is empty")),
        "." | ".." => Err(format!(
            "path parameter `{name}` is `{value}`, which would address another resource"
        )),
        _ => Ok(Segment(value)),
    }
}

/// A path parameter's text, as the generated code hands it to [`segment`]:
/// borrowed from a string (no copy per request), formatted from a number or
/// an id. A parameter of another type fails to compile, and gets an impl here.
pub(crate) trait PathText {
    fn path_text(&self) -> Cow<'_, str>;
}

impl PathText for String {
    fn path_text(&self) -> Cow<'_, str> {
        Cow::Borrowed(self)
    }
}

macro_rules! formatted_path_text {
    ($($t:ty),*) => {$(
        impl PathText for $t {
            fn path_text(&self) -> Cow<'_, str> {
                Cow::Owned(self.to_string())
            }
        }
    )*};
}
formatted_path_text!(
    i8,
    i16,
    i32,
    i64,
    u8,
    u16,
    u32,
    u64,
    std::num::NonZeroI32,
    std::num::NonZeroI64,
    std::num::NonZeroU32,
    std::num::NonZeroU64,
    uuid::Uuid
);

/// A path parameter that formats as one percent-encoded path segment.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Segment<'a>(&'a str);

impl std::fmt::Display for Segment<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        let bytes = self.0.as_bytes();
        // Most parameters (ids) need no escape: one write, without a check
        // of each run. (One that does is scanned twice.)
        if bytes.iter().all(|&byte| is_unreserved(byte)) {
            return f.write_str(self.0);
        }
        // Runs of unreserved bytes go out as they are, every other byte as `%XX`.
        let mut run = 0;
        for (i, &byte) in bytes.iter().enumerate() {
            if !is_unreserved(byte) {
                write_ascii(f, &bytes[run..i])?;
                write_ascii(
                    f,
                    &[b'%', HEX[usize::from(byte >> 4)], HEX[usize::from(byte & 0xf)]],
                )?;
                run = i + 1;
            }
        }
        write_ascii(f, &bytes[run..])
    }
}

/// RFC 3986's unreserved characters: `A-Z a-z 0-9 - . _ ~`.
fn is_unreserved(byte: u8) -> bool {
    UNRESERVED[usize::from(byte)]
}

/// [`is_unreserved`] as a table (a lookup per byte rather than four tests).
static UNRESERVED: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        table[byte] = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
        byte += 1;
    }
    table
};

/// Writes ASCII `bytes`.
fn write_ascii(f: &mut std::fmt::Formatter<'_>, bytes: &[u8]) -> std::fmt::Result {
    match std::str::from_utf8(bytes) {
        Ok(text) => f.write_str(text),
        Err(_) => Err(std::fmt::Error),
    }
}

/// A client's base URL (which has no query or fragment), kept ready to make
/// request URLs from.
#[derive(Debug, Clone)]
pub(crate) struct Base {
    url: Url,
    /// The base URL with a long path after its own. A request URL starts
    /// as a clone of it, whose text has room for the request's path: setting
    /// the path then does not grow the text (twice, for a typical path).
    roomy: Url,
    /// The base URL's text without a trailing `/`: the text of every URL
    /// under it starts with this (the url crate keeps a URL's text
    /// normalized), followed by its end, `/`, `?` or `#`.
    text: String,
}

/// Room for a request's path, in bytes.
const PATH_ROOM: usize = 160;

impl Base {
    pub(crate) fn new(url: Url) -> Self {
        let mut roomy = url.clone();
        let prefix = url.path().trim_end_matches('/');
        roomy.set_path(&format!("{prefix}/{}", "x".repeat(PATH_ROOM)));
        let text = base_text(&url);
        Self { url, roomy, text }
    }

    /// The URL of a request: `path` (which starts with `/`, its parameters
    /// already [`segment`]s) under the base URL. The same URL as parsing the
    /// base URL's text with `path` appended, without parsing the whole URL
    /// again. A path that cannot be formatted (a parameter's `Display`
    /// failed) is refused, never cut short.
    pub(crate) fn join(&self, path: std::fmt::Arguments<'_>) -> Result<Url, String> {
        use std::fmt::Write;

        let prefix = self.url.path().trim_end_matches('/');
        let mut full = String::with_capacity(prefix.len() + 96);
        full.push_str(prefix);
        full.write_fmt(path)
            .map_err(|_| "a path parameter could not be formatted".to_owned())?;
        let mut url = self.roomy.clone();
        url.set_path(&full);
        Ok(url)
    }

    /// Refuses `url` unless it lies under the base URL: the same origin (and
    /// user information), and a path that is the base's path or continues
    /// it after a `/`. A comparison of the URLs' texts, which the url crate
    /// keeps normalized (a `..` of a path is resolved when it is set).
    pub(crate) fn check(&self, url: &Url) -> Result<(), String> {
        if is_under(&self.text, url) {
            return Ok(());
        }
        Err(format!(
            "the request URL {} is not under the client's base URL {}",
            crate::values::url::redact(url.as_str()),
            crate::values::url::redact(self.url.as_str())
        ))
    }
}

/// Whether `url` lies under the base URL whose text (without a trailing
/// `/`) is `base`: the same origin (and user information), and a path that
/// is the base's path or continues it after a `/`.
pub(crate) fn is_under(base: &str, url: &Url) -> bool {
    match url.as_str().strip_prefix(base) {
        Some(rest) => rest.is_empty() || rest.starts_with(['/', '?', '#']),
        None => false,
    }
}

/// The text [`is_under`] compares with, of the base URL `url`.
pub(crate) fn base_text(url: &Url) -> String {
    url.as_str().trim_end_matches('/').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_string_parameter_is_borrowed_and_others_formatted() {
        let id = "a/b".to_owned();
        assert!(matches!(id.path_text(), Cow::Borrowed("a/b")));
        assert_eq!(42i64.path_text(), "42");
        assert_eq!(std::num::NonZeroU64::new(7).unwrap().path_text(), "7");
        let uuid = uuid::Uuid::nil();
        assert_eq!(uuid.path_text(), "00000000-0000-0000-0000-000000000000");
        let seg = segment("image_id", &id.path_text()).unwrap().to_string();
        assert_eq!(seg, "a%2Fb");
    }

    #[test]
    fn every_ascii_byte_is_kept_only_when_unreserved() {
        const UNRESERVED: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
        for byte in 0u8..=127 {
            let text = format!("a{}", byte as char);
            let expected = if UNRESERVED.contains(byte as char) {
                text.clone()
            } else {
                format!("a%{byte:02X}")
            };
            assert_eq!(segment("id", &text).unwrap().to_string(), expected, "byte {byte}");
        }
    }

    #[test]
    fn a_segment_is_unreserved_bytes_or_percent_escapes() {
        let ok = |v: &str| segment("image_id", v).unwrap().to_string();
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
    fn a_request_url_is_the_base_url_with_the_path_appended() {
        let long = "y".repeat(2 * PATH_ROOM);
        for (base, id) in [
            "http://127.0.0.1:8080",
            "https://api.example.com/prefix",
            "https://API.Example.com:443/v2/",
            "http://[::1]:9000/my prefix",
            "https://bücher.example/ä",
        ]
        .into_iter()
        .flat_map(|base| [(base, "a/b c"), (base, long.as_str())])
        {
            let base_url = Url::parse(base.trim_end_matches('/')).unwrap();
            let seg = segment("image_id", id).unwrap();
            let made = Base::new(base_url.clone())
                .join(format_args!("/v1/images/{seg}"))
                .unwrap();
            let parsed = Url::parse(&format!("{}/v1/images/{seg}", base.trim_end_matches('/'))).unwrap();
            assert_eq!(made, parsed, "{base}");
            assert_eq!(made.as_str(), parsed.as_str());
        }
    }

    #[test]
    fn a_path_that_cannot_be_formatted_is_refused() {
        struct Failing;
        impl std::fmt::Display for Failing {
            fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                Err(std::fmt::Error)
            }
        }
        let base = Base::new(Url::parse("http://127.0.0.1:8080").unwrap());
        let err = base.join(format_args!("/v1/images/{}", Failing)).unwrap_err();
        assert_eq!(err, "a path parameter could not be formatted");
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
        let root = Base::new(url("http://127.0.0.1:8080"));
        let prefixed = Base::new(url("https://api.example.com/prefix"));
        let short_port = Base::new(url("http://127.0.0.1:808"));
        let host = Base::new(url("http://localhost"));
        for (base, under) in [
            (&root, "http://127.0.0.1:8080/v1/compute/images/x"),
            (&root, "http://127.0.0.1:8080"),
            (&prefixed, "https://api.example.com/prefix/v1/x"),
            (&prefixed, "https://api.example.com/prefix"),
            (&prefixed, "https://API.example.com:443/prefix/v1?page=2"),
            (&prefixed, "https://api.example.com/prefix/a/../b"),
        ] {
            assert_eq!(base.check(&url(under)), Ok(()), "{under}");
        }
        for (base, elsewhere) in [
            (&prefixed, "https://api.example.com/prefixed/v1"),
            (&prefixed, "https://api.example.com/admin"),
            (&prefixed, "https://api.example.com/prefix/../admin"),
            (&prefixed, "https://api.example.com:8443/prefix/v1"),
            (&prefixed, "https://user@api.example.com/prefix/v1"),
            (&short_port, "http://127.0.0.1:8080/v1"),
            (&host, "http://localhost.evil.example/v1"),
            (&host, "http://localhost:8080/v1"),
            (&root, "http://127.0.0.1:8081/v1"),
            (&root, "https://127.0.0.1:8080/v1"),
            (&root, "http://localhost:8080/v1"),
        ] {
            assert!(base.check(&url(elsewhere)).is_err(), "{elsewhere}");
        }
        let with_secret = Base::new(url("https://user:secret@api.example.com/prefix"));
        let e = with_secret
            .check(&url("https://api.example.com/admin"))
            .unwrap_err();
        assert_eq!(
            e,
            "the request URL https://api.example.com/admin is not under the client's base URL \
             https://***@api.example.com/prefix"
        );
        // A URL made from the base is under it, unless its path climbs out.
        assert_eq!(
            with_secret.check(&with_secret.join(format_args!("/v1/x")).unwrap()),
            Ok(())
        );
        let climbed = with_secret.join(format_args!("/../admin")).unwrap();
        assert_eq!(climbed.path(), "/admin");
        assert!(with_secret.check(&climbed).is_err());
    }
}
