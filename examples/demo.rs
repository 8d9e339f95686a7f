//! A tour of the Contabo, DigitalOcean and IONOS Cloud clients against
//! in-process fakes of their APIs: no network, no account. First the same
//! code over all three (`cloud_images::images`), then each provider's own
//! client.
//!
//! ```text
//! cargo run --example demo
//! ```

use cloud_images::testing::contabo as fake;

use cloud_images::contabo::{Client, Image, types};
use cloud_images::wait::WaitOptions;
use cloud_images::{Execute, Paginate, PaginationOptions};
use comfy_table::{Table, presets::UTF8_BORDERS_ONLY};
use futures::TryStreamExt;
use std::time::Duration;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

#[tokio::main]
async fn main() -> Result<()> {
    neutral_tour().await?;
    println!();
    let server = fake::FakeContabo::start().await;
    let client = Client::builder()
        .base_url(server.base_url())
        .bearer_token("demo-token")
        .trace_id("demo-tour")
        .build()?;
    println!("Fake Contabo API at {}\n", server.base_url());

    heading("Every image, streamed over all pages (10 a page, pages prefetched concurrently)");
    let all: Vec<Image> = client
        .retrieve_image_list()
        .stream_with(PaginationOptions::default().with_page_size(10))
        .try_collect()
        .await?;
    print_images(&all);
    let requests = server.api_requests();
    let ids: std::collections::HashSet<_> =
        requests.iter().filter_map(|r| r.header("x-request-id")).collect();
    println!(
        "{} images in {} requests, each with its own x-request-id ({} distinct) and x-trace-id `{}`\n",
        all.len(),
        requests.len(),
        ids.len(),
        requests[0].header("x-trace-id").unwrap_or("-")
    );

    heading("Custom images only, newest first");
    let custom: Vec<Image> = client
        .retrieve_image_list()
        .standard_image(false)
        .order_by(vec!["creationDate:desc".to_owned()])
        .stream()
        .try_collect()
        .await?;
    print_images(&custom);

    heading("Search `ubuntu`, first 2 only");
    let ubuntu: Vec<Image> = client
        .retrieve_image_list()
        .search("ubuntu")
        .stream_with(PaginationOptions::default().with_limit(2))
        .try_collect()
        .await?;
    print_images(&ubuntu);

    heading("One image");
    let found = client
        .retrieve_image()
        .image_id(&custom[0].image_id)
        .execute()
        .await?;
    let image = &found.data[0];
    let mut table = new_table(&["field", "value"]);
    for (k, v) in [
        ("imageId", image.image_id.clone()),
        ("name", show(&image.name)),
        ("description", show(&image.description)),
        ("url", show(&image.url)),
        ("format", show(&image.format)),
        ("status", show(&image.status)),
        ("sizeMb", show(&image.size_mb)),
        ("creationDate", show(&image.creation_date)),
    ] {
        table.add_row(vec![k.to_owned(), v]);
    }
    println!("{table}\nrequest id: {}\n", found.request_id().unwrap_or("-"));

    heading("Import a custom image from a URL and wait until it is downloaded");
    let created = client
        .create_custom_image()
        .body_map(|b| {
            b.name("debian-13-hardened")
                .description(Some("Debian 13 with CIS hardening".to_owned()))
                .url("https://images.example.com/debian-13-hardened.qcow2")
                .os_type(types::CreateCustomImageRequestOsType::Linux)
                .version("13.2")
        })
        .execute()
        .await?;
    let id = created.data[0].image_id.clone();
    println!(
        "created {id} (HTTP {}, request id {})",
        created.status(),
        created.request_id().unwrap_or("-")
    );
    let options = WaitOptions::default().with_interval(Duration::from_millis(200));
    let ready = client
        .wait_for_image(&id, options, |p| {
            println!(
                "  {:<11} {:>6} of {} MB",
                show(&p.status),
                show(&p.done),
                show(&p.total)
            )
        })
        .await?;
    println!(
        "  {:<11} {:>6} of {} MB",
        show(&ready.status),
        show(&ready.uploaded_size_mb),
        show(&ready.size_mb)
    );
    println!();

    heading("Rename it");
    client
        .update_image()
        .image_id(&id)
        .body_map(|b| {
            b.name(Some("debian-13-cis".to_owned()))
                .description(Some("Debian 13, CIS level 1".to_owned()))
        })
        .execute()
        .await?;
    let renamed = client.retrieve_image().image_id(&id).execute().await?;
    println!("now named {}\n", show(&renamed.data[0].name));

    heading("Custom image storage");
    let stats = client.retrieve_custom_images_stats().execute().await?;
    let mut table = new_table(&["images", "used MB", "free MB", "total MB"]);
    for s in &stats.data {
        table.add_row(vec![
            show(&s.current_images_count),
            show(&s.used_size_mb),
            show(&s.free_size_mb),
            show(&s.total_size_mb),
        ]);
    }
    println!("{table}\n");

    heading("Audit log of the new image");
    let audits: Vec<_> = client
        .retrieve_image_audits_list()
        .image_id(&id)
        .stream()
        .try_collect()
        .await?;
    let mut table = new_table(&["id", "action", "username", "request id", "changes"]);
    for a in &audits {
        table.add_row(vec![
            a.id.to_string(),
            show(&a.action),
            show(&a.username),
            show(&a.request_id),
            serde_json::Value::Object(a.changes.clone()).to_string(),
        ]);
    }
    println!("{table}\n");

    heading("Delete it; getting it again fails with the request id to quote");
    let deleted = client.delete_image().image_id(&id).execute().await?;
    println!("deleted (HTTP {})", deleted.status());
    let err = client.retrieve_image().image_id(&id).execute().await.unwrap_err();
    println!("error: {err}\n");

    heading("A URL that is not .iso or .qcow2 is refused (the typed 415)");
    let err = client
        .create_custom_image()
        .body_map(|b| {
            b.name("bad")
                .url("https://images.example.com/disk.zip")
                .os_type(types::CreateCustomImageRequestOsType::Linux)
                .version("1")
        })
        .execute()
        .await
        .unwrap_err();
    println!("error: {err}\n");

    heading("A flaky server: the next two requests get 503; the call retries with fresh request ids");
    server.fail_next("/stats", 503, 2, None);
    server.clear_requests();
    let stats = client.retrieve_custom_images_stats().execute().await?;
    let sent: Vec<String> = server
        .api_requests()
        .iter()
        .filter_map(|r| r.header("x-request-id").map(str::to_owned))
        .collect();
    println!("succeeded after {} attempts; request ids sent:", stats.attempts());
    for id in sent {
        println!("  {id}");
    }
    println!();
    digitalocean_tour().await?;
    println!();
    ionos_tour().await
}

/// One piece of code over all three clouds: `&dyn Images`.
async fn neutral_tour() -> Result<()> {
    use cloud_images::images::{ImageUpdate, Images, ImportRequest, ListFilter};
    use std::sync::Arc;

    use cloud_images::testing::{FakeContabo, FakeDigitalOcean, FakeIonos, ionos};

    let contabo = FakeContabo::start().await;
    let digitalocean = FakeDigitalOcean::start().await;
    let ionos = FakeIonos::start_with(ionos::Config::default().with_request_polls(2)).await;
    let clouds: Vec<Arc<dyn Images>> = vec![
        Arc::new(
            Client::builder()
                .base_url(contabo.base_url())
                .bearer_token("demo-token")
                .build()?,
        ),
        Arc::new(
            cloud_images::digitalocean::Client::builder()
                .base_url(digitalocean.base_url())
                .bearer_token("do-demo-token")
                .build()?,
        ),
        Arc::new(
            cloud_images::ionos::Client::builder()
                .base_url(ionos.base_url())
                .bearer_token("ionos-demo-token")
                .build()?,
        ),
    ];

    heading("One API over three clouds: the account's own images (`list`, custom only)");
    let mut table = new_table(&["provider", "id", "name", "status", "os", "size GB", "regions"]);
    for images in &clouds {
        let own: Vec<_> = images
            .list_with(
                ListFilter::default().with_custom(true),
                PaginationOptions::default().with_limit(3),
            )
            .try_collect()
            .await?;
        for image in own {
            table.add_row(vec![
                image.provider.to_string(),
                image.id.clone(),
                image.name.clone(),
                image.status.to_string(),
                format!("{} ({})", image.os_family, show(&image.os)),
                image.size_gb.map_or_else(|| "-".into(), |gb| format!("{gb:.1}")),
                image.regions.join(","),
            ]);
        }
    }
    println!("{table}");

    heading("Import from a URL, wait until ready, rename, delete: the same code for each cloud");
    for images in &clouds {
        let cloud = images.cloud();
        let request = ImportRequest::new("debian-13-demo", "https://images.example.com/debian-13.qcow2")
            .with_os("linux")
            .with_version("13")
            .with_region("fra1");
        let image = match images.import_from_url(request).await {
            Ok(image) => image,
            Err(e) if e.is_unsupported() => {
                println!("{cloud}: {e}");
                // Rename and delete one of the account's own images instead.
                let mut own = images.list(ListFilter::default().with_custom(true));
                let Some(image) = own.try_next().await? else {
                    continue;
                };
                let renamed = images
                    .update(&image.id, ImageUpdate::default().with_name("golden-renamed"))
                    .await?;
                println!(
                    "{cloud}:   renamed {} to {} (the call waited for IONOS's request)",
                    image.name, renamed.name
                );
                images.delete(&renamed.id).await?;
                println!("{cloud}:   deleted {}", renamed.id);
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        println!(
            "{cloud}: imported {} ({}), {}",
            image.name, image.id, image.status
        );
        let quick = WaitOptions::default().with_interval(Duration::from_millis(50));
        let ready = images
            .wait_until_ready(&image.id, quick, &mut |p| match (p.done, p.total) {
                (Some(done), Some(total)) => println!("{cloud}:   {} {done} of {total} MB", show(&p.status)),
                _ => println!("{cloud}:   {}", show(&p.status)),
            })
            .await?;
        println!("{cloud}:   {} is {}", ready.id, ready.status);
        let renamed = images
            .update(&ready.id, ImageUpdate::default().with_name("debian-13-golden"))
            .await?;
        println!("{cloud}:   renamed to {}", renamed.name);
        images.delete(&renamed.id).await?;
        let gone = images.get(&renamed.id).await.unwrap_err();
        println!("{cloud}:   deleted; get now fails: {gone}");
    }

    heading("What a provider needs is named before anything is sent");
    for images in &clouds {
        let bare = ImportRequest::new("no-details", "https://images.example.com/x.qcow2");
        match images.import_from_url(bare).await {
            Ok(image) => println!("{}: imported {}", images.cloud(), image.id),
            Err(e) => println!("{}: {e}", images.cloud()),
        }
    }
    Ok(())
}

/// The same pipeline on DigitalOcean: `page`/`per_page`, the server's request
/// ids, rate limits, `NEW` → `available`, a transfer.
async fn digitalocean_tour() -> Result<()> {
    use cloud_images::digitalocean::{self, types};

    let server = cloud_images::testing::digitalocean::FakeDigitalOcean::start().await;
    let client = digitalocean::Client::builder()
        .base_url(server.base_url())
        .bearer_token("do-demo-token")
        .build()?;
    println!("Fake DigitalOcean API at {}\n", server.base_url());

    heading("DigitalOcean: the account's own images, 4 a page (pages prefetched)");
    let private: Vec<digitalocean::Image> = client
        .images_list()
        .private(true)
        .stream_with(PaginationOptions::default().with_page_size(4))
        .try_collect()
        .await?;
    let mut table = new_table(&[
        "id",
        "name",
        "type",
        "distribution",
        "status",
        "size GB",
        "regions",
    ]);
    for i in &private {
        table.add_row(vec![
            i.id.to_string(),
            show(&i.name),
            show(&i.type_),
            show(&i.distribution),
            show(&i.status),
            show(&i.size_gigabytes),
            i.regions.as_deref().unwrap_or_default().join(","),
        ]);
    }
    println!("{table}");
    println!(
        "{} images in {} requests\n",
        private.len(),
        server.api_requests().len()
    );

    heading("Import from a URL and wait: NEW -> pending -> available");
    let created = client
        .images_create_custom()
        .body(types::ImageNewCustom {
            name: "debian-13-cis".into(),
            url: "https://images.example.com/debian-13-cis.qcow2".into(),
            region: "atl1".into(),
            distribution: Some("Debian".into()),
            description: Some("CIS level 1".into()),
            tags: Some(vec!["base".into()]),
        })
        .execute()
        .await?;
    let limit = created.rate_limit().unwrap_or_default();
    println!(
        "created image {} ({}); server request id {}; rate limit {} of {} left",
        created.image.id,
        show(&created.image.status),
        created.request_id().unwrap_or("-"),
        show(&limit.remaining),
        show(&limit.limit)
    );
    let id = created.image.id.to_string();
    let options = WaitOptions::default()
        .with_interval(Duration::from_millis(50))
        .with_max_interval(Duration::from_millis(100));
    let image = client
        .wait_for_image(&id, options, |p| {
            println!("  {}", p.status.as_deref().unwrap_or("-"))
        })
        .await?;
    println!("image {id} is {}\n", show(&image.status));

    heading("Transfer it to fra1 and wait for the action");
    let action = client
        .image_actions_post()
        .image_id(&id)
        .body(types::ImageActionsPostBody::Transfer(
            types::ImageActionTransfer {
                type_: "transfer".into(),
                region: "fra1".into(),
            },
        ))
        .execute()
        .await?;
    let done = client.wait_for_action(&id, action.action.id, options).await?;
    let image = client.images_get().image_id(&id).execute().await?;
    println!(
        "action {} {}; the image is now in {}\n",
        done.id,
        show(&done.status),
        image.image.regions.as_deref().unwrap_or_default().join(",")
    );

    heading("Errors show DigitalOcean's message and its request id");
    client.images_delete().image_id(&id).execute().await?;
    let err = client.images_get().image_id(&id).execute().await.unwrap_err();
    println!("error: {err}");
    let err = client
        .images_list()
        .stream_with(PaginationOptions::default().with_page_size(500))
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    println!("error: {err}");
    Ok(())
}

/// Prints a numbered section heading.
fn heading(text: &str) {
    static SECTION: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = SECTION.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
    println!("== {n}. {text}");
}

fn new_table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table.load_preset(UTF8_BORDERS_ONLY).set_header(header.to_vec());
    table
}

fn show<T: std::fmt::Display>(value: &Option<T>) -> String {
    value.as_ref().map_or_else(|| "-".to_owned(), T::to_string)
}

fn print_images(images: &[Image]) {
    let mut table = new_table(&[
        "name", "kind", "os", "version", "format", "status", "size MB", "image id",
    ]);
    for i in images {
        table.add_row(vec![
            show(&i.name),
            if i.standard_image == Some(true) {
                "standard"
            } else {
                "custom"
            }
            .to_owned(),
            show(&i.os_type),
            show(&i.version),
            show(&i.format),
            show(&i.status),
            show(&i.size_mb),
            i.image_id.clone(),
        ]);
    }
    println!("{table}");
}

/// The same pipeline on IONOS Cloud: one collection at `depth=1`, HTTP Basic,
/// a contract number on every request, changes accepted with `202` and
/// carried out as requests (`QUEUED` → `RUNNING` → `DONE` or `FAILED`).
async fn ionos_tour() -> Result<()> {
    use cloud_images::ionos::{self, PendingRequest, types};

    let server = cloud_images::testing::ionos::FakeIonos::start_with(
        cloud_images::testing::ionos::Config::default().with_contract_number(Some(31_415_926)),
    )
    .await;
    let client = ionos::Client::builder()
        .base_url(server.base_url())
        .basic_auth("user@example.com", "ionos-demo-password")
        .contract_number(31_415_926)
        .build()?;
    println!("Fake IONOS Cloud API at {}\n", server.base_url());

    heading("IONOS Cloud: every image with its properties, in one request (depth=1)");
    let images = client.list_images().await?;
    let mut table = new_table(&["id", "name", "location", "licence", "type", "public", "state"]);
    for i in images.iter() {
        let p = i.properties.clone().unwrap_or_default();
        table.add_row(vec![
            i.id.clone(),
            show(&p.name),
            show(&p.location),
            show(&p.licence_type),
            show(&p.image_type),
            show(&p.public),
            show(&i.metadata.as_ref().and_then(|m| m.state.clone())),
        ]);
    }
    println!("{table}");
    let limit = images.rate_limit().unwrap_or_default();
    println!(
        "{} images; rate limit {} of {} a minute left, burst {}\n",
        images.len(),
        show(&limit.remaining),
        show(&limit.limit),
        show(&limit.burst)
    );

    heading("Rename an image: 202 Accepted, the image BUSY, the request QUEUED -> RUNNING -> DONE");
    let id = cloud_images::testing::FakeIonos::private_id(0);
    let accepted = client
        .images_patch()
        .image_id(&id)
        .body(types::ImageProperties {
            name: Some("debian-13-golden".into()),
            ..Default::default()
        })
        .execute()
        .await?;
    let request = PendingRequest::from_response(&accepted)?;
    println!(
        "HTTP {}: image {} is {}; Location names {request}",
        accepted.status(),
        id,
        show(&accepted.metadata.as_ref().and_then(|m| m.state.clone())),
    );
    let options = WaitOptions::default()
        .with_interval(Duration::from_millis(50))
        .with_max_interval(Duration::from_millis(100));
    let done = client
        .wait_for_request(&request, options, |p| {
            println!("  {}", p.status.as_deref().unwrap_or("-"))
        })
        .await?;
    let image = client.images_find_by_id().image_id(&id).execute().await?;
    println!(
        "request {} {}; the image is {:?} and {}\n",
        done.id,
        show(&done.metadata.and_then(|m| m.status)),
        image
            .properties
            .as_ref()
            .and_then(|p| p.name.as_deref())
            .unwrap_or("-"),
        show(&image.metadata.as_ref().and_then(|m| m.state.clone())),
    );

    heading("A request that FAILS ends the wait with IONOS's message");
    server.fail_next_request("Image is in use by volume 3f2a8c1e and cannot be changed");
    let err = client
        .update_image(
            &id,
            types::ImageProperties {
                licence_type: Some("WINDOWS2025".into()),
                ..Default::default()
            },
            options,
        )
        .await
        .unwrap_err();
    println!("error: {err}\n");

    heading("Delete it and wait; errors show IONOS's messages (`309: Resource does not exist`)");
    client.delete_image(&id, options).await?;
    let err = client
        .images_find_by_id()
        .image_id(&id)
        .execute()
        .await
        .unwrap_err();
    println!("error: {err}");
    let err = client
        .delete_image(&cloud_images::testing::ionos::FakeIonos::public_id(0), options)
        .await
        .unwrap_err();
    println!("error: {err}");
    let contracts: std::collections::BTreeSet<String> = server
        .api_requests()
        .iter()
        .filter_map(|r| r.header("x-contract-number").map(str::to_owned))
        .collect();
    println!(
        "{} requests, status polls included, all with X-Contract-Number {:?}",
        server.api_requests().len(),
        contracts
    );
    Ok(())
}
