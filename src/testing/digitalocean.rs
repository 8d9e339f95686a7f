//! A fake of DigitalOcean's images API: [`FakeDigitalOcean`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::header::HeaderValue;
use http::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::net::ToSocketAddrs;

use super::fetch::{Fetch, Fetcher};
use super::harness::{
    Api, Response, Server, common_methods, empty, impl_fake_debug, lock, query_string, reply,
};
use super::{FetchReport, RecordedRequest, SeedImage, SeedStatus};
use crate::ClientBuilder;
use crate::values::format::ImageFormat;

/// How the fake behaves: its seed and its rules.
///
/// ```
/// use cloud_images::testing::digitalocean::Config;
///
/// let config = Config::default().with_distributions(300).with_private(0).with_import_polls(1);
/// assert_eq!(config.token.as_deref(), Some("do-demo-token"));
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// Public distribution images to seed (default 14).
    pub distributions: usize,
    /// Public application (one-click) images to seed (default 6).
    pub applications: usize,
    /// The account's own images (snapshots, backups, custom) to seed (default 9).
    pub private: usize,
    /// The bearer token the API accepts (default `do-demo-token`; `None`:
    /// any request is accepted).
    pub token: Option<String>,
    /// Added to every request (default none).
    pub latency: Duration,
    /// GETs of a new custom image before it is `available` (the first ones
    /// see `NEW`, then `pending`; default 3).
    pub import_polls: usize,
    /// GETs of an image action before it is `completed` (default 2).
    pub action_polls: usize,
    /// Requests allowed in a [`rate_window`](Self::rate_window): the
    /// `ratelimit-limit` header (default [`RATE_LIMIT`], 5000). Every
    /// request spends one; once none is left, the API answers 429 until
    /// the window ends.
    pub rate_limit: u64,
    /// How long a rate-limit window lasts (default an hour, as DigitalOcean's).
    pub rate_window: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            distributions: 14,
            applications: 6,
            private: 9,
            token: Some("do-demo-token".into()),
            latency: Duration::ZERO,
            import_polls: 3,
            action_polls: 2,
            rate_limit: RATE_LIMIT,
            rate_window: Duration::from_secs(3600),
        }
    }
}

impl Config {
    /// Public distribution images to seed.
    pub fn with_distributions(mut self, count: usize) -> Self {
        self.distributions = count;
        self
    }

    /// Public application images to seed.
    pub fn with_applications(mut self, count: usize) -> Self {
        self.applications = count;
        self
    }

    /// The account's own images to seed.
    pub fn with_private(mut self, count: usize) -> Self {
        self.private = count;
        self
    }

    /// The bearer token the API accepts, or none.
    pub fn with_token(mut self, token: Option<&str>) -> Self {
        self.token = token.map(str::to_owned);
        self
    }

    /// Added to every request.
    pub fn with_latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// GETs of a new custom image before it is `available`.
    pub fn with_import_polls(mut self, polls: usize) -> Self {
        self.import_polls = polls;
        self
    }

    /// GETs of an image action before it is `completed`.
    pub fn with_action_polls(mut self, polls: usize) -> Self {
        self.action_polls = polls;
        self
    }

    /// Requests allowed in a rate-limit window (see [`Config::rate_limit`]).
    pub fn with_rate_limit(mut self, limit: u64) -> Self {
        self.rate_limit = limit;
        self
    }

    /// How long a rate-limit window lasts (at least a second).
    pub fn with_rate_window(mut self, window: Duration) -> Self {
        self.rate_window = window.max(Duration::from_secs(1));
        self
    }
}

/// Which `type` filter an image answers to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Distribution,
    Application,
    Private,
}

/// Where a DigitalOcean image stands, for [`FakeDigitalOcean::set_image_status`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use cloud_images::testing::FakeDigitalOcean;
/// use cloud_images::testing::digitalocean::ImageState;
///
/// let fake = FakeDigitalOcean::start().await;
/// fake.set_image_status(180_000_002, ImageState::Deleted("The URL answered 404".into()));
/// let image = fake.image(180_000_002).unwrap();
/// assert_eq!((image["status"].as_str(), image["error_message"].as_str()), (Some("deleted"), Some("The URL answered 404")));
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImageState {
    /// `NEW`: a custom image just created.
    New,
    /// `pending`: being imported.
    Pending,
    /// `available`.
    Available,
    /// `deleted`, with this `error_message`: how a failed import ends.
    Deleted(String),
    /// `retired`: a public image no longer offered.
    Retired,
}

impl ImageState {
    fn word(&self) -> &'static str {
        match self {
            Self::New => "NEW",
            Self::Pending => "pending",
            Self::Available => "available",
            Self::Deleted(_) => "deleted",
            Self::Retired => "retired",
        }
    }
}

/// The rate-limit budget of the current window.
#[derive(Debug)]
struct Budget {
    /// When the window ends (seconds since the epoch).
    reset: u64,
    remaining: u64,
}

/// DigitalOcean's routes and state.
struct DigitalOcean {
    config: Config,
    images: Mutex<Vec<(Kind, Value)>>,
    actions: Mutex<Vec<Value>>,
    polls: Mutex<HashMap<String, usize>>,
    next_id: AtomicU64,
    budget: Mutex<Budget>,
    /// The next image action ends `errored`.
    fail_next_action: Mutex<bool>,
    /// The next custom image import ends `deleted` with this message.
    fail_next_import: Mutex<Option<String>>,
    /// Imports that fail, by image id, with their message.
    import_failures: Mutex<HashMap<u64, String>>,
    /// Pending account transfers: transfer id to image id.
    transfers: Mutex<HashMap<u64, u64>>,
    /// The imports' fetches of their URL, by image id.
    fetcher: Fetcher,
}

/// A fake of DigitalOcean's images API, running on loopback; it stops when
/// dropped.
///
/// Stateful (create, update, delete and transfers change what lists return),
/// seeded with distribution, application and private images, paginated with
/// `page`/`per_page` (at most 200) and `links.pages` + `meta.total`, with the
/// `type`, `private` and `tag_name` filters. A custom image goes `NEW` →
/// `pending` → `available` over GETs. When its `url` is on loopback (a
/// [`FakeStaging`](crate::testing::FakeStaging) presigned URL), the fake
/// really GETs it with a plain client, and the image ends only once the
/// fetch did: `available` (its `size_gigabytes` from the length), or
/// `deleted` with `error_message` [`DOWNLOAD_FAILED`] (no answer, an error
/// status such as an expired or wrongly signed URL's 403, a body cut short)
/// or [`UNSUPPORTED_FORMAT`] (an ISO image, an empty file);
/// [`fetched`](FakeDigitalOcean::fetched) tells what it got. A URL
/// elsewhere (`https://example.com/...`) is never fetched. An image action
/// goes `in-progress` → `completed`. A snapshot's account transfer can be started
/// (`account_transfer`, pending until the recipient accepts) and cancelled.
/// Every answer carries `ratelimit-*` headers ([`RATE_LIMIT`]) and the
/// server's own `x-request-id`; errors are `{"id", "message",
/// "request_id"}`. Quirks of the real API are kept: a region and a
/// distribution the published spec does not list (`atl1`, `AlmaLinux`),
/// `null` for absent numbers and slugs; text fields (`description`,
/// `error_message`) are strings, empty when there is nothing to say.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), cloud_images::Error> {
/// use cloud_images::testing::FakeDigitalOcean;
/// use cloud_images::{Paginate, PaginationOptions};
/// use futures::TryStreamExt;
///
/// let fake = FakeDigitalOcean::start().await;
/// let client = fake.client();
/// let options = PaginationOptions::default().with_page_size(5).with_concurrency(1);
/// let mine: Vec<_> = client.images_list().private(true).stream_with(options).try_collect().await?;
/// assert_eq!(mine.len(), 9);
/// let pages: Vec<_> = fake.requests().iter().map(|r| r.query_value("page").unwrap_or("1").to_owned()).collect();
/// assert_eq!(pages, ["1", "2"]);
/// # Ok(()) }
/// ```
pub struct FakeDigitalOcean(Server<DigitalOcean>);

impl_fake_debug!(FakeDigitalOcean);

impl FakeDigitalOcean {
    /// Starts on `addr` (e.g. `127.0.0.1:8081`).
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime.
    pub async fn start_on(addr: impl ToSocketAddrs, config: Config) -> std::io::Result<Self> {
        let latency = config.latency;
        let images = seed_images(&config);
        let api = DigitalOcean {
            next_id: AtomicU64::new(190_000_000),
            config,
            images: Mutex::new(images),
            actions: Mutex::default(),
            polls: Mutex::default(),
            budget: Mutex::new(Budget {
                reset: 0,
                remaining: 0,
            }),
            fail_next_action: Mutex::default(),
            fail_next_import: Mutex::default(),
            import_failures: Mutex::default(),
            transfers: Mutex::default(),
            fetcher: Fetcher::default(),
        };
        Ok(Self(Server::start_on(addr, api, latency).await?))
    }

    common_methods!("DigitalOcean", crate::digitalocean::Client);

    /// A client builder for this fake: its base URL and its token
    /// ([`Config::token`]).
    pub fn client_builder(&self) -> ClientBuilder<crate::digitalocean::DigitalOcean> {
        let builder = crate::digitalocean::Client::builder().base_url(self.base_url());
        match &self.0.api().config.token {
            Some(token) => builder.bearer_token(token),
            None => builder,
        }
    }

    /// All images, as the API would send them.
    pub fn images(&self) -> Vec<Value> {
        lock(&self.0.api().images)
            .iter()
            .map(|(_, i)| i.clone())
            .collect()
    }

    /// One image by id, as the API would send it.
    pub fn image(&self, id: u64) -> Option<Value> {
        lock(&self.0.api().images)
            .iter()
            .find(|(_, i)| i["id"] == id)
            .map(|(_, i)| i.clone())
    }

    /// Adds an image as DigitalOcean would list it (a `custom` image of the
    /// account, or a public `base` one with a slug); its id.
    pub fn insert_image(&self, seed: SeedImage) -> u64 {
        let api = self.0.api();
        let id = api.next_id.fetch_add(1, Ordering::SeqCst);
        let (status, error) = match &seed.status {
            SeedStatus::Ready => ("available", String::new()),
            SeedStatus::Pending => ("pending", String::new()),
            SeedStatus::Failed(message) => ("deleted", message.clone()),
        };
        let ready = matches!(seed.status, SeedStatus::Ready);
        let kind = if seed.custom {
            Kind::Private
        } else {
            Kind::Distribution
        };
        let slug = (!seed.custom).then(|| seed.name.to_ascii_lowercase().replace(' ', "-"));
        let image = json!({
            "id": id, "name": seed.name, "type": if seed.custom { "custom" } else { "base" },
            "distribution": seed.os, "slug": slug, "public": !seed.custom,
            "regions": if ready { json!(["nyc3"]) } else { json!([]) },
            "created_at": seed.created_text(),
            "min_disk_size": if ready { json!(seed.size_gb.ceil().max(1.0) as u64) } else { Value::Null },
            "size_gigabytes": if ready { json!(seed.size_gb) } else { Value::Null },
            "description": seed.description.unwrap_or_default(), "tags": [],
            "status": status, "error_message": error,
        });
        lock(&api.images).push((kind, image));
        id
    }

    /// Sets an image's `status` (and `error_message`); `false` when there
    /// is no image with this id.
    pub fn set_image_status(&self, id: u64, state: ImageState) -> bool {
        let message = match &state {
            ImageState::Deleted(message) => message.as_str(),
            _ => "",
        };
        let mut images = lock(&self.0.api().images);
        let Some((_, image)) = images.iter_mut().find(|(_, i)| i["id"] == id) else {
            return false;
        };
        image["status"] = json!(state.word());
        image["error_message"] = json!(message);
        true
    }

    /// The next image action (transfer, convert) ends `errored` instead of
    /// `completed`, and changes nothing.
    pub fn fail_next_action(&self) {
        *lock(&self.0.api().fail_next_action) = true;
    }

    /// The next custom image import fails as DigitalOcean's do: after its
    /// polls (see [`Config::import_polls`]) it is `deleted` with this
    /// `error_message`.
    pub fn fail_next_import(&self, error_message: &str) {
        *lock(&self.0.api().fail_next_import) = Some(error_message.to_owned());
    }

    /// The next custom image import cannot fetch its URL, whatever the URL:
    /// the image ends `deleted` with `error_message` [`DOWNLOAD_FAILED`].
    pub fn fail_next_fetch(&self) {
        self.0.api().fetcher.fail_next();
    }

    /// What the import of the image `id` got from its URL, once the fetch
    /// ended (or [`fail_next_fetch`](Self::fail_next_fetch) failed it):
    /// `None` while it runs, for a URL not on loopback (never fetched) and
    /// for an image not imported.
    pub fn fetched(&self, id: u64) -> Option<FetchReport> {
        self.0.api().fetcher.report(&id.to_string())
    }

    /// Sets an image's status and error message as text (to test words the
    /// API does not send); [`set_image_status`](Self::set_image_status) is
    /// the typed one.
    pub fn set_status(&self, id: u64, status: &str, error_message: &str) {
        let mut images = lock(&self.0.api().images);
        if let Some((_, image)) = images.iter_mut().find(|(_, i)| i["id"] == id) {
            image["status"] = json!(status);
            image["error_message"] = json!(error_message);
        }
    }
}

/// The `error_message` of an import whose URL could not be fetched (no
/// answer, an error status such as an expired or wrongly signed URL's 403,
/// a body cut short).
pub const DOWNLOAD_FAILED: &str = "Unable to download image";

/// The `error_message` of an import whose bytes are in a format DigitalOcean
/// does not take (an ISO image).
pub const UNSUPPORTED_FORMAT: &str = "Unsupported image format";

/// How DigitalOcean ends an import that fetched this: `None` when it is
/// `available`, else its `error_message`. It takes raw, qcow2, VHDX, VDI and
/// VMDK images, also gzip- or bzip2-compressed; not an ISO, nor an empty file.
fn import_verdict(report: &FetchReport) -> Option<&'static str> {
    if !report.is_success() {
        Some(DOWNLOAD_FAILED)
    } else if report.bytes == 0 || report.format == Some(ImageFormat::Iso) {
        Some(UNSUPPORTED_FORMAT)
    } else {
        None
    }
}

/// The default of [`Config::rate_limit`], DigitalOcean's: 5000 requests an hour.
pub const RATE_LIMIT: u64 = 5000;

/// Seconds since the epoch.
fn epoch_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl DigitalOcean {
    /// The budget now: a new window once the last one ended.
    fn budget(&self) -> std::sync::MutexGuard<'_, Budget> {
        let mut budget = lock(&self.budget);
        let now = epoch_now();
        if now >= budget.reset {
            budget.reset = now.saturating_add(self.config.rate_window.as_secs().max(1));
            budget.remaining = self.config.rate_limit;
        }
        budget
    }
}

impl Api for DigitalOcean {
    fn fault_body(&self, status: StatusCode) -> Value {
        error_body(status, status.canonical_reason().unwrap_or("error"))
    }

    fn finish(&self, response: &mut Response) {
        let (remaining, reset) = {
            let mut budget = self.budget();
            budget.remaining = budget.remaining.saturating_sub(1);
            (budget.remaining, budget.reset)
        };
        let headers = response.headers_mut();
        headers.insert("ratelimit-limit", self.config.rate_limit.into());
        headers.insert("ratelimit-remaining", remaining.into());
        headers.insert("ratelimit-reset", reset.into());
        if !headers.contains_key("x-request-id")
            && let Ok(id) = HeaderValue::from_str(&new_id())
        {
            headers.insert("x-request-id", id);
        }
    }

    fn unauthorized(&self, req: &RecordedRequest) -> Option<Response> {
        let want = self.config.token.as_ref()?;
        (req.header("authorization") != Some(&format!("Bearer {want}")))
            .then(|| error(StatusCode::UNAUTHORIZED, "Unable to authenticate you"))
    }

    fn route(&self, req: &RecordedRequest) -> Response {
        let spent = {
            let budget = self.budget();
            (budget.remaining == 0).then_some(budget.reset)
        };
        if let Some(reset) = spent {
            let mut resp = error_with_id(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                "API Rate limit exceeded.",
            );
            let wait = reset.saturating_sub(epoch_now()).max(1);
            resp.headers_mut().insert("retry-after", wait.into());
            return resp;
        }
        if let Some(refused) = self.unauthorized(req) {
            return refused;
        }
        match (&req.method, req.segments().as_slice()) {
            (&Method::GET, ["v2", "images"]) => self.list(req),
            (&Method::POST, ["v2", "images"]) => self.create(req),
            (&Method::GET, ["v2", "images", id]) => self.get(id),
            (&Method::PUT, ["v2", "images", id]) => self.update(id, req),
            (&Method::DELETE, ["v2", "images", id]) => self.delete(id),
            (&Method::GET, ["v2", "images", id, "actions"]) => self.list_actions(id, req),
            (&Method::POST, ["v2", "images", id, "actions"]) => self.post_action(id, req),
            (&Method::GET, ["v2", "images", id, "actions", action]) => self.get_action(id, action),
            (&Method::POST, ["v2", "images", id, "account_transfer"]) => self.create_transfer(id, req),
            (&Method::POST, ["v2", "images", id, "account_transfer", "cancel"]) => {
                self.cancel_transfer(id, req)
            }
            _ => error(
                StatusCode::NOT_FOUND,
                "The resource you requested could not be found.",
            ),
        }
    }
}

impl DigitalOcean {
    fn list(&self, req: &RecordedRequest) -> Response {
        let images = lock(&self.images);
        let mut found: Vec<Value> = images
            .iter()
            .filter(|(kind, image)| {
                let by_type = match req.query_value("type") {
                    Some("distribution") => *kind == Kind::Distribution,
                    Some("application") => *kind == Kind::Application,
                    _ => true,
                };
                let by_private = req.query_value("private") != Some("true") || *kind == Kind::Private;
                let by_tag = req.query_value("tag_name").is_none_or(|tag| {
                    image["tags"]
                        .as_array()
                        .is_some_and(|tags| tags.iter().any(|t| t == tag))
                });
                by_type && by_private && by_tag
            })
            .map(|(_, image)| image.clone())
            .collect();
        drop(images);
        found.sort_by_key(|i| i["id"].as_u64());
        page_of(
            "images",
            found,
            req,
            "/v2/images",
            &["private", "type", "tag_name"],
        )
    }

    fn create(&self, req: &RecordedRequest) -> Response {
        let Some(body) = req.json() else {
            return error(StatusCode::BAD_REQUEST, "The request body is not valid JSON.");
        };
        for field in ["name", "url", "region"] {
            if body[field].as_str().is_none_or(str::is_empty) {
                return unprocessable(&format!("{field} is required"));
            }
        }
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        if let Some(message) = lock(&self.fail_next_import).take() {
            lock(&self.import_failures).insert(id, message);
        }
        self.fetcher
            .start(&id.to_string(), body["url"].as_str().unwrap_or(""));
        let image = json!({
            "id": id, "name": body["name"], "type": "custom",
            "distribution": body.get("distribution").cloned().unwrap_or(json!("Unknown")),
            "slug": null, "public": false, "regions": [], "created_at": "2026-11-24T09:00:00Z",
            "min_disk_size": null, "size_gigabytes": null,
            "description": body.get("description").cloned().unwrap_or(json!("")),
            "tags": body.get("tags").cloned().unwrap_or(json!([])), "status": "NEW", "error_message": "",
        });
        lock(&self.images).push((Kind::Private, image.clone()));
        reply(StatusCode::ACCEPTED, json!({"image": image}))
    }

    /// Finds an image by id or (public images) slug.
    fn with_image<T>(&self, key: &str, f: impl FnOnce(&mut Value) -> T) -> Option<T> {
        let mut images = lock(&self.images);
        let image = images
            .iter_mut()
            .map(|(_, i)| i)
            .find(|i| is_id(&i["id"], key) || i["slug"].as_str() == Some(key))?;
        Some(f(image))
    }

    fn get(&self, key: &str) -> Response {
        let polls = self.config.import_polls;
        let found = self.with_image(key, |image| {
            // A new custom image makes progress with every GET.
            if matches!(image["status"].as_str(), Some("NEW" | "pending")) {
                let mut seen = lock(&self.polls);
                let n = seen.entry(format!("image-{key}")).or_default();
                *n += 1;
                let id = image["id"].as_u64().unwrap_or(0);
                // An imported URL on loopback: the end waits for its fetch.
                let (fetching, fetched) = match self.fetcher.state(&id.to_string()) {
                    Fetch::Running => (true, None),
                    Fetch::Done(report) => (false, Some(report)),
                    Fetch::Skipped => (false, None),
                };
                // `fail_next_import` first: it stands for what the fetch cannot show.
                let failure = lock(&self.import_failures)
                    .get(&id)
                    .cloned()
                    .or_else(|| fetched.as_ref().and_then(import_verdict).map(str::to_owned));
                if fetching {
                    if *n > 1 {
                        image["status"] = json!("pending");
                    }
                } else if *n >= polls
                    && let Some(message) = failure
                {
                    image["status"] = json!("deleted");
                    image["error_message"] = json!(message);
                } else if *n >= polls {
                    let size = fetched.map_or(2.36, |r| gigabytes(r.bytes));
                    image["status"] = json!("available");
                    image["regions"] = json!(["nyc3"]);
                    image["size_gigabytes"] = json!(size);
                    image["min_disk_size"] = json!(20);
                } else if *n > 1 {
                    image["status"] = json!("pending");
                }
            }
            image.clone()
        });
        match found {
            Some(image) => reply(StatusCode::OK, json!({"image": image})),
            None => not_found(),
        }
    }

    fn update(&self, key: &str, req: &RecordedRequest) -> Response {
        let Some(body) = req.json() else {
            return error(StatusCode::BAD_REQUEST, "The request body is not valid JSON.");
        };
        let found = self.with_image(key, |image| {
            if image["public"] == true {
                return Err(StatusCode::FORBIDDEN);
            }
            for field in ["name", "description", "distribution"] {
                if let Some(value) = body.get(field).filter(|v| v.is_string()) {
                    image[field] = value.clone();
                }
            }
            Ok(image.clone())
        });
        match found {
            Some(Ok(image)) => reply(StatusCode::OK, json!({"image": image})),
            Some(Err(status)) => error(status, "You do not have access to this image."),
            None => not_found(),
        }
    }

    fn delete(&self, key: &str) -> Response {
        let mut images = lock(&self.images);
        let Some(at) = images.iter().position(|(_, i)| is_id(&i["id"], key)) else {
            return not_found();
        };
        if images[at].1["public"] == true {
            return error(StatusCode::FORBIDDEN, "You do not have access to this image.");
        }
        images.remove(at);
        empty(StatusCode::NO_CONTENT)
    }

    fn list_actions(&self, key: &str, req: &RecordedRequest) -> Response {
        if self.with_image(key, |_| ()).is_none() {
            return not_found();
        }
        let actions: Vec<Value> = lock(&self.actions)
            .iter()
            .filter(|a| is_id(&a["resource_id"], key))
            .cloned()
            .collect();
        page_of("actions", actions, req, &format!("/v2/images/{key}/actions"), &[])
    }

    fn post_action(&self, key: &str, req: &RecordedRequest) -> Response {
        let Some(body) = req.json() else {
            return error(StatusCode::BAD_REQUEST, "The request body is not valid JSON.");
        };
        let found = self.with_image(key, |image| {
            let first_region = image["regions"][0].as_str().unwrap_or("nyc3").to_owned();
            image["id"].as_u64().map(|id| (id, first_region))
        });
        let Some((image_id, image_region)) = found.flatten() else {
            return not_found();
        };
        let region = match body["type"].as_str() {
            Some("transfer") => match body["region"].as_str() {
                Some(region) if !region.is_empty() => region.to_owned(),
                _ => return unprocessable("region is required for a transfer"),
            },
            Some("convert") => image_region,
            _ => return unprocessable("type must be transfer or convert"),
        };
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let action = json!({
            "id": id, "status": "in-progress", "type": body["type"], "started_at": "2026-11-24T09:05:00Z",
            "completed_at": null, "resource_id": image_id, "resource_type": "image",
            "region": region_object(&region), "region_slug": region,
        });
        if std::mem::take(&mut *lock(&self.fail_next_action)) {
            lock(&self.polls).insert(format!("action-fails-{id}"), 0);
        }
        lock(&self.actions).push(action.clone());
        reply(StatusCode::CREATED, json!({"action": action}))
    }

    fn get_action(&self, key: &str, action_id: &str) -> Response {
        let mut actions = lock(&self.actions);
        let Some(action) = actions
            .iter_mut()
            .find(|a| is_id(&a["id"], action_id) && is_id(&a["resource_id"], key))
        else {
            return not_found();
        };
        if action["status"] == "in-progress" {
            let mut polls = lock(&self.polls);
            let fails = polls.contains_key(&format!("action-fails-{action_id}"));
            let n = polls.entry(format!("action-{action_id}")).or_default();
            *n += 1;
            if *n >= self.config.action_polls && fails {
                action["status"] = json!("errored");
                action["completed_at"] = json!("2026-11-24T09:07:00Z");
            } else if *n >= self.config.action_polls {
                action["status"] = json!("completed");
                action["completed_at"] = json!("2026-11-24T09:07:00Z");
                if action["type"] == "transfer"
                    && let Some(region) = action["region_slug"].as_str()
                {
                    let region = region.to_owned();
                    drop(polls);
                    self.with_image(key, |image| {
                        if let Some(regions) = image["regions"].as_array_mut() {
                            regions.push(json!(region));
                        }
                    });
                }
            }
        }
        reply(StatusCode::OK, json!({"action": action}))
    }
}

impl DigitalOcean {
    /// `POST /v2/images/{id}/account_transfer`: a pending transfer of a
    /// snapshot to one recipient (`recipient_email` or `recipient_uuid`);
    /// `201 {"transfer_id"}`. The image stays in the account until the
    /// recipient accepts, which the fake's single account never does.
    fn create_transfer(&self, key: &str, req: &RecordedRequest) -> Response {
        let Some(body) = req.json() else {
            return error(StatusCode::BAD_REQUEST, "The request body is not valid JSON.");
        };
        let recipients = ["recipient_email", "recipient_uuid"]
            .iter()
            .filter(|field| body[**field].as_str().is_some_and(|v| !v.is_empty()))
            .count();
        if recipients != 1 {
            return error(
                StatusCode::BAD_REQUEST,
                "exactly one of recipient_email and recipient_uuid is required",
            );
        }
        let Some(kind) = self.with_image(key, |image| (image["id"].as_u64(), image["type"].clone())) else {
            return not_found();
        };
        let (Some(image_id), true) = (kind.0, kind.1 == "snapshot") else {
            return error(
                StatusCode::BAD_REQUEST,
                "Only snapshot images may be transferred to another account.",
            );
        };
        let transfer_id = self.next_id.fetch_add(1, Ordering::SeqCst);
        lock(&self.transfers).insert(transfer_id, image_id);
        reply(StatusCode::CREATED, json!({"transfer_id": transfer_id}))
    }

    /// `POST /v2/images/{id}/account_transfer/cancel` with `{"transfer_id"}`:
    /// the sender cancels a pending transfer of this image; `204`.
    fn cancel_transfer(&self, key: &str, req: &RecordedRequest) -> Response {
        let Some(transfer_id) = req.json().and_then(|body| body["transfer_id"].as_u64()) else {
            return error(StatusCode::BAD_REQUEST, "transfer_id (an integer) is required");
        };
        let mut transfers = lock(&self.transfers);
        match transfers.get(&transfer_id) {
            Some(image_id) if is_id(&json!(image_id), key) => {
                transfers.remove(&transfer_id);
                empty(StatusCode::NO_CONTENT)
            }
            _ => not_found(),
        }
    }
}

/// The answer with one page of `items` under `key`, with DigitalOcean's
/// `links` (on the fake's own host, keeping the request's `filters`) and
/// `meta`; a `per_page` outside 1..=200 is the API's 400.
fn page_of(key: &str, items: Vec<Value>, req: &RecordedRequest, base: &str, filters: &[&str]) -> Response {
    let number = |name: &str, default: u64| {
        req.query_value(name)
            .map_or(Ok(default), |v| v.parse::<u64>().map_err(|_| ()))
    };
    let (Ok(page), Ok(per_page)) = (number("page", 1), number("per_page", 20)) else {
        return error(StatusCode::BAD_REQUEST, "page and per_page must be numbers");
    };
    if !(1..=200).contains(&per_page) || page == 0 {
        return error(
            StatusCode::BAD_REQUEST,
            "per_page must be between 1 and 200, page at least 1",
        );
    }
    let total = items.len() as u64;
    let last = total.div_ceil(per_page).max(1);
    let host = req.header("host").unwrap_or("127.0.0.1");
    let link = |p: u64| {
        let (p, per_page) = (p.to_string(), per_page.to_string());
        let kept = req
            .query
            .iter()
            .filter(|(k, _)| filters.contains(&k.as_str()))
            .map(|(k, v)| (k.as_str(), v.as_str()));
        let pairs = [("page", p.as_str()), ("per_page", per_page.as_str())]
            .into_iter()
            .chain(kept);
        format!("http://{host}{base}?{}", query_string(pairs))
    };
    let mut pages = serde_json::Map::new();
    if page > 1 {
        pages.insert("first".into(), json!(link(1)));
        pages.insert("prev".into(), json!(link(page - 1)));
    }
    if page < last {
        pages.insert("next".into(), json!(link(page + 1)));
        pages.insert("last".into(), json!(link(last)));
    }
    let start = ((page - 1) * per_page).min(total) as usize;
    let data: Vec<Value> = items.into_iter().skip(start).take(per_page as usize).collect();
    reply(
        StatusCode::OK,
        json!({key: data, "links": {"pages": pages}, "meta": {"total": total}}),
    )
}

/// A size in GB with two decimals, as `size_gigabytes`.
fn gigabytes(bytes: u64) -> f64 {
    (bytes as f64 / 1e9 * 100.0).ceil() / 100.0
}

/// Whether a JSON number is the id in a path segment.
fn is_id(value: &Value, key: &str) -> bool {
    value.as_u64().is_some() && value.as_u64() == key.parse().ok()
}

fn error_body(status: StatusCode, message: &str) -> Value {
    let id = match status.as_u16() {
        401 => "Unauthorized",
        404 => "not_found",
        422 => "unprocessable_entity",
        429 => "too_many_requests",
        500..=599 => "server_error",
        _ => "bad_request",
    };
    json!({"id": id, "message": message, "request_id": new_id()})
}

/// An error in DigitalOcean's shape; the `x-request-id` header and the body's
/// `request_id` are the same id, as the real API sends them.
fn error(status: StatusCode, message: &str) -> Response {
    let body = error_body(status, message);
    with_request_id(status, body)
}

/// An error with this `id` (and no `request_id`, as DigitalOcean's 429).
fn error_with_id(status: StatusCode, id: &str, message: &str) -> Response {
    reply(status, json!({"id": id, "message": message}))
}

/// The region object DigitalOcean puts in an action.
fn region_object(slug: &str) -> Value {
    let name = REGION_NAMES
        .iter()
        .find(|(s, _)| *s == slug)
        .map_or_else(|| slug.to_uppercase(), |(_, name)| (*name).to_owned());
    json!({
        "name": name, "slug": slug,
        "features": ["backups", "ipv6", "metadata", "install_agent", "storage", "image_transfer"],
        "available": true,
        "sizes": ["s-1vcpu-1gb", "s-1vcpu-2gb", "s-2vcpu-2gb", "s-2vcpu-4gb", "s-4vcpu-8gb", "c-2", "g-2vcpu-8gb"],
    })
}

const REGION_NAMES: &[(&str, &str)] = &[
    ("nyc1", "New York 1"),
    ("nyc3", "New York 3"),
    ("sfo3", "San Francisco 3"),
    ("ams3", "Amsterdam 3"),
    ("fra1", "Frankfurt 1"),
    ("lon1", "London 1"),
    ("sgp1", "Singapore 1"),
    ("tor1", "Toronto 1"),
    ("blr1", "Bangalore 1"),
    ("syd1", "Sydney 1"),
    ("atl1", "Atlanta 1"),
];

fn with_request_id(status: StatusCode, body: Value) -> Response {
    let id = body["request_id"].as_str().unwrap_or_default().to_owned();
    let mut resp = reply(status, body);
    if let Ok(id) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-request-id", id);
    }
    resp
}

fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "The resource you were accessing could not be found.",
    )
}

fn unprocessable(message: &str) -> Response {
    error(StatusCode::UNPROCESSABLE_ENTITY, message)
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

const DISTRIBUTIONS: &[(&str, &str, &str)] = &[
    ("ubuntu-24-04-x64", "24.04 (LTS) x64", "Ubuntu"),
    ("ubuntu-22-04-x64", "22.04 (LTS) x64", "Ubuntu"),
    ("debian-12-x64", "12 x64", "Debian"),
    ("debian-11-x64", "11 x64", "Debian"),
    ("fedora-41-x64", "41 x64", "Fedora"),
    ("centos-stream-9-x64", "9 Stream x64", "CentOS"),
    ("rockylinux-9-x64", "9 x64", "Rocky Linux"),
    ("almalinux-9-x64", "AlmaLinux 9", "AlmaLinux"),
];

const APPLICATIONS: &[(&str, &str)] = &[
    ("docker-20-04", "Docker 25.0.3 on Ubuntu 22.04"),
    ("wordpress-20-04", "WordPress 6.6 on Ubuntu 22.04"),
    ("gitlab-20-04", "GitLab 17.2 CE on Ubuntu 22.04"),
];

/// Deterministic, realistic images: distributions, applications, then the
/// account's own. Some use a region and a distribution the published spec
/// does not list (`atl1`, `AlmaLinux`).
fn seed_images(config: &Config) -> Vec<(Kind, Value)> {
    let mut images = Vec::new();
    let regions = json!([
        "nyc1", "nyc3", "sfo3", "ams3", "fra1", "lon1", "sgp1", "tor1", "blr1", "syd1", "atl1"
    ]);
    for i in 0..config.distributions {
        let (slug, name, distribution) = DISTRIBUTIONS[i % DISTRIBUTIONS.len()];
        let round = i / DISTRIBUTIONS.len();
        let slug = if round == 0 {
            slug.to_owned()
        } else {
            format!("{slug}-r{round}")
        };
        images.push((
            Kind::Distribution,
            json!({
                "id": 160_000_000 + i as u64, "name": name, "type": "base", "distribution": distribution,
                "slug": slug, "public": true, "regions": regions, "created_at": format!("2026-0{}-0{}T12:00:00Z", 1 + i % 9, 1 + i % 9),
                "min_disk_size": 7 + (i % 3) * 5, "size_gigabytes": 0.5 + (i % 5) as f64 * 0.25,
                "description": "", "tags": [], "status": "available", "error_message": "",
            }),
        ));
    }
    for i in 0..config.applications {
        let (slug, name) = APPLICATIONS[i % APPLICATIONS.len()];
        images.push((
            Kind::Application,
            json!({
                "id": 170_000_000 + i as u64, "name": name, "type": "base", "distribution": "Ubuntu",
                "slug": format!("{slug}-{i}"), "public": true, "regions": regions,
                "created_at": "2026-06-01T12:00:00Z", "min_disk_size": 25, "size_gigabytes": 4.1,
                "description": "One-click application", "tags": [], "status": "available", "error_message": "",
            }),
        ));
    }
    for i in 0..config.private {
        let (kind, distribution) = match i % 3 {
            0 => ("snapshot", "Ubuntu"),
            1 => ("backup", "Debian"),
            _ => ("custom", "Arch Linux"),
        };
        images.push((
            Kind::Private,
            json!({
                "id": 180_000_000 + i as u64, "name": format!("{kind}-{i}"), "type": kind,
                "distribution": distribution, "slug": null, "public": false,
                "regions": if i % 4 == 0 { json!(["atl1"]) } else { json!(["nyc3", "fra1"]) },
                "created_at": format!("2026-10-{:02}T08:30:00Z", 1 + i % 28),
                "min_disk_size": if kind == "custom" { Value::Null } else { json!(25) },
                "size_gigabytes": 2.36 + i as f64,
                "description": if kind == "custom" { "Imported from a URL" } else { "" },
                "tags": if i % 2 == 0 { json!(["production"]) } else { json!([]) },
                "status": "available", "error_message": "",
            }),
        ));
    }
    images
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::fetch::reports::{failed, fetched};

    #[test]
    fn imports_end_as_digitalocean_ends_them() {
        for format in [
            ImageFormat::Raw,
            ImageFormat::Qcow2,
            ImageFormat::Gzip,
            ImageFormat::Bzip2,
            ImageFormat::Vmdk,
            ImageFormat::Vhdx,
            ImageFormat::Vdi,
        ] {
            assert_eq!(import_verdict(&fetched(1024, format)), None, "{format}");
        }
        assert_eq!(
            import_verdict(&fetched(1024, ImageFormat::Iso)),
            Some(UNSUPPORTED_FORMAT)
        );
        assert_eq!(
            import_verdict(&fetched(0, ImageFormat::Raw)),
            Some(UNSUPPORTED_FORMAT)
        );
        for report in [failed(Some(403)), failed(Some(404)), failed(None)] {
            assert_eq!(import_verdict(&report), Some(DOWNLOAD_FAILED), "{report:?}");
        }
    }

    #[test]
    fn sizes_are_gigabytes_rounded_up_to_two_decimals() {
        assert_eq!(gigabytes(0), 0.0);
        assert_eq!(gigabytes(1), 0.01);
        assert_eq!(gigabytes(2_360_000_000), 2.36);
        assert_eq!(gigabytes(2_360_000_001), 2.37);
    }
}
