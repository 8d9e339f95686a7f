//! The refresh tool's YAML: a value that keeps the order of mapping keys, read
//! as the build reads a spec (`build/yaml.rs`) and written in the layout the
//! checked-in specs have.
//!
//! That layout is libyaml's, as serde_yaml 0.9 drove it (the specs were
//! written with it before): block mappings and sequences indented by two, a
//! sequence in a mapping not indented, `{}` and `[]` for empty ones, no line
//! wrapping; a string is plain where libyaml allows it and it reads back as a
//! string, else single-quoted; a string with a line break is a literal block
//! (`|`, `|-`, `|+`) where libyaml allows one, else double-quoted with
//! escapes. A number is written as it was read.

use std::ops::Index;

#[path = "../../build/yaml.rs"]
mod read;

use read::Scalar;

/// A YAML value. Mapping keys are strings, as in an OpenAPI document.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// A number, as its text was read.
    Number(String),
    String(String),
    Sequence(Vec<Value>),
    Mapping(Mapping),
}

/// A mapping that keeps its keys in the order they were inserted.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Mapping {
    entries: Vec<(String, Value)>,
}

/// Reads the one document in `text`.
pub fn from_str(text: &str) -> Result<Value, String> {
    read::parse(text)
}

/// Writes `value` as a YAML document.
pub fn to_string(value: &Value) -> Result<String, String> {
    let mut out = Writer {
        out: String::new(),
        column: 0,
        whitespace: true,
        indention: true,
    };
    out.node(value, None, Context::Root)?;
    out.write_indent(0);
    Ok(out.out)
}

impl read::Node for Value {
    fn scalar(scalar: Scalar, text: String) -> Self {
        match scalar {
            Scalar::Null => Value::Null,
            Scalar::Bool(b) => Value::Bool(b),
            Scalar::Unsigned(_) | Scalar::Negative(_) | Scalar::Float(_) => Value::Number(text),
            Scalar::String => Value::String(text),
        }
    }

    fn sequence(items: Vec<Self>) -> Self {
        Value::Sequence(items)
    }

    fn mapping(entries: Vec<(String, Self)>) -> Self {
        Value::Mapping(Mapping { entries })
    }
}

impl Value {
    /// The value of `key`, if this is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_mapping()?.get(key)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_sequence(&self) -> Option<&[Value]> {
        match self {
            Value::Sequence(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_mapping(&self) -> Option<&Mapping> {
        match self {
            Value::Mapping(map) => Some(map),
            _ => None,
        }
    }

    pub fn as_mapping_mut(&mut self) -> Option<&mut Mapping> {
        match self {
            Value::Mapping(map) => Some(map),
            _ => None,
        }
    }

    pub fn is_mapping(&self) -> bool {
        matches!(self, Value::Mapping(_))
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl PartialEq<str> for Value {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == Some(other)
    }
}

impl PartialEq<&str> for Value {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == Some(*other)
    }
}

/// `value["key"]`: the value of `key`, or null.
impl Index<&str> for Value {
    type Output = Value;

    fn index(&self, key: &str) -> &Value {
        self.get(key).unwrap_or(&Value::Null)
    }
}

/// `value[i]`: the `i`th item of a sequence, or null.
impl Index<usize> for Value {
    type Output = Value;

    fn index(&self, i: usize) -> &Value {
        self.as_sequence().and_then(|s| s.get(i)).unwrap_or(&Value::Null)
    }
}

impl Mapping {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Sets `key` to `value`: in its place if the key is there, else last.
    /// Returns the value it had.
    pub fn insert(&mut self, key: impl Into<String>, value: Value) -> Option<Value> {
        let key = key.into();
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some((_, old)) => Some(std::mem::replace(old, value)),
            None => {
                self.entries.push((key, value));
                None
            }
        }
    }

    /// The value of `key`, inserted last with `default` if the key is not there.
    pub fn get_or_insert_with(&mut self, key: &str, default: impl FnOnce() -> Value) -> &mut Value {
        let at = match self.entries.iter().position(|(k, _)| k == key) {
            Some(at) => at,
            None => {
                self.entries.push((key.to_owned(), default()));
                self.entries.len() - 1
            }
        };
        &mut self.entries[at].1
    }

    /// Removes `key`; returns the value it had.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let at = self.entries.iter().position(|(k, _)| k == key)?;
        Some(self.entries.remove(at).1)
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.entries.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl Iterator<Item = &Value> {
        self.entries.iter().map(|(_, v)| v)
    }
}

type Entry<'a> = fn(&'a (String, Value)) -> (&'a String, &'a Value);

impl<'a> IntoIterator for &'a Mapping {
    type Item = (&'a String, &'a Value);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, (String, Value)>, Entry<'a>>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (k, v))
    }
}

impl<K: Into<String>> FromIterator<(K, Value)> for Mapping {
    fn from_iter<I: IntoIterator<Item = (K, Value)>>(entries: I) -> Self {
        let mut map = Mapping::new();
        for (key, value) in entries {
            map.insert(key, value);
        }
        map
    }
}

// ---------------------------------------------------------------------------
// Writing, after libyaml's emitter (`emitter.c`) with serde_yaml's settings:
// indent 2, unlimited width, Unicode written as is, `\n` line breaks.

/// Where a node stands.
#[derive(Clone, Copy, PartialEq)]
enum Context {
    Root,
    /// The value of a mapping entry.
    MappingValue,
    SequenceItem,
    /// A mapping key.
    Key,
}

#[derive(Clone, Copy, PartialEq)]
enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
}

/// What libyaml's `yaml_emitter_analyze_scalar` finds out about a scalar.
struct Analysis {
    multiline: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

struct Writer {
    out: String,
    /// Characters since the last line break.
    column: usize,
    /// The last thing written was white space (or nothing).
    whitespace: bool,
    /// Only indentation (and indicators) on the line so far.
    indention: bool,
}

impl Writer {
    /// Writes a node. `indent` is the indentation of the collection it is in
    /// (`None` at the root).
    fn node(&mut self, value: &Value, indent: Option<usize>, context: Context) -> Result<(), String> {
        match value {
            Value::Mapping(map) if map.is_empty() => self.empty("{", "}"),
            Value::Sequence(items) if items.is_empty() => self.empty("[", "]"),
            Value::Mapping(map) => {
                let indent = indent.map_or(0, |i| i + 2);
                for (key, value) in map {
                    self.write_indent(indent);
                    if analyze(key).multiline || key.len() > 128 {
                        return Err(format!(
                            "the key `{key}` is too long or spans lines (not written as a simple key)"
                        ));
                    }
                    self.scalar(key, request(key), Some(indent), Context::Key);
                    self.write_indicator(":", false, false, false);
                    self.node(value, Some(indent), Context::MappingValue)?;
                }
            }
            Value::Sequence(items) => {
                // In a mapping, `- ` stands at the key's indentation.
                let indentless = context == Context::MappingValue && !self.indention;
                let indent = match indent {
                    None => 0,
                    Some(i) if indentless => i,
                    Some(i) => i + 2,
                };
                for item in items {
                    self.write_indent(indent);
                    self.write_indicator("-", true, false, true);
                    self.node(item, Some(indent), Context::SequenceItem)?;
                }
            }
            Value::Null => self.scalar("null", Style::Plain, indent, context),
            Value::Bool(b) => self.scalar(if *b { "true" } else { "false" }, Style::Plain, indent, context),
            Value::Number(text) => self.scalar(text, Style::Plain, indent, context),
            Value::String(s) => self.scalar(s, request(s), indent, context),
        }
        Ok(())
    }

    /// An empty mapping or sequence, in flow style.
    fn empty(&mut self, open: &str, close: &str) {
        self.write_indicator(open, true, true, false);
        self.write_indicator(close, false, false, false);
    }

    /// A scalar, `requested` in a style that libyaml may overrule
    /// (`yaml_emitter_select_scalar_style`). `indent` is that of the
    /// collection the scalar is in; its own lines go two further.
    fn scalar(&mut self, text: &str, requested: Style, indent: Option<usize>, context: Context) {
        let analysis = analyze(text);
        let key = context == Context::Key;
        let mut style = requested;
        if key && analysis.multiline {
            style = Style::DoubleQuoted;
        }
        if style == Style::Plain && (!analysis.block_plain_allowed || (text.is_empty() && key)) {
            style = Style::SingleQuoted;
        }
        if style == Style::SingleQuoted && !analysis.single_quoted_allowed {
            style = Style::DoubleQuoted;
        }
        if style == Style::Literal && (!analysis.block_allowed || key) {
            style = Style::DoubleQuoted;
        }
        let indent = indent.map_or(2, |i| i + 2);
        match style {
            Style::Plain => self.plain(text),
            Style::SingleQuoted => self.single_quoted(text, indent),
            Style::DoubleQuoted => self.double_quoted(text),
            Style::Literal => self.literal(text, indent),
        }
    }

    fn plain(&mut self, text: &str) {
        if !self.whitespace && !text.is_empty() {
            self.put(' ');
        }
        for c in text.chars() {
            self.put(c);
        }
        self.whitespace = false;
        self.indention = false;
    }

    fn single_quoted(&mut self, text: &str, indent: usize) {
        self.write_indicator("'", true, false, false);
        let mut breaks = false;
        for c in text.chars() {
            if c == ' ' {
                self.put(c);
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent(indent);
                }
                if c == '\'' {
                    self.put('\'');
                }
                self.put(c);
                self.indention = false;
                breaks = false;
            }
        }
        if breaks {
            self.write_indent(indent);
        }
        self.write_indicator("'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn double_quoted(&mut self, text: &str) {
        self.write_indicator("\"", true, false, false);
        for c in text.chars() {
            if !is_printable(c) || c == '\u{feff}' || is_break(c) || c == '"' || c == '\\' {
                self.put('\\');
                let short = match c {
                    '\0' => Some('0'),
                    '\u{7}' => Some('a'),
                    '\u{8}' => Some('b'),
                    '\t' => Some('t'),
                    '\n' => Some('n'),
                    '\u{b}' => Some('v'),
                    '\u{c}' => Some('f'),
                    '\r' => Some('r'),
                    '\u{1b}' => Some('e'),
                    '"' => Some('"'),
                    '\\' => Some('\\'),
                    '\u{85}' => Some('N'),
                    '\u{a0}' => Some('_'),
                    '\u{2028}' => Some('L'),
                    '\u{2029}' => Some('P'),
                    _ => None,
                };
                let escape = match (short, u32::from(c)) {
                    (Some(s), _) => s.to_string(),
                    (None, n @ ..=0xff) => format!("x{n:02X}"),
                    (None, n @ ..=0xffff) => format!("u{n:04X}"),
                    (None, n) => format!("U{n:08X}"),
                };
                escape.chars().for_each(|c| self.put(c));
            } else {
                self.put(c);
            }
        }
        self.write_indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn literal(&mut self, text: &str, indent: usize) {
        self.write_indicator("|", true, false, false);
        let mut chars = text.chars();
        if chars.clone().next().is_some_and(|c| c == ' ' || is_break(c)) {
            self.write_indicator("2", false, false, false);
        }
        // Chomping: `-` strips the missing final line break, `+` keeps
        // several, none (clip) keeps one.
        match (chars.next_back(), chars.next_back()) {
            (None, _) => self.write_indicator("-", false, false, false),
            (Some(last), _) if !is_break(last) => self.write_indicator("-", false, false, false),
            (Some(_), None) => self.write_indicator("+", false, false, false),
            (Some(_), Some(before)) if is_break(before) => self.write_indicator("+", false, false, false),
            _ => {}
        }
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        for c in text.chars() {
            if is_break(c) {
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent(indent);
                }
                self.put(c);
                self.indention = false;
                breaks = false;
            }
        }
    }

    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    fn write_break(&mut self, c: char) {
        if c == '\n' {
            self.put_break();
        } else {
            self.out.push(c);
            self.column = 0;
        }
    }

    fn write_indent(&mut self, indent: usize) {
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn write_indicator(
        &mut self,
        indicator: &str,
        need_whitespace: bool,
        is_whitespace: bool,
        is_indention: bool,
    ) {
        if need_whitespace && !self.whitespace {
            self.put(' ');
        }
        indicator.chars().for_each(|c| self.put(c));
        self.whitespace = is_whitespace;
        self.indention = self.indention && is_indention;
    }
}

/// The style serde_yaml asks for a string in: a literal block if it has a
/// line break; quoted if it would read back as something else (`null`,
/// `true`, `12`, `1.5`, `0123`); else whatever libyaml finds best.
fn request(s: &str) -> Style {
    if s.contains('\n') {
        Style::Literal
    } else if !matches!(read::resolve(s), Ok(Scalar::String)) || read::leading_zero(s) {
        Style::SingleQuoted
    } else {
        Style::Plain
    }
}

/// libyaml's `yaml_emitter_analyze_scalar`, for a scalar in block context.
fn analyze(text: &str) -> Analysis {
    if text.is_empty() {
        return Analysis {
            multiline: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let chars: Vec<char> = text.chars().collect();
    let mut indicators = text.starts_with("---") || text.starts_with("...");
    let (mut line_breaks, mut special_characters) = (false, false);
    let (mut leading, mut trailing_space, mut trailing_break) = (false, false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut previous_space, mut previous_break) = (false, false);
    let mut preceded_by_whitespace = true;
    for (i, &c) in chars.iter().enumerate() {
        let followed_by_whitespace = chars.get(i + 1).is_none_or(|&next| is_blank_or_break(next));
        let last = i + 1 == chars.len();
        if i == 0 {
            if "#,[]{}&*!|>'\"%@`".contains(c) || (c == '-' && followed_by_whitespace) {
                indicators = true;
            }
            if (c == '?' || c == ':') && followed_by_whitespace {
                indicators = true;
            }
        } else if (c == ':' && followed_by_whitespace) || (c == '#' && preceded_by_whitespace) {
            indicators = true;
        }
        if !is_printable(c) {
            special_characters = true;
        }
        if c == ' ' {
            leading |= i == 0;
            trailing_space |= last;
            break_space |= previous_break;
            (previous_space, previous_break) = (true, false);
        } else if is_break(c) {
            line_breaks = true;
            leading |= i == 0;
            trailing_break |= last;
            space_break |= previous_space;
            (previous_space, previous_break) = (false, true);
        } else {
            (previous_space, previous_break) = (false, false);
        }
        preceded_by_whitespace = is_blank_or_break(c);
    }
    let plain = !(leading || trailing_space || trailing_break || break_space || space_break);
    Analysis {
        multiline: line_breaks,
        block_plain_allowed: plain && !special_characters && !line_breaks && !indicators,
        single_quoted_allowed: !break_space && !space_break && !special_characters,
        block_allowed: !trailing_space && !space_break && !special_characters,
    }
}

/// libyaml's `IS_PRINTABLE`.
fn is_printable(c: char) -> bool {
    matches!(c, '\n' | ' '..='~' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
        && c != '\u{feff}'
}

/// libyaml's `IS_BREAK`.
fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// libyaml's `IS_BLANKZ` (the end of the text counts too).
fn is_blank_or_break(c: char) -> bool {
    c == ' ' || c == '\t' || c == '\0' || is_break(c)
}
