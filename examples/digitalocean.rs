//! A small CLI for DigitalOcean's images API.
//!
//! ```text
//! export DIGITALOCEAN_TOKEN=...           # a personal access token
//! cargo run --example digitalocean -- list --private
//! cargo run --example digitalocean -- create --name debian-13 --url https://example.com/d.qcow2 --region nyc3 --wait
//! ```
//!
//! Environment: `DIGITALOCEAN_TOKEN` (or `DIGITALOCEAN_ACCESS_TOKEN`) and
//! optionally `DIGITALOCEAN_API_URL` (default `https://api.digitalocean.com`).
//! With `--json`, `list` prints one JSON object per line, the others one
//! object, with the API's field names. Errors go to stderr with status,
//! message and request id; the exit code is then 1.

#[path = "support/cli.rs"]
mod cli;

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use cli::{Result, WaitDisplay, print_fields, print_json, print_stream, show};
use cloud_images::digitalocean::{Client, DigitalOcean, Image, types};
use cloud_images::wait::WaitOptions;
use cloud_images::{ClientBuilder, Execute, Paginate, PaginationOptions};

#[derive(Parser)]
#[command(name = "digitalocean", about = "Manage DigitalOcean images", version)]
struct Cli {
    #[command(flatten)]
    global: cli::Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List public and private images.
    List {
        /// Only the account's own images (snapshots, backups, custom images).
        #[arg(long)]
        private: bool,
        /// Only distribution or only application images.
        #[arg(long = "type", value_enum)]
        type_: Option<ImageType>,
        /// Only images with this tag.
        #[arg(long)]
        tag: Option<String>,
        /// Items per page request (1 to 200).
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=200))]
        per_page: u64,
        /// Stop after this many images.
        #[arg(long)]
        limit: Option<u64>,
        #[arg(long)]
        json: bool,
    },
    /// Show one image, by id or (public images) slug.
    Get {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Import a custom image from a URL.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        url: String,
        /// The region it is first available in, e.g. nyc3.
        #[arg(long)]
        region: String,
        /// e.g. Ubuntu, Debian, Fedora, Unknown.
        #[arg(long)]
        distribution: Option<String>,
        #[arg(long)]
        description: Option<String>,
        /// A tag; repeat for more.
        #[arg(long = "tag")]
        tags: Vec<String>,
        /// Wait until the image is available (or failed).
        #[arg(long)]
        wait: bool,
        #[arg(long)]
        json: bool,
    },
    /// Rename an image, or change its description or distribution.
    Update {
        id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        distribution: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Delete an image of the account.
    Delete { id: String },
    /// Wait until an imported image is available (or failed).
    Wait {
        id: String,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 1800)]
        timeout: u64,
        #[arg(long)]
        json: bool,
    },
    /// Transfer an image to another region.
    Transfer {
        id: String,
        /// The region to transfer it to, e.g. fra1.
        #[arg(long)]
        region: String,
        /// Wait until the transfer has completed.
        #[arg(long)]
        wait: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ImageType {
    Distribution,
    Application,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    cli::init_logging(cli.global.verbose);
    cli::exit_code(run(cli).await)
}

async fn run(cli: Cli) -> Result<()> {
    let client = cli
        .global
        .apply(ClientBuilder::<DigitalOcean>::from_env()?)
        .build()?;

    match cli.command {
        Command::List {
            private,
            type_,
            tag,
            per_page,
            limit,
            json,
        } => {
            let mut request = client.images_list();
            if private {
                request = request.private(true);
            }
            if let Some(type_) = type_ {
                request = request.type_(match type_ {
                    ImageType::Distribution => types::ImagesListType::Distribution,
                    ImageType::Application => types::ImagesListType::Application,
                });
            }
            if let Some(tag) = tag {
                request = request.tag_name(tag);
            }
            let mut options = PaginationOptions::default().with_page_size(per_page);
            if let Some(limit) = limit {
                options = options.with_limit(limit);
            }
            print_stream(
                request.stream_with(options),
                json,
                &[
                    "ID",
                    "SLUG",
                    "NAME",
                    "TYPE",
                    "DISTRIBUTION",
                    "STATUS",
                    "SIZE GB",
                    "REGIONS",
                ],
                |i| {
                    vec![
                        i.id.to_string(),
                        show(&i.slug),
                        show(&i.name),
                        show(&i.type_),
                        show(&i.distribution),
                        show(&i.status),
                        show(&i.size_gigabytes),
                        regions(i),
                    ]
                },
            )
            .await
        }
        Command::Get { id, json } => {
            let image = client
                .images_get()
                .image_id(id)
                .execute()
                .await?
                .into_inner()
                .image;
            if json {
                return print_json(&image);
            }
            print_fields(&[
                ("id", image.id.to_string()),
                ("slug", show(&image.slug)),
                ("name", show(&image.name)),
                ("description", show(&image.description)),
                ("type", show(&image.type_)),
                ("distribution", show(&image.distribution)),
                ("public", show(&image.public)),
                ("status", show(&image.status)),
                ("error_message", show(&image.error_message)),
                ("size_gigabytes", show(&image.size_gigabytes)),
                ("min_disk_size", show(&image.min_disk_size)),
                ("regions", regions(&image)),
                ("tags", image.tags.as_deref().unwrap_or_default().join(", ")),
                ("created_at", show(&image.created_at)),
            ])?;
            Ok(())
        }
        Command::Create {
            name,
            url,
            region,
            distribution,
            description,
            tags,
            wait,
            json,
        } => {
            let body = types::ImageNewCustom {
                name,
                url,
                region,
                distribution,
                description,
                tags: (!tags.is_empty()).then_some(tags),
            };
            let created = client.images_create_custom().body(body).execute().await?;
            let image = created.into_inner().image;
            if !wait {
                if json {
                    return print_json(&image);
                }
                println!("created image {} ({})", image.id, show(&image.status));
                return Ok(());
            }
            eprintln!("created image {}", image.id);
            let image = wait_for(&client, &image.id.to_string(), WaitOptions::default()).await?;
            report_ready(&image, json)
        }
        Command::Update {
            id,
            name,
            description,
            distribution,
            json,
        } => {
            if name.is_none() && description.is_none() && distribution.is_none() {
                return Err("update needs --name, --description or --distribution".into());
            }
            let body = types::ImageUpdate {
                name,
                description,
                distribution,
            };
            let updated = client.images_update().image_id(id).body(body).execute().await?;
            let image = updated.into_inner().image;
            if json {
                return print_json(&image);
            }
            println!("updated image {} ({})", image.id, show(&image.name));
            Ok(())
        }
        Command::Delete { id } => {
            client.images_delete().image_id(&id).execute().await?;
            println!("deleted image {id}");
            Ok(())
        }
        Command::Wait { id, timeout, json } => {
            let options = WaitOptions::default().with_timeout(Duration::from_secs(timeout));
            let image = wait_for(&client, &id, options).await?;
            report_ready(&image, json)
        }
        Command::Transfer { id, region, wait } => {
            let body = types::ImageActionsPostBody::Transfer(types::ImageActionTransfer {
                type_: "transfer".into(),
                region: region.clone(),
            });
            let posted = client
                .image_actions_post()
                .image_id(&id)
                .body(body)
                .execute()
                .await?;
            let action = posted.into_inner().action;
            if !wait {
                println!(
                    "transfer of image {id} to {region} started (action {})",
                    action.id
                );
                return Ok(());
            }
            eprintln!(
                "transfer of image {id} to {region} started (action {})",
                action.id
            );
            let done = client
                .wait_for_action(&id, action.id, WaitOptions::default())
                .await?;
            println!("transfer of image {id} to {region} {}", show(&done.status));
            Ok(())
        }
    }
}

async fn wait_for(client: &Client, id: &str, options: WaitOptions) -> Result<Image> {
    let mut display = WaitDisplay::new("");
    let result = client.wait_for_image(id, options, |p| display.update(p)).await;
    display.finish();
    Ok(result?)
}

fn report_ready(image: &Image, json: bool) -> Result<()> {
    if json {
        return print_json(image);
    }
    println!(
        "image {} is {} ({} GB, in {})",
        image.id,
        show(&image.status),
        show(&image.size_gigabytes),
        regions(image)
    );
    Ok(())
}

fn regions(image: &Image) -> String {
    image.regions.as_deref().unwrap_or_default().join(",")
}
