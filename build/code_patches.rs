//! Deliberate changes to the code progenitor generates, applied to every
//! provider's client (the spec patches in `build.rs` change a spec; these
//! change what progenitor makes of it).
//!
//! They work on the generated token stream, before it is printed: the calls
//! they rewrite sit inside `format!` arguments, which a syntax tree keeps as
//! opaque macro tokens. Each one checks that it found everything it should
//! rewrite and fails the build otherwise, so a newer progenitor that generates
//! different code cannot make a patch silently stale.

use proc_macro2::{Delimiter, Group, TokenStream, TokenTree};

/// A deliberate change to the generated code.
pub enum CodePatch {
    /// Every path parameter goes through `crate::path::segment`, which makes
    /// it exactly one path segment (every byte outside RFC 3986's unreserved
    /// set percent-encoded) or refuses it (empty, `.`, `..`) with
    /// `Error::InvalidRequest` naming the parameter, before anything is sent.
    /// progenitor's own `encode_path` leaves `.` and `\` as they are, so an id
    /// of `..` or `..\..\admin` would address another resource.
    ///
    /// Rewrites each `encode_path(&x.to_string())` into
    /// `crate::path::segment("x", &x.to_string()).map_err(Error::InvalidRequest)?`.
    /// Fails when the number of calls differs from the number of path
    /// parameters of the spec's operations, or a call has another shape.
    PathSegments,
    /// A builder setter whose value does not convert says why: each
    /// `.map_err(|_| "conversion to `T` for x failed".to_string())` becomes
    /// `.map_err(|e| format!("{}: {}", "conversion to `T` for x failed", e))`,
    /// and the setter's `where V: TryInto<T>` gains
    /// `<V as TryInto<T>>::Error: Display`. E.g. `x_request_id("bad")` fails
    /// with `... failed: doesn't match pattern ...`. Fails when a setter of
    /// that shape is left unpatched, or none is found.
    SetterErrorCauses,
}

/// The code patches, in the order they are applied to every provider.
pub const CODE_PATCHES: &[CodePatch] = &[CodePatch::PathSegments, CodePatch::SetterErrorCauses];

impl CodePatch {
    /// The patch's name, for build errors.
    pub fn name(&self) -> &'static str {
        match self {
            CodePatch::PathSegments => "PathSegments",
            CodePatch::SetterErrorCauses => "SetterErrorCauses",
        }
    }

    /// Applies the patch to the generated `code` of a spec whose operations
    /// have `path_parameters` path parameters in all.
    pub fn apply(&self, code: TokenStream, path_parameters: usize) -> Result<TokenStream, String> {
        let result = match self {
            CodePatch::PathSegments => {
                let mut found = 0;
                let code = path_segments(code, &mut found)?;
                if found != path_parameters {
                    return Err(format!(
                        "code patch {}: the spec's operations have {path_parameters} path parameter(s) in \
                         all, but {found} `encode_path` call(s) were found in the generated code; \
                         progenitor's output changed, update the patch",
                        self.name()
                    ));
                }
                Ok(code)
            }
            CodePatch::SetterErrorCauses => {
                let expected = count_conversion_closures(code.clone());
                let mut patched = 0;
                let code = setter_errors(code, &mut patched)?;
                if expected == 0 || patched != expected {
                    return Err(format!(
                        "code patch {}: found {expected} setter conversion error(s) without a cause, \
                         patched {patched}; progenitor's output changed, update the patch",
                        self.name()
                    ));
                }
                Ok(code)
            }
        };
        result.map_err(|e: String| {
            if e.starts_with("code patch") {
                e
            } else {
                format!("code patch {}: {e}", self.name())
            }
        })
    }
}

/// Path parameters of all operations of an OpenAPI document: each `{name}` of
/// a path counts once per operation (method) on that path.
pub fn path_parameters(doc: &serde_json::Value) -> usize {
    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    let Some(paths) = doc.get("paths").and_then(|p| p.as_object()) else {
        return 0;
    };
    paths
        .iter()
        .map(|(path, item)| {
            let operations = METHODS.iter().filter(|m| item.get(**m).is_some()).count();
            path.matches('{').count() * operations
        })
        .sum()
}

fn parse(code: &str) -> Result<TokenStream, String> {
    code.parse().map_err(|e| format!("cannot parse `{code}`: {e}"))
}

fn regroup(group: &Group, stream: TokenStream) -> TokenTree {
    let mut patched = Group::new(group.delimiter(), stream);
    patched.set_span(group.span());
    TokenTree::Group(patched)
}

fn is_punct(token: &TokenTree, c: char) -> bool {
    matches!(token, TokenTree::Punct(p) if p.as_char() == c)
}

fn is_ident(token: &TokenTree, name: &str) -> bool {
    matches!(token, TokenTree::Ident(i) if i == name)
}

fn is_parens(token: &TokenTree) -> bool {
    matches!(token, TokenTree::Group(g) if g.delimiter() == Delimiter::Parenthesis)
}

/// Rewrites every `encode_path(&x.to_string())` in `code`.
fn path_segments(code: TokenStream, found: &mut usize) -> Result<TokenStream, String> {
    let tokens: Vec<TokenTree> = code.into_iter().collect();
    let mut out = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        match (&tokens[i], tokens.get(i + 1)) {
            (ident, Some(TokenTree::Group(args)))
                if is_ident(ident, "encode_path") && is_parens(&tokens[i + 1]) =>
            {
                let name = path_argument(args.stream()).ok_or_else(|| {
                    format!(
                        "an `encode_path({})` call of a shape the patch does not know",
                        args.stream()
                    )
                })?;
                out.extend(parse(&format!(
                    "crate::path::segment({name:?}, &{name}.to_string())\
                     .map_err(::progenitor_client::Error::InvalidRequest)?"
                ))?);
                *found += 1;
                i += 2;
            }
            (TokenTree::Group(group), _) => {
                out.push(regroup(group, path_segments(group.stream(), found)?));
                i += 1;
            }
            (token, _) => {
                out.push(token.clone());
                i += 1;
            }
        }
    }
    Ok(out.into_iter().collect())
}

/// `x` of `&x.to_string()`.
fn path_argument(args: TokenStream) -> Option<String> {
    let tokens: Vec<TokenTree> = args.into_iter().collect();
    match tokens.as_slice() {
        [amp, TokenTree::Ident(name), dot, method, TokenTree::Group(call)]
            if is_punct(amp, '&')
                && is_punct(dot, '.')
                && is_ident(method, "to_string")
                && call.delimiter() == Delimiter::Parenthesis
                && call.stream().is_empty() =>
        {
            Some(name.to_string())
        }
        _ => None,
    }
}

/// The message literal of a `|_| "conversion to ... failed".to_string()`
/// closure (the contents of a `map_err(...)`), if it is one.
fn conversion_closure(args: &TokenStream) -> Option<proc_macro2::Literal> {
    let tokens: Vec<TokenTree> = args.clone().into_iter().collect();
    let [bar, underscore, bar2, body @ ..] = tokens.as_slice() else {
        return None;
    };
    if !(is_punct(bar, '|') && is_ident(underscore, "_") && is_punct(bar2, '|')) {
        return None;
    }
    fn find(tokens: &[TokenTree]) -> Option<proc_macro2::Literal> {
        tokens.iter().find_map(|t| match t {
            TokenTree::Literal(l) => {
                let text = l.to_string();
                (text.starts_with("\"conversion to ") && text.ends_with(" failed\"")).then(|| l.clone())
            }
            TokenTree::Group(g) => find(&g.stream().into_iter().collect::<Vec<_>>()),
            _ => None,
        })
    }
    find(body)
}

/// Conversion closures without a cause anywhere in `code`.
fn count_conversion_closures(code: TokenStream) -> usize {
    let tokens: Vec<TokenTree> = code.into_iter().collect();
    let mut count = 0;
    for (i, token) in tokens.iter().enumerate() {
        if let TokenTree::Group(group) = token {
            let after_map_err = i > 0 && is_ident(&tokens[i - 1], "map_err") && is_parens(token);
            if after_map_err && conversion_closure(&group.stream()).is_some() {
                count += 1;
            } else {
                count += count_conversion_closures(group.stream());
            }
        }
    }
    count
}

/// Replaces the conversion closure inside a setter's body; whether it did.
fn patch_closure(body: TokenStream, patched: &mut bool) -> Result<TokenStream, String> {
    let tokens: Vec<TokenTree> = body.into_iter().collect();
    let mut out = Vec::with_capacity(tokens.len());
    for (i, token) in tokens.iter().enumerate() {
        let TokenTree::Group(group) = token else {
            out.push(token.clone());
            continue;
        };
        let after_map_err = i > 0 && is_ident(&tokens[i - 1], "map_err") && is_parens(token);
        match conversion_closure(&group.stream()).filter(|_| after_map_err) {
            Some(message) => {
                out.push(regroup(
                    group,
                    parse(&format!("|e| format!(\"{{}}: {{}}\", {message}, e)"))?,
                ));
                *patched = true;
            }
            None => out.push(regroup(group, patch_closure(group.stream(), patched)?)),
        }
    }
    Ok(out.into_iter().collect())
}

/// `V` and `T` of a where clause `V: std::convert::TryInto<T>` (one predicate,
/// an optional trailing comma).
fn try_into_predicate(clause: &[TokenTree]) -> Option<(String, TokenStream)> {
    let (TokenTree::Ident(param), rest) = clause.split_first()? else {
        return None;
    };
    let opening = rest.iter().position(|t| is_punct(t, '<'))?;
    let path: String = rest[..opening].iter().map(ToString::to_string).collect();
    if path != ":std::convert::TryInto" {
        return None;
    }
    let mut depth = 0;
    for (i, token) in rest.iter().enumerate().skip(opening) {
        if is_punct(token, '<') {
            depth += 1;
        } else if is_punct(token, '>') {
            depth -= 1;
            if depth == 0 {
                let tail = &rest[i + 1..];
                let single = tail.is_empty() || (tail.len() == 1 && is_punct(&tail[0], ','));
                let target = rest[opening + 1..i].iter().cloned().collect();
                return single.then(|| (param.to_string(), target));
            }
        }
    }
    None
}

/// Patches every setter `fn x<V>(mut self, value: V) -> Self where V:
/// TryInto<T> { ... map_err(|_| "conversion ...") ... }` in `code`.
fn setter_errors(code: TokenStream, patched: &mut usize) -> Result<TokenStream, String> {
    let tokens: Vec<TokenTree> = code.into_iter().collect();
    let mut out = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let body_at = is_ident(&tokens[i], "where")
            .then(|| {
                tokens[i + 1..]
                    .iter()
                    .position(|t| matches!(t, TokenTree::Group(g) if g.delimiter() == Delimiter::Brace))
                    .map(|p| i + 1 + p)
            })
            .flatten();
        if let Some(body_at) = body_at
            && let Some((param, target)) = try_into_predicate(&tokens[i + 1..body_at])
            && let TokenTree::Group(body) = &tokens[body_at]
        {
            let mut done = false;
            let new_body = patch_closure(body.stream(), &mut done)?;
            if done {
                out.extend(tokens[i..body_at].iter().cloned());
                if !is_punct(&tokens[body_at - 1], ',') {
                    out.extend(parse(",")?);
                }
                out.extend(parse(&format!(
                    "<{param} as std::convert::TryInto<{target}>>::Error: std::fmt::Display,"
                ))?);
                out.push(regroup(body, new_body));
                *patched += 1;
                i = body_at + 1;
                continue;
            }
        }
        match &tokens[i] {
            TokenTree::Group(group) => out.push(regroup(group, setter_errors(group.stream(), patched)?)),
            token => out.push(token.clone()),
        }
        i += 1;
    }
    Ok(out.into_iter().collect())
}
