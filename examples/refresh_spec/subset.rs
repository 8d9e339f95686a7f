//! Cuts a provider's images endpoints out of its full upstream OpenAPI document.
//!
//! The cut keeps, in upstream order: `openapi`, `info`, `servers`, the chosen
//! paths (every method on them), the tags those operations use, the global
//! `security`, and every component they reach through `$ref`, transitively,
//! plus the security schemes the operations name. Nothing inside a kept node is
//! changed, so the result is a faithful subset; deliberate changes live in
//! `build/spec_patches.rs`. The same input always gives the same bytes.

use std::collections::BTreeSet;

use crate::yaml::{self, Mapping, Value};

/// What to cut out of an upstream document.
pub struct Cut<'a> {
    /// The paths to keep, with all of their operations.
    pub paths: &'a [&'a str],
}

/// Contabo: the seven images operations, and the object storages and
/// their S3 credentials an upload stages in.
pub const CONTABO: Cut<'static> = Cut {
    paths: &[
        "/v1/compute/images",
        "/v1/compute/images/{imageId}",
        "/v1/compute/images/stats",
        "/v1/compute/images/audits",
        "/v1/object-storages",
        "/v1/users/{userId}/object-storages/credentials",
    ],
};

/// IONOS Cloud API v6: the images operations and the request status that
/// their `Location` header points to.
pub const IONOS: Cut<'static> = Cut {
    paths: &["/images", "/images/{imageId}", "/requests/{requestId}/status"],
};

/// The HTTP methods a path item may hold.
const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Cuts the subset. Fails with a message naming what is missing or malformed.
pub fn cut(full: &Value, cut: &Cut<'_>) -> Result<Value, String> {
    let root = full.as_mapping().ok_or("the document is not a YAML mapping")?;
    let all_paths = get_map(root, "paths").ok_or("the document has no `paths` mapping")?;

    let mut paths = Mapping::new();
    // Upstream order, not the order of `cut.paths`.
    for (key, item) in all_paths {
        if cut.paths.contains(&key.as_str()) {
            paths.insert(key.clone(), item.clone());
        }
    }
    for wanted in cut.paths {
        if !paths.contains_key(wanted) {
            return Err(format!("path `{wanted}` is not in the document"));
        }
    }

    // Components reached from the kept paths, transitively.
    let components = get_map(root, "components");
    let mut reached: BTreeSet<(String, String)> = BTreeSet::new();
    let mut todo: Vec<(String, String)> = Vec::new();
    collect_refs(&Value::Mapping(paths.clone()), &mut todo)?;
    while let Some(r) = todo.pop() {
        if !reached.insert(r.clone()) {
            continue;
        }
        let node = components
            .and_then(|c| get_map(c, &r.0))
            .and_then(|kind| kind.get(r.1.as_str()))
            .ok_or_else(|| format!("`#/components/{}/{}` is referenced but not defined", r.0, r.1))?;
        collect_refs(node, &mut todo)?;
    }

    // Security schemes and tags the kept operations use.
    let mut schemes: BTreeSet<String> = BTreeSet::new();
    let mut tags: BTreeSet<String> = BTreeSet::new();
    if let Some(Value::Sequence(global)) = root.get("security") {
        scheme_names(global, &mut schemes);
    }
    for item in paths.values() {
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            if let Some(Value::Sequence(sec)) = op.get("security") {
                scheme_names(sec, &mut schemes);
            }
            if let Some(Value::Sequence(t)) = op.get("tags") {
                tags.extend(t.iter().filter_map(|t| t.as_str().map(str::to_owned)));
            }
        }
    }

    let mut out = Mapping::new();
    for (key, value) in root {
        match key.as_str() {
            "openapi" | "info" | "servers" | "security" => {
                out.insert(key.clone(), value.clone());
            }
            "tags" => {
                let kept: Vec<Value> = value
                    .as_sequence()
                    .into_iter()
                    .flatten()
                    .filter(|t| {
                        t.get("name")
                            .and_then(Value::as_str)
                            .is_some_and(|n| tags.contains(n))
                    })
                    .cloned()
                    .collect();
                out.insert(key.clone(), Value::Sequence(kept));
            }
            "paths" => {
                out.insert(key.clone(), Value::Mapping(paths.clone()));
            }
            "components" => {
                let mut comps = Mapping::new();
                for (kind, entries) in value.as_mapping().into_iter().flatten() {
                    let mut kept = Mapping::new();
                    for (name, node) in entries.as_mapping().into_iter().flatten() {
                        let wanted = if kind == "securitySchemes" {
                            schemes.contains(name)
                        } else {
                            reached.contains(&(kind.clone(), name.clone()))
                        };
                        if wanted {
                            kept.insert(name.clone(), node.clone());
                        }
                    }
                    if !kept.is_empty() {
                        comps.insert(kind.clone(), Value::Mapping(kept));
                    }
                }
                out.insert(key.clone(), Value::Mapping(comps));
            }
            _ => {}
        }
    }
    for scheme in &schemes {
        let defined = components
            .and_then(|c| get_map(c, "securitySchemes"))
            .is_some_and(|s| s.contains_key(scheme.as_str()));
        if !defined {
            return Err(format!("security scheme `{scheme}` is used but not defined"));
        }
    }
    Ok(Value::Mapping(out))
}

/// Renders a cut document as YAML, with a header saying it is generated.
pub fn render(doc: &Value, source: &str) -> Result<String, String> {
    let body = yaml::to_string(doc).map_err(|e| format!("cannot render YAML: {e}"))?;
    Ok(format!(
        "# Generated by `cargo run --example refresh_spec`: a subset of {source}.\n\
         # Do not edit by hand; see openapi/README.md.\n{body}"
    ))
}

fn get_map<'a>(map: &'a Mapping, key: &str) -> Option<&'a Mapping> {
    map.get(key).and_then(Value::as_mapping)
}

fn scheme_names(requirements: &[Value], into: &mut BTreeSet<String>) {
    for req in requirements {
        for name in req.as_mapping().into_iter().flat_map(|m| m.keys()) {
            into.insert(name.clone());
        }
    }
}

fn collect_refs(node: &Value, into: &mut Vec<(String, String)>) -> Result<(), String> {
    match node {
        Value::Mapping(map) => {
            for (key, value) in map {
                if key == "$ref" {
                    let target = value.as_str().ok_or("a `$ref` that is not a string")?;
                    let rest = target.strip_prefix("#/components/").ok_or_else(|| {
                        format!("`$ref: {target}` points outside `#/components/`, which is not supported")
                    })?;
                    let (kind, name) = rest
                        .split_once('/')
                        .ok_or_else(|| format!("malformed `$ref: {target}`"))?;
                    into.push((kind.to_owned(), name.to_owned()));
                } else {
                    collect_refs(value, into)?;
                }
            }
        }
        Value::Sequence(seq) => {
            for value in seq {
                collect_refs(value, into)?;
            }
        }
        _ => {}
    }
    Ok(())
}
