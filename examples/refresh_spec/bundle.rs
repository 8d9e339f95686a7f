//! Bundles chosen operations of a spec that upstream splits over many files
//! (DigitalOcean's) into one self-contained document.
//!
//! Upstream keeps a root file that maps each path and method to an operation
//! file, and the operation files reach models, parameters, responses and
//! headers in other files through relative `$ref`s (`../../shared/x.yml#/y`).
//! The bundle:
//!
//! - starts from the root values in [`Bundle::root`] (`openapi`, `info`,
//!   `servers`, `security` and the security schemes, as the root file has
//!   them) and the operations in [`Bundle::operations`], in that order;
//! - inlines each operation file as the operation (OpenAPI 3.0 has no `$ref`
//!   for operations);
//! - turns every other `$ref` into a component: a parameter reference becomes
//!   `#/components/parameters/<name>`, a response `#/components/responses/..`,
//!   a header `#/components/headers/..`, a request body
//!   `#/components/requestBodies/..` and a schema `#/components/schemas/..`;
//!   discriminator mappings are rewritten the same way;
//! - names a component after the last segment of the reference's fragment
//!   (`parameters.yml#/per_page` is `per_page`) or, without a fragment, after
//!   the file's stem (`models/image.yml` is `image`); two different targets
//!   with the same name of the same kind are an error, never a silent suffix;
//! - drops `x-codeSamples` (operations) and `examples` (media types,
//!   parameters, headers), which point at example files; everything else,
//!   `example` values included, is kept as upstream has it.
//!
//! Keys inside a node keep their upstream order; components are sorted by
//! name. The same files always give the same bytes.

use std::collections::BTreeMap;

use crate::yaml::{self, Mapping, Value};

/// What to bundle.
pub struct Bundle<'a> {
    /// Who and what the bundle is made from, for the generated file's header.
    pub source: &'a str,
    /// The root file's `openapi`, `info`, `servers`, `security` and
    /// `components.securitySchemes`, as YAML (the root file itself is not an
    /// input: it maps hundreds of paths and its `info.description` is another
    /// file).
    pub root: &'a str,
    /// `(path, method, operation file)`, the file relative to the
    /// specification folder, in the root file's order.
    pub operations: &'a [(&'a str, &'a str, &'a str)],
}

/// DigitalOcean: the eight image and image-action operations.
///
/// Root values from `specification/DigitalOcean-public.v2.yaml` of
/// `digitalocean/openapi`; its `info.description` (a `$ref` to another
/// file), `license`, `contact`, `termsOfService`, `tags` and the security
/// scheme's prose are left out.
pub const DIGITALOCEAN: Bundle<'static> = Bundle {
    source: "the DigitalOcean public API specification (digitalocean/openapi, specification/)",
    root: r#"
openapi: 3.0.0
info:
  title: DigitalOcean API
  version: '2.0'
servers:
  - url: https://api.digitalocean.com
    description: production
components:
  securitySchemes:
    bearer_auth:
      type: http
      scheme: bearer
security:
  - bearer_auth: []
"#,
    operations: &[
        ("/v2/images", "get", "resources/images/images_list.yml"),
        ("/v2/images", "post", "resources/images/images_create_custom.yml"),
        ("/v2/images/{image_id}", "get", "resources/images/images_get.yml"),
        (
            "/v2/images/{image_id}",
            "put",
            "resources/images/images_update.yml",
        ),
        (
            "/v2/images/{image_id}",
            "delete",
            "resources/images/images_delete.yml",
        ),
        (
            "/v2/images/{image_id}/actions",
            "get",
            "resources/images/imageActions_list.yml",
        ),
        (
            "/v2/images/{image_id}/actions",
            "post",
            "resources/images/imageActions_post.yml",
        ),
        (
            "/v2/images/{image_id}/actions/{action_id}",
            "get",
            "resources/images/imageActions_get.yml",
        ),
    ],
};

/// Reads a file, given its path relative to the specification folder.
pub type Read<'r> = dyn Fn(&str) -> Result<String, String> + 'r;

/// Bundles the operations. Fails with a message naming the file, the
/// reference or the name at fault.
pub fn bundle(spec: &Bundle<'_>, read: &Read<'_>) -> Result<Value, String> {
    let root = yaml::from_str(spec.root).map_err(|e| format!("bad root values: {e}"))?;
    let root = root.as_mapping().ok_or("the root values are not a mapping")?;
    let mut bundler = Bundler {
        read,
        files: BTreeMap::new(),
        targets: BTreeMap::new(),
        components: BTreeMap::new(),
    };

    let mut paths = Mapping::new();
    for (path, method, file) in spec.operations {
        let node = bundler.load(file, None)?.clone();
        let op = bundler.operation(&node, file)?;
        let item = paths.get_or_insert_with(path, || Value::Mapping(Mapping::new()));
        let item = item.as_mapping_mut().expect("path items are mappings");
        if item.insert(*method, op).is_some() {
            return Err(format!("`{method} {path}` is listed twice"));
        }
    }

    let mut components = Mapping::new();
    for kind in Kind::ALL {
        if let Some(entries) = bundler.components.remove(&kind) {
            components.insert(kind.key(), Value::Mapping(entries.into_iter().collect()));
        }
    }
    if let Some(Value::Mapping(root_components)) = root.get("components") {
        for (key, value) in root_components {
            components.insert(key.clone(), value.clone());
        }
    }

    let mut out = Mapping::new();
    for key in ["openapi", "info", "servers"] {
        if let Some(value) = root.get(key) {
            out.insert(key, value.clone());
        }
    }
    out.insert("paths", Value::Mapping(paths));
    out.insert("components", Value::Mapping(components));
    if let Some(security) = root.get("security") {
        out.insert("security", security.clone());
    }
    let out = Value::Mapping(out);
    check_refs(&out, &out)?;
    Ok(out)
}

/// Renders a bundle as YAML, with a header saying it is generated.
pub fn render(doc: &Value, spec: &Bundle<'_>) -> Result<String, String> {
    let body = yaml::to_string(doc).map_err(|e| format!("cannot render YAML: {e}"))?;
    Ok(format!(
        "# Generated by `cargo run --example refresh_spec`: a bundle of {} operations of\n\
         # {}.\n\
         # Do not edit by hand; see openapi/README.md.\n{body}",
        spec.operations.len(),
        spec.source
    ))
}

/// The kind of component a reference becomes, from where it stands.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Kind {
    Schema,
    Response,
    Parameter,
    Header,
    RequestBody,
}

impl Kind {
    const ALL: [Kind; 5] = [
        Kind::Schema,
        Kind::Response,
        Kind::Parameter,
        Kind::Header,
        Kind::RequestBody,
    ];

    fn key(self) -> &'static str {
        match self {
            Kind::Schema => "schemas",
            Kind::Response => "responses",
            Kind::Parameter => "parameters",
            Kind::Header => "headers",
            Kind::RequestBody => "requestBodies",
        }
    }
}

struct Bundler<'r, 'b> {
    read: &'r Read<'b>,
    /// Parsed files by path.
    files: BTreeMap<String, Value>,
    /// `(kind, name)` to the target (`file#fragment`) it was made from.
    targets: BTreeMap<(Kind, String), String>,
    /// The bundled components.
    components: BTreeMap<Kind, BTreeMap<String, Value>>,
}

impl Bundler<'_, '_> {
    /// A file (parsed once), or the node its fragment points to.
    fn load(&mut self, file: &str, fragment: Option<&str>) -> Result<&Value, String> {
        if !self.files.contains_key(file) {
            let text = (self.read)(file).map_err(|e| format!("cannot read `{file}`: {e}"))?;
            let doc = yaml::from_str(&text).map_err(|e| format!("`{file}` is not valid YAML: {e}"))?;
            self.files.insert(file.to_owned(), doc);
        }
        let mut node = &self.files[file];
        for segment in fragment.unwrap_or("").split('/').filter(|s| !s.is_empty()) {
            let segment = segment.replace("~1", "/").replace("~0", "~");
            node = match node {
                Value::Mapping(map) => map.get(segment.as_str()),
                Value::Sequence(seq) => segment.parse::<usize>().ok().and_then(|i| seq.get(i)),
                _ => None,
            }
            .ok_or_else(|| format!("`{file}` has no `#{}`", fragment.unwrap_or("")))?;
        }
        Ok(node)
    }

    /// Makes the target of `reference` (relative to `from`) a component of
    /// `kind`, once, and returns the local reference to it.
    fn component(&mut self, kind: Kind, reference: &str, from: &str) -> Result<String, String> {
        let (file_part, fragment) = match reference.split_once('#') {
            Some((file, fragment)) => (file, Some(fragment)),
            None => (reference, None),
        };
        let file = if file_part.is_empty() {
            from.to_owned()
        } else {
            join(from, file_part).ok_or_else(|| {
                format!("`$ref: {reference}` in `{from}` points outside the specification folder")
            })?
        };
        let last = fragment.and_then(|f| f.rsplit('/').find(|s| !s.is_empty()));
        let name = match last {
            Some(segment) => segment.replace("~1", "/").replace("~0", "~"),
            None => {
                let base = file.rsplit('/').next().unwrap_or(&file);
                base.strip_suffix(".yml")
                    .or_else(|| base.strip_suffix(".yaml"))
                    .unwrap_or(base)
                    .to_owned()
            }
        };
        let target = match fragment.filter(|f| !f.trim_matches('/').is_empty()) {
            Some(f) => format!("{file}#{f}"),
            None => file.clone(),
        };
        let local = format!("#/components/{}/{name}", kind.key());
        match self.targets.get(&(kind, name.clone())) {
            Some(seen) if *seen == target => return Ok(local),
            Some(seen) => {
                return Err(format!(
                    "two {} would both be named `{name}`: `{seen}` and `{target}`",
                    kind.key()
                ));
            }
            None => {}
        }
        self.targets.insert((kind, name.clone()), target.clone());
        let node = self
            .load(&file, fragment)
            .map_err(|e| format!("`$ref: {reference}` in `{from}`: {e}"))?
            .clone();
        let bundled = match kind {
            Kind::Schema => self.schema(&node, &file)?,
            Kind::Response => self.response(&node, &file)?,
            Kind::Parameter => self.parameter(&node, &file)?,
            Kind::Header => self.header(&node, &file)?,
            Kind::RequestBody => self.request_body(&node, &file)?,
        };
        self.components.entry(kind).or_default().insert(name, bundled);
        Ok(local)
    }

    /// `node` with its `$ref` made local, if it has one.
    fn reference(&mut self, kind: Kind, node: &Value, file: &str) -> Result<Option<Value>, String> {
        let Some(map) = node.as_mapping() else {
            return Ok(None);
        };
        let Some(target) = map.get("$ref") else {
            return Ok(None);
        };
        let target = target
            .as_str()
            .ok_or_else(|| format!("a `$ref` in `{file}` is not a string"))?;
        let local = self.component(kind, target, file)?;
        let mut out = map.clone();
        out.insert("$ref", Value::from(local));
        Ok(Some(Value::Mapping(out)))
    }

    /// Walks the entries of a mapping node: `each` returns the new value of an
    /// entry, or `None` to drop it.
    fn entries(
        &mut self,
        node: &Value,
        file: &str,
        what: &str,
        mut each: impl FnMut(&mut Self, &str, &Value) -> Result<Option<Value>, String>,
    ) -> Result<Value, String> {
        let map = node
            .as_mapping()
            .ok_or_else(|| format!("{what} in `{file}` is not a mapping"))?;
        let mut out = Mapping::new();
        for (key, value) in map {
            if let Some(value) = each(self, key, value)? {
                out.insert(key.clone(), value);
            }
        }
        Ok(Value::Mapping(out))
    }

    fn operation(&mut self, node: &Value, file: &str) -> Result<Value, String> {
        self.entries(node, file, "the operation", |b, key, value| {
            Ok(match key {
                "x-codeSamples" => None,
                "$ref" => return Err(format!("the operation in `{file}` is itself a `$ref`")),
                "callbacks" => return Err(format!("`{file}`: callbacks are not supported")),
                "parameters" => Some(b.each(value, file, Self::parameter)?),
                "requestBody" => Some(b.request_body(value, file)?),
                "responses" => Some(b.entries(value, file, "`responses`", |b, _, r| {
                    b.response(r, file).map(Some)
                })?),
                _ => Some(value.clone()),
            })
        })
    }

    fn each(
        &mut self,
        node: &Value,
        file: &str,
        walk: fn(&mut Self, &Value, &str) -> Result<Value, String>,
    ) -> Result<Value, String> {
        let seq = node
            .as_sequence()
            .ok_or_else(|| format!("a list in `{file}` is not a list"))?;
        seq.iter()
            .map(|v| walk(self, v, file))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Sequence)
    }

    fn parameter(&mut self, node: &Value, file: &str) -> Result<Value, String> {
        if let Some(r) = self.reference(Kind::Parameter, node, file)? {
            return Ok(r);
        }
        self.entries(node, file, "a parameter", |b, key, value| {
            Ok(match key {
                "examples" => None,
                "schema" => Some(b.schema(value, file)?),
                "content" => Some(b.content(value, file)?),
                _ => Some(value.clone()),
            })
        })
    }

    fn request_body(&mut self, node: &Value, file: &str) -> Result<Value, String> {
        if let Some(r) = self.reference(Kind::RequestBody, node, file)? {
            return Ok(r);
        }
        self.entries(node, file, "a request body", |b, key, value| {
            Ok(match key {
                "content" => Some(b.content(value, file)?),
                _ => Some(value.clone()),
            })
        })
    }

    fn response(&mut self, node: &Value, file: &str) -> Result<Value, String> {
        if let Some(r) = self.reference(Kind::Response, node, file)? {
            return Ok(r);
        }
        self.entries(node, file, "a response", |b, key, value| {
            Ok(match key {
                "headers" => {
                    Some(b.entries(value, file, "`headers`", |b, _, h| b.header(h, file).map(Some))?)
                }
                "content" => Some(b.content(value, file)?),
                _ => Some(value.clone()),
            })
        })
    }

    fn header(&mut self, node: &Value, file: &str) -> Result<Value, String> {
        if let Some(r) = self.reference(Kind::Header, node, file)? {
            return Ok(r);
        }
        self.entries(node, file, "a header", |b, key, value| {
            Ok(match key {
                "examples" => None,
                "schema" => Some(b.schema(value, file)?),
                "content" => Some(b.content(value, file)?),
                _ => Some(value.clone()),
            })
        })
    }

    /// A `content` mapping: media type to media type object.
    fn content(&mut self, node: &Value, file: &str) -> Result<Value, String> {
        self.entries(node, file, "`content`", |b, _, media| {
            b.entries(media, file, "a media type", |b, key, value| {
                Ok(match key {
                    "examples" => None,
                    "schema" => Some(b.schema(value, file)?),
                    _ => Some(value.clone()),
                })
            })
            .map(Some)
        })
    }

    fn schema(&mut self, node: &Value, file: &str) -> Result<Value, String> {
        if let Some(r) = self.reference(Kind::Schema, node, file)? {
            return Ok(r);
        }
        if !node.is_mapping() {
            // `additionalProperties: true` and the like.
            return Ok(node.clone());
        }
        self.entries(node, file, "a schema", |b, key, value| {
            Ok(Some(match key {
                "properties" => {
                    b.entries(value, file, "`properties`", |b, _, s| b.schema(s, file).map(Some))?
                }
                "items" | "not" | "additionalProperties" => b.schema(value, file)?,
                "allOf" | "anyOf" | "oneOf" => b.each(value, file, Self::schema)?,
                "discriminator" => b.entries(value, file, "a discriminator", |b, key, value| {
                    if key != "mapping" {
                        return Ok(Some(value.clone()));
                    }
                    b.entries(value, file, "a discriminator mapping", |b, _, target| {
                        let target = target
                            .as_str()
                            .ok_or_else(|| format!("a discriminator mapping in `{file}` is not a string"))?;
                        b.component(Kind::Schema, target, file)
                            .map(|r| Some(Value::from(r)))
                    })
                    .map(Some)
                })?,
                _ => value.clone(),
            }))
        })
    }
}

/// `reference` (a relative file path) resolved against the folder of `from`;
/// `None` if it climbs out of the specification folder.
fn join(from: &str, reference: &str) -> Option<String> {
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop();
    for segment in reference.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

/// Every `$ref` left must be a local one to a component that exists.
fn check_refs(node: &Value, doc: &Value) -> Result<(), String> {
    match node {
        Value::Mapping(map) => {
            for (key, value) in map {
                if key == "$ref" {
                    let target = value.as_str().unwrap_or("");
                    let found = target
                        .strip_prefix("#/")
                        .map(|p| p.split('/').try_fold(doc, |n, s| n.get(s)).is_some());
                    if found != Some(true) {
                        return Err(format!("`$ref: {target}` is not bundled (an unsupported place?)"));
                    }
                } else {
                    check_refs(value, doc)?;
                }
            }
        }
        Value::Sequence(seq) => seq.iter().try_for_each(|v| check_refs(v, doc))?,
        _ => {}
    }
    Ok(())
}
