//! The provider-neutral values: an [`Image`], its [`ImageStatus`], what to
//! import ([`ImportRequest`]), what to change ([`ImageUpdate`]), what to list
//! ([`ListFilter`]) and what a provider can do ([`Capabilities`]).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::Error;
use crate::wait::Progress;

/// A cloud this crate manages images on.
///
/// ```
/// use cloud_images::images::Cloud;
///
/// let cloud: Cloud = "digitalocean".parse().unwrap();
/// assert_eq!(cloud, Cloud::DigitalOcean);
/// assert_eq!(cloud.to_string(), "digitalocean");
/// assert!("aws".parse::<Cloud>().unwrap_err().to_string().contains("contabo, digitalocean, ionos"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Cloud {
    /// Contabo (`contabo`).
    Contabo,
    /// DigitalOcean (`digitalocean`).
    DigitalOcean,
    /// IONOS Cloud (`ionos`).
    Ionos,
}

impl Cloud {
    /// Every cloud, in name order.
    pub const ALL: [Cloud; 3] = [Cloud::Contabo, Cloud::DigitalOcean, Cloud::Ionos];

    /// The name: `contabo`, `digitalocean` or `ionos` (also the cargo feature
    /// and module of its client).
    pub fn as_str(&self) -> &'static str {
        match self {
            Cloud::Contabo => "contabo",
            Cloud::DigitalOcean => "digitalocean",
            Cloud::Ionos => "ionos",
        }
    }
}

impl fmt::Display for Cloud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Cloud {
    type Err = Error;

    /// A cloud by its name, in any case.
    fn from_str(name: &str) -> Result<Self, Error> {
        let wanted = name.trim();
        Cloud::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| {
                Error::Config(format!(
                    "unknown provider `{}`: use one of contabo, digitalocean, ionos",
                    name.escape_debug()
                ))
            })
    }
}

/// Where an image stands, the same words for every provider.
///
/// Contabo's `downloaded` and `available`, DigitalOcean's `available` and
/// IONOS's `AVAILABLE` are all [`Ready`](ImageStatus::Ready).
///
/// ```
/// use cloud_images::images::ImageStatus;
///
/// assert_eq!(ImageStatus::Ready.as_str(), "ready");
/// assert_eq!(ImageStatus::Other("retired".into()).to_string(), "retired");
/// assert!(ImageStatus::Failed { message: "HTTP 404 from the URL".into() }.is_failed());
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ImageStatus {
    /// On its way (importing, downloading); how far, where the provider
    /// reports it (Contabo: MB downloaded of the total).
    Pending(Progress),
    /// Usable.
    Ready,
    /// Will not become usable; the provider's message.
    Failed {
        /// The provider's message, as it sent it.
        message: String,
    },
    /// Being deleted.
    Deleting,
    /// A status with no neutral meaning, as the provider wrote it.
    Other(String),
    /// The provider sent no status.
    Unknown,
}

impl ImageStatus {
    /// `pending`, `ready`, `failed`, `deleting`, `unknown` (none sent), or
    /// the provider's own word.
    pub fn as_str(&self) -> &str {
        match self {
            ImageStatus::Pending(_) => "pending",
            ImageStatus::Ready => "ready",
            ImageStatus::Failed { .. } => "failed",
            ImageStatus::Deleting => "deleting",
            ImageStatus::Other(other) => other,
            ImageStatus::Unknown => "unknown",
        }
    }
    /// Whether the image is usable.
    pub fn is_ready(&self) -> bool {
        matches!(self, ImageStatus::Ready)
    }
    /// Whether the image is on its way.
    pub fn is_pending(&self) -> bool {
        matches!(self, ImageStatus::Pending(_))
    }
    /// Whether the image will not become usable.
    pub fn is_failed(&self) -> bool {
        matches!(self, ImageStatus::Failed { .. })
    }
}

impl fmt::Display for ImageStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The provider's own decoded image, for everything the neutral view leaves out.
///
/// ```no_run
/// # fn demo(image: &cloud_images::images::Image) {
/// use cloud_images::images::ProviderImage;
///
/// match &image.raw {
///     ProviderImage::Contabo(c) => println!("Contabo format {:?}", c.format),
///     ProviderImage::DigitalOcean(d) => println!("DigitalOcean type {:?}", d.type_),
///     ProviderImage::Ionos(i) => println!("IONOS href {:?}", i.href),
///     ProviderImage::Other(json) => println!("{json}"),
///     _ => {}
/// }
/// # }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ProviderImage {
    /// A Contabo image (from a list or a single retrieval; `tags` only come with lists).
    #[cfg(feature = "contabo")]
    Contabo(Box<crate::contabo::Image>),
    /// A DigitalOcean image.
    #[cfg(feature = "digitalocean")]
    DigitalOcean(Box<crate::digitalocean::Image>),
    /// An IONOS Cloud image (with its properties and metadata).
    #[cfg(feature = "ionos")]
    Ionos(Box<crate::ionos::Image>),
    /// An image from an [`Images`](super::Images) implementation outside
    /// this crate (a test double of your own), as JSON.
    Other(serde_json::Value),
}

/// An image on any provider: the neutral view, and the provider's own
/// object in [`raw`](Image::raw).
///
/// `Serialize` writes the neutral view as one JSON object: `provider`, `id`,
/// `name`, `description`, `status` (as [`ImageStatus::as_str`]), `message`
/// (when failed), `progress` (when pending and reported), `custom`, `os`,
/// `size_gb`, `created_at`, `regions`.
///
/// ```no_run
/// # async fn demo(images: &dyn cloud_images::images::Images) -> Result<(), cloud_images::Error> {
/// let image = images.get("d5a1c1f0-35b8-4f0e-8a3a-1f1bd2a1c6e4").await?;
/// println!("{} {} {} custom={}", image.provider, image.id, image.status, image.custom);
/// println!("{}", serde_json::to_string(&image).unwrap());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Image {
    /// The cloud it lives on.
    pub provider: Cloud,
    /// The provider's id, as text (DigitalOcean's numbers too).
    pub id: String,
    /// The name (empty when the provider sent none).
    pub name: String,
    /// The description, when there is one.
    pub description: Option<String>,
    /// Where it stands.
    pub status: ImageStatus,
    /// The account's own image (imported, or a snapshot), not one of the
    /// provider's public images.
    pub custom: bool,
    /// The operating system as the provider names it (Contabo's `osType`,
    /// DigitalOcean's `distribution`, IONOS's `licenceType`).
    pub os: Option<String>,
    /// The size in GB (Contabo's MB divided by 1024).
    pub size_gb: Option<f64>,
    /// When it was created.
    pub created_at: Option<DateTime<Utc>>,
    /// Where it can be used: DigitalOcean's regions, IONOS's location;
    /// empty where images are not regional (Contabo).
    pub regions: Vec<String>,
    /// The provider's own decoded object.
    pub raw: ProviderImage,
}

impl Image {
    /// An image with these essentials and nothing else known (no
    /// description, not custom, no OS, size, time or regions); set the other
    /// fields on the result. For [`Images`](super::Images) implementations
    /// outside this crate, such as test doubles.
    ///
    /// ```
    /// use cloud_images::images::{Cloud, Image, ImageStatus, ProviderImage};
    ///
    /// let mut image = Image::new(Cloud::Contabo, "1a2b", "debian-13", ImageStatus::Ready, ProviderImage::Other(serde_json::json!({})));
    /// image.custom = true;
    /// assert_eq!(serde_json::to_value(&image).unwrap()["status"], "ready");
    /// ```
    pub fn new(
        provider: Cloud,
        id: impl Into<String>,
        name: impl Into<String>,
        status: ImageStatus,
        raw: ProviderImage,
    ) -> Self {
        Self {
            provider,
            id: id.into(),
            name: name.into(),
            description: None,
            status,
            custom: false,
            os: None,
            size_gb: None,
            created_at: None,
            regions: Vec::new(),
            raw,
        }
    }
}

impl Serialize for Image {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("provider", self.provider.as_str())?;
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("name", &self.name)?;
        map.serialize_entry("description", &self.description)?;
        map.serialize_entry("status", self.status.as_str())?;
        match &self.status {
            ImageStatus::Failed { message } => map.serialize_entry("message", message)?,
            ImageStatus::Pending(progress) if progress.done.is_some() || progress.total.is_some() => {
                let mut shown = serde_json::Map::new();
                shown.insert("done".into(), progress.done.into());
                shown.insert("total".into(), progress.total.into());
                map.serialize_entry("progress", &shown)?;
            }
            _ => {}
        }
        map.serialize_entry("custom", &self.custom)?;
        map.serialize_entry("os", &self.os)?;
        map.serialize_entry("size_gb", &self.size_gb)?;
        map.serialize_entry("created_at", &self.created_at.map(|t| t.to_rfc3339()))?;
        map.serialize_entry("regions", &self.regions)?;
        map.end()
    }
}

/// What to list.
///
/// ```
/// use cloud_images::images::ListFilter;
///
/// let filter = ListFilter::default().custom(true).name("debian");
/// assert_eq!(filter.get_custom(), Some(true));
/// assert_eq!(filter.get_name(), Some("debian"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    custom: Option<bool>,
    name: Option<String>,
}

impl ListFilter {
    /// Only the account's own images (`true`) or only the provider's public
    /// ones (`false`); unset: both.
    pub fn custom(mut self, custom: bool) -> Self {
        self.custom = Some(custom);
        self
    }
    /// Only images whose name contains `text`, in any case.
    pub fn name(mut self, text: impl Into<String>) -> Self {
        self.name = Some(text.into());
        self
    }
    /// Own or public images only, when set.
    pub fn get_custom(&self) -> Option<bool> {
        self.custom
    }
    /// The text names must contain, when set.
    pub fn get_name(&self) -> Option<&str> {
        self.name.as_deref()
    }
    /// The filter without its own-or-public part (when the server applied it).
    pub(crate) fn without_custom(&self) -> ListFilter {
        ListFilter {
            custom: None,
            name: self.name.clone(),
        }
    }
    /// Whether every image passes.
    pub(crate) fn is_empty(&self) -> bool {
        self.custom.is_none() && self.name.is_none()
    }
    /// Whether `image` passes the filter.
    pub fn matches(&self, image: &Image) -> bool {
        self.custom.is_none_or(|custom| image.custom == custom)
            && self
                .name
                .as_deref()
                .is_none_or(|text| contains_ignore_case(&image.name, text))
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
///     .os("linux")
///     .version("13")
///     .region("fra1")
///     .description("golden image")
///     .tag("base");
/// assert_eq!(request.get_tags(), ["base"]);
/// assert_eq!(request.get_region(), Some("fra1"));
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
    let redacted = crate::endpoint::redact(url);
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
    pub fn os(mut self, os: impl Into<String>) -> Self {
        self.os = Some(os.into());
        self
    }
    /// Sets the OS version (Contabo).
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }
    /// Sets the region to import into (DigitalOcean).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }
    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }
    /// Adds a tag (DigitalOcean).
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }
    /// The name.
    pub fn get_name(&self) -> &str {
        &self.name
    }
    /// The URL.
    pub fn get_url(&self) -> &str {
        &self.url
    }
    /// The operating system, when set.
    pub fn get_os(&self) -> Option<&str> {
        self.os.as_deref()
    }
    /// The OS version, when set.
    pub fn get_version(&self) -> Option<&str> {
        self.version.as_deref()
    }
    /// The region, when set.
    pub fn get_region(&self) -> Option<&str> {
        self.region.as_deref()
    }
    /// The description, when set.
    pub fn get_description(&self) -> Option<&str> {
        self.description.as_deref()
    }
    /// The tags.
    pub fn get_tags(&self) -> &[String] {
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
/// let change = ImageUpdate::default().name("debian-13-golden");
/// assert_eq!(change.get_name(), Some("debian-13-golden"));
/// assert_eq!(change.get_description(), None);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageUpdate {
    name: Option<String>,
    description: Option<String>,
}

impl ImageUpdate {
    /// A new name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
    /// A new description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }
    /// The new name, when set.
    pub fn get_name(&self) -> Option<&str> {
        self.name.as_deref()
    }
    /// The new description, when set.
    pub fn get_description(&self) -> Option<&str> {
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

/// What a provider can do through [`Images`](super::Images).
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
}

impl Capabilities {
    /// What `cloud` can do.
    pub const fn of(cloud: Cloud) -> Self {
        match cloud {
            Cloud::Contabo => Capabilities {
                import_from_url: true,
                import_requires: &["os", "version"],
                import_uses: &["name", "url", "os", "version", "description"],
                import_tags: false,
                paged_list: true,
                progress: true,
                waits_for_changes: false,
            },
            Cloud::DigitalOcean => Capabilities {
                import_from_url: true,
                import_requires: &["region"],
                import_uses: &["name", "url", "os", "region", "description", "tags"],
                import_tags: true,
                paged_list: true,
                progress: false,
                waits_for_changes: false,
            },
            Cloud::Ionos => Capabilities {
                import_from_url: false,
                import_requires: &[],
                import_uses: &[],
                import_tags: false,
                paged_list: false,
                progress: false,
                waits_for_changes: true,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cloud_parses_in_any_case_and_an_unknown_one_is_named() {
        assert_eq!(" IONOS ".parse::<Cloud>().unwrap(), Cloud::Ionos);
        let err = "hetzner".parse::<Cloud>().unwrap_err().to_string();
        assert!(err.contains("unknown provider `hetzner`"), "{err}");
    }

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
        assert!(ImageUpdate::default().name("").check().is_err());
        assert!(ImageUpdate::default().description("").check().is_ok());
        assert!(ImageUpdate::default().name("x").check().is_ok());
    }
}
