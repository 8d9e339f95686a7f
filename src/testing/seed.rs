//! [`SeedImage`]: one image to add to any fake, in neutral terms.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// An image to add to a fake (`insert_image` on every fake), described
/// once for every provider: each fake turns it into what its API sends.
///
/// By default a custom, ready image of 2 GB, created now, running
/// `Ubuntu` `24.04`, without a description.
///
/// ```
/// # #[cfg(all(feature = "contabo", feature = "digitalocean", feature = "ionos"))]
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use std::time::Duration;
/// use cloud_images::testing::{FakeContabo, FakeDigitalOcean, FakeIonos, SeedImage, SeedStatus};
///
/// // "a custom image created 40 days ago", on each provider
/// let old = SeedImage::new("golden-2025").with_age(Duration::from_secs(40 * 86_400));
/// let contabo = FakeContabo::start().await;
/// let id = contabo.insert_image(old.clone());
/// assert_eq!(contabo.image(&id).unwrap()["name"], "golden-2025");
/// let digitalocean = FakeDigitalOcean::start().await;
/// let id = digitalocean.insert_image(old.clone());
/// assert_eq!(digitalocean.image(id).unwrap()["type"], "custom");
/// let ionos = FakeIonos::start().await;
/// let id = ionos.insert_image(old.with_status(SeedStatus::Failed("disk full".into())));
/// assert_eq!(ionos.image(&id).unwrap()["metadata"]["state"], "FAILED");
/// # }
/// # #[cfg(not(all(feature = "contabo", feature = "digitalocean", feature = "ionos")))]
/// # fn main() {}
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct SeedImage {
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) custom: bool,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) size_gb: f64,
    pub(crate) os: String,
    pub(crate) version: String,
    pub(crate) status: SeedStatus,
}

/// Where a [`SeedImage`] stands, in neutral terms; each fake uses its own
/// API's word (Contabo's `downloaded`, `downloading`, `error`;
/// DigitalOcean's `available`, `pending`, `deleted` with `error_message`;
/// IONOS's `AVAILABLE`, `BUSY`, `FAILED`).
///
/// ```
/// use cloud_images::testing::{SeedImage, SeedStatus};
///
/// let broken = SeedImage::new("x").with_status(SeedStatus::Failed("404 Not Found".into()));
/// assert_eq!(broken.status(), &SeedStatus::Failed("404 Not Found".into()));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SeedStatus {
    /// Ready to use.
    Ready,
    /// Still being imported.
    Pending,
    /// The import failed with this message.
    Failed(String),
}

impl SeedImage {
    /// A custom, ready image with this name (see the type's defaults).
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            description: None,
            custom: true,
            created_at: Utc::now(),
            size_gb: 2.0,
            os: "Ubuntu".into(),
            version: "24.04".into(),
            status: SeedStatus::Ready,
        }
    }

    /// The account's own (`true`, the default) or the provider's (`false`).
    pub fn with_custom(mut self, custom: bool) -> Self {
        self.custom = custom;
        self
    }

    /// Created at this time.
    pub fn with_created_at(mut self, at: DateTime<Utc>) -> Self {
        self.created_at = at;
        self
    }

    /// Created this long ago (a duration past what the clock holds: the
    /// earliest time it holds).
    pub fn with_age(self, age: Duration) -> Self {
        let at = chrono::Duration::from_std(age)
            .ok()
            .and_then(|age| Utc::now().checked_sub_signed(age))
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        self.with_created_at(at)
    }

    /// Its size in GB.
    pub fn with_size_gb(mut self, size: f64) -> Self {
        self.size_gb = size;
        self
    }

    /// Its operating system or distribution (`Ubuntu`, `Debian`,
    /// `Windows`); Contabo's `osType` and IONOS's `licenceType` are
    /// `Windows`/`WINDOWS` when it names Windows, else Linux.
    pub fn with_os(mut self, os: impl Into<String>) -> Self {
        self.os = os.into();
        self
    }

    /// Its version (`24.04`), where the provider has one (Contabo).
    pub fn with_version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// Its description.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Where it stands (default [`SeedStatus::Ready`]).
    pub fn with_status(mut self, status: SeedStatus) -> Self {
        self.status = status;
        self
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether it is the account's own.
    pub fn custom(&self) -> bool {
        self.custom
    }

    /// When it was created.
    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }

    /// Where it stands.
    pub fn status(&self) -> &SeedStatus {
        &self.status
    }

    /// Whether its OS is Windows.
    pub(crate) fn is_windows(&self) -> bool {
        self.os.to_ascii_lowercase().contains("windows")
    }

    /// Its creation time as the APIs write it (`2026-10-01T08:30:00Z`).
    pub(crate) fn created_text(&self) -> String {
        self.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }
}
