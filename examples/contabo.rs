//! A small CLI for Contabo's images API.
//!
//! ```text
//! export CNTB_ACCESS_TOKEN=...            # a bearer token
//! cargo run --example contabo -- list --custom --order-by name:asc
//! cargo run --example contabo -- create --name debian-13 --url https://example.com/d.qcow2 --os-type Linux --version 13
//! ```
//!
//! Environment: `CNTB_API` (default `https://api.contabo.com`), and either
//! `CNTB_ACCESS_TOKEN` (a bearer token) or `CNTB_OAUTH2_CLIENT_ID`,
//! `CNTB_OAUTH2_CLIENT_SECRET`, `CNTB_OAUTH2_USER`, `CNTB_OAUTH2_PASS` (and
//! optionally `CNTB_OAUTH2_TOKEN_URL`); `CNTB_TRACE_ID` (optional). With `--json`, `list` and
//! `audits` print one JSON object per line, the others one object, with the
//! API's field names. Errors go to stderr with status, message and request id.
//! Text from the server is shown with control characters escaped
//! (`cloud_images::text`), so it cannot forge lines or drive the terminal.

#[path = "support/cli.rs"]
mod cli;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use cli::{Result, WaitDisplay, new_table, print_fields, print_json, print_stream, safe, show};
use cloud_images::contabo::{Client, Contabo, ImageDetails, types};
use cloud_images::wait::WaitOptions;
use cloud_images::{ClientBuilder, Execute, Paginate, PaginationOptions};

#[derive(Parser)]
#[command(name = "contabo", about = "Manage Contabo VM images", version)]
struct Cli {
    #[command(flatten)]
    global: cli::Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List standard and custom images.
    List {
        /// Only images with this name.
        #[arg(long)]
        name: Option<String>,
        /// Only standard images.
        #[arg(long, conflicts_with = "custom")]
        standard: bool,
        /// Only custom images.
        #[arg(long)]
        custom: bool,
        /// Full-text search.
        #[arg(long)]
        search: Option<String>,
        /// FIELD:asc|desc; repeat for more keys.
        #[arg(long = "order-by", value_parser = parse_order)]
        order_by: Vec<String>,
        /// Items per page request.
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
        page_size: u64,
        /// Stop after this many images.
        #[arg(long)]
        limit: Option<u64>,
        #[arg(long)]
        json: bool,
    },
    /// Show one image.
    Get {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Import a custom image from a URL (.iso or .qcow2).
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        url: String,
        #[arg(long, value_enum)]
        os_type: OsType,
        #[arg(long)]
        version: String,
        #[arg(long)]
        description: Option<String>,
        /// Wait until the image is downloaded (or failed).
        #[arg(long)]
        wait: bool,
        #[arg(long)]
        json: bool,
    },
    /// Wait until a custom image is downloaded (or failed).
    Wait {
        id: String,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 1800)]
        timeout: u64,
        #[arg(long)]
        json: bool,
    },
    /// Rename an image or change its description.
    Update {
        id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Delete a custom image.
    Delete { id: String },
    /// Storage used by custom images.
    Stats {
        #[arg(long)]
        json: bool,
    },
    /// The images audit log.
    Audits {
        /// Only entries of this image.
        #[arg(long)]
        image_id: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum OsType {
    #[value(name = "Linux")]
    Linux,
    #[value(name = "Windows")]
    Windows,
}

fn parse_order(s: &str) -> Result<String, String> {
    match s.split_once(':') {
        Some((field, dir))
            if !field.is_empty() && ["asc", "desc"].contains(&dir.to_ascii_lowercase().as_str()) =>
        {
            Ok(s.to_owned())
        }
        _ => Err(format!("`{s}` is not FIELD:asc or FIELD:desc")),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    cli::init_logging(cli.global.verbose);
    cli::exit_code(run(cli).await)
}

async fn run(cli: Cli) -> Result<()> {
    let client = cli.global.apply(ClientBuilder::<Contabo>::from_env()?).build()?;

    match cli.command {
        Command::List {
            name,
            standard,
            custom,
            search,
            order_by,
            page_size,
            limit,
            json,
        } => {
            let mut request = client.retrieve_image_list();
            if let Some(name) = name {
                request = request.name(name);
            }
            if standard || custom {
                request = request.standard_image(standard);
            }
            if let Some(search) = search {
                request = request.search(search);
            }
            if !order_by.is_empty() {
                request = request.order_by(order_by);
            }
            let mut options = PaginationOptions::default().with_page_size(page_size);
            if let Some(limit) = limit {
                options = options.with_limit(limit);
            }
            let images = request.stream_with(options);
            print_stream(
                images,
                json,
                &[
                    "IMAGE ID", "NAME", "KIND", "OS", "VERSION", "FORMAT", "STATUS", "SIZE MB",
                ],
                |i| {
                    vec![
                        safe(&i.image_id),
                        show(&i.name),
                        kind(i.standard_image),
                        show(&i.os_type),
                        show(&i.version),
                        show(&i.format),
                        show(&i.status),
                        show(&i.size_mb),
                    ]
                },
            )
            .await
        }
        Command::Get { id, json } => {
            let found = client.retrieve_image().image_id(id).execute().await?.into_inner();
            let image = first(found.data, "image")?;
            if json {
                return print_json(&image);
            }
            print_fields(&[
                ("imageId", image.image_id.clone()),
                ("name", show(&image.name)),
                ("description", show(&image.description)),
                ("kind", kind(image.standard_image)),
                ("osType", show(&image.os_type)),
                ("version", show(&image.version)),
                ("format", show(&image.format)),
                ("status", show(&image.status)),
                ("errorMessage", show(&image.error_message)),
                ("sizeMb", show(&image.size_mb)),
                ("uploadedSizeMb", show(&image.uploaded_size_mb)),
                ("url", show(&image.url)),
                ("creationDate", show(&image.creation_date)),
                ("lastModifiedDate", show(&image.last_modified_date)),
            ])?;
            Ok(())
        }
        Command::Create {
            name,
            url,
            os_type,
            version,
            description,
            wait,
            json,
        } => {
            let os_type = match os_type {
                OsType::Linux => types::CreateCustomImageRequestOsType::Linux,
                OsType::Windows => types::CreateCustomImageRequestOsType::Windows,
            };
            let created = client
                .create_custom_image()
                .body_map(|b| {
                    b.name(name)
                        .url(url)
                        .os_type(os_type)
                        .version(version)
                        .description(description)
                })
                .execute()
                .await?
                .into_inner();
            let data = first(created.data, "image")?;
            if !wait {
                if json {
                    return print_json(&data);
                }
                println!("created image {}", safe(&data.image_id));
                return Ok(());
            }
            eprintln!("created image {}", safe(&data.image_id));
            let image = wait_for(&client, &data.image_id, WaitOptions::default()).await?;
            report_ready(&image, json)
        }
        Command::Wait { id, timeout, json } => {
            let options = WaitOptions::default().with_timeout(std::time::Duration::from_secs(timeout));
            let image = wait_for(&client, &id, options).await?;
            report_ready(&image, json)
        }
        Command::Update {
            id,
            name,
            description,
            json,
        } => {
            if name.is_none() && description.is_none() {
                return Err("update needs --name or --description".into());
            }
            let updated = client
                .update_image()
                .image_id(id)
                .body_map(|b| b.name(name).description(description))
                .execute()
                .await?
                .into_inner();
            let data = first(updated.data, "image")?;
            if json {
                return print_json(&data);
            }
            println!("updated image {}", safe(&data.image_id));
            Ok(())
        }
        Command::Delete { id } => {
            client.delete_image().image_id(&id).execute().await?;
            println!("deleted image {}", safe(&id));
            Ok(())
        }
        Command::Stats { json } => {
            let stats = client
                .retrieve_custom_images_stats()
                .execute()
                .await?
                .into_inner();
            let data = first(stats.data, "statistics")?;
            if json {
                return print_json(&data);
            }
            let mut table = new_table(&["IMAGES", "USED MB", "FREE MB", "TOTAL MB"]);
            table.add_row(vec![
                show(&data.current_images_count),
                show(&data.used_size_mb),
                show(&data.free_size_mb),
                show(&data.total_size_mb),
            ]);
            println!("{table}");
            Ok(())
        }
        Command::Audits { image_id, json } => {
            let mut request = client.retrieve_image_audits_list();
            if let Some(id) = image_id {
                request = request.image_id(id);
            }
            print_stream(
                request.stream(),
                json,
                &["ID", "TIMESTAMP", "ACTION", "IMAGE ID", "USER", "REQUEST ID"],
                |a| {
                    vec![
                        a.id.to_string(),
                        show(&a.timestamp),
                        show(&a.action),
                        show(&a.image_id),
                        show(&a.username),
                        show(&a.request_id),
                    ]
                },
            )
            .await
        }
    }
}

/// Waits for an image with a progress bar on a terminal, plain progress lines
/// otherwise.
async fn wait_for(client: &Client, id: &str, options: WaitOptions) -> Result<ImageDetails> {
    let mut display = WaitDisplay::new("MB");
    let result = client.wait_for_image(id, options, |p| display.update(p)).await;
    display.finish();
    Ok(result?)
}

fn report_ready(image: &ImageDetails, json: bool) -> Result<()> {
    if json {
        return print_json(image);
    }
    println!(
        "image {} is {} ({} MB)",
        safe(&image.image_id),
        show(&image.status),
        show(&image.size_mb)
    );
    Ok(())
}

/// The first element of an answer's `data` (Contabo wraps every result in a list).
fn first<T>(data: Vec<T>, what: &str) -> Result<T> {
    data.into_iter()
        .next()
        .ok_or_else(|| format!("the API answered with no {what}").into())
}

fn kind(standard: Option<bool>) -> String {
    match standard {
        Some(true) => "standard",
        Some(false) => "custom",
        None => "-",
    }
    .to_owned()
}
