//! Generates the providers' clients from the specs in `openapi/` with progenitor.
//!
//! For each enabled provider: read `openapi/<provider>.yaml`, apply the
//! provider's patches (below), run progenitor with the builder interface, and
//! write `$OUT_DIR/<provider>.rs`, which `src/<provider>/mod.rs` includes.
//! Nothing generated is committed.
//!
//! The checked-in specs are faithful subsets of upstream (see
//! `openapi/README.md`); every deliberate change is a patch here, so refreshing
//! a spec never loses one. A patch whose target is gone fails the build.
//! Changes to the generated code itself, the same for every provider, are
//! the code patches in `build/code_patches.rs`.

#[path = "build/code_patches.rs"]
mod code_patches;

use std::path::{Path, PathBuf};

use serde_json::Value;

/// A deliberate change to an upstream spec.
enum Patch {
    /// Make this header parameter optional on every operation: the client's
    /// transport fills it in (a fresh `x-request-id` per request) unless the
    /// caller set one.
    OptionalHeader(&'static str),
    /// Decode a response schema tolerantly: only `required` stays required (so
    /// a null or missing field becomes `None`), and `enum`, `minLength`,
    /// `maxLength` and `pattern` are dropped from its properties (so a value the
    /// spec does not list decodes as a plain string); its lists become
    /// nullable. The real API sends nulls and values the spec does not list.
    Tolerant {
        schema: &'static str,
        required: &'static [&'static str],
    },
}

struct Provider {
    /// Cargo feature and module name.
    name: &'static str,
    patches: &'static [Patch],
}

const PROVIDERS: &[Provider] = &[Provider {
    name: "contabo",
    patches: &[
        Patch::OptionalHeader("x-request-id"),
        Patch::Tolerant {
            schema: "ImageResponse",
            required: &["imageId"],
        },
        Patch::Tolerant {
            schema: "ListImageResponseData",
            required: &["imageId"],
        },
        Patch::Tolerant {
            schema: "AssignedTagResponse",
            required: &[],
        },
        Patch::Tolerant {
            schema: "CreateCustomImageResponseData",
            required: &["imageId"],
        },
        Patch::Tolerant {
            schema: "UpdateCustomImageResponseData",
            required: &["imageId"],
        },
        Patch::Tolerant {
            schema: "CustomImagesStatsResponseData",
            required: &[],
        },
        Patch::Tolerant {
            schema: "ImageAuditResponseData",
            required: &["id"],
        },
        // Pages: `data` and `_pagination` must be there; `_links` is unused.
        Patch::Tolerant {
            schema: "ListImageResponse",
            required: &["data", "_pagination"],
        },
        Patch::Tolerant {
            schema: "ImageAuditResponse",
            required: &["data", "_pagination"],
        },
        Patch::Tolerant {
            schema: "FindImageResponse",
            required: &["data"],
        },
        Patch::Tolerant {
            schema: "CreateCustomImageResponse",
            required: &["data"],
        },
        Patch::Tolerant {
            schema: "UpdateCustomImageResponse",
            required: &["data"],
        },
        Patch::Tolerant {
            schema: "CustomImagesStatsResponse",
            required: &["data"],
        },
        // The pagination layer checks these numbers itself.
        Patch::Tolerant {
            schema: "PaginationMeta",
            required: &[],
        },
        Patch::Tolerant {
            schema: "CreateCustomImageFailResponse",
            required: &[],
        },
    ],
}];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build/code_patches.rs");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    for provider in PROVIDERS {
        let feature = format!("CARGO_FEATURE_{}", provider.name.to_uppercase());
        if std::env::var_os(feature).is_none() {
            continue;
        }
        let spec = PathBuf::from(format!("openapi/{}.yaml", provider.name));
        println!("cargo:rerun-if-changed={}", spec.display());
        if let Err(message) = generate(provider, &spec, &out_dir) {
            eprintln!(
                "\nerror: cannot generate the {} client from {}:\n  {message}\n",
                provider.name,
                spec.display()
            );
            std::process::exit(1);
        }
    }
}

fn generate(provider: &Provider, spec: &Path, out_dir: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(spec).map_err(|e| format!("cannot read the file: {e}"))?;
    let mut doc: Value = serde_yaml::from_str(&text).map_err(|e| format!("not valid YAML: {e}"))?;
    for patch in provider.patches {
        apply(&mut doc, patch)?;
    }
    let path_parameters = code_patches::path_parameters(&doc);
    let api: openapiv3::OpenAPI =
        serde_json::from_value(doc).map_err(|e| format!("not an OpenAPI 3.0 document: {e}"))?;

    let mut settings = progenitor::GenerationSettings::default();
    settings
        .with_interface(progenitor::InterfaceStyle::Builder)
        .with_tag(progenitor::TagStyle::Merged)
        .with_inner_type(quote_path("crate::transport::Transport")?)
        .with_hooks(progenitor::HooksMode::Expected)
        .with_derive("PartialEq");
    let mut generator = progenitor::Generator::new(&settings);

    // progenitor panics on some specs it does not support (e.g. several
    // success bodies of different types); report that as a build error.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| generator.generate_tokens(&api)));
    std::panic::set_hook(hook);
    let tokens = match result {
        Ok(Ok(tokens)) => tokens,
        Ok(Err(e)) => return Err(format!("progenitor rejected the spec: {e}")),
        Err(panic) => {
            let what = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("unknown panic");
            return Err(format!("progenitor does not support this spec: {what}"));
        }
    };
    let mut tokens = tokens;
    for patch in code_patches::CODE_PATCHES {
        tokens = patch.apply(tokens, path_parameters)?;
    }
    let file: syn::File =
        syn::parse2(tokens).map_err(|e| format!("progenitor produced invalid Rust: {e}"))?;
    let code = prettyplease::unparse(&file);
    let out = out_dir.join(format!("{}.rs", provider.name));
    std::fs::write(&out, code).map_err(|e| format!("cannot write {}: {e}", out.display()))
}

fn quote_path(path: &str) -> Result<proc_macro2::TokenStream, String> {
    path.parse().map_err(|e| format!("bad type path {path}: {e}"))
}

fn apply(doc: &mut Value, patch: &Patch) -> Result<(), String> {
    match patch {
        Patch::OptionalHeader(name) => {
            let mut found = 0;
            let paths = doc
                .get_mut("paths")
                .and_then(Value::as_object_mut)
                .ok_or("no `paths`")?;
            for item in paths.values_mut().filter_map(Value::as_object_mut) {
                for op in item.values_mut().filter_map(Value::as_object_mut) {
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
            }
            if found == 0 {
                return Err(format!(
                    "patch OptionalHeader({name}): no operation has that header parameter"
                ));
            }
        }
        Patch::Tolerant { schema, required } => {
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
                    for key in ["enum", "minLength", "maxLength", "pattern"] {
                        prop.remove(key);
                    }
                    // An optional list sent as `null` decodes as `None`.
                    if prop.get("type").and_then(Value::as_str) == Some("array")
                        && !required.contains(&name.as_str())
                    {
                        prop.insert("nullable".into(), Value::Bool(true));
                    }
                }
            }
        }
    }
    Ok(())
}
