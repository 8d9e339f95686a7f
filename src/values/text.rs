//! Showing text that came from a server.
//!
//! An error message, an image name or a status text comes from the server and
//! may hold anything: line breaks that forge log lines, ANSI escape sequences
//! that rewrite a terminal, megabytes of text. Everything this crate shows of
//! it (the `Display` of [`Error`](crate::Error)) goes through
//! [`for_display`]: control characters escaped, at most [`DISPLAY_LIMIT`]
//! characters. The full text stays available programmatically (e.g.
//! [`ApiError::body`](crate::ApiError::body)).
//!
//! ```
//! use cloud_images::text;
//!
//! assert_eq!(text::escape_controls("a\r\nb\x1b[2J"), "a\\r\\nb\\u{1b}[2J");
//! let long = "x".repeat(10_000);
//! let shown = text::for_display(&long);
//! assert!(shown.chars().count() < 600 && shown.ends_with("[9600 more bytes not shown]"));
//! ```

use std::borrow::Cow;
use std::fmt::Write;

/// At most this many characters of server text are shown in one message.
pub const DISPLAY_LIMIT: usize = 400;

/// Whether `c` must not reach a terminal or a log as it is: control
/// characters (C0, DEL, C1) and the invisible formatting characters that
/// reorder or hide text (bidirectional overrides and isolates, zero-width
/// marks, byte order mark).
fn is_hazard(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}'
        )
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if is_hazard(c) => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
        c => out.push(c),
    }
}

/// `text` with every control character and invisible formatting character
/// escaped (`\n`, `\r`, `\t`, else `\u{1b}`-style); everything else as it is.
///
/// ```
/// assert_eq!(cloud_images::text::escape_controls("plain"), "plain");
/// assert_eq!(cloud_images::text::escape_controls("evil\u{202e}txt"), "evil\\u{202e}txt");
/// ```
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_hazard) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        push_escaped(&mut out, c);
    }
    Cow::Owned(out)
}

/// `text` escaped as by [`escape_controls`] and cut after `max_chars`
/// characters of output, with a note of how many bytes of `text` were cut.
///
/// ```
/// assert_eq!(cloud_images::text::shorten("abcdef", 3), "abc… [3 more bytes not shown]");
/// assert_eq!(cloud_images::text::shorten("abc", 3), "abc");
/// ```
pub fn shorten(text: &str, max_chars: usize) -> Cow<'_, str> {
    let mut out = String::new();
    let mut shown = 0;
    for (at, c) in text.char_indices() {
        let mut one = String::new();
        push_escaped(&mut one, c);
        let width = one.chars().count();
        if shown + width > max_chars {
            let _ = write!(out, "… [{} more bytes not shown]", text.len() - at);
            return Cow::Owned(out);
        }
        shown += width;
        out.push_str(&one);
    }
    escape_controls(text)
}

/// Server text as an error message shows it: escaped, at most
/// [`DISPLAY_LIMIT`] characters.
///
/// ```
/// assert_eq!(cloud_images::text::for_display("Not found\n"), "Not found\\n");
/// ```
pub fn for_display(text: &str) -> Cow<'_, str> {
    shorten(text, DISPLAY_LIMIT)
}

/// At most this many characters of an id (a request id, which may be the
/// server's) or a URL are shown in one message.
pub const ID_DISPLAY_LIMIT: usize = 128;

/// An id (a request id, an image id) as an error message shows it: escaped,
/// at most [`ID_DISPLAY_LIMIT`] characters.
///
/// ```
/// let id = "7".repeat(1_000_000);
/// let shown = cloud_images::text::id_for_display(&id);
/// assert!(shown.len() < 200 && shown.ends_with("[999872 more bytes not shown]"));
/// ```
pub fn id_for_display(id: &str) -> Cow<'_, str> {
    shorten(id, ID_DISPLAY_LIMIT)
}

/// A transport error as an error message shows it: its message with the
/// request URL in it cut to [`ID_DISPLAY_LIMIT`] characters (a long id makes
/// a long URL), and its root cause; escaped and cut as by [`for_display`].
pub(crate) fn transport_error_for_display(error: &reqwest::Error) -> String {
    let text = with_root_cause(error);
    let text = match error.url().map(reqwest::Url::as_str) {
        Some(url) if url.chars().count() > ID_DISPLAY_LIMIT => text.replace(url, &id_for_display(url)),
        _ => text,
    };
    for_display(&text).into_owned()
}

/// An error and its root cause in one line, e.g. `error sending request for
/// url (…): Connection refused (os error 111)`: the error's own message, then
/// the innermost `source()` when it says something else.
pub(crate) fn with_root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let top = error.to_string();
    let mut root = error;
    while let Some(next) = root.source() {
        root = next;
    }
    let root = root.to_string();
    if root.is_empty() || top.contains(&root) {
        top
    } else {
        format!("{top}: {root}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_controls_and_invisible_formatting() {
        assert_eq!(escape_controls("a\tb"), "a\\tb");
        assert_eq!(escape_controls("\u{7f}\u{85}\u{9b}"), "\\u{7f}\\u{85}\\u{9b}");
        assert_eq!(
            escape_controls("\u{200b}\u{2066}\u{feff}"),
            "\\u{200b}\\u{2066}\\u{feff}"
        );
        assert_eq!(escape_controls("grüße, 日本, \\n"), "grüße, 日本, \\n");
        assert!(matches!(escape_controls("clean"), Cow::Borrowed(_)));
    }

    #[test]
    fn shortening_counts_escapes_and_names_what_was_cut() {
        assert_eq!(shorten("\n\n\n", 4), "\\n\\n… [1 more bytes not shown]");
        assert_eq!(shorten("ééé", 1), "é… [4 more bytes not shown]");
        assert_eq!(shorten("", 0), "");
        let long = "y".repeat(DISPLAY_LIMIT + 1);
        assert_eq!(
            for_display(&long),
            format!("{}… [1 more bytes not shown]", "y".repeat(DISPLAY_LIMIT))
        );
        assert_eq!(for_display(&long[1..]), long[1..]);
    }

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);
    impl std::fmt::Display for Layer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }
    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|e| e as _)
        }
    }

    #[test]
    fn root_cause_is_appended_once() {
        let chain = Layer(
            "error sending request",
            Some(Box::new(Layer(
                "client error (Connect)",
                Some(Box::new(Layer("Connection refused", None))),
            ))),
        );
        assert_eq!(
            with_root_cause(&chain),
            "error sending request: Connection refused"
        );
        assert_eq!(with_root_cause(&Layer("alone", None)), "alone");
        let repeated = Layer(
            "timed out: operation timed out",
            Some(Box::new(Layer("operation timed out", None))),
        );
        assert_eq!(with_root_cause(&repeated), "timed out: operation timed out");
    }
}
