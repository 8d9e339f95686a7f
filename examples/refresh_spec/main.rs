//! Refreshes a checked-in spec in `openapi/` from upstream.
//!
//! ```text
//! cargo run --example refresh_spec -- contabo path/to/contabo/openapi.yaml
//! cargo run --example refresh_spec -- ionos path/to/ionos/openapi.yaml
//! cargo run --example refresh_spec -- digitalocean path/to/digitalocean-openapi/specification
//! ```
//!
//! Contabo and IONOS publish one file: the tool cuts the images paths out of it
//! (`subset.rs`). DigitalOcean splits its spec over many files: the tool
//! bundles the images operations from the folder holding `resources/` and
//! `shared/` into one file (`bundle.rs`). Writes `openapi/<provider>.yaml` (or
//! the path given as a third argument) and prints what it kept. The next
//! `cargo build` regenerates the client from it.

mod bundle;
mod subset;
mod yaml;

use std::path::Path;
use std::process::ExitCode;

use yaml::Value;

const USAGE: &str = "usage: refresh_spec PROVIDER UPSTREAM [OUTPUT.yaml]
  contabo       UPSTREAM is Contabo's openapi.yaml
  ionos         UPSTREAM is IONOS Cloud API v6's openapi.yaml
  digitalocean  UPSTREAM is the `specification` folder of digitalocean/openapi";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (provider, input) = match args.as_slice() {
        [p, i] | [p, i, _] => (p.as_str(), i.as_str()),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let output = args
        .get(2)
        .cloned()
        .unwrap_or_else(|| format!("openapi/{provider}.yaml"));
    let made = match provider {
        "contabo" => cut(input, &subset::CONTABO, "contabo-openapi.yaml"),
        "ionos" => cut(input, &subset::IONOS, "ionos-cloudapi.yaml"),
        "digitalocean" => bundle(input, &bundle::DIGITALOCEAN),
        other => {
            eprintln!("error: unknown provider `{other}` (known: contabo, digitalocean, ionos)\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let written = made.and_then(|(doc, rendered)| {
        std::fs::write(&output, &rendered).map_err(|e| format!("cannot write {output}: {e}"))?;
        Ok(summary(&output, &doc, &rendered))
    });
    match written {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Cuts the paths out of one upstream file. `source` names the upstream file
/// in the output's header whatever the input file is called, so the output
/// does not depend on where the upstream copy lives.
fn cut(input: &str, cut: &subset::Cut<'_>, source: &str) -> Result<(Value, String), String> {
    let text = std::fs::read_to_string(input).map_err(|e| format!("cannot read {input}: {e}"))?;
    let full = yaml::from_str(&text).map_err(|e| format!("{input} is not valid YAML: {e}"))?;
    let doc = subset::cut(&full, cut).map_err(|e| format!("{input}: {e}"))?;
    let rendered = subset::render(&doc, source)?;
    Ok((doc, rendered))
}

/// Bundles the operations from the upstream specification folder.
fn bundle(folder: &str, spec: &bundle::Bundle<'_>) -> Result<(Value, String), String> {
    let folder = Path::new(folder);
    if !folder.join("resources").is_dir() {
        return Err(format!(
            "{} has no `resources` folder: give the `specification` folder of digitalocean/openapi",
            folder.display()
        ));
    }
    let read = |file: &str| std::fs::read_to_string(folder.join(file)).map_err(|e| e.to_string());
    let doc = bundle::bundle(spec, &read).map_err(|e| format!("{}: {e}", folder.display()))?;
    let rendered = bundle::render(&doc, spec)?;
    Ok((doc, rendered))
}

fn summary(output: &str, doc: &Value, rendered: &str) -> String {
    let count = |kind: &str| {
        doc.get("components")
            .and_then(|c| c.get(kind))
            .and_then(|m| m.as_mapping())
            .map_or(0, |m| m.len())
    };
    let paths = doc.get("paths").and_then(|p| p.as_mapping());
    let operations: usize = paths
        .into_iter()
        .flat_map(|p| p.values())
        .filter_map(|item| item.as_mapping())
        .map(|item| item.len())
        .sum();
    format!(
        "wrote {output}: {} paths, {operations} operations, {} schemas, {} responses, {} parameters, \
         {} security schemes ({} bytes)",
        paths.map_or(0, |m| m.len()),
        count("schemas"),
        count("responses"),
        count("parameters"),
        count("securitySchemes"),
        rendered.len()
    )
}
