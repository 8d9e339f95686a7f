//! Sends a 1 GiB image file over FTPS (TLS 1.2) to a loopback FTPS server
//! (`FakeFtps`: libunftp with a test certificate) with the library
//! (`ionos::Client::upload_image`, told to stop once the file is sent: the
//! registration is IONOS's work) and with `curl --ssl-reqd -T`, the same file to
//! the same server in the same run, and prints the time of each, their
//! ratio, the library's peak memory, and the CPU time of each client.
//!
//! ```text
//! cargo bench --bench ftps_upload
//! ```
//!
//! The library's upload runs in a child process (this binary, re-run with
//! `--child`) that reads its own peak RSS (`VmHWM`) when done; the server
//! runs in this process. The library's time is that of the `upload` call
//! (connect, TLS, login, the folder's listing, the transfer, the server's
//! answer); curl's is that of the whole `curl` process. Library and curl
//! runs alternate, each to a fresh name, and each file must arrive whole
//! (then it is deleted). The CPU time is that of each client's process as
//! a whole: on loopback the server, which decrypts and writes the file,
//! may set the pace of both, and the CPU time then tells the clients'
//! own costs apart. Without a `curl` that speaks FTPS the comparison
//! is skipped and the library's figures are still printed. Linux only (the
//! figures come from `/proc`). `cargo test --benches` runs it with a 16 MiB
//! file to check that it works.
//!
//! Targets: the library's time at most 1.10 times curl's, and its peak RSS
//! at most 64 MiB.

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use cloud_images::ftps::{FtpServer, FtpsSettings};
use cloud_images::images::UploadPhase;
use cloud_images::ionos::{ImageUpload, UploadUntil};
use cloud_images::testing::FakeFtps;
use common::child::{Best, Measured};

const MIB: u64 = 1 << 20;
const TIME_TARGET: f64 = 1.10;
const RSS_TARGET_MIB: f64 = 64.0;
/// Runs of each upload in a full run; the best time and the highest RSS
/// count.
const RUNS: usize = 3;
/// The folder the files go to, as IONOS's image uploads do.
const FOLDER: &str = "hdd-images";

/// The password, for the child (kept off its command line, as curl's is).
const ENV_PASSWORD: &str = "FTPS_BENCH_PASSWORD";

fn main() {
    if let Some(args) = common::child::args() {
        child(&args);
        return;
    }
    if common::peak_rss_kib().is_none() {
        println!(
            "ftps_upload: skipped (peak memory is read from /proc/self/status, which this system lacks)"
        );
        return;
    }
    let (size, runs) = if common::full_run() {
        (1024 * MIB, RUNS)
    } else {
        (16 * MIB, 1)
    };
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let fake = runtime
        .block_on(FakeFtps::start())
        .expect("start the FTPS server");
    let dir = Scratch::new();
    let ca = dir.0.join("ca.pem");
    std::fs::write(&ca, fake.ca_pem()).expect("write the test authority");
    let file = dir.0.join("bench.qcow2");
    common::write_image(&file, size).expect("write the image file");
    let curl = Curl::find(&dir.0, &fake, &ca);

    println!("send an image file over FTPS (TLS 1.2) to a loopback FTPS server (libunftp), best of {runs}:");
    match &curl {
        Ok(curl) => println!("  against {}", curl.version),
        Err(why) => println!("  the comparison with curl is skipped: {why}"),
    }
    let target = Target {
        url: fake.url(),
        user: fake.user().to_owned(),
        password: fake.password().to_owned(),
        ca: ca.clone(),
    };
    let settings = target.settings();
    let mut lib = Runs::default();
    let mut baseline = curl.as_ref().ok().map(|_| Runs::default());
    // The two take turns at going first.
    for run in 0..runs {
        for side in [run % 2, 1 - run % 2] {
            let name = format!("{}-{run}.qcow2", ["library", "curl"][side]);
            match (side, &curl, baseline.as_mut()) {
                (0, _, _) => lib.add(|| run_library(&target, &file, &name, size)),
                (_, Ok(curl), Some(baseline)) => baseline.add(|| curl.upload(&file, &name)),
                _ => continue,
            }
            arrived(&runtime, &fake, &settings, &name, size);
        }
    }
    drop(dir);
    let lib_times = lib.times();
    let Runs {
        best: lib,
        cpu: lib_cpu,
        ..
    } = lib;

    let rate = |t: Duration| size as f64 / 1e6 / t.as_secs_f64();
    println!(
        "  {:>8}  {:>11} {:>11}  {:>6}  {:>12}  {:>9} {:>9}  {:>11} {:>11}",
        "file", "library", "curl", "ratio", "RSS library", "lib MB/s", "curl MB/s", "CPU library", "CPU curl"
    );
    let ratio = baseline
        .as_ref()
        .map(|b| lib.time.as_secs_f64() / b.best.time.as_secs_f64());
    let or_dash = |figure: Option<String>| figure.unwrap_or_else(|| "-".to_owned());
    println!(
        "  {:>4} MiB  {:>8} ms {:>11}  {:>6}  {:>8.1} MiB  {:>9.0} {:>9}  {:>11} {:>11}",
        size / MIB,
        lib.time.as_millis(),
        or_dash(
            baseline
                .as_ref()
                .map(|b| format!("{} ms", b.best.time.as_millis()))
        ),
        or_dash(ratio.map(|r| format!("{r:.3}"))),
        mib(lib.rss_kib),
        rate(lib.time),
        or_dash(baseline.as_ref().map(|b| format!("{:.0}", rate(b.best.time)))),
        or_dash(lib_cpu.text()),
        or_dash(baseline.as_ref().and_then(|b| b.cpu.text())),
    );
    if runs > 1 {
        println!("  each run: library {lib_times}");
        if let Some(baseline) = &baseline {
            println!("            curl    {}", baseline.times());
        }
    }
    match ratio {
        Some(ratio) => println!(
            "  time, library / curl: {ratio:.3} (target <= {TIME_TARGET:.2}): {}",
            verdict(ratio <= TIME_TARGET)
        ),
        None => println!("  time, library / curl: not measured (no curl with FTPS)"),
    }
    println!(
        "  library peak RSS: {:.1} MiB (target <= {RSS_TARGET_MIB}): {}",
        mib(lib.rss_kib),
        verdict(mib(lib.rss_kib) <= RSS_TARGET_MIB)
    );
}

/// A client's runs: the best time, the highest peak RSS, and the least CPU
/// time (user and system) of its process as a whole (the library's child
/// process includes its runtime's start).
#[derive(Default)]
struct Runs {
    best: Best,
    cpu: Cpu,
    /// Each run's time, in order.
    times: Vec<Duration>,
}

impl Runs {
    /// Runs `f`, which runs one child process, and counts it.
    fn add(&mut self, f: impl FnOnce() -> Measured) {
        let before = common::children_cpu();
        let run = f();
        if let (Some(before), Some(after)) = (before, common::children_cpu()) {
            let used = after.saturating_sub(before);
            self.cpu.0 = Some(self.cpu.0.map_or(used, |least| least.min(used)));
        }
        self.best.add(&run);
        self.times.push(run.time);
    }

    /// Each run's time in seconds, in order.
    fn times(&self) -> String {
        let times: Vec<String> = self
            .times
            .iter()
            .map(|t| format!("{:.2}", t.as_secs_f64()))
            .collect();
        format!("{} s", times.join(", "))
    }
}

#[derive(Default)]
struct Cpu(Option<Duration>);

impl Cpu {
    fn text(&self) -> Option<String> {
        self.0.map(|cpu| format!("{} ms", cpu.as_millis()))
    }
}

/// A folder of this process's own in the temporary folder, removed when
/// dropped (also when the bench fails).
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("cloud-images-ftps-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary folder");
        Self(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn verdict(met: bool) -> &'static str {
    if met { "PASS" } else { "MISS" }
}

/// Checks that `FOLDER/name` arrived whole, then deletes it.
fn arrived(
    runtime: &tokio::runtime::Runtime,
    fake: &FakeFtps,
    settings: &FtpsSettings,
    name: &str,
    size: u64,
) {
    let path = format!("{FOLDER}/{name}");
    assert_eq!(
        fake.files().get(&path),
        Some(&size),
        "{path} did not arrive whole"
    );
    runtime
        .block_on(settings.remove(&path))
        .expect("delete the uploaded file");
}

/// Where and as whom the library uploads.
struct Target {
    url: String,
    user: String,
    password: String,
    /// The test authority's certificate (PEM).
    ca: PathBuf,
}

impl Target {
    /// The server's settings, to delete what arrived.
    fn settings(&self) -> FtpsSettings {
        FtpsSettings::new(
            FtpServer::parse(&self.url).expect("the server's URL"),
            self.user.as_str(),
            self.password.as_str(),
        )
        .with_extra_roots_file(&self.ca)
        .expect("the test authority")
    }

    /// An IONOS client that sends uploads to this server (TLS 1.2, its
    /// default), as `IONOS_FTP_URL` and `IONOS_FTP_CA_FILE` would set it;
    /// `UploadUntil::Sent` makes no API call.
    fn client(&self) -> cloud_images::ionos::Client {
        cloud_images::ionos::Client::builder()
            .base_url("http://127.0.0.1:9")
            .ftp_login(self.user.as_str(), self.password.as_str())
            .ftp_url(&self.url)
            .ftp_ca_file(&self.ca)
            .build()
            .expect("the IONOS client")
    }
}

/// Runs the library's upload of `file` to `FOLDER/name` in a child process:
/// its time and peak RSS.
fn run_library(target: &Target, file: &Path, name: &str, size: u64) -> Measured {
    let args = [
        OsStr::new(&target.url),
        OsStr::new(&target.user),
        target.ca.as_os_str(),
        file.as_os_str(),
        OsStr::new(name),
    ];
    let run = common::child::run("library", &args, &[(ENV_PASSWORD, &target.password)]);
    let [sent] = run.figures[..] else {
        panic!("unexpected child output: {run:?}");
    };
    assert_eq!(sent, size, "the library sent {sent} of {size} bytes");
    run
}

/// The child: one upload, then the bytes sent, its time and its peak RSS.
fn child(args: &[String]) {
    let [url, user, ca, file, name] = args else {
        panic!("unexpected child arguments: {args:?}");
    };
    let target = Target {
        url: url.clone(),
        user: user.clone(),
        password: std::env::var(ENV_PASSWORD).expect("the password"),
        ca: PathBuf::from(ca),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (sent, elapsed) = runtime.block_on(library(&target, Path::new(file), name));
    common::child::report(&[sent], elapsed);
}

/// The library's side: `file` to `FOLDER/name` through
/// `ionos::Client::upload_image` until sent, TLS 1.2; the bytes sent and the
/// time the call took (reading the file's head, the CA file, connecting,
/// the folder's listing and the transfer).
async fn library(target: &Target, file: &Path, name: &str) -> (u64, Duration) {
    let client = target.client();
    let mut last = 0;
    let started = Instant::now();
    let sent = client
        .upload_image(
            ImageUpload::new(name, file, "de/fra").with_until(UploadUntil::Sent),
            |p| {
                if let UploadPhase::Staging { sent, .. } = p.phase() {
                    last = *sent;
                }
            },
        )
        .await
        .expect("the library's upload");
    let elapsed = started.elapsed();
    assert_eq!(sent.remote(), format!("{FOLDER}/{name}"), "the remote path");
    assert_eq!(last, sent.bytes(), "the last progress report");
    (sent.bytes(), elapsed)
}

/// The baseline: `curl --ssl-reqd -T` over TLS 1.2, the login in a config
/// file (not on the command line).
struct Curl {
    /// `curl VERSION`, from `curl -V`.
    version: String,
    config: PathBuf,
    ca: PathBuf,
    base: String,
}

impl Curl {
    /// The `curl` on the `PATH`, set up for `fake`, if it speaks FTPS; why
    /// not otherwise.
    fn find(dir: &Path, fake: &FakeFtps, ca: &Path) -> Result<Self, String> {
        let out = Command::new("curl")
            .arg("-V")
            .output()
            .map_err(|e| format!("no curl to run ({e})"))?;
        let text = String::from_utf8_lossy(&out.stdout);
        let version = text.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
        if !speaks_ftps(&text) {
            return Err(format!("{version} has no FTPS"));
        }
        let config = dir.join("curl.config");
        write_private(
            &config,
            &format!(
                "user = \"{}:{}\"\n",
                config_escape(fake.user()),
                config_escape(fake.password())
            ),
        )
        .map_err(|e| format!("cannot write curl's config file: {e}"))?;
        Ok(Self {
            version,
            config,
            ca: ca.to_owned(),
            base: format!("ftp://{}/{FOLDER}", fake.addr()),
        })
    }

    /// Uploads `file` to `FOLDER/name`: the time the curl process took.
    fn upload(&self, file: &Path, name: &str) -> Measured {
        let started = Instant::now();
        let out = Command::new("curl")
            .args([
                "--silent",
                "--show-error",
                "--ssl-reqd",
                "--tlsv1.2",
                "--tls-max",
                "1.2",
            ])
            .arg("--cacert")
            .arg(&self.ca)
            .arg("-K")
            .arg(&self.config)
            .arg("-T")
            .arg(file)
            .arg(format!("{}/{name}", self.base))
            .output()
            .expect("run curl");
        let time = started.elapsed();
        assert!(
            out.status.success(),
            "curl failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Measured {
            figures: Vec::new(),
            time,
            rss_kib: 0,
        }
    }
}

/// Whether `curl -V` lists FTPS among its protocols.
fn speaks_ftps(version: &str) -> bool {
    version
        .lines()
        .find_map(|l| l.strip_prefix("Protocols:"))
        .is_some_and(|protocols| protocols.split_whitespace().any(|p| p == "ftps"))
}

/// `text` inside a double-quoted value of a curl config file.
fn config_escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Writes `text` to a new file only this user may read.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(text.as_bytes())
}
