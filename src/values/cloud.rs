//! The provider id: which cloud.

use std::fmt;
use std::str::FromStr;

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
    type Err = UnknownCloud;

    /// A cloud by its name, in any case.
    fn from_str(name: &str) -> Result<Self, UnknownCloud> {
        let wanted = name.trim();
        Cloud::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| UnknownCloud(name.to_owned()))
    }
}

/// A name that is no [`Cloud`]'s; it becomes an
/// [`Error::Config`](crate::Error::Config) with `?`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown provider `{}`: use one of contabo, digitalocean, ionos", .0.escape_debug())]
pub struct UnknownCloud(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cloud_parses_in_any_case_and_an_unknown_one_is_named() {
        assert_eq!(" IONOS ".parse::<Cloud>().unwrap(), Cloud::Ionos);
        let err = "hetzner".parse::<Cloud>().unwrap_err().to_string();
        assert!(err.contains("unknown provider `hetzner`"), "{err}");
    }
}
