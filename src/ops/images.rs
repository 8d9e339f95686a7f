//! The neutral requests of the images API, what each provider can do, and
//! the crate-private [`ImageBackend`] trait every provider's client
//! implements (object_store's `ListClient` shape): the neutral
//! [`Images`](crate::images::Images) API is one blanket impl over it.

use std::fmt;
use std::future::Future;

use chrono::{DateTime, Utc};
use futures::stream::BoxStream;

use crate::ops::pagination::PaginationOptions;
#[cfg(feature = "upload")]
use crate::ops::staging::Staging;
use crate::ops::status::ImageStatus;
use crate::ops::upload::UploadRoute;
#[cfg(feature = "upload")]
use crate::ops::upload::{DirectUpload, UploadPhase};
use crate::ops::wait::{Progress, WaitOptions};
use crate::values::cloud::Cloud;
use crate::values::error::Error;
use crate::values::format::ImageFormat;

/// What a wait calls with each pending report.
pub type OnProgress<'a> = &'a mut (dyn FnMut(&Progress) + Send);

/// The neutral fields of a provider's image: all that
/// [`Image`](crate::images::Image) shows besides the provider's own object.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ImageView {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub status: ImageStatus,
    pub custom: bool,
    pub os: Option<String>,
    pub size_gb: Option<f64>,
    pub created_at: Option<DateTime<Utc>>,
    pub regions: Vec<String>,
}

/// What a provider's client does for the neutral images API, in the
/// provider's own image type; the neutral layer turns each item into an
/// [`Image`](crate::images::Image) and implements
/// [`Images`](crate::images::Images) once for every backend.
pub(crate) trait ImageBackend: Clone + Send + Sync + fmt::Debug + 'static {
    /// The provider.
    const CLOUD: Cloud;
    /// The provider's image, as its API describes one.
    type Item: Send + 'static;

    /// The neutral fields of `item`.
    fn view(item: &Self::Item) -> ImageView;

    /// Asks the server for the images passing `filter`, as far as it can
    /// filter them; the plan says what is left to do here. The stream owns
    /// what it needs (a clone of the client).
    fn list_items(
        &self,
        filter: &ListFilter,
        options: PaginationOptions,
    ) -> (ListPlan, BoxStream<'static, Result<Self::Item, Error>>);

    /// One image by id.
    fn get_item(&self, id: &str) -> impl Future<Output = Result<Self::Item, Error>> + Send;

    /// Starts an import from a URL; the image as the provider reports it then.
    fn import_item(&self, request: ImportRequest) -> impl Future<Output = Result<Self::Item, Error>> + Send;

    /// Changes an image (`changes` is checked) and returns it as it is then;
    /// `progress` sees what the provider reports while it applies the change.
    fn update_item<'a>(
        &'a self,
        id: &'a str,
        changes: ImageUpdate,
        progress: OnProgress<'a>,
    ) -> impl Future<Output = Result<Self::Item, Error>> + Send + 'a;

    /// Deletes an image; `progress` sees what the provider reports meanwhile.
    fn delete_item<'a>(
        &'a self,
        id: &'a str,
        progress: OnProgress<'a>,
    ) -> impl Future<Output = Result<(), Error>> + Send + 'a;

    /// Waits until an image is ready.
    fn wait_item<'a>(
        &'a self,
        id: &'a str,
        options: WaitOptions,
        progress: OnProgress<'a>,
    ) -> impl Future<Output = Result<Self::Item, Error>> + Send + 'a;

    /// The whole upload on the provider's own route, reporting each phase
    /// from [`Staging`](UploadPhase::Staging) on; the image as it is at the
    /// end. Only where the provider's
    /// [`upload_route`](Capabilities::upload_route) is
    /// [`ProviderServer`](UploadRoute::ProviderServer).
    #[cfg(feature = "upload")]
    fn upload_direct<'a>(
        &'a self,
        request: DirectUpload,
        progress: &'a mut (dyn FnMut(UploadPhase) + Send),
    ) -> impl Future<Output = Result<Self::Item, Error>> + Send + 'a {
        let _ = (request, progress);
        std::future::ready(Err(Error::Unsupported(Box::new(
            crate::values::error::Unsupported::new(
                Self::CLOUD,
                "upload_direct",
                "stage the file in a bucket",
            ),
        ))))
    }

    /// Whether [`copy_to_region`](Self::copy_to_region) works: an upload
    /// may name more than one region.
    #[cfg(feature = "upload")]
    const COPIES_TO_REGIONS: bool = false;

    /// Checks an import request as [`import_item`](Self::import_item) would,
    /// without sending it: what an upload checks before a byte is sent.
    #[cfg(feature = "upload")]
    fn check_import(request: ImportRequest) -> Result<(), Error> {
        request.check()
    }

    /// `item` without the URL it was imported from, where the provider
    /// keeps it (an upload's URL is a secret).
    #[cfg(feature = "upload")]
    fn without_source_url(item: Self::Item) -> Self::Item {
        item
    }

    /// The staging store an upload goes through: `given` (the caller's and
    /// the environment's) with what is unset filled from the provider's
    /// defaults. `region` is the one imported into; `env` reads the
    /// environment names the upload may read (the request's lookup).
    #[cfg(feature = "upload")]
    fn upload_staging<'a>(
        &'a self,
        given: Staging,
        region: Option<&'a str>,
        env: &'a (dyn Fn(&str) -> Option<String> + Send + Sync),
    ) -> impl Future<Output = Result<Staging, Error>> + Send + 'a {
        let _ = (region, env);
        std::future::ready(Ok(given))
    }

    /// Checks, before a byte is sent, that the account has room for an
    /// image of `bytes` bytes.
    #[cfg(feature = "upload")]
    fn check_upload_room(&self, bytes: u64) -> impl Future<Output = Result<(), Error>> + Send {
        let _ = bytes;
        std::future::ready(Ok(()))
    }

    /// Copies a ready image to `region` and waits until the copy is done.
    #[cfg(feature = "upload")]
    fn copy_to_region<'a>(
        &'a self,
        id: &'a str,
        region: &'a str,
        options: WaitOptions,
    ) -> impl Future<Output = Result<(), Error>> + Send + 'a {
        let _ = (id, region, options);
        std::future::ready(Err(Error::Unsupported(Box::new(
            crate::values::error::Unsupported::new(Self::CLOUD, "copy_to_region", "import into each region"),
        ))))
    }
}

/// What to list: the account's own images or the provider's, a name, a
/// time of creation. Unset parts let every image pass.
///
/// Own-or-public goes to the server where its API can filter on it
/// (Contabo, DigitalOcean's own images); the rest is applied to each image
/// as it arrives, since none of the three APIs filters on it reliably. An
/// image whose creation time the provider does not report fails a time
/// filter.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use cloud_images::images::ListFilter;
///
/// let filter = ListFilter::default()
///     .with_custom(true)
///     .with_name_prefix("debian-")
///     .with_created_after(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
/// assert_eq!(filter.custom(), Some(true));
/// assert_eq!(filter.name_prefix(), Some("debian-"));
/// assert!(filter.created_before().is_none());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    custom: Option<bool>,
    name: Option<String>,
    name_prefix: Option<String>,
    created_after: Option<DateTime<Utc>>,
    created_before: Option<DateTime<Utc>>,
}

impl ListFilter {
    /// Only the account's own images (`true`) or only the provider's public
    /// ones (`false`); unset: both.
    pub fn with_custom(mut self, custom: bool) -> Self {
        self.custom = Some(custom);
        self
    }
    /// Only images whose name contains `text`, in any case.
    pub fn with_name(mut self, text: impl Into<String>) -> Self {
        self.name = Some(text.into());
        self
    }
    /// Only images whose name starts with `prefix`, exactly (case included).
    pub fn with_name_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.name_prefix = Some(prefix.into());
        self
    }
    /// Only images created at or after `time`.
    pub fn with_created_after(mut self, time: DateTime<Utc>) -> Self {
        self.created_after = Some(time);
        self
    }
    /// Only images created before `time`.
    pub fn with_created_before(mut self, time: DateTime<Utc>) -> Self {
        self.created_before = Some(time);
        self
    }
    /// Own or public images only, when set.
    pub fn custom(&self) -> Option<bool> {
        self.custom
    }
    /// The text names must contain, when set.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
    /// The text names must start with, when set.
    pub fn name_prefix(&self) -> Option<&str> {
        self.name_prefix.as_deref()
    }
    /// The earliest creation time that passes, when set.
    pub fn created_after(&self) -> Option<DateTime<Utc>> {
        self.created_after
    }
    /// The creation time before which images pass, when set.
    pub fn created_before(&self) -> Option<DateTime<Utc>> {
        self.created_before
    }
    /// The filter without its own-or-public part (when the server applied it).
    pub(crate) fn without_custom(&self) -> ListFilter {
        ListFilter {
            custom: None,
            ..self.clone()
        }
    }
    /// Whether every image passes.
    pub(crate) fn is_empty(&self) -> bool {
        *self == ListFilter::default()
    }
    /// Whether an image that is the account's own (`custom`) or not, called
    /// `name` and created at `created`, passes the filter.
    pub(crate) fn passes(&self, custom: bool, name: &str, created: Option<DateTime<Utc>>) -> bool {
        self.custom.is_none_or(|wanted| custom == wanted)
            && self
                .name
                .as_deref()
                .is_none_or(|text| contains_ignore_case(name, text))
            && self
                .name_prefix
                .as_deref()
                .is_none_or(|prefix| name.starts_with(prefix))
            && self
                .created_after
                .is_none_or(|after| created.is_some_and(|c| c >= after))
            && self
                .created_before
                .is_none_or(|before| created.is_some_and(|c| c < before))
    }
}

fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    haystack.to_lowercase().contains(&needle.to_lowercase())
}

/// A custom image to import from a URL.
///
/// Which fields a provider needs is in [`Capabilities::import_requires`]
/// (Contabo: `os`, `linux` or `windows`, and `version`; DigitalOcean:
/// `region`), which it sends in [`Capabilities::import_uses`]; a field a
/// provider has no use for (`region` on Contabo, `version` on
/// DigitalOcean) is not sent. `Debug` and errors show the URL without its
/// user information and query (a presigned URL's signature).
///
/// ```
/// use cloud_images::images::ImportRequest;
///
/// let request = ImportRequest::new("debian-13", "https://example.com/debian-13.qcow2")
///     .with_os("linux")
///     .with_version("13")
///     .with_region("fra1")
///     .with_description("golden image")
///     .with_tag("base");
/// assert_eq!(request.tags(), ["base"]);
/// assert_eq!(request.region(), Some("fra1"));
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ImportRequest {
    name: String,
    url: String,
    os: Option<String>,
    version: Option<String>,
    region: Option<String>,
    description: Option<String>,
    tags: Vec<String>,
}

impl fmt::Debug for ImportRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImportRequest")
            .field("name", &self.name)
            .field("url", &shown_url(&self.url))
            .field("os", &self.os)
            .field("version", &self.version)
            .field("region", &self.region)
            .field("description", &self.description)
            .field("tags", &self.tags)
            .finish()
    }
}

/// A URL for messages: no user information, no query.
fn shown_url(url: &str) -> String {
    let redacted = crate::values::url::redact(url);
    match redacted.split_once('?') {
        Some((head, _)) => format!("{head}?…"),
        None => redacted,
    }
}

impl ImportRequest {
    /// An image called `name`, downloaded from `url` (`http` or `https`).
    pub fn new(name: impl Into<String>, url: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            url: url.into(),
            ..Self::default()
        }
    }
    /// Sets the operating system: `linux` or `windows` on Contabo; on
    /// DigitalOcean a distribution such as `Debian` (`linux`: `Unknown`).
    pub fn with_os(mut self, os: impl Into<String>) -> Self {
        self.os = Some(os.into());
        self
    }
    /// Sets the OS version (Contabo).
    pub fn with_version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }
    /// Sets the region to import into (DigitalOcean).
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }
    /// Sets the description.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }
    /// Adds a tag (DigitalOcean).
    pub fn with_tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }
    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The URL.
    pub fn url(&self) -> &str {
        &self.url
    }
    /// The operating system, when set.
    pub fn os(&self) -> Option<&str> {
        self.os.as_deref()
    }
    /// The OS version, when set.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }
    /// The region, when set.
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }
    /// The description, when set.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }
    /// The tags.
    pub fn tags(&self) -> &[String] {
        &self.tags
    }

    /// The request's fields, for a provider's glue.
    pub(crate) fn into_parts(self) -> ImportParts {
        ImportParts {
            name: self.name,
            url: self.url,
            os: self.os,
            version: self.version,
            region: self.region,
            description: self.description,
            tags: self.tags,
        }
    }

    /// Checks what every provider needs: a name, and an `http(s)` URL with a host.
    pub(crate) fn check(&self) -> Result<(), Error> {
        if self.name.trim().is_empty() {
            return Err(Error::InvalidRequest("import_from_url: `name` is empty".into()));
        }
        let shown = shown_url(&self.url);
        let url = reqwest::Url::parse(&self.url).map_err(|e| {
            Error::InvalidRequest(format!(
                "import_from_url: `url` `{}` is not a URL: {e}",
                shown.escape_debug()
            ))
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
            return Err(Error::InvalidRequest(format!(
                "import_from_url: `url` `{}` is not an http or https URL with a host",
                shown.escape_debug()
            )));
        }
        Ok(())
    }
}

/// An [`ImportRequest`] taken apart.
pub(crate) struct ImportParts {
    pub name: String,
    pub url: String,
    pub os: Option<String>,
    pub version: Option<String>,
    pub region: Option<String>,
    pub description: Option<String>,
    pub tags: Vec<String>,
}

/// A field of an [`ImportRequest`] a provider needs, or an
/// [`Error::InvalidRequest`] naming it.
pub(crate) fn required<'a>(cloud: Cloud, field: &str, value: Option<&'a str>) -> Result<&'a str, Error> {
    value.filter(|v| !v.trim().is_empty()).ok_or_else(|| {
        Error::InvalidRequest(format!(
            "import_from_url: {cloud} needs `{field}`, and the request has none"
        ))
    })
}

/// What to change on an image: the fields that are set.
///
/// ```
/// use cloud_images::images::ImageUpdate;
///
/// let change = ImageUpdate::default().with_name("debian-13-golden");
/// assert_eq!(change.name(), Some("debian-13-golden"));
/// assert_eq!(change.description(), None);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageUpdate {
    name: Option<String>,
    description: Option<String>,
}

impl ImageUpdate {
    /// A new name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
    /// A new description.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }
    /// The new name, when set.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
    /// The new description, when set.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// Refuses an update that changes nothing or blanks the name.
    pub(crate) fn check(&self) -> Result<(), Error> {
        if self.name.is_none() && self.description.is_none() {
            return Err(Error::InvalidRequest(
                "update: nothing to change; set a name or a description".into(),
            ));
        }
        if self.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
            return Err(Error::InvalidRequest("update: the new `name` is empty".into()));
        }
        Ok(())
    }
}

/// What a provider can do through [`Images`](crate::images::Images).
///
/// ```
/// use cloud_images::images::{Capabilities, Cloud};
///
/// let ionos = Capabilities::of(Cloud::Ionos);
/// assert!(!ionos.import_from_url);
/// assert_eq!(Capabilities::of(Cloud::DigitalOcean).import_requires, ["region"]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// `import_from_url` works (IONOS: no; upload the image over FTP).
    pub import_from_url: bool,
    /// The [`ImportRequest`] fields the provider needs.
    pub import_requires: &'static [&'static str],
    /// The [`ImportRequest`] fields the provider sends; the others are not sent.
    pub import_uses: &'static [&'static str],
    /// Tags can be given on import.
    pub import_tags: bool,
    /// Lists are paged on the server, so [`PaginationOptions`](crate::PaginationOptions)
    /// (page size, prefetch) apply; otherwise one request returns all.
    pub paged_list: bool,
    /// Pending images report how far along they are (`done` of `total`).
    pub progress: bool,
    /// `update` and `delete` return only once the provider has applied them
    /// (IONOS runs them as asynchronous requests, which are waited for).
    pub waits_for_changes: bool,
    /// `upload` works: a local file sent the provider's way
    /// ([`upload_route`](Self::upload_route)) and waited for; when it does not,
    /// [`upload_unsupported`](Self::upload_unsupported) says why.
    pub upload: bool,
    /// The formats `upload` takes, told from the file's first bytes.
    pub upload_formats: &'static [ImageFormat],
    /// The largest file `upload` sends, in bytes, when the provider has a limit.
    pub upload_max_bytes: Option<u64>,
    /// How the provider takes the file: through a staging bucket, or its
    /// own file server.
    pub upload_route: UploadRoute,
    /// Why `upload` does not work, and what to do instead, when it does not
    /// (the provider's reason, or a build without the `upload` feature).
    pub upload_unsupported: Option<&'static str>,
}

/// How a provider's list is asked for: the options that go to the server,
/// and what is left to do here.
#[derive(Debug, Clone)]
pub(crate) struct ListPlan {
    /// The options for the provider's paged list (with the item limit only
    /// when nothing is filtered here).
    pub(crate) server: PaginationOptions,
    /// What the server did not filter.
    pub(crate) local: ListFilter,
    /// The limit to apply after filtering here.
    pub(crate) limit: Option<u64>,
}

impl ListPlan {
    /// `server_applies_custom`: the request asks the server for own or public
    /// images only, so that part of the filter is not checked again here.
    /// When nothing is left to filter here, the limit goes to the server (no
    /// page past it is fetched); otherwise it counts what passes here.
    pub(crate) fn new(options: PaginationOptions, filter: &ListFilter, server_applies_custom: bool) -> Self {
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
            .with_page_size(options.page_size())
            .with_concurrency(options.concurrency())
            .with_max_pages(options.max_pages());
        Self {
            server,
            local,
            limit: options.limit(),
        }
    }

    /// A list the server answers in one go: everything, the limit included,
    /// is applied here.
    pub(crate) fn unpaged(options: PaginationOptions, filter: &ListFilter) -> Self {
        Self {
            server: options,
            local: filter.clone(),
            limit: options.limit(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_import_needs_a_name_and_an_http_url() {
        assert!(
            ImportRequest::new("a", "https://example.com/a.qcow2")
                .check()
                .is_ok()
        );
        let empty = ImportRequest::new(" ", "https://example.com/a.qcow2")
            .check()
            .unwrap_err();
        assert!(empty.to_string().contains("`name` is empty"), "{empty}");
        for url in [
            "example.com/a.qcow2",
            "ftp://example.com/a",
            "file:///etc/passwd",
            "",
        ] {
            let err = ImportRequest::new("a", url).check().unwrap_err();
            assert!(
                err.is_invalid_request() && err.to_string().contains("`url`"),
                "{url}: {err}"
            );
        }
    }

    #[test]
    fn a_missing_required_field_is_named_with_the_provider() {
        let err = required(Cloud::DigitalOcean, "region", Some("  ")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid request: import_from_url: digitalocean needs `region`, and the request has none"
        );
        assert_eq!(required(Cloud::Contabo, "version", Some("13")).unwrap(), "13");
    }

    #[test]
    fn an_update_must_change_something_and_keep_a_name() {
        assert!(ImageUpdate::default().check().is_err());
        assert!(ImageUpdate::default().with_name("").check().is_err());
        assert!(ImageUpdate::default().with_description("").check().is_ok());
        assert!(ImageUpdate::default().with_name("x").check().is_ok());
    }

    #[test]
    fn a_filter_passes_what_every_set_part_allows() {
        use chrono::TimeZone;
        let day = |d| Utc.with_ymd_and_hms(2026, 3, d, 0, 0, 0).unwrap();
        let all = ListFilter::default();
        assert!(all.is_empty());
        assert!(all.passes(false, "", None));

        let own = ListFilter::default().with_custom(true);
        assert!(own.passes(true, "x", None) && !own.passes(false, "x", None));
        assert!(own.without_custom().is_empty());

        let named = ListFilter::default().with_name("BIAN");
        assert!(named.passes(false, "debian-13", None));
        assert!(!named.passes(false, "ubuntu", None));

        let prefix = ListFilter::default().with_name_prefix("debian-");
        assert!(prefix.passes(true, "debian-13", None));
        assert!(!prefix.passes(true, "my-debian-13", None));
        assert!(!prefix.passes(true, "Debian-13", None), "a prefix keeps its case");

        let march = ListFilter::default()
            .with_created_after(day(2))
            .with_created_before(day(5));
        assert!(march.passes(true, "a", Some(day(2))), "the start is included");
        assert!(march.passes(true, "a", Some(day(4))));
        assert!(!march.passes(true, "a", Some(day(5))), "the end is not");
        assert!(!march.passes(true, "a", Some(day(1))));
        assert!(
            !march.passes(true, "a", None),
            "no creation time fails a time filter"
        );
        assert_eq!(march.without_custom(), march);
        assert!(!march.is_empty());
    }

    #[test]
    fn the_limit_goes_to_the_server_only_when_nothing_is_filtered_here() {
        let options = PaginationOptions::default()
            .with_page_size(50)
            .with_concurrency(2)
            .with_max_pages(9)
            .with_limit(7);
        let own = ListFilter::default().with_custom(true);
        let plan = ListPlan::new(options, &own, true);
        assert_eq!((plan.server, plan.limit), (options, None));
        assert!(plan.local.is_empty(), "the server's own-images filter is trusted");

        for (filter, server_applies) in [(own.clone(), false), (own.with_name("x"), true)] {
            let plan = ListPlan::new(options, &filter, server_applies);
            assert_eq!(plan.server.limit(), None);
            assert_eq!(plan.server.page_size(), 50);
            assert_eq!(plan.server.concurrency(), 2);
            assert_eq!(plan.server.max_pages(), 9);
            assert_eq!(plan.limit, Some(7));
            assert_eq!(plan.local.name(), filter.name());
        }
    }
}
