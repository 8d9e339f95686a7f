//! Lists every image from local fake APIs (Contabo and DigitalOcean) with
//! per-page latency: pages prefetched concurrently (the default) against
//! strictly sequential, and prints the ratio for each provider.
//!
//! ```text
//! cargo bench --bench pagination
//! ```
//!
//! Target: with the default settings, 40 pages at 50 ms a page take at most
//! 0.25 of the sequential time.

use std::time::{Duration, Instant};

use cloud_images::{Error, Paginate, PaginationOptions};
use futures::TryStreamExt;
use futures::stream::BoxStream;

const PAGES: usize = 40;
const PAGE_SIZE: u64 = 50;
const IMAGES: usize = PAGES * PAGE_SIZE as usize;
const LATENCY: Duration = Duration::from_millis(50);
const RUNS: usize = 3;
const TARGET: f64 = 0.25;

#[tokio::main]
async fn main() {
    // `cargo test --benches` runs this with `--bench` absent; keep it quick then.
    let quick = !std::env::args().any(|a| a == "--bench");
    let runs = if quick { 1 } else { RUNS };
    println!(
        "list {IMAGES} images, {PAGES} pages x {} ms latency (best of {runs}):",
        LATENCY.as_millis()
    );
    let mut missed = false;

    let contabo = cloud_images::testing::FakeContabo::start_with(
        cloud_images::testing::contabo::Config::default()
            .with_standard(IMAGES)
            .with_custom(0)
            .with_latency(LATENCY),
    )
    .await;
    let client = cloud_images::contabo::Client::builder()
        .base_url(contabo.base_url())
        .bearer_token("demo-token")
        .build()
        .unwrap();
    missed |= !measure("Contabo", runs, |o| client.retrieve_image_list().stream_with(o)).await;

    let digitalocean = cloud_images::testing::FakeDigitalOcean::start_with(
        cloud_images::testing::digitalocean::Config::default()
            .with_distributions(IMAGES)
            .with_applications(0)
            .with_private(0)
            .with_latency(LATENCY),
    )
    .await;
    let client = cloud_images::digitalocean::Client::builder()
        .base_url(digitalocean.base_url())
        .bearer_token("do-demo-token")
        .build()
        .unwrap();
    missed |= !measure("DigitalOcean", runs, |o| client.images_list().stream_with(o)).await;

    if missed {
        eprintln!("prefetching missed its target");
        std::process::exit(1);
    }
}

/// Times a full listing sequentially and with the default prefetch; prints
/// both and their ratio; whether the ratio met the target.
async fn measure<'a, T>(
    provider: &str,
    runs: usize,
    list: impl Fn(PaginationOptions) -> BoxStream<'a, Result<T, Error>>,
) -> bool {
    let time = async |options: PaginationOptions| {
        let mut best = Duration::MAX;
        for _ in 0..runs {
            let started = Instant::now();
            let images: Vec<T> = list(options).try_collect().await.unwrap();
            best = best.min(started.elapsed());
            assert_eq!(images.len(), IMAGES);
        }
        best
    };
    let default = PaginationOptions::default().page_size(PAGE_SIZE);
    let sequential = time(default.concurrency(1)).await;
    let prefetched = time(default).await;
    let ratio = prefetched.as_secs_f64() / sequential.as_secs_f64();
    println!("{provider}:");
    println!(
        "  sequential (concurrency 1):           {:>6} ms",
        sequential.as_millis()
    );
    println!(
        "  prefetched (default, concurrency {}):   {:>6} ms",
        default.get_concurrency(),
        prefetched.as_millis()
    );
    println!("  ratio: {ratio:.3} (target <= {TARGET})");
    ratio <= TARGET
}
