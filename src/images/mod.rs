//! One images API over every provider: [`Images`].
//!
//! Each provider's client implements [`Images`], so code written against
//! `&dyn Images` (or `Arc<dyn Images>`) runs on Contabo, DigitalOcean and
//! IONOS Cloud alike. [`from_env`] picks the provider at run time; for what
//! only one provider can do, build its own client (`contabo::Client::from_env()`,
//! ...), which is also an `Images`.
//!
//! ```no_run
//! use cloud_images::images::{self, ImageUpdate, ImportRequest, ListFilter};
//! use cloud_images::wait::WaitOptions;
//! use futures::TryStreamExt;
//!
//! # async fn demo() -> Result<(), cloud_images::Error> {
//! // CLOUD_IMAGES_PROVIDER=contabo|digitalocean|ionos, and that provider's own variables.
//! let images = images::from_env(None)?;
//! let mut own = images.list(ListFilter::default().with_custom(true), Default::default());
//! while let Some(image) = own.try_next().await? {
//!     println!("{} {} {}", image.id, image.name, image.status);
//! }
//! let request = ImportRequest::new("debian-13", "https://example.com/debian-13.qcow2")
//!     .with_os("linux").with_version("13").with_region("fra1");
//! let image = images.import_from_url(request).await?;
//! let image = images.wait_until_ready(&image.id, WaitOptions::default(), &mut |p| println!("{p:?}")).await?;
//! images.update(&image.id, ImageUpdate::default().with_name("debian-13-golden")).await?;
//! images.delete(&image.id).await?;
//! # Ok(()) }
//! ```
//!
//! What a provider cannot do is [`Error::Unsupported`]
//! (IONOS has no import from a URL); what a provider needs and a request
//! lacks is [`Error::InvalidRequest`] naming the
//! field; both before anything is sent.

use std::fmt;
use std::future::ready;
use std::sync::Arc;

use futures::future::BoxFuture;
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use futures::{FutureExt, TryFutureExt};

use crate::ops::images::ImageBackend;
use crate::ops::wait::WaitOptions;
use crate::{Error, PaginationOptions};

mod model;
mod registry;

pub use crate::ops::images::{Capabilities, ImageUpdate, ImportRequest, ListFilter, OnProgress};
pub use crate::ops::status::ImageStatus;
pub use crate::values::cloud::{Cloud, UnknownCloud};
pub use model::Image;
pub use registry::{PROVIDER_VARIABLE, ProviderImage, from_env, from_lookup};

/// A stream of images, as [`Images::list`] returns it.
pub type ImageStream<'a> = BoxStream<'a, Result<Image, Error>>;

/// The images of one account on one provider.
///
/// Object safe: use it as `&dyn Images` or `Arc<dyn Images>`. Implemented
/// by [`contabo::Client`](crate::contabo::Client),
/// [`digitalocean::Client`](crate::digitalocean::Client) and
/// [`ionos::Client`](crate::ionos::Client); every call goes through the
/// client's layer (retries, time limits, request ids).
///
/// ```no_run
/// use std::sync::Arc;
/// use cloud_images::images::{Images, ListFilter};
/// use futures::TryStreamExt;
///
/// # async fn demo() -> Result<(), cloud_images::Error> {
/// let images: Arc<dyn Images> = Arc::new(cloud_images::digitalocean::Client::from_env()?);
/// let names: Vec<String> = images
///     .list(ListFilter::default().with_name("ubuntu"), Default::default())
///     .map_ok(|image| image.name)
///     .try_collect()
///     .await?;
/// # Ok(()) }
/// ```
pub trait Images: Send + Sync + fmt::Debug {
    /// The provider.
    fn cloud(&self) -> Cloud;

    /// What the provider can do.
    fn capabilities(&self) -> Capabilities {
        Capabilities::of(self.cloud())
    }

    /// Every image passing `filter`, over all pages (`pagination`: page
    /// size, pages in flight, an item limit counted after the filter).
    fn list(&self, filter: ListFilter, pagination: PaginationOptions) -> ImageStream<'_>;

    /// One image by id. A missing one is an error whose
    /// [`is_not_found`](Error::is_not_found) is true.
    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Image, Error>>;

    /// Starts importing a custom image from a URL and returns it as the
    /// provider reports it then (usually pending); see
    /// [`wait_until_ready`](Images::wait_until_ready).
    fn import_from_url(&self, request: ImportRequest) -> BoxFuture<'_, Result<Image, Error>>;

    /// Changes an image's name or description and returns it as it is then.
    fn update<'a>(&'a self, id: &'a str, changes: ImageUpdate) -> BoxFuture<'a, Result<Image, Error>>;

    /// Deletes one of the account's images.
    fn delete<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), Error>>;

    /// Polls an image until it is ready ([`Error::Wait`] with the provider's
    /// message when it failed, [`Error::Timeout`] when `options` run out),
    /// calling `progress` with each pending report.
    fn wait_until_ready<'a>(
        &'a self,
        id: &'a str,
        options: WaitOptions,
        progress: OnProgress<'a>,
    ) -> BoxFuture<'a, Result<Image, Error>>;
}

impl<T: Images + ?Sized> Images for Arc<T> {
    fn cloud(&self) -> Cloud {
        (**self).cloud()
    }
    fn capabilities(&self) -> Capabilities {
        (**self).capabilities()
    }
    fn list(&self, filter: ListFilter, pagination: PaginationOptions) -> ImageStream<'_> {
        (**self).list(filter, pagination)
    }
    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Image, Error>> {
        (**self).get(id)
    }
    fn import_from_url(&self, request: ImportRequest) -> BoxFuture<'_, Result<Image, Error>> {
        (**self).import_from_url(request)
    }
    fn update<'a>(&'a self, id: &'a str, changes: ImageUpdate) -> BoxFuture<'a, Result<Image, Error>> {
        (**self).update(id, changes)
    }
    fn delete<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        (**self).delete(id)
    }
    fn wait_until_ready<'a>(
        &'a self,
        id: &'a str,
        options: WaitOptions,
        progress: OnProgress<'a>,
    ) -> BoxFuture<'a, Result<Image, Error>> {
        (**self).wait_until_ready(id, options, progress)
    }
}

/// The one implementation of [`Images`]: every provider's client is an
/// `ImageBackend`, whose items become [`Image`]s here (object_store's
/// `ListClientExt` shape).
impl<B> Images for B
where
    B: ImageBackend,
    ProviderImage: From<B::Item>,
{
    fn cloud(&self) -> Cloud {
        B::CLOUD
    }

    fn list(&self, filter: ListFilter, pagination: PaginationOptions) -> ImageStream<'_> {
        let (plan, items) = self.list_items(&filter, pagination);
        let local = plan.local;
        let images = items
            .map_ok(Image::of::<B>)
            .try_filter(move |image| ready(local.matches(image)));
        match plan.limit {
            Some(limit) => images.take(usize::try_from(limit).unwrap_or(usize::MAX)).boxed(),
            None => images.boxed(),
        }
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Image, Error>> {
        self.get_item(id).map_ok(Image::of::<B>).boxed()
    }

    fn import_from_url(&self, request: ImportRequest) -> BoxFuture<'_, Result<Image, Error>> {
        self.import_item(request).map_ok(Image::of::<B>).boxed()
    }

    fn update<'a>(&'a self, id: &'a str, changes: ImageUpdate) -> BoxFuture<'a, Result<Image, Error>> {
        async move {
            changes.check()?;
            self.update_item(id, changes).await.map(Image::of::<B>)
        }
        .boxed()
    }

    fn delete<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        self.delete_item(id).boxed()
    }

    fn wait_until_ready<'a>(
        &'a self,
        id: &'a str,
        options: WaitOptions,
        progress: OnProgress<'a>,
    ) -> BoxFuture<'a, Result<Image, Error>> {
        self.wait_item(id, options, progress)
            .map_ok(Image::of::<B>)
            .boxed()
    }
}
