//! A small CLI for IONOS Cloud's images API.
//!
//! ```text
//! export IONOS_TOKEN=...                  # or IONOS_USERNAME and IONOS_PASSWORD
//! cargo run --example ionos -- list
//! cargo run --example ionos -- update 7df81087-5835-41c6-a10b-3e098593bba4 --name debian-13-golden
//! cargo run --example ionos -- delete 7df81087-5835-41c6-a10b-3e098593bba4 --no-wait
//! cargo run --example ionos -- upload ./debian-13.qcow2 --location de/fra --name debian-13 --licence-type LINUX --cloud-init V1
//! ```
//!
//! Environment: `IONOS_TOKEN` (wins when set) or `IONOS_USERNAME` and
//! `IONOS_PASSWORD`; optionally `IONOS_API_URL` (default
//! `https://api.ionos.com/cloudapi/v6`) and `IONOS_CONTRACT_NUMBER`. `update`
//! and `delete` wait until IONOS has carried the change out (`--no-wait`:
//! until it has accepted it). `upload` sends the file over FTPS to the FTP
//! server of `--location` (`ftp-fra.ionos.com` for `de/fra`), which takes
//! `IONOS_USERNAME` and `IONOS_PASSWORD`, not a token (`IONOS_FTP_URL` and
//! `IONOS_FTP_CA_FILE` for another server and its root certificate); it
//! waits until IONOS has registered the file as an image, then names it and
//! sets the properties asked (`--no-wait`: it returns once the file is sent,
//! and IONOS registers it later under the file's name). It shows the bytes
//! sent and each phase. With `--json`, `list` prints one JSON object per
//! line, the others one object, with the API's field names. Errors go to
//! stderr with status, the API's messages and the request id; the exit code
//! is then 1.

#[path = "support/cli.rs"]
mod cli;

use std::io::{self, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use cli::{Result, UploadDisplay, WaitDisplay, print_fields, print_json, print_stream, safe, show};
use cloud_images::images::UploadRoute;
use cloud_images::ionos::{Image, ImageUpload, Ionos, LICENCE_TYPES, PendingRequest, UploadUntil, types};
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
    /// Milliseconds between polls while waiting, instead of IONOS's pace.
    #[arg(long, global = true, hide = true, value_name = "MS")]
    poll_ms: Option<u64>,
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
    /// Upload a local image file over FTPS to the location's FTP server
    /// (IONOS_USERNAME and IONOS_PASSWORD: a token cannot log in), wait
    /// until IONOS registers it as an image, then name it and set the
    /// properties given.
    Upload {
        /// The image file: qcow2, raw, vmdk, vhdx or vdi (a disk), or iso (a CD-ROM).
        file: PathBuf,
        /// The location whose FTP server takes the file, e.g. de/fra.
        #[arg(long)]
        location: String,
        /// The image's name.
        #[arg(long)]
        name: String,
        /// The OS the image holds (default: IONOS's UNKNOWN).
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(LICENCE_TYPES.iter().copied()))]
        licence_type: Option<String>,
        /// Whether the image runs cloud-init's user data.
        #[arg(long, value_parser = ["V1", "NONE"])]
        cloud_init: Option<String>,
        /// A description.
        #[arg(long)]
        description: Option<String>,
        /// Expose the serial console of servers made from the image.
        #[arg(long)]
        expose_serial: bool,
        /// Servers made from the image boot with a legacy BIOS, not UEFI.
        #[arg(long)]
        require_legacy_bios: bool,
        /// What servers made from the image can add while running,
        /// comma-separated.
        #[arg(long, value_name = "DEVICES", value_delimiter = ',')]
        hot_plug: Vec<Device>,
        /// What servers made from the image can remove while running,
        /// comma-separated.
        #[arg(long, value_name = "DEVICES", value_delimiter = ',')]
        hot_unplug: Vec<Device>,
        /// Return once the file is on the FTP server: IONOS registers it
        /// later under the file's name (no properties can be given then).
        #[arg(long)]
        no_wait: bool,
        /// Print the image as JSON, with the API's field names (with
        /// --no-wait: the file's path on the server and its bytes).
        #[arg(long)]
        json: bool,
    },
}

/// What a server can add or remove while it runs (`--hot-plug`, `--hot-unplug`).
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Device {
    Cpu,
    Ram,
    Nic,
    DiscVirtio,
    DiscScsi,
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
    let poll = cli.poll_ms.map(Duration::from_millis);
    let mut waiting = WaitOptions::default();
    if let Some(interval) = poll {
        waiting = waiting.with_interval(interval).with_max_interval(interval);
    }

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
            wait(&client, &request, waiting).await?;
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
            wait(&client, &request, waiting).await?;
            println!("deleted image {id}");
            Ok(())
        }
        Command::Upload {
            file,
            location,
            name,
            licence_type,
            cloud_init,
            description,
            expose_serial,
            require_legacy_bios,
            hot_plug,
            hot_unplug,
            no_wait,
            json,
        } => {
            let properties = types::ImageProperties {
                licence_type,
                cloud_init,
                description,
                expose_serial: expose_serial.then_some(true),
                require_legacy_bios: require_legacy_bios.then_some(true),
                ..hot_plugging(&hot_plug, &hot_unplug)
            };
            let mut upload = ImageUpload::new(name, file, location).with_wait_options(waiting);
            if let Some(interval) = poll {
                upload = upload.with_register_interval(interval);
            }
            if no_wait {
                if properties != types::ImageProperties::default() {
                    return Err(
                        "--no-wait returns before IONOS registers the file, so no property \
                                can be set: drop --no-wait, or the properties and set them later"
                            .into(),
                    );
                }
                upload = upload.with_until(UploadUntil::Sent);
            } else {
                upload = upload.with_properties(properties);
            }
            let mut display = UploadDisplay::to(Box::new(io::stderr()), io::stderr().is_terminal())
                .with_route(UploadRoute::ProviderServer);
            let uploaded = client.upload_image(upload, |p| display.update(p)).await;
            display.finish();
            let uploaded = uploaded?;
            match uploaded.image() {
                Some(image) => report(image, json),
                None if json => print_json(&serde_json::json!({
                    "remote": uploaded.remote(),
                    "bytes": uploaded.bytes(),
                })),
                None => {
                    let file = uploaded.remote().rsplit('/').next().unwrap_or_default();
                    println!(
                        "sent {} ({} bytes); IONOS registers it later as image {}",
                        safe(uploaded.remote()),
                        uploaded.bytes(),
                        safe(file)
                    );
                    Ok(())
                }
            }
        }
    }
}

/// The hot-plug properties: `true` for each device named, the rest unset.
fn hot_plugging(plug: &[Device], unplug: &[Device]) -> types::ImageProperties {
    let set = |list: &[Device], device| list.contains(&device).then_some(true);
    types::ImageProperties {
        cpu_hot_plug: set(plug, Device::Cpu),
        ram_hot_plug: set(plug, Device::Ram),
        nic_hot_plug: set(plug, Device::Nic),
        disc_virtio_hot_plug: set(plug, Device::DiscVirtio),
        disc_scsi_hot_plug: set(plug, Device::DiscScsi),
        cpu_hot_unplug: set(unplug, Device::Cpu),
        ram_hot_unplug: set(unplug, Device::Ram),
        nic_hot_unplug: set(unplug, Device::Nic),
        disc_virtio_hot_unplug: set(unplug, Device::DiscVirtio),
        disc_scsi_hot_unplug: set(unplug, Device::DiscScsi),
        ..Default::default()
    }
}

/// The devices whose flag is `true`, as `--hot-plug` names them.
fn devices(flags: [(Option<bool>, &str); 5]) -> String {
    let named: Vec<&str> = flags
        .iter()
        .filter(|(flag, _)| *flag == Some(true))
        .map(|(_, name)| *name)
        .collect();
    if named.is_empty() {
        "-".to_owned()
    } else {
        named.join(",")
    }
}

/// Waits for a request, showing its status (QUEUED, RUNNING) meanwhile.
async fn wait(
    client: &cloud_images::ionos::Client,
    request: &PendingRequest,
    options: WaitOptions,
) -> Result<()> {
    let mut display = WaitDisplay::new("");
    let result = client
        .wait_for_request(request, options, |p| display.update(p))
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
        ("exposeSerial", show(&p.expose_serial)),
        ("requireLegacyBios", show(&p.require_legacy_bios)),
        (
            "hotPlug",
            devices([
                (p.cpu_hot_plug, "cpu"),
                (p.ram_hot_plug, "ram"),
                (p.nic_hot_plug, "nic"),
                (p.disc_virtio_hot_plug, "disc-virtio"),
                (p.disc_scsi_hot_plug, "disc-scsi"),
            ]),
        ),
        (
            "hotUnplug",
            devices([
                (p.cpu_hot_unplug, "cpu"),
                (p.ram_hot_unplug, "ram"),
                (p.nic_hot_unplug, "nic"),
                (p.disc_virtio_hot_unplug, "disc-virtio"),
                (p.disc_scsi_hot_unplug, "disc-scsi"),
            ]),
        ),
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
