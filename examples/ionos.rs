//! A small CLI for IONOS Cloud's images API.
//!
//! ```text
//! export IONOS_TOKEN=...                  # or IONOS_USERNAME and IONOS_PASSWORD
//! cargo run --example ionos -- list
//! cargo run --example ionos -- update 7df81087-5835-41c6-a10b-3e098593bba4 --name debian-13-golden
//! cargo run --example ionos -- delete 7df81087-5835-41c6-a10b-3e098593bba4 --no-wait
//! ```
//!
//! Environment: `IONOS_TOKEN` (wins when set) or `IONOS_USERNAME` and
//! `IONOS_PASSWORD`; optionally `IONOS_API_URL` (default
//! `https://api.ionos.com/cloudapi/v6`) and `IONOS_CONTRACT_NUMBER`. `update`
//! and `delete` wait until IONOS has carried the change out (`--no-wait`:
//! until it has accepted it). With `--json`, `list` prints one JSON object per
//! line, the others one object, with the API's field names. Errors go to
//! stderr with status, the API's messages and the request id; the exit code
//! is then 1.

#[path = "support/cli.rs"]
mod cli;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use cli::{Result, WaitDisplay, print_fields, print_json, print_stream, show};
use cloud_images::ionos::{Image, Ionos, PendingRequest, types};
use cloud_images::wait::WaitOptions;
use cloud_images::{ClientBuilder, Execute};

#[derive(Parser)]
#[command(name = "ionos", about = "Manage IONOS Cloud images", version)]
struct Cli {
    #[command(flatten)]
    global: cli::Global,
    /// The contract to act for (default: $IONOS_CONTRACT_NUMBER), for users with several.
    #[arg(long, global = true)]
    contract_number: Option<u32>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List public images and the account's own, with their properties.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show one image.
    Get {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Rename an image, or change its description or licence type.
    Update {
        id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        description: Option<String>,
        /// e.g. LINUX, WINDOWS2022, OTHER (the API checks it).
        #[arg(long)]
        licence_type: Option<String>,
        /// Return once IONOS has accepted the change, not once it is done.
        #[arg(long)]
        no_wait: bool,
        #[arg(long)]
        json: bool,
    },
    /// Delete one of the account's images.
    Delete {
        id: String,
        /// Return once IONOS has accepted the deletion, not once it is done.
        #[arg(long)]
        no_wait: bool,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    cli::init_logging(cli.global.verbose);
    cli::exit_code(run(cli).await)
}

async fn run(cli: Cli) -> Result<()> {
    let mut builder = cli.global.apply(ClientBuilder::<Ionos>::from_env()?);
    if let Some(number) = cli.contract_number {
        builder = builder.contract_number(number);
    }
    let client = builder.build()?;

    match cli.command {
        Command::List { json } => {
            let images = client.list_images().await?.into_inner();
            print_stream(
                futures::stream::iter(images.into_iter().map(Ok)),
                json,
                &[
                    "ID", "NAME", "LOCATION", "LICENCE", "TYPE", "SIZE GB", "PUBLIC", "STATE",
                ],
                |i| {
                    let p = i.properties.clone().unwrap_or_default();
                    vec![
                        i.id.clone(),
                        show(&p.name),
                        show(&p.location),
                        show(&p.licence_type),
                        show(&p.image_type),
                        show(&p.size),
                        show(&p.public),
                        state(i),
                    ]
                },
            )
            .await
        }
        Command::Get { id, json } => {
            let image = client
                .images_find_by_id()
                .image_id(id)
                .execute()
                .await?
                .into_inner();
            report(&image, json)
        }
        Command::Update {
            id,
            name,
            description,
            licence_type,
            no_wait,
            json,
        } => {
            if name.is_none() && description.is_none() && licence_type.is_none() {
                return Err("update needs --name, --description or --licence-type".into());
            }
            let change = types::ImageProperties {
                name,
                description,
                licence_type,
                ..Default::default()
            };
            let accepted = client.images_patch().image_id(&id).body(change).execute().await?;
            let request = PendingRequest::from_response(&accepted)?;
            if no_wait {
                if json {
                    return print_json(&*accepted);
                }
                println!("update of image {id} accepted as {request}");
                return Ok(());
            }
            eprintln!("update of image {id} accepted as {request}");
            wait(&client, &request).await?;
            let image = client
                .images_find_by_id()
                .image_id(&id)
                .execute()
                .await?
                .into_inner();
            report(&image, json)
        }
        Command::Delete { id, no_wait } => {
            let accepted = client.images_delete().image_id(&id).execute().await?;
            let request = PendingRequest::from_response(&accepted)?;
            if no_wait {
                println!("deletion of image {id} accepted as {request}");
                return Ok(());
            }
            eprintln!("deletion of image {id} accepted as {request}");
            wait(&client, &request).await?;
            println!("deleted image {id}");
            Ok(())
        }
    }
}

/// Waits for a request, showing its status (QUEUED, RUNNING) meanwhile.
async fn wait(client: &cloud_images::ionos::Client, request: &PendingRequest) -> Result<()> {
    let mut display = WaitDisplay::new("");
    let result = client
        .wait_for_request(request, WaitOptions::default(), |p| display.update(p))
        .await;
    display.finish();
    result?;
    Ok(())
}

fn report(image: &Image, json: bool) -> Result<()> {
    if json {
        return print_json(image);
    }
    let p = image.properties.clone().unwrap_or_default();
    let m = image.metadata.clone().unwrap_or_default();
    print_fields(&[
        ("id", image.id.clone()),
        ("name", show(&p.name)),
        ("description", show(&p.description)),
        ("location", show(&p.location)),
        ("licenceType", show(&p.licence_type)),
        ("imageType", show(&p.image_type)),
        ("size", show(&p.size)),
        ("public", show(&p.public)),
        ("cloudInit", show(&p.cloud_init)),
        (
            "imageAliases",
            p.image_aliases.as_deref().unwrap_or_default().join(", "),
        ),
        ("state", show(&m.state)),
        ("createdDate", show(&m.created_date)),
        ("lastModifiedDate", show(&m.last_modified_date)),
    ])?;
    Ok(())
}

fn state(image: &Image) -> String {
    show(&image.metadata.as_ref().and_then(|m| m.state.clone()))
}
