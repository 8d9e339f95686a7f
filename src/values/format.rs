//! An image file's format, told from its first bytes.

use std::fmt;

/// The format of a disk image file, as its first bytes tell it.
///
/// ```
/// use cloud_images::images::ImageFormat;
///
/// assert_eq!(ImageFormat::detect(b"QFI\xfb\x00\x00\x00\x03"), ImageFormat::Qcow2);
/// assert_eq!(ImageFormat::detect(&[0x1f, 0x8b, 8, 0]), ImageFormat::Gzip);
/// assert_eq!(ImageFormat::detect(&[0u8; 512]), ImageFormat::Raw);
/// assert_eq!(ImageFormat::Qcow2.to_string(), "qcow2");
/// assert!(ImageFormat::Raw.fits_extension("img"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ImageFormat {
    /// QEMU copy-on-write v2/v3 (`QFI\xfb`).
    Qcow2,
    /// A raw disk: no header any other format has.
    Raw,
    /// A gzip-compressed image.
    Gzip,
    /// A bzip2-compressed image.
    Bzip2,
    /// An ISO 9660 CD/DVD image (`CD001` at 32 KiB).
    Iso,
    /// VMware's disk (a sparse extent `KDMV`, or a text descriptor).
    Vmdk,
    /// Hyper-V's disk (`vhdxfile`).
    Vhdx,
    /// VirtualBox's disk.
    Vdi,
    /// An xz-compressed file (no provider here imports one).
    Xz,
    /// A zstd-compressed file (no provider here imports one).
    Zstd,
    /// A zip archive (no provider here imports one).
    Zip,
}

impl ImageFormat {
    /// How many bytes from the start of a file [`detect`](Self::detect) needs
    /// to tell every format (the ISO 9660 volume descriptor is at 32 KiB).
    pub const HEAD_LEN: usize = 0x8000 + 6;

    /// The format of a file that starts with `head` (pass at least
    /// [`HEAD_LEN`](Self::HEAD_LEN) bytes, or the whole file when it is shorter); a file
    /// without any known header is [`Raw`](ImageFormat::Raw).
    pub fn detect(head: &[u8]) -> Self {
        let starts = |magic: &[u8]| head.starts_with(magic);
        let at = |offset: usize, magic: &[u8]| head.get(offset..).is_some_and(|rest| rest.starts_with(magic));
        if starts(b"QFI\xfb") {
            ImageFormat::Qcow2
        } else if starts(&[0x1f, 0x8b]) {
            ImageFormat::Gzip
        } else if starts(b"BZh") && head.get(3).is_some_and(|level| (b'1'..=b'9').contains(level)) {
            ImageFormat::Bzip2
        } else if starts(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
            ImageFormat::Xz
        } else if starts(&[0x28, 0xb5, 0x2f, 0xfd]) {
            ImageFormat::Zstd
        } else if starts(b"PK\x03\x04") {
            ImageFormat::Zip
        } else if starts(b"vhdxfile") {
            ImageFormat::Vhdx
        } else if starts(b"KDMV") || starts(b"# Disk DescriptorFile") {
            ImageFormat::Vmdk
        } else if at(0x40, &[0x7f, 0x10, 0xda, 0xbe]) {
            ImageFormat::Vdi
        } else if at(0x8001, b"CD001") {
            ImageFormat::Iso
        } else {
            ImageFormat::Raw
        }
    }

    /// The format's name, as providers write it.
    pub fn as_str(self) -> &'static str {
        match self {
            ImageFormat::Qcow2 => "qcow2",
            ImageFormat::Raw => "raw",
            ImageFormat::Gzip => "gzip",
            ImageFormat::Bzip2 => "bzip2",
            ImageFormat::Iso => "iso",
            ImageFormat::Vmdk => "vmdk",
            ImageFormat::Vhdx => "vhdx",
            ImageFormat::Vdi => "vdi",
            ImageFormat::Xz => "xz",
            ImageFormat::Zstd => "zstd",
            ImageFormat::Zip => "zip",
        }
    }

    /// The file extensions (without the dot, lower case) a file of this
    /// format may have; providers tell the format from the extension.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            ImageFormat::Qcow2 => &["qcow2", "qcow", "img"],
            ImageFormat::Raw => &["img", "raw"],
            ImageFormat::Gzip => &["gz", "tgz"],
            ImageFormat::Bzip2 => &["bz2", "tbz2"],
            ImageFormat::Iso => &["iso"],
            ImageFormat::Vmdk => &["vmdk"],
            ImageFormat::Vhdx => &["vhdx"],
            ImageFormat::Vdi => &["vdi"],
            ImageFormat::Xz => &["xz", "txz"],
            ImageFormat::Zstd => &["zst", "zstd"],
            ImageFormat::Zip => &["zip"],
        }
    }

    /// Whether a file of this format may be called `*.extension` (any case).
    pub fn fits_extension(self, extension: &str) -> bool {
        self.extensions()
            .iter()
            .any(|known| known.eq_ignore_ascii_case(extension))
    }
}

impl fmt::Display for ImageFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(offset: usize, magic: &[u8]) -> Vec<u8> {
        let mut head = vec![0u8; ImageFormat::HEAD_LEN];
        head[offset..offset + magic.len()].copy_from_slice(magic);
        head
    }

    #[test]
    fn each_format_is_told_by_its_header() {
        for (head, format) in [
            (at(0, b"QFI\xfb\0\0\0\x03"), ImageFormat::Qcow2),
            (at(0, &[0x1f, 0x8b, 0x08]), ImageFormat::Gzip),
            (at(0, b"BZh9"), ImageFormat::Bzip2),
            (at(0, b"vhdxfile"), ImageFormat::Vhdx),
            (at(0, b"KDMV"), ImageFormat::Vmdk),
            (at(0, b"# Disk DescriptorFile\n"), ImageFormat::Vmdk),
            (at(0x40, &[0x7f, 0x10, 0xda, 0xbe]), ImageFormat::Vdi),
            (at(0x8001, b"CD001"), ImageFormat::Iso),
            (at(0, &[0xfd, b'7', b'z', b'X', b'Z', 0x00]), ImageFormat::Xz),
            (at(0, &[0x28, 0xb5, 0x2f, 0xfd]), ImageFormat::Zstd),
            (at(0, b"PK\x03\x04"), ImageFormat::Zip),
            (at(0x1fe, &[0x55, 0xaa]), ImageFormat::Raw),
            (Vec::new(), ImageFormat::Raw),
        ] {
            assert_eq!(ImageFormat::detect(&head), format, "{format}");
        }
    }

    #[test]
    fn a_short_file_is_not_read_past_its_end() {
        assert_eq!(ImageFormat::detect(b"QF"), ImageFormat::Raw);
        assert_eq!(ImageFormat::detect(&[0u8; 0x40]), ImageFormat::Raw);
        assert_eq!(
            ImageFormat::detect(&at(0x8001, b"CD00")[..0x8005]),
            ImageFormat::Raw
        );
        assert_eq!(
            ImageFormat::detect(b"BZhx"),
            ImageFormat::Raw,
            "no block size: not bzip2"
        );
    }

    #[test]
    fn extensions_fit_their_format_in_any_case() {
        assert!(ImageFormat::Qcow2.fits_extension("QCOW2"));
        assert!(ImageFormat::Iso.fits_extension("iso"));
        assert!(!ImageFormat::Iso.fits_extension("qcow2"));
        assert!(!ImageFormat::Raw.fits_extension("iso"));
    }
}
