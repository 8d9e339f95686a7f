//! Choosing the provider at run time, from its name and the environment.

use std::sync::Arc;

use super::{Cloud, Images};
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
