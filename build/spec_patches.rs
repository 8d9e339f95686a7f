//! The spec patches: deliberate changes to an upstream OpenAPI spec, made on
//! its document (the YAML read as JSON) before progenitor sees it. [`Patch`]
//! names each one and says why it is needed; [`apply`] makes one. Which
//! provider gets which patches, in which order, is the provider table in
//! `build/providers.rs`.
//!
//! A patch whose target is gone, or that upstream has made unnecessary, fails
//! the build.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

/// A deliberate change to an upstream spec.
pub enum Patch {
    /// Make this header parameter optional on every operation: the client's
    /// transport fills it in (a fresh `x-request-id` per request) unless the
    /// caller set one.
    OptionalHeader(&'static str),
    /// Decode a response schema tolerantly: only `required` stays required (so
    /// a null or missing field becomes `None`), and `enum`, `minLength`,
    /// `maxLength`, `pattern` and `default` are dropped from its properties (so
    /// a value the spec does not list decodes as a plain string, and a null is
    /// `None` rather than an error); its lists become nullable. The real API
    /// sends nulls and values the spec does not list.
    Tolerant {
        schema: &'static str,
        required: &'static [&'static str],
    },
    /// Drop the `default` response of every operation. progenitor counts it as
    /// a second success or error type and panics; errors reach the crate's
    /// layer as unexpected responses instead, which it maps to `Error::Api`.
    DropDefaultResponses,
    /// Drop every declared 4xx and 5xx response, so that every error reaches
    /// the crate's layer the same way (as an unexpected response: status, the
    /// JSON body's message or the text). A typed error body that does not
    /// match its schema (a proxy's HTML page on a 429 or 500) would otherwise
    /// be a decode error that hides the status.
    UntypedErrors,
    /// Replace every `$ref` to a component schema that is a bare scalar (a
    /// string, number, integer or boolean, enums included) or a list of them
    /// with a copy of it, and drop those components. Fields are then plain
    /// `String`s and `Vec<String>`s instead of one newtype per attribute file
    /// (`ImageName(String)`), so `.name("x")` works on body builders.
    InlineScalars,
    /// Drop `enum` from every string schema reached from these component
    /// schemas: through properties, items, `allOf`/`anyOf`/`oneOf` and `$ref`s
    /// into other components. The API's lists grow (regions, distributions,
    /// statuses) and a closed enum fails the whole response on a new value;
    /// requests then take any string too (a region added after the spec).
    OpenEnums(&'static [&'static str]),
    /// Add these `#/components/parameters` to an operation. DigitalOcean pages
    /// every list with `page`/`per_page`, but the spec declares them only on
    /// some (`imageActions_list` answers with `links` and `meta` and has none).
    AddParameters {
        operation: &'static str,
        parameters: &'static [&'static str],
    },
    /// Make this path parameter a plain string on every operation that has it
    /// (inline or through `#/components/parameters`).
    StringPathParameter(&'static str),
    /// The JSON body of this response component is really `{"<property>":
    /// <the schema>}`: wrap its schema in an object that requires the property.
    Envelope {
        response: &'static str,
        property: &'static str,
    },
    /// Drop `type: object` where it stands beside an `allOf` whose one member
    /// is a `$ref` to a string schema (anywhere in the document).
    /// openapi-generator writes it that way when it re-emits a `$ref` with a
    /// description; the API sends a string there. (typify 0.8 resolves the
    /// contradiction to the string today; the patch does not rely on that.)
    StringRefNotObject,
    /// This property of a component schema is an `anyOf` of objects whose
    /// properties are all optional (and possibly `{}`): any object matches
    /// every branch at once, so make it one object with all their properties
    /// (an `allOf` of the object branches). Otherwise progenitor makes a
    /// struct of flattened `Option`s, one per branch.
    AnyOfObjects {
        schema: &'static str,
        property: &'static str,
    },
    /// The JSON body of this response component always has these properties:
    /// require them (and say it is an object).
    ResponseRequires {
        response: &'static str,
        required: &'static [&'static str],
    },
    /// Add properties the API has and the spec lacks to a component schema:
    /// `(name, JSON schema)` pairs, from `source` (named in the build's
    /// messages). Fails when the schema is gone or already has one of them:
    /// upstream caught up, drop the patch.
    AddProperties {
        schema: &'static str,
        source: &'static str,
        properties: &'static [(&'static str, &'static str)],
    },
    /// This property of a component schema may also be a plain string: the
    /// API's older form of the same thing (an object's key, such as a
    /// region's slug). The property becomes a `oneOf` of its schema and a
    /// string described by `string`. Fails when the property is gone or is a
    /// composition already.
    OrString {
        schema: &'static str,
        property: &'static str,
        string: &'static str,
    },
    /// The string `properties` of `schema` are secrets: they decode into
    /// `cloud_images::SecretText` (an `x-rust-type` extension), which
    /// `Debug` shows as `[redacted]`. Fails when the schema or a property is
    /// missing, or a property is not a plain string.
    Secret {
        schema: &'static str,
        properties: &'static [&'static str],
    },
}

/// Makes `patch` on the spec document `doc`, or says why it cannot.
pub fn apply(doc: &mut Value, patch: &Patch) -> Result<(), String> {
    match patch {
        Patch::OptionalHeader(name) => optional_header(doc, name),
        Patch::Tolerant { schema, required } => tolerant(doc, schema, required),
        Patch::Secret { schema, properties } => secret(doc, schema, properties),
        Patch::DropDefaultResponses => {
            let dropped = drop_responses(doc, |code| code == "default")?;
            if dropped == 0 {
                return Err("patch DropDefaultResponses: no operation has a `default` response".into());
            }
            Ok(())
        }
        Patch::UntypedErrors => {
            let dropped = drop_responses(doc, |code| code.starts_with('4') || code.starts_with('5'))?;
            if dropped == 0 {
                return Err("patch UntypedErrors: no operation declares a 4xx or 5xx response".into());
            }
            Ok(())
        }
        Patch::InlineScalars => inline_scalars(doc),
        Patch::OpenEnums(roots) => open_enums(doc, roots),
        Patch::AddParameters {
            operation,
            parameters,
        } => add_parameters(doc, operation, parameters),
        Patch::StringPathParameter(name) => string_path_parameter(doc, name),
        Patch::Envelope { response, property } => envelope(doc, response, property),
        Patch::ResponseRequires { response, required } => response_requires(doc, response, required),
        Patch::AnyOfObjects { schema, property } => any_of_objects(doc, schema, property),
        Patch::StringRefNotObject => string_ref_not_object(doc),
        Patch::AddProperties {
            schema,
            source,
            properties,
        } => add_properties(doc, schema, source, properties),
        Patch::OrString {
            schema,
            property,
            string,
        } => or_string(doc, schema, property, string),
    }
}

fn optional_header(doc: &mut Value, name: &str) -> Result<(), String> {
    let mut found = 0;
    for op in operations(doc)? {
        let params = op.get_mut("parameters").and_then(Value::as_array_mut);
        for param in params.into_iter().flatten() {
            if param.get("in").and_then(Value::as_str) == Some("header")
                && param.get("name").and_then(Value::as_str) == Some(name)
            {
                param["required"] = Value::Bool(false);
                found += 1;
            }
        }
    }
    if found == 0 {
        return Err(format!(
            "patch OptionalHeader({name}): no operation has that header parameter"
        ));
    }
    Ok(())
}

fn tolerant(doc: &mut Value, schema: &str, required: &[&str]) -> Result<(), String> {
    let node = doc
        .pointer_mut(&format!("/components/schemas/{schema}"))
        .and_then(Value::as_object_mut)
        .ok_or_else(|| format!("patch Tolerant({schema}): no such schema"))?;
    let props = node
        .get("properties")
        .and_then(Value::as_object)
        .ok_or_else(|| format!("patch Tolerant({schema}): the schema has no properties"))?;
    if let Some(missing) = required.iter().find(|r| !props.contains_key(**r)) {
        return Err(format!("patch Tolerant({schema}): no property `{missing}`"));
    }
    node.insert(
        "required".into(),
        required.iter().map(|r| Value::from(*r)).collect(),
    );
    if let Some(props) = node.get_mut("properties").and_then(Value::as_object_mut) {
        for (name, prop) in props.iter_mut() {
            let Some(prop) = prop.as_object_mut() else {
                continue;
            };
            for key in ["enum", "minLength", "maxLength", "pattern", "default"] {
                prop.remove(key);
            }
            // An optional list sent as `null` decodes as `None`.
            if prop.get("type").and_then(Value::as_str) == Some("array") && !required.contains(&name.as_str())
            {
                prop.insert("nullable".into(), Value::Bool(true));
            }
        }
    }
    Ok(())
}

/// Marks `properties` of `schema` as `cloud_images::SecretText` (see
/// [`Patch::Secret`]).
fn secret(doc: &mut Value, schema: &str, properties: &[&str]) -> Result<(), String> {
    let props = doc
        .pointer_mut(&format!("/components/schemas/{schema}/properties"))
        .and_then(Value::as_object_mut)
        .ok_or_else(|| format!("patch Secret({schema}): no such schema, or it has no properties"))?;
    for name in properties {
        let prop = props
            .get_mut(*name)
            .and_then(Value::as_object_mut)
            .ok_or_else(|| format!("patch Secret({schema}): no property `{name}`"))?;
        if prop.get("type").and_then(Value::as_str) != Some("string") || prop.contains_key("format") {
            return Err(format!("patch Secret({schema}): `{name}` is not a plain string"));
        }
        prop.insert(
            "x-rust-type".into(),
            serde_json::json!({
                "crate": "cloud-images",
                "version": "*",
                "path": "cloud_images::SecretText",
            }),
        );
    }
    Ok(())
}

/// Drops the responses whose status code `drop` selects from every operation;
/// returns how many.
fn drop_responses(doc: &mut Value, drop: impl Fn(&str) -> bool) -> Result<usize, String> {
    let mut dropped = 0;
    for op in operations(doc)? {
        if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
            let before = responses.len();
            responses.retain(|code, _| !drop(code));
            dropped += before - responses.len();
        }
    }
    Ok(dropped)
}

const SCHEMA_REF: &str = "#/components/schemas/";

fn inline_scalars(doc: &mut Value) -> Result<(), String> {
    let schemas = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .ok_or("patch InlineScalars: no `components.schemas`")?
        .clone();
    // A scalar's items may be another scalar component: resolve to a fixpoint.
    let mut scalars: Map<String, Value> = Map::new();
    loop {
        let before = scalars.len();
        for (name, schema) in &schemas {
            if !scalars.contains_key(name) && is_scalar(schema, &scalars) {
                let mut copy = schema.clone();
                replace_refs(&mut copy, &scalars);
                scalars.insert(name.clone(), copy);
            }
        }
        if scalars.len() == before {
            break;
        }
    }
    if scalars.is_empty() {
        return Err("patch InlineScalars: no component schema is a bare scalar or a list of them".into());
    }
    replace_refs(doc, &scalars);
    let schemas = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
        .expect("checked above");
    schemas.retain(|name, _| !scalars.contains_key(name));
    Ok(())
}

/// A string, number, integer or boolean schema, or a list of them, with no
/// object or composition keywords.
fn is_scalar(schema: &Value, scalars: &Map<String, Value>) -> bool {
    let Some(map) = schema.as_object() else {
        return false;
    };
    if [
        "properties",
        "additionalProperties",
        "allOf",
        "anyOf",
        "oneOf",
        "not",
        "$ref",
    ]
    .iter()
    .any(|k| map.contains_key(*k))
    {
        return false;
    }
    match map.get("type").and_then(Value::as_str) {
        Some("string" | "number" | "integer" | "boolean") => true,
        Some("array") => match map.get("items") {
            Some(items) => match items.get("$ref").and_then(Value::as_str) {
                Some(r) => r
                    .strip_prefix(SCHEMA_REF)
                    .is_some_and(|n| scalars.contains_key(n)),
                None => is_scalar(items, scalars),
            },
            None => false,
        },
        _ => false,
    }
}

/// Replaces every `{$ref: #/components/schemas/<name>}` with `with[name]`.
fn replace_refs(node: &mut Value, with: &Map<String, Value>) {
    match node {
        Value::Object(map) => {
            let target = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix(SCHEMA_REF));
            if let Some(copy) = target.and_then(|name| with.get(name)) {
                *node = copy.clone();
                return;
            }
            map.values_mut().for_each(|v| replace_refs(v, with));
        }
        Value::Array(seq) => seq.iter_mut().for_each(|v| replace_refs(v, with)),
        _ => {}
    }
}

fn open_enums(doc: &mut Value, roots: &[&str]) -> Result<(), String> {
    let schemas = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
        .ok_or("patch OpenEnums: no `components.schemas`")?;
    // The component schemas reached from the roots, the roots included.
    let mut reached = BTreeSet::new();
    let mut todo: Vec<String> = roots.iter().map(|r| (*r).to_owned()).collect();
    while let Some(name) = todo.pop() {
        let schema = schemas
            .get(&name)
            .ok_or_else(|| format!("patch OpenEnums: no schema `{name}`"))?;
        if reached.insert(name) {
            collect_schema_refs(schema, &mut todo);
        }
    }
    let mut opened = 0;
    for name in &reached {
        opened += open_enums_in(schemas.get_mut(name).expect("reached schemas exist"));
    }
    if opened == 0 {
        return Err(format!(
            "patch OpenEnums({}): no string enum is reached from these schemas",
            roots.join(", ")
        ));
    }
    Ok(())
}

fn collect_schema_refs(node: &Value, into: &mut Vec<String>) {
    match node {
        Value::Object(map) => {
            if let Some(name) = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix(SCHEMA_REF))
            {
                into.push(name.to_owned());
            }
            map.values().for_each(|v| collect_schema_refs(v, into));
        }
        Value::Array(seq) => seq.iter().for_each(|v| collect_schema_refs(v, into)),
        _ => {}
    }
}

/// Drops `enum` from every string schema in `schema` (not following `$ref`s);
/// returns how many.
fn open_enums_in(schema: &mut Value) -> usize {
    let Some(map) = schema.as_object_mut() else {
        return 0;
    };
    let mut opened = 0;
    let strings = map.get("enum").and_then(Value::as_array).is_some_and(|values| {
        map.get("type").and_then(Value::as_str) == Some("string")
            || !map.contains_key("type") && values.iter().all(Value::is_string)
    });
    if strings {
        map.remove("enum");
        opened += 1;
    }
    for (key, value) in map.iter_mut() {
        opened += match (key.as_str(), value) {
            ("properties", Value::Object(props)) => props.values_mut().map(open_enums_in).sum(),
            ("items" | "additionalProperties" | "not", v) => open_enums_in(v),
            ("allOf" | "anyOf" | "oneOf", Value::Array(parts)) => parts.iter_mut().map(open_enums_in).sum(),
            _ => 0,
        };
    }
    opened
}

fn string_path_parameter(doc: &mut Value, name: &str) -> Result<(), String> {
    let is_it = |p: &Value| {
        p.get("in").and_then(Value::as_str) == Some("path")
            && p.get("name").and_then(Value::as_str) == Some(name)
    };
    let string = serde_json::json!({"type": "string"});
    let mut found = 0;
    for op in operations(doc)? {
        let params = op.get_mut("parameters").and_then(Value::as_array_mut);
        for param in params.into_iter().flatten().filter(|p| is_it(p)) {
            param["schema"] = string.clone();
            found += 1;
        }
    }
    let shared = doc
        .pointer_mut("/components/parameters")
        .and_then(Value::as_object_mut);
    for param in shared
        .into_iter()
        .flat_map(|m| m.values_mut())
        .filter(|p| is_it(p))
    {
        param["schema"] = string.clone();
        found += 1;
    }
    if found == 0 {
        return Err(format!(
            "patch StringPathParameter({name}): no such path parameter"
        ));
    }
    Ok(())
}

/// The schema of a response component's JSON body.
fn response_schema<'a>(doc: &'a mut Value, response: &str, patch: &str) -> Result<&'a mut Value, String> {
    doc.pointer_mut(&format!(
        "/components/responses/{response}/content/application~1json/schema"
    ))
    .ok_or_else(|| format!("patch {patch}({response}): no such response with a JSON body"))
}

fn envelope(doc: &mut Value, response: &str, property: &str) -> Result<(), String> {
    // Already wrapped, inline or in the component the schema refers to?
    let schema = response_schema(doc, response, "Envelope")?.clone();
    let target = match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => doc
            .pointer(r.trim_start_matches('#'))
            .cloned()
            .unwrap_or(Value::Null),
        None => schema,
    };
    let schema = response_schema(doc, response, "Envelope")?;
    if target.pointer(&format!("/properties/{property}")).is_some() {
        return Err(format!(
            "patch Envelope({response}): the schema already has `{property}`; upstream fixed it, drop the patch"
        ));
    }
    let inner = schema.take();
    *schema = serde_json::json!({
        "type": "object",
        "properties": {property: inner},
        "required": [property],
    });
    Ok(())
}

fn response_requires(doc: &mut Value, response: &str, required: &[&str]) -> Result<(), String> {
    let schema = response_schema(doc, response, "ResponseRequires")?
        .as_object_mut()
        .ok_or_else(|| format!("patch ResponseRequires({response}): the schema is not a mapping"))?;
    let props = schema
        .get("properties")
        .and_then(Value::as_object)
        .ok_or_else(|| format!("patch ResponseRequires({response}): the schema has no properties"))?;
    if let Some(missing) = required.iter().find(|r| !props.contains_key(**r)) {
        return Err(format!(
            "patch ResponseRequires({response}): no property `{missing}`"
        ));
    }
    let already = schema.get("required").and_then(Value::as_array);
    if required
        .iter()
        .all(|r| already.is_some_and(|a| a.iter().any(|v| v == r)))
    {
        return Err(format!(
            "patch ResponseRequires({response}): already required upstream, drop the patch"
        ));
    }
    schema.insert("type".into(), "object".into());
    schema.insert(
        "required".into(),
        required.iter().map(|r| Value::from(*r)).collect(),
    );
    Ok(())
}

fn string_ref_not_object(doc: &mut Value) -> Result<(), String> {
    let strings: BTreeSet<String> = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .ok_or("patch StringRefNotObject: no `components.schemas`")?
        .iter()
        .filter(|(_, s)| s.get("type").and_then(Value::as_str) == Some("string"))
        .map(|(name, _)| format!("{SCHEMA_REF}{name}"))
        .collect();
    fn walk(node: &mut Value, strings: &BTreeSet<String>) -> usize {
        match node {
            Value::Object(map) => {
                let fixed = map.get("type").and_then(Value::as_str) == Some("object")
                    && map
                        .get("allOf")
                        .and_then(Value::as_array)
                        .and_then(|parts| match parts.as_slice() {
                            [one] => one.get("$ref").and_then(Value::as_str),
                            _ => None,
                        })
                        .is_some_and(|r| strings.contains(r));
                if fixed {
                    map.remove("type");
                }
                usize::from(fixed) + map.values_mut().map(|v| walk(v, strings)).sum::<usize>()
            }
            Value::Array(seq) => seq.iter_mut().map(|v| walk(v, strings)).sum(),
            _ => 0,
        }
    }
    if walk(doc, &strings) == 0 {
        return Err(
            "patch StringRefNotObject: no `type: object` beside an `allOf` of a string schema".into(),
        );
    }
    Ok(())
}

fn any_of_objects(doc: &mut Value, schema: &str, property: &str) -> Result<(), String> {
    let what = format!("patch AnyOfObjects({schema}.{property})");
    let prop = doc
        .pointer_mut(&format!("/components/schemas/{schema}/properties/{property}"))
        .and_then(Value::as_object_mut)
        .ok_or_else(|| format!("{what}: no such property"))?;
    let branches = prop
        .remove("anyOf")
        .ok_or_else(|| format!("{what}: not an `anyOf`"))?;
    let branches = branches.as_array().cloned().unwrap_or_default();
    // `{}` matches anything and adds nothing.
    let objects: Vec<Value> = branches
        .into_iter()
        .filter(|b| b.as_object().is_some_and(|m| !m.is_empty()))
        .collect();
    if objects.is_empty() {
        return Err(format!("{what}: no branch to merge"));
    }
    prop.insert("type".into(), "object".into());
    prop.insert("allOf".into(), Value::Array(objects));
    Ok(())
}

fn add_properties(
    doc: &mut Value,
    schema: &str,
    source: &str,
    properties: &[(&str, &str)],
) -> Result<(), String> {
    let what = format!("patch AddProperties({schema}, from {source})");
    let props = doc
        .pointer_mut(&format!("/components/schemas/{schema}/properties"))
        .and_then(Value::as_object_mut)
        .ok_or_else(|| format!("{what}: no such schema with properties"))?;
    for (name, definition) in properties {
        if props.contains_key(*name) {
            return Err(format!(
                "{what}: the spec has `{name}` already; upstream caught up, drop the patch"
            ));
        }
        let definition: Value = serde_json::from_str(definition)
            .map_err(|e| format!("{what}: the schema of `{name}` is not JSON: {e}"))?;
        if !definition.is_object() {
            return Err(format!("{what}: the schema of `{name}` is not an object"));
        }
        props.insert((*name).to_owned(), definition);
    }
    Ok(())
}

fn or_string(doc: &mut Value, schema: &str, property: &str, string: &str) -> Result<(), String> {
    let what = format!("patch OrString({schema}.{property})");
    let prop = doc
        .pointer_mut(&format!("/components/schemas/{schema}/properties/{property}"))
        .and_then(Value::as_object_mut)
        .ok_or_else(|| format!("{what}: no such property"))?;
    if ["oneOf", "anyOf", "allOf"].iter().any(|k| prop.contains_key(*k)) {
        return Err(format!(
            "{what}: the property is a composition already; upstream changed it, review the patch"
        ));
    }
    if prop.get("type").and_then(Value::as_str) == Some("string") {
        return Err(format!(
            "{what}: the property is a string already; drop the patch"
        ));
    }
    let old = Value::Object(std::mem::take(prop));
    prop.insert(
        "oneOf".into(),
        serde_json::json!([old, {"type": "string", "description": string}]),
    );
    Ok(())
}

/// Every operation of every path.
fn operations(doc: &mut Value) -> Result<impl Iterator<Item = &mut Map<String, Value>>, String> {
    let paths = doc
        .get_mut("paths")
        .and_then(Value::as_object_mut)
        .ok_or("no `paths`")?;
    Ok(paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.iter_mut())
        .filter(|(method, _)| METHODS.contains(&method.as_str()))
        .filter_map(|(_, op)| op.as_object_mut()))
}

/// The HTTP methods a path item may hold.
pub const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn add_parameters(doc: &mut Value, operation: &str, parameters: &[&str]) -> Result<(), String> {
    let what = format!("patch AddParameters({operation})");
    for name in parameters {
        if doc.pointer(&format!("/components/parameters/{name}")).is_none() {
            return Err(format!("{what}: no parameter component `{name}`"));
        }
    }
    let paths = doc
        .get_mut("paths")
        .and_then(Value::as_object_mut)
        .ok_or(format!("{what}: no `paths`"))?;
    let op = paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut())
        .find(|op| op.get("operationId").and_then(Value::as_str) == Some(operation))
        .ok_or_else(|| format!("{what}: no such operation"))?;
    let list = op
        .as_object_mut()
        .ok_or_else(|| format!("{what}: the operation is not an object"))?
        .entry("parameters")
        .or_insert_with(|| Value::Array(Vec::new()))
        .as_array_mut()
        .ok_or_else(|| format!("{what}: `parameters` is not a list"))?;
    for name in parameters {
        let reference = format!("#/components/parameters/{name}");
        if list
            .iter()
            .any(|p| p.get("$ref").and_then(Value::as_str) == Some(reference.as_str()))
        {
            return Err(format!(
                "{what}: the operation has `{name}` already: the patch is stale"
            ));
        }
        list.push(serde_json::json!({ "$ref": reference }));
    }
    Ok(())
}
