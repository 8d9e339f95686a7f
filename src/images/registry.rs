//! Every per-provider arm of the neutral layer, in one place: the provider's
//! own image in [`ProviderImage`], what it can do ([`Capabilities::of`]), and
//! its client from the environment ([`from_env`]). A new provider adds its
//! arm to each.

use std::sync::Arc;

use super::{Capabilities, Cloud, Images, UploadRoute};
use crate::Error;

/// The variable that names the provider when the caller gives none.
pub const PROVIDER_VARIABLE: &str = "CLOUD_IMAGES_PROVIDER";

/// The images of the provider named `provider` (or by `CLOUD_IMAGES_PROVIDER`
/// when `None`), configured from that provider's own environment variables:
///
/// | provider | variables |
/// |---|---|
/// | `contabo` | `CNTB_API`, `CNTB_ACCESS_TOKEN` or `CNTB_OAUTH2_*` |
/// | `digitalocean` | `DIGITALOCEAN_TOKEN` or `DIGITALOCEAN_ACCESS_TOKEN`, `DIGITALOCEAN_API_URL` |
/// | `ionos` | `IONOS_TOKEN` or `IONOS_USERNAME` and `IONOS_PASSWORD`, `IONOS_API_URL` |
///
/// An unknown name, a provider this build leaves out (its cargo feature is
/// off) or a missing variable is an [`Error::Config`] naming it.
///
/// ```no_run
/// let images = cloud_images::images::from_env(Some("digitalocean"))?;
/// assert_eq!(images.cloud(), cloud_images::images::Cloud::DigitalOcean);
/// # Ok::<(), cloud_images::Error>(())
/// ```
pub fn from_env(provider: Option<&str>) -> Result<Arc<dyn Images>, Error> {
    from_lookup(provider, |name| std::env::var(name).ok())
}

/// [`from_env`] with another source of variables.
///
/// ```
/// use cloud_images::images::{Cloud, from_lookup};
///
/// let vars = |name: &str| match name {
///     "CLOUD_IMAGES_PROVIDER" => Some("ionos".to_owned()),
///     "IONOS_TOKEN" => Some("t0ken".to_owned()),
///     _ => None,
/// };
/// assert_eq!(from_lookup(None, vars).unwrap().cloud(), Cloud::Ionos);
/// let err = from_lookup(None, |_| None).unwrap_err();
/// assert!(err.to_string().contains("CLOUD_IMAGES_PROVIDER is not set"), "{err}");
/// ```
pub fn from_lookup(
    provider: Option<&str>,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Arc<dyn Images>, Error> {
    let name = match provider {
        Some(name) => name.to_owned(),
        None => lookup(PROVIDER_VARIABLE)
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| {
                Error::Config(format!(
                    "no provider given and {PROVIDER_VARIABLE} is not set (contabo, digitalocean or ionos)"
                ))
            })?,
    };
    connect(name.parse()?, lookup)
}

fn connect(cloud: Cloud, lookup: impl Fn(&str) -> Option<String>) -> Result<Arc<dyn Images>, Error> {
    match cloud {
        #[cfg(feature = "contabo")]
        Cloud::Contabo => {
            let builder = crate::ClientBuilder::<crate::contabo::Contabo>::from_lookup(lookup)?;
            Ok(Arc::new(builder.build()?))
        }
        #[cfg(feature = "digitalocean")]
        Cloud::DigitalOcean => {
            let builder = crate::ClientBuilder::<crate::digitalocean::DigitalOcean>::from_lookup(lookup)?;
            Ok(Arc::new(builder.build()?))
        }
        #[cfg(feature = "ionos")]
        Cloud::Ionos => {
            let builder = crate::ClientBuilder::<crate::ionos::Ionos>::from_lookup(lookup)?;
            Ok(Arc::new(builder.build()?))
        }
        #[allow(unreachable_patterns)]
        other => {
            let _ = lookup;
            Err(Error::Config(format!(
                "this build of cloud-images leaves out {other}: enable its cargo feature `{other}`"
            )))
        }
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

#[cfg(feature = "contabo")]
impl From<crate::contabo::Image> for ProviderImage {
    fn from(image: crate::contabo::Image) -> Self {
        ProviderImage::Contabo(Box::new(image))
    }
}

#[cfg(feature = "digitalocean")]
impl From<crate::digitalocean::Image> for ProviderImage {
    fn from(image: crate::digitalocean::Image) -> Self {
        ProviderImage::DigitalOcean(Box::new(image))
    }
}

#[cfg(feature = "ionos")]
impl From<crate::ionos::Image> for ProviderImage {
    fn from(image: crate::ionos::Image) -> Self {
        ProviderImage::Ionos(Box::new(image))
    }
}

/// Why a provider that uploads does not, in a build without the `upload` feature.
const WITHOUT_UPLOAD_FEATURE: Option<&str> = if cfg!(feature = "upload") {
    None
} else {
    Some("this build of cloud-images has no `upload` feature; turn it on")
};

impl Capabilities {
    /// What `cloud` can do.
    pub const fn of(cloud: Cloud) -> Self {
        use crate::values::format::ImageFormat::*;
        match cloud {
            Cloud::Contabo => Capabilities {
                import_from_url: true,
                import_requires: &["os", "version"],
                import_uses: &["name", "url", "os", "version", "description"],
                import_tags: false,
                paged_list: true,
                progress: true,
                waits_for_changes: false,
                upload: cfg!(feature = "upload"),
                upload_formats: &[Qcow2, Iso],
                upload_max_bytes: None,
                upload_route: UploadRoute::StagingBucket,
                upload_unsupported: WITHOUT_UPLOAD_FEATURE,
            },
            Cloud::DigitalOcean => Capabilities {
                import_from_url: true,
                import_requires: &["region"],
                import_uses: &["name", "url", "os", "region", "description", "tags"],
                import_tags: true,
                paged_list: true,
                progress: false,
                waits_for_changes: false,
                upload: cfg!(feature = "upload"),
                upload_formats: &[Raw, Qcow2, Vhdx, Vdi, Vmdk, Gzip, Bzip2],
                upload_max_bytes: Some(100_000_000_000),
                upload_route: UploadRoute::StagingBucket,
                upload_unsupported: WITHOUT_UPLOAD_FEATURE,
            },
            Cloud::Ionos => Capabilities {
                import_from_url: false,
                import_requires: &[],
                import_uses: &[],
                import_tags: false,
                paged_list: false,
                progress: false,
                waits_for_changes: true,
                upload: cfg!(feature = "upload"),
                upload_formats: &[Qcow2, Raw, Vmdk, Vhdx, Vdi, Iso],
                upload_max_bytes: None,
                upload_route: UploadRoute::ProviderServer,
                upload_unsupported: WITHOUT_UPLOAD_FEATURE,
            },
        }
    }
}
