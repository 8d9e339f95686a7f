//! Lists 2000 images with a latency per request, at several prefetch
//! concurrencies, and compares each time with the ideal:
//! `latency × (1 + ceil((pages − 1) / concurrency))` (page 1 alone, then
//! rounds of `concurrency` pages). The Contabo and DigitalOcean pages come
//! from a loopback server that synthesizes them (the fakes would add their
//! own CPU time per page); IONOS, which lists its images in one answer, from
//! its in-process fake.
//!
//! ```text
//! cargo bench --bench pagination
//! ```
//!
//! Targets, at 50 ms a page with the default options: at most 0.25 of the
//! sequential time, and at most 1.05 of the ideal.

mod common;

use std::time::{Duration, Instant};

use cloud_images::{Error, Paginate, PaginationOptions};
use futures::TryStreamExt;
use futures::stream::BoxStream;

const PAGES: u64 = 40;
const PAGE_SIZE: u64 = 50;
const IMAGES: usize = (PAGES * PAGE_SIZE) as usize;
const LATENCIES_MS: [u64; 2] = [10, 50];
const CONCURRENCIES: [usize; 4] = [1, 4, 8, 16];
const RUNS: usize = 3;
const SEQUENTIAL_TARGET: f64 = 0.25;
const IDEAL_TARGET: f64 = 1.05;

#[tokio::main]
async fn main() {
    let full = common::full_run();
    let runs = if full { RUNS } else { 1 };
    let latencies: &[u64] = if full { &LATENCIES_MS } else { &[5] };
    println!("list {IMAGES} images, {PAGES} pages of {PAGE_SIZE} (best of {runs}):");
    let mut missed = false;
    let synthetic = common::start_synthetic();
    for &ms in latencies {
        let latency = Duration::from_millis(ms);
        let client = cloud_images::contabo::Client::builder()
            .base_url(format!("http://{synthetic}/contabo/{IMAGES}/{ms}"))
            .bearer_token("demo-token")
            .build()
            .unwrap();
        let base = format!("http://{synthetic}/contabo/{IMAGES}/{ms}");
        missed |= !measure("Contabo", latency, runs, |o| {
            client.retrieve_image_list().stream_with(o)
        })
        .await;
        for concurrency in [1, PaginationOptions::default().concurrency()] {
            let mut best = Duration::MAX;
            for _ in 0..runs {
                let started = Instant::now();
                let n = common::raw_contabo_listing(&base, PAGE_SIZE, concurrency).await;
                best = best.min(started.elapsed());
                assert_eq!(n, IMAGES as u64);
            }
            let ratio = best.as_secs_f64() / ideal(latency, concurrency).as_secs_f64();
            println!(
                "  plain reqwest, concurrency {concurrency}: {:>5} ms, ratio {ratio:.3}",
                best.as_millis()
            );
        }

        let client = cloud_images::digitalocean::Client::builder()
            .base_url(format!("http://{synthetic}/digitalocean/{IMAGES}/{ms}"))
            .bearer_token("do-demo-token")
            .build()
            .unwrap();
        missed |= !measure("DigitalOcean", latency, runs, |o| {
            client.images_list().stream_with(o)
        })
        .await;

        // IONOS lists its images in one answer (no pages): one round trip,
        // plus the fake's own time to build it.
        let ionos = cloud_images::testing::FakeIonos::start_with(
            cloud_images::testing::ionos::Config::default()
                .with_public(IMAGES)
                .with_private(0)
                .with_latency(latency),
        )
        .await;
        let client = cloud_images::ionos::Client::builder()
            .base_url(ionos.base_url())
            .basic_auth("user@example.com", "ionos-demo-password")
            .build()
            .unwrap();
        let mut best = Duration::MAX;
        for _ in 0..runs {
            let started = Instant::now();
            let images = client.list_images().await.unwrap();
            best = best.min(started.elapsed());
            assert_eq!(images.len(), IMAGES);
        }
        println!(
            "IONOS Cloud, {} ms latency, one answer of {IMAGES} images: {:>5} ms, {:.2} of the ideal",
            latency.as_millis(),
            best.as_millis(),
            best.as_secs_f64() / latency.as_secs_f64()
        );
    }
    if missed {
        eprintln!("prefetching missed a target");
        std::process::exit(1);
    }
}

/// The ideal time of a listing: page 1 alone, then rounds of `concurrency` pages.
fn ideal(latency: Duration, concurrency: usize) -> Duration {
    latency * (1 + (PAGES - 1).div_ceil(concurrency as u64)) as u32
}

/// Times a full listing at each concurrency; prints each with its ratio to
/// the ideal; whether the default options met their targets (at 50 ms).
async fn measure<'a, T>(
    provider: &str,
    latency: Duration,
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
    let default = PaginationOptions::default().with_page_size(PAGE_SIZE);
    println!("{provider}, {} ms latency:", latency.as_millis());
    let mut sequential = Duration::ZERO;
    let mut met = true;
    for concurrency in CONCURRENCIES {
        let took = time(default.with_concurrency(concurrency)).await;
        let ideal = ideal(latency, concurrency);
        let ratio = took.as_secs_f64() / ideal.as_secs_f64();
        let is_default = concurrency == PaginationOptions::default().concurrency();
        println!(
            "  concurrency {concurrency:>2}{}: {:>5} ms, ideal {:>5} ms, ratio {ratio:.3}",
            if is_default { " (default)" } else { "          " },
            took.as_millis(),
            ideal.as_millis(),
        );
        if concurrency == 1 {
            sequential = took;
        }
        if is_default && latency >= Duration::from_millis(50) {
            let vs_sequential = took.as_secs_f64() / sequential.as_secs_f64();
            println!("  default / sequential: {vs_sequential:.3} (target <= {SEQUENTIAL_TARGET})");
            println!("  default / ideal:      {ratio:.3} (target <= {IDEAL_TARGET})");
            met &= vs_sequential <= SEQUENTIAL_TARGET && ratio <= IDEAL_TARGET;
        }
    }
    met
}
