//! Refreshes a checked-in spec in `openapi/` from a newer full upstream file.
//!
//! ```text
//! cargo run --example refresh_spec -- contabo path/to/upstream/openapi.yaml
//! ```
//!
//! Writes `openapi/contabo.yaml` (or the path given as a third argument) and
//! prints what it kept. The next `cargo build` regenerates the client from it.

mod subset;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (provider, input) = match args.as_slice() {
        [p, i] | [p, i, _] => (p.as_str(), i.as_str()),
        _ => {
            eprintln!("usage: refresh_spec PROVIDER UPSTREAM.yaml [OUTPUT.yaml]\n  providers: contabo");
            return ExitCode::from(2);
        }
    };
    let cut = match provider {
        "contabo" => subset::CONTABO,
        other => {
            eprintln!("error: unknown provider `{other}` (known: contabo)");
            return ExitCode::from(2);
        }
    };
    let output = args
        .get(2)
        .cloned()
        .unwrap_or_else(|| format!("openapi/{provider}.yaml"));
    match run(input, &output, &cut) {
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

fn run(input: &str, output: &str, cut: &subset::Cut<'_>) -> Result<String, String> {
    let text = std::fs::read_to_string(input).map_err(|e| format!("cannot read {input}: {e}"))?;
    let full: serde_yaml::Value =
        serde_yaml::from_str(&text).map_err(|e| format!("{input} is not valid YAML: {e}"))?;
    let doc = subset::cut(&full, cut).map_err(|e| format!("{input}: {e}"))?;
    let source = std::path::Path::new(input)
        .file_name()
        .map_or_else(|| input.to_owned(), |n| n.to_string_lossy().into_owned());
    let rendered = subset::render(&doc, &source)?;
    std::fs::write(output, &rendered).map_err(|e| format!("cannot write {output}: {e}"))?;
    let count = |kind: &str| {
        doc.get("components")
            .and_then(|c| c.get(kind))
            .and_then(|m| m.as_mapping())
            .map_or(0, |m| m.len())
    };
    Ok(format!(
        "wrote {output}: {} paths, {} schemas, {} security schemes ({} bytes)",
        doc.get("paths")
            .and_then(|p| p.as_mapping())
            .map_or(0, |m| m.len()),
        count("schemas"),
        count("securitySchemes"),
        rendered.len()
    ))
}
