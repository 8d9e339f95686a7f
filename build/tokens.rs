//! Token-stream utilities for the code patches (`build/code_patches.rs`):
//! parsing a snippet, rebuilding a group around new contents, recognizing a
//! punctuation mark, identifier or parenthesized group, counting and finding
//! tokens at any depth, and reading and writing a `doc = "..."` attribute.
//! Nothing here knows what progenitor generates.

use proc_macro2::{Delimiter, Group, TokenStream, TokenTree};

/// The tokens of `code`, or a build error that quotes it.
pub fn parse(code: &str) -> Result<TokenStream, String> {
    code.parse().map_err(|e| format!("cannot parse `{code}`: {e}"))
}

/// A group like `group` (delimiter and span) around `stream`.
pub fn regroup(group: &Group, stream: TokenStream) -> TokenTree {
    let mut patched = Group::new(group.delimiter(), stream);
    patched.set_span(group.span());
    TokenTree::Group(patched)
}

/// Whether `token` is the punctuation mark `c`.
pub fn is_punct(token: &TokenTree, c: char) -> bool {
    matches!(token, TokenTree::Punct(p) if p.as_char() == c)
}

/// Whether `token` is the identifier `name`.
pub fn is_ident(token: &TokenTree, name: &str) -> bool {
    matches!(token, TokenTree::Ident(i) if i == name)
}

/// Whether `token` is a group in parentheses.
pub fn is_parens(token: &TokenTree) -> bool {
    matches!(token, TokenTree::Group(g) if g.delimiter() == Delimiter::Parenthesis)
}

/// How many tokens of `code`, at any depth, are `wanted` (a group is looked
/// into, not counted).
pub fn count_tokens(code: TokenStream, wanted: &impl Fn(&TokenTree) -> bool) -> usize {
    code.into_iter()
        .map(|token| match token {
            TokenTree::Group(group) => count_tokens(group.stream(), wanted),
            token => usize::from(wanted(&token)),
        })
        .sum()
}

/// How often the identifier `name` occurs in `code`.
pub fn count_ident(code: TokenStream, name: &str) -> usize {
    count_tokens(code, &|token| is_ident(token, name))
}

/// How many times the literal `literal` (as written, quotes included)
/// occurs in `code`.
pub fn count_literal(code: TokenStream, literal: &str) -> usize {
    count_tokens(
        code,
        &|token| matches!(token, TokenTree::Literal(l) if l.to_string() == literal),
    )
}

/// Whether `code` has the identifier `name`.
pub fn mentions(code: TokenStream, name: &str) -> bool {
    code.into_iter().any(|token| match token {
        TokenTree::Group(group) => mentions(group.stream(), name),
        token => is_ident(&token, name),
    })
}

/// The text of a `doc = "..."` attribute body, if it is one.
pub fn doc_text(attribute: &TokenStream) -> Option<String> {
    let tokens: Vec<TokenTree> = attribute.clone().into_iter().collect();
    match tokens.as_slice() {
        [name, eq, TokenTree::Literal(literal)] if is_ident(name, "doc") && is_punct(eq, '=') => {
            syn::parse2::<syn::LitStr>(TokenTree::Literal(literal.clone()).into())
                .ok()
                .map(|l| l.value())
        }
        _ => None,
    }
}

/// The body of a `doc = "..."` attribute with the text `text`.
pub fn doc_attribute(text: &str) -> TokenStream {
    let literal = proc_macro2::Literal::string(text);
    let mut stream: TokenStream = "doc =".parse().expect("doc = parses");
    stream.extend([TokenTree::Literal(literal)]);
    stream
}
