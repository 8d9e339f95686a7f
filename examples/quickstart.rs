//! The README's quickstart, word for word (`tests/quickstart.rs` keeps the
//! two the same and runs this against a fake).

use std::process::ExitCode;

use cloud_images::images::{self, Error, ImageUpdate, ImportRequest, ListFilter, WaitOptions};
use futures::TryStreamExt;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line: the operation, the status, the API's message, the request id.
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Error> {
    // CLOUD_IMAGES_PROVIDER=contabo|digitalocean|ionos, and that provider's own variables.
    let images = images::from_env(None)?;
    let own: Vec<_> = images
        .list(ListFilter::default().with_custom(true))
        .try_collect()
        .await?;
    println!("{} images of our own", own.len());

    let request = ImportRequest::new("debian-13", "https://example.com/debian-13.qcow2")
        .with_os("linux")
        .with_version("13")
        .with_region("fra1");
    let image = images.import_from_url(request).await?;
    let image = images
        .wait_until_ready(&image.id, WaitOptions::default(), &mut |p| {
            println!("{:?} {:?}", p.status, p.done)
        })
        .await?;
    images
        .update(&image.id, ImageUpdate::default().with_name("debian-13-golden"))
        .await?;
    images.delete(&image.id).await?;
    println!("imported, renamed and deleted {} on {}", image.id, image.provider);
    Ok(())
}
