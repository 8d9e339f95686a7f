//! A fake of IONOS Cloud's images API (Cloud API v6): [`FakeIonos`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use http::header::HeaderValue;
use http::{Method, StatusCode};
use serde_json::{Map, Value, json};
use tokio::net::ToSocketAddrs;

use super::harness::{Api, Response, Server, common_methods, empty, impl_fake_debug, lock, reply};
use super::{RecordedRequest, SeedImage, SeedStatus};
use crate::ClientBuilder;

/// How the fake behaves: its seed and its rules.
///
/// ```
/// use cloud_images::testing::ionos::Config;
///
/// let config = Config::default().with_token(None).with_contract_number(31_415_926).with_request_polls(1);
/// assert_eq!(config.basic, Some(("user@example.com".to_owned(), "ionos-demo-password".to_owned())));
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// Public images (IONOS's own) to seed (default 12).
    pub public: usize,
    /// The account's own images to seed (default 5).
    pub private: usize,
    /// The user name and password HTTP Basic accepts (default
    /// `user@example.com` / `ionos-demo-password`; `None`: none).
    pub basic: Option<(String, String)>,
    /// The bearer token the API accepts (default `ionos-demo-token`; `None`:
    /// none). With neither credential configured, any request is accepted.
    pub token: Option<String>,
    /// When set, a request whose `X-Contract-Number` is another number is
    /// refused with 403 (a request without one is served). Default none.
    pub contract_number: Option<u32>,
    /// Polls of a request's status until it is `DONE`: the first sees
    /// `QUEUED`, the next ones `RUNNING` (default 3).
    pub request_polls: usize,
    /// Added to every request (default none).
    pub latency: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            public: 12,
            private: 5,
            basic: Some(("user@example.com".into(), "ionos-demo-password".into())),
            token: Some("ionos-demo-token".into()),
            contract_number: None,
            request_polls: 3,
            latency: Duration::ZERO,
        }
    }
}

impl Config {
    /// Public images to seed.
    pub fn with_public(mut self, count: usize) -> Self {
        self.public = count;
        self
    }

    /// The account's own images to seed.
    pub fn with_private(mut self, count: usize) -> Self {
        self.private = count;
        self
    }

    /// The user name and password HTTP Basic accepts, or none.
    pub fn with_basic(mut self, credentials: Option<(&str, &str)>) -> Self {
        self.basic = credentials.map(|(user, password)| (user.to_owned(), password.to_owned()));
        self
    }

    /// The bearer token the API accepts, or none.
    pub fn with_token(mut self, token: Option<&str>) -> Self {
        self.token = token.map(str::to_owned);
        self
    }

    /// The only contract number accepted in `X-Contract-Number`, or any.
    pub fn with_contract_number(mut self, number: impl Into<Option<u32>>) -> Self {
        self.contract_number = number.into();
        self
    }

    /// Polls of a request's status until it is `DONE`.
    pub fn with_request_polls(mut self, polls: usize) -> Self {
        self.request_polls = polls;
        self
    }

    /// Added to every request.
    pub fn with_latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }
}

/// What an accepted request does once it is done.
#[derive(Clone, Debug)]
enum Change {
    /// Sets these properties.
    Update(Map<String, Value>),
    Delete,
}

#[derive(Clone, Debug)]
struct Request {
    image_id: String,
    change: Change,
    polls: usize,
    status: &'static str,
    /// Set when the request is to fail.
    failure: Option<String>,
    /// What was asked: method, the URL's path and query, body, headers
    /// (without credentials), when.
    method: String,
    target: String,
    body: String,
    headers: Map<String, Value>,
    created: String,
    /// Where the fake was addressed (`http://host/cloudapi/v6`).
    base: String,
}

/// Where an IONOS image stands (its `metadata.state`), for
/// [`FakeIonos::set_image_status`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use cloud_images::testing::FakeIonos;
/// use cloud_images::testing::ionos::ImageState;
///
/// let fake = FakeIonos::start().await;
/// let id = FakeIonos::private_id(0);
/// fake.set_image_status(&id, ImageState::Busy);
/// assert_eq!(fake.image(&id).unwrap()["metadata"]["state"], "BUSY");
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImageState {
    /// `AVAILABLE`.
    Available,
    /// `BUSY`: a change is being carried out.
    Busy,
    /// `INACTIVE`.
    Inactive,
    /// `FAILED`.
    Failed,
}

impl ImageState {
    fn word(self) -> &'static str {
        match self {
            Self::Available => "AVAILABLE",
            Self::Busy => "BUSY",
            Self::Inactive => "INACTIVE",
            Self::Failed => "FAILED",
        }
    }
}

/// IONOS Cloud's routes and state.
struct Ionos {
    config: Config,
    images: Arc<Mutex<Vec<Value>>>,
    requests: Mutex<HashMap<String, Request>>,
    next_failure: Mutex<Option<String>>,
    next_id: AtomicU64,
    served: AtomicU64,
    /// The FTPS server last started ([`FakeIonos::start_ftps`]): its URL,
    /// login and root certificate, for [`FakeIonos::client_builder`].
    ftps: Mutex<Option<FtpsLogin>>,
}

/// How a client reaches a fake FTPS server.
#[derive(Clone)]
#[cfg_attr(not(feature = "upload"), allow(dead_code))]
struct FtpsLogin {
    url: String,
    user: String,
    password: String,
    ca_pem: String,
}

/// A fake of IONOS Cloud's images API (Cloud API v6), running on loopback; it
/// stops when dropped.
///
/// Served at the root and under the production prefix `/cloudapi/v6` alike;
/// every `href` and `Location` points at the fake, under the prefix the
/// request used. Stateful: `PUT`, `PATCH` and `DELETE` answer `202 Accepted`
/// with a `Location` header pointing at `/requests/{id}/status`; each poll of that
/// status moves the request along, `QUEUED` → `RUNNING` → `DONE`, and the
/// change is applied when it is done (or the request ends `FAILED` with a
/// message, see [`fail_next_request`](Self::fail_next_request)). While a
/// request runs, its image's `metadata.state` is `BUSY`, then `AVAILABLE`
/// again. The list is one collection; at `depth=0` its items are references
/// without `properties`. `filter.<name>=<value>` keeps the items whose
/// property or metadata `name` contains `value`, not case-sensitive (several
/// filters: all of them); it needs `depth` > 0, as the API's filters do.
/// Authentication is HTTP Basic or `Authorization:
/// Bearer <token>` (401 otherwise); an expected contract number is enforced
/// when configured. `GET /requests` (with `depth`) and `GET /requests/{id}`
/// show the accepted changes with their `metadata.requestStatus`. Every
/// answer carries `X-RateLimit-Limit`, `-Remaining` and `-Burst`
/// ([`RATE_LIMIT`], [`RATE_BURST`]); errors are `{"httpStatus",
/// "messages": [{"errorCode", "message"}]}`. Images carry every property the
/// real API sends, with its values (`exposeSerial: false`,
/// `requireLegacyBios: true`, `applicationType: "UNKNOWN"`, `imageAliases:
/// []`), and licence types the published spec does not list (`WINDOWS2025`,
/// `RHEL`); a change may set `applicationType` to any string (the API keeps
/// no list of its values). Public images cannot be changed (403).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), cloud_images::Error> {
/// use cloud_images::testing::FakeIonos;
/// use cloud_images::testing::ionos::Config;
/// use cloud_images::wait::WaitOptions;
/// use std::time::Duration;
///
/// let fake = FakeIonos::start_with(Config::default().with_token(None)).await;
/// let client = fake.client(); // HTTP Basic, as configured
/// let quick = WaitOptions::default().with_interval(Duration::from_millis(10));
/// let done = client.delete_image(&FakeIonos::private_id(0), quick).await?;
/// assert_eq!(fake.images().len(), 16);
/// let methods: Vec<_> = fake.requests().iter().map(|r| r.method.to_string()).collect();
/// assert_eq!(methods, ["DELETE", "GET", "GET", "GET"]); // 202, then QUEUED, RUNNING, DONE
/// assert!(fake.requests()[0].header("authorization").unwrap().starts_with("Basic "));
/// # Ok(()) }
/// ```
pub struct FakeIonos(Server<Ionos>);

impl_fake_debug!(FakeIonos);

impl FakeIonos {
    /// Starts on `addr` (e.g. `127.0.0.1:8082`).
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime.
    pub async fn start_on(addr: impl ToSocketAddrs, config: Config) -> std::io::Result<Self> {
        let latency = config.latency;
        let api = Ionos {
            images: Arc::new(Mutex::new(seed_images(&config))),
            config,
            requests: Mutex::default(),
            next_failure: Mutex::default(),
            next_id: AtomicU64::new(1),
            served: AtomicU64::new(0),
            ftps: Mutex::default(),
        };
        Ok(Self(Server::start_on(addr, api, latency).await?))
    }

    common_methods!("IONOS Cloud", crate::ionos::Client);

    /// A client builder for this fake: its base URL, its token
    /// ([`Config::token`]) or else its Basic credentials ([`Config::basic`]),
    /// and its contract number ([`Config::contract_number`]) when set; with
    /// an FTPS server started ([`start_ftps`](Self::start_ftps), the last
    /// one), its URL, login and root certificate for uploads.
    pub fn client_builder(&self) -> ClientBuilder<crate::ionos::Ionos> {
        let config = &self.0.api().config;
        #[cfg(feature = "upload")]
        let ftps = lock(&self.0.api().ftps).clone();
        let mut builder = crate::ionos::Client::builder().base_url(self.base_url());
        builder = match (&config.token, &config.basic) {
            (Some(token), _) => builder.bearer_token(token),
            (None, Some((user, password))) => builder.basic_auth(user, password),
            (None, None) => builder,
        };
        #[cfg(feature = "upload")]
        if let Some(ftps) = ftps {
            builder = builder
                .ftp_url(ftps.url)
                .ftp_login(ftps.user, ftps.password)
                .ftp_ca_pem(ftps.ca_pem);
        }
        match config.contract_number {
            Some(number) => builder.contract_number(number),
            None => builder,
        }
    }

    /// All images, as the API sends them at `depth=1` (from the root).
    pub fn images(&self) -> Vec<Value> {
        let base = self.base_url();
        lock(&self.0.api().images)
            .iter()
            .map(|i| present(i, &base))
            .collect()
    }

    /// One image by id.
    pub fn image(&self, id: &str) -> Option<Value> {
        let base = self.base_url();
        lock(&self.0.api().images)
            .iter()
            .find(|i| i["id"] == id)
            .map(|i| present(i, &base))
    }

    /// Adds an image as IONOS would list it (the account's own, or a public
    /// one with [`SeedImage::with_custom`]`(false)`); its id.
    pub fn insert_image(&self, seed: SeedImage) -> String {
        let api = self.0.api();
        let n = api.next_id.fetch_add(1, Ordering::SeqCst);
        let id = format!("{n:08x}-5eed-4000-8000-{n:012x}");
        let state = match seed.status {
            SeedStatus::Ready => "AVAILABLE",
            SeedStatus::Pending => "BUSY",
            _ => "FAILED",
        };
        let created = seed.created_text();
        let licence = if seed.is_windows() { "WINDOWS2022" } else { "LINUX" };
        let mut image = image_json(&id, &created, state, seed.custom);
        let properties = &mut image["properties"];
        properties["name"] = json!(seed.name);
        properties["description"] = json!(seed.description.unwrap_or_default());
        properties["size"] = json!(seed.size_gb);
        properties["licenceType"] = json!(licence);
        properties["public"] = json!(!seed.custom);
        lock(&api.images).push(image);
        id
    }

    /// Adds an image exactly as given (as the API sends it at `depth=1`,
    /// with at least `id`), e.g. one with `null`s the real API may send.
    pub fn insert_raw_image(&self, image: Value) {
        lock(&self.0.api().images).push(image);
    }

    /// Sets an image's `metadata.state`; `false` when there is no image
    /// with this id.
    pub fn set_image_status(&self, id: &str, state: ImageState) -> bool {
        let mut images = lock(&self.0.api().images);
        let Some(image) = images.iter_mut().find(|i| i["id"] == id) else {
            return false;
        };
        image["metadata"]["state"] = json!(state.word());
        true
    }

    /// The id of the n-th seeded image of the account (not public).
    pub fn private_id(n: usize) -> String {
        image_id(PRIVATE_BASE + n as u64)
    }

    /// The id of the n-th seeded public image.
    pub fn public_id(n: usize) -> String {
        image_id(PUBLIC_BASE + n as u64)
    }

    /// Starts an FTPS server for `location` (e.g. `de/fra`), as IONOS has
    /// one per location: a file stored in `hdd-images/` or `iso-images/`
    /// becomes one of the account's images `register_after` later (named
    /// as the file, in `location`, `imageType` `HDD` or `CDROM`, `AVAILABLE`),
    /// or never with `None`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// use cloud_images::ftps::{FtpServer, FtpsSettings};
    /// use cloud_images::testing::{FakeIonos, ftps};
    ///
    /// let fake = FakeIonos::start().await;
    /// let server = fake.start_ftps("de/fra", Some(Duration::ZERO), ftps::Config::default()).await?;
    /// let file = std::env::temp_dir().join(format!("doc-{}.iso", std::process::id()));
    /// let mut iso = vec![0u8; 0x8010];
    /// iso[0x8001..0x8006].copy_from_slice(b"CD001");
    /// std::fs::write(&file, &iso)?;
    /// let settings = FtpsSettings::new(FtpServer::parse(&server.url())?, server.user(), server.password())
    ///     .with_extra_roots_pem(server.ca_pem().as_bytes())?;
    /// settings.upload(&file, "iso-images", "rescue.iso", &mut |_, _| {}).await?;
    /// # std::fs::remove_file(&file)?;
    /// tokio::time::sleep(Duration::from_millis(50)).await;
    /// let image = fake.images().into_iter().find(|i| i["properties"]["name"] == "rescue.iso").unwrap();
    /// assert_eq!(image["properties"]["imageType"], "CDROM");
    /// assert_eq!(image["properties"]["location"], "de/fra");
    /// # Ok(()) }
    /// ```
    pub async fn start_ftps(
        &self,
        location: &str,
        register_after: Option<Duration>,
        config: super::ftps::Config,
    ) -> std::io::Result<super::FakeFtps> {
        let server = super::FakeFtps::start_with(config).await?;
        *lock(&self.0.api().ftps) = Some(FtpsLogin {
            url: server.url(),
            user: server.user().to_owned(),
            password: server.password().to_owned(),
            ca_pem: server.ca_pem().to_owned(),
        });
        let images = Arc::downgrade(&self.0.api().images);
        let location = location.to_owned();
        server.on_stored(move |stored| {
            let Some(delay) = register_after else { return };
            let image_type = match stored.path.split_once('/') {
                Some(("hdd-images", _)) => "HDD",
                Some(("iso-images", _)) => "CDROM",
                _ => return,
            };
            let name = stored.path.rsplit('/').next().unwrap_or_default().to_owned();
            let (images, location) = (images.clone(), location.clone());
            let size_gb = (stored.len as f64 / (1u64 << 30) as f64).max(0.001);
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                let Some(images) = images.upgrade() else { return };
                let id = uuid::Uuid::new_v4().to_string();
                let created = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                let mut image = image_json(&id, &created, "AVAILABLE", true);
                let properties = &mut image["properties"];
                properties["name"] = json!(name);
                properties["location"] = json!(location);
                properties["imageType"] = json!(image_type);
                properties["size"] = json!(size_gb);
                properties["licenceType"] = json!("UNKNOWN");
                lock(&images).push(image);
            });
        });
        Ok(server)
    }

    /// The next accepted change ends `FAILED` with this message (the image
    /// is left as it was).
    pub fn fail_next_request(&self, message: &str) {
        *lock(&self.0.api().next_failure) = Some(message.to_owned());
    }
}

/// The limit the fake's `X-RateLimit-Limit` header announces.
pub const RATE_LIMIT: u64 = 120;
/// The fake's `X-RateLimit-Burst`.
pub const RATE_BURST: u64 = 50;

impl Api for Ionos {
    fn fault_body(&self, status: StatusCode) -> Value {
        error_body(
            status,
            &status.as_u16().to_string(),
            status.canonical_reason().unwrap_or("error"),
        )
    }

    fn finish(&self, response: &mut Response) {
        let served = self.served.fetch_add(1, Ordering::SeqCst) + 1;
        let headers = response.headers_mut();
        headers.insert("x-ratelimit-limit", RATE_LIMIT.into());
        headers.insert("x-ratelimit-remaining", RATE_LIMIT.saturating_sub(served).into());
        headers.insert("x-ratelimit-burst", RATE_BURST.into());
    }

    fn unauthorized(&self, req: &RecordedRequest) -> Option<Response> {
        (!self.authorized(req)).then(|| error(StatusCode::UNAUTHORIZED, "315", "Unauthorized"))
    }

    fn route(&self, req: &RecordedRequest) -> Response {
        if let Some(refused) = self.unauthorized(req) {
            return refused;
        }
        if let Some(want) = self.config.contract_number
            && let Some(got) = req.header("x-contract-number")
            && got != want.to_string()
        {
            return error(
                StatusCode::FORBIDDEN,
                "317",
                &format!("Access denied: contract {got} is not one of the user's contracts"),
            );
        }
        let depth = match req.query_value("depth").map(str::parse::<u8>) {
            None => 0,
            Some(Ok(depth)) if depth <= 10 => depth,
            Some(_) => {
                return error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "100",
                    "[depth] must be a whole number from 0 to 10",
                );
            }
        };
        let segments = req.segments();
        let segments = match segments.as_slice() {
            ["cloudapi", "v6", rest @ ..] => rest,
            all => all,
        };
        match (&req.method, segments) {
            (&Method::GET, ["images"]) => self.list(req, depth),
            (&Method::GET, ["images", id]) => self.get(id, req),
            (&Method::PATCH, ["images", id]) => self.patch(id, req),
            (&Method::PUT, ["images", id]) => self.put(id, req),
            (&Method::DELETE, ["images", id]) => self.delete(id, req),
            (&Method::GET, ["requests"]) => self.list_requests(req, depth),
            (&Method::GET, ["requests", id]) => self.get_request(id, req, depth),
            (&Method::GET, ["requests", id, "status"]) => self.request_status(id, req),
            _ => not_found(),
        }
    }
}

/// Writable image properties (the rest are read-only).
const WRITABLE: &[&str] = &[
    "name",
    "description",
    "licenceType",
    "cloudInit",
    "cpuHotPlug",
    "cpuHotUnplug",
    "ramHotPlug",
    "ramHotUnplug",
    "nicHotPlug",
    "nicHotUnplug",
    "discVirtioHotPlug",
    "discVirtioHotUnplug",
    "discScsiHotPlug",
    "discScsiHotUnplug",
    "exposeSerial",
    "requireLegacyBios",
    "applicationType",
];

/// The properties that take `true` or `false`.
const BOOLEAN: &[&str] = &[
    "cpuHotPlug",
    "cpuHotUnplug",
    "ramHotPlug",
    "ramHotUnplug",
    "nicHotPlug",
    "nicHotUnplug",
    "discVirtioHotPlug",
    "discVirtioHotUnplug",
    "discScsiHotPlug",
    "discScsiHotUnplug",
    "exposeSerial",
    "requireLegacyBios",
];

/// The licence types the fake accepts: the spec's and newer ones.
const LICENCE_TYPES: &[&str] = &[
    "UNKNOWN",
    "WINDOWS",
    "WINDOWS2016",
    "WINDOWS2019",
    "WINDOWS2022",
    "WINDOWS2025",
    "RHEL",
    "LINUX",
    "OTHER",
];

impl Ionos {
    fn authorized(&self, req: &RecordedRequest) -> bool {
        let (basic, token) = (&self.config.basic, &self.config.token);
        if basic.is_none() && token.is_none() {
            return true;
        }
        let sent = req.header("authorization").unwrap_or_default();
        let by_token = token.as_ref().is_some_and(|t| sent == format!("Bearer {t}"));
        let by_basic = basic.as_ref().is_some_and(|(user, password)| {
            let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            sent == format!("Basic {encoded}")
        });
        by_token || by_basic
    }

    fn list(&self, req: &RecordedRequest, depth: u8) -> Response {
        let images = lock(&self.images);
        let base = base(req);
        let filters = filters(req);
        let items: Vec<Value> = images
            .iter()
            .map(|image| {
                let image = present(image, &base);
                if depth == 0 {
                    json!({"id": image["id"], "type": "image", "href": image["href"]})
                } else {
                    image
                }
            })
            .filter(|item| {
                filters
                    .iter()
                    .all(|(name, value)| matches_filter(item, name, value))
            })
            .collect();
        let href = format!("{base}/images");
        reply(
            StatusCode::OK,
            json!({"id": "images", "type": "collection", "href": href, "items": items}),
        )
    }

    fn get(&self, id: &str, req: &RecordedRequest) -> Response {
        match lock(&self.images).iter().find(|i| i["id"] == id) {
            Some(image) => reply(StatusCode::OK, present(image, &base(req))),
            None => not_found(),
        }
    }

    fn patch(&self, id: &str, req: &RecordedRequest) -> Response {
        let Some(Value::Object(properties)) = req.json() else {
            return error(
                StatusCode::BAD_REQUEST,
                "100",
                "The request body is not a JSON object",
            );
        };
        self.change(id, req, properties)
    }

    fn put(&self, id: &str, req: &RecordedRequest) -> Response {
        let Some(body) = req.json() else {
            return error(
                StatusCode::BAD_REQUEST,
                "100",
                "The request body is not a JSON object",
            );
        };
        let Some(Value::Object(properties)) = body.get("properties").cloned() else {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "100",
                "[(root).properties] is required",
            );
        };
        self.change(id, req, properties)
    }

    /// Validates a change of properties and accepts it as a request.
    fn change(&self, id: &str, req: &RecordedRequest, properties: Map<String, Value>) -> Response {
        let mut images = lock(&self.images);
        let Some(image) = images.iter_mut().find(|i| i["id"] == id) else {
            return not_found();
        };
        if image["properties"]["public"] == true {
            return error(
                StatusCode::FORBIDDEN,
                "317",
                "Access denied: public images cannot be changed",
            );
        }
        for (field, value) in &properties {
            if !WRITABLE.contains(&field.as_str()) {
                return error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "100",
                    &format!("[(root).properties.{field}] is read-only"),
                );
            }
            if field == "licenceType" && !value.as_str().is_some_and(|v| LICENCE_TYPES.contains(&v)) {
                return error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "100",
                    &format!("[(root).properties.licenceType] {value} is not a licence type"),
                );
            }
            if BOOLEAN.contains(&field.as_str()) && !value.is_boolean() {
                return error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "100",
                    &format!("[(root).properties.{field}] {value} is not a boolean"),
                );
            }
            // A plain string, with no list of values (the official SDK's
            // ImageProperties has none).
            if field == "applicationType" && !value.is_string() {
                return error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "100",
                    &format!("[(root).properties.applicationType] {value} is not a string"),
                );
            }
            if field == "name" && value.as_str().is_none_or(|v| v.trim().is_empty()) {
                return error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "100",
                    "[(root).properties.name] must not be empty",
                );
            }
        }
        // The answer shows the image as it will be; the change lands when
        // the request is done.
        let mut shown = present(image, &base(req));
        for (field, value) in &properties {
            shown["properties"][field] = value.clone();
        }
        image["metadata"]["state"] = json!("BUSY");
        shown["metadata"]["state"] = json!("BUSY");
        drop(images);
        let location = self.accept(req, id, Change::Update(properties));
        accepted(reply(StatusCode::ACCEPTED, shown), &location)
    }

    fn delete(&self, id: &str, req: &RecordedRequest) -> Response {
        let mut images = lock(&self.images);
        let Some(image) = images.iter_mut().find(|i| i["id"] == id) else {
            return not_found();
        };
        if image["properties"]["public"] == true {
            return error(
                StatusCode::FORBIDDEN,
                "317",
                "Access denied: public images cannot be deleted",
            );
        }
        image["metadata"]["state"] = json!("BUSY");
        drop(images);
        let location = self.accept(req, id, Change::Delete);
        accepted(empty(StatusCode::ACCEPTED), &location)
    }

    /// Queues a request; its `Location`.
    fn accept(&self, req: &RecordedRequest, image_id: &str, change: Change) -> String {
        let n = self.next_id.fetch_add(1, Ordering::SeqCst);
        let id = format!("{n:08x}-7e57-4e00-9000-{n:012x}");
        let failure = lock(&self.next_failure).take();
        let headers = req
            .headers
            .iter()
            .filter(|(name, _)| *name != http::header::AUTHORIZATION)
            .filter_map(|(name, value)| Some((name.to_string(), json!(value.to_str().ok()?))))
            .collect();
        let query = req
            .query
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        let target = if query.is_empty() {
            req.path.clone()
        } else {
            format!("{}?{query}", req.path)
        };
        let created = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        lock(&self.requests).insert(
            id.clone(),
            Request {
                image_id: image_id.to_owned(),
                change,
                polls: 0,
                status: "QUEUED",
                failure,
                method: req.method.to_string(),
                target,
                body: String::from_utf8_lossy(&req.body).into_owned(),
                headers,
                created,
                base: base(req),
            },
        );
        format!("{}/requests/{id}/status", base(req))
    }

    fn request_status(&self, id: &str, req: &RecordedRequest) -> Response {
        let mut requests = lock(&self.requests);
        let Some(request) = requests.get_mut(id) else {
            return not_found();
        };
        let mut finished = None;
        if matches!(request.status, "QUEUED" | "RUNNING") {
            request.polls += 1;
            if request.polls >= self.config.request_polls {
                request.status = if request.failure.is_some() {
                    "FAILED"
                } else {
                    "DONE"
                };
                finished = Some(request.clone());
            } else if request.polls > 1 {
                request.status = "RUNNING";
            }
        }
        let body = status_json(id, request, &base(req), true);
        drop(requests);
        if let Some(request) = finished {
            self.finish_request(&request);
        }
        reply(StatusCode::OK, body)
    }

    fn list_requests(&self, req: &RecordedRequest, depth: u8) -> Response {
        let base = base(req);
        let requests = lock(&self.requests);
        let mut items: Vec<(&String, &Request)> = requests.iter().collect();
        items.sort_by(|a, b| (&a.1.created, a.0).cmp(&(&b.1.created, b.0)));
        let items: Vec<Value> = items
            .into_iter()
            .map(|(id, request)| request_json(id, request, &base, depth))
            .collect();
        reply(
            StatusCode::OK,
            json!({"id": "requests", "type": "collection", "href": format!("{base}/requests"),
                   "items": items, "offset": 0, "limit": 1000,
                   "_links": {"self": format!("{base}/requests")}}),
        )
    }

    fn get_request(&self, id: &str, req: &RecordedRequest, depth: u8) -> Response {
        match lock(&self.requests).get(id) {
            // A resource itself shows its properties and metadata at any depth.
            Some(request) => reply(
                StatusCode::OK,
                request_json(id, request, &base(req), depth.max(1)),
            ),
            None => not_found(),
        }
    }

    /// Applies a finished request to its image.
    fn finish_request(&self, request: &Request) {
        let mut images = lock(&self.images);
        let Some(at) = images.iter().position(|i| i["id"] == request.image_id.as_str()) else {
            return;
        };
        if request.failure.is_none() {
            match &request.change {
                Change::Delete => {
                    images.remove(at);
                    return;
                }
                Change::Update(properties) => {
                    for (field, value) in properties {
                        images[at]["properties"][field] = value.clone();
                    }
                    images[at]["metadata"]["lastModifiedDate"] = json!("2026-11-24T09:10:00Z");
                }
            }
        }
        let still_busy = lock(&self.requests)
            .values()
            .any(|r| r.image_id == request.image_id && matches!(r.status, "QUEUED" | "RUNNING"));
        if !still_busy {
            images[at]["metadata"]["state"] = json!("AVAILABLE");
        }
    }
}

/// `http://<host>` as the client addressed the fake, with `/cloudapi/v6`
/// when the request used it (the real API's `https://api.ionos.com/cloudapi/v6`).
fn base(req: &RecordedRequest) -> String {
    let host = req.header("host").unwrap_or("127.0.0.1");
    let prefix = if req.path.starts_with("/cloudapi/v6/") {
        "/cloudapi/v6"
    } else {
        ""
    };
    format!("http://{host}{prefix}")
}

/// An image as the API sends it, its `href` under `base`.
/// The `filter.<name>=<value>` query parameters, by name.
fn filters(req: &RecordedRequest) -> Vec<(&str, &str)> {
    req.query
        .iter()
        .filter_map(|(key, value)| Some((key.strip_prefix("filter.")?, value.as_str())))
        .collect()
}

/// Whether an item of a list passes `filter.<name>=<value>` as the Cloud API
/// v6 applies it: the item's property or metadata `name` contains `value`,
/// not case-sensitive. The filter is applied to the items as sent, so it
/// needs `depth` > 0 (a reference has neither properties nor metadata), and
/// a name no item has matches none.
fn matches_filter(item: &Value, name: &str, value: &str) -> bool {
    ["properties", "metadata"]
        .iter()
        .filter_map(|part| item.get(part)?.get(name))
        .any(|field| {
            let text = match field {
                Value::String(text) => text.clone(),
                Value::Null => return false,
                other => other.to_string(),
            };
            text.to_lowercase().contains(&value.to_lowercase())
        })
}

fn present(image: &Value, base: &str) -> Value {
    let mut image = image.clone();
    image["href"] = json!(format!(
        "{base}/images/{}",
        image["id"].as_str().unwrap_or_default()
    ));
    image
}

/// A request's status (`/requests/{id}/status`, or a request's
/// `metadata.requestStatus`), with its `metadata` when `full`.
fn status_json(id: &str, request: &Request, base: &str, full: bool) -> Value {
    let mut status =
        json!({"id": id, "type": "request-status", "href": format!("{base}/requests/{id}/status")});
    if full {
        status["metadata"] = json!({
            "status": request.status,
            "message": match (request.status, &request.failure) {
                ("FAILED", Some(message)) => json!(message),
                ("DONE", _) => json!("Request has been successfully executed"),
                ("RUNNING", _) => json!("Request is being processed"),
                _ => json!("Request has been queued"),
            },
            "etag": format!("{:032x}", request.polls),
            "targets": [{
                "target": {"id": request.image_id, "type": "image",
                           "href": format!("{base}/images/{}", request.image_id)},
                "status": request.status,
            }],
        });
    }
    status
}

/// A request (`/requests/{id}`, or an item of `/requests`): a reference at
/// depth 0, its properties and metadata from depth 1, its status's own
/// metadata from depth 2.
fn request_json(id: &str, request: &Request, base: &str, depth: u8) -> Value {
    let href = format!("{base}/requests/{id}");
    if depth == 0 {
        return json!({"id": id, "type": "request", "href": href});
    }
    let url = format!(
        "{}{}",
        request.base,
        request.target.trim_start_matches("/cloudapi/v6")
    );
    json!({
        "id": id, "type": "request", "href": href,
        "metadata": {
            "createdDate": request.created, "createdBy": "user@example.com",
            "etag": format!("{:032x}", request.polls),
            "requestStatus": status_json(id, request, base, depth >= 2),
        },
        "properties": {
            "method": request.method, "headers": request.headers, "body": request.body, "url": url,
        },
    })
}

fn accepted(mut resp: Response, location: &str) -> Response {
    if let Ok(location) = HeaderValue::from_str(location) {
        resp.headers_mut().insert("location", location);
    }
    resp
}

fn error_body(status: StatusCode, code: &str, message: &str) -> Value {
    json!({"httpStatus": status.as_u16(), "messages": [{"errorCode": code, "message": message}]})
}

/// An error in IONOS's shape.
fn error(status: StatusCode, code: &str, message: &str) -> Response {
    reply(status, error_body(status, code, message))
}

fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "309", "Resource does not exist")
}

const PUBLIC_BASE: u64 = 0x1000;
const PRIVATE_BASE: u64 = 0x2000;

fn image_id(n: u64) -> String {
    format!("{n:08x}-0000-4000-8000-{n:012x}")
}

const PUBLIC: &[(&str, &str, f64)] = &[
    ("ubuntu-24.04-server-cloudimg-amd64", "LINUX", 3.5),
    ("debian-12-genericcloud-amd64", "LINUX", 2.0),
    ("rocky-9-GenericCloud-Base", "LINUX", 10.0),
    ("windows-server-2022-datacenter", "WINDOWS2022", 30.0),
    ("windows-server-2025-datacenter", "WINDOWS2025", 32.0),
    ("rhel-9.4-x86_64", "RHEL", 10.0),
];

const LOCATIONS: &[&str] = &["de/fra", "de/txl", "gb/lhr", "us/las", "es/vit", "fr/par"];

/// An image with every property the real API sends, at its usual value
/// (the `href` is set when it is sent, see [`present`]).
fn image_json(id: &str, created: &str, state: &str, custom: bool) -> Value {
    let (by, by_id) = if custom {
        ("user@example.com", "63cef532-26fe-4a64-a4e0-de7c8a506c90")
    } else {
        ("[UNKNOWN]", "[UNKNOWN]")
    };
    json!({
        "id": id, "type": "image", "href": "",
        "metadata": {
            "etag": format!("{:032x}", id.len()), "createdDate": created, "createdBy": by,
            "createdByUserId": by_id, "lastModifiedDate": created, "lastModifiedBy": by,
            "lastModifiedByUserId": by_id, "state": state,
        },
        "properties": {
            "name": "", "description": "", "location": LOCATIONS[0], "size": 2.0,
            "cpuHotPlug": true, "cpuHotUnplug": false, "ramHotPlug": true, "ramHotUnplug": false,
            "nicHotPlug": true, "nicHotUnplug": true, "discVirtioHotPlug": true, "discVirtioHotUnplug": true,
            "discScsiHotPlug": false, "discScsiHotUnplug": false, "exposeSerial": false,
            "requireLegacyBios": true, "licenceType": "LINUX", "applicationType": "UNKNOWN",
            "imageType": "HDD", "public": !custom, "imageAliases": [], "cloudInit": if custom { "NONE" } else { "V1" },
        },
    })
}

/// Deterministic, realistic images: IONOS's public ones, then the account's
/// own. Some use licence types the published spec does not list.
fn seed_images(config: &Config) -> Vec<Value> {
    let mut images = Vec::new();
    for i in 0..config.public {
        let (name, licence, size) = PUBLIC[i % PUBLIC.len()];
        let id = image_id(PUBLIC_BASE + i as u64);
        let location = LOCATIONS[(i / PUBLIC.len()) % LOCATIONS.len()];
        images.push(json!({
            "id": id, "type": "image", "href": "",
            "metadata": {
                "etag": format!("{:032x}", i), "createdDate": "2026-01-05T10:00:00Z", "createdBy": "[UNKNOWN]",
                "createdByUserId": "[UNKNOWN]", "lastModifiedDate": "2026-01-05T10:00:00Z",
                "lastModifiedBy": "[UNKNOWN]", "lastModifiedByUserId": "[UNKNOWN]", "state": "AVAILABLE",
            },
            "properties": {
                "name": format!("{name}-2026010{}", 1 + i % 9), "description": "", "location": location,
                "size": size, "cpuHotPlug": true, "cpuHotUnplug": false, "ramHotPlug": true,
                "ramHotUnplug": false, "nicHotPlug": true, "nicHotUnplug": true, "discVirtioHotPlug": true,
                "discVirtioHotUnplug": true, "discScsiHotPlug": false, "discScsiHotUnplug": false,
                "licenceType": licence, "imageType": "HDD", "public": true,
                "imageAliases": if i % PUBLIC.len() == 0 { json!(["ubuntu:latest"]) } else { json!([]) },
                "cloudInit": "V1", "exposeSerial": false, "requireLegacyBios": true, "applicationType": "UNKNOWN",
            },
        }));
    }
    for i in 0..config.private {
        let id = image_id(PRIVATE_BASE + i as u64);
        let (licence, image_type) = match i % 3 {
            0 => ("LINUX", "HDD"),
            1 => ("WINDOWS2025", "HDD"),
            _ => ("OTHER", "CDROM"),
        };
        images.push(json!({
            "id": id, "type": "image", "href": "",
            "metadata": {
                "etag": format!("{:032x}", 1000 + i), "createdDate": format!("2026-10-{:02}T08:30:00Z", 1 + i % 28),
                "createdBy": "user@example.com", "createdByUserId": "63cef532-26fe-4a64-a4e0-de7c8a506c90",
                "lastModifiedDate": format!("2026-10-{:02}T08:30:00Z", 1 + i % 28),
                "lastModifiedBy": "user@example.com", "lastModifiedByUserId": "63cef532-26fe-4a64-a4e0-de7c8a506c90",
                "state": "AVAILABLE",
            },
            "properties": {
                "name": format!("golden-{i}.qcow2"),
                "description": if i % 2 == 0 { "Uploaded over FTPS" } else { "" },
                "location": LOCATIONS[i % LOCATIONS.len()], "size": 2.5 + i as f64,
                "cpuHotPlug": true, "cpuHotUnplug": false, "ramHotPlug": true, "ramHotUnplug": false,
                "nicHotPlug": true, "nicHotUnplug": true, "discVirtioHotPlug": true, "discVirtioHotUnplug": true,
                "discScsiHotPlug": false, "discScsiHotUnplug": false, "licenceType": licence,
                "imageType": image_type, "public": false, "imageAliases": [], "cloudInit": "NONE",
                "exposeSerial": false, "requireLegacyBios": true, "applicationType": "UNKNOWN",
            },
        }));
    }
    images
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filter_matches_part_of_a_property_or_metadata_value_in_any_case() {
        let item = json!({
            "properties": {"name": "Ubuntu-24.04", "public": true, "size": 2.5, "description": null},
            "metadata": {"state": "AVAILABLE"},
        });
        assert!(matches_filter(&item, "name", "ubuntu"));
        assert!(matches_filter(&item, "name", "24.04"));
        assert!(!matches_filter(&item, "name", "debian"));
        assert!(matches_filter(&item, "public", "TRUE"));
        assert!(matches_filter(&item, "size", "2.5"));
        assert!(matches_filter(&item, "state", "available"));
        assert!(!matches_filter(&item, "description", ""));
        assert!(!matches_filter(&item, "noSuchProperty", ""));
        let reference = json!({"id": "x", "type": "image", "href": "h"});
        assert!(!matches_filter(&reference, "name", ""));
    }
}
