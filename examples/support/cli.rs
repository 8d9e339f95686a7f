//! What the CLI examples share: tables, JSON lines, progress while waiting.
//! Text from a server is shown with control characters escaped
//! (`cloud_images::text`), so it cannot forge lines or drive the terminal.
#![allow(dead_code)]

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

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
    pub fn apply<P: cloud_images::provider::Provider>(
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
pub fn exit_code(result: Result<()>) -> ExitCode {
    write_exit_code(result, &mut io::stderr())
}

/// The exit code of a command's result: 0 on success, else 1 with
/// `error: ...` on `err`. A closed stdout (`| head`) ends the command
/// quietly.
pub fn write_exit_code(result: Result<()>, err: &mut (dyn Write + Send)) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&*e) => ExitCode::SUCCESS,
        Err(e) => {
            // Nowhere left to report a failure to write the error itself.
            let _ = writeln!(err, "error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(e: &(dyn std::error::Error + 'static)) -> bool {
    e.downcast_ref::<io::Error>()
        .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
}

/// Prints a stream to stdout as [`write_stream`] does, counting `item(s)`.
pub async fn print_stream<T: Serialize>(
    items: impl Stream<Item = Result<T, cloud_images::Error>> + Unpin,
    json: bool,
    header: &[&str],
    row: impl Fn(&T) -> Vec<String>,
) -> Result<()> {
    let (mut out, mut err) = (io::stdout(), io::stderr());
    write_stream(&mut out, &mut err, items, json, "item", header, row).await
}

/// Writes a stream as JSON lines (as the items come) or as one aligned
/// table, then the count of `noun(s)` on `err`. An error mid-stream is
/// returned after what came before it was written.
pub async fn write_stream<T: Serialize>(
    out: &mut (dyn Write + Send),
    err: &mut (dyn Write + Send),
    mut items: impl Stream<Item = Result<T, cloud_images::Error>> + Unpin,
    json: bool,
    noun: &str,
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
                    writeln!(out, "{table}")?;
                }
                return Err(e.into());
            }
        };
        count += 1;
        if json {
            writeln!(out, "{}", serde_json::to_string(&item)?)?;
        } else {
            table.add_row(row(&item).iter().map(|cell| safe(cell)).collect::<Vec<_>>());
        }
    }
    if !json {
        writeln!(out, "{table}")?;
        writeln!(err, "{count} {noun}(s)")?;
    }
    Ok(())
}

/// Prints one value as JSON.
pub fn print_json<T: Serialize>(value: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Prints `FIELD VALUE` rows to stdout.
pub fn print_fields(rows: &[(&str, String)]) -> Result<()> {
    write_fields(&mut io::stdout(), rows)
}

/// Writes `FIELD VALUE` rows.
pub fn write_fields(out: &mut (dyn Write + Send), rows: &[(&str, String)]) -> Result<()> {
    let mut table = new_table(&["FIELD", "VALUE"]);
    for (field, value) in rows {
        table.add_row(vec![(*field).to_owned(), safe(value)]);
    }
    writeln!(out, "{table}")?;
    Ok(())
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

/// Shows waiting: a progress bar on a terminal, else one line for each
/// change of the progress.
pub struct WaitDisplay<'w> {
    bar: Option<indicatif::ProgressBar>,
    err: Box<dyn Write + Send + 'w>,
    unit: &'static str,
    last: Option<String>,
}

impl WaitDisplay<'static> {
    /// On stderr: a bar when it is a terminal. `unit` names what
    /// `done`/`total` count (e.g. `MB`); empty for none.
    pub fn new(unit: &'static str) -> Self {
        WaitDisplay::to(unit, Box::new(io::stderr()), io::stderr().is_terminal())
    }
}

/// A ticking spinner on the process's stderr, when `progress_bar`.
fn spinner(progress_bar: bool) -> Option<indicatif::ProgressBar> {
    progress_bar.then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar
    })
}

impl<'w> WaitDisplay<'w> {
    /// Lines on `err`, or (`progress_bar`) a bar on the process's stderr.
    pub fn to(unit: &'static str, err: Box<dyn Write + Send + 'w>, progress_bar: bool) -> Self {
        let bar = spinner(progress_bar);
        Self {
            bar,
            err,
            unit,
            last: None,
        }
    }

    pub fn update(&mut self, p: &Progress) {
        let status = p.status.as_deref().map_or_else(|| "pending".to_owned(), safe);
        // Amounts are whole units; the fractions are noise on a display.
        let (done, total) = (p.done.unwrap_or(0.0) as u64, p.total.map(|t| t as u64));
        if let Some(bar) = &self.bar {
            match total {
                Some(total) => {
                    let template = format!(
                        "{{spinner}} {{msg:12}} [{{bar:30}}] {{pos}}/{{len}} {} ({{elapsed}})",
                        self.unit
                    );
                    if let Ok(style) = indicatif::ProgressStyle::with_template(&template) {
                        bar.set_style(style.progress_chars("=> "));
                    }
                    bar.set_length(total);
                    bar.set_position(done);
                }
                None => bar.set_style(indicatif::ProgressStyle::default_spinner()),
            }
            bar.set_message(status);
            return;
        }
        let line = match total {
            Some(total) => format!("{status}: {done} of {total} {}", self.unit),
            None => status,
        };
        if self.last.as_ref() != Some(&line) {
            // Progress is a courtesy: a stderr that cannot be written to does not stop the wait.
            let _ = writeln!(self.err, "{}", line.trim_end());
            self.last = Some(line);
        }
    }

    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Shows an upload: on a terminal a bar of the bytes sent and the phase
/// after it; else one line for each phase, and for each tenth of the bytes.
/// The bytes are `staging` into a bucket, or `sending` to the provider's
/// own file server ([`with_route`](Self::with_route)).
pub struct UploadDisplay<'w> {
    bar: Option<indicatif::ProgressBar>,
    err: Box<dyn Write + Send + 'w>,
    /// How the provider takes the file.
    route: cloud_images::images::UploadRoute,
    /// The last line written (plain lines only).
    last: Option<String>,
}

impl<'w> UploadDisplay<'w> {
    /// Lines on `err`, or (`progress_bar`) a bar on the process's stderr.
    pub fn to(err: Box<dyn Write + Send + 'w>, progress_bar: bool) -> Self {
        let bar = spinner(progress_bar);
        Self {
            bar,
            err,
            route: cloud_images::images::UploadRoute::StagingBucket,
            last: None,
        }
    }

    /// Words the phases as the provider takes the file (default: staged
    /// in a bucket).
    pub fn with_route(mut self, route: cloud_images::images::UploadRoute) -> Self {
        self.route = route;
        self
    }

    pub fn update(&mut self, p: &cloud_images::images::UploadProgress) {
        use cloud_images::images::UploadPhase;
        if let Some(bar) = &self.bar {
            match p.phase() {
                UploadPhase::Staging { sent, total } => {
                    if bar.length() != Some(*total) {
                        let template = format!(
                            "{{spinner}} {} [{{bar:30}}] {{bytes}}/{{total_bytes}} {{bytes_per_sec}} ({{eta}})",
                            sending(self.route)
                        );
                        if let Ok(style) = indicatif::ProgressStyle::with_template(&template) {
                            bar.set_style(style.progress_chars("=> "));
                        }
                        bar.set_length(*total);
                    }
                    bar.set_position(*sent);
                }
                _ => {
                    if bar.length().is_some() {
                        bar.set_style(indicatif::ProgressStyle::default_spinner());
                        bar.unset_length();
                    }
                    bar.set_message(upload_line(p, self.route));
                }
            }
            return;
        }
        let line = upload_line(p, self.route);
        if self.last.as_ref() != Some(&line) {
            // Progress is a courtesy: a stderr that cannot be written to does not stop the upload.
            let _ = writeln!(self.err, "{line}");
            self.last = Some(line);
        }
    }

    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

/// What sending the file is called on `route`: `staging` into a bucket,
/// `sending` to the provider's own file server.
fn sending(route: cloud_images::images::UploadRoute) -> &'static str {
    match route {
        cloud_images::images::UploadRoute::ProviderServer => "sending",
        _ => "staging",
    }
}

/// One plain line for an upload's progress on `route`; the bytes sent in
/// tenths, so that a large file makes ten lines, not thousands.
pub fn upload_line(
    p: &cloud_images::images::UploadProgress,
    route: cloud_images::images::UploadRoute,
) -> String {
    use cloud_images::images::{UploadPhase, UploadRoute};
    match p.phase() {
        UploadPhase::Staging { sent, total } => {
            let tenths = (*sent * 10).checked_div(*total).unwrap_or(10);
            format!("{}: {}% of {total} bytes", sending(route), tenths * 10)
        }
        UploadPhase::Staged { bucket, key } => format!("staged as s3://{}/{}", safe(bucket), safe(key)),
        UploadPhase::Registering { path } => {
            format!("sent {}; waiting for it to be registered", safe(path))
        }
        UploadPhase::Imported { id } if route == UploadRoute::ProviderServer => {
            format!("registered as image {}", safe(id))
        }
        UploadPhase::Imported { id } => format!("importing into image {}", safe(id)),
        UploadPhase::Waiting(Some(progress)) => {
            let status = progress
                .status
                .as_deref()
                .map_or_else(|| "pending".to_owned(), safe);
            match (progress.done, progress.total) {
                (Some(done), Some(total)) => {
                    format!("waiting: {status}: {} of {}", done as u64, total as u64)
                }
                _ => format!("waiting: {status}"),
            }
        }
        UploadPhase::Distributing { id, region } => {
            format!("copying image {} to {}", safe(id), safe(region))
        }
        _ => p.to_string(),
    }
}
