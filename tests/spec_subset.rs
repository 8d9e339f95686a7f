//! Cutting the checked-in spec out of an upstream document is deterministic
//! and keeps exactly what the chosen paths reach.

#[path = "../examples/refresh_spec/subset.rs"]
mod subset;

use serde_yaml::Value;

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
    let doc: Value = serde_yaml::from_str(text).unwrap();
    subset::render(&subset::cut(&doc, &subset::CONTABO)?, "upstream.yaml")
}

fn keys(doc: &Value, path: &[&str]) -> Vec<String> {
    let mut node = doc;
    for p in path {
        node = &node[*p];
    }
    node.as_mapping()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_cut_keeps_the_paths_and_what_they_reach_in_upstream_order() {
    let out: Value = serde_yaml::from_str(&cut(UPSTREAM).unwrap()).unwrap();
    assert_eq!(
        keys(&out, &["paths"]),
        [
            "/v1/compute/images/stats",
            "/v1/compute/images",
            "/v1/compute/images/{imageId}",
            "/v1/compute/images/audits"
        ]
    );
    assert_eq!(
        keys(&out, &["components", "schemas"]),
        ["List", "Item", "Tag", "Stats"]
    );
    assert_eq!(keys(&out, &["components", "parameters"]), ["Page"]);
    assert_eq!(keys(&out, &["components", "securitySchemes"]), ["bearer"]);
    assert_eq!(
        out["tags"],
        serde_yaml::from_str::<Value>("[{name: Images}]").unwrap()
    );
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

#[test]
fn the_checked_in_spec_is_a_cut_of_itself() {
    // openapi/contabo.yaml must be exactly what the tool writes for its own
    // content: nobody edited it by hand.
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/contabo.yaml")).unwrap();
    let doc: Value = serde_yaml::from_str(&text).unwrap();
    let again = subset::render(
        &subset::cut(&doc, &subset::CONTABO).unwrap(),
        "contabo-openapi.yaml",
    )
    .unwrap();
    assert_eq!(again, text);
}
