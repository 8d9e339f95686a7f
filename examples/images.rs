//! One CLI for images on Contabo, DigitalOcean and IONOS Cloud, through the
//! provider-neutral API (`cloud_images::images`).
//!
//! ```text
//! export CLOUD_IMAGES_PROVIDER=digitalocean DIGITALOCEAN_TOKEN=...   # or --provider
//! cargo run --example images -- list --custom --name debian --limit 10
//! cargo run --example images -- import --name debian-13 --url https://example.com/d.qcow2 --os Debian --region fra1 --wait
//! cargo run --example images -- --provider contabo import --name debian-13 --url https://example.com/d.qcow2 --os linux --version 13 --wait
//! cargo run --example images -- upload ./debian-13.qcow2 --name debian-13 --os Debian --region fra1 --region ams3 --staging s3://my-space
//! cargo run --example images -- --provider ionos upload ./debian-13.qcow2 --name debian-13 --os linux --region de/fra
//! cargo run --example images -- update 190000001 --name debian-13-golden
//! cargo run --example images -- delete 190000001
//! ```
//!
//! The provider is `--provider contabo|digitalocean|ionos`, else
//! `CLOUD_IMAGES_PROVIDER`; its own variables configure the client:
//! `CNTB_ACCESS_TOKEN` (or `CNTB_OAUTH2_*`) and `CNTB_API` for Contabo,
//! `DIGITALOCEAN_TOKEN` and `DIGITALOCEAN_API_URL` for DigitalOcean,
//! `IONOS_TOKEN` (or `IONOS_USERNAME` and `IONOS_PASSWORD`) and
//! `IONOS_API_URL` for IONOS. `--api` and `--trace-id` override them.
//!
//! What `import` needs differs: Contabo `--os linux|windows` and `--version`,
//! DigitalOcean `--region` (and takes a distribution such as `Debian` as
//! `--os`); IONOS cannot import from a URL. `upload` takes a local file as
//! the provider does. Contabo and DigitalOcean: staged in an S3-compatible
//! bucket (`--staging s3://BUCKET[/prefix]`, and object_store's
//! `AWS_ENDPOINT`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! `AWS_REGION`, `AWS_ALLOW_HTTP`; DigitalOcean also takes
//! `SPACES_ACCESS_KEY_ID` and `SPACES_SECRET_ACCESS_KEY`), imported by the
//! cloud from there. IONOS: sent over FTPS to the FTP server of the
//! location given as `--region` (e.g. `de/fra`), which takes the account's
//! `IONOS_USERNAME` and `IONOS_PASSWORD`, not a token (`IONOS_FTP_URL` and
//! `IONOS_FTP_CA_FILE` for another server), then registered by IONOS. It
//! waits, showing the bytes sent and each phase. With `--json`
//! a command prints the neutral view of each image as one JSON object per
//! line (`provider`,
//! `id`, `name`, `description`, `status`, `custom`, `os`, `os_family`, `size_gb`,
//! `created_at`, `regions`; `status` is `pending`, `ready`, `failed`,
//! `deleting` or the provider's own word); tables otherwise, with server text
//! escaped. Waiting, and an IONOS update or delete while IONOS applies it
//! (its request `QUEUED`, then `RUNNING`), shows a progress bar on a
//! terminal and plain lines otherwise. Errors go to stderr with the status and the request id; the
//! exit code is then 1. A closed stdout (`| head`) ends a command quietly.

#[path = "support/cli.rs"]
mod cli;

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use clap::{ArgGroup, Parser, Subcommand};
use cli::{Result, UploadDisplay, WaitDisplay, safe, show};
use cloud_images::contabo::Contabo;
use cloud_images::digitalocean::DigitalOcean;
use cloud_images::images::PROVIDER_VARIABLE;
use cloud_images::images::{
    Cloud, Image, ImageStatus, ImageUpdate, Images, ImportRequest, ListFilter, Staging, UploadRequest,
    UploadRoute,
};
use cloud_images::ionos::Ionos;
use cloud_images::wait::WaitOptions;
use cloud_images::{ClientBuilder, PaginationOptions};

#[derive(Parser)]
#[command(
    name = "images",
    about = "Manage VM images on Contabo, DigitalOcean or IONOS Cloud",
    version
)]
pub struct Cli {
    /// contabo, digitalocean or ionos (default: $CLOUD_IMAGES_PROVIDER).
    #[arg(long, global = true)]
    pub provider: Option<String>,
    #[command(flatten)]
    pub global: cli::Global,
    /// Milliseconds between polls while waiting, instead of 2 s growing to 30 s.
    #[arg(long, global = true, hide = true, value_name = "MS")]
    pub poll_ms: Option<u64>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// List the provider's public images and the account's own.
    List {
        /// Only the account's own images (imported, snapshots).
        #[arg(long)]
        custom: bool,
        /// Only images whose name contains TEXT, in any case.
        #[arg(long, value_name = "TEXT")]
        name: Option<String>,
        /// Only images whose name starts with PREFIX (case included).
        #[arg(long, value_name = "PREFIX")]
        name_prefix: Option<String>,
        /// Only images created at or after TIME (RFC 3339, or a date: midnight UTC).
        #[arg(long, value_name = "TIME", value_parser = parse_time)]
        created_after: Option<DateTime<Utc>>,
        /// Only images created before TIME (RFC 3339, or a date: midnight UTC).
        #[arg(long, value_name = "TIME", value_parser = parse_time)]
        created_before: Option<DateTime<Utc>>,
        /// Stop after N images.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
        limit: Option<u64>,
        /// Print the image(s) as JSON, one object per line.
        #[arg(long)]
        json: bool,
    },
    /// Show one image.
    Get {
        id: String,
        /// Print the image(s) as JSON, one object per line.
        #[arg(long)]
        json: bool,
    },
    /// Import a custom image from a URL (Contabo, DigitalOcean).
    Import {
        /// The image's name.
        #[arg(long)]
        name: String,
        /// Where the provider downloads it from (http or https).
        #[arg(long)]
        url: String,
        /// linux or windows (Contabo needs it); DigitalOcean also takes a distribution, e.g. Debian.
        #[arg(long)]
        os: Option<String>,
        /// The OS version (Contabo needs it).
        #[arg(long)]
        version: Option<String>,
        /// The region to import into (DigitalOcean needs it), e.g. fra1.
        #[arg(long)]
        region: Option<String>,
        /// A description.
        #[arg(long)]
        description: Option<String>,
        /// Wait until the image is ready (or failed).
        #[arg(long)]
        wait: bool,
        /// Print the image(s) as JSON, one object per line.
        #[arg(long)]
        json: bool,
    },
    /// Upload a local image file, waited for: Contabo and DigitalOcean
    /// import it from an S3-compatible staging bucket; IONOS takes it over
    /// FTPS on the location's server (IONOS_USERNAME and IONOS_PASSWORD,
    /// not a token) and registers it.
    Upload {
        /// The image file (DigitalOcean: raw, qcow2, vhdx, vdi, vmdk, also
        /// gzip- or bzip2-compressed; Contabo: qcow2 or iso; IONOS: qcow2,
        /// raw, vmdk, vhdx, vdi or iso).
        file: std::path::PathBuf,
        /// The image's name.
        #[arg(long)]
        name: String,
        /// linux or windows (Contabo needs it); DigitalOcean also takes a
        /// distribution, e.g. Debian; IONOS a distribution or its licence
        /// type, e.g. LINUX, WINDOWS2022.
        #[arg(long)]
        os: Option<String>,
        /// The OS version (Contabo needs it; not used by the others).
        #[arg(long)]
        version: Option<String>,
        /// A region (DigitalOcean needs one): the first is imported into,
        /// the image is copied to each further one. IONOS needs one: the
        /// location whose FTP server takes the file, e.g. de/fra.
        #[arg(long = "region", value_name = "REGION")]
        regions: Vec<String>,
        /// A description.
        #[arg(long)]
        description: Option<String>,
        /// The staging bucket, s3://BUCKET[/prefix] (default: the provider's
        /// own store); AWS_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
        /// AWS_REGION and AWS_ALLOW_HTTP point at any S3-compatible store.
        /// Not for IONOS.
        #[arg(long, value_name = "S3_URL")]
        staging: Option<String>,
        /// Leave the staged object in the bucket afterwards (not for IONOS).
        #[arg(long)]
        keep_staged: bool,
        /// Return once the import has started (the staged object stays for
        /// the cloud to fetch); IONOS: once it has registered the file, its
        /// name and other properties being set.
        #[arg(long)]
        no_wait: bool,
        /// Print the image(s) as JSON, one object per line.
        #[arg(long)]
        json: bool,
    },
    /// Rename an image or change its description.
    #[command(group(ArgGroup::new("change").required(true).multiple(true).args(["name", "description"])))]
    Update {
        id: String,
        /// The new name.
        #[arg(long)]
        name: Option<String>,
        /// The new description.
        #[arg(long)]
        description: Option<String>,
        /// Print the image(s) as JSON, one object per line.
        #[arg(long)]
        json: bool,
    },
    /// Delete one of the account's images.
    Delete { id: String },
    /// Wait until an image is ready (or failed).
    Wait {
        id: String,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 1800, value_name = "SECONDS")]
        timeout: u64,
        /// Print the image(s) as JSON, one object per line.
        #[arg(long)]
        json: bool,
    },
}

/// Where [`run`] reads its environment and writes its output.
pub struct Io<'a> {
    /// The environment variables (the process's own when run as a program).
    pub vars: &'a dyn Fn(&str) -> Option<String>,
    /// Results: tables, or JSON objects one per line.
    pub out: &'a mut (dyn Write + Send),
    /// Errors, counts and progress lines.
    pub err: &'a mut (dyn Write + Send),
    /// While waiting, draw a progress bar on the process's stderr instead of
    /// writing progress lines to `err`.
    pub progress_bar: bool,
}

#[allow(dead_code)] // The tests call `run`.
#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    cli::init_logging(cli.global.verbose);
    let vars = |name: &str| std::env::var(name).ok();
    let (mut out, mut err) = (io::stdout(), io::stderr());
    let io = Io {
        vars: &vars,
        out: &mut out,
        err: &mut err,
        progress_bar: io::stderr().is_terminal(),
    };
    run(cli, io).await
}

/// Runs one command: 0 when it succeeded, else 1 with `error: ...` on `err`.
/// A closed `out` (`| head`) ends the command quietly.
pub async fn run(cli: Cli, io: Io<'_>) -> ExitCode {
    let Io {
        vars,
        out,
        err,
        progress_bar,
    } = io;
    let result = match execute(cli, vars, &mut *out, &mut *err, progress_bar).await {
        Ok(()) => out.flush().map_err(Into::into),
        Err(e) => Err(e),
    };
    cli::write_exit_code(result, err)
}

/// The chosen provider's client: its environment variables, then `--api`
/// and `--trace-id` on top.
fn connect(cli: &Cli, vars: &dyn Fn(&str) -> Option<String>) -> Result<Arc<dyn Images>> {
    let name = match &cli.provider {
        Some(name) => name.clone(),
        None => vars(PROVIDER_VARIABLE)
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| {
                cloud_images::Error::Config(format!(
                    "no provider given: use --provider or set {PROVIDER_VARIABLE} \
                     (contabo, digitalocean or ionos)"
                ))
            })?,
    };
    let lookup = |name: &str| vars(name);
    let images: Arc<dyn Images> = match name.parse::<Cloud>()? {
        Cloud::Contabo => {
            let builder = ClientBuilder::<Contabo>::from_lookup(lookup)?;
            Arc::new(cli.global.apply(builder).build()?)
        }
        Cloud::DigitalOcean => {
            let builder = ClientBuilder::<DigitalOcean>::from_lookup(lookup)?;
            Arc::new(cli.global.apply(builder).build()?)
        }
        Cloud::Ionos => {
            let builder = ClientBuilder::<Ionos>::from_lookup(lookup)?;
            Arc::new(cli.global.apply(builder).build()?)
        }
        other => return Err(format!("this example does not know {other} yet").into()),
    };
    Ok(images)
}

async fn execute(
    cli: Cli,
    vars: &dyn Fn(&str) -> Option<String>,
    out: &mut (dyn Write + Send),
    err: &mut (dyn Write + Send),
    progress_bar: bool,
) -> Result<()> {
    let images = connect(&cli, vars)?;
    let mut waiting = WaitOptions::default();
    if let Some(ms) = cli.poll_ms {
        let interval = Duration::from_millis(ms);
        waiting = waiting.with_interval(interval).with_max_interval(interval);
    }

    match cli.command {
        Command::List {
            custom,
            name,
            name_prefix,
            created_after,
            created_before,
            limit,
            json,
        } => {
            let mut filter = ListFilter::default();
            if custom {
                filter = filter.with_custom(true);
            }
            if let Some(name) = name {
                filter = filter.with_name(name);
            }
            if let Some(prefix) = name_prefix {
                filter = filter.with_name_prefix(prefix);
            }
            if let Some(time) = created_after {
                filter = filter.with_created_after(time);
            }
            if let Some(time) = created_before {
                filter = filter.with_created_before(time);
            }
            let mut options = PaginationOptions::default();
            if let Some(limit) = limit {
                options = options.with_limit(limit);
            }
            let listed = images.list_with(filter, options);
            let header = ["ID", "NAME", "STATUS", "KIND", "OS", "SIZE GB", "CREATED"];
            cli::write_stream(out, err, listed, json, "image", &header, |image: &Image| {
                vec![
                    image.id.clone(),
                    image.name.clone(),
                    image.status.to_string(),
                    kind(image).to_owned(),
                    image.os_family.to_string(),
                    size(image),
                    created(image),
                ]
            })
            .await
        }
        Command::Get { id, json } => {
            let image = images.get(&id).await?;
            if json {
                return print_image(out, &image);
            }
            print_details(out, &image)
        }
        Command::Import {
            name,
            url,
            os,
            version,
            region,
            description,
            wait,
            json,
        } => {
            let mut request = ImportRequest::new(name, url);
            if let Some(os) = os {
                request = request.with_os(os);
            }
            if let Some(version) = version {
                request = request.with_version(version);
            }
            if let Some(region) = region {
                request = request.with_region(region);
            }
            if let Some(description) = description {
                request = request.with_description(description);
            }
            let image = images.import_from_url(request).await?;
            if !wait {
                if json {
                    return print_image(out, &image);
                }
                writeln!(out, "{}", summary("importing image", &image))?;
                return Ok(());
            }
            writeln!(err, "{}", summary("importing image", &image))?;
            let image = wait_for(&*images, &image.id, waiting, err, progress_bar).await?;
            report(out, &image, json)
        }
        Command::Upload {
            file,
            name,
            os,
            version,
            regions,
            description,
            staging,
            keep_staged,
            no_wait,
            json,
        } => {
            let route = images.capabilities().upload_route;
            check_route(images.cloud(), route, &staging, keep_staged, &regions)?;
            let mut request = UploadRequest::new(name, file)
                .with_regions(regions)
                .with_wait_options(waiting);
            if route == UploadRoute::StagingBucket {
                let staging = match staging {
                    Some(url) => Staging::parse(&url)?,
                    None => Staging::default(),
                };
                request = request
                    .with_staging(staging.or_from_env(vars))
                    .with_env(upload_env(vars))
                    .with_keep_staged(keep_staged);
            }
            if let Some(os) = os {
                request = request.with_os(os);
            }
            if let Some(version) = version {
                request = request.with_version(version);
            }
            if let Some(description) = description {
                request = request.with_description(description);
            }
            if no_wait {
                request = request.with_wait(false);
            }
            let mut display = UploadDisplay::to(Box::new(&mut *err), progress_bar).with_route(route);
            let uploaded = images.upload(request, &mut |p| display.update(p)).await;
            display.finish();
            let image = uploaded?;
            if json {
                return print_image(out, &image);
            }
            // Not waited for, a provider's own server has registered the file,
            // its name and properties being set; a bucket's cloud imports it.
            let what = match (no_wait, route) {
                (false, _) => "uploaded image",
                (true, UploadRoute::ProviderServer) => "registered image",
                (true, _) => "importing image",
            };
            writeln!(out, "{}", summary(what, &image))?;
            Ok(())
        }
        Command::Update {
            id,
            name,
            description,
            json,
        } => {
            let mut changes = ImageUpdate::default();
            if let Some(name) = name {
                changes = changes.with_name(name);
            }
            if let Some(description) = description {
                changes = changes.with_description(description);
            }
            // IONOS takes a while to apply it: its request's status is shown meanwhile.
            let mut display = WaitDisplay::to("", Box::new(&mut *err), progress_bar);
            let updated = images
                .update_with_progress(&id, changes, &mut |p| display.update(p))
                .await;
            display.finish();
            let image = updated?;
            if json {
                return print_image(out, &image);
            }
            writeln!(out, "{}", summary("updated image", &image))?;
            Ok(())
        }
        Command::Delete { id } => {
            let mut display = WaitDisplay::to("", Box::new(&mut *err), progress_bar);
            let deleted = images.delete_with_progress(&id, &mut |p| display.update(p)).await;
            display.finish();
            deleted?;
            writeln!(out, "deleted image {}", safe(&id))?;
            Ok(())
        }
        Command::Wait { id, timeout, json } => {
            let options = waiting.with_timeout(Duration::from_secs(timeout));
            let image = wait_for(&*images, &id, options, err, progress_bar).await?;
            report(out, &image, json)
        }
    }
}

/// Waits for an image, showing how far along it is on `err` (or as a bar).
async fn wait_for(
    images: &dyn Images,
    id: &str,
    options: WaitOptions,
    err: &mut (dyn Write + Send),
    progress_bar: bool,
) -> Result<Image> {
    // Contabo reports MB downloaded of the total; the others no amounts.
    let unit = if images.cloud() == Cloud::Contabo {
        "MB"
    } else {
        ""
    };
    let mut display = WaitDisplay::to(unit, Box::new(err), progress_bar);
    let result = images
        .wait_until_ready(id, options, &mut |p| display.update(p))
        .await;
    display.finish();
    Ok(result?)
}

/// The neutral view as one JSON line.
fn print_image(out: &mut (dyn Write + Send), image: &Image) -> Result<()> {
    writeln!(out, "{}", serde_json::to_string(image)?)?;
    Ok(())
}

/// The image after a wait: JSON, or one line.
fn report(out: &mut (dyn Write + Send), image: &Image, json: bool) -> Result<()> {
    if json {
        return print_image(out, image);
    }
    writeln!(out, "{}", summary("image", image))?;
    Ok(())
}

/// `WHAT ID (NAME): STATUS`, with server text escaped.
fn summary(what: &str, image: &Image) -> String {
    format!(
        "{what} {} ({}): {}",
        safe(&image.id),
        safe(&image.name),
        safe(image.status.as_str())
    )
}

/// `FIELD VALUE` rows of the neutral view.
fn print_details(out: &mut (dyn Write + Send), image: &Image) -> Result<()> {
    let mut rows = vec![
        ("provider", image.provider.to_string()),
        ("id", safe(&image.id)),
        ("name", safe(&image.name)),
        ("description", show(&image.description)),
        ("status", safe(image.status.as_str())),
    ];
    match &image.status {
        ImageStatus::Failed { message } => rows.push(("message", safe(message))),
        ImageStatus::Pending(p) if p.done.is_some() || p.total.is_some() => {
            rows.push(("progress", format!("{} of {}", show(&p.done), show(&p.total))));
        }
        _ => {}
    }
    rows.extend([
        ("kind", kind(image).to_owned()),
        ("os", show(&image.os)),
        ("os_family", image.os_family.to_string()),
        ("size_gb", size(image)),
        ("created_at", created(image)),
        ("regions", safe(&image.regions.join(", "))),
    ]);
    cli::write_fields(out, &rows)
}

/// A time as RFC 3339 (`2026-03-01T12:00:00Z`) or a date (`2026-03-01`,
/// midnight UTC).
fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(|date| date.and_time(chrono::NaiveTime::MIN).and_utc())
        .map_err(|_| {
            format!(
                "`{}` is not a time (2026-03-01T12:00:00Z) or a date (2026-03-01)",
                text.escape_debug()
            )
        })
}

fn kind(image: &Image) -> &'static str {
    if image.custom { "custom" } else { "public" }
}

fn size(image: &Image) -> String {
    image
        .size_gb
        .map_or_else(|| "-".to_owned(), |gb| format!("{gb:.2}"))
}

fn created(image: &Image) -> String {
    image
        .created_at
        .map_or_else(|| "-".to_owned(), |t| t.format("%Y-%m-%d %H:%M:%S").to_string())
}

/// Refuses what `upload` cannot do on `route`: on a provider's own file
/// server (IONOS), no staging bucket and one region, the location.
fn check_route(
    cloud: Cloud,
    route: UploadRoute,
    staging: &Option<String>,
    keep_staged: bool,
    regions: &[String],
) -> Result<()> {
    if route != UploadRoute::ProviderServer {
        return Ok(());
    }
    if staging.is_some() || keep_staged {
        return Err(format!(
            "{cloud} takes the file on its own file server, not through a staging bucket: \
             drop --staging and --keep-staged"
        )
        .into());
    }
    if regions.len() > 1 {
        return Err(format!(
            "{cloud} takes the file in one location: give one --region (e.g. de/fra), not {}",
            regions.len()
        )
        .into());
    }
    Ok(())
}

/// The environment names an upload reads, as the CLI was given them (so that
/// its tests decide them, not the shell they run in).
fn upload_env(
    vars: &dyn Fn(&str) -> Option<String>,
) -> impl Fn(&str) -> Option<String> + Send + Sync + 'static {
    const NAMES: [&str; 7] = [
        "AWS_ENDPOINT",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_REGION",
        "AWS_ALLOW_HTTP",
        "SPACES_ACCESS_KEY_ID",
        "SPACES_SECRET_ACCESS_KEY",
    ];
    let known: std::collections::HashMap<&'static str, String> = NAMES
        .iter()
        .filter_map(|name| Some((*name, vars(name)?)))
        .collect();
    move |name| known.get(name).cloned()
}
