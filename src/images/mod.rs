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
//! let mut own = images.list(ListFilter::default().custom(true), Default::default());
//! while let Some(image) = own.try_next().await? {
//!     println!("{} {} {}", image.id, image.name, image.status);
//! }
//! let request = ImportRequest::new("debian-13", "https://example.com/debian-13.qcow2")
//!     .os("linux").version("13").region("fra1");
//! let image = images.import_from_url(request).await?;
//! let image = images.wait_until_ready(&image.id, WaitOptions::default(), &mut |p| println!("{p:?}")).await?;
//! images.update(&image.id, ImageUpdate::default().name("debian-13-golden")).await?;
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

use crate::wait::{Progress, State, WaitOptions};
use crate::{Error, PaginationOptions};

#[cfg(feature = "contabo")]
pub(crate) mod contabo;
#[cfg(feature = "digitalocean")]
pub(crate) mod digitalocean;
mod env;
#[cfg(feature = "ionos")]
pub(crate) mod ionos;
mod model;

pub use env::{PROVIDER_VARIABLE, from_env, from_lookup};
pub use model::{
    Capabilities, Cloud, Image, ImageStatus, ImageUpdate, ImportRequest, ListFilter, ProviderImage,
};

/// A stream of images, as [`Images::list`] returns it.
pub type ImageStream<'a> = BoxStream<'a, Result<Image, Error>>;

/// What [`Images::wait_until_ready`] calls with each pending report.
pub type OnProgress<'a> = &'a mut (dyn FnMut(&Progress) + Send);

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
///     .list(ListFilter::default().name("ubuntu"), Default::default())
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

/// How a provider's list is asked for: the options that go to the server,
/// and what is left to do here.
#[derive(Debug, Clone)]
struct ListPlan {
    /// The options for the provider's paged list (with the item limit only
    /// when nothing is filtered here).
    server: PaginationOptions,
    /// What the server did not filter.
    local: ListFilter,
    /// The limit to apply after filtering here.
    limit: Option<u64>,
}

impl ListPlan {
    /// `server_applies_custom`: the request asks the server for own or public
    /// images only, so that part of the filter is not checked again here.
    /// When nothing is left to filter here, the limit goes to the server (no
    /// page past it is fetched); otherwise it counts what passes here.
    fn new(options: PaginationOptions, filter: &ListFilter, server_applies_custom: bool) -> Self {
        let local = if server_applies_custom {
            filter.without_custom()
        } else {
            filter.clone()
        };
        if local.is_empty() {
            return Self {
                server: options,
                local,
                limit: None,
            };
        }
        let server = PaginationOptions::default()
            .page_size(options.get_page_size())
            .concurrency(options.get_concurrency())
            .max_pages(options.get_max_pages());
        Self {
            server,
            local,
            limit: options.get_limit(),
        }
    }

    /// A list the server answers in one go: everything, the limit included,
    /// is applied here.
    fn unpaged(options: PaginationOptions, filter: &ListFilter) -> Self {
        Self {
            server: options,
            local: filter.clone(),
            limit: options.get_limit(),
        }
    }

    /// Converts a provider's items, keeps those passing the local filter,
    /// stops at the limit.
    fn stream<'a, T: Send + 'a>(
        self,
        items: BoxStream<'a, Result<T, Error>>,
        convert: fn(T) -> Image,
    ) -> ImageStream<'a> {
        let filter = self.local;
        let images = items
            .map_ok(convert)
            .try_filter(move |image| ready(filter.matches(image)));
        match self.limit {
            Some(limit) => images.take(usize::try_from(limit).unwrap_or(usize::MAX)).boxed(),
            None => images.boxed(),
        }
    }
}

/// Where an image stands for a wait: the neutral status, with the
/// provider's own words that are final (`final_words`, e.g. DigitalOcean's
/// `deleted`) ending the wait; other words and a missing status are polled
/// again. `word` is the provider's status word, kept in the failure.
pub(crate) fn wait_state<T>(
    status: ImageStatus,
    final_words: &[&str],
    value: T,
    word: Option<String>,
) -> State<T> {
    match status {
        ImageStatus::Ready => State::Ready(value),
        ImageStatus::Pending(progress) => State::Pending(progress),
        ImageStatus::Failed { message } => State::failed(message, word),
        ImageStatus::Deleting => State::failed("the image is being deleted", word),
        ImageStatus::Other(other) if final_words.contains(&other.as_str()) => {
            State::failed(format!("the image is {other}"), word)
        }
        ImageStatus::Other(_) | ImageStatus::Unknown => State::Pending(Progress::new(word, None, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_goes_to_the_server_only_when_nothing_is_filtered_here() {
        let options = PaginationOptions::default()
            .page_size(50)
            .concurrency(2)
            .max_pages(9)
            .limit(7);
        let own = ListFilter::default().custom(true);
        let plan = ListPlan::new(options, &own, true);
        assert_eq!((plan.server, plan.limit), (options, None));
        assert!(plan.local.is_empty(), "the server's own-images filter is trusted");

        for (filter, server_applies) in [(own.clone(), false), (own.name("x"), true)] {
            let plan = ListPlan::new(options, &filter, server_applies);
            assert_eq!(plan.server.get_limit(), None);
            assert_eq!(plan.server.get_page_size(), 50);
            assert_eq!(plan.server.get_concurrency(), 2);
            assert_eq!(plan.server.get_max_pages(), 9);
            assert_eq!(plan.limit, Some(7));
            assert_eq!(plan.local.get_name(), filter.get_name());
        }
    }

    #[test]
    fn a_wait_ends_on_final_words_and_polls_unknown_ones() {
        let pending = |s| matches!(s, State::Pending(_));
        assert!(matches!(
            wait_state(ImageStatus::Ready, &[], 1, None),
            State::Ready(1)
        ));
        assert!(pending(wait_state(ImageStatus::Unknown, &["gone"], 1, None)));
        assert!(pending(wait_state(
            ImageStatus::Other("INACTIVE".into()),
            &["gone"],
            1,
            None
        )));
        assert_eq!(
            wait_state(
                ImageStatus::Other("gone".into()),
                &["gone"],
                1,
                Some("gone".into())
            ),
            State::failed("the image is gone", Some("gone".into()))
        );
        assert_eq!(
            wait_state(ImageStatus::Deleting, &[], 1, Some("DESTROYING".into())),
            State::failed("the image is being deleted", Some("DESTROYING".into()))
        );
    }
}
