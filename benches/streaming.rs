//! Streams 10 000, 100 000 and 1 000 000 Contabo images from a loopback
//! server that synthesizes the pages, through the library (`stream()`,
//! default options) and through plain reqwest + serde into the same types
//! (page 1, then the other pages 8 at a time), and prints the peak memory and
//! the time of each, and their ratios.
//!
//! ```text
//! cargo bench --bench streaming
//! ```
//!
//! Each listing runs in a child process (this binary, re-run with `--child`)
//! that reads its own peak RSS (`VmHWM`) when done; the server runs in this
//! process. Linux only (the figures come from `/proc`).
//!
//! Targets: peak RSS at 1M within 16 MiB of the one at 10k; 1M images through
//! the library take at most 1.10 times as long as through plain reqwest.

mod common;

use std::time::Instant;

use cloud_images::{Paginate, PaginationOptions};
use common::child::{Best, Measured};
use futures::TryStreamExt;

const SIZES: [u64; 3] = [10_000, 100_000, 1_000_000];
const RUNS_AT_1M: usize = 3;
const RSS_TARGET_MIB: f64 = 16.0;
const TIME_TARGET: f64 = 1.10;

fn main() {
    if let Some(args) = common::child::args() {
        child(&args[0], &args[2]);
        return;
    }
    if common::peak_rss_kib().is_none() {
        println!("streaming: skipped (peak memory is read from /proc/self/status, which this system lacks)");
        return;
    }
    let full = common::full_run();
    let sizes: &[u64] = if full { &SIZES } else { &SIZES[..1] };
    let addr = common::start_synthetic();
    println!(
        "stream Contabo images from a synthesizing loopback server, default options (100 a page, 8 pages in flight):"
    );
    println!(
        "  {:>9}  {:>13} {:>13}  {:>11} {:>11}  {:>6}",
        "images", "RSS library", "RSS reqwest", "library", "reqwest", "ratio"
    );
    let mut results = Vec::new();
    for &total in sizes {
        let runs = if total == 1_000_000 { RUNS_AT_1M } else { 1 };
        let url = format!("http://{addr}/contabo/{total}/0");
        let mut best = [Best::default(); 2];
        for _ in 0..runs {
            for (i, mode) in ["library", "raw"].into_iter().enumerate() {
                best[i].add(&run_child(mode, total, &url));
            }
        }
        let [lib, raw] = best;
        let (lib_time, lib_rss, raw_time, raw_rss) = (lib.time, lib.rss_kib, raw.time, raw.rss_kib);
        let ratio = lib_time.as_secs_f64() / raw_time.as_secs_f64();
        println!(
            "  {total:>9}  {:>9.1} MiB {:>9.1} MiB  {:>8} ms {:>8} ms  {ratio:>6.2}",
            mib(lib_rss),
            mib(raw_rss),
            lib_time.as_millis(),
            raw_time.as_millis(),
        );
        results.push((total, lib_rss, ratio));
    }
    if let (Some(small), Some(large)) = (results.first(), results.last())
        && results.len() > 1
    {
        let growth = mib(large.1) - mib(small.1);
        println!(
            "  library RSS at {} minus at {}: {growth:.1} MiB (target <= {RSS_TARGET_MIB})",
            large.0, small.0
        );
        println!(
            "  time at {}, library / reqwest: {:.2} (target <= {TIME_TARGET:.2}; best of {RUNS_AT_1M} each)",
            large.0, large.2
        );
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Runs one listing in a child process: its time and peak RSS.
fn run_child(mode: &str, total: u64, url: &str) -> Measured {
    let run = common::child::run(mode, &[mode, &total.to_string(), url], &[]);
    let [items] = run.figures[..] else {
        panic!("unexpected child output: {run:?}");
    };
    assert_eq!(items, total, "{mode} streamed {items} of {total} images");
    run
}

/// The child: streams every image, then reports how many, its time and its
/// peak RSS.
fn child(mode: &str, url: &str) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let started = Instant::now();
    let items = runtime.block_on(async {
        match mode {
            "library" => library(url).await,
            "raw" => {
                let options = PaginationOptions::default();
                common::raw_contabo_listing(url, options.page_size(), options.concurrency()).await
            }
            _ => panic!("unknown mode {mode}"),
        }
    });
    common::child::report(&[items], started.elapsed());
}

async fn library(url: &str) -> u64 {
    let client = cloud_images::contabo::Client::builder()
        .base_url(url)
        .bearer_token("bench-token")
        .build()
        .expect("client");
    let mut images = client.retrieve_image_list().stream();
    let mut count = 0u64;
    while let Some(image) = images.try_next().await.expect("an image") {
        count += u64::from(!image.image_id.is_empty());
    }
    count
}
