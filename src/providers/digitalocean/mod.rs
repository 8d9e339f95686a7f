//! DigitalOcean's images API (`https://api.digitalocean.com/v2/images...`).
//!
//! [`Client`], [`types`] and [`builder`] are generated at build time from
//! `openapi/digitalocean.yaml`; this module adds the crate's layer to them:
//! [`Execute`] on every operation builder, [`ListPages`](crate::pagination::ListPages) (and so
//! [`Paginate`](crate::Paginate)) on the two list builders, waiting for an
//! image or an image action, and [`Client::builder`] / [`Client::from_env`].
//!
//! | operation | method and path | builder |
//! |---|---|---|
//! | `images_list` | `GET /v2/images` | [`Client::images_list`] |
//! | `images_create_custom` | `POST /v2/images` | [`Client::images_create_custom`] |
//! | `images_get` | `GET /v2/images/{image_id}` | [`Client::images_get`] |
//! | `images_update` | `PUT /v2/images/{image_id}` | [`Client::images_update`] |
//! | `images_delete` | `DELETE /v2/images/{image_id}` | [`Client::images_delete`] |
//! | `imageActions_list` | `GET /v2/images/{image_id}/actions` | [`Client::image_actions_list`] |
//! | `imageActions_post` | `POST /v2/images/{image_id}/actions` | [`Client::image_actions_post`] |
//! | `imageActions_get` | `GET /v2/images/{image_id}/actions/{action_id}` | [`Client::image_actions_get`] |
//!
//! What is particular to DigitalOcean:
//! - **Request ids**: the id DigitalOcean's support can look up is the
//!   server's (`x-request-id` answer header, or an error body's
//!   `request_id`); [`Response::request_id`](crate::Response::request_id) and every error show that one.
//! - **Rate limits**: [`Response::rate_limit`](crate::Response::rate_limit) reads `ratelimit-limit`,
//!   `ratelimit-remaining` and `ratelimit-reset`; a 429 waits for
//!   `Retry-After`, else for `ratelimit-reset` when the budget is spent and the
//!   reset is near (never on a reset in the past or far ahead).
//! - **Pages** are numbered with `page`/`per_page` (at most 200 a page; a
//!   larger page size is refused before sending); the total comes from
//!   `meta.total`.
//! - **Decoding** is tolerant (see `openapi/README.md`): apart from an image's
//!   `id`, a missing or `null` field is `None`, and regions and distributions
//!   the spec does not list arrive as plain strings. An action's `region` is
//!   the region object or, in older actions, its slug
//!   ([`types::ActionRegion`]); [`action_region`] reads either.
//!
//! ```no_run
//! use cloud_images::digitalocean::{Client, types};
//! use cloud_images::{Execute, Paginate};
//! use futures::TryStreamExt;
//!
//! # async fn demo() -> Result<(), cloud_images::Error> {
//! let client = Client::from_env()?; // DIGITALOCEAN_TOKEN, DIGITALOCEAN_API_URL
//!
//! let private: Vec<_> = client.images_list().private(true).stream().try_collect().await?;
//! let created = client
//!     .images_create_custom()
//!     .body(types::ImageNewCustom {
//!         name: "debian-13".into(),
//!         url: "https://example.com/debian-13.qcow2".into(),
//!         region: "nyc3".into(),
//!         distribution: Some("Debian".into()),
//!         description: None,
//!         tags: None,
//!     })
//!     .execute()
//!     .await?;
//! println!("created {} (request id {:?})", created.image.id, created.request_id());
//! # Ok(()) }
//! ```

#[allow(clippy::all, missing_docs, unused_imports, dead_code, rustdoc::bare_urls)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/digitalocean.rs"));
}

pub use generated::{Client, builder, types};

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;
use serde_json::Value;

mod images;
mod pages;
mod status;
#[cfg(feature = "upload")]
mod upload;

#[cfg(feature = "upload")]
pub use upload::{SPACES_ACCESS_KEY_ID, SPACES_SECRET_ACCESS_KEY};

pub use pages::MAX_PAGE_SIZE;

use crate::engine::builder::ClientBuilder;
use crate::engine::builder::{FromEnv, impl_generated_client};
use crate::engine::execute::impl_execute;
use crate::engine::hooks::text_field;
use crate::engine::provider::Provider;
use crate::ops::wait::{self, Progress, State, WaitOptions};
use crate::values::rate_limit::RateLimit;
use crate::{Error, Execute};
use status::accept_image;

/// An image (public or the account's own).
pub type Image = types::Image;
/// An image action (a transfer or a conversion).
pub type Action = types::Action;

/// DigitalOcean: its defaults and environment for [`ClientBuilder`] (see
/// [`ClientBuilder::from_env`]).
#[derive(Debug, Clone, Copy)]
pub struct DigitalOcean;

impl Provider for DigitalOcean {
    const NAME: &'static str = "DigitalOcean";
    const DEFAULT_BASE_URL: &'static str = "https://api.digitalocean.com";
    type Client = Client;

    /// The `x-request-id` answer header, else an error body's `request_id`.
    fn server_request_id(headers: &HeaderMap, error_body: Option<&Value>) -> Option<String> {
        headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .or_else(|| error_body.and_then(|b| text_field(b, "request_id")))
    }

    fn rate_limit(headers: &HeaderMap) -> Option<RateLimit> {
        RateLimit::from_headers(
            headers,
            "ratelimit-limit",
            "ratelimit-remaining",
            Some("ratelimit-reset"),
            None,
        )
    }

    fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
        crate::engine::retry::retry_after(headers, now)
            .or_else(|| wait_for_reset(Self::rate_limit(headers)?, now))
    }
}

impl FromEnv for DigitalOcean {
    /// The names DigitalOcean's own tools use: `DIGITALOCEAN_TOKEN` (or
    /// `DIGITALOCEAN_ACCESS_TOKEN`) and optionally `DIGITALOCEAN_API_URL`
    /// (default `https://api.digitalocean.com`). A missing token is named in
    /// the error.
    ///
    /// ```
    /// use cloud_images::ClientBuilder;
    /// use cloud_images::digitalocean::DigitalOcean;
    ///
    /// let err = ClientBuilder::<DigitalOcean>::from_lookup(|_| None).unwrap_err();
    /// assert!(err.to_string().contains("DIGITALOCEAN_TOKEN is not set"));
    /// let vars = |name: &str| (name == "DIGITALOCEAN_ACCESS_TOKEN").then(|| "dop_v1_x".to_owned());
    /// assert!(ClientBuilder::<DigitalOcean>::from_lookup(vars).unwrap().build().is_ok());
    ///
    /// use cloud_images::provider::ClientInfo;
    /// let client = cloud_images::digitalocean::Client::builder()
    ///     .base_url("http://127.0.0.1:8080")
    ///     .bearer_token("dop_v1_token")
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(client.baseurl(), "http://127.0.0.1:8080");
    /// ```
    fn configure(
        mut builder: ClientBuilder<Self>,
        get: &dyn Fn(&str) -> Option<String>,
    ) -> Result<ClientBuilder<Self>, Error> {
        if let Some(api) = get("DIGITALOCEAN_API_URL") {
            builder = builder.base_url(api);
        }
        let token = get("DIGITALOCEAN_TOKEN")
            .or_else(|| get("DIGITALOCEAN_ACCESS_TOKEN"))
            .ok_or_else(|| {
                Error::Config("DIGITALOCEAN_TOKEN is not set (nor DIGITALOCEAN_ACCESS_TOKEN)".into())
            })?;
        Ok(builder.bearer_token(token))
    }
}

/// The longest wait for a rate-limit window to reset that is worth a retry.
const NEAR_RESET: Duration = Duration::from_secs(60);

/// When the budget is spent and the window resets soon, the time until it
/// does; nothing for a reset in the past or further ahead than [`NEAR_RESET`].
fn wait_for_reset(limit: RateLimit, now: SystemTime) -> Option<Duration> {
    if limit.remaining != Some(0) {
        return None;
    }
    let wait = limit.reset?.duration_since(now).ok()?;
    (!wait.is_zero() && wait <= NEAR_RESET).then_some(wait)
}

impl_generated_client!(Client, DigitalOcean);

impl Client {
    /// Waits until an imported image is `available`, polling with growing
    /// intervals; `on_progress` sees each pending state (`NEW`, `pending`).
    /// An image whose import failed (an `error_message`, or the status
    /// `deleted` or `retired`) ends the wait with [`Error::Wait`]; the
    /// options' timeout with [`Error::Timeout`].
    ///
    /// ```no_run
    /// # async fn demo(client: &cloud_images::digitalocean::Client) -> Result<(), cloud_images::Error> {
    /// use cloud_images::wait::WaitOptions;
    ///
    /// let image = client.wait_for_image("190000001", WaitOptions::default(), |p| println!("{:?}", p.status)).await?;
    /// println!("{:?} in {:?}", image.name, image.regions);
    /// # Ok(()) }
    /// ```
    pub async fn wait_for_image(
        &self,
        image_id: &str,
        options: WaitOptions,
        on_progress: impl FnMut(&Progress),
    ) -> Result<Image, Error> {
        let poll = || self.images_get().image_id(image_id).execute();
        let accept = |found: types::ImagesGetResponse| accept_image(found.image);
        wait::for_image(image_id, options, poll, accept, on_progress).await
    }

    /// Waits until an image action (a transfer, a conversion) is
    /// `completed`; `errored` ends the wait with [`Error::Wait`].
    ///
    /// ```no_run
    /// # async fn demo(client: &cloud_images::digitalocean::Client) -> Result<(), cloud_images::Error> {
    /// use cloud_images::Execute;
    /// use cloud_images::digitalocean::types::{ImageActionTransfer, ImageActionsPostBody};
    /// use cloud_images::wait::WaitOptions;
    ///
    /// let body = ImageActionTransfer { type_: "transfer".into(), region: "fra1".into() };
    /// let action = client
    ///     .image_actions_post()
    ///     .image_id("190000001")
    ///     .body(ImageActionsPostBody::Transfer(body))
    ///     .execute()
    ///     .await?;
    /// client.wait_for_action("190000001", action.action.id, WaitOptions::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn wait_for_action(
        &self,
        image_id: &str,
        action_id: i64,
        options: WaitOptions,
    ) -> Result<Action, Error> {
        let what = format!("action {action_id} of image {image_id}");
        let Some(id) = u64::try_from(action_id).ok().and_then(std::num::NonZeroU64::new) else {
            return Err(Error::InvalidRequest(format!(
                "{what}: an action id is a positive number"
            )));
        };
        let poll = || {
            self.image_actions_get()
                .image_id(image_id)
                .action_id(id)
                .execute()
        };
        let accept = |found: types::ImageActionsGetResponse| accept_action(found.action);
        wait::until(&what, &action_id.to_string(), options, poll, accept, |_| {}).await
    }
}

/// The slug of the region an image action runs in, whichever form
/// DigitalOcean sent: `region_slug`, the region object's `slug`, or the plain
/// slug older actions carry as `region` (`"region": "nyc3"`).
///
/// ```
/// use cloud_images::digitalocean::{Action, action_region};
///
/// let old: Action = serde_json::from_value(serde_json::json!({"id": 36804636, "region": "nyc3"})).unwrap();
/// assert_eq!(action_region(&old), Some("nyc3"));
/// let new: Action = serde_json::from_value(serde_json::json!({"id": 36805527, "region": {"slug": "atl1", "name": "Atlanta 1"}})).unwrap();
/// assert_eq!(action_region(&new), Some("atl1"));
/// ```
pub fn action_region(action: &Action) -> Option<&str> {
    action
        .region_slug
        .as_deref()
        .and_then(given)
        .or_else(|| match action.region.as_ref()? {
            types::ActionRegion::Region(region) => region.slug.as_deref().and_then(given),
            types::ActionRegion::String(slug) => given(slug),
        })
}

/// A slug as sent, unless it is blank.
fn given(slug: &str) -> Option<&str> {
    Some(slug.trim()).filter(|s| !s.is_empty())
}

/// An image action: `completed` is done, `errored` is final.
fn accept_action(action: Action) -> State<Action> {
    match action.status.as_deref() {
        Some("completed") => State::Ready(action),
        Some("errored") => State::failed(
            format!(
                "the {} action errored",
                action.type_.as_deref().unwrap_or("image")
            ),
            action.status,
        ),
        _ => State::Pending(Progress::new(action.status, None, None)),
    }
}

impl_execute! {
    builder::ImagesList<'_> => types::ImagesListResponse, "images_list";
    builder::ImagesCreateCustom<'_> => types::ImagesCreateCustomResponse, "images_create_custom";
    builder::ImagesGet<'_> => types::ImagesGetResponse, "images_get";
    builder::ImagesUpdate<'_> => types::ImagesUpdateResponse, "images_update";
    builder::ImagesDelete<'_> => (), "images_delete";
    builder::ImageActionsList<'_> => types::ImageActionsListResponse, "image_actions_list";
    builder::ImageActionsPost<'_> => types::ImageActionsPostResponse, "image_actions_post";
    builder::ImageActionsGet<'_> => types::ImageActionsGetResponse, "image_actions_get";
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(remaining: u64, reset_in: i64, now: SystemTime) -> RateLimit {
        let reset = if reset_in >= 0 {
            now + Duration::from_secs(reset_in as u64)
        } else {
            now - Duration::from_secs(reset_in.unsigned_abs())
        };
        RateLimit {
            limit: Some(5000),
            remaining: Some(remaining),
            reset: Some(reset),
            burst: None,
        }
    }

    #[test]
    fn an_actions_region_is_read_from_either_form() {
        let action = |json| serde_json::from_value::<Action>(json).unwrap();
        let slug = |json| action_region(&action(json)).map(str::to_owned);
        use serde_json::json;
        assert_eq!(slug(json!({"id": 1, "region": "nyc3"})).as_deref(), Some("nyc3"));
        assert_eq!(
            slug(json!({"id": 1, "region": {"slug": "atl1", "name": "Atlanta 1"}})).as_deref(),
            Some("atl1")
        );
        assert_eq!(
            slug(json!({"id": 1, "region": {"name": "Atlanta 1"}, "region_slug": "atl1"})).as_deref(),
            Some("atl1")
        );
        assert_eq!(
            slug(json!({"id": 1, "region": "nyc3", "region_slug": " "})).as_deref(),
            Some("nyc3")
        );
        assert_eq!(slug(json!({"id": 1, "region": null, "region_slug": null})), None);
        assert_eq!(slug(json!({"id": 1, "region": ""})), None);
        assert_eq!(slug(json!({"id": 1, "region": {}})), None);
    }

    #[test]
    fn a_spent_budget_waits_for_a_near_reset_only() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        assert_eq!(
            wait_for_reset(limit(0, 12, now), now),
            Some(Duration::from_secs(12))
        );
        assert_eq!(
            wait_for_reset(limit(0, -30, now), now),
            None,
            "a reset in the past"
        );
        assert_eq!(wait_for_reset(limit(0, 3 * 3600, now), now), None, "hours ahead");
        assert_eq!(wait_for_reset(limit(0, 0, now), now), None);
        assert_eq!(
            wait_for_reset(limit(17, 12, now), now),
            None,
            "budget left: not a rate limit"
        );
    }

    #[test]
    fn retry_after_wins_over_the_reset() {
        let now = SystemTime::now();
        let mut headers = HeaderMap::new();
        headers.insert("ratelimit-remaining", "0".parse().unwrap());
        let reset = now.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs() + 20;
        headers.insert("ratelimit-reset", reset.to_string().parse().unwrap());
        let waited = DigitalOcean::retry_after(&headers, now).unwrap();
        assert!(
            waited > Duration::from_secs(18) && waited <= Duration::from_secs(20),
            "{waited:?}"
        );
        headers.insert("retry-after", "3".parse().unwrap());
        assert_eq!(
            DigitalOcean::retry_after(&headers, now),
            Some(Duration::from_secs(3))
        );
    }

    #[test]
    fn the_servers_request_id_comes_from_the_header_or_the_error_body() {
        let body = serde_json::json!({"id": "not_found", "message": "gone", "request_id": "from-body"});
        let mut headers = HeaderMap::new();
        assert_eq!(DigitalOcean::server_request_id(&headers, None), None);
        assert_eq!(
            DigitalOcean::server_request_id(&headers, Some(&body)).as_deref(),
            Some("from-body")
        );
        headers.insert("x-request-id", "from-header".parse().unwrap());
        assert_eq!(
            DigitalOcean::server_request_id(&headers, Some(&body)).as_deref(),
            Some("from-header")
        );
        assert_eq!(DigitalOcean::error_message(&body).as_deref(), Some("gone"));
    }
}
