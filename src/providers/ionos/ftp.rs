//! Where and under which name an image file goes on IONOS Cloud's FTP
//! servers: the server of a location, the folder of an image type, the
//! remote name IONOS tells the type from. Pure decisions; the transfer is
//! [`crate::ops::ftps`]'s.

use crate::values::error::Error;
use crate::values::format::ImageFormat;

/// `ftps://host[:port]` (or `ftp://` to a loopback address) in place of the
/// location's server.
pub const ENV_FTP_URL: &str = "IONOS_FTP_URL";
/// A PEM file of extra trusted root certificates for the FTP server.
pub const ENV_FTP_CA_FILE: &str = "IONOS_FTP_CA_FILE";

/// The locations with an FTP server that ionosctl knows: each one's short
/// name (`ftp-<short>.ionos.com`) and its location in the API's words.
pub const FTP_LOCATIONS: &[(&str, &str)] = &[
    ("fra", "de/fra"),
    ("fra-2", "de/fra/2"),
    ("fkb", "de/fkb"),
    ("txl", "de/txl"),
    ("lhr", "gb/lhr"),
    ("bhx", "gb/bhx"),
    ("las", "us/las"),
    ("ewr", "us/ewr"),
    ("mci", "us/mci"),
    ("vit", "es/vit"),
    ("par", "fr/par"),
];

/// The short names of [`FTP_LOCATIONS`], for a message.
fn short_names() -> String {
    FTP_LOCATIONS
        .iter()
        .map(|(short, _)| *short)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `location` as the API writes it, which the registered image will carry:
/// a known location in the API's words or by its short name (`fra` →
/// `de/fra`, any case); another of the API's shape (`cc/name` or
/// `cc/name/n`) as it is, for a server named by [`ENV_FTP_URL`]. Anything
/// else, or a known short name under another country or spelling
/// (`de/fra-2` for `de/fra/2`), is [`Error::InvalidRequest`] before
/// anything is sent.
pub(crate) fn api_location(location: &str) -> Result<String, Error> {
    let given = location.trim().trim_end_matches('/').to_ascii_lowercase();
    let invalid = |hint: String| {
        Error::InvalidRequest(format!(
            "IONOS location `{}` {hint}",
            crate::values::text::for_display(location)
        ))
    };
    if let Some((_, api)) = FTP_LOCATIONS.iter().find(|(_, api)| *api == given) {
        return Ok((*api).to_owned());
    }
    let short = short_location(&given);
    if let Some((_, api)) = FTP_LOCATIONS.iter().find(|(s, _)| *s == short) {
        return if given.contains('/') {
            Err(invalid(format!("is not how the API writes it: `{api}`")))
        } else {
            Ok((*api).to_owned())
        };
    }
    let parts: Vec<&str> = given.split('/').collect();
    let shaped = matches!(parts.len(), 2 | 3)
        && parts[0].len() == 2
        && parts[0].bytes().all(|b| b.is_ascii_lowercase())
        && !parts[1].is_empty()
        && parts[1].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && parts
            .get(2)
            .is_none_or(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    if shaped {
        Ok(given)
    } else {
        Err(invalid(format!(
            "is not a location: write it as the API does (`de/fra`) or by its FTP short name ({})",
            short_names()
        )))
    }
}

/// The folder of disk images.
pub const HDD_FOLDER: &str = "hdd-images";
/// The folder of CD-ROM images.
pub const ISO_FOLDER: &str = "iso-images";

/// The FTP server of `location` (`de/fra` → `ftp-fra.ionos.com`,
/// `de/fra/2` → `ftp-fra-2.ionos.com`); a location without a known server
/// is [`Error::InvalidRequest`] naming the known ones and [`ENV_FTP_URL`].
pub(crate) fn location_host(location: &str) -> Result<String, Error> {
    let short = short_location(location);
    if FTP_LOCATIONS.iter().any(|(known, _)| *known == short) {
        Ok(format!("ftp-{short}.ionos.com"))
    } else {
        Err(Error::InvalidRequest(format!(
            "IONOS location `{}` has no known FTP server (known: {}); set {ENV_FTP_URL} to name one",
            location.escape_debug(),
            short_names()
        )))
    }
}

/// A location's short name: what follows the country, its parts joined
/// with `-` (`de/fra/2` → `fra-2`), lowercase.
fn short_location(location: &str) -> String {
    let location = location.trim().to_ascii_lowercase();
    let mut parts = location.split('/').filter(|p| !p.is_empty());
    let first = parts.next().unwrap_or_default();
    let rest: Vec<&str> = parts.collect();
    if rest.is_empty() {
        first.to_owned()
    } else {
        rest.join("-")
    }
}

/// The image type IONOS gives a file, by the folder it is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ImageKind {
    /// `HDD`, from `hdd-images/`.
    Hdd,
    /// `CDROM`, from `iso-images/`.
    Cdrom,
}

impl ImageKind {
    pub(crate) fn folder(self) -> &'static str {
        match self {
            ImageKind::Hdd => HDD_FOLDER,
            ImageKind::Cdrom => ISO_FOLDER,
        }
    }
}

/// The image type a file of `format` is, with the extension IONOS tells it
/// from: the folder follows the content, never the local file's name (a raw
/// disk called `*.img` is a disk, in `hdd-images/` as `*.raw`, not a CD-ROM
/// image). Compressed files are refused: IONOS imports them as they are.
pub(crate) fn kind_of(format: ImageFormat) -> Result<(ImageKind, &'static str), Error> {
    Ok(match format {
        ImageFormat::Iso => (ImageKind::Cdrom, "iso"),
        ImageFormat::Qcow2 => (ImageKind::Hdd, "qcow2"),
        ImageFormat::Raw => (ImageKind::Hdd, "raw"),
        ImageFormat::Vmdk => (ImageKind::Hdd, "vmdk"),
        ImageFormat::Vhdx => (ImageKind::Hdd, "vhdx"),
        ImageFormat::Vdi => (ImageKind::Hdd, "vdi"),
        other => {
            return Err(Error::InvalidRequest(format!(
                "upload: the file is {other}, which IONOS Cloud does not import (unpack it first); IONOS takes qcow2, raw, vmdk, vhdx, vdi and iso"
            )));
        }
    })
}

/// The remote file name (which becomes the image's name): `name` with the
/// extension of its type added unless it already ends with it.
pub(crate) fn remote_name(name: &str, extension: &str) -> String {
    let name = name.trim();
    let has = name
        .rsplit_once('.')
        .is_some_and(|(stem, ext)| !stem.is_empty() && ext.eq_ignore_ascii_case(extension));
    if has {
        name.to_owned()
    } else {
        format!("{name}.{extension}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_location_names_its_ftp_server() {
        assert_eq!(location_host("de/fra").unwrap(), "ftp-fra.ionos.com");
        assert_eq!(location_host("de/fra-2").unwrap(), "ftp-fra-2.ionos.com");
        assert_eq!(location_host("de/fra/2").unwrap(), "ftp-fra-2.ionos.com");
        assert_eq!(location_host("fra").unwrap(), "ftp-fra.ionos.com");
        assert_eq!(location_host("us/las").unwrap(), "ftp-las.ionos.com");
        assert_eq!(location_host("fr/par").unwrap(), "ftp-par.ionos.com");
        assert_eq!(location_host("GB/LHR").unwrap(), "ftp-lhr.ionos.com");
        let e = location_host("xx/nowhere").unwrap_err();
        assert!(
            e.is_invalid_request() && e.to_string().contains(ENV_FTP_URL),
            "{e}"
        );
        assert!(location_host("").is_err());
    }

    #[test]
    fn a_location_is_written_as_the_api_does() {
        assert_eq!(api_location("de/fra").unwrap(), "de/fra");
        assert_eq!(api_location(" DE/FRA/ ").unwrap(), "de/fra");
        assert_eq!(api_location("fra").unwrap(), "de/fra");
        assert_eq!(api_location("fra-2").unwrap(), "de/fra/2");
        assert_eq!(api_location("de/fra/2").unwrap(), "de/fra/2");
        assert_eq!(api_location("LHR").unwrap(), "gb/lhr");
        for wrong in ["de/fra-2", "xx/fra", "us/fra"] {
            let e = api_location(wrong).unwrap_err();
            assert!(
                e.is_invalid_request() && e.to_string().contains("is not how the API writes it"),
                "{e}"
            );
        }
        // Unknown but of the API's shape: for a server named by IONOS_FTP_URL.
        assert_eq!(api_location("de/xyz").unwrap(), "de/xyz");
        assert_eq!(api_location("us/abc/3").unwrap(), "us/abc/3");
        for wrong in [
            "", "/", "nowhere", "d/fra", "de/", "de/fra/x", "de/f r a", "a/b/c/d",
        ] {
            assert!(api_location(wrong).unwrap_err().is_invalid_request(), "{wrong}");
        }
        // Every known location's server follows from its API form.
        for (short, api) in FTP_LOCATIONS {
            assert_eq!(location_host(api).unwrap(), format!("ftp-{short}.ionos.com"));
        }
    }

    #[test]
    fn the_folder_follows_the_content_not_the_name() {
        assert_eq!(kind_of(ImageFormat::Raw).unwrap(), (ImageKind::Hdd, "raw"));
        assert_eq!(kind_of(ImageFormat::Raw).unwrap().0.folder(), "hdd-images");
        assert_eq!(kind_of(ImageFormat::Iso).unwrap().0.folder(), "iso-images");
        assert_eq!(kind_of(ImageFormat::Qcow2).unwrap().0.folder(), "hdd-images");
        for packed in [
            ImageFormat::Gzip,
            ImageFormat::Bzip2,
            ImageFormat::Xz,
            ImageFormat::Zstd,
            ImageFormat::Zip,
        ] {
            assert!(kind_of(packed).unwrap_err().is_invalid_request());
        }
    }

    #[test]
    fn the_remote_name_ends_with_its_types_extension() {
        assert_eq!(remote_name("debian-13", "qcow2"), "debian-13.qcow2");
        assert_eq!(remote_name("debian-13.QCOW2", "qcow2"), "debian-13.QCOW2");
        assert_eq!(
            remote_name("disk.img", "raw"),
            "disk.img.raw",
            "a raw disk is not an .img CD-ROM image"
        );
        assert_eq!(remote_name(".raw", "raw"), ".raw.raw");
    }
}
