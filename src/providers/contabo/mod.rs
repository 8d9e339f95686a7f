//! Contabo's images API (`https://api.contabo.com/v1/compute/images...`).
//!
//! [`Client`], [`types`] and [`builder`] are generated at build time from
//! `openapi/contabo.yaml`; this module adds the crate's layer to them:
//! [`Execute`] on every operation builder,
//! [`ListPages`](crate::pagination::ListPages) (and so [`Paginate`](crate::Paginate)) on the two list
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
//! | `retrieveObjectStorageList` | `GET /v1/object-storages` | [`Client::retrieve_object_storage_list`] |
//! | `createObjectStorage` | `POST /v1/object-storages` | [`Client::create_object_storage`] |
//! | `listObjectStorageCredentials` | `GET /v1/users/{userId}/object-storages/credentials` | [`Client::list_object_storage_credentials`] |
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

mod images;
mod pages;
mod status;
#[cfg(feature = "upload")]
mod upload;

use crate::engine::auth::PasswordGrant;
use crate::engine::builder::ClientBuilder;
use crate::engine::builder::{FromEnv, impl_generated_client};
use crate::engine::execute::impl_execute;
use crate::engine::provider::Provider;
use crate::ops::wait::{self, Progress, WaitOptions};
use crate::{Error, Execute, Response};
use status::accept_image;

/// An image in a list (standard or custom).
pub type Image = types::ListImageResponseData;
/// An image as [`Client::retrieve_image`] returns it.
pub type ImageDetails = types::ImageResponse;
/// An entry of the images audit log.
pub type ImageAudit = types::ImageAuditResponseData;

/// Contabo: its defaults and environment for [`ClientBuilder`] (see
/// [`ClientBuilder::from_env`]).
#[derive(Debug, Clone, Copy)]
pub struct Contabo;

impl Provider for Contabo {
    const NAME: &'static str = "Contabo";
    const DEFAULT_BASE_URL: &'static str = "https://api.contabo.com";
    type Client = Client;
}

impl FromEnv for Contabo {
    /// The names Contabo's CLI and Terraform provider use: `CNTB_API` (base
    /// URL), `CNTB_TRACE_ID`, and either `CNTB_ACCESS_TOKEN` (a ready token;
    /// it wins when set) or `CNTB_OAUTH2_CLIENT_ID`,
    /// `CNTB_OAUTH2_CLIENT_SECRET`, `CNTB_OAUTH2_USER`, `CNTB_OAUTH2_PASS` and
    /// optionally `CNTB_OAUTH2_TOKEN_URL` (an OAuth2 password grant).
    ///
    /// ```
    /// use cloud_images::provider::ClientInfo;
    ///
    /// let client = cloud_images::contabo::Client::builder()
    ///     .base_url("http://127.0.0.1:8080")
    ///     .bearer_token("token")
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(client.baseurl(), "http://127.0.0.1:8080");
    /// ```
    fn configure(
        mut builder: ClientBuilder<Self>,
        get: &dyn Fn(&str) -> Option<String>,
    ) -> Result<ClientBuilder<Self>, Error> {
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

impl_generated_client!(Client, Contabo);

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
        let poll = || async { first_image(self.retrieve_image().image_id(image_id).execute().await?) };
        wait::for_image(image_id, options, poll, accept_image, on_progress).await
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

/// The OAuth2 token URL Contabo's CLI and Terraform provider use.
pub const DEFAULT_TOKEN_URL: &str =
    "https://auth.contabo.com/auth/realms/contabo/protocol/openid-connect/token";

impl_execute! {
    builder::RetrieveImageList<'_> => types::ListImageResponse, "retrieve_image_list";
    builder::CreateCustomImage<'_> => types::CreateCustomImageResponse, "create_custom_image";
    builder::RetrieveImage<'_> => types::FindImageResponse, "retrieve_image";
    builder::UpdateImage<'_> => types::UpdateCustomImageResponse, "update_image";
    builder::DeleteImage<'_> => (), "delete_image";
    builder::RetrieveCustomImagesStats<'_> => types::CustomImagesStatsResponse, "retrieve_custom_images_stats";
    builder::RetrieveImageAuditsList<'_> => types::ImageAuditResponse, "retrieve_image_audits_list";
    builder::RetrieveObjectStorageList<'_> => types::ListObjectStorageResponse, "retrieve_object_storage_list";
    builder::CreateObjectStorage<'_> => types::CreateObjectStorageResponse, "create_object_storage";
    builder::ListObjectStorageCredentials<'_> => types::ListCredentialResponse, "list_object_storage_credentials";
}
