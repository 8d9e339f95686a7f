//! Helpers shared by the integration tests, each included with `mod support;`.
//!
//! Only what is the same in every file that uses it lives here; a test that
//! needs other values (a different back-off, another wait) keeps its own.

// Each integration test is a crate of its own and uses only some of these
// helpers: the rest would be dead code in that crate.
#![allow(dead_code)]

use std::time::Duration;

use cloud_images::RetryPolicy;
use cloud_images::wait::WaitOptions;

/// Retries with a short back-off (5 ms, at most 20 ms), so that tests which
/// retry do not sleep for the default back-off.
pub fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .with_initial_backoff(Duration::from_millis(5))
        .with_max_backoff(Duration::from_millis(20))
}

/// Polls every 5 ms (at most every 10 ms), giving up after 5 s.
pub fn quick_wait() -> WaitOptions {
    WaitOptions::default()
        .with_interval(Duration::from_millis(5))
        .with_max_interval(Duration::from_millis(10))
        .with_timeout(Duration::from_secs(5))
}

/// An environment of `vars` for `from_lookup`: the value of the first
/// variable of that name, or `None`.
pub fn lookup<V: AsRef<str>>(vars: &[(&str, V)]) -> impl Fn(&str) -> Option<String> + use<V> {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.as_ref().to_owned()))
        .collect();
    move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

/// A loopback URL on which nothing listens: a port the system handed out,
/// released again, so that every connection to it is refused.
pub fn closed_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}")
}

/// An image file for an upload test, in a folder of its own that is removed
/// when dropped: `len` varied bytes (so that a part in the wrong place
/// changes the hash) starting with `head` (a format's magic bytes).
pub struct ImageFile {
    dir: std::path::PathBuf,
    path: std::path::PathBuf,
    bytes: Vec<u8>,
}

impl ImageFile {
    /// The file `name`, of `len` bytes starting with `head`.
    pub fn new(name: &str, head: &[u8], len: usize) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "cloud-images-test-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let mut bytes: Vec<u8> = (0..len)
            .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[3])
            .collect();
        bytes[..head.len()].copy_from_slice(head);
        let path = dir.join(name);
        std::fs::write(&path, &bytes).unwrap();
        Self { dir, path, bytes }
    }

    /// A qcow2 file (its magic and version 3 first).
    pub fn qcow2(name: &str, len: usize) -> Self {
        Self::new(name, b"QFI\xfb\0\0\0\x03", len)
    }

    /// An ISO 9660 image (`CD001` at 32 KiB + 1); `len` is at least 0x8006.
    pub fn iso(name: &str, len: usize) -> Self {
        let mut head = vec![0u8; 0x8006];
        head[0x8001..].copy_from_slice(b"CD001");
        Self::new(name, &head, len.max(head.len()))
    }

    /// The file's path.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// The file's path as text.
    pub fn path_str(&self) -> &str {
        self.path.to_str().expect("a UTF-8 temporary path")
    }

    /// The file's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The file's length.
    pub fn len(&self) -> u64 {
        self.bytes.len() as u64
    }

    /// The SHA-256 of the file, in hex.
    pub fn sha256(&self) -> String {
        sha256(&self.bytes)
    }
}

impl Drop for ImageFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The SHA-256 of `bytes`, in hex.
pub fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Runs `cargo run --quiet --example EXAMPLE -- ARGS` from the top level,
/// as a user runs it, with `vars` and none of the providers' or object
/// stores' own variables from this process's environment (`CNTB_*`,
/// `DIGITALOCEAN_*`, `IONOS_*`, `CLOUD_IMAGES_*`, `AWS_*`, `SPACES_*`).
pub async fn run_example(
    example: &'static str,
    vars: Vec<(&'static str, String)>,
    args: Vec<String>,
) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        let mut command = std::process::Command::new(env!("CARGO"));
        command
            .args(["run", "--quiet", "--example", example, "--"])
            .args(args)
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
        for (name, _) in std::env::vars() {
            if [
                "CNTB_",
                "DIGITALOCEAN_",
                "IONOS_",
                "CLOUD_IMAGES_",
                "AWS_",
                "SPACES_",
            ]
            .iter()
            .any(|prefix| name.starts_with(prefix))
            {
                command.env_remove(name);
            }
        }
        command.envs(vars).output().expect("cargo runs")
    })
    .await
    .unwrap()
}

/// An FTPS server for `de/fra` on `fake` that registers a stored file at
/// once, and what a user sets for it: the account's login for FTP, the
/// server and its root certificate (in the returned file, kept while it
/// lives).
pub async fn ionos_ftps(
    fake: &cloud_images::testing::FakeIonos,
) -> (
    cloud_images::testing::FakeFtps,
    Vec<(&'static str, String)>,
    ImageFile,
) {
    let server = fake
        .start_ftps(
            "de/fra",
            Some(Duration::ZERO),
            cloud_images::testing::ftps::Config::default(),
        )
        .await
        .unwrap();
    let pem = server.ca_pem().as_bytes();
    let ca = ImageFile::new("ftps-ca.pem", pem, pem.len());
    let vars = vec![
        ("IONOS_USERNAME", server.user().to_owned()),
        ("IONOS_PASSWORD", server.password().to_owned()),
        ("IONOS_FTP_URL", server.url()),
        ("IONOS_FTP_CA_FILE", ca.path_str().to_owned()),
    ];
    (server, vars, ca)
}
