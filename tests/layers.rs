//! The layout of `src/` keeps one direction of dependency: the layers,
//! bottom up, are `values` (core values), `engine` (the HTTP engine), `ops`
//! (pagination, status and waiting), `providers`, `images` (the neutral API)
//! and `testing`; `lib.rs` only re-exports. A file may name what is in its
//! own layer or below, never above, and no files name each other in a circle
//! (a folder's `mod.rs` and its own files are one unit: they may name each
//! other, as a provider's folder does).
//!
//! Read from the source text: every `crate::…` and `$crate::…` path and
//! every `super::…` path in code (comments left out), resolved to the file
//! that defines it, through the re-exports of `lib.rs` for a name used from
//! the crate's root.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const LAYERS: &[&str] = &["values", "engine", "ops", "providers", "images", "testing"];

/// A module of the crate: its path from the root, e.g. `engine::transport`.
type Module = String;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../src")
}

/// Every `.rs` file under `src/` as its module path (`mod.rs` is its folder).
fn modules() -> BTreeMap<Module, String> {
    fn walk(dir: &Path, prefix: &str, out: &mut BTreeMap<Module, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
            let joined = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}::{name}")
            };
            if path.is_dir() {
                walk(&path, &joined, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let module = if name == "mod" || (prefix.is_empty() && name == "lib") {
                    prefix.to_owned()
                } else {
                    joined
                };
                out.insert(module, std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(&src(), "", &mut out);
    out
}

/// The code of a file without its comments (line comments, doc comments,
/// and the text of string literals that hold `//`, which are few).
fn code(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The paths after `prefix` (`crate::` or `super::`), as their segments,
/// with `{a, b::c}` groups expanded.
fn paths(code: &str, prefix: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find(prefix) {
        let before = rest[..at].chars().last();
        rest = &rest[at + prefix.len()..];
        // (Not the second half of `super::super::`, nor part of a longer name.)
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        expand(rest, Vec::new(), &mut found);
    }
    found
}

/// Reads one path (with groups) at the start of `text`.
fn expand(text: &str, base: Vec<String>, out: &mut Vec<Vec<String>>) {
    let mut segments = base;
    let mut text = text;
    loop {
        let end = text
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(text.len());
        if end == 0 {
            if let Some(group) = text.strip_prefix('{') {
                let close = matching_brace(group);
                for item in split_top(&group[..close]) {
                    expand(item.trim(), segments.clone(), out);
                }
                return;
            }
            break;
        }
        segments.push(text[..end].to_owned());
        text = &text[end..];
        match text.strip_prefix("::") {
            Some(next) => text = next,
            None => break,
        }
    }
    if !segments.is_empty() {
        out.push(segments);
    }
}

fn matching_brace(text: &str) -> usize {
    let mut depth = 0;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return i,
            '}' => depth -= 1,
            _ => {}
        }
    }
    text.len()
}

fn split_top(text: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0, 0);
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// The root names `lib.rs` re-exports, as the module paths they come from
/// (a facade module defined in `lib.rs` maps to everything it re-exports).
fn root_names(lib: &str) -> BTreeMap<String, Vec<Vec<String>>> {
    let mut names: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
    let lib = code(lib);
    // `pub mod name { ... }` facades.
    let mut rest = lib.as_str();
    while let Some(at) = rest.find("pub mod ") {
        rest = &rest[at + 8..];
        let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap();
        let name = rest[..end].to_owned();
        if let Some(open) = rest[end..].trim_start().strip_prefix('{') {
            let body = &open[..matching_brace(open)];
            names.entry(name).or_default().extend(paths(body, "crate::"));
        }
    }
    for statement in lib.split(';') {
        let Some(at) = statement.find("pub use ") else {
            continue;
        };
        let path = statement[at + 8..].trim();
        let mut found = Vec::new();
        expand(path, Vec::new(), &mut found);
        let renamed = path.rsplit_once(" as ").map(|(_, name)| name.trim().to_owned());
        for segments in found {
            let name = renamed
                .clone()
                .unwrap_or_else(|| segments.last().unwrap().clone());
            names.entry(name).or_default().push(segments);
        }
    }
    names
}

/// The longest prefix of `segments` that is a module, if any.
fn module_of(segments: &[String], modules: &BTreeMap<Module, String>) -> Option<Module> {
    (1..=segments.len())
        .rev()
        .map(|n| segments[..n].join("::"))
        .find(|m| modules.contains_key(m))
}

/// Whether `inner` is `outer` or one of its own files.
fn within(inner: &str, outer: &str) -> bool {
    inner == outer || inner.starts_with(&format!("{outer}::"))
}

fn layer(module: &str) -> Option<usize> {
    let top = module.split("::").next()?;
    LAYERS.iter().position(|l| *l == top)
}

/// Who names whom: each module of a layer, and the modules it names.
fn graph() -> BTreeMap<Module, BTreeSet<Module>> {
    let modules = modules();
    let roots = root_names(&modules[""]);
    let mut edges: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for (module, text) in &modules {
        if layer(module).is_none() {
            continue;
        }
        let code = code(text);
        let mut named = Vec::new();
        for prefix in ["$crate::", "crate::"] {
            for segments in paths(&code, prefix) {
                match roots.get(&segments[0]) {
                    Some(targets) if module_of(&segments, &modules).is_none_or(|m| layer(&m).is_none()) => {
                        for target in targets {
                            let mut full = target.clone();
                            full.extend(segments[1..].iter().cloned());
                            named.push(full);
                        }
                    }
                    _ => named.push(segments),
                }
            }
        }
        // `super::` from a file: its parent module (`mod.rs` is its folder).
        let is_folder = modules.keys().any(|m| m.starts_with(&format!("{module}::")));
        let parent: Vec<String> = module.split("::").map(str::to_owned).collect();
        let parent = if is_folder {
            parent
        } else {
            parent[..parent.len() - 1].to_vec()
        };
        for segments in paths(&code, "super::") {
            // Each further leading `super` goes one module up.
            let up = segments.iter().take_while(|s| *s == "super").count();
            let base = &parent[..parent.len().saturating_sub(usize::from(is_folder) + up)];
            let mut full = base.to_vec();
            full.extend(segments.into_iter().skip(up));
            named.push(full);
        }
        let targets = edges.entry(module.clone()).or_default();
        for segments in named {
            let segments: Vec<String> = segments
                .into_iter()
                .map(|s| s.trim_start_matches("r#").to_owned())
                .collect();
            if let Some(target) = module_of(&segments, &modules)
                && layer(&target).is_some()
                && !within(&target, module)
                && !within(module, &target)
            {
                targets.insert(target);
            }
        }
    }
    edges
}

#[test]
fn every_file_is_in_a_layer() {
    let outside: Vec<Module> = modules()
        .into_keys()
        .filter(|m| !m.is_empty() && layer(m).is_none())
        .collect();
    assert!(
        outside.is_empty(),
        "files of src/ in no layer folder: {outside:?}"
    );
}

#[test]
fn no_layer_names_a_layer_above_it() {
    let mut upward = Vec::new();
    for (from, targets) in graph() {
        for to in targets {
            if layer(&to) > layer(&from) {
                upward.push(format!("{from} -> {to}"));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports from a lower layer to a higher one:\n{}",
        upward.join("\n")
    );
}

#[test]
fn no_modules_name_each_other_in_a_circle() {
    let edges = graph();
    // Tarjan's strongly connected components.
    struct State<'a> {
        edges: &'a BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        circles: Vec<Vec<&'a str>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in s.edges.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w);
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                s.circles.push(component);
            }
        }
    }
    let mut state = State {
        edges: &edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        circles: Vec::new(),
    };
    for v in edges.keys() {
        if !state.index.contains_key(v.as_str()) {
            visit(&mut state, v);
        }
    }
    assert!(
        state.circles.is_empty(),
        "modules that name each other in a circle: {:?}",
        state.circles
    );
}

#[test]
fn the_check_sees_what_it_checks() {
    // The reading itself: a few edges the layout is known to have, and a
    // path through a root re-export resolved to its layer.
    let edges = graph();
    let has = |from: &str, to: &str| edges.get(from).is_some_and(|t| t.contains(to));
    assert!(has("engine::transport", "engine::attempt"));
    assert!(
        has("ops::pagination", "values::error"),
        "`crate::Error` (pagination's only path to it) is values::error"
    );
    assert!(has("images", "ops::images"));
    assert!(
        has("providers::contabo::images", "ops::images"),
        "`crate::` from a file"
    );
    assert!(
        has("providers::digitalocean::images", "engine::execute"),
        "`crate::Execute` is engine::execute"
    );
    let mut found = Vec::new();
    expand("a::{b, c::{d, e}}::x", Vec::new(), &mut found);
    assert_eq!(found.len(), 3, "{found:?}");
}
