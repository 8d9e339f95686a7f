//! The provider fakes' fetch of an image import's URL: a plain GET of a URL on
//! loopback (a [`FakeStaging`](super::FakeStaging) presigned URL), bounded in
//! time and size, that reports what arrived ([`FetchReport`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::Digest;
use tokio::task::JoinSet;

use super::harness::lock;
use crate::values::format::ImageFormat;

/// What a provider fake got when it fetched the URL of an image import
/// (`FakeDigitalOcean::fetched`, `FakeContabo::fetched`): the bytes at the
/// far end of an upload.
///
/// A fake fetches only URLs on loopback, with a plain GET (no proxy,
/// redirects followed only on loopback), for at most
/// [`TIME_LIMIT`](Self::TIME_LIMIT) and [`SIZE_LIMIT`](Self::SIZE_LIMIT)
/// bytes; past either, the fetch failed.
///
/// ```
/// # #[cfg(feature = "digitalocean")]
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), cloud_images::Error> {
/// use std::time::Duration;
///
/// use cloud_images::Execute;
/// use cloud_images::digitalocean::types::ImageNewCustom;
/// use cloud_images::testing::{FakeDigitalOcean, FakeStaging, FetchReport, digitalocean};
/// use cloud_images::wait::WaitOptions;
///
/// let staging = FakeStaging::start().await;
/// let fake = FakeDigitalOcean::start().await;
/// let client = fake.client();
/// // A URL without a signature: the staging server refuses it, as S3 does.
/// let url = format!("{}/{}/debian-13.qcow2", staging.endpoint(), staging.bucket());
/// let body = ImageNewCustom::builder().name("debian-13").url(url).region("nyc3");
/// let created = client.images_create_custom().body(body).execute().await?;
/// let id = created.image.id as u64;
///
/// let quick = WaitOptions::default().with_interval(Duration::from_millis(10));
/// let err = client.wait_for_image(&id.to_string(), quick, |_| ()).await.unwrap_err();
/// assert!(err.to_string().contains(digitalocean::DOWNLOAD_FAILED), "{err}");
/// let report = fake.fetched(id).expect("fetched");
/// assert_eq!(report.status, Some(403));
/// assert!(!report.is_success());
/// assert_eq!(FetchReport::SIZE_LIMIT, 1 << 30);
/// # Ok(()) }
/// # #[cfg(not(feature = "digitalocean"))]
/// # fn main() {}
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FetchReport {
    /// The HTTP status the URL answered; `None` when it did not answer (or
    /// the fake was told the cloud cannot fetch: `fail_next_fetch`).
    pub status: Option<u16>,
    /// The body's length, as received (up to where it stopped, when the
    /// fetch failed midway).
    pub bytes: u64,
    /// The format its first bytes show; `None` when no whole body was
    /// received.
    pub format: Option<ImageFormat>,
    /// The SHA-256 of the whole body, in lowercase hex; empty when the fetch
    /// failed.
    pub sha256: String,
    /// Why the fetch failed, as the fake saw it (`HTTP 403`, a connection
    /// refused, a body cut short, a limit passed), never with the URL;
    /// `None` when it succeeded.
    pub failure: Option<String>,
}

impl FetchReport {
    /// The longest a fake waits for a URL's whole body.
    pub const TIME_LIMIT: Duration = Duration::from_secs(60);

    /// The most bytes a fake fetches (1 GiB): a longer body is a failed fetch.
    pub const SIZE_LIMIT: u64 = 1 << 30;

    /// The URL answered 2xx with its whole body.
    pub fn is_success(&self) -> bool {
        self.failure.is_none()
    }

    fn failed(status: Option<u16>, bytes: u64, failure: String) -> Self {
        Self {
            status,
            bytes,
            format: None,
            sha256: String::new(),
            failure: Some(failure),
        }
    }
}

/// Where the fetch of an import's URL stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Fetch {
    /// The URL is not on loopback: not fetched (the import goes on as
    /// without a network).
    Skipped,
    /// Still fetching.
    Running,
    /// Fetched (or failed).
    Done(FetchReport),
}

/// Whether a URL's host is on loopback (`127.0.0.0/8`, `::1`, `localhost`)
/// over HTTP(S): the only URLs the provider fakes fetch.
pub(crate) fn is_loopback_url(url: &str) -> bool {
    reqwest::Url::parse(url).is_ok_and(|url| is_loopback(&url))
}

fn is_loopback(url: &reqwest::Url) -> bool {
    if !matches!(url.scheme(), "http" | "https") {
        return false;
    }
    let Some(host) = url.host_str() else {
        return false;
    };
    match host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<std::net::IpAddr>()
    {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    }
}

/// The path of a URL, without its query and fragment (`/b/debian.qcow2`).
pub(crate) fn url_path(url: &str) -> &str {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    &url[..end]
}

/// The most redirects a fetch follows.
const MAX_REDIRECTS: usize = 5;

/// Whether a fetch follows a redirect to `target` after `hops` redirects:
/// only a few, and only on loopback. `Err` says why not.
fn redirect_verdict(hops: usize, target: &reqwest::Url) -> Result<(), &'static str> {
    if hops >= MAX_REDIRECTS {
        Err("too many redirects")
    } else if !is_loopback(target) {
        Err("a redirect away from loopback, which a fake does not fetch")
    } else {
        Ok(())
    }
}

/// Whether a body of `declared` bytes (its `Content-Length`) or `received`
/// so far passes `limit`: `Some` failure when it does.
fn size_verdict(limit: u64, declared: Option<u64>, received: u64) -> Option<String> {
    match declared {
        Some(n) if n > limit => Some(format!(
            "the body is {n} bytes, more than the {limit} a fake fetches"
        )),
        _ if received > limit => Some(format!(
            "the body is longer than the {limit} bytes a fake fetches"
        )),
        _ => None,
    }
}

/// How long and how much a fetch may take.
#[derive(Clone, Copy, Debug)]
struct Limits {
    time: Duration,
    size: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            time: FetchReport::TIME_LIMIT,
            size: FetchReport::SIZE_LIMIT,
        }
    }
}

/// The imports' fetches of a provider fake, by image id: each runs as a task
/// of its own, aborted when the fake stops.
pub(crate) struct Fetcher {
    fetches: Arc<Mutex<HashMap<String, Fetch>>>,
    fail_next: Mutex<bool>,
    tasks: Mutex<JoinSet<()>>,
    limits: Limits,
}

impl Default for Fetcher {
    fn default() -> Self {
        Self {
            fetches: Arc::default(),
            fail_next: Mutex::new(false),
            tasks: Mutex::new(JoinSet::new()),
            limits: Limits::default(),
        }
    }
}

impl Fetcher {
    /// With other limits than [`FetchReport`]'s, to test them quickly.
    #[cfg(test)]
    fn with_limits(time: Duration, size: u64) -> Self {
        Self {
            limits: Limits { time, size },
            ..Self::default()
        }
    }

    /// The next import cannot fetch its URL, whatever the URL.
    pub(crate) fn fail_next(&self) {
        *lock(&self.fail_next) = true;
    }

    /// Starts fetching `url` for the image `id`, if it is on loopback (or
    /// ends it failed at once after [`fail_next`](Self::fail_next)).
    pub(crate) fn start(&self, id: &str, url: &str) {
        if std::mem::take(&mut *lock(&self.fail_next)) {
            let report = FetchReport::failed(
                None,
                0,
                "the cloud could not reach the URL (fail_next_fetch)".into(),
            );
            lock(&self.fetches).insert(id.to_owned(), Fetch::Done(report));
            return;
        }
        if !is_loopback_url(url) {
            lock(&self.fetches).insert(id.to_owned(), Fetch::Skipped);
            return;
        }
        // Running before the task starts, so that its end is never overwritten.
        lock(&self.fetches).insert(id.to_owned(), Fetch::Running);
        let fetches = Arc::clone(&self.fetches);
        let (id, url, limits) = (id.to_owned(), url.to_owned(), self.limits);
        let mut tasks = lock(&self.tasks);
        while tasks.try_join_next().is_some() {}
        tasks.spawn(async move {
            let report = match tokio::time::timeout(limits.time, fetch(&url, limits.size)).await {
                Ok(report) => report,
                Err(_) => FetchReport::failed(
                    None,
                    0,
                    format!(
                        "the whole body did not arrive within {} ms",
                        limits.time.as_millis()
                    ),
                ),
            };
            lock(&fetches).insert(id, Fetch::Done(report));
        });
    }

    /// Where the fetch for the image `id` stands (`Skipped` for an image
    /// that was never imported).
    pub(crate) fn state(&self, id: &str) -> Fetch {
        lock(&self.fetches).get(id).cloned().unwrap_or(Fetch::Skipped)
    }

    /// What the fetch for the image `id` got, once it ended.
    pub(crate) fn report(&self, id: &str) -> Option<FetchReport> {
        match self.state(id) {
            Fetch::Done(report) => Some(report),
            Fetch::Skipped | Fetch::Running => None,
        }
    }
}

/// GETs `url` with a plain client, at most `size_limit` bytes of it: its
/// status, length, format and hash. Failures never name the URL (a presigned
/// URL is a credential).
async fn fetch(url: &str, size_limit: u64) -> FetchReport {
    let redirects = reqwest::redirect::Policy::custom(|attempt| {
        match redirect_verdict(attempt.previous().len(), attempt.url()) {
            Ok(()) => attempt.follow(),
            Err(why) => attempt.error(why),
        }
    });
    let client = match reqwest::Client::builder().no_proxy().redirect(redirects).build() {
        Ok(client) => client,
        Err(e) => return FetchReport::failed(None, 0, format!("no HTTP client: {}", causes(e))),
    };
    let mut response = match client.get(url).send().await {
        Ok(response) => response,
        Err(e) => {
            return FetchReport::failed(None, 0, format!("the URL could not be fetched: {}", causes(e)));
        }
    };
    let status = response.status().as_u16();
    if !response.status().is_success() {
        return FetchReport::failed(Some(status), 0, format!("HTTP {status}"));
    }
    if let Some(failure) = size_verdict(size_limit, response.content_length(), 0) {
        return FetchReport::failed(Some(status), 0, failure);
    }
    let mut head = Vec::new();
    let mut hash = sha2::Sha256::new();
    let mut bytes = 0u64;
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = ImageFormat::HEAD_LEN.saturating_sub(head.len());
                head.extend_from_slice(&chunk[..room.min(chunk.len())]);
                hash.update(&chunk);
                bytes += chunk.len() as u64;
                if let Some(failure) = size_verdict(size_limit, None, bytes) {
                    return FetchReport::failed(Some(status), bytes, failure);
                }
            }
            Ok(None) => break,
            Err(e) => {
                let failure = format!("the body was cut short: {}", causes(e));
                return FetchReport::failed(Some(status), bytes, failure);
            }
        }
    }
    FetchReport {
        status: Some(status),
        bytes,
        format: Some(ImageFormat::detect(&head)),
        sha256: hex(&hash.finalize()),
        failure: None,
    }
}

/// An error and its sources, without the URL.
fn causes(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Bytes in lowercase hex.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_urls_are_fetched() {
        for url in [
            "http://127.0.0.1:9000/b/k.qcow2?X-Amz-Signature=1",
            "http://127.1.2.3/x",
            "http://[::1]:80/x",
            "http://LOCALHOST:8080/x",
        ] {
            assert!(is_loopback_url(url), "{url}");
        }
        for url in [
            "https://example.com/debian.qcow2",
            "http://10.0.0.1/x",
            "http://[::2]/x",
            "ftp://127.0.0.1/x",
            "not a url",
            "http://localhost.example.com/x",
            "http://127.0.0.1.example.com/x",
        ] {
            assert!(!is_loopback_url(url), "{url}");
        }
        assert_eq!(
            url_path("https://s/b/k.qcow2?X-Amz-Expires=60#f"),
            "https://s/b/k.qcow2"
        );
        assert_eq!(url_path("https://s/b/k.iso"), "https://s/b/k.iso");
    }

    #[test]
    fn redirects_are_followed_a_few_times_on_loopback_only() {
        let url = |s: &str| reqwest::Url::parse(s).unwrap();
        assert_eq!(redirect_verdict(0, &url("http://127.0.0.1:9/b/k")), Ok(()));
        assert_eq!(redirect_verdict(4, &url("http://localhost:9/b/k")), Ok(()));
        assert_eq!(
            redirect_verdict(5, &url("http://127.0.0.1:9/b/k")),
            Err("too many redirects")
        );
        assert!(redirect_verdict(0, &url("https://example.com/k")).is_err());
    }

    #[test]
    fn bodies_past_the_size_limit_fail() {
        let limit = FetchReport::SIZE_LIMIT;
        assert_eq!(size_verdict(limit, None, 0), None);
        assert_eq!(size_verdict(limit, Some(limit), limit), None);
        let declared = size_verdict(limit, Some(limit + 1), 0).unwrap();
        assert!(declared.contains(&format!("{}", limit + 1)), "{declared}");
        assert!(size_verdict(limit, None, limit + 1).is_some());
        // A body longer than it said is stopped at the limit too.
        assert!(size_verdict(limit, Some(10), limit + 1).is_some());
    }

    #[test]
    fn hashes_are_lowercase_hex() {
        assert_eq!(hex(&[0x00, 0xab, 0x7f]), "00ab7f");
        assert_eq!(
            hex(&sha2::Sha256::digest(b"")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    /// How a hostile loopback server answers every GET.
    #[derive(Clone, Copy)]
    enum Answer {
        /// A 200 whose body never ends.
        Endless,
        /// A 200 declaring this `Content-Length`, with no body.
        Declares(u64),
        /// Nothing, ever.
        Silent,
        /// A redirect to this URL.
        Redirect(&'static str),
    }

    /// A loopback server answering `answer`: its URL.
    async fn hostile(answer: Answer) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/staging/debian.qcow2?X-Amz-Signature=0",
            listener.local_addr().unwrap()
        );
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut request = [0u8; 4096];
                    let _ = stream.read(&mut request).await;
                    let head = match answer {
                        Answer::Endless => "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_owned(),
                        Answer::Declares(n) => format!("HTTP/1.1 200 OK\r\nContent-Length: {n}\r\n\r\n"),
                        Answer::Silent => {
                            tokio::time::sleep(Duration::from_secs(3600)).await;
                            return;
                        }
                        Answer::Redirect(to) => {
                            format!("HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\n\r\n")
                        }
                    };
                    let _ = stream.write_all(head.as_bytes()).await;
                    let chunk = vec![0x5a; 64 * 1024];
                    while matches!(answer, Answer::Endless) && stream.write_all(&chunk).await.is_ok() {}
                    tokio::time::sleep(Duration::from_secs(5)).await;
                });
            }
        });
        url
    }

    /// The report once the fetch ended (at most 10 s).
    async fn ended(fetcher: &Fetcher, id: &str) -> FetchReport {
        for _ in 0..1000 {
            if let Some(report) = fetcher.report(id) {
                return report;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the fetch of {id} did not end");
    }

    #[tokio::test]
    async fn a_body_without_end_stops_at_the_size_limit() {
        let fetcher = Fetcher::with_limits(Duration::from_secs(10), 1 << 20);
        fetcher.start("endless", &hostile(Answer::Endless).await);
        let report = ended(&fetcher, "endless").await;
        let failure = report.failure.unwrap();
        assert!(failure.contains("longer than the 1048576 bytes"), "{failure}");
        assert!(
            report.bytes > 1 << 20 && report.bytes < 2 << 20,
            "{}",
            report.bytes
        );
        assert_eq!(report.status, Some(200));
        assert_eq!(report.format, None);
    }

    #[tokio::test]
    async fn a_declared_length_past_the_size_limit_is_not_read() {
        let fetcher = Fetcher::with_limits(Duration::from_secs(10), 1 << 20);
        fetcher.start("big", &hostile(Answer::Declares(5 << 30)).await);
        let report = ended(&fetcher, "big").await;
        assert!(report.failure.unwrap().contains("5368709120 bytes"));
        assert_eq!(report.bytes, 0);
    }

    #[tokio::test]
    async fn a_server_that_never_answers_stops_at_the_time_limit() {
        let fetcher = Fetcher::with_limits(Duration::from_millis(200), 1 << 20);
        fetcher.start("silent", &hostile(Answer::Silent).await);
        assert_eq!(fetcher.state("silent"), Fetch::Running);
        let report = ended(&fetcher, "silent").await;
        assert_eq!(
            report.failure.as_deref(),
            Some("the whole body did not arrive within 200 ms")
        );
        assert_eq!(report.status, None);
    }

    #[tokio::test]
    async fn a_redirect_away_from_loopback_is_not_followed_and_the_url_stays_out() {
        let fetcher = Fetcher::with_limits(Duration::from_secs(10), 1 << 20);
        fetcher.start(
            "away",
            &hostile(Answer::Redirect("https://example.com/debian.qcow2")).await,
        );
        let report = ended(&fetcher, "away").await;
        let failure = report.failure.unwrap();
        assert!(failure.contains("away from loopback"), "{failure}");
        assert!(
            !failure.contains("X-Amz-Signature") && !failure.contains("127.0.0.1"),
            "{failure}"
        );
        assert!(!failure.contains("example.com"), "{failure}");
    }

    #[tokio::test]
    async fn a_failed_next_fetch_ends_at_once_and_skips_nothing_else() {
        let fetcher = Fetcher::default();
        fetcher.start("a", "https://example.com/debian.qcow2");
        assert_eq!(fetcher.state("a"), Fetch::Skipped);
        assert_eq!(fetcher.report("a"), None);
        fetcher.fail_next();
        fetcher.start("b", "https://example.com/debian.qcow2");
        let report = fetcher.report("b").unwrap();
        assert!(!report.is_success());
        assert_eq!(report.status, None);
        fetcher.start("c", "https://example.com/debian.qcow2");
        assert_eq!(fetcher.state("c"), Fetch::Skipped, "one failure only");
        assert_eq!(fetcher.state("never imported"), Fetch::Skipped);
    }
}

/// Reports for the provider fakes' verdict tests.
#[cfg(test)]
pub(crate) mod reports {
    use super::*;

    /// A whole body of `bytes` bytes in this format.
    pub(crate) fn fetched(bytes: u64, format: ImageFormat) -> FetchReport {
        FetchReport {
            status: Some(200),
            bytes,
            format: Some(format),
            sha256: "0".repeat(64),
            failure: None,
        }
    }

    /// A fetch that failed with this status (`None`: no answer).
    pub(crate) fn failed(status: Option<u16>) -> FetchReport {
        FetchReport::failed(status, 0, "failed".into())
    }
}
