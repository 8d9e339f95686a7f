//! The checked-in specs are what the refresh tool makes from upstream: the
//! cut (Contabo, IONOS) and the bundle (DigitalOcean) are deterministic, keep
//! exactly what the chosen operations reach, and name what is wrong.
//!
//! With `CLOUD_IMAGES_UPSTREAM` set to a folder holding the upstream copies
//! (`contabo-openapi.yaml`, `ionos-cloudapi.yaml`, `digitalocean/` with
//! `resources/` and `shared/`, see `openapi/README.md`), the tests rebuild each
//! checked-in file from them and require the same bytes; a missing upstream
//! file is then a failure. Without it they check what can be checked from the
//! checked-in files alone, and say so.

#[path = "../examples/refresh_spec/bundle.rs"]
mod bundle;
#[path = "../examples/refresh_spec/subset.rs"]
mod subset;
#[path = "../examples/refresh_spec/yaml.rs"]
mod yaml;

use std::collections::BTreeMap;
use std::path::PathBuf;

use yaml::Value;

/// A small upstream-like document: two kept paths, one dropped, shared and
/// unused components, a chain of references.
const UPSTREAM: &str = r##"
openapi: 3.0.3
info: {title: Upstream, version: 1.0.0}
servers: [{url: "https://api.example.com"}]
security: [{bearer: []}]
tags: [{name: Images}, {name: Other}]
x-tagGroups: [{name: all, tags: [Images, Other]}]
paths:
  /v1/other:
    get:
      operationId: other
      tags: [Other]
      responses: {"200": {description: ok, content: {application/json: {schema: {$ref: "#/components/schemas/Other"}}}}}
  /v1/compute/images/stats:
    get:
      operationId: stats
      tags: [Images]
      responses: {"200": {description: ok, content: {application/json: {schema: {$ref: "#/components/schemas/Stats"}}}}}
  /v1/compute/images:
    get:
      operationId: list
      tags: [Images]
      parameters: [{$ref: "#/components/parameters/Page"}]
      responses: {"200": {description: ok, content: {application/json: {schema: {$ref: "#/components/schemas/List"}}}}}
  /v1/compute/images/{imageId}: {get: {operationId: get, responses: {"200": {description: ok}}}}
  /v1/compute/images/audits: {get: {operationId: audits, responses: {"200": {description: ok}}}}
  /v1/object-storages: {get: {operationId: storages, responses: {"200": {description: ok}}}}
  /v1/users/{userId}/object-storages/credentials: {get: {operationId: keys, responses: {"200": {description: ok}}}}
components:
  parameters:
    Page: {name: page, in: query, schema: {type: integer}}
  schemas:
    Other: {type: object}
    List: {type: object, properties: {data: {type: array, items: {$ref: "#/components/schemas/Item"}}}}
    Item: {type: object, properties: {tags: {type: array, items: {$ref: "#/components/schemas/Tag"}}}}
    Tag: {type: object}
    Stats: {type: object}
    Unused: {type: object}
  securitySchemes:
    bearer: {type: http, scheme: bearer}
    other: {type: apiKey, in: header, name: x-key}
"##;

fn cut(text: &str) -> Result<String, String> {
    let doc = yaml::from_str(text).unwrap();
    subset::render(&subset::cut(&doc, &subset::CONTABO)?, "upstream.yaml")
}

fn keys(doc: &Value, path: &[&str]) -> Vec<String> {
    let mut node = doc;
    for p in path {
        node = &node[*p];
    }
    node.as_mapping().unwrap().keys().cloned().collect()
}

#[test]
fn the_cut_keeps_the_paths_and_what_they_reach_in_upstream_order() {
    let out = yaml::from_str(&cut(UPSTREAM).unwrap()).unwrap();
    assert_eq!(
        keys(&out, &["paths"]),
        [
            "/v1/compute/images/stats",
            "/v1/compute/images",
            "/v1/compute/images/{imageId}",
            "/v1/compute/images/audits",
            "/v1/object-storages",
            "/v1/users/{userId}/object-storages/credentials"
        ]
    );
    assert_eq!(
        keys(&out, &["components", "schemas"]),
        ["List", "Item", "Tag", "Stats"]
    );
    assert_eq!(keys(&out, &["components", "parameters"]), ["Page"]);
    assert_eq!(keys(&out, &["components", "securitySchemes"]), ["bearer"]);
    assert_eq!(out["tags"], yaml::from_str("[{name: Images}]").unwrap());
    assert!(out.get("x-tagGroups").is_none());
    assert_eq!(
        keys(&out, &[]),
        [
            "openapi",
            "info",
            "servers",
            "security",
            "tags",
            "paths",
            "components"
        ]
    );
}

#[test]
fn the_cut_is_deterministic() {
    let first = cut(UPSTREAM).unwrap();
    for _ in 0..5 {
        assert_eq!(cut(UPSTREAM).unwrap(), first, "same input, same bytes");
    }
    // Cutting the cut changes nothing but the header.
    let body = |s: &str| {
        s.lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(body(&cut(&first).unwrap()), body(&first));
}

#[test]
fn problems_are_named() {
    let missing = UPSTREAM.replace("/v1/compute/images/audits:", "/v1/compute/images/audit-log:");
    assert_eq!(
        cut(&missing).unwrap_err(),
        "path `/v1/compute/images/audits` is not in the document"
    );
    let dangling = UPSTREAM.replace("    Tag: {type: object}\n", "");
    assert_eq!(
        cut(&dangling).unwrap_err(),
        "`#/components/schemas/Tag` is referenced but not defined"
    );
}

fn manifest_file(path: &str) -> String {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// The folder of upstream copies, if `CLOUD_IMAGES_UPSTREAM` names one
/// (relative paths are relative to the repository root). Set but missing is a
/// failure, not a skip.
fn upstream() -> Option<PathBuf> {
    let dir = std::env::var_os("CLOUD_IMAGES_UPSTREAM").filter(|v| !v.is_empty())?;
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(dir);
    assert!(
        dir.is_dir(),
        "CLOUD_IMAGES_UPSTREAM is set but {} is not a folder",
        dir.display()
    );
    Some(dir)
}

/// Reads an upstream file that must be there when `CLOUD_IMAGES_UPSTREAM` is set.
fn upstream_file(dir: &std::path::Path, name: &str) -> String {
    let path = dir.join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "CLOUD_IMAGES_UPSTREAM is set but its `{name}` cannot be read ({e}); \
             see openapi/README.md for the upstream files"
        )
    })
}

/// Cutting the checked-in file again changes nothing: nobody edited it by hand.
fn assert_fixed_point(file: &str, cut: &subset::Cut<'_>, source: &str) {
    let text = manifest_file(file);
    let doc = yaml::from_str(&text).unwrap();
    let again = subset::render(&subset::cut(&doc, cut).unwrap(), source).unwrap();
    assert_eq!(
        again, text,
        "{file} is not what the tool writes for its own content"
    );
}

/// The checked-in file is exactly what the tool cuts from the upstream copy.
fn assert_cut_from_upstream(file: &str, cut: &subset::Cut<'_>, source: &str) {
    let Some(dir) = upstream() else {
        eprintln!(
            "note: CLOUD_IMAGES_UPSTREAM is not set: {file} is only checked to be a cut of itself, \
             not against {source}"
        );
        return assert_fixed_point(file, cut, source);
    };
    let full = yaml::from_str(&upstream_file(&dir, source)).unwrap();
    let made = subset::render(&subset::cut(&full, cut).unwrap(), source).unwrap();
    assert!(
        made == manifest_file(file),
        "{file} differs from what `cargo run --example refresh_spec` makes from upstream {source}"
    );
}

#[test]
fn the_checked_in_contabo_spec_is_the_cut_of_upstream() {
    assert_cut_from_upstream("openapi/contabo.yaml", &subset::CONTABO, "contabo-openapi.yaml");
}

// ---------------------------------------------------------------------------
// The DigitalOcean bundle.

/// A small upstream-like specification folder: an operation file with local,
/// shared and nested references, code samples and examples, a discriminated
/// body, and a second operation sharing components.
fn tree() -> BTreeMap<&'static str, &'static str> {
    BTreeMap::from([
        (
            "resources/things/things_list.yml",
            r#"
operationId: things_list
tags: [Things]
parameters:
  - $ref: 'parameters.yml#/kind'
  - $ref: '../../shared/parameters.yml#/per_page'
responses:
  '200':
    $ref: 'responses/all_things.yml'
  default:
    $ref: '../../shared/responses/unexpected_error.yml'
x-codeSamples:
  - $ref: 'examples/curl/things_list.yml'
security:
  - bearer_auth: ['thing:read']
"#,
        ),
        (
            "resources/things/things_post.yml",
            r#"
operationId: things_post
parameters:
  - in: path
    name: thing_id
    required: true
    schema: {anyOf: [{type: integer}, {type: string}]}
    examples:
      byId: {value: 1}
requestBody:
  content:
    application/json:
      schema:
        anyOf:
          - $ref: 'models/thing_action.yml#/base'
          - $ref: 'models/thing_action.yml#/move'
        discriminator:
          propertyName: type
          mapping:
            base: 'models/thing_action.yml#/base'
            move: 'models/thing_action.yml#/move'
responses:
  '201':
    description: done
    content:
      application/json:
        schema: {$ref: 'models/thing.yml'}
        examples:
          One: {$ref: 'responses/examples.yml#/one'}
  default:
    $ref: '../../shared/responses/unexpected_error.yml'
"#,
        ),
        (
            "resources/things/parameters.yml",
            "kind: {in: query, name: kind, schema: {type: string, enum: [a, b]}}\n",
        ),
        (
            "resources/things/responses/all_things.yml",
            r#"
description: all
headers:
  ratelimit-limit: {$ref: '../../../shared/headers.yml#/ratelimit-limit'}
content:
  application/json:
    schema:
      allOf:
        - type: object
          properties:
            things: {type: array, items: {$ref: '../models/thing.yml'}}
        - $ref: '../../../shared/meta.yml'
"#,
        ),
        (
            "resources/things/models/thing.yml",
            r#"
type: object
properties:
  id: {type: integer}
  region: {$ref: '../../../shared/attributes/region_slug.yml'}
example: {id: 1}
"#,
        ),
        (
            "resources/things/models/thing_action.yml",
            r#"
base:
  type: object
  properties: {type: {type: string}}
move:
  allOf:
    - $ref: '#/base'
    - properties: {region: {$ref: '../../../shared/attributes/region_slug.yml'}}
"#,
        ),
        (
            "shared/parameters.yml",
            "per_page: {in: query, name: per_page, schema: {type: integer, maximum: 200}}\n",
        ),
        (
            "shared/headers.yml",
            "ratelimit-limit: {schema: {type: integer}}\n",
        ),
        (
            "shared/meta.yml",
            "type: object\nproperties: {meta: {$ref: './models/meta_properties.yml'}}\n",
        ),
        (
            "shared/models/meta_properties.yml",
            "type: object\nproperties: {total: {type: integer}}\n",
        ),
        (
            "shared/models/error.yml",
            "type: object\nproperties: {message: {type: string}}\n",
        ),
        (
            "shared/responses/unexpected_error.yml",
            "description: error\ncontent: {application/json: {schema: {$ref: '../models/error.yml'}}}\n",
        ),
        (
            "shared/attributes/region_slug.yml",
            "type: string\nenum: [nyc1, ams3]\n",
        ),
    ])
}

const THINGS: bundle::Bundle<'static> = bundle::Bundle {
    source: "a test tree",
    root: "openapi: 3.0.0\ninfo: {title: T, version: '1'}\nservers: [{url: 'https://api.example.com'}]\n\
           components: {securitySchemes: {bearer_auth: {type: http, scheme: bearer}}}\n\
           security: [{bearer_auth: []}]\n",
    operations: &[
        ("/v1/things", "get", "resources/things/things_list.yml"),
        (
            "/v1/things/{thing_id}",
            "post",
            "resources/things/things_post.yml",
        ),
    ],
};

fn bundle_of(files: &BTreeMap<&str, &str>) -> Result<String, String> {
    let read = |path: &str| {
        files
            .get(path)
            .map(|s| (*s).to_owned())
            .ok_or_else(|| "no such file".to_owned())
    };
    bundle::render(&bundle::bundle(&THINGS, &read)?, &THINGS)
}

#[test]
fn the_bundle_makes_every_reference_a_named_component() {
    let out = yaml::from_str(&bundle_of(&tree()).unwrap()).unwrap();
    assert_eq!(
        keys(&out, &[]),
        ["openapi", "info", "servers", "paths", "components", "security"]
    );
    assert_eq!(keys(&out, &["paths"]), ["/v1/things", "/v1/things/{thing_id}"]);
    // Names: the fragment's last segment, else the file's stem; sorted.
    assert_eq!(
        keys(&out, &["components", "schemas"]),
        [
            "base",
            "error",
            "meta",
            "meta_properties",
            "move",
            "region_slug",
            "thing"
        ]
    );
    assert_eq!(
        keys(&out, &["components", "responses"]),
        ["all_things", "unexpected_error"]
    );
    assert_eq!(keys(&out, &["components", "parameters"]), ["kind", "per_page"]);
    assert_eq!(keys(&out, &["components", "headers"]), ["ratelimit-limit"]);
    assert_eq!(keys(&out, &["components", "securitySchemes"]), ["bearer_auth"]);

    let list = &out["paths"]["/v1/things"]["get"];
    assert_eq!(
        keys(&out, &["paths", "/v1/things", "get"]),
        ["operationId", "tags", "parameters", "responses", "security"],
        "x-codeSamples dropped, upstream key order kept"
    );
    assert_eq!(list["parameters"][1]["$ref"], "#/components/parameters/per_page");
    assert_eq!(
        list["responses"]["default"]["$ref"],
        "#/components/responses/unexpected_error"
    );
    let all = &out["components"]["responses"]["all_things"];
    assert_eq!(
        all["headers"]["ratelimit-limit"]["$ref"],
        "#/components/headers/ratelimit-limit"
    );
    let parts = &all["content"]["application/json"]["schema"]["allOf"];
    assert_eq!(
        parts[0]["properties"]["things"]["items"]["$ref"],
        "#/components/schemas/thing"
    );
    assert_eq!(parts[1]["$ref"], "#/components/schemas/meta");
    assert_eq!(
        out["components"]["schemas"]["move"]["allOf"][0]["$ref"], "#/components/schemas/base",
        "a reference inside the same file"
    );
    assert_eq!(
        out["components"]["schemas"]["thing"]["example"]["id"],
        Value::Number("1".to_owned()),
        "`example` is kept"
    );

    let post = &out["paths"]["/v1/things/{thing_id}"]["post"];
    assert!(post["parameters"][0].get("examples").is_none());
    let media = &post["responses"]["201"]["content"]["application/json"];
    assert!(media.get("examples").is_none());
    let body = &post["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(body["anyOf"][1]["$ref"], "#/components/schemas/move");
    assert_eq!(
        body["discriminator"]["mapping"]["move"],
        "#/components/schemas/move"
    );
}

#[test]
fn the_bundle_is_deterministic() {
    let first = bundle_of(&tree()).unwrap();
    for _ in 0..5 {
        assert_eq!(bundle_of(&tree()).unwrap(), first, "same input, same bytes");
    }
    assert!(first.starts_with("# Generated by `cargo run --example refresh_spec`: a bundle of 2 operations"));
}

#[test]
fn bundle_problems_are_named() {
    let mut missing = tree();
    missing.remove("shared/models/meta_properties.yml");
    assert_eq!(
        bundle_of(&missing).unwrap_err(),
        "`$ref: ./models/meta_properties.yml` in `shared/meta.yml`: \
         cannot read `shared/models/meta_properties.yml`: no such file"
    );

    let mut dangling = tree();
    dangling.insert(
        "resources/things/parameters.yml",
        "kinds: {in: query, name: kind, schema: {type: string}}\n",
    );
    assert_eq!(
        bundle_of(&dangling).unwrap_err(),
        "`$ref: parameters.yml#/kind` in `resources/things/things_list.yml`: \
         `resources/things/parameters.yml` has no `#/kind`"
    );

    let mut clash = tree();
    clash.insert(
        "resources/things/models/thing.yml",
        "type: object\nproperties: {meta: {$ref: '../../../shared/models/meta.yml'}}\n",
    );
    clash.insert("shared/models/meta.yml", "type: object\n");
    assert_eq!(
        bundle_of(&clash).unwrap_err(),
        "two schemas would both be named `meta`: `shared/models/meta.yml` and `shared/meta.yml`"
    );

    let mut outside = tree();
    outside.insert(
        "shared/headers.yml",
        "ratelimit-limit: {$ref: '../../headers.yml#/x'}\n",
    );
    assert_eq!(
        bundle_of(&outside).unwrap_err(),
        "`$ref: ../../headers.yml#/x` in `shared/headers.yml` points outside the specification folder"
    );
}

#[test]
fn the_checked_in_digitalocean_spec_is_the_bundle_of_upstream() {
    let file = "openapi/digitalocean.yaml";
    let text = manifest_file(file);
    if let Some(dir) = upstream() {
        let folder = dir.join("digitalocean");
        let read = |path: &str| std::fs::read_to_string(folder.join(path)).map_err(|e| e.to_string());
        let made = bundle::bundle(&bundle::DIGITALOCEAN, &read).unwrap_or_else(|e| {
            panic!(
                "CLOUD_IMAGES_UPSTREAM is set but the DigitalOcean files in its `digitalocean/` \
                 do not bundle: {e}"
            )
        });
        let made = bundle::render(&made, &bundle::DIGITALOCEAN).unwrap();
        assert!(
            made == text,
            "{file} differs from what `cargo run --example refresh_spec` bundles from upstream"
        );
        return;
    }
    // A bundle is not an input of the bundler, so there is no fixed point to
    // check: check its shape instead.
    eprintln!(
        "note: CLOUD_IMAGES_UPSTREAM is not set: {file} is only checked for its operations and \
         references, not against the upstream files"
    );
    let doc = yaml::from_str(&text).unwrap();
    assert!(text.starts_with("# Generated by `cargo run --example refresh_spec`: a bundle of 8 operations"));
    let mut ids = Vec::new();
    for (path, method, _) in bundle::DIGITALOCEAN.operations {
        let op = &doc["paths"][*path][*method];
        assert!(op.get("x-codeSamples").is_none());
        ids.push(op["operationId"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        ids,
        [
            "images_list",
            "images_create_custom",
            "images_get",
            "images_update",
            "images_delete",
            "imageActions_list",
            "imageActions_post",
            "imageActions_get"
        ]
    );
    // Every reference is local and resolves.
    fn refs<'a>(node: &'a Value, into: &mut Vec<&'a str>) {
        match node {
            Value::Mapping(map) => {
                for (k, v) in map {
                    match (k.as_str(), v.as_str()) {
                        ("$ref", Some(r)) => into.push(r),
                        _ => refs(v, into),
                    }
                }
            }
            Value::Sequence(seq) => seq.iter().for_each(|v| refs(v, into)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in all {
        let path = r
            .strip_prefix("#/")
            .unwrap_or_else(|| panic!("`{r}` is not local"));
        assert!(
            path.split('/').try_fold(&doc, |n, s| n.get(s)).is_some(),
            "`{r}` does not resolve"
        );
    }
}

// ---------------------------------------------------------------------------
// IONOS Cloud.

#[test]
fn the_checked_in_ionos_spec_is_the_cut_of_upstream() {
    assert_cut_from_upstream("openapi/ionos.yaml", &subset::IONOS, "ionos-cloudapi.yaml");
}

// ---------------------------------------------------------------------------
// The refresh tool's YAML (`examples/refresh_spec/yaml.rs`).

/// Written by serde_yaml 0.9 (which wrote the checked-in specs before) from
/// the same values: each style and quoting decision, and the layout.
const WRITTEN: &str = r#"plain: 'a b: c'
empty: ''
'null': 'null'
integer: '12'
float: '1.5'
leading zero: '0123'
bool: 'true'
dash: '- a'
comment: 'a #b'
colon: 'a: b'
quotes: '''a'' "b"'
tab: "a\tb"
trailing space: 'a '
lines: |-
  a
  b
kept: |+
  a

indented: |2
   a
  b
space then break: "a \nb"
unicode: é 😀
control: "a\x7F\N"
list:
- a
- - b
- k: 1.5
  k2: []
- {}
- null
- false
"#;

#[test]
fn yaml_reads_and_writes_as_serde_yaml_did() {
    let doc = yaml::from_str(WRITTEN).unwrap();
    for (key, string) in [
        ("plain", "a b: c"),
        ("empty", ""),
        ("null", "null"),
        ("integer", "12"),
        ("leading zero", "0123"),
        ("quotes", "'a' \"b\""),
        ("tab", "a\tb"),
        ("lines", "a\nb"),
        ("kept", "a\n\n"),
        ("indented", " a\nb\n"),
        ("space then break", "a \nb"),
        ("control", "a\u{7f}\u{85}"),
    ] {
        assert_eq!(doc[key], string, "{key}");
    }
    assert_eq!(doc["list"][2]["k"], Value::Number("1.5".to_owned()));
    assert_eq!(doc["list"][4], Value::Null);
    assert_eq!(doc["list"][5], Value::Bool(false));
    assert_eq!(yaml::to_string(&doc).unwrap(), WRITTEN);
}

#[test]
fn yaml_resolves_plain_scalars_as_the_build_does() {
    let doc =
        yaml::from_str("[~, null, '', True, yes, 0x1F, -12, +1.5, .inf, 0123, 1.0.0, 2024-01-01]").unwrap();
    let number = |n: &str| Value::Number(n.to_owned());
    assert_eq!(
        doc,
        Value::Sequence(vec![
            Value::Null,
            Value::Null,
            Value::from(""),
            Value::Bool(true),
            Value::from("yes"),
            number("0x1F"),
            number("-12"),
            number("+1.5"),
            number(".inf"),
            Value::from("0123"),
            Value::from("1.0.0"),
            Value::from("2024-01-01"),
        ])
    );
    // A number is written as it was read.
    assert_eq!(
        yaml::to_string(&yaml::from_str("{a: +1.50}").unwrap()).unwrap(),
        "a: +1.50\n"
    );
}

#[test]
fn yaml_the_specs_never_use_is_an_error() {
    for (text, error) in [
        ("a: &x 1\nb: *x\n", "line 2: an alias, which is not supported"),
        ("a: !!str 1\n", "line 1: a tag, which is not supported"),
        ("a: 1\na: 2\n", "line 2: duplicate key `a`"),
        ("? [a]\n: 1\n", "line 1: a key that is not a scalar"),
        (
            "a: 1\n---\nb: 2\n",
            "line 2: a second document, only one is supported",
        ),
        (
            "a: 99999999999999999999\n",
            "line 1: the integer `99999999999999999999` does not fit in 64 bits",
        ),
        ("", "no YAML document"),
    ] {
        assert_eq!(yaml::from_str(text).unwrap_err(), error, "{text:?}");
    }
}
