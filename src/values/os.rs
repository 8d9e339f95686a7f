//! The operating system family of an image, from each provider's own word.

use std::fmt;

/// The family of an image's operating system, the same on every provider;
/// [`Image::os`](crate::images::Image::os) keeps the provider's own word
/// (Contabo's `Linux`, DigitalOcean's `Ubuntu`, IONOS's `LINUX` or
/// `WINDOWS2022`).
///
/// ```
/// use cloud_images::images::OsFamily;
///
/// assert_eq!(OsFamily::from_word("Rocky Linux"), OsFamily::Linux);
/// assert_eq!(OsFamily::from_word("WINDOWS2022"), OsFamily::Windows);
/// assert_eq!(OsFamily::from_word("FreeBSD"), OsFamily::Bsd);
/// assert_eq!(OsFamily::from_word("Unknown OS"), OsFamily::Unknown);
/// assert_eq!(OsFamily::Linux.to_string(), "linux");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum OsFamily {
    /// A Linux distribution (IONOS's `RHEL` too).
    Linux,
    /// Windows, any version.
    Windows,
    /// FreeBSD, OpenBSD, NetBSD.
    Bsd,
    /// Not said, or a word this crate does not know (IONOS's `OTHER`,
    /// DigitalOcean's `Unknown`).
    #[default]
    Unknown,
}

/// Words that name a Linux distribution (lowercase), as DigitalOcean's
/// `distribution` and the usual image names spell them.
const LINUX_WORDS: &[&str] = &[
    "linux",
    "ubuntu",
    "debian",
    "centos",
    "fedora",
    "rocky",
    "alma",
    "arch",
    "gentoo",
    "suse",
    "coreos",
    "rancheros",
    "rhel",
    "red hat",
    "redhat",
    "alpine",
    "flatcar",
    "oracle",
    "amazon",
    "kali",
    "mint",
    "nixos",
    "talos",
    "clear",
];

impl OsFamily {
    /// The family a provider's word for an operating system names
    /// (case-insensitive; a word containing a family's name counts).
    pub fn from_word(word: &str) -> Self {
        let word = word.to_lowercase();
        if word.contains("windows") {
            OsFamily::Windows
        } else if word.contains("bsd") {
            OsFamily::Bsd
        } else if LINUX_WORDS.iter().any(|linux| word.contains(linux)) {
            OsFamily::Linux
        } else {
            OsFamily::Unknown
        }
    }

    /// The family of an optional word: [`Unknown`](OsFamily::Unknown) when none.
    pub(crate) fn of(word: Option<&str>) -> Self {
        word.map_or(OsFamily::Unknown, Self::from_word)
    }

    /// The family in lowercase: `linux`, `windows`, `bsd`, `unknown`.
    pub const fn as_str(self) -> &'static str {
        match self {
            OsFamily::Linux => "linux",
            OsFamily::Windows => "windows",
            OsFamily::Bsd => "bsd",
            OsFamily::Unknown => "unknown",
        }
    }
}

impl fmt::Display for OsFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every word the three providers use today, to its family.
    #[test]
    fn each_providers_words_map_to_a_family() {
        let cases = [
            // Contabo's osType
            ("Linux", OsFamily::Linux),
            ("Windows", OsFamily::Windows),
            // DigitalOcean's distribution
            ("Arch Linux", OsFamily::Linux),
            ("CentOS", OsFamily::Linux),
            ("CoreOS", OsFamily::Linux),
            ("Debian", OsFamily::Linux),
            ("Fedora Atomic", OsFamily::Linux),
            ("FreeBSD", OsFamily::Bsd),
            ("Gentoo", OsFamily::Linux),
            ("openSUSE", OsFamily::Linux),
            ("RancherOS", OsFamily::Linux),
            ("Rocky Linux", OsFamily::Linux),
            ("AlmaLinux", OsFamily::Linux),
            ("Ubuntu", OsFamily::Linux),
            ("Unknown", OsFamily::Unknown),
            ("Unknown OS", OsFamily::Unknown),
            // IONOS's licenceType
            ("LINUX", OsFamily::Linux),
            ("RHEL", OsFamily::Linux),
            ("WINDOWS", OsFamily::Windows),
            ("WINDOWS2016", OsFamily::Windows),
            ("WINDOWS2022", OsFamily::Windows),
            ("OTHER", OsFamily::Unknown),
            ("UNKNOWN", OsFamily::Unknown),
            ("", OsFamily::Unknown),
        ];
        for (word, family) in cases {
            assert_eq!(OsFamily::from_word(word), family, "{word:?}");
        }
        assert_eq!(OsFamily::of(None), OsFamily::Unknown);
        assert_eq!(OsFamily::of(Some("Debian")), OsFamily::Linux);
    }
}
