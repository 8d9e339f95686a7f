//! The local image file: what is read of it before anything is sent, the
//! checks against what a provider takes, and the object key it is staged
//! under.

use std::path::PathBuf;

use tokio::io::AsyncReadExt;

use crate::values::cloud::Cloud;
use crate::values::error::Error;
use crate::values::format::ImageFormat;

/// The local image file, as checked before anything is sent.
#[derive(Debug, Clone)]
pub(crate) struct LocalImage {
    pub path: PathBuf,
    /// The extension of the file's name, without the dot (empty when none).
    pub extension: String,
    pub size: u64,
    pub format: ImageFormat,
}

impl LocalImage {
    /// Opens `path`, reads its length and first bytes: a missing file, a
    /// folder or an empty file is [`Error::InvalidRequest`] naming it.
    pub(crate) async fn inspect(path: PathBuf) -> Result<Self, Error> {
        let shown = path.display().to_string();
        let cannot = |e: std::io::Error| Error::InvalidRequest(format!("upload: cannot read `{shown}`: {e}"));
        let mut file = tokio::fs::File::open(&path).await.map_err(cannot)?;
        let metadata = file.metadata().await.map_err(cannot)?;
        if !metadata.is_file() {
            return Err(Error::InvalidRequest(format!("upload: `{shown}` is not a file")));
        }
        if metadata.len() == 0 {
            return Err(Error::InvalidRequest(format!("upload: `{shown}` is empty")));
        }
        let mut head = Vec::with_capacity(ImageFormat::HEAD_LEN);
        (&mut file)
            .take(ImageFormat::HEAD_LEN as u64)
            .read_to_end(&mut head)
            .await
            .map_err(cannot)?;
        let extension = path
            .extension()
            .map(|e| e.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(Self {
            format: ImageFormat::detect(&head),
            size: metadata.len(),
            path,
            extension,
        })
    }
}

/// Whether `cloud` takes a file of `format` and `size` bytes: its format
/// among `formats` and at most `max_bytes`; otherwise
/// [`Error::InvalidRequest`] naming what is wrong.
pub(crate) fn check_file(
    cloud: Cloud,
    formats: &[ImageFormat],
    max_bytes: Option<u64>,
    file: &LocalImage,
) -> Result<(), Error> {
    let shown = file.path.display();
    if !formats.contains(&file.format) {
        let accepted: Vec<&str> = formats.iter().map(|f| f.as_str()).collect();
        return Err(Error::InvalidRequest(format!(
            "upload: `{shown}` is {}, which {cloud} does not import (it takes {})",
            file.format,
            accepted.join(", ")
        )));
    }
    if let Some(max) = max_bytes
        && file.size > max
    {
        return Err(Error::InvalidRequest(format!(
            "upload: `{shown}` has {} bytes, over {cloud}'s limit of {max}",
            file.size
        )));
    }
    Ok(())
}

/// The last part of an object key: the image's `name` (characters other
/// than letters, digits, `.`, `_` and `-` become `-`) with an extension
/// that tells `format` (providers tell the format from it): the file's own
/// `extension` when it fits the format, else the format's usual one.
pub(crate) fn object_name(name: &str, extension: &str, format: ImageFormat) -> String {
    let mut stem: String = name
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    if stem.trim_matches('.').is_empty() {
        stem = "image".to_owned();
    }
    let extension = if format.fits_extension(extension) {
        extension.to_ascii_lowercase()
    } else {
        format.extensions()[0].to_owned()
    };
    format!("{stem}.{extension}")
}

/// The object key: `prefix/folder/object_name` (an empty prefix: no
/// leading part).
pub(crate) fn object_key(prefix: &str, folder: &str, object_name: &str) -> String {
    prefix
        .split('/')
        .filter(|p| !p.is_empty())
        .chain([folder, object_name])
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, format: ImageFormat, size: u64) -> LocalImage {
        LocalImage {
            path: PathBuf::from(name),
            extension: name
                .rsplit_once('.')
                .map(|(_, e)| e.to_owned())
                .unwrap_or_default(),
            size,
            format,
        }
    }

    #[test]
    fn a_file_is_checked_for_format_and_size() {
        let formats = [ImageFormat::Qcow2, ImageFormat::Iso];
        let ok = file("debian.qcow2", ImageFormat::Qcow2, 10);
        assert!(check_file(Cloud::Contabo, &formats, Some(10), &ok).is_ok());
        let raw = check_file(
            Cloud::Contabo,
            &formats,
            None,
            &file("d.img", ImageFormat::Raw, 1),
        )
        .unwrap_err();
        assert!(raw.is_invalid_request());
        assert!(
            raw.to_string()
                .contains("`d.img` is raw, which contabo does not import (it takes qcow2, iso)"),
            "{raw}"
        );
        let big = check_file(Cloud::Contabo, &formats, Some(9), &ok).unwrap_err();
        assert!(
            big.to_string()
                .contains("has 10 bytes, over contabo's limit of 9"),
            "{big}"
        );
    }

    #[test]
    fn the_key_keeps_the_files_extension_when_it_tells_the_format() {
        assert_eq!(
            object_name("debian-13", "qcow2", ImageFormat::Qcow2),
            "debian-13.qcow2"
        );
        assert_eq!(
            object_name("debian-13", "QCOW2", ImageFormat::Qcow2),
            "debian-13.qcow2"
        );
        assert_eq!(object_name("debian-13", "img", ImageFormat::Raw), "debian-13.img");
        assert_eq!(object_name("debian-13", "gz", ImageFormat::Gzip), "debian-13.gz");
        // The name does not tell the format: the format's own extension.
        assert_eq!(
            object_name("debian-13", "bin", ImageFormat::Qcow2),
            "debian-13.qcow2"
        );
        assert_eq!(object_name("debian-13", "", ImageFormat::Iso), "debian-13.iso");
        assert_eq!(
            object_name("my image/13?", "vmdk", ImageFormat::Vmdk),
            "my-image-13-.vmdk"
        );
        assert_eq!(object_name("..", "iso", ImageFormat::Iso), "image.iso");
    }

    #[test]
    fn the_key_is_under_the_prefix_in_a_folder_of_its_own() {
        assert_eq!(object_key("", "f", "d.qcow2"), "f/d.qcow2");
        assert_eq!(object_key("a/b/", "f", "d.qcow2"), "a/b/f/d.qcow2");
        assert_eq!(object_key("/a//b", "f", "d.qcow2"), "a/b/f/d.qcow2");
    }
}
