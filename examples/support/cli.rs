//! What the CLI examples share: tables, JSON lines, progress while waiting.
//! Text from a server is shown with control characters escaped
//! (`cloud_images::text`), so it cannot forge lines or drive the terminal.
#![allow(dead_code)]

use cloud_images::wait::Progress;
use comfy_table::{Table, presets::NOTHING};
use futures::{Stream, StreamExt};
use serde::Serialize;

pub type Result<T, E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

/// The options every CLI example takes.
#[derive(clap::Args)]
pub struct Global {
    /// API base URL (default: the provider's environment variable, else its public API).
    #[arg(long, global = true)]
    pub api: Option<String>,
    /// An x-trace-id for every request.
    #[arg(long, global = true)]
    pub trace_id: Option<String>,
    /// Log each request (operation, status, request id, attempt) to stderr; -vv for more.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
}

impl Global {
    /// The builder from the environment, with these options on top.
    pub fn apply<P: cloud_images::Provider>(
        &self,
        mut builder: cloud_images::ClientBuilder<P>,
    ) -> cloud_images::ClientBuilder<P> {
        if let Some(api) = &self.api {
            builder = builder.base_url(api);
        }
        if let Some(trace) = &self.trace_id {
            builder = builder.trace_id(trace);
        }
        builder
    }
}

/// Logs each request to stderr: `-v` at info, `-vv` at debug.
pub fn init_logging(verbose: u8) {
    if verbose == 0 {
        return;
    }
    let level = if verbose > 1 {
        "cloud_images=debug"
    } else {
        "cloud_images=info"
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(level))
        .with_writer(std::io::stderr)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .init();
}

/// Runs the command; an error goes to stderr and the exit code is 1.
pub fn exit_code(result: Result<()>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Prints a stream as JSON lines (as the items come) or as one aligned table.
/// An error mid-stream is returned after what came before it was printed.
pub async fn print_stream<T: Serialize>(
    mut items: impl Stream<Item = Result<T, cloud_images::Error>> + Unpin,
    json: bool,
    header: &[&str],
    row: impl Fn(&T) -> Vec<String>,
) -> Result<()> {
    let mut table = new_table(header);
    let mut count = 0;
    while let Some(item) = items.next().await {
        let item = match item {
            Ok(item) => item,
            Err(e) => {
                if !json && count > 0 {
                    println!("{table}");
                }
                return Err(e.into());
            }
        };
        count += 1;
        if json {
            println!("{}", serde_json::to_string(&item)?);
        } else {
            table.add_row(row(&item).iter().map(|cell| safe(cell)).collect::<Vec<_>>());
        }
    }
    if !json {
        println!("{table}");
        eprintln!("{count} item(s)");
    }
    Ok(())
}

/// Prints one value as JSON.
pub fn print_json<T: Serialize>(value: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Prints `FIELD VALUE` rows.
pub fn print_fields(rows: &[(&str, String)]) {
    let mut table = new_table(&["FIELD", "VALUE"]);
    for (field, value) in rows {
        table.add_row(vec![(*field).to_owned(), safe(value)]);
    }
    println!("{table}");
}

pub fn new_table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table.load_preset(NOTHING).set_header(header.to_vec());
    table
}

/// A value for a table cell or a line; `-` for none.
pub fn show<T: std::fmt::Display>(value: &Option<T>) -> String {
    value
        .as_ref()
        .map_or_else(|| "-".to_owned(), |v| safe(&v.to_string()))
}

/// Server text with its control characters escaped.
pub fn safe(text: &str) -> String {
    cloud_images::text::escape_controls(text).into_owned()
}

/// Shows waiting: a progress bar on a terminal, plain lines otherwise.
pub struct WaitDisplay {
    bar: Option<indicatif::ProgressBar>,
    unit: &'static str,
}

impl WaitDisplay {
    /// `unit` names what `done`/`total` count (e.g. `MB`); empty for none.
    pub fn new(unit: &'static str) -> Self {
        use std::io::IsTerminal;
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(0);
            let template =
                format!("{{spinner}} {{msg:12}} [{{bar:30}}] {{pos}}/{{len}} {unit} ({{elapsed}})");
            bar.set_style(
                indicatif::ProgressStyle::with_template(&template)
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar
        });
        Self { bar, unit }
    }

    pub fn update(&self, p: &Progress) {
        let status = p.status.as_deref().map_or_else(|| "pending".into(), safe);
        let (done, total) = (p.done.unwrap_or(0.0) as u64, p.total.unwrap_or(0.0) as u64);
        match &self.bar {
            Some(bar) => {
                bar.set_length(total);
                bar.set_position(done);
                bar.set_message(status);
            }
            None if p.total.is_some() => eprintln!("{status}: {done} of {total} {}", self.unit),
            None => eprintln!("{status}"),
        }
    }

    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}
