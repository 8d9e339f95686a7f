//! Contabo's images API (`https://api.contabo.com/v1/compute/images...`).
//!
//! [`Client`], [`types`] and [`builder`] are generated at build time from
//! `openapi/contabo.yaml`; this module adds the crate's layer to them:
//! [`Execute`](crate::Execute) on every operation builder,
//! [`Paginate`](crate::Paginate) on the two list builders, and
//! [`Client::builder`].
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

#[allow(clippy::all, missing_docs, unused_imports, dead_code)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/contabo.rs"));
}

pub use generated::{Client, builder, types};

use crate::client::{ClientBuilder, Provider};
use crate::execute::impl_execute;
use crate::pagination::{self, Page, PageSource, Paginate, PaginationOptions};
use crate::transport::{Transport, impl_client_hooks};
use crate::{Error, Execute};
use futures::stream::BoxStream;

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

    /// The client's request pipeline (retry policy, time limits).
    pub fn transport(&self) -> &Transport {
        &self.inner
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

/// Turns Contabo's `data` + `_pagination` into a [`Page`].
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
            .map(|v| pagination::count(operation, requested, field, v, rid))
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

/// Implements [`PageSource`] and [`Paginate`] for a Contabo list builder.
macro_rules! paginate {
    ($source:ident, $builder:ident, $item:ty, $operation:literal, |$it:ident| $key:expr) => {
        struct $source<'a>(builder::$builder<'a>);

        impl PageSource for $source<'_> {
            type Item = $item;

            fn operation(&self) -> &'static str {
                $operation
            }

            async fn fetch(&self, number: u64, size: u64) -> Result<Page<$item>, Error> {
                let response = self.0.clone().page(number).size(size).execute().await?;
                let rid = response.request_id().map(str::to_owned);
                let body = response.into_inner();
                page($operation, number, body.data, &body.pagination, rid)
            }

            fn key($it: &$item) -> Option<String> {
                $key
            }
        }

        impl<'a> Paginate<'a> for builder::$builder<'a> {
            type Item = $item;

            fn pages_with(self, options: PaginationOptions) -> BoxStream<'a, Result<Page<$item>, Error>> {
                pagination::pages($source(self), options)
            }

            fn stream_with(self, options: PaginationOptions) -> BoxStream<'a, Result<$item, Error>> {
                pagination::items($source(self), options)
            }
        }
    };
}

paginate!(
    ImageList,
    RetrieveImageList,
    Image,
    "retrieve_image_list",
    |image| Some(image.image_id.clone())
);
paginate!(
    AuditList,
    RetrieveImageAuditsList,
    ImageAudit,
    "retrieve_image_audits_list",
    |audit| Some(audit.id.to_string())
);
