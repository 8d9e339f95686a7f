//! Contabo's images API (`https://api.contabo.com/v1/compute/images...`).
//!
//! [`Client`], [`types`] and [`builder`] are generated at build time from
//! `openapi/contabo.yaml`; this module adds the crate's layer to them:
//! [`Execute`] on every operation builder,
//! [`ListPages`] (and so [`Paginate`](crate::Paginate)) on the two list
//! builders, and [`Client::builder`].
//!
//! | operation | method and path | builder |
//! |---|---|---|
//! | `retrieveImageList` | `GET /v1/compute/images` | [`Client::retrieve_image_list`] |
//! | `createCustomImage` | `POST /v1/compute/images` | [`Client::create_custom_image`] |
//! | `retrieveImage` | `GET /v1/compute/images/{imageId}` | [`Client::retrieve_image`] |
//! | `updateImage` | `PATCH /v1/compute/images/{imageId}` | [`Client::update_image`] |
//! | `deleteImage` | `DELETE /v1/compute/images/{imageId}` | [`Client::delete_image`] |
//! | `retrieveCustomImagesStats` | `GET /v1/compute/images/stats` | [`Client::retrieve_custom_images_stats`] |
//! | `retrieveImageAuditsList` | `GET /v1/compute/images/audits` | [`Client::retrieve_image_audits_list`] |
//!
//! Decoding is tolerant (see `openapi/README.md`): apart from an image's
//! `imageId`, a field the API leaves out or sends as `null` is `None`, and an
//! enum value the spec does not list arrives as a plain string.
//!
//! ```no_run
//! use cloud_images::contabo::{Client, types};
//! use cloud_images::{Execute, Paginate};
//! use futures::TryStreamExt;
//!
//! # async fn demo() -> Result<(), cloud_images::Error> {
//! let client = Client::builder().bearer_token("token").build()?;
//!
//! let custom: Vec<_> = client.retrieve_image_list().standard_image(false).stream().try_collect().await?;
//! let created = client
//!     .create_custom_image()
//!     .body_map(|b| {
//!         b.name("debian-13")
//!             .url("https://example.com/debian-13.qcow2")
//!             .os_type(types::CreateCustomImageRequestOsType::Linux)
//!             .version("13")
//!     })
//!     .execute()
//!     .await?;
//! println!("created {} (request id {:?})", created.data[0].image_id, created.request_id());
//! # Ok(()) }
//! ```

#[allow(clippy::all, missing_docs, unused_imports, dead_code, rustdoc::bare_urls)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/contabo.rs"));
}

pub use generated::{Client, builder, types};

use crate::auth::PasswordGrant;
use crate::client::ClientBuilder;
use crate::execute::impl_execute;
use crate::pagination::{ListPages, Page};
use crate::provider::Provider;
use crate::transport::{Transport, impl_client_hooks};
use crate::wait::{self, Progress, State, WaitOptions};
use crate::{Error, Execute, Response};

/// An image in a list (standard or custom).
pub type Image = types::ListImageResponseData;
/// An image as [`Client::retrieve_image`] returns it.
pub type ImageDetails = types::ImageResponse;
/// An entry of the images audit log.
pub type ImageAudit = types::ImageAuditResponseData;

/// Contabo's defaults for [`ClientBuilder`].
#[derive(Debug, Clone, Copy)]
pub struct Contabo;

impl Provider for Contabo {
    const NAME: &'static str = "Contabo";
    const DEFAULT_BASE_URL: &'static str = "https://api.contabo.com";
    type Client = Client;
    fn new_client(base_url: &str, http: reqwest::Client, transport: Transport) -> Client {
        Client::new_with_client(base_url, http, transport)
    }
}

impl Client {
    /// A builder for a Contabo client.
    ///
    /// ```
    /// use cloud_images::ClientInfo;
    ///
    /// let client = cloud_images::contabo::Client::builder()
    ///     .base_url("http://127.0.0.1:8080")
    ///     .bearer_token("token")
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(client.baseurl(), "http://127.0.0.1:8080");
    /// ```
    pub fn builder() -> ClientBuilder<Contabo> {
        ClientBuilder::new()
    }

    /// A client configured from the environment (see
    /// [`ClientBuilder::<Contabo>::from_env`](ClientBuilder::from_env)):
    /// `CNTB_API`, and `CNTB_ACCESS_TOKEN` or the `CNTB_OAUTH2_*` variables.
    pub fn from_env() -> Result<Client, Error> {
        ClientBuilder::<Contabo>::from_env()?.build()
    }

    /// The client's request pipeline (retry policy, time limits).
    pub fn transport(&self) -> &Transport {
        &self.inner
    }
}

impl Client {
    /// Waits until a custom image has been downloaded (`Ready`) or failed
    /// (`Error::Wait` with the API's `errorMessage`), polling with growing
    /// intervals; `on_progress` sees each pending state (`uploadedSizeMb` of
    /// `sizeMb`). Gives up with [`Error::Timeout`] after the options' timeout.
    ///
    /// ```no_run
    /// # async fn demo(client: &cloud_images::contabo::Client) -> Result<(), cloud_images::Error> {
    /// use cloud_images::wait::WaitOptions;
    ///
    /// let image = client
    ///     .wait_for_image("d5a1c1f0-35b8-4f0e-8a3a-1f1bd2a1c6e4", WaitOptions::default(), |p| {
    ///         println!("{:?} {:?}/{:?} MB", p.status, p.done, p.total)
    ///     })
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn wait_for_image(
        &self,
        image_id: &str,
        options: WaitOptions,
        on_progress: impl FnMut(&Progress),
    ) -> Result<ImageDetails, Error> {
        wait::until(
            &format!("image {image_id}"),
            image_id,
            options,
            || async {
                let found = self.retrieve_image().image_id(image_id).execute().await?;
                Ok(first_image(found)?.map(image_state))
            },
            on_progress,
        )
        .await
    }
}

/// The one image of a `retrieve_image` answer (Contabo wraps it in `data`);
/// an empty `data` is a decode error.
pub(crate) fn first_image(
    found: Response<types::FindImageResponse>,
) -> Result<Response<ImageDetails>, Error> {
    found.try_map(|found, request_id| {
        found.data.into_iter().next().ok_or_else(|| Error::Decode {
            operation: "retrieve_image".into(),
            path: "data".into(),
            message: "the API answered with no image".into(),
            request_id: request_id.map(str::to_owned),
        })
    })
}

/// Contabo's image statuses: `downloaded` (custom) and `available`
/// (standard) are usable; `error` and `failed` are final; anything else
/// (`downloading`, `pending`, ...) is still on its way.
fn image_state(image: ImageDetails) -> State<ImageDetails> {
    let status = crate::images::contabo::status_of(
        image.status.as_deref(),
        image.error_message.as_deref(),
        image.uploaded_size_mb,
        image.size_mb,
    );
    let word = image.status.clone();
    crate::images::wait_state(status, &[], image, word)
}

/// The OAuth2 token URL Contabo's CLI and Terraform provider use.
pub const DEFAULT_TOKEN_URL: &str =
    "https://auth.contabo.com/auth/realms/contabo/protocol/openid-connect/token";

impl ClientBuilder<Contabo> {
    /// A builder configured from the environment, with the names Contabo's CLI
    /// and Terraform provider use: `CNTB_API` (base URL), and either
    /// `CNTB_ACCESS_TOKEN` (a ready token; it wins when set) or
    /// `CNTB_OAUTH2_CLIENT_ID`, `CNTB_OAUTH2_CLIENT_SECRET`, `CNTB_OAUTH2_USER`,
    /// `CNTB_OAUTH2_PASS` and optionally `CNTB_OAUTH2_TOKEN_URL` (an OAuth2
    /// password grant). A missing variable is named in the error.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) with another source of variables.
    ///
    /// ```
    /// use cloud_images::contabo::Client;
    ///
    /// let vars = [("CNTB_OAUTH2_CLIENT_ID", "id"), ("CNTB_OAUTH2_USER", "me@example.com")];
    /// let lookup = |name: &str| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string());
    /// let err = cloud_images::ClientBuilder::<cloud_images::contabo::Contabo>::from_lookup(lookup).unwrap_err();
    /// assert!(err.to_string().contains("CNTB_OAUTH2_CLIENT_SECRET is not set"));
    /// ```
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let get = |name: &str| lookup(name).filter(|v| !v.is_empty());
        let mut builder = Client::builder();
        if let Some(api) = get("CNTB_API") {
            builder = builder.base_url(api);
        }
        if let Some(trace) = get("CNTB_TRACE_ID") {
            builder = builder.trace_id(trace);
        }
        if let Some(token) = get("CNTB_ACCESS_TOKEN") {
            return Ok(builder.bearer_token(token));
        }
        let need = |name: &str| {
            get(name).ok_or_else(|| {
                Error::Config(format!(
                    "{name} is not set (set CNTB_ACCESS_TOKEN, or all of CNTB_OAUTH2_CLIENT_ID, \
                     CNTB_OAUTH2_CLIENT_SECRET, CNTB_OAUTH2_USER and CNTB_OAUTH2_PASS)"
                ))
            })
        };
        let grant = PasswordGrant::new(
            get("CNTB_OAUTH2_TOKEN_URL").unwrap_or_else(|| DEFAULT_TOKEN_URL.to_owned()),
            need("CNTB_OAUTH2_CLIENT_ID")?,
            need("CNTB_OAUTH2_CLIENT_SECRET")?,
            need("CNTB_OAUTH2_USER")?,
            need("CNTB_OAUTH2_PASS")?,
        );
        Ok(builder.token_source(grant))
    }
}

impl_client_hooks!(Client);

impl_execute! {
    builder::RetrieveImageList<'_> => types::ListImageResponse, "retrieve_image_list";
    builder::CreateCustomImage<'_> => types::CreateCustomImageResponse, "create_custom_image";
    builder::RetrieveImage<'_> => types::FindImageResponse, "retrieve_image";
    builder::UpdateImage<'_> => types::UpdateCustomImageResponse, "update_image";
    builder::DeleteImage<'_> => (), "delete_image";
    builder::RetrieveCustomImagesStats<'_> => types::CustomImagesStatsResponse, "retrieve_custom_images_stats";
    builder::RetrieveImageAuditsList<'_> => types::ImageAuditResponse, "retrieve_image_audits_list";
}

/// Converts a count the server sent as a JSON number (Contabo sends `number`)
/// into a whole number, refusing negative, fractional and non-finite values.
fn count(
    operation: &str,
    page: u64,
    field: &str,
    value: f64,
    request_id: Option<&str>,
) -> Result<u64, Error> {
    if value.is_finite() && value >= 0.0 && value.fract() == 0.0 && value <= 9.0e15 {
        Ok(value as u64)
    } else {
        Err(Error::Pagination {
            operation: operation.to_owned(),
            page,
            reason: format!("the server sent {field}={value}, which is not a count"),
            request_id: request_id.map(str::to_owned),
        })
    }
}

/// Turns Contabo's `data` + `_pagination` into a [`Page`]. Contabo sends its
/// counts as JSON numbers; a negative, fractional or absurd one is an error.
fn page<T>(
    operation: &str,
    requested: u64,
    data: Vec<T>,
    meta: &types::PaginationMeta,
    request_id: Option<String>,
) -> Result<Page<T>, Error> {
    let rid = request_id.as_deref();
    let count = |field, value: Option<f64>| {
        value
            .map(|v| count(operation, requested, field, v, rid))
            .transpose()
    };
    let number = count("page", meta.page)?.unwrap_or(requested);
    let size = count("size", meta.size)?.unwrap_or(0);
    Ok(Page::new(data, number, size)
        .with_totals(
            count("totalElements", meta.total_elements)?,
            count("totalPages", meta.total_pages)?,
        )
        .with_request_id(request_id))
}

impl ListPages for builder::RetrieveImageList<'_> {
    type Item = Image;

    fn with_page(self, number: u64, size: u64) -> Self {
        self.page(number).size(size)
    }

    fn into_page(response: Response<types::ListImageResponse>, number: u64) -> Result<Page<Image>, Error> {
        let rid = response.request_id().map(str::to_owned);
        let body = response.into_inner();
        page(Self::OPERATION, number, body.data, &body.pagination, rid)
    }

    fn item_key(image: &Image) -> Option<String> {
        Some(image.image_id.clone())
    }
}

impl ListPages for builder::RetrieveImageAuditsList<'_> {
    type Item = ImageAudit;

    fn with_page(self, number: u64, size: u64) -> Self {
        self.page(number).size(size)
    }

    fn into_page(
        response: Response<types::ImageAuditResponse>,
        number: u64,
    ) -> Result<Page<ImageAudit>, Error> {
        let rid = response.request_id().map(str::to_owned);
        let body = response.into_inner();
        page(Self::OPERATION, number, body.data, &body.pagination, rid)
    }

    fn item_key(audit: &ImageAudit) -> Option<String> {
        Some(audit.id.to_string())
    }
}
