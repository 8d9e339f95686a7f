//! Lists every image from a local fake API with per-page latency: pages
//! prefetched concurrently (the default) against strictly sequential, and
//! prints the ratio.
//!
//! ```text
//! cargo bench --bench pagination
//! ```
//!
//! Target: with the default settings, 40 pages at 50 ms a page take at most
//! 0.25 of the sequential time.

#[path = "../examples/support/mod.rs"]
mod support;
use support::contabo as fake;

use std::time::{Duration, Instant};

use cloud_images::contabo::Client;
use cloud_images::{Paginate, PaginationOptions};
use futures::TryStreamExt;

const PAGES: usize = 40;
const PAGE_SIZE: u64 = 50;
const LATENCY: Duration = Duration::from_millis(50);
const RUNS: usize = 3;

#[tokio::main]
async fn main() {
    // `cargo test --benches` runs this with `--bench` absent; keep it quick then.
    let quick = !std::env::args().any(|a| a == "--bench");
    let runs = if quick { 1 } else { RUNS };
    let server = fake::FakeContabo::start(fake::Config {
        standard: PAGES * PAGE_SIZE as usize,
        custom: 0,
        latency: LATENCY,
        ..Default::default()
    })
    .await;
    let client = Client::builder()
        .base_url(server.base_url())
        .bearer_token("demo-token")
        .build()
        .unwrap();

    let time = |options: PaginationOptions| {
        let client = &client;
        async move {
            let mut best = Duration::MAX;
            for _ in 0..runs {
                let started = Instant::now();
                let images: Vec<_> = client
                    .retrieve_image_list()
                    .stream_with(options)
                    .try_collect()
                    .await
                    .unwrap();
                best = best.min(started.elapsed());
                assert_eq!(images.len(), PAGES * PAGE_SIZE as usize);
            }
            best
        }
    };

    let default = PaginationOptions::default().page_size(PAGE_SIZE);
    let sequential = time(default.concurrency(1)).await;
    let prefetched = time(default).await;
    let ratio = prefetched.as_secs_f64() / sequential.as_secs_f64();
    println!(
        "list {} images, {PAGES} pages x {} ms latency (best of {runs}):",
        PAGES * PAGE_SIZE as usize,
        LATENCY.as_millis()
    );
    println!(
        "  sequential (concurrency 1):         {:>6} ms",
        sequential.as_millis()
    );
    println!(
        "  prefetched (default, concurrency {}): {:>6} ms",
        default.get_concurrency(),
        prefetched.as_millis()
    );
    println!("  ratio: {ratio:.3} (target <= 0.25)");
    if ratio > 0.25 {
        eprintln!("prefetching missed its target");
        std::process::exit(1);
    }
}
