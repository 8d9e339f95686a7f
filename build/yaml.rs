//! Reads a YAML document (a spec in `openapi/`, or an upstream file for the
//! refresh tool) into a tree, with the `saphyr-parser` event parser.
//!
//! The build script reads into [`serde_json::Value`] (the impl below); the
//! refresh tool (`examples/refresh_spec/yaml.rs`) reads into its own ordered
//! value, which it writes back. A plain scalar resolves as serde_yaml 0.9
//! resolved it, which these specs were read with before: the YAML 1.2 core
//! schema (`null`, `~` or nothing; `true`/`false`; decimal, `0x`, `0o` and
//! `0b` integers; floats, `.inf`, `.nan`), except that digits with a leading
//! zero (`0123`) stay a string. A quoted or block scalar is a string.
//!
//! What the specs never use is an error rather than a guess: tags, aliases,
//! keys that are not scalars, duplicate keys, more than one document.

use saphyr_parser::{Event, Parser, ScalarStyle};

/// What a scalar is; its text is given beside it.
pub enum Scalar {
    Null,
    Bool(bool),
    /// A non-negative integer.
    Unsigned(u64),
    /// A negative integer.
    Negative(i64),
    Float(f64),
    String,
}

/// A tree that a document is read into.
pub trait Node: Sized {
    /// A scalar: what it resolves to, and its text as read.
    fn scalar(scalar: Scalar, text: String) -> Self;
    fn sequence(items: Vec<Self>) -> Self;
    /// A mapping, its entries in document order (the keys are unique).
    fn mapping(entries: Vec<(String, Self)>) -> Self;
}

/// Reads the one document in `text`.
pub fn parse<T: Node>(text: &str) -> Result<T, String> {
    enum Open<T> {
        Sequence(Vec<T>),
        /// The entries so far, and the key waiting for its value.
        Mapping(Vec<(String, T)>, Option<String>),
    }
    let mut open: Vec<Open<T>> = Vec::new();
    let mut document = None;
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| e.to_string())?;
        let line = span.start.line();
        let node = match event {
            Event::DocumentStart(_) if document.is_some() => {
                return Err(format!("line {line}: a second document, only one is supported"));
            }
            Event::SequenceStart(_, tag) | Event::MappingStart(_, tag) | Event::Scalar(_, _, _, tag)
                if tag.is_some() =>
            {
                return Err(format!("line {line}: a tag, which is not supported"));
            }
            Event::Alias(_) => return Err(format!("line {line}: an alias, which is not supported")),
            Event::SequenceStart(..) | Event::MappingStart(..)
                if matches!(open.last(), Some(Open::Mapping(_, None))) =>
            {
                return Err(format!("line {line}: a key that is not a scalar"));
            }
            Event::SequenceStart(..) => {
                open.push(Open::Sequence(Vec::new()));
                continue;
            }
            Event::MappingStart(..) => {
                open.push(Open::Mapping(Vec::new(), None));
                continue;
            }
            Event::SequenceEnd => match open.pop() {
                Some(Open::Sequence(items)) => T::sequence(items),
                _ => return Err(format!("line {line}: unbalanced sequence")),
            },
            Event::MappingEnd => match open.pop() {
                Some(Open::Mapping(entries, None)) => T::mapping(entries),
                _ => return Err(format!("line {line}: unbalanced mapping")),
            },
            Event::Scalar(text, style, _, _) => {
                if let Some(Open::Mapping(entries, key @ None)) = open.last_mut() {
                    if entries.iter().any(|(k, _)| *k == text) {
                        return Err(format!("line {line}: duplicate key `{text}`"));
                    }
                    *key = Some(text.into_owned());
                    continue;
                }
                let scalar = match style {
                    ScalarStyle::Plain => resolve(&text).map_err(|e| format!("line {line}: {e}"))?,
                    _ => Scalar::String,
                };
                T::scalar(scalar, text.into_owned())
            }
            _ => continue,
        };
        match open.last_mut() {
            Some(Open::Sequence(items)) => items.push(node),
            Some(Open::Mapping(entries, key)) => {
                let key = key.take().expect("a value follows its key");
                entries.push((key, node));
            }
            None => document = Some(node),
        }
    }
    document.ok_or_else(|| "no YAML document".to_owned())
}

/// What a plain scalar resolves to, as serde_yaml 0.9 resolved it.
pub fn resolve(text: &str) -> Result<Scalar, String> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Ok(Scalar::Null),
        "true" | "True" | "TRUE" => return Ok(Scalar::Bool(true)),
        "false" | "False" | "FALSE" => return Ok(Scalar::Bool(false)),
        _ => {}
    }
    if let Some(int) = unsigned(text, u64::from_str_radix) {
        return Ok(Scalar::Unsigned(int));
    }
    if let Some(int) = negative(text, i64::from_str_radix) {
        return Ok(Scalar::Negative(int));
    }
    if unsigned(text, u128::from_str_radix).is_some() || negative(text, i128::from_str_radix).is_some() {
        return Err(format!("the integer `{text}` does not fit in 64 bits"));
    }
    if !leading_zero(text)
        && let Some(float) = float(text)
    {
        return Ok(Scalar::Float(float));
    }
    Ok(Scalar::String)
}

/// Digits with a leading zero, signed or not: a string in YAML 1.2.
pub fn leading_zero(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    digits.len() > 1 && digits.starts_with('0') && digits[1..].bytes().all(|b| b.is_ascii_digit())
}

/// The radix and the digits after a `0x`, `0o` or `0b` prefix.
fn radix(text: &str) -> Option<(u32, &str)> {
    [("0x", 16), ("0o", 8), ("0b", 2)]
        .into_iter()
        .find_map(|(prefix, radix)| Some((radix, text.strip_prefix(prefix)?)))
        .filter(|(_, digits)| !digits.starts_with(['+', '-']))
}

type FromStrRadix<T> = fn(&str, u32) -> Result<T, std::num::ParseIntError>;

/// A non-negative integer, `+` allowed.
fn unsigned<T>(text: &str, from_str_radix: FromStrRadix<T>) -> Option<T> {
    let unsigned = text.strip_prefix('+').unwrap_or(text);
    if let Some((radix, digits)) = radix(unsigned)
        && let Ok(int) = from_str_radix(digits, radix)
    {
        return Some(int);
    }
    if unsigned.starts_with(['+', '-']) || leading_zero(text) {
        return None;
    }
    from_str_radix(unsigned, 10).ok()
}

/// A negative integer.
fn negative<T>(text: &str, from_str_radix: FromStrRadix<T>) -> Option<T> {
    let magnitude = text.strip_prefix('-')?;
    if let Some((radix, digits)) = radix(magnitude)
        && let Ok(int) = from_str_radix(&format!("-{digits}"), radix)
    {
        return Some(int);
    }
    if leading_zero(text) {
        return None;
    }
    from_str_radix(text, 10).ok()
}

fn float(text: &str) -> Option<f64> {
    let unsigned = match text.strip_prefix('+') {
        Some(rest) if rest.starts_with(['+', '-']) => return None,
        Some(rest) => rest,
        None => text,
    };
    match (unsigned, text) {
        (".inf" | ".Inf" | ".INF", _) => Some(f64::INFINITY),
        (_, "-.inf" | "-.Inf" | "-.INF") => Some(f64::NEG_INFINITY),
        (_, ".nan" | ".NaN" | ".NAN") => Some(f64::NAN),
        _ => unsigned.parse::<f64>().ok().filter(|f| f.is_finite()),
    }
}

/// The JSON value of a document, as `serde_json` makes it: a float that JSON
/// cannot hold (infinite, NaN) is `null`.
impl Node for serde_json::Value {
    fn scalar(scalar: Scalar, text: String) -> Self {
        match scalar {
            Scalar::Null => Self::Null,
            Scalar::Bool(b) => Self::Bool(b),
            Scalar::Unsigned(int) => Self::from(int),
            Scalar::Negative(int) => Self::from(int),
            Scalar::Float(float) => serde_json::Number::from_f64(float).map_or(Self::Null, Self::Number),
            Scalar::String => Self::String(text),
        }
    }

    fn sequence(items: Vec<Self>) -> Self {
        Self::Array(items)
    }

    fn mapping(entries: Vec<(String, Self)>) -> Self {
        Self::Object(entries.into_iter().collect())
    }
}
