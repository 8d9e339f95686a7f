//! A fake of DigitalOcean's images API: [`FakeDigitalOcean`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use http::header::HeaderValue;
use http::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::net::ToSocketAddrs;

use super::RecordedRequest;
use super::harness::{Api, Response, Server, common_methods, empty, impl_fake_debug, lock, reply};
use crate::ClientBuilder;

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
}

/// Which `type` filter an image answers to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Distribution,
    Application,
    Private,
}

/// DigitalOcean's routes and state.
struct DigitalOcean {
    config: Config,
    images: Mutex<Vec<(Kind, Value)>>,
    actions: Mutex<Vec<Value>>,
    polls: Mutex<HashMap<String, usize>>,
    next_id: AtomicU64,
    served: AtomicU64,
}

/// A fake of DigitalOcean's images API, running on loopback; it stops when
/// dropped.
///
/// Stateful (create, update, delete and transfers change what lists return),
/// seeded with distribution, application and private images, paginated with
/// `page`/`per_page` (at most 200) and `links.pages` + `meta.total`, with the
/// `type`, `private` and `tag_name` filters. A custom image goes `NEW` →
/// `pending` → `available` over GETs; an image action goes `in-progress` →
/// `completed`. Every answer carries `ratelimit-*` headers ([`RATE_LIMIT`])
/// and the server's own `x-request-id`; errors are `{"id", "message",
/// "request_id"}`. Quirks of the real API are kept: regions and
/// distributions the published spec does not list (`atl1`, `NixOS`), `null`
/// for absent values.
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
            served: AtomicU64::new(0),
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

    /// Sets an image's status and error message (to test failures).
    pub fn set_status(&self, id: u64, status: &str, error_message: &str) {
        let mut images = lock(&self.0.api().images);
        if let Some((_, image)) = images.iter_mut().find(|(_, i)| i["id"] == id) {
            image["status"] = json!(status);
            image["error_message"] = json!(error_message);
        }
    }
}

/// The limit the fake's `ratelimit-limit` header announces.
pub const RATE_LIMIT: u64 = 5000;

impl Api for DigitalOcean {
    fn fault_body(&self, status: StatusCode) -> Value {
        error_body(status, status.canonical_reason().unwrap_or("error"))
    }

    fn finish(&self, response: &mut Response) {
        let served = self.served.fetch_add(1, Ordering::SeqCst) + 1;
        let headers = response.headers_mut();
        headers.insert("ratelimit-limit", RATE_LIMIT.into());
        headers.insert("ratelimit-remaining", RATE_LIMIT.saturating_sub(served).into());
        headers.insert("ratelimit-reset", 1_795_000_000u64.into());
        if !headers.contains_key("x-request-id")
            && let Ok(id) = HeaderValue::from_str(&new_id())
        {
            headers.insert("x-request-id", id);
        }
    }

    fn route(&self, req: &RecordedRequest) -> Response {
        if let Some(want) = &self.config.token
            && req.header("authorization") != Some(&format!("Bearer {want}"))
        {
            return error(StatusCode::UNAUTHORIZED, "Unable to authenticate you");
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
        page_of("images", found, req, "/v2/images")
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
                if *n >= polls {
                    image["status"] = json!("available");
                    image["regions"] = json!(["nyc3"]);
                    image["size_gigabytes"] = json!(2.36);
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
        page_of("actions", actions, req, &format!("/v2/images/{key}/actions"))
    }

    fn post_action(&self, key: &str, req: &RecordedRequest) -> Response {
        let Some(body) = req.json() else {
            return error(StatusCode::BAD_REQUEST, "The request body is not valid JSON.");
        };
        let Some(image_id) = self.with_image(key, |image| image["id"].as_u64()).flatten() else {
            return not_found();
        };
        let region = match body["type"].as_str() {
            Some("transfer") => match body["region"].as_str() {
                Some(region) if !region.is_empty() => json!(region),
                _ => return unprocessable("region is required for a transfer"),
            },
            Some("convert") => Value::Null,
            _ => return unprocessable("type must be transfer or convert"),
        };
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let action = json!({
            "id": id, "status": "in-progress", "type": body["type"], "started_at": "2026-11-24T09:05:00Z",
            "completed_at": null, "resource_id": image_id, "resource_type": "image",
            "region": null, "region_slug": region,
        });
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
            let n = polls.entry(format!("action-{action_id}")).or_default();
            *n += 1;
            if *n >= self.config.action_polls {
                action["status"] = json!("completed");
                action["completed_at"] = json!("2026-11-24T09:07:00Z");
                if let Some(region) = action["region_slug"].as_str() {
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

/// The answer with one page of `items` under `key`, with DigitalOcean's
/// `links` and `meta`; a `per_page` outside 1..=200 is the API's 400.
fn page_of(key: &str, items: Vec<Value>, req: &RecordedRequest, base: &str) -> Response {
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
    let link = |p: u64| format!("https://api.digitalocean.com{base}?page={p}&per_page={per_page}");
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
/// account's own. Some use regions and distributions the published spec does
/// not list (`atl1`, `NixOS`).
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
                "description": "One-click application", "tags": [], "status": "available", "error_message": null,
            }),
        ));
    }
    for i in 0..config.private {
        let (kind, distribution) = match i % 3 {
            0 => ("snapshot", "Ubuntu"),
            1 => ("backup", "Debian"),
            _ => ("custom", "NixOS"),
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
                "description": if kind == "custom" { json!("Imported from a URL") } else { Value::Null },
                "tags": if i % 2 == 0 { json!(["production"]) } else { json!([]) },
                "status": "available", "error_message": "",
            }),
        ));
    }
    images
}
