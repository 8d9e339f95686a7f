//! Stages a 1 GiB and a 4 GiB image file in the loopback S3 server
//! (`FakeStaging`) through `Images::upload`, and the same file through a plain
//! object_store multipart put with the same part size and parts in flight,
//! and prints the time and peak memory of each, and their ratio.
//!
//! ```text
//! cargo bench --bench upload
//! ```
//!
//! Each upload runs in a child process (this binary, re-run with `--child`)
//! that reads its own peak RSS (`VmHWM`) when done; the S3 server and the
//! DigitalOcean fake run in this process. The library's time is the staging
//! phase: from the call until it reports the file staged (the cloud's fetch
//! and import are the fake's work, not the client's); the upload is then
//! dropped, and its staged object must be gone soon after. Linux only (the
//! figures come from `/proc`). `cargo test --benches` runs it with 16 and 64
//! MiB files to check that it works.
//!
//! Targets: the library's time at most 1.05 times the plain put's, and its
//! peak RSS at most 64 MiB, the same for both sizes.

mod common;

use std::ffi::OsStr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cloud_images::images::{Images, Staging, UploadPhase, UploadRequest};
use cloud_images::testing::{FakeDigitalOcean, FakeStaging};
use common::child::Best;
use futures::StreamExt as _;
use object_store::ObjectStore as _;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::{ObjectStoreExt as _, WriteMultipart};
use tokio::io::AsyncReadExt as _;

const MIB: u64 = 1 << 20;
/// The part size and parts in flight of both puts (the library's defaults).
const PART_SIZE: usize = 8 << 20;
const PARTS_IN_FLIGHT: usize = 4;
const TIME_TARGET: f64 = 1.05;
const RSS_TARGET_MIB: f64 = 64.0;
/// Runs of each put at each size; the best time and the highest RSS count.
const RUNS: usize = 2;

/// Where the child finds the S3 server and the DigitalOcean fake.
const ENV_ENDPOINT: &str = "UPLOAD_BENCH_ENDPOINT";
const ENV_API: &str = "UPLOAD_BENCH_API";

fn main() {
    if let Some(args) = common::child::args() {
        child(&args[0], Path::new(&args[1]));
        return;
    }
    if common::peak_rss_kib().is_none() {
        println!("upload: skipped (peak memory is read from /proc/self/status, which this system lacks)");
        return;
    }
    let sizes: [u64; 2] = if common::full_run() {
        [1024 * MIB, 4096 * MIB]
    } else {
        [16 * MIB, 64 * MIB]
    };
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (staging, fake) =
        runtime.block_on(async { (FakeStaging::start().await, FakeDigitalOcean::start().await) });
    let store = s3_client(&staging.endpoint());

    println!(
        "stage an image file in a loopback S3 server ({} MiB parts, {PARTS_IN_FLIGHT} in flight), best of {RUNS}:",
        PART_SIZE as u64 / MIB
    );
    println!(
        "  {:>8}  {:>11} {:>11}  {:>6}  {:>12} {:>12}  {:>9} {:>9}",
        "file", "library", "object_store", "ratio", "RSS library", "RSS plain", "lib MB/s", "plain MB/s"
    );
    let dir = std::env::temp_dir().join(format!("cloud-images-upload-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    let mut results = Vec::new();
    for size in sizes {
        let path = dir.join(format!("bench-{}.qcow2", size / MIB));
        common::write_image(&path, size).expect("write the image file");
        let mut best = [Best::default(); 2];
        for _ in 0..RUNS {
            for (i, mode) in ["plain", "library"].into_iter().enumerate() {
                best[i].add(&run_child(mode, &path, &staging.endpoint(), &fake.base_url()));
                // Nothing may be left behind: the plain child deletes its
                // object; the library's is deleted when the upload is dropped.
                let left = runtime.block_on(wait_for_empty(&staging));
                assert!(left.is_empty(), "{mode} left {left:?} in the bucket");
            }
        }
        std::fs::remove_file(&path).ok();
        let [plain, lib] = best;
        let (plain_time, plain_rss, lib_time, lib_rss) = (plain.time, plain.rss_kib, lib.time, lib.rss_kib);
        let ratio = lib_time.as_secs_f64() / plain_time.as_secs_f64();
        let rate = |t: Duration| size as f64 / 1e6 / t.as_secs_f64();
        println!(
            "  {:>4} MiB  {:>8} ms {:>9} ms  {ratio:>6.3}  {:>8.1} MiB {:>8.1} MiB  {:>9.0} {:>9.0}",
            size / MIB,
            lib_time.as_millis(),
            plain_time.as_millis(),
            mib(lib_rss),
            mib(plain_rss),
            rate(lib_time),
            rate(plain_time),
        );
        results.push((size, ratio, lib_rss));
    }
    std::fs::remove_dir_all(&dir).ok();
    drop(store);
    let worst_ratio = results.iter().map(|r| r.1).fold(0.0, f64::max);
    let rss: Vec<f64> = results.iter().map(|r| mib(r.2)).collect();
    println!("  time, library / object_store: at most {worst_ratio:.3} (target <= {TIME_TARGET:.2})");
    println!(
        "  library peak RSS: {} MiB (target <= {RSS_TARGET_MIB}, the same for both sizes)",
        rss.iter()
            .map(|r| format!("{r:.1}"))
            .collect::<Vec<_>>()
            .join(" and ")
    );
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// The bucket's keys once the children's deletes are through (at most 10 s).
async fn wait_for_empty(staging: &FakeStaging) -> Vec<String> {
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let keys = staging.keys();
        if keys.is_empty() || Instant::now() > until {
            return keys;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Runs one put in a child process: its time and peak RSS.
fn run_child(mode: &str, path: &Path, endpoint: &str, api: &str) -> common::child::Measured {
    let run = common::child::run(
        mode,
        &[OsStr::new(mode), path.as_os_str()],
        &[(ENV_ENDPOINT, endpoint), (ENV_API, api)],
    );
    assert!(run.figures.is_empty(), "unexpected child output: {run:?}");
    run
}

/// The child: one put, then its time and peak RSS.
fn child(mode: &str, path: &Path) {
    let endpoint = std::env::var(ENV_ENDPOINT).expect("the S3 endpoint");
    let api = std::env::var(ENV_API).expect("the API's URL");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let elapsed = runtime.block_on(async {
        match mode {
            "library" => library(path, &endpoint, &api).await,
            "plain" => plain(path, &endpoint).await,
            _ => panic!("unknown mode {mode}"),
        }
    });
    common::child::report(&[], elapsed);
}

/// `Images::upload` until the file is staged; then the upload is dropped
/// (its staged object is deleted by then).
async fn library(path: &Path, endpoint: &str, api: &str) -> Duration {
    let defaults = cloud_images::testing::staging::Config::default();
    let staging = Staging::bucket_named(&defaults.bucket)
        .with_endpoint(endpoint)
        .with_region(&defaults.region)
        .with_credentials(&defaults.access_key_id, &defaults.secret_access_key)
        .with_path_style(true)
        .with_part_size(PART_SIZE)
        .with_parts_in_flight(PARTS_IN_FLIGHT);
    let client = cloud_images::digitalocean::Client::builder()
        .base_url(api)
        .bearer_token(
            cloud_images::testing::digitalocean::Config::default()
                .token
                .expect("the fake's token"),
        )
        .build()
        .expect("client");
    let images: Arc<dyn Images> = Arc::new(client);
    let request = UploadRequest::new("bench", path)
        .with_env(|_| None)
        .with_os("Debian")
        .with_region("fra1")
        .with_staging(staging);
    let staged = Arc::new(Mutex::new(None));
    let (tx, rx) = tokio::sync::oneshot::channel();
    let mut tx = Some(tx);
    let started = Instant::now();
    let mark = Arc::clone(&staged);
    let mut on_progress = move |p: &cloud_images::images::UploadProgress| {
        if matches!(p.phase(), UploadPhase::Staged { .. }) {
            *mark.lock().unwrap() = Some(started.elapsed());
            if let Some(tx) = tx.take() {
                let _ = tx.send(());
            }
        }
    };
    tokio::select! {
        result = images.upload(request, &mut on_progress) => panic!("the upload ended before it was staged: {result:?}"),
        _ = rx => {}
    }
    // The upload is dropped: its staged object's delete runs as a task of
    // this runtime, which must live until the bucket is empty.
    let store = s3_client(endpoint);
    let until = Instant::now() + Duration::from_secs(10);
    while store.list(None).next().await.is_some() && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    staged.lock().unwrap().expect("staged")
}

/// A plain object_store multipart put of the file, read in parts.
async fn plain(path: &Path, endpoint: &str) -> Duration {
    let store = s3_client(endpoint);
    let key = object_store::path::Path::from(format!(
        "plain/{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("image")
    ));
    let started = Instant::now();
    let upload = store
        .put_multipart(&key)
        .await
        .expect("start the multipart upload");
    let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
    let mut file = tokio::fs::File::open(path).await.expect("the file");
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).await.expect("read");
        if n == 0 {
            break;
        }
        writer.wait_for_capacity(PARTS_IN_FLIGHT).await.expect("a part");
        writer.write(&buf[..n]);
    }
    writer.finish().await.expect("complete the upload");
    let elapsed = started.elapsed();
    store.delete(&key).await.expect("delete");
    elapsed
}

/// object_store's S3 client for the fake's bucket.
fn s3_client(endpoint: &str) -> AmazonS3 {
    let config = cloud_images::testing::staging::Config::default();
    AmazonS3Builder::new()
        .with_endpoint(endpoint)
        .with_bucket_name(&config.bucket)
        .with_region(&config.region)
        .with_access_key_id(&config.access_key_id)
        .with_secret_access_key(&config.secret_access_key)
        .with_allow_http(true)
        .with_virtual_hosted_style_request(false)
        .build()
        .expect("an S3 client")
}
