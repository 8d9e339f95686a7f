//! The neutral words of an upload, shared by the staged route (an
//! S3-compatible bucket the cloud imports from) and a provider's own route
//! (a file server the provider registers images from): where it stands
//! ([`UploadPhase`]), and what a provider's own route is asked to do
//! ([`DirectUpload`]).

use std::fmt;

use crate::ops::wait::Progress;
#[cfg(feature = "upload")]
use crate::ops::wait::WaitOptions;

/// What an upload is doing, as [`UploadProgress::phase`] says.
///
/// ```
/// use cloud_images::images::{UploadPhase, UploadProgress};
///
/// let show = |phase| UploadProgress::new(phase).to_string();
/// assert_eq!(show(UploadPhase::Staging { sent: 5, total: 10 }), "sent 5 of 10 bytes");
/// let copy = UploadPhase::Distributing { id: "190000001".into(), region: "ams3".into() };
/// assert_eq!(show(copy), "copying image 190000001 to ams3");
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum UploadPhase {
    /// Checking the file, the provider's limits and the staging store.
    Checking,
    /// Sending the file: to the staging store (Contabo, DigitalOcean), or
    /// to the provider's own file server (IONOS's FTPS): `sent` of `total`
    /// bytes.
    Staging {
        /// Bytes handed to the store or server so far.
        sent: u64,
        /// The file's length.
        total: u64,
    },
    /// Asking the cloud to import the staged object.
    Importing,
    /// The file is on the provider's file server (IONOS: `path` there);
    /// waiting for the provider to register it as an image, which it does
    /// on its own after a while.
    Registering {
        /// The file's path on the server (`hdd-images/debian-13.qcow2`).
        path: String,
    },
    /// The cloud made the image `id` and is importing the file into it;
    /// from here on the image exists, whatever the upload ends in.
    Imported {
        /// The image, as the provider names it.
        id: String,
    },
    /// Waiting for the import; the provider's report, when it sent one.
    Waiting(Option<Progress>),
    /// The file is in the staging store: `key` in `bucket` (left there with
    /// [`UploadRequest::with_keep_staged`](crate::images::UploadRequest::with_keep_staged) or
    /// [`UploadRequest::with_wait`](crate::images::UploadRequest::with_wait)).
    Staged {
        /// The bucket.
        bucket: String,
        /// The object's key.
        key: String,
    },
    /// Copying the image `id` (ready in the first region) to `region` and
    /// waiting for it.
    Distributing {
        /// The image, as the provider names it.
        id: String,
        /// The region.
        region: String,
    },
    /// Deleting the staged object.
    CleaningUp,
}

/// One report of an upload's progress.
///
/// ```
/// use cloud_images::images::{UploadPhase, UploadProgress};
///
/// let mut last = None;
/// let mut on_progress = |p: &UploadProgress| last = Some(p.phase().clone());
/// on_progress(&UploadProgress::new(UploadPhase::Staging { sent: 5, total: 10 }));
/// assert_eq!(last, Some(UploadPhase::Staging { sent: 5, total: 10 }));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct UploadProgress {
    phase: UploadPhase,
}

impl UploadProgress {
    /// A report of `phase`.
    pub fn new(phase: UploadPhase) -> Self {
        Self { phase }
    }
    /// What the upload is doing.
    pub fn phase(&self) -> &UploadPhase {
        &self.phase
    }
}

impl fmt::Display for UploadProgress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.phase {
            UploadPhase::Checking => f.write_str("checking"),
            UploadPhase::Staging { sent, total } => write!(f, "sent {sent} of {total} bytes"),
            UploadPhase::Staged { bucket, key } => write!(f, "staged as s3://{bucket}/{key}"),
            UploadPhase::Importing => f.write_str("importing"),
            UploadPhase::Registering { path } => write!(f, "sent {path}; waiting for it to be registered"),
            UploadPhase::Imported { id } => write!(f, "image {id} made"),
            UploadPhase::Waiting(_) => f.write_str("waiting"),
            UploadPhase::Distributing { id, region } => write!(f, "copying image {id} to {region}"),
            UploadPhase::CleaningUp => f.write_str("cleaning up"),
        }
    }
}

/// What an upload calls with each report.
pub type OnUpload<'a> = &'a mut (dyn FnMut(&UploadProgress) + Send);

/// How a provider takes a local file, as
/// [`Capabilities::upload_route`](crate::images::Capabilities::upload_route) says.
///
/// ```
/// use cloud_images::images::{Capabilities, Cloud, UploadRoute};
///
/// assert_eq!(Capabilities::of(Cloud::Ionos).upload_route, UploadRoute::ProviderServer);
/// assert_eq!(Capabilities::of(Cloud::Contabo).upload_route, UploadRoute::StagingBucket);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UploadRoute {
    /// Staged in an S3-compatible bucket (see
    /// [`Staging`](crate::images::Staging)), which the cloud imports from a
    /// presigned URL (Contabo, DigitalOcean).
    StagingBucket,
    /// Sent to the provider's own file server in the image's region, which
    /// registers it as an image after a while (IONOS: FTPS to
    /// `ftp-<location>.ionos.com`).
    ProviderServer,
}

/// What a provider's own route is asked to do: the neutral request's parts,
/// checked, with the file already inspected.
#[cfg(feature = "upload")]
#[derive(Debug, Clone)]
pub(crate) struct DirectUpload {
    /// The file, its format read from its first bytes.
    pub file: crate::ops::staging::LocalImage,
    /// The image's name.
    pub name: String,
    /// The region (IONOS: the location) the image goes to.
    pub region: String,
    /// The operating system, in the provider's words.
    pub os: Option<String>,
    /// The description.
    pub description: Option<String>,
    /// Whether to wait until the provider has applied everything asked.
    pub wait: bool,
    /// How to wait.
    pub wait_options: WaitOptions,
}
