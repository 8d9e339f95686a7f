//! An image on any provider: the neutral view, and the provider's own object.

use chrono::{DateTime, Utc};
use serde::ser::{Serialize, SerializeMap, Serializer};

use super::registry::ProviderImage;
use crate::ops::images::{ImageBackend, ImageView, ListFilter};
use crate::ops::status::ImageStatus;
use crate::values::cloud::Cloud;
use crate::values::os::OsFamily;

/// An image on any provider: the neutral view, and the provider's own
/// object in [`raw`](Image::raw).
///
/// `Serialize` writes the neutral view as one JSON object: `provider`, `id`,
/// `name`, `description`, `status` (as [`ImageStatus::as_str`]), `message`
/// (when failed), `progress` (when pending and reported), `custom`, `os`, `os_family`,
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
    /// The operating system's family, the same words on every provider.
    pub os_family: OsFamily,
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
            os_family: OsFamily::Unknown,
            size_gb: None,
            created_at: None,
            regions: Vec::new(),
            raw,
        }
    }
}

impl Image {
    /// A backend's item in the neutral view, the item kept as the raw object.
    pub(crate) fn of<B: ImageBackend>(item: B::Item) -> Self
    where
        ProviderImage: From<B::Item>,
    {
        let ImageView {
            id,
            name,
            description,
            status,
            custom,
            os,
            size_gb,
            created_at,
            regions,
        } = B::view(&item);
        Self {
            provider: B::CLOUD,
            id,
            name,
            description,
            status,
            custom,
            os_family: OsFamily::of(os.as_deref()),
            os,
            size_gb,
            created_at,
            regions,
            raw: ProviderImage::from(item),
        }
    }
}

impl ListFilter {
    /// Whether `image` passes the filter.
    pub fn matches(&self, image: &Image) -> bool {
        self.passes(image.custom, &image.name, image.created_at)
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
        map.serialize_entry("os_family", self.os_family.as_str())?;
        map.serialize_entry("size_gb", &self.size_gb)?;
        map.serialize_entry("created_at", &self.created_at.map(|t| t.to_rfc3339()))?;
        map.serialize_entry("regions", &self.regions)?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The neutral view of each provider's item keeps the item itself as
    /// its own `ProviderImage` variant.
    #[test]
    fn an_image_keeps_the_providers_own_object() {
        #[cfg(feature = "contabo")]
        {
            let item: crate::contabo::Image = serde_json::from_value(
                serde_json::json!({"imageId": "9f3c", "name": "debian", "standardImage": false}),
            )
            .unwrap();
            let image = Image::of::<crate::contabo::Client>(item);
            assert_eq!((image.provider, image.id.as_str()), (Cloud::Contabo, "9f3c"));
            assert!(matches!(&image.raw, ProviderImage::Contabo(c) if c.image_id == "9f3c"));
        }
        #[cfg(feature = "digitalocean")]
        {
            let item: crate::digitalocean::Image =
                serde_json::from_value(serde_json::json!({"id": 7, "public": false})).unwrap();
            let image = Image::of::<crate::digitalocean::Client>(item);
            assert_eq!((image.provider, image.id.as_str()), (Cloud::DigitalOcean, "7"));
            assert!(matches!(&image.raw, ProviderImage::DigitalOcean(d) if d.id == 7));
        }
        #[cfg(feature = "ionos")]
        {
            let item: crate::ionos::Image =
                serde_json::from_value(serde_json::json!({"id": "7df81087"})).unwrap();
            let image = Image::of::<crate::ionos::Client>(item);
            assert_eq!((image.provider, image.id.as_str()), (Cloud::Ionos, "7df81087"));
            assert!(matches!(&image.raw, ProviderImage::Ionos(i) if i.id == "7df81087"));
        }
    }
}
