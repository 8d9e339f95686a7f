//! One images API over every provider: [`Images`].
//!
//! Each provider's client implements [`Images`], so code written against
//! `&dyn Images` (or `Arc<dyn Images>`) runs on Contabo, DigitalOcean and
//! IONOS Cloud alike. [`from_env`] picks the provider at run time; for what
//! only one provider can do, build its own client (`contabo::Client::from_env()`,
//! ...), which is also an `Images`.
//!
//! ```no_run
//! use cloud_images::images::{self, Error, ImageUpdate, ImportRequest, ListFilter, WaitOptions};
//! use futures::TryStreamExt;
//!
//! # async fn demo() -> Result<(), Error> {
//! // CLOUD_IMAGES_PROVIDER=contabo|digitalocean|ionos, and that provider's own variables.
//! let images = images::from_env(None)?;
//! let mut own = images.list(ListFilter::default().with_custom(true));
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

use futures::FutureExt;
use futures::future::BoxFuture;
use futures::stream::{BoxStream, StreamExt, TryStreamExt};

use crate::ops::images::ImageBackend;

mod model;
mod registry;
mod upload;

pub use crate::ops::images::{Capabilities, ImageUpdate, ImportRequest, ListFilter, OnProgress};
pub use crate::ops::pagination::PaginationOptions;
pub use crate::ops::staging::Staging;
pub use crate::ops::status::ImageStatus;
pub use crate::ops::upload::{OnUpload, UploadPhase, UploadProgress, UploadRoute};
pub use crate::ops::wait::{Progress, WaitOptions};
pub use crate::values::cloud::{Cloud, UnknownCloud};
pub use crate::values::error::Error;
pub use crate::values::format::ImageFormat;
pub use crate::values::os::OsFamily;
pub use model::Image;
pub use registry::{PROVIDER_VARIABLE, ProviderImage, from_env, from_lookup};
pub use upload::UploadRequest;

/// A stream of images, as [`Images::list`] returns it: `'static`, it owns
/// what it needs (a clone of the client), so it can outlive the `Images` it
/// came from, be returned from a function or be moved to a task.
pub type ImageStream<'a> = BoxStream<'a, Result<Image, Error>>;

/// The images of one account on one provider.
///
/// Object safe: use it as `&dyn Images` or `Arc<dyn Images>`. Implemented
/// by [`contabo::Client`](crate::contabo::Client),
/// [`digitalocean::Client`](crate::digitalocean::Client) and
/// [`ionos::Client`](crate::ionos::Client); every call goes through the
/// client's layer (retries, time limits, request ids). The streams and the
/// futures of `get`, `import_from_url`, `update` and `delete` borrow
/// neither the client nor the id: they can be returned, stored or spawned.
///
/// ```no_run
/// use std::sync::Arc;
/// use cloud_images::images::{Images, ImageStream, ListFilter};
/// use futures::TryStreamExt;
///
/// fn debian_images(images: Arc<dyn Images>) -> ImageStream<'static> {
///     images.list(ListFilter::default().with_name_prefix("debian"))
/// }
///
/// # async fn demo() -> Result<(), cloud_images::Error> {
/// let images: Arc<dyn Images> = Arc::new(cloud_images::digitalocean::Client::from_env()?);
/// let names: Vec<String> = debian_images(images.clone())
///     .map_ok(|image| image.name)
///     .try_collect()
///     .await?;
/// let id = String::from("1234567");
/// let task = tokio::spawn(images.get(&id));
/// # Ok(()) }
/// ```
pub trait Images: Send + Sync + fmt::Debug {
    /// The provider.
    fn cloud(&self) -> Cloud;

    /// What the provider can do.
    fn capabilities(&self) -> Capabilities {
        Capabilities::of(self.cloud())
    }

    /// Every image passing `filter`, over all pages, with the default
    /// [`PaginationOptions`].
    fn list(&self, filter: ListFilter) -> ImageStream<'static> {
        self.list_with(filter, PaginationOptions::default())
    }

    /// Every image passing `filter`, over all pages (`pagination`: page
    /// size, pages in flight, an item limit counted after the filter).
    fn list_with(&self, filter: ListFilter, pagination: PaginationOptions) -> ImageStream<'static>;

    /// One image by id. A missing one is an error whose
    /// [`is_not_found`](Error::is_not_found) is true.
    fn get(&self, id: &str) -> BoxFuture<'static, Result<Image, Error>>;

    /// Starts importing a custom image from a URL and returns it as the
    /// provider reports it then (usually pending); see
    /// [`wait_until_ready`](Images::wait_until_ready).
    fn import_from_url(&self, request: ImportRequest) -> BoxFuture<'static, Result<Image, Error>>;

    /// Changes an image's name or description and returns it as it is then.
    fn update(&self, id: &str, changes: ImageUpdate) -> BoxFuture<'static, Result<Image, Error>>;

    /// Deletes one of the account's images.
    fn delete(&self, id: &str) -> BoxFuture<'static, Result<(), Error>>;

    /// [`update`](Images::update), calling `progress` with what the provider
    /// reports while it applies the change (IONOS: its request's `QUEUED`,
    /// `RUNNING`, for up to ten minutes; Contabo and DigitalOcean apply a
    /// change before they answer and report nothing).
    fn update_with_progress<'a>(
        &'a self,
        id: &str,
        changes: ImageUpdate,
        progress: OnProgress<'a>,
    ) -> BoxFuture<'a, Result<Image, Error>> {
        let _ = progress;
        self.update(id, changes)
    }

    /// [`delete`](Images::delete), calling `progress` as
    /// [`update_with_progress`](Images::update_with_progress) does.
    fn delete_with_progress<'a>(
        &'a self,
        id: &str,
        progress: OnProgress<'a>,
    ) -> BoxFuture<'a, Result<(), Error>> {
        let _ = progress;
        self.delete(id)
    }

    /// Polls an image until it is ready ([`Error::Wait`] with the provider's
    /// message when it failed, [`Error::Timeout`] when `options` run out),
    /// calling `progress` with each pending report.
    fn wait_until_ready<'a>(
        &'a self,
        id: &str,
        options: WaitOptions,
        progress: OnProgress<'a>,
    ) -> BoxFuture<'a, Result<Image, Error>>;

    /// Uploads a local image file the provider's way
    /// ([`Capabilities::upload_route`]: through an S3-compatible staging
    /// bucket, or over FTPS to the provider's server) and returns the image
    /// once ready (see [`UploadRequest`]); checked before a byte is sent,
    /// a staged object or a partial file removed afterwards.
    ///
    /// The default (for an `Images` of your own) is [`Error::Unsupported`].
    fn upload<'a>(
        &'a self,
        request: UploadRequest,
        progress: OnUpload<'a>,
    ) -> BoxFuture<'a, Result<Image, Error>> {
        let _ = (request, progress);
        let unsupported = crate::values::error::Unsupported::new(self.cloud(), "upload", "import_from_url");
        Box::pin(ready(Err(Error::Unsupported(Box::new(unsupported)))))
    }
}

impl<T: Images + ?Sized> Images for Arc<T> {
    fn cloud(&self) -> Cloud {
        (**self).cloud()
    }
    fn capabilities(&self) -> Capabilities {
        (**self).capabilities()
    }
    fn list(&self, filter: ListFilter) -> ImageStream<'static> {
        (**self).list(filter)
    }
    fn list_with(&self, filter: ListFilter, pagination: PaginationOptions) -> ImageStream<'static> {
        (**self).list_with(filter, pagination)
    }
    fn get(&self, id: &str) -> BoxFuture<'static, Result<Image, Error>> {
        (**self).get(id)
    }
    fn import_from_url(&self, request: ImportRequest) -> BoxFuture<'static, Result<Image, Error>> {
        (**self).import_from_url(request)
    }
    fn update(&self, id: &str, changes: ImageUpdate) -> BoxFuture<'static, Result<Image, Error>> {
        (**self).update(id, changes)
    }
    fn delete(&self, id: &str) -> BoxFuture<'static, Result<(), Error>> {
        (**self).delete(id)
    }
    fn update_with_progress<'a>(
        &'a self,
        id: &str,
        changes: ImageUpdate,
        progress: OnProgress<'a>,
    ) -> BoxFuture<'a, Result<Image, Error>> {
        (**self).update_with_progress(id, changes, progress)
    }
    fn delete_with_progress<'a>(
        &'a self,
        id: &str,
        progress: OnProgress<'a>,
    ) -> BoxFuture<'a, Result<(), Error>> {
        (**self).delete_with_progress(id, progress)
    }
    fn wait_until_ready<'a>(
        &'a self,
        id: &str,
        options: WaitOptions,
        progress: OnProgress<'a>,
    ) -> BoxFuture<'a, Result<Image, Error>> {
        (**self).wait_until_ready(id, options, progress)
    }
    fn upload<'a>(
        &'a self,
        request: UploadRequest,
        progress: OnUpload<'a>,
    ) -> BoxFuture<'a, Result<Image, Error>> {
        (**self).upload(request, progress)
    }
}

/// The one implementation of [`Images`]: every provider's client is an
/// `ImageBackend`, whose items become [`Image`]s here (object_store's
/// `ListClientExt` shape). Each future owns a clone of the client (a few
/// reference counts) and of the id.
impl<B> Images for B
where
    B: ImageBackend,
    ProviderImage: From<B::Item>,
{
    fn cloud(&self) -> Cloud {
        B::CLOUD
    }

    fn list_with(&self, filter: ListFilter, pagination: PaginationOptions) -> ImageStream<'static> {
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

    fn get(&self, id: &str) -> BoxFuture<'static, Result<Image, Error>> {
        let (client, id) = (self.clone(), id.to_owned());
        async move { client.get_item(&id).await.map(Image::of::<B>) }.boxed()
    }

    fn import_from_url(&self, request: ImportRequest) -> BoxFuture<'static, Result<Image, Error>> {
        let client = self.clone();
        async move { client.import_item(request).await.map(Image::of::<B>) }.boxed()
    }

    fn update(&self, id: &str, changes: ImageUpdate) -> BoxFuture<'static, Result<Image, Error>> {
        let (client, id) = (self.clone(), id.to_owned());
        async move { client.update_with_progress(&id, changes, &mut |_| {}).await }.boxed()
    }

    fn delete(&self, id: &str) -> BoxFuture<'static, Result<(), Error>> {
        let (client, id) = (self.clone(), id.to_owned());
        async move { client.delete_item(&id, &mut |_| {}).await }.boxed()
    }

    fn update_with_progress<'a>(
        &'a self,
        id: &str,
        changes: ImageUpdate,
        progress: OnProgress<'a>,
    ) -> BoxFuture<'a, Result<Image, Error>> {
        let id = id.to_owned();
        async move {
            changes.check()?;
            self.update_item(&id, changes, progress).await.map(Image::of::<B>)
        }
        .boxed()
    }

    fn delete_with_progress<'a>(
        &'a self,
        id: &str,
        progress: OnProgress<'a>,
    ) -> BoxFuture<'a, Result<(), Error>> {
        let id = id.to_owned();
        async move { self.delete_item(&id, progress).await }.boxed()
    }

    fn wait_until_ready<'a>(
        &'a self,
        id: &str,
        options: WaitOptions,
        progress: OnProgress<'a>,
    ) -> BoxFuture<'a, Result<Image, Error>> {
        let id = id.to_owned();
        async move { self.wait_item(&id, options, progress).await.map(Image::of::<B>) }.boxed()
    }

    fn upload<'a>(
        &'a self,
        request: UploadRequest,
        progress: OnUpload<'a>,
    ) -> BoxFuture<'a, Result<Image, Error>> {
        async move { upload::run(self, request, progress).await.map(Image::of::<B>) }.boxed()
    }
}
