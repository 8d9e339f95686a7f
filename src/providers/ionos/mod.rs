//! IONOS Cloud's images API (`https://api.ionos.com/cloudapi/v6/images...`).
//!
//! [`Client`], [`types`] and [`builder`] are generated at build time from
//! `openapi/ionos.yaml`; this module adds the crate's layer to them:
//! [`Execute`] on every operation builder, [`Client::list_images`] (every
//! image with its properties), waiting for the request behind an accepted
//! change ([`Client::wait_for_request`], [`Client::update_image`],
//! [`Client::delete_image`]), and [`Client::builder`] / [`Client::from_env`].
//!
//! | operation | method and path | builder |
//! |---|---|---|
//! | `imagesGet` | `GET /images` | [`Client::images_get`] |
//! | `imagesFindById` | `GET /images/{imageId}` | [`Client::images_find_by_id`] |
//! | `imagesPut` | `PUT /images/{imageId}` | [`Client::images_put`] |
//! | `imagesPatch` | `PATCH /images/{imageId}` | [`Client::images_patch`] |
//! | `imagesDelete` | `DELETE /images/{imageId}` | [`Client::images_delete`] |
//! | `requestsStatusGet` | `GET /requests/{requestId}/status` | [`Client::requests_status_get`] |
//!
//! What is particular to IONOS Cloud:
//! - **Depth**: every operation takes `depth` (0 to 10). The list is one
//!   collection, not paged, and at the API's default `depth=0` its items are
//!   references (`id`, `type`, `href`) without `properties`;
//!   [`Client::list_images`] asks for `depth=1`, which has them. A single
//!   image has its properties at any depth.
//! - **Changes are asynchronous**: `PUT`, `PATCH` and `DELETE` answer
//!   `202 Accepted` with a `Location` header pointing at
//!   `/requests/{requestId}/status`, whose `metadata.status` goes `QUEUED`,
//!   `RUNNING`, then `DONE` or `FAILED` (with a `message`); meanwhile the
//!   image's `metadata.state` is `BUSY`. The builders return once the change
//!   is accepted; [`Client::wait_for_request`] waits until it is done, polling
//!   the request status through this client (its base URL, credentials,
//!   retries and time limits). Only the request id is taken from `Location`:
//!   credentials never go to whatever host it names.
//! - **Contract number**: a user with several contracts sends
//!   `X-Contract-Number`; [`ClientBuilder::contract_number`] (or
//!   `IONOS_CONTRACT_NUMBER`) sends it with every request, status polls
//!   included, unless a call sets its own (`.x_contract_number(n)`).
//! - **Errors** are `{"httpStatus": 404, "messages": [{"errorCode": "309",
//!   "message": "Resource does not exist"}]}`; an error shows them as
//!   `309: Resource does not exist` (several joined with `; `).
//! - **Rate limits**: [`Response::rate_limit`] and the error read
//!   `X-RateLimit-Limit` (requests a minute), `X-RateLimit-Remaining` and
//!   `X-RateLimit-Burst` (in [`RateLimit::burst`]); a 429 waits for its
//!   `Retry-After`.
//! - **Request ids**: IONOS documents no request-id answer header; responses
//!   and errors report the `x-request-id` the client sent.
//! - **Decoding** is tolerant (see `openapi/README.md`): apart from the ids, a
//!   missing or `null` field is `None`, and licence types, states and
//!   statuses the spec does not list arrive as plain strings.
//!
//! Custom images are uploaded over FTPS to the FTP server of their location,
//! not through this API, and show up in the list once IONOS has registered
//! them: [`Client::upload_image`] does all of it (with the `upload` feature).
//!
//! ```no_run
//! use cloud_images::Execute;
//! use cloud_images::ionos::{Client, types};
//! use cloud_images::wait::WaitOptions;
//!
//! # async fn demo() -> Result<(), cloud_images::Error> {
//! // IONOS_TOKEN, or IONOS_USERNAME and IONOS_PASSWORD; IONOS_CONTRACT_NUMBER, IONOS_API_URL
//! let client = Client::from_env()?;
//!
//! for image in client.list_images().await?.iter() {
//!     let properties = image.properties.clone().unwrap_or_default();
//!     println!("{} {:?} {:?}", image.id, properties.name, properties.licence_type);
//! }
//! let renamed = types::ImageProperties { name: Some("debian-13-golden".into()), ..Default::default() };
//! let image = client
//!     .update_image("7df81087-5835-41c6-a10b-3e098593bba4", renamed, WaitOptions::default())
//!     .await?;
//! println!("{:?} is {:?}", image.properties.and_then(|p| p.name), image.metadata.and_then(|m| m.state));
//! # Ok(()) }
//! ```

// The spec's `depth` text says `GET /datacenters/[ID]`, which rustdoc reads as a link.
#[allow(
    clippy::all,
    missing_docs,
    unused_imports,
    dead_code,
    rustdoc::bare_urls,
    rustdoc::broken_intra_doc_links
)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/ionos.rs"));
}

pub use generated::{Client, builder, types};

#[cfg(feature = "upload")]
mod ftp;
mod images;
mod request;
mod status;
#[cfg(feature = "upload")]
mod upload;

#[cfg(feature = "upload")]
pub use ftp::{ENV_FTP_CA_FILE, ENV_FTP_URL, FTP_LOCATIONS, HDD_FOLDER, ISO_FOLDER};
pub use request::PendingRequest;
#[cfg(feature = "upload")]
pub use upload::{
    ImageUpload, LICENCE_TYPES, REGISTER_INTERVAL, REGISTER_TIMEOUT, UploadUntil, UploadedImage,
};

use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::engine::builder::ClientBuilder;
use crate::engine::builder::{FromEnv, impl_generated_client};
use crate::engine::execute::impl_execute;
use crate::engine::hooks::text_field;
use crate::engine::provider::Provider;
use crate::ops::wait::{self, Progress, WaitOptions};
use crate::values::error::{Outcome, Unconfirmed};
use crate::values::rate_limit::RateLimit;
use crate::{Error, Execute, Response};
use request::accept_request;
use status::accept_image;

/// An image (public or the account's own).
pub type Image = types::Image;
/// The status of a request IONOS runs a change as.
pub type RequestStatus = types::RequestStatus;

/// The `depth` [`Client::list_images`] asks for: the images with their
/// properties (at `depth=0` the items are bare references).
pub const LIST_DEPTH: i32 = 1;

/// IONOS Cloud: its defaults and environment for [`ClientBuilder`] (see
/// [`ClientBuilder::from_env`]).
#[derive(Debug, Clone, Copy)]
pub struct Ionos;

impl Provider for Ionos {
    const NAME: &'static str = "IONOS Cloud";
    const DEFAULT_BASE_URL: &'static str = "https://api.ionos.com/cloudapi/v6";
    type Client = Client;

    /// The `messages` of IONOS's error body as `errorCode: message`, joined
    /// with `; `; a body without them falls back to a `message` field.
    fn error_message(body: &Value) -> Option<String> {
        let joined = body
            .get("messages")
            .and_then(Value::as_array)
            .map(|messages| {
                messages
                    .iter()
                    .filter_map(error_entry)
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .filter(|m| !m.is_empty());
        joined.or_else(|| text_field(body, "message"))
    }

    fn rate_limit(headers: &HeaderMap) -> Option<RateLimit> {
        RateLimit::from_headers(
            headers,
            "x-ratelimit-limit",
            "x-ratelimit-remaining",
            None,
            Some("x-ratelimit-burst"),
        )
    }
}

impl FromEnv for Ionos {
    /// The names IONOS's own SDKs and tools use: `IONOS_TOKEN` (sent as
    /// `Authorization: Bearer`; it wins when set) or `IONOS_USERNAME` and
    /// `IONOS_PASSWORD` (HTTP Basic); optionally `IONOS_API_URL` (default
    /// `https://api.ionos.com/cloudapi/v6`, used as given) and
    /// `IONOS_CONTRACT_NUMBER`. For uploads (feature `upload`):
    /// `IONOS_USERNAME` and `IONOS_PASSWORD` are the FTP login even beside a
    /// token, `IONOS_FTP_URL` names another FTP server and
    /// `IONOS_FTP_CA_FILE` more trusted roots (see `Client::upload_image`).
    ///
    /// ```
    /// use cloud_images::ClientBuilder;
    /// use cloud_images::ionos::Ionos;
    ///
    /// let err = ClientBuilder::<Ionos>::from_lookup(|_| None).unwrap_err();
    /// assert!(err.to_string().contains("IONOS_TOKEN is not set, nor IONOS_USERNAME and IONOS_PASSWORD"));
    /// let vars = |name: &str| match name {
    ///     "IONOS_USERNAME" => Some("me@example.com".to_owned()),
    ///     "IONOS_PASSWORD" => Some("s3cret".to_owned()),
    ///     _ => None,
    /// };
    /// let builder = ClientBuilder::<Ionos>::from_lookup(vars).unwrap();
    /// assert!(!format!("{builder:?}").contains("s3cret"));
    ///
    /// use cloud_images::provider::ClientInfo;
    /// let client = cloud_images::ionos::Client::builder()
    ///     .basic_auth("me@example.com", "s3cret")
    ///     .contract_number(31_415_926)
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(client.baseurl(), "https://api.ionos.com/cloudapi/v6");
    /// assert!(!format!("{client:?}").contains("s3cret"));
    /// assert_eq!(client.transport().retry_policy().max_attempts(), 3);
    /// ```
    fn configure(
        mut builder: ClientBuilder<Self>,
        get: &dyn Fn(&str) -> Option<String>,
    ) -> Result<ClientBuilder<Self>, Error> {
        // IONOS counts a blank value as unset too.
        let get = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        if let Some(api) = get("IONOS_API_URL") {
            builder = builder.base_url(api);
        }
        if let Some(number) = get("IONOS_CONTRACT_NUMBER") {
            let parsed = number.trim().parse::<u32>().map_err(|_| {
                Error::Config(format!(
                    "IONOS_CONTRACT_NUMBER `{}` is not a contract number (a whole number)",
                    number.escape_debug()
                ))
            })?;
            builder = builder.contract_number(parsed);
        }
        #[cfg(feature = "upload")]
        {
            builder = upload::configure_ftp(builder, &get)?;
        }
        let credentials = (get("IONOS_TOKEN"), get("IONOS_USERNAME"), get("IONOS_PASSWORD"));
        match credentials {
            (Some(token), _, _) => Ok(builder.bearer_token(token)),
            (None, Some(username), Some(password)) => Ok(builder.basic_auth(username, password)),
            (None, Some(_), None) => Err(Error::Config(
                "IONOS_PASSWORD is not set (IONOS_USERNAME is; or set IONOS_TOKEN)".into(),
            )),
            (None, None, Some(_)) => Err(Error::Config(
                "IONOS_USERNAME is not set (IONOS_PASSWORD is; or set IONOS_TOKEN)".into(),
            )),
            (None, None, None) => Err(Error::Config(
                "IONOS_TOKEN is not set, nor IONOS_USERNAME and IONOS_PASSWORD".into(),
            )),
        }
    }
}

/// One entry of an error's `messages`: `309: Resource does not exist`, or
/// whichever half is there.
fn error_entry(entry: &Value) -> Option<String> {
    let code = match entry.get("errorCode") {
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => text_field(entry, "errorCode"),
    };
    match (code, text_field(entry, "message")) {
        (Some(code), Some(message)) => Some(format!("{code}: {message}")),
        (None, Some(message)) => Some(message),
        (Some(code), None) => Some(format!("error code {code}")),
        (None, None) => None,
    }
}

impl Client {
    /// Every image the account can see (public ones and its own), with its
    /// properties: `GET /images?depth=1` ([`LIST_DEPTH`]). The collection is
    /// not paged; the response keeps the status, headers and rate limit.
    ///
    /// ```no_run
    /// # async fn demo(client: &cloud_images::ionos::Client) -> Result<(), cloud_images::Error> {
    /// let images = client.list_images().await?;
    /// let own: Vec<_> = images
    ///     .iter()
    ///     .filter(|i| i.properties.as_ref().and_then(|p| p.public) == Some(false))
    ///     .collect();
    /// println!("{} images, {} of them the account's own", images.len(), own.len());
    /// # Ok(()) }
    /// ```
    pub async fn list_images(&self) -> Result<Response<Vec<Image>>, Error> {
        let collection = self.images_get().depth(LIST_DEPTH).execute().await?;
        Ok(collection.map(|c| c.items.unwrap_or_default()))
    }

    /// Waits until a request is `DONE`, polling its status with growing
    /// intervals; `on_progress` sees each pending status (`QUEUED`,
    /// `RUNNING`). `FAILED` ends the wait with [`Error::Wait`] carrying the
    /// API's message; the options' timeout with [`Error::Timeout`].
    ///
    /// ```no_run
    /// # async fn demo(client: &cloud_images::ionos::Client) -> Result<(), cloud_images::Error> {
    /// use cloud_images::Execute;
    /// use cloud_images::ionos::{PendingRequest, types};
    /// use cloud_images::wait::WaitOptions;
    ///
    /// let accepted = client
    ///     .images_patch()
    ///     .image_id("7df81087-5835-41c6-a10b-3e098593bba4")
    ///     .body(types::ImageProperties { description: Some("CIS level 2".into()), ..Default::default() })
    ///     .execute()
    ///     .await?;
    /// let request = PendingRequest::from_response(&accepted)?;
    /// let done = client.wait_for_request(&request, WaitOptions::default(), |p| println!("{:?}", p.status)).await?;
    /// println!("{} is done", done.id);
    /// # Ok(()) }
    /// ```
    pub async fn wait_for_request(
        &self,
        request: &PendingRequest,
        options: WaitOptions,
        on_progress: impl FnMut(&Progress),
    ) -> Result<RequestStatus, Error> {
        self.wait_as(&request.to_string(), request.id(), request, options, on_progress)
            .await
    }

    /// Waits for `request`, naming it `what` (with the id `id`) in errors.
    async fn wait_as(
        &self,
        what: &str,
        id: &str,
        request: &PendingRequest,
        options: WaitOptions,
        on_progress: impl FnMut(&Progress),
    ) -> Result<RequestStatus, Error> {
        let poll = || self.requests_status_get().request_id(request.id()).execute();
        wait::until(what, id, options, poll, accept_request, on_progress)
            .await
            .map_err(|e| unfollowed(what, request, e))
    }

    /// Waits until an image is `AVAILABLE` (after a change it is `BUSY` for a
    /// while), polling with growing intervals; `on_progress` sees each
    /// pending state. A `FAILED` state, or an image being destroyed, ends the
    /// wait with [`Error::Wait`]; the options' timeout with [`Error::Timeout`].
    ///
    /// ```no_run
    /// # async fn demo(client: &cloud_images::ionos::Client) -> Result<(), cloud_images::Error> {
    /// use cloud_images::wait::WaitOptions;
    ///
    /// let image = client.wait_for_image("7df81087-5835-41c6-a10b-3e098593bba4", WaitOptions::default(), |_| {}).await?;
    /// # Ok(()) }
    /// ```
    pub async fn wait_for_image(
        &self,
        image_id: &str,
        options: WaitOptions,
        on_progress: impl FnMut(&Progress),
    ) -> Result<Image, Error> {
        let poll = || self.images_find_by_id().image_id(image_id).execute();
        wait::for_image(image_id, options, poll, accept_image, on_progress).await
    }

    /// Changes an image's properties (`PATCH`: only the fields that are
    /// `Some` are sent), waits until IONOS has applied the change, and
    /// returns the image as it is then. To return once the change is
    /// accepted, send [`Client::images_patch`] yourself.
    ///
    /// ```no_run
    /// # async fn demo(client: &cloud_images::ionos::Client) -> Result<(), cloud_images::Error> {
    /// use cloud_images::ionos::types::ImageProperties;
    /// use cloud_images::wait::WaitOptions;
    ///
    /// let change = ImageProperties { name: Some("debian-13-golden".into()), ..Default::default() };
    /// let image = client.update_image("7df81087-5835-41c6-a10b-3e098593bba4", change, WaitOptions::default()).await?;
    /// assert_eq!(image.properties.and_then(|p| p.name).as_deref(), Some("debian-13-golden"));
    /// # Ok(()) }
    /// ```
    pub async fn update_image(
        &self,
        image_id: &str,
        properties: types::ImageProperties,
        options: WaitOptions,
    ) -> Result<Image, Error> {
        self.update_image_reporting(image_id, properties, options, |_| {})
            .await
    }

    /// [`update_image`](Self::update_image), `on_progress` seeing each
    /// pending status of the request (`QUEUED`, `RUNNING`).
    pub(crate) async fn update_image_reporting(
        &self,
        image_id: &str,
        properties: types::ImageProperties,
        options: WaitOptions,
        on_progress: impl FnMut(&Progress),
    ) -> Result<Image, Error> {
        let accepted = self
            .images_patch()
            .image_id(image_id)
            .body(properties)
            .execute()
            .await?;
        let request = PendingRequest::from_response(&accepted).map_err(accepted_without_request)?;
        let what = format!("update of image {image_id} ({request})");
        self.wait_as(&what, image_id, &request, options, on_progress)
            .await?;
        // IONOS has made the change: a failure now only loses its result.
        match self.images_find_by_id().image_id(image_id).execute().await {
            Ok(image) => Ok(image.into_inner()),
            Err(e) => Err(Unconfirmed::done(what, format!("GET /images/{image_id}"), e).into()),
        }
    }

    /// Deletes one of the account's images (public images cannot be) and
    /// waits until IONOS has; returns the finished request. To return once
    /// the deletion is accepted, send [`Client::images_delete`] yourself.
    ///
    /// ```no_run
    /// # async fn demo(client: &cloud_images::ionos::Client) -> Result<(), cloud_images::Error> {
    /// use cloud_images::wait::WaitOptions;
    ///
    /// let done = client.delete_image("7df81087-5835-41c6-a10b-3e098593bba4", WaitOptions::default()).await?;
    /// println!("deleted by request {}", done.id);
    /// # Ok(()) }
    /// ```
    pub async fn delete_image(&self, image_id: &str, options: WaitOptions) -> Result<RequestStatus, Error> {
        self.delete_image_reporting(image_id, options, |_| {}).await
    }

    /// [`delete_image`](Self::delete_image), `on_progress` seeing each
    /// pending status of the request (`QUEUED`, `RUNNING`).
    pub(crate) async fn delete_image_reporting(
        &self,
        image_id: &str,
        options: WaitOptions,
        on_progress: impl FnMut(&Progress),
    ) -> Result<RequestStatus, Error> {
        let accepted = self.images_delete().image_id(image_id).execute().await?;
        let request = PendingRequest::from_response(&accepted).map_err(accepted_without_request)?;
        let what = format!("deletion of image {image_id} ({request})");
        self.wait_as(&what, image_id, &request, options, on_progress)
            .await
    }
}

/// The error of a wait for `request`, a change IONOS accepted: a `FAILED`
/// request stays what it is (the change was not made); running out of time
/// may have left it running; a poll that failed leaves its outcome unknown
/// ([`Error::Unconfirmed`], naming the request to follow).
fn unfollowed(what: &str, request: &PendingRequest, error: Error) -> Error {
    match error {
        Error::Timeout {
            operation,
            limit: limit @ crate::TimeoutKind::Wait,
            after,
            request_id,
            attempts,
            ..
        } => Error::Timeout {
            operation,
            limit,
            after,
            request_id,
            attempts,
            outcome: Outcome::MaybeApplied,
        },
        failed @ Error::Wait(_) => failed,
        other => Unconfirmed::new(
            what,
            format!(
                "IONOS {request}: wait_for_request, or GET /requests/{}/status",
                request.id()
            ),
            other,
        )
        .into(),
    }
}

/// The error of an accepted change whose request cannot be followed (no
/// usable `Location`): the change may still happen.
fn accepted_without_request(error: Error) -> Error {
    match error {
        Error::Wait(mut wait) => {
            wait.outcome = Outcome::MaybeApplied;
            Error::Wait(wait)
        }
        other => other,
    }
}

impl ClientBuilder<Ionos> {
    /// Sends `X-Contract-Number: <number>` with every request (status polls
    /// included) unless a call sets its own, as users with several
    /// contracts must.
    ///
    /// ```
    /// use cloud_images::ionos::Client;
    ///
    /// let builder = Client::builder().bearer_token("t").contract_number(31_415_926);
    /// assert!(format!("{builder:?}").contains("X-Contract-Number"));
    /// ```
    ///
    /// The API holds it as an `int32`: a number over `i32::MAX` makes
    /// `build()` fail with [`Error::Config`] (a call's own
    /// `.x_contract_number(n)` must be 0 or more, else
    /// [`Error::InvalidRequest`], nothing sent).
    pub fn contract_number(self, number: u32) -> Self {
        if i32::try_from(number).is_err() {
            return self.refuse(format!(
                "contract number {number} is out of range: IONOS accepts 0 to {}",
                i32::MAX
            ));
        }
        self.default_header("X-Contract-Number", number.to_string())
    }
}

impl_generated_client!(Client, Ionos, check: check_request);

/// The `depth`s the API accepts.
pub const DEPTHS: std::ops::RangeInclusive<i64> = 0..=10;

/// IONOS's own rules for a request's values, checked before it is sent: a
/// `depth` the API accepts ([`DEPTHS`]) and an `X-Contract-Number` that is a
/// contract number (0 to `i32::MAX`, as the API's `int32` holds), whether a
/// call or the client set it.
fn check_request(request: &reqwest::Request) -> Result<(), String> {
    if let Some((_, depth)) = request.url().query_pairs().find(|(k, _)| k == "depth") {
        match depth.parse::<i64>() {
            Ok(n) if DEPTHS.contains(&n) => {}
            _ => {
                return Err(format!(
                    "depth {} is out of range: IONOS accepts {} to {}",
                    crate::values::text::id_for_display(&depth),
                    DEPTHS.start(),
                    DEPTHS.end()
                ));
            }
        }
    }
    for value in request.headers().get_all("x-contract-number") {
        let text = value.to_str().unwrap_or_default();
        if !text.parse::<i32>().is_ok_and(|n| n >= 0) {
            return Err(format!(
                "X-Contract-Number `{}` is not a contract number (a whole number from 0 to {})",
                crate::values::text::id_for_display(&String::from_utf8_lossy(value.as_bytes())),
                i32::MAX
            ));
        }
    }
    Ok(())
}

impl_execute! {
    builder::ImagesGet<'_> => types::Images, "images_get";
    builder::ImagesFindById<'_> => types::Image, "images_find_by_id";
    builder::ImagesPut<'_> => types::Image, "images_put";
    builder::ImagesPatch<'_> => types::Image, "images_patch";
    builder::ImagesDelete<'_> => (), "images_delete";
    builder::RequestsStatusGet<'_> => types::RequestStatus, "requests_status_get";
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn error_messages_are_joined_with_their_codes() {
        let one = json!({"httpStatus": 404, "messages": [{"errorCode": "309", "message": "Resource does not exist"}]});
        assert_eq!(
            Ionos::error_message(&one).as_deref(),
            Some("309: Resource does not exist")
        );
        let several = json!({"httpStatus": 422, "messages": [
            {"errorCode": "100", "message": "[(root).properties.name] must not be empty"},
            {"errorCode": 101, "message": "licenceType is not valid"},
            {"message": "no code"},
            {"errorCode": "102"},
            {"errorCode": null, "message": ""},
        ]});
        assert_eq!(
            Ionos::error_message(&several).as_deref(),
            Some(
                "100: [(root).properties.name] must not be empty; 101: licenceType is not valid; \
                 no code; error code 102"
            )
        );
        assert_eq!(
            Ionos::error_message(&json!({"httpStatus": 500, "messages": []})),
            None
        );
        assert_eq!(
            Ionos::error_message(&json!({"message": "Bad gateway"})).as_deref(),
            Some("Bad gateway"),
            "a proxy's body"
        );
    }

    #[test]
    fn depth_and_contract_number_are_checked() {
        let request = |query: &str, contract: Option<&str>| {
            let mut r = reqwest::Request::new(
                reqwest::Method::GET,
                format!("https://api.ionos.com/cloudapi/v6/images{query}")
                    .parse()
                    .unwrap(),
            );
            if let Some(c) = contract {
                r.headers_mut().insert("x-contract-number", c.parse().unwrap());
            }
            r
        };
        for ok in ["", "?depth=0", "?depth=10", "?pretty=true&depth=1"] {
            assert_eq!(check_request(&request(ok, None)), Ok(()), "{ok}");
        }
        for bad in [
            "?depth=11",
            "?depth=-1",
            "?depth=x",
            "?depth=99999999999999999999",
        ] {
            let err = check_request(&request(bad, None)).unwrap_err();
            assert!(err.contains("IONOS accepts 0 to 10"), "{err}");
        }
        assert_eq!(check_request(&request("", Some("31415926"))), Ok(()));
        for bad in ["-5", "2147483648", "1e3", ""] {
            let err = check_request(&request("", Some(bad))).unwrap_err();
            assert!(err.contains("is not a contract number"), "{err}");
        }
    }

    #[test]
    fn rate_limits_come_from_the_x_ratelimit_headers() {
        let mut headers = HeaderMap::new();
        assert_eq!(Ionos::rate_limit(&headers), None);
        headers.insert("x-ratelimit-limit", "120".parse().unwrap());
        headers.insert("x-ratelimit-remaining", "119".parse().unwrap());
        headers.insert("x-ratelimit-burst", "50".parse().unwrap());
        let limit = Ionos::rate_limit(&headers).unwrap();
        assert_eq!(
            (limit.limit, limit.remaining, limit.burst, limit.reset),
            (Some(120), Some(119), Some(50), None)
        );
    }
}
