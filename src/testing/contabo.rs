//! A fake of Contabo's images API and token endpoint: [`FakeContabo`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use http::header::HeaderMap;
use http::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::net::ToSocketAddrs;

use super::fetch::{Fetch, Fetcher, url_path};
use super::harness::{
    Api, Response, Server, common_methods, empty, form_pairs, impl_fake_debug, lock, query_string, reply,
};
use super::{FetchReport, RecordedRequest, SeedImage, SeedStatus};
use crate::ClientBuilder;
use crate::engine::auth::PasswordGrant;
use crate::values::format::ImageFormat;

/// The path of the fake token endpoint (Keycloak's, as Contabo's).
pub const TOKEN_PATH: &str = "/auth/realms/contabo/protocol/openid-connect/token";

/// How the fake behaves: its seed and its rules.
///
/// ```
/// use std::time::Duration;
/// use cloud_images::testing::contabo::{Config, OAuthConfig};
///
/// let config = Config::default()
///     .with_standard(3)
///     .with_custom(120)
///     .with_latency(Duration::from_millis(20))
///     .with_oauth(OAuthConfig::default());
/// assert_eq!(config.token.as_deref(), Some("demo-token"));
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// Standard images to seed (default 24).
    pub standard: usize,
    /// Custom images to seed (default 11; every ninth failed to download).
    pub custom: usize,
    /// The bearer token the API accepts (default `demo-token`). With neither
    /// this nor [`oauth`](Self::oauth), any request is accepted.
    pub token: Option<String>,
    /// Added to every API request (default none).
    pub latency: Duration,
    /// The page size when the request gives none (default 10).
    pub default_page_size: usize,
    /// GETs of a downloading image before it is `downloaded` (default 3).
    pub download_polls: usize,
    /// The OAuth2 client and API user the token endpoint accepts (default
    /// none: the endpoint answers 404). The API accepts the tokens it issues.
    pub oauth: Option<OAuthConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            standard: 24,
            custom: 11,
            token: Some("demo-token".into()),
            latency: Duration::ZERO,
            default_page_size: 10,
            download_polls: 3,
            oauth: None,
        }
    }
}

impl Config {
    /// Standard images to seed.
    pub fn with_standard(mut self, count: usize) -> Self {
        self.standard = count;
        self
    }

    /// Custom images to seed.
    pub fn with_custom(mut self, count: usize) -> Self {
        self.custom = count;
        self
    }

    /// The bearer token the API accepts, or none.
    pub fn with_token(mut self, token: Option<&str>) -> Self {
        self.token = token.map(str::to_owned);
        self
    }

    /// Added to every API request.
    pub fn with_latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// The page size when the request gives none.
    pub fn with_default_page_size(mut self, size: usize) -> Self {
        self.default_page_size = size.max(1);
        self
    }

    /// GETs of a downloading image before it is `downloaded`.
    pub fn with_download_polls(mut self, polls: usize) -> Self {
        self.download_polls = polls;
        self
    }

    /// What the token endpoint accepts, or none.
    pub fn with_oauth(mut self, oauth: impl Into<Option<OAuthConfig>>) -> Self {
        self.oauth = oauth.into();
        self
    }
}

/// What the fake token endpoint accepts and hands out.
///
/// The default is the `fake_contabo` example's: client `demo-client` /
/// `demo-secret`, API user `api-user` / `api-pass`, tokens for 300 s with
/// refresh tokens.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct OAuthConfig {
    /// The OAuth2 client id.
    pub client_id: String,
    /// The OAuth2 client secret.
    pub client_secret: String,
    /// The API user.
    pub username: String,
    /// The API user's password.
    pub password: String,
    /// `expires_in` of the tokens it issues, in seconds.
    pub expires_in: u64,
    /// Whether it issues refresh tokens.
    pub refresh_tokens: bool,
    /// `refresh_expires_in` of the refresh tokens it issues, in seconds
    /// (default 1800); a refresh token used later is `invalid_grant`.
    pub refresh_expires_in: u64,
}

impl OAuthConfig {
    /// Accepts this client and API user; tokens for 300 s with refresh tokens.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            username: username.into(),
            password: password.into(),
            expires_in: 300,
            refresh_tokens: true,
            refresh_expires_in: 1800,
        }
    }

    /// `expires_in` of the tokens it issues, in seconds.
    pub fn with_expires_in(mut self, seconds: u64) -> Self {
        self.expires_in = seconds;
        self
    }

    /// Whether it issues refresh tokens.
    pub fn with_refresh_tokens(mut self, refresh: bool) -> Self {
        self.refresh_tokens = refresh;
        self
    }

    /// `refresh_expires_in` of the refresh tokens it issues, in seconds.
    pub fn with_refresh_expires_in(mut self, seconds: u64) -> Self {
        self.refresh_expires_in = seconds;
        self
    }
}

impl Default for OAuthConfig {
    fn default() -> Self {
        Self::new("demo-client", "demo-secret", "api-user", "api-pass")
    }
}

/// Contabo's routes and state.
struct Contabo {
    config: Config,
    images: Mutex<Vec<Value>>,
    audits: Mutex<Vec<Value>>,
    polls: Mutex<HashMap<String, usize>>,
    tokens_issued: AtomicUsize,
    valid_tokens: Mutex<Vec<String>>,
    /// Refresh tokens issued and not revoked, with when they expire.
    refresh_tokens: Mutex<HashMap<String, Instant>>,
    /// The imports' fetches of their URL, by image id.
    fetcher: Fetcher,
}

/// Where a Contabo image stands, for [`FakeContabo::set_image_status`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use cloud_images::testing::FakeContabo;
/// use cloud_images::testing::contabo::ImageState;
///
/// let fake = FakeContabo::start().await;
/// let id = fake.images()[30]["imageId"].as_str().unwrap().to_owned();
/// fake.set_image_status(&id, ImageState::Error("Error downloading image: 404".into()));
/// assert_eq!(fake.image(&id).unwrap()["status"], "error");
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImageState {
    /// `downloading`: makes progress with every GET until `downloaded`.
    Downloading,
    /// `downloaded`: a custom image that is ready.
    Downloaded,
    /// `available`: how standard images are listed.
    Available,
    /// `error`, with this `errorMessage`.
    Error(String),
}

impl ImageState {
    fn word(&self) -> &'static str {
        match self {
            Self::Downloading => "downloading",
            Self::Downloaded => "downloaded",
            Self::Available => "available",
            Self::Error(_) => "error",
        }
    }
}

/// A fake of Contabo's images API and its OAuth2 token endpoint, running on
/// loopback; it stops when dropped.
///
/// Stateful (create, update and delete change what lists return), seeded
/// with realistic standard and custom images ([`seed_images`]), paginated like
/// the real API (`page`, `size`, `_pagination`, `_links`), with the name,
/// `standardImage` and `search` filters and `orderBy`. A created image is
/// `downloading` and makes progress (`uploadedSizeMb`) with every GET until it
/// is `downloaded`. Updates and deletions are audited. The API checks the
/// bearer token and that `x-request-id` is a UUID; standard images cannot be
/// changed (403); an image URL whose path is not `.qcow2` or `.iso` is a 415.
/// When the URL is on loopback (a [`FakeStaging`](crate::testing::FakeStaging)
/// presigned URL), the fake really GETs it with a plain client, and the image
/// stays `downloading` until the fetch ended: then `downloaded` (its `sizeMb`
/// from the length), or `error` with `errorMessage` [`DOWNLOAD_FAILED`] (no
/// answer, an error status such as an expired or wrongly signed URL's 403, a
/// body cut short) or [`UNSUPPORTED_FORMAT`] (bytes that are neither an ISO
/// nor a qcow2 image, or not the one the URL's extension names);
/// [`fetched`](FakeContabo::fetched) tells what it got. A URL elsewhere
/// (`https://example.com/...`) is never fetched.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), cloud_images::Error> {
/// use cloud_images::testing::FakeContabo;
/// use cloud_images::testing::contabo::{Config, OAuthConfig};
/// use cloud_images::Execute;
///
/// // The OAuth2 password grant instead of a ready token:
/// let fake = FakeContabo::start_with(Config::default().with_token(None).with_oauth(OAuthConfig::default())).await;
/// let client = fake.client(); // through fake.token_url()
/// let stats = client.retrieve_custom_images_stats().execute().await?;
/// assert_eq!(stats.data[0].current_images_count, Some(11.0));
/// assert_eq!(fake.tokens_issued(), 1);
/// # Ok(()) }
/// ```
pub struct FakeContabo(Server<Contabo>);

impl_fake_debug!(FakeContabo);

impl FakeContabo {
    /// Starts on `addr` (e.g. `127.0.0.1:8080`).
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime.
    pub async fn start_on(addr: impl ToSocketAddrs, config: Config) -> std::io::Result<Self> {
        let latency = config.latency;
        let api = Contabo {
            images: Mutex::new(seed_images(config.standard, config.custom)),
            audits: Mutex::new(seed_audits(config.custom)),
            config,
            polls: Mutex::default(),
            tokens_issued: AtomicUsize::new(0),
            valid_tokens: Mutex::default(),
            refresh_tokens: Mutex::default(),
            fetcher: Fetcher::default(),
        };
        Ok(Self(Server::start_on(addr, api, latency).await?))
    }

    common_methods!("Contabo", crate::contabo::Client);

    /// A client builder for this fake: its base URL, and its token
    /// ([`Config::token`]) or else, with [`Config::oauth`], a
    /// [`password_grant`](Self::password_grant).
    pub fn client_builder(&self) -> ClientBuilder<crate::contabo::Contabo> {
        let builder = crate::contabo::Client::builder().base_url(self.base_url());
        let config = &self.0.api().config;
        match (&config.token, self.password_grant()) {
            (Some(token), _) => builder.bearer_token(token),
            (None, Some(grant)) => builder.token_source(grant),
            (None, None) => builder,
        }
    }

    /// The OAuth2 password grant the token endpoint accepts, when
    /// [`Config::oauth`] is set.
    pub fn password_grant(&self) -> Option<PasswordGrant> {
        let oauth = self.0.api().config.oauth.as_ref()?;
        Some(PasswordGrant::new(
            self.token_url(),
            &oauth.client_id,
            &oauth.client_secret,
            &oauth.username,
            &oauth.password,
        ))
    }

    /// The token endpoint's URL.
    pub fn token_url(&self) -> String {
        format!("{}{TOKEN_PATH}", self.base_url())
    }

    /// Tokens the token endpoint issued.
    pub fn tokens_issued(&self) -> usize {
        self.0.api().tokens_issued.load(Ordering::SeqCst)
    }

    /// Makes every token issued so far invalid (as if they expired server-side).
    pub fn revoke_tokens(&self) {
        lock(&self.0.api().valid_tokens).clear();
    }

    /// All images, as the API would send them.
    pub fn images(&self) -> Vec<Value> {
        lock(&self.0.api().images).clone()
    }

    /// One image by id, as the API would send it.
    pub fn image(&self, id: &str) -> Option<Value> {
        lock(&self.0.api().images)
            .iter()
            .find(|i| i["imageId"] == id)
            .cloned()
    }

    /// Makes every refresh token issued so far unknown to the token
    /// endpoint: a refresh grant with one is `400 invalid_grant`, as
    /// Keycloak answers for an expired or revoked one.
    pub fn revoke_refresh_tokens(&self) {
        lock(&self.0.api().refresh_tokens).clear();
    }

    /// Adds an image as Contabo would list it (`standardImage` is the
    /// opposite of [`SeedImage::with_custom`]); its `imageId`.
    pub fn insert_image(&self, seed: SeedImage) -> String {
        let id = uuid::Uuid::new_v4().to_string();
        let size_mb = (seed.size_gb * 1024.0).round();
        let (status, error, uploaded) = match &seed.status {
            SeedStatus::Ready if seed.custom => ("downloaded", String::new(), size_mb),
            SeedStatus::Ready => ("available", String::new(), 0.0),
            SeedStatus::Pending => ("downloading", String::new(), 0.0),
            SeedStatus::Failed(message) => ("error", message.clone(), 0.0),
        };
        let created = seed.created_text();
        let name = seed.name.clone();
        let os_type = if seed.is_windows() { "Windows" } else { "Linux" };
        lock(&self.0.api().images).push(json!({
            "imageId": id, "tenantId": "INT", "customerId": "54321", "name": name,
            "description": seed.description.unwrap_or_default(),
            "url": if seed.custom { format!("https://images.example.com/{name}.qcow2") } else { String::new() },
            "sizeMb": size_mb, "uploadedSizeMb": uploaded, "osType": os_type, "version": seed.version,
            "format": "qcow2", "status": status, "errorMessage": error, "standardImage": !seed.custom,
            "creationDate": created, "lastModifiedDate": created, "tags": [],
        }));
        id
    }

    /// Adds an image exactly as given (as the API sends it, with at least
    /// `imageId`), e.g. one with fields the API should never send.
    pub fn insert_raw_image(&self, image: Value) {
        lock(&self.0.api().images).push(image);
    }

    /// The next custom image import cannot fetch its URL, whatever the URL:
    /// the image ends `error` with `errorMessage` [`DOWNLOAD_FAILED`].
    pub fn fail_next_fetch(&self) {
        self.0.api().fetcher.fail_next();
    }

    /// What the import of the image `id` got from its URL, once the fetch
    /// ended (or [`fail_next_fetch`](Self::fail_next_fetch) failed it):
    /// `None` while it runs, for a URL not on loopback (never fetched) and
    /// for an image not imported.
    pub fn fetched(&self, id: &str) -> Option<FetchReport> {
        self.0.api().fetcher.report(id)
    }

    /// Sets an image's `status` (and `errorMessage`); `false` when there is
    /// no image with this id.
    pub fn set_image_status(&self, id: &str, state: ImageState) -> bool {
        let mut images = lock(&self.0.api().images);
        let Some(image) = images.iter_mut().find(|i| i["imageId"] == id) else {
            return false;
        };
        image["status"] = json!(state.word());
        image["errorMessage"] = json!(match &state {
            ImageState::Error(message) => message.as_str(),
            _ => "",
        });
        if state == ImageState::Downloading {
            image["uploadedSizeMb"] = json!(0);
            lock(&self.0.api().polls).remove(id);
        }
        true
    }
}

/// The `errorMessage` of an import whose URL could not be fetched.
pub const DOWNLOAD_FAILED: &str = "Image download failed";

/// The `errorMessage` of an import whose bytes Contabo does not take.
pub const UNSUPPORTED_FORMAT: &str = "Unsupported image format: only .iso and .qcow2 images are supported";

/// How Contabo ends an import of a URL with this extension's format
/// (`qcow2` or `iso`) that fetched this: `None` when it is `downloaded`,
/// else its `errorMessage`.
fn import_verdict(declared: &str, report: &FetchReport) -> Option<&'static str> {
    if !report.is_success() {
        return Some(DOWNLOAD_FAILED);
    }
    match report.format {
        Some(format @ (ImageFormat::Qcow2 | ImageFormat::Iso)) if format.as_str() == declared => None,
        _ => Some(UNSUPPORTED_FORMAT),
    }
}

impl Api for Contabo {
    fn is_side_channel(&self, path: &str) -> bool {
        path == TOKEN_PATH
    }

    fn fault_body(&self, status: StatusCode) -> Value {
        json!({"statusCode": status.as_u16(), "message": status.canonical_reason()})
    }

    fn unauthorized(&self, req: &RecordedRequest) -> Option<Response> {
        (req.path != TOKEN_PATH && !authorized(self, &req.headers)).then(|| {
            reply(
                StatusCode::UNAUTHORIZED,
                json!({"statusCode": 401, "message": "Unauthorized"}),
            )
        })
    }

    fn route(&self, req: &RecordedRequest) -> Response {
        let state = self;
        if req.path == TOKEN_PATH {
            return token_endpoint(state, &req.method, &req.body);
        }
        if let Some(refused) = self.unauthorized(req) {
            return refused;
        }
        let request_id = req.header("x-request-id").unwrap_or("");
        if uuid::Uuid::parse_str(request_id).is_err() {
            return reply(
                StatusCode::BAD_REQUEST,
                json!({"statusCode": 400, "message": "x-request-id must be a UUID"}),
            );
        }
        let (query, body, path) = (&req.query, &req.body, &req.path);
        match (&req.method, req.segments().as_slice()) {
            (&Method::GET, ["v1", "compute", "images"]) => list_images(state, query),
            (&Method::POST, ["v1", "compute", "images"]) => create_image(state, body, request_id),
            (&Method::GET, ["v1", "compute", "images", "stats"]) => stats(state),
            (&Method::GET, ["v1", "compute", "images", "audits"]) => list_audits(state, query),
            (&Method::GET, ["v1", "compute", "images", id]) => get_image(state, id),
            (&Method::PATCH, ["v1", "compute", "images", id]) => update_image(state, id, body, request_id),
            (&Method::DELETE, ["v1", "compute", "images", id]) => delete_image(state, id, request_id),
            _ => reply(
                StatusCode::NOT_FOUND,
                json!({"statusCode": 404, "message": format!("Cannot {} {path}", req.method)}),
            ),
        }
    }
}

fn authorized(state: &Contabo, headers: &HeaderMap) -> bool {
    let Some(auth) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return state.config.token.is_none() && state.config.oauth.is_none();
    };
    let Some(token) = auth.strip_prefix("Bearer ") else {
        return false;
    };
    if state.config.token.as_deref() == Some(token) {
        return true;
    }
    if state.config.oauth.is_some() {
        return lock(&state.valid_tokens).iter().any(|t| t == token);
    }
    state.config.token.is_none()
}

fn token_endpoint(state: &Contabo, method: &Method, body: &[u8]) -> Response {
    let Some(oauth) = &state.config.oauth else {
        return reply(StatusCode::NOT_FOUND, json!({"error": "not_found"}));
    };
    if method != Method::POST {
        return reply(
            StatusCode::METHOD_NOT_ALLOWED,
            json!({"error": "invalid_request"}),
        );
    }
    let form = form_pairs(std::str::from_utf8(body).unwrap_or(""));
    let get = |k: &str| form.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    if get("client_id") != Some(&oauth.client_id) || get("client_secret") != Some(&oauth.client_secret) {
        return reply(
            StatusCode::UNAUTHORIZED,
            json!({"error": "unauthorized_client", "error_description": "Invalid client or Invalid client credentials"}),
        );
    }
    let ok = match get("grant_type") {
        Some("password") => {
            get("username") == Some(&oauth.username) && get("password") == Some(&oauth.password)
        }
        Some("refresh_token") => {
            let now = Instant::now();
            let mut refresh_tokens = lock(&state.refresh_tokens);
            refresh_tokens.retain(|_, expires| *expires > now);
            let known = get("refresh_token").and_then(|t| refresh_tokens.remove(t));
            if known.is_none() {
                return reply(
                    StatusCode::BAD_REQUEST,
                    json!({"error": "invalid_grant", "error_description": "Invalid refresh token"}),
                );
            }
            true
        }
        _ => {
            return reply(
                StatusCode::BAD_REQUEST,
                json!({"error": "unsupported_grant_type", "error_description": "Unsupported grant type"}),
            );
        }
    };
    if !ok {
        return reply(
            StatusCode::UNAUTHORIZED,
            json!({"error": "invalid_grant", "error_description": "Invalid user credentials"}),
        );
    }
    let n = state.tokens_issued.fetch_add(1, Ordering::SeqCst) + 1;
    let token = format!("access-{n}");
    lock(&state.valid_tokens).push(token.clone());
    let mut body = json!({"access_token": token, "expires_in": oauth.expires_in, "token_type": "Bearer"});
    if oauth.refresh_tokens {
        let refresh = format!("refresh-{n}");
        let lifetime = Duration::from_secs(oauth.refresh_expires_in);
        // Past what the clock holds: about as good as never.
        let expires = Instant::now()
            .checked_add(lifetime)
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(100 * 365 * 86_400));
        lock(&state.refresh_tokens).insert(refresh.clone(), expires);
        body["refresh_token"] = json!(refresh);
        body["refresh_expires_in"] = json!(oauth.refresh_expires_in);
    }
    reply(StatusCode::OK, body)
}

fn not_found(id: &str) -> Response {
    reply(
        StatusCode::NOT_FOUND,
        json!({"statusCode": 404, "message": format!("Entry Image not found by imageId {id}")}),
    )
}

fn page_of(items: Vec<Value>, query: &[(String, String)], default_size: usize, base: &str) -> Value {
    let get = |k: &str| query.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    let page: usize = get("page")
        .and_then(|p| p.parse().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1);
    let size: usize = get("size")
        .and_then(|s| s.parse().ok())
        .filter(|s| *s >= 1)
        .unwrap_or(default_size.max(1));
    let total = items.len();
    let pages = total.div_ceil(size);
    let data: Vec<Value> = items.into_iter().skip((page - 1) * size).take(size).collect();
    json!({
        "_pagination": {"size": size, "totalElements": total, "totalPages": pages, "page": page},
        "_links": links(query, base, page, size, pages.max(1)),
        "data": data,
    })
}

/// Contabo's `_links`: paths on the same host (as the real API sends them),
/// each with the request's filters; `previous` and `next` only where there
/// is such a page.
fn links(query: &[(String, String)], base: &str, page: usize, size: usize, last: usize) -> Value {
    let link = |p: usize| {
        let (p, size) = (p.to_string(), size.to_string());
        let filters = query
            .iter()
            .filter(|(k, _)| k != "page" && k != "size")
            .map(|(k, v)| (k.as_str(), v.as_str()));
        let pairs = [("page", p.as_str()), ("size", size.as_str())]
            .into_iter()
            .chain(filters);
        format!("{base}?{}", query_string(pairs))
    };
    let mut links = serde_json::Map::new();
    links.insert("first".into(), json!(link(1)));
    if page > 1 {
        links.insert("previous".into(), json!(link(page - 1)));
    }
    links.insert("self".into(), json!(link(page)));
    if page < last {
        links.insert("next".into(), json!(link(page + 1)));
    }
    links.insert("last".into(), json!(link(last)));
    Value::Object(links)
}

fn list_images(state: &Contabo, query: &[(String, String)]) -> Response {
    let get = |k: &str| query.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    let mut images: Vec<Value> = lock(&state.images).clone();
    if let Some(name) = get("name") {
        images.retain(|i| i["name"].as_str().is_some_and(|n| n.eq_ignore_ascii_case(name)));
    }
    if let Some(standard) = get("standardImage") {
        let want = standard == "true";
        images.retain(|i| i["standardImage"].as_bool() == Some(want));
    }
    if let Some(search) = get("search") {
        let needle = search.to_lowercase();
        images.retain(|i| {
            ["name", "description", "osType", "version"]
                .iter()
                .any(|k| i[*k].as_str().is_some_and(|v| v.to_lowercase().contains(&needle)))
        });
    }
    // orderBy=field:asc|desc, repeated: the first is the primary key.
    let orders: Vec<(String, bool)> = query
        .iter()
        .filter(|(k, _)| k == "orderBy")
        .map(|(_, v)| {
            let (field, dir) = v.split_once(':').unwrap_or((v.as_str(), "asc"));
            (field.to_owned(), dir.eq_ignore_ascii_case("desc"))
        })
        .collect();
    if let Some((bad, _)) = orders
        .iter()
        .find(|(f, _)| images.first().is_some_and(|i| i.get(f).is_none()))
    {
        return reply(
            StatusCode::BAD_REQUEST,
            json!({"statusCode": 400, "message": format!("orderBy: unknown field {bad}")}),
        );
    }
    images.sort_by(|a, b| {
        for (field, desc) in &orders {
            let ord = compare(&a[field], &b[field]);
            let ord = if *desc { ord.reverse() } else { ord };
            if ord.is_ne() {
                return ord;
            }
        }
        std::cmp::Ordering::Equal
    });
    reply(
        StatusCode::OK,
        page_of(
            images,
            query,
            state.config.default_page_size,
            "/v1/compute/images",
        ),
    )
}

fn compare(a: &Value, b: &Value) -> std::cmp::Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(std::cmp::Ordering::Equal),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => a
            .as_str()
            .unwrap_or("")
            .to_lowercase()
            .cmp(&b.as_str().unwrap_or("").to_lowercase()),
    }
}

fn get_image(state: &Contabo, id: &str) -> Response {
    let mut images = lock(&state.images);
    let Some(image) = images.iter_mut().find(|i| i["imageId"] == id) else {
        return not_found(id);
    };
    // A downloading image makes progress with every GET.
    if image["status"] == "downloading" {
        let mut polls = lock(&state.polls);
        let n = polls.entry(id.to_owned()).or_default();
        *n += 1;
        // An imported URL on loopback: the end waits for its fetch.
        let fetch = state.fetcher.state(id);
        let size = image["sizeMb"].as_f64().unwrap_or(0.0);
        if let Fetch::Done(report) = &fetch
            && *n >= state.config.download_polls
        {
            let declared = image["format"].as_str().unwrap_or("");
            if let Some(message) = import_verdict(declared, report) {
                image["status"] = json!("error");
                image["errorMessage"] = json!(message);
                image["uploadedSizeMb"] = json!(0);
            } else {
                let size = (report.bytes as f64 / 1_048_576.0).ceil();
                image["status"] = json!("downloaded");
                image["sizeMb"] = json!(size);
                image["uploadedSizeMb"] = json!(size);
            }
        } else if fetch == Fetch::Running {
            let done = size * (*n as f64) / (*n as f64 + 1.0);
            image["uploadedSizeMb"] = json!(done.floor());
        } else if fetch == Fetch::Skipped && *n >= state.config.download_polls {
            image["status"] = json!("downloaded");
            image["uploadedSizeMb"] = json!(size);
        } else {
            let done = size * (*n as f64) / (state.config.download_polls as f64);
            image["uploadedSizeMb"] = json!(done.floor());
        }
    }
    let mut data = image.clone();
    if let Some(data) = data.as_object_mut() {
        data.remove("tags");
    }
    reply(
        StatusCode::OK,
        json!({"data": [data], "_links": {"self": format!("/v1/compute/images/{id}")}}),
    )
}

fn create_image(state: &Contabo, body: &[u8], request_id: &str) -> Response {
    let Ok(req) = serde_json::from_slice::<Value>(body) else {
        return reply(
            StatusCode::BAD_REQUEST,
            json!({"statusCode": 400, "message": "body is not JSON"}),
        );
    };
    for field in ["name", "url", "osType", "version"] {
        if req[field].as_str().is_none_or(str::is_empty) {
            return reply(
                StatusCode::BAD_REQUEST,
                json!({"statusCode": 400, "message": format!("{field} should not be empty")}),
            );
        }
    }
    let url = req["url"].as_str().unwrap_or("");
    let path = url_path(url);
    let format = if path.ends_with(".qcow2") {
        "qcow2"
    } else if path.ends_with(".iso") {
        "iso"
    } else {
        return reply(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            json!({"statusCode": 415, "message": "Unsupported Media Type: the image must be an .iso or .qcow2 image"}),
        );
    };
    let mut images = lock(&state.images);
    let id = uuid::Uuid::new_v4().to_string();
    let size = 512.0 + (images.len() % 7) as f64 * 256.0;
    images.push(json!({
        "imageId": id, "tenantId": "INT", "customerId": "54321",
        "name": req["name"], "description": req["description"].as_str().unwrap_or(""),
        "url": url, "sizeMb": size, "uploadedSizeMb": 0, "osType": req["osType"], "version": req["version"],
        "format": format, "status": "downloading", "errorMessage": "", "standardImage": false,
        "creationDate": "2026-11-23T09:00:00Z", "lastModifiedDate": "2026-11-23T09:00:00Z", "tags": [],
    }));
    drop(images);
    state.fetcher.start(&id, url);
    audit(state, &id, "CREATED", request_id, json!({"name": req["name"]}));
    reply(
        StatusCode::CREATED,
        json!({"data": [{"tenantId": "INT", "customerId": "54321", "imageId": id}],
               "_links": {"self": format!("/v1/compute/images/{id}")}}),
    )
}

fn update_image(state: &Contabo, id: &str, body: &[u8], request_id: &str) -> Response {
    let Ok(req) = serde_json::from_slice::<Value>(body) else {
        return reply(
            StatusCode::BAD_REQUEST,
            json!({"statusCode": 400, "message": "body is not JSON"}),
        );
    };
    let mut images = lock(&state.images);
    let Some(image) = images.iter_mut().find(|i| i["imageId"] == id) else {
        return not_found(id);
    };
    if image["standardImage"] == true {
        return reply(
            StatusCode::FORBIDDEN,
            json!({"statusCode": 403, "message": "Standard images cannot be modified"}),
        );
    }
    let prev = json!({"name": image["name"], "description": image["description"]});
    for field in ["name", "description"] {
        if let Some(v) = req.get(field).filter(|v| v.is_string()) {
            image[field] = v.clone();
        }
    }
    image["lastModifiedDate"] = json!("2026-11-23T09:30:00Z");
    let new = json!({"name": image["name"], "description": image["description"]});
    drop(images);
    audit(
        state,
        id,
        "UPDATED",
        request_id,
        json!({"prev": prev, "new": new}),
    );
    reply(
        StatusCode::OK,
        json!({"data": [{"tenantId": "INT", "customerId": "54321", "imageId": id}],
               "_links": {"self": format!("/v1/compute/images/{id}")}}),
    )
}

fn delete_image(state: &Contabo, id: &str, request_id: &str) -> Response {
    let mut images = lock(&state.images);
    let Some(at) = images.iter().position(|i| i["imageId"] == id) else {
        return not_found(id);
    };
    if images[at]["standardImage"] == true {
        return reply(
            StatusCode::FORBIDDEN,
            json!({"statusCode": 403, "message": "Standard images cannot be deleted"}),
        );
    }
    images.remove(at);
    drop(images);
    audit(state, id, "DELETED", request_id, json!({}));
    empty(StatusCode::NO_CONTENT)
}

fn stats(state: &Contabo) -> Response {
    let images = lock(&state.images);
    let custom: Vec<&Value> = images.iter().filter(|i| i["standardImage"] == false).collect();
    let used: f64 = custom.iter().filter_map(|i| i["sizeMb"].as_f64()).sum();
    let total = 102_400.0;
    reply(
        StatusCode::OK,
        json!({"data": [{"tenantId": "INT", "customerId": "54321", "currentImagesCount": custom.len(),
                          "totalSizeMb": total, "usedSizeMb": used, "freeSizeMb": total - used}],
               "_links": {"self": "/v1/compute/images/stats"}}),
    )
}

fn audit(state: &Contabo, id: &str, action: &str, request_id: &str, changes: Value) {
    let mut audits = lock(&state.audits);
    let n = audits.len() + 1;
    audits.push(json!({
        "id": n, "action": action, "timestamp": "2026-11-23T09:00:00Z", "tenantId": "INT",
        "customerId": "54321", "changedBy": "c4c800ff-e524-47dd-9543-71dfc8b91113", "username": "api-user",
        "requestId": request_id, "traceId": "", "imageId": id, "changes": changes,
    }));
}

fn list_audits(state: &Contabo, query: &[(String, String)]) -> Response {
    let get = |k: &str| query.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    let mut audits: Vec<Value> = lock(&state.audits).clone();
    for key in ["imageId", "requestId", "changedBy"] {
        if let Some(want) = get(key) {
            audits.retain(|a| a[key] == want);
        }
    }
    // startDate and endDate are days (`2026-10-01`), both included.
    for (key, from) in [("startDate", true), ("endDate", false)] {
        let Some(day) = get(key) else { continue };
        let Ok(day) = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d") else {
            return reply(
                StatusCode::BAD_REQUEST,
                json!({"statusCode": 400, "message": [format!("{key} must be a valid ISO 8601 date string")]}),
            );
        };
        audits.retain(|a| {
            let at = a["timestamp"]
                .as_str()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.date_naive());
            at.is_some_and(|at| if from { at >= day } else { at <= day })
        });
    }
    reply(
        StatusCode::OK,
        page_of(
            audits,
            query,
            state.config.default_page_size,
            "/v1/compute/images/audits",
        ),
    )
}

const STANDARD: &[(&str, &str, &str, &str)] = &[
    (
        "ubuntu-24.04",
        "Ubuntu 24.04 LTS (Noble Numbat)",
        "Linux",
        "24.04",
    ),
    (
        "ubuntu-22.04",
        "Ubuntu 22.04 LTS (Jammy Jellyfish)",
        "Linux",
        "22.04",
    ),
    ("ubuntu-20.04", "Ubuntu 20.04 LTS (Focal Fossa)", "Linux", "20.04"),
    ("debian-13", "Debian 13 (Trixie)", "Linux", "13"),
    ("debian-12", "Debian 12 (Bookworm)", "Linux", "12"),
    ("debian-11", "Debian 11 (Bullseye)", "Linux", "11"),
    ("rockylinux-9", "Rocky Linux 9", "Linux", "9"),
    ("almalinux-9", "AlmaLinux 9", "Linux", "9"),
    ("almalinux-8", "AlmaLinux 8", "Linux", "8"),
    ("centos-stream-9", "CentOS Stream 9", "Linux", "9"),
    ("fedora-41", "Fedora 41 Server", "Linux", "41"),
    ("opensuse-leap-15.6", "openSUSE Leap 15.6", "Linux", "15.6"),
    ("archlinux", "Arch Linux (rolling)", "Linux", "2026.11.01"),
    ("freebsd-14", "FreeBSD 14.2", "Linux", "14.2"),
    (
        "windows-server-2022-standard",
        "Windows Server 2022 Standard",
        "Windows",
        "2022",
    ),
    (
        "windows-server-2019-standard",
        "Windows Server 2019 Standard",
        "Windows",
        "2019",
    ),
];

const CUSTOM: &[(&str, &str, &str)] = &[
    ("app-base", "Base image for the app servers", "qcow2"),
    ("ci-runner", "CI runner with Docker preinstalled", "qcow2"),
    ("pfsense", "pfSense firewall installer", "iso"),
    ("k8s-node", "Kubernetes worker node", "qcow2"),
    ("rescue", "Rescue system", "iso"),
];

/// Deterministic, realistic images: standard ones first, then custom ones.
pub fn seed_images(standard: usize, custom: usize) -> Vec<Value> {
    let mut images = Vec::with_capacity(standard + custom);
    for i in 0..standard {
        let (name, description, os, version) = STANDARD[i % STANDARD.len()];
        let round = i / STANDARD.len();
        let name = if round == 0 {
            name.to_owned()
        } else {
            format!("{name}-r{round}")
        };
        let day = 1 + (i % 28);
        images.push(json!({
            "imageId": format!("{:08x}-0000-4000-8000-{:012x}", 0x5d000000u32 + i as u32, i),
            "tenantId": "INT", "customerId": "54321", "name": name, "description": description,
            "url": "", "sizeMb": 2048 + (i % 5) * 512, "uploadedSizeMb": 0, "osType": os, "version": version,
            "format": "qcow2", "status": "available", "errorMessage": "", "standardImage": true,
            "creationDate": format!("2026-0{}-{day:02}T08:00:00Z", 1 + i % 9),
            "lastModifiedDate": format!("2026-0{}-{day:02}T08:00:00Z", 1 + i % 9),
            "tags": [],
        }));
    }
    for i in 0..custom {
        let (name, description, format) = CUSTOM[i % CUSTOM.len()];
        let name = format!("{name}-v{}", 1 + i / CUSTOM.len());
        let day = 1 + (i % 28);
        let (status, error) = if i % 9 == 8 {
            (
                "error",
                "Error downloading image from provided URL: 404 Not Found",
            )
        } else {
            ("downloaded", "")
        };
        images.push(json!({
            "imageId": format!("{:08x}-1111-4111-9111-{:012x}", 0xc0000000u32 + i as u32, i),
            "tenantId": "INT", "customerId": "54321", "name": name, "description": description,
            "url": format!("https://images.example.com/{name}.{format}"),
            "sizeMb": 700 + (i % 4) * 300, "uploadedSizeMb": if status == "error" { 0 } else { 700 + (i % 4) * 300 },
            "osType": "Linux", "version": format!("1.{i}"), "format": format, "status": status,
            "errorMessage": error, "standardImage": false,
            "creationDate": format!("2026-10-{day:02}T12:00:00Z"), "lastModifiedDate": format!("2026-11-{day:02}T12:00:00Z"),
            "tags": if i % 3 == 0 { json!([{"tagId": 7, "tagName": "production"}]) } else { json!([]) },
        }));
    }
    images
}

fn seed_audits(custom: usize) -> Vec<Value> {
    (0..custom)
        .map(|i| {
            json!({
                "id": i + 1, "action": "CREATED", "timestamp": format!("2026-10-{:02}T12:00:00Z", 1 + i % 28),
                "tenantId": "INT", "customerId": "54321", "changedBy": "c4c800ff-e524-47dd-9543-71dfc8b91113",
                "username": "api-user", "requestId": format!("0000000{i}-aaaa-4aaa-8aaa-aaaaaaaaaaaa"),
                "traceId": "", "imageId": format!("{:08x}-1111-4111-9111-{:012x}", 0xc0000000u32 + i as u32, i),
                "changes": {"name": format!("image-{i}")},
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::fetch::reports::{failed, fetched};

    #[test]
    fn imports_end_as_contabo_ends_them() {
        assert_eq!(import_verdict("qcow2", &fetched(1024, ImageFormat::Qcow2)), None);
        assert_eq!(import_verdict("iso", &fetched(1 << 20, ImageFormat::Iso)), None);
        // Bytes that are not what the URL's extension names.
        for (declared, format) in [
            ("qcow2", ImageFormat::Iso),
            ("iso", ImageFormat::Qcow2),
            ("qcow2", ImageFormat::Raw),
            ("qcow2", ImageFormat::Gzip),
            ("iso", ImageFormat::Vmdk),
        ] {
            assert_eq!(
                import_verdict(declared, &fetched(1024, format)),
                Some(UNSUPPORTED_FORMAT),
                "{declared} holding {format}"
            );
        }
        for report in [failed(Some(403)), failed(Some(500)), failed(None)] {
            assert_eq!(
                import_verdict("qcow2", &report),
                Some(DOWNLOAD_FAILED),
                "{report:?}"
            );
        }
    }
}
