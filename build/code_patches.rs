//! The code patches: deliberate changes to the code progenitor generates,
//! applied to every provider's client (the spec patches in
//! `build/spec_patches.rs` change a spec; these change what progenitor makes
//! of it).
//!
//! They work on the generated token stream, before it is printed: the calls
//! they rewrite sit inside `format!` arguments, which a syntax tree keeps as
//! opaque macro tokens. Each one checks that it found everything it should
//! rewrite and fails the build otherwise, so a newer progenitor that generates
//! different code cannot make a patch silently stale. The token utilities they
//! share are in `build/tokens.rs`.

use proc_macro2::{Delimiter, Group, TokenStream, TokenTree};

use crate::tokens::{
    count_ident, count_literal, doc_attribute, doc_text, is_ident, is_parens, is_punct, mentions, parse,
    regroup,
};

/// A deliberate change to the generated code.
pub enum CodePatch {
    /// Every path parameter goes through `crate::engine::codegen::segment`, which makes
    /// it exactly one path segment (every byte outside RFC 3986's unreserved
    /// set percent-encoded) or refuses it (empty, `.`, `..`) with
    /// `Error::InvalidRequest` naming the parameter, before anything is sent.
    /// progenitor's own `encode_path` leaves `.` and `\` as they are, so an id
    /// of `..` or `..\..\admin` would address another resource.
    ///
    /// Rewrites each `encode_path(&x.to_string())` into
    /// `crate::engine::codegen::segment("x", &PathText::path_text(&x)).map_err(Error::InvalidRequest)?`
    /// (`path_text` borrows a string parameter rather than copying it).
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
    /// An optional field's setter on a body type's builder takes the value
    /// itself, `Some`/`None`, or a `&str` for text: each `where T:
    /// ::std::convert::TryInto<::std::option::Option<X>>` becomes `where T:
    /// crate::engine::codegen::OptionalValue<X>` and its `value.try_into()` becomes
    /// `crate::engine::codegen::OptionalValue::into_option(value)`. So
    /// `.description("golden")` works where it needed
    /// `Some("golden".to_string())`. Fails when a setter of that shape is
    /// left unpatched, or none is found.
    OptionalSetters,
    /// The generated docs show the layer's way to send: every operation's
    /// example ends in `.execute().await?` (the [`Execute`] trait) instead of
    /// `.send().await`, each builder's own `send()` is `#[doc(hidden)]`
    /// (still callable, for raw progenitor access), and the `Client`'s doc is
    /// a short pointer to the provider module instead of the spec's whole
    /// introduction. Fails when the counts of examples, `send`s and `Client`
    /// docs do not match the operations.
    ///
    /// [`Execute`]: https://docs.rs/cloud-images/latest/cloud_images/trait.Execute.html
    DocsUseExecute,
    /// A request URL is made from the base URL the client parsed once,
    /// rather than formatted into a string that reqwest parses again for
    /// every request (which costs more than the rest of what the layer adds
    /// to a call): each `format!("{}/path/{}", client.baseurl, x)` becomes
    /// `client.inner.request_url(format_args!("/path/{}", x))`
    /// (and `.map_err(Error::InvalidRequest)?`),
    /// which gives the same URL. Fails when an operation's body (the block
    /// with its `OperationInfo`) has other than one rewritten URL, when the
    /// number of rewritten URLs differs from the number of operations, or when
    /// a `format!` of `client.baseurl` is left unpatched.
    UrlFromBase,
    /// A body is decoded from the bytes the transport read inside the attempt
    /// (with the client's size limit), rather than handed back inside a
    /// response rebuilt around them and read a second time: each
    /// `ResponseValue::from_response(response)` becomes
    /// `crate::engine::codegen::from_response(response)`. That decodes the bytes the
    /// running call's record holds just as progenitor does (status, headers,
    /// `serde_json`, `InvalidResponsePayload` for a body that does not
    /// decode), and reads the response itself when the record holds none (a
    /// builder's own `send()`). Fails when no `from_response` is found or one
    /// is left unpatched.
    DecodeReadBody,
    /// No request sends progenitor's own `api-version` header, which carries
    /// the spec document's version and which none of the three APIs defines
    /// (each has its version in the path): each operation's
    /// `header_map.append(HeaderName::from_static("api-version"), ...);` is
    /// removed, and its `let mut header_map = HeaderMap::with_capacity(n)`,
    /// sized for it, becomes `#[allow(unused_mut)] let mut header_map =
    /// HeaderMap::new()`, which allocates only when a header parameter is
    /// given. Fails when the number of either differs from the number of
    /// operations, or an `"api-version"` is left.
    NoApiVersionHeader,
    /// A header that every request of an operation sends with a fixed name
    /// or value (`accept`) is made once, at compile time, not checked again
    /// on every request: each `::reqwest::header::HeaderValue::from_static(x)`
    /// (and `HeaderName`'s) becomes
    /// `const { ::reqwest::header::HeaderValue::from_static(x) }`, where `x`
    /// is a string literal. Fails when none is found, when one is left, or
    /// when an argument is no string literal.
    ConstHeaders,
    /// Changes nothing: checks that every operation's `send()` calls
    /// `client.exec(request, &info)` right after
    /// `client.pre(&mut request, &info).await?;`, with nothing in between.
    /// The transport hands the call's record from its `pre` hook to its
    /// `exec` hook through the thread (`Call::hand_over`), which is sound
    /// only while no await point separates the two. Fails when the number of
    /// `pre` calls, or of those followed at once by `let result =
    /// client.exec(`, differs from the number of operations.
    PreThenExec,
}

/// The code patches, in the order they are applied to every provider.
pub const CODE_PATCHES: &[CodePatch] = &[
    CodePatch::PathSegments,
    CodePatch::SetterErrorCauses,
    CodePatch::OptionalSetters,
    CodePatch::DocsUseExecute,
    CodePatch::UrlFromBase,
    CodePatch::DecodeReadBody,
    CodePatch::NoApiVersionHeader,
    CodePatch::ConstHeaders,
    CodePatch::PreThenExec,
];

impl CodePatch {
    /// The patch's name, for build errors.
    pub fn name(&self) -> &'static str {
        match self {
            CodePatch::PathSegments => "PathSegments",
            CodePatch::SetterErrorCauses => "SetterErrorCauses",
            CodePatch::OptionalSetters => "OptionalSetters",
            CodePatch::DocsUseExecute => "DocsUseExecute",
            CodePatch::UrlFromBase => "UrlFromBase",
            CodePatch::DecodeReadBody => "DecodeReadBody",
            CodePatch::NoApiVersionHeader => "NoApiVersionHeader",
            CodePatch::ConstHeaders => "ConstHeaders",
            CodePatch::PreThenExec => "PreThenExec",
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
            CodePatch::OptionalSetters => {
                let expected = count_optional_bounds(code.clone());
                let mut patched = 0;
                let code = optional_setters(code, &mut patched)?;
                if expected == 0 || patched != expected {
                    return Err(format!(
                        "code patch {}: found {expected} setter bound(s) `TryInto<Option<_>>`, patched \
                         {patched}; progenitor's output changed, update the patch",
                        self.name()
                    ));
                }
                Ok(code)
            }
            CodePatch::DocsUseExecute => {
                let mut counts = DocCounts::default();
                let code = docs_use_execute(code, &mut counts)?;
                if counts.sends == 0 || counts.examples != counts.sends || counts.client_docs != 1 {
                    return Err(format!(
                        "code patch {}: {} operation(s) with `send`, {} example(s) ending in \
                         `.send().await`, {} `Client` doc(s) (expected one); progenitor's output \
                         changed, update the patch",
                        self.name(),
                        counts.sends,
                        counts.examples,
                        counts.client_docs
                    ));
                }
                Ok(code)
            }
            CodePatch::UrlFromBase => {
                let operations = count_operations(code.clone());
                let mut patched = 0;
                let code = url_from_base(code, &mut patched)
                    .map_err(|e| format!("code patch {}: {e}", self.name()))?;
                let left = count_base_url_formats(code.clone());
                if operations == 0 || patched != operations || left != 0 {
                    return Err(format!(
                        "code patch {}: {operations} operation(s), {patched} request URL(s) made \
                         from the base URL, {left} `format!` of `client.baseurl` left; progenitor's \
                         output changed, update the patch",
                        self.name()
                    ));
                }
                Ok(code)
            }
            CodePatch::DecodeReadBody => {
                let expected = count_ident(code.clone(), "from_response");
                let mut patched = 0;
                let code = decode_read_body(code, &mut patched)?;
                if expected == 0 || patched != expected {
                    return Err(format!(
                        "code patch {}: found {expected} `from_response` call(s), patched {patched} \
                         `ResponseValue::from_response`; progenitor's output changed, update the patch",
                        self.name()
                    ));
                }
                Ok(code)
            }
            CodePatch::NoApiVersionHeader => {
                let operations = count_operations(code.clone());
                let mut counts = ApiVersionCounts::default();
                let code = no_api_version_header(code, &mut counts);
                let left = count_literal(code.clone(), "\"api-version\"");
                if operations == 0 || counts.removed != operations || counts.maps != operations || left != 0 {
                    return Err(format!(
                        "code patch {}: {operations} operation(s), {} `api-version` header(s) \
                         removed, {} header map(s) made lazily, {left} `\"api-version\"` left; \
                         progenitor's output changed, update the patch",
                        self.name(),
                        counts.removed,
                        counts.maps
                    ));
                }
                Ok(code)
            }
            CodePatch::ConstHeaders => {
                let expected = count_ident(code.clone(), "from_static");
                let mut patched = 0;
                let code = const_headers(code, &mut patched)
                    .map_err(|e| format!("code patch {}: {e}", self.name()))?;
                if expected == 0 || patched != expected {
                    return Err(format!(
                        "code patch {}: found {expected} `from_static` call(s), made {patched} of them \
                         `const`; progenitor's output changed, update the patch",
                        self.name()
                    ));
                }
                Ok(code)
            }
            CodePatch::PreThenExec => {
                let operations = count_operations(code.clone());
                let mut counts = PreExecCounts::default();
                pre_then_exec(code.clone(), &mut counts);
                if operations == 0 || counts.pres != operations || counts.back_to_back != operations {
                    return Err(format!(
                        "code patch {}: {operations} operation(s), {} `client.pre(..)` call(s), {} of \
                         them followed at once by `let result = client.exec(..)`; progenitor's output \
                         changed: the hand-over of the call record from `pre` to `exec` needs them \
                         back to back",
                        self.name(),
                        counts.pres,
                        counts.back_to_back
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
                    "crate::engine::codegen::segment({name:?}, &crate::engine::codegen::PathText::path_text(&{name}))\
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

/// The path `::std::convert::TryInto` and the inner `X` of
/// `T: ::std::convert::TryInto<::std::option::Option<X>>` at the start of a
/// where clause: `(T, X, tokens consumed)`.
fn optional_bound(clause: &[TokenTree]) -> Option<(String, TokenStream, usize)> {
    let (TokenTree::Ident(param), rest) = clause.split_first()? else {
        return None;
    };
    let text: Vec<String> = rest.iter().map(ToString::to_string).collect();
    const HEAD: &str = ":::std::convert::TryInto<::std::option::Option<";
    let mut joined = String::new();
    let mut inner_start = None;
    for (i, t) in text.iter().enumerate() {
        joined.push_str(t);
        if joined == HEAD {
            inner_start = Some(i + 1);
            break;
        }
        if !HEAD.starts_with(&joined) {
            return None;
        }
    }
    let start = inner_start?;
    // The inner type ends where the `<` of `Option<` closes.
    let mut depth = 1;
    for (i, token) in rest.iter().enumerate().skip(start) {
        if is_punct(token, '<') {
            depth += 1;
        } else if is_punct(token, '>') {
            depth -= 1;
            if depth == 0 {
                // `>` of Option, then `>` of TryInto.
                if !rest.get(i + 1).is_some_and(|t| is_punct(t, '>')) {
                    return None;
                }
                let inner = rest[start..i].iter().cloned().collect();
                return Some((param.to_string(), inner, 1 + i + 2));
            }
        }
    }
    None
}

/// Every `TryInto<...Option<_>>` anywhere in `code`, however its paths are
/// spelled (`Option`, `std::option::Option`, `core::option::Option`): more
/// than the patch recognizes means progenitor's output changed.
fn count_optional_bounds(code: TokenStream) -> usize {
    let tokens: Vec<TokenTree> = code.into_iter().collect();
    let mut count = 0;
    for (i, token) in tokens.iter().enumerate() {
        if let TokenTree::Group(group) = token {
            count += count_optional_bounds(group.stream());
        } else if is_ident(token, "TryInto") && tokens.get(i + 1).is_some_and(|t| is_punct(t, '<')) {
            // The target's path: up to its own `<`.
            let target = tokens[i + 2..]
                .iter()
                .take_while(|t| !is_punct(t, '<') && !is_punct(t, '>'));
            let last = target.filter(|t| matches!(t, TokenTree::Ident(_))).last();
            if last.is_some_and(|t| is_ident(t, "Option")) {
                count += 1;
            }
        }
    }
    count
}

/// Replaces `value.try_into()` in a setter body; how many it replaced.
fn into_option_calls(body: TokenStream, replaced: &mut usize) -> Result<TokenStream, String> {
    let tokens: Vec<TokenTree> = body.into_iter().collect();
    let mut out = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let call = tokens.get(i..i + 4).is_some_and(|w| {
            is_ident(&w[0], "value")
                && is_punct(&w[1], '.')
                && is_ident(&w[2], "try_into")
                && matches!(&w[3], TokenTree::Group(g) if g.delimiter() == Delimiter::Parenthesis && g.stream().is_empty())
        });
        if call {
            out.extend(parse(
                "crate::engine::codegen::OptionalValue::into_option(value)",
            )?);
            *replaced += 1;
            i += 4;
            continue;
        }
        match &tokens[i] {
            TokenTree::Group(group) => out.push(regroup(group, into_option_calls(group.stream(), replaced)?)),
            token => out.push(token.clone()),
        }
        i += 1;
    }
    Ok(out.into_iter().collect())
}

/// Patches every setter `where T: ::std::convert::TryInto<::std::option::Option<X>>, ... { ... value.try_into() ... }`.
fn optional_setters(code: TokenStream, patched: &mut usize) -> Result<TokenStream, String> {
    let tokens: Vec<TokenTree> = code.into_iter().collect();
    let mut out = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        if is_ident(&tokens[i], "where")
            && let Some((param, inner, used)) = optional_bound(&tokens[i + 1..])
        {
            let rest = &tokens[i + 1 + used..];
            let body_at = rest
                .iter()
                .position(|t| matches!(t, TokenTree::Group(g) if g.delimiter() == Delimiter::Brace))
                .ok_or("a setter bound without a body")?;
            let TokenTree::Group(body) = &rest[body_at] else {
                unreachable!("matched a group above")
            };
            let mut replaced = 0;
            let new_body = into_option_calls(body.stream(), &mut replaced)?;
            if replaced != 1 {
                return Err(format!(
                    "a setter with `{param}: TryInto<Option<{inner}>>` has {replaced} `value.try_into()` calls, not one"
                ));
            }
            out.push(tokens[i].clone());
            out.extend(parse(&format!(
                "{param}: crate::engine::codegen::OptionalValue<{inner}>"
            ))?);
            out.extend(rest[..body_at].iter().cloned());
            out.push(regroup(body, new_body));
            *patched += 1;
            i += 1 + used + body_at + 1;
            continue;
        }
        match &tokens[i] {
            TokenTree::Group(group) => out.push(regroup(group, optional_setters(group.stream(), patched)?)),
            token => out.push(token.clone()),
        }
        i += 1;
    }
    Ok(out.into_iter().collect())
}

/// What [`docs_use_execute`] found.
#[derive(Default)]
struct DocCounts {
    sends: usize,
    examples: usize,
    client_docs: usize,
}

const SEND_EXAMPLE: &str = "    .send()\n    .await;";
const EXECUTE_EXAMPLE: &str = "    .execute()\n    .await?;";
const CLIENT_DOC: &str = "A client of the provider's API, generated at build time from its spec in \
`openapi/`. The [provider module](super) says what it covers and how to build one \
(`Client::builder()`, `Client::from_env()`).\n\n\
Send an operation's builder with [`execute()`](crate::Execute::execute) \
(`use cloud_images::Execute;`): it adds the request id, the retries and time limits, and \
errors that carry the API's message and the request id to quote to support. Lists stream \
over all pages with [`Paginate::stream`](crate::Paginate::stream). For the common image \
tasks on every provider, see [`cloud_images::images`](crate::images).";

/// Rewrites the examples, hides `send`, replaces the `Client` doc.
fn docs_use_execute(code: TokenStream, counts: &mut DocCounts) -> Result<TokenStream, String> {
    let tokens: Vec<TokenTree> = code.into_iter().collect();
    let mut out: Vec<TokenTree> = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        // `pub async fn send`: hidden from the docs.
        let send = tokens.get(i..i + 4).is_some_and(|w| {
            is_ident(&w[0], "pub")
                && is_ident(&w[1], "async")
                && is_ident(&w[2], "fn")
                && is_ident(&w[3], "send")
        });
        if send {
            out.extend(parse("#[doc(hidden)]")?);
            counts.sends += 1;
        }
        // `struct Client`: drop the doc attributes gathered before it, use ours.
        let client = tokens
            .get(i..i + 2)
            .is_some_and(|w| is_ident(&w[0], "struct") && is_ident(&w[1], "Client"));
        if client {
            let visibility = out.pop_if(|t| is_ident(t, "pub"));
            let mut attributes = Vec::new();
            while out.len() >= 2 && is_punct(&out[out.len() - 2], '#') {
                let Some(TokenTree::Group(group)) = out.last() else {
                    break;
                };
                if group.delimiter() != Delimiter::Bracket {
                    break;
                }
                let group = group.clone();
                out.truncate(out.len() - 2);
                attributes.push(group);
            }
            attributes.reverse();
            let mut kept = Vec::new();
            let mut replaced = false;
            for group in attributes {
                if doc_text(&group.stream()).is_some() {
                    if !replaced {
                        kept.push(Group::new(Delimiter::Bracket, doc_attribute(CLIENT_DOC)));
                        replaced = true;
                    }
                } else {
                    kept.push(group);
                }
            }
            if replaced {
                counts.client_docs += 1;
            }
            for group in kept {
                out.extend(parse("#")?);
                out.push(TokenTree::Group(group));
            }
            out.extend(visibility);
        }
        match &tokens[i] {
            TokenTree::Group(group) if group.delimiter() == Delimiter::Bracket => {
                match doc_text(&group.stream()) {
                    Some(text) if text.contains(SEND_EXAMPLE) => {
                        let text = text.replace(SEND_EXAMPLE, EXECUTE_EXAMPLE);
                        out.push(regroup(group, doc_attribute(&text)));
                        counts.examples += 1;
                    }
                    _ => out.push(regroup(group, docs_use_execute(group.stream(), counts)?)),
                }
            }
            TokenTree::Group(group) => out.push(regroup(group, docs_use_execute(group.stream(), counts)?)),
            token => out.push(token.clone()),
        }
        i += 1;
    }
    Ok(out.into_iter().collect())
}

/// Operations in the generated code: one `OperationInfo { operation_id: .. }` each.
fn count_operations(code: TokenStream) -> usize {
    count_ident(code, "operation_id")
}

/// Whether `args` (the contents of a `format!(...)`) format `client.baseurl`
/// first: `"{}...", client.baseurl` and the rest. Gives the literal without
/// its leading `{}` and the tokens after `client.baseurl`.
fn base_url_format(args: TokenStream) -> Option<(String, Vec<TokenTree>)> {
    let tokens: Vec<TokenTree> = args.into_iter().collect();
    match tokens.as_slice() {
        [
            TokenTree::Literal(literal),
            comma,
            client,
            dot,
            baseurl,
            rest @ ..,
        ] if is_punct(comma, ',')
            && is_ident(client, "client")
            && is_punct(dot, '.')
            && is_ident(baseurl, "baseurl") =>
        {
            let text = literal.to_string();
            let path = text.strip_prefix("\"{}").filter(|p| p.starts_with('/'))?;
            Some((format!("\"{path}"), rest.to_vec()))
        }
        _ => None,
    }
}

/// `format!` calls that mention `baseurl`, in `code`.
fn count_base_url_formats(code: TokenStream) -> usize {
    let tokens: Vec<TokenTree> = code.into_iter().collect();
    let mut count = 0;
    for (i, token) in tokens.iter().enumerate() {
        match (token, tokens.get(i + 1), tokens.get(i + 2)) {
            (format, Some(bang), Some(TokenTree::Group(args)))
                if is_ident(format, "format") && is_punct(bang, '!') =>
            {
                count += usize::from(mentions(args.stream(), "baseurl"));
            }
            (TokenTree::Group(group), _, _) => count += count_base_url_formats(group.stream()),
            _ => {}
        }
    }
    count
}

/// Rewrites every `format!("{}/path", client.baseurl, ..)` in `code`.
fn url_from_base(code: TokenStream, patched: &mut usize) -> Result<TokenStream, String> {
    let tokens: Vec<TokenTree> = code.into_iter().collect();
    let mut out = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        match (&tokens[i], tokens.get(i + 1), tokens.get(i + 2)) {
            (format, Some(bang), Some(TokenTree::Group(args)))
                if is_ident(format, "format") && is_punct(bang, '!') =>
            {
                match base_url_format(args.stream()) {
                    Some((path, rest)) => {
                        let rest: TokenStream = rest.into_iter().collect();
                        out.extend(parse(&format!(
                            "client.inner.request_url(format_args!({path} {rest}))\
                             .map_err(::progenitor_client::Error::InvalidRequest)?"
                        ))?);
                        *patched += 1;
                    }
                    None => out.extend(tokens[i..i + 3].iter().cloned()),
                }
                i += 3;
            }
            (TokenTree::Group(group), _, _) => {
                let before = *patched;
                let stream = url_from_base(group.stream(), patched)?;
                // `OperationInfo { .. }` literals (not the name in a `use`).
                let direct: Vec<TokenTree> = group.stream().into_iter().collect();
                let operations = direct
                    .windows(2)
                    .filter(|w| {
                        is_ident(&w[0], "OperationInfo")
                            && matches!(&w[1], TokenTree::Group(g) if g.delimiter() == Delimiter::Brace)
                    })
                    .count();
                if operations > 0 && (operations != 1 || *patched - before != 1) {
                    return Err(format!(
                        "an operation's body with {operations} `OperationInfo`(s) has {} request \
                         URL(s) made from the base URL, expected one",
                        *patched - before
                    ));
                }
                out.push(regroup(group, stream));
                i += 1;
            }
            (token, _, _) => {
                out.push(token.clone());
                i += 1;
            }
        }
    }
    Ok(out.into_iter().collect())
}

/// Rewrites every `ResponseValue::from_response` in `code` into
/// `crate::engine::codegen::from_response`.
fn decode_read_body(code: TokenStream, patched: &mut usize) -> Result<TokenStream, String> {
    let tokens: Vec<TokenTree> = code.into_iter().collect();
    let mut out = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while let Some(token) = tokens.get(i) {
        if let [value, colon, colon2, from, ..] = &tokens[i..]
            && is_ident(value, "ResponseValue")
            && is_punct(colon, ':')
            && is_punct(colon2, ':')
            && is_ident(from, "from_response")
        {
            out.extend(parse("crate::engine::codegen::from_response")?);
            *patched += 1;
            i += 4;
            continue;
        }
        match token {
            TokenTree::Group(group) => out.push(regroup(group, decode_read_body(group.stream(), patched)?)),
            token => out.push(token.clone()),
        }
        i += 1;
    }
    Ok(out.into_iter().collect())
}

/// What [`pre_then_exec`] found.
#[derive(Default)]
struct PreExecCounts {
    /// `client.pre(..)` calls.
    pres: usize,
    /// Those followed at once by `.await?; let result = client.exec(..)`.
    back_to_back: usize,
}

/// Counts, at any depth of `code`, the `client.pre(..)` calls and those
/// followed at once by `.await?; let result = client.exec(..)`.
fn pre_then_exec(code: TokenStream, counts: &mut PreExecCounts) {
    let tokens: Vec<TokenTree> = code.into_iter().collect();
    for (i, token) in tokens.iter().enumerate() {
        if let TokenTree::Group(group) = token {
            pre_then_exec(group.stream(), counts);
            continue;
        }
        let [client, dot, pre, args, rest @ ..] = &tokens[i..] else {
            continue;
        };
        if !(is_ident(client, "client") && is_punct(dot, '.') && is_ident(pre, "pre") && is_parens(args)) {
            continue;
        }
        counts.pres += 1;
        if let [
            dot,
            wait,
            question,
            semi,
            let_,
            result,
            eq,
            client,
            dot2,
            exec,
            args,
            ..,
        ] = rest
            && is_punct(dot, '.')
            && is_ident(wait, "await")
            && is_punct(question, '?')
            && is_punct(semi, ';')
            && is_ident(let_, "let")
            && is_ident(result, "result")
            && is_punct(eq, '=')
            && is_ident(client, "client")
            && is_punct(dot2, '.')
            && is_ident(exec, "exec")
            && is_parens(args)
        {
            counts.back_to_back += 1;
        }
    }
}

/// The argument of a `from_static(...)` call, when it is a string literal.
fn static_argument(args: TokenStream) -> Result<TokenTree, String> {
    let mut tokens: Vec<TokenTree> = args.into_iter().collect();
    if tokens.last().is_some_and(|t| is_punct(t, ',')) {
        tokens.pop();
    }
    if let [TokenTree::Literal(literal)] = tokens.as_slice()
        && literal.to_string().starts_with('"')
    {
        return Ok(TokenTree::Literal(literal.clone()));
    }
    Err(format!(
        "`from_static({})` has an argument that is not a string literal",
        tokens.into_iter().collect::<TokenStream>()
    ))
}

/// Rewrites every `::reqwest::header::{HeaderValue,HeaderName}::from_static(x)`
/// in `code` into a `const` block.
fn const_headers(code: TokenStream, patched: &mut usize) -> Result<TokenStream, String> {
    let tokens: Vec<TokenTree> = code.into_iter().collect();
    let mut out = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while let Some(token) = tokens.get(i) {
        if let [
            c1,
            c2,
            reqwest,
            c3,
            c4,
            header,
            c5,
            c6,
            kind,
            c7,
            c8,
            from,
            args,
            ..,
        ] = &tokens[i..]
            && [c1, c2, c3, c4, c5, c6, c7, c8].iter().all(|c| is_punct(c, ':'))
            && is_ident(reqwest, "reqwest")
            && is_ident(header, "header")
            && (is_ident(kind, "HeaderValue") || is_ident(kind, "HeaderName"))
            && is_ident(from, "from_static")
            && let TokenTree::Group(args) = args
            && args.delimiter() == Delimiter::Parenthesis
        {
            let argument = static_argument(args.stream())?;
            let call: TokenStream = [
                parse(&format!("::reqwest::header::{kind}::from_static"))?,
                TokenStream::from(regroup(args, TokenStream::from(argument))),
            ]
            .into_iter()
            .collect();
            out.extend(parse("const")?);
            out.push(TokenTree::Group(Group::new(Delimiter::Brace, call)));
            *patched += 1;
            i += 13;
            continue;
        }
        match token {
            TokenTree::Group(group) => out.push(regroup(group, const_headers(group.stream(), patched)?)),
            token => out.push(token.clone()),
        }
        i += 1;
    }
    Ok(out.into_iter().collect())
}

/// What [`no_api_version_header`] found.
#[derive(Default)]
struct ApiVersionCounts {
    /// `api-version` headers removed.
    removed: usize,
    /// `HeaderMap::with_capacity(n)` made `HeaderMap::new()`.
    maps: usize,
}

/// Removes every `header_map.append(HeaderName::from_static("api-version"), ...);`
/// from `code` and makes every `HeaderMap::with_capacity(n)` a `HeaderMap::new()`.
fn no_api_version_header(code: TokenStream, counts: &mut ApiVersionCounts) -> TokenStream {
    let tokens: Vec<TokenTree> = code.into_iter().collect();
    let mut out = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while let Some(token) = tokens.get(i) {
        if let [map, dot, append, TokenTree::Group(args), semi, ..] = &tokens[i..]
            && is_ident(map, "header_map")
            && is_punct(dot, '.')
            && is_ident(append, "append")
            && args.delimiter() == Delimiter::Parenthesis
            && is_punct(semi, ';')
            && names_api_version(args.stream())
        {
            counts.removed += 1;
            i += 5;
            continue;
        }
        if let [map, c1, c2, with, TokenTree::Group(args), ..] = &tokens[i..]
            && is_ident(map, "HeaderMap")
            && is_punct(c1, ':')
            && is_punct(c2, ':')
            && is_ident(with, "with_capacity")
            && args.delimiter() == Delimiter::Parenthesis
        {
            // The map may now be left as made: `#[allow(unused_mut)]` on its
            // `let mut header_map = ...` (only that statement is counted).
            if let Some(at) = out.iter().rposition(|t| is_ident(t, "let"))
                && let [_, m, name, eq, path @ ..] = &out[at..]
                && is_ident(m, "mut")
                && is_ident(name, "header_map")
                && is_punct(eq, '=')
                && path
                    .iter()
                    .all(|t| !matches!(t, TokenTree::Group(_)) && !is_punct(t, ';'))
            {
                out.splice(at..at, parse("#[allow(unused_mut)]").expect("an attribute"));
                counts.maps += 1;
            }
            out.extend([map.clone(), c1.clone(), c2.clone()]);
            out.push(TokenTree::Ident(proc_macro2::Ident::new("new", with.span())));
            out.push(regroup(args, TokenStream::new()));
            i += 5;
            continue;
        }
        match token {
            TokenTree::Group(group) => {
                out.push(regroup(group, no_api_version_header(group.stream(), counts)))
            }
            token => out.push(token.clone()),
        }
        i += 1;
    }
    out.into_iter().collect()
}

/// Whether the arguments of an `append(...)` start with the header name
/// `HeaderName::from_static("api-version")` (in any path spelling).
fn names_api_version(args: TokenStream) -> bool {
    let tokens: Vec<TokenTree> = args.into_iter().collect();
    let name_end = tokens
        .iter()
        .position(|t| is_punct(t, ','))
        .unwrap_or(tokens.len());
    match &tokens[..name_end] {
        [.., name, c1, c2, from, TokenTree::Group(arg)] => {
            is_ident(name, "HeaderName")
                && is_punct(c1, ':')
                && is_punct(c2, ':')
                && is_ident(from, "from_static")
                && arg.stream().to_string() == "\"api-version\""
        }
        _ => false,
    }
}
