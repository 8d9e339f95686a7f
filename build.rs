//! Generates the providers' clients from the specs in `openapi/` with progenitor.
//!
//! For each enabled provider: read `openapi/<provider>.yaml`, apply the
//! provider's spec patches, run progenitor with the builder interface, apply
//! the code patches, and write `$OUT_DIR/<provider>.rs`, which
//! `src/<provider>/mod.rs` includes.
//! With the `httpmock` feature, also write the typed httpmock helpers for the
//! same patched spec to `$OUT_DIR/<provider>_httpmock.rs`, which
//! `src/testing/httpmock.rs` includes.
//! Nothing generated is committed.
//!
//! The checked-in specs are faithful subsets of upstream (see
//! `openapi/README.md`); every deliberate change is a patch, so refreshing
//! a spec never loses one. A patch whose target is gone, or that upstream has
//! made unnecessary, fails the build. The build's other files:
//!
//! - `build/providers.rs`: the provider table, each provider's spec patches;
//! - `build/spec_patches.rs`: the spec patches and how each is made;
//! - `build/code_patches.rs`: changes to the generated code itself, the same
//!   for every provider;
//! - `build/tokens.rs`: the token-stream utilities the code patches use;
//! - `build/yaml.rs`: reads a spec (YAML) into a `serde_json::Value`.

#[path = "build/code_patches.rs"]
mod code_patches;
#[path = "build/providers.rs"]
mod providers;
#[path = "build/spec_patches.rs"]
mod spec_patches;
#[path = "build/tokens.rs"]
mod tokens;
#[path = "build/yaml.rs"]
mod yaml;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use providers::{PROVIDERS, Provider};
use spec_patches::{METHODS, apply};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build/code_patches.rs");
    println!("cargo:rerun-if-changed=build/providers.rs");
    println!("cargo:rerun-if-changed=build/spec_patches.rs");
    println!("cargo:rerun-if-changed=build/tokens.rs");
    println!("cargo:rerun-if-changed=build/yaml.rs");
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
    let mut doc: Value = yaml::parse(&text).map_err(|e| format!("not valid YAML: {e}"))?;
    for patch in provider.patches {
        apply(&mut doc, patch)?;
    }
    let path_parameters = code_patches::path_parameters(&doc);
    let list_query_parameters = list_query_parameters(&doc);
    let api: openapiv3::OpenAPI =
        serde_json::from_value(doc).map_err(|e| format!("not an OpenAPI 3.0 document: {e}"))?;

    let mut settings = progenitor::GenerationSettings::default();
    settings
        .with_interface(progenitor::InterfaceStyle::Builder)
        .with_tag(progenitor::TagStyle::Merged)
        .with_inner_type(quote_path("crate::engine::codegen::Transport")?)
        .with_hooks(progenitor::HooksMode::Expected)
        .with_derive("PartialEq")
        // `Patch::Secret`'s `x-rust-type`: the crate's own `SecretText`
        // (`::cloud_images` names the crate itself, see `lib.rs`).
        .with_crate("cloud-images", progenitor::CrateVers::Any, None);
    let mut generator = progenitor::Generator::new(&settings);

    let mut tokens = without_panics(|| generator.generate_tokens(&api))?;
    for patch in code_patches::CODE_PATCHES {
        tokens = patch.apply(tokens, path_parameters)?;
    }
    write_rust(tokens, &out_dir.join(format!("{}.rs", provider.name)))?;

    // The typed httpmock helpers, from the same patched spec so that their
    // parameter and body types are the client's (`crate::<provider>::types`).
    if std::env::var_os("CARGO_FEATURE_HTTPMOCK").is_some() {
        let mut generator = progenitor::Generator::new(&settings);
        let crate_path = format!("crate::{}", provider.name);
        let tokens = without_panics(|| generator.httpmock(&api, &crate_path))?;
        let tokens = mock_list_query_parameters(tokens, &list_query_parameters)?;
        write_rust(tokens, &out_dir.join(format!("{}_httpmock.rs", provider.name)))?;
    }
    Ok(())
}

/// The names of the query parameters whose schema is a list (inline or
/// through `#/components/parameters`).
fn list_query_parameters(doc: &Value) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return names;
    };
    let params = paths
        .values()
        .filter_map(Value::as_object)
        .flat_map(|item| item.iter())
        .filter(|(key, _)| METHODS.contains(&key.as_str()) || key.as_str() == "parameters")
        .flat_map(|(key, value)| match key.as_str() {
            "parameters" => value.as_array().into_iter().flatten().collect::<Vec<_>>(),
            _ => value
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .collect(),
        });
    for param in params {
        let param = match param.get("$ref").and_then(Value::as_str) {
            Some(r) => match doc.pointer(r.trim_start_matches('#')) {
                Some(target) => target,
                None => continue,
            },
            None => param,
        };
        let is_list = param.pointer("/schema/type").and_then(Value::as_str) == Some("array");
        if param.get("in").and_then(Value::as_str) == Some("query")
            && is_list
            && let Some(name) = param.get("name").and_then(Value::as_str)
        {
            names.insert(name.to_owned());
        }
    }
    names
}

/// progenitor 0.15's httpmock generator matches a query parameter with one
/// `query_param(name, value.to_string())`, which does not compile for a list
/// (`orderBy=name:asc&orderBy=size:desc`): match each of its values instead.
/// A list parameter whose matcher is not found fails the build.
fn mock_list_query_parameters(
    tokens: proc_macro2::TokenStream,
    names: &BTreeSet<String>,
) -> Result<proc_macro2::TokenStream, String> {
    // Compared as proc_macro2 prints them, so spacing does not matter.
    let printed = |code: String| code.parse::<proc_macro2::TokenStream>().map(|t| t.to_string());
    let mut code = tokens.to_string();
    for name in names {
        // progenitor writes the arguments with a trailing comma.
        let one = printed(format!("self.0.query_param({name:?}, value.to_string(),)"))
            .map_err(|e| e.to_string())?;
        let each = printed(format!(
            "value.iter().fold(self.0, |when, value| when.query_param({name:?}, value.to_string()))"
        ))
        .map_err(|e| e.to_string())?;
        if !code.contains(&one) {
            return Err(format!(
                "httpmock helpers: no matcher for the list query parameter `{name}` to fix; \
                 progenitor's generator changed, check the generated helpers"
            ));
        }
        code = code.replace(&one, &each);
    }
    code.parse()
        .map_err(|e| format!("httpmock helpers: the fixed code does not parse: {e}"))
}

/// Runs progenitor. It panics on some specs it does not support (e.g.
/// several success bodies of different types); that is a build error too.
fn without_panics(
    generate: impl FnOnce() -> Result<proc_macro2::TokenStream, progenitor::Error>,
) -> Result<proc_macro2::TokenStream, String> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(generate));
    std::panic::set_hook(hook);
    match result {
        Ok(Ok(tokens)) => Ok(tokens),
        Ok(Err(e)) => Err(format!("progenitor rejected the spec: {e}")),
        Err(panic) => {
            let what = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("unknown panic");
            Err(format!("progenitor does not support this spec: {what}"))
        }
    }
}

/// Formats generated code and writes it to `out`.
fn write_rust(tokens: proc_macro2::TokenStream, out: &Path) -> Result<(), String> {
    let file: syn::File =
        syn::parse2(tokens).map_err(|e| format!("progenitor produced invalid Rust: {e}"))?;
    let code = prettyplease::unparse(&file);
    std::fs::write(out, code).map_err(|e| format!("cannot write {}: {e}", out.display()))
}

fn quote_path(path: &str) -> Result<proc_macro2::TokenStream, String> {
    path.parse().map_err(|e| format!("bad type path {path}: {e}"))
}
