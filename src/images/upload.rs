//! Uploading a local image file: checked, staged in an S3-compatible
//! bucket, imported by the cloud from a presigned URL, waited for, copied to
//! further regions, and the staged object deleted.

use std::fmt;
use std::path::PathBuf;

use crate::ops::images::ImageBackend;
#[cfg(feature = "upload")]
use crate::ops::images::{Capabilities, ImportRequest};
use crate::ops::staging::Staging;
#[cfg(feature = "upload")]
use crate::ops::staging::{LocalImage, StagedObject, StagingStore, check_file};
use crate::ops::wait::{Progress, WaitOptions};
#[cfg(feature = "upload")]
use crate::values::cloud::Cloud;
use crate::values::error::Error;
#[cfg(feature = "upload")]
use secrecy::{ExposeSecret, SecretString};

/// A local image file to upload with [`Images::upload`](super::Images::upload).
///
/// ```
/// use cloud_images::images::{Staging, UploadRequest};
///
/// let request = UploadRequest::new("debian-13", "./debian-13.qcow2")
///     .os("Debian")
///     .version("13")
///     .region("fra1")
///     .regions(["ams3", "lon1"])
///     .description("built with mkosi")
///     .staging(Staging::parse("s3://images/incoming")?)
///     .keep_staged(false);
/// assert_eq!(request.name(), "debian-13");
/// assert_eq!(request.region_list(), ["fra1", "ams3", "lon1"]);
/// # Ok::<(), cloud_images::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct UploadRequest {
    name: String,
    path: PathBuf,
    os: Option<String>,
    version: Option<String>,
    regions: Vec<String>,
    description: Option<String>,
    staging: Option<Staging>,
    keep_staged: bool,
    wait: bool,
    wait_options: WaitOptions,
}

impl UploadRequest {
    /// An image called `name` from the file at `path`.
    pub fn new(name: impl Into<String>, path: impl Into<PathBuf>) -> Self {
        Self {
            name: name.into(),
            path: path.into(),
            os: None,
            version: None,
            regions: Vec::new(),
            description: None,
            staging: None,
            keep_staged: false,
            wait: true,
            wait_options: WaitOptions::default(),
        }
    }
    /// The operating system, as for [`ImportRequest::with_os`](super::ImportRequest::with_os).
    pub fn os(mut self, os: impl Into<String>) -> Self {
        self.os = Some(os.into());
        self
    }
    /// The OS version (Contabo).
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }
    /// Adds a region: the first is imported into, each further one gets a
    /// copy (DigitalOcean), each waited for.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.regions.push(region.into());
        self
    }
    /// Adds regions, as [`region`](Self::region) does each.
    pub fn regions(mut self, regions: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.regions.extend(regions.into_iter().map(Into::into));
        self
    }
    /// The description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }
    /// Where to stage the file; unset parts come from the environment and
    /// the provider's defaults (see [`Staging`]).
    pub fn staging(mut self, staging: Staging) -> Self {
        self.staging = Some(staging);
        self
    }
    /// `true`: leave the staged object in the bucket afterwards.
    pub fn keep_staged(mut self, keep: bool) -> Self {
        self.keep_staged = keep;
        self
    }
    /// Returns once the import has started, with the image as the provider
    /// reports it then; the staged object is left for the cloud to fetch
    /// (its URL expires) and no copies are made.
    pub fn no_wait(mut self) -> Self {
        self.wait = false;
        self
    }
    /// How to wait for the import and each copy.
    pub fn wait_options(mut self, options: WaitOptions) -> Self {
        self.wait_options = options;
        self
    }
    /// The image's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The file.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }
    /// The regions, the one imported into first.
    pub fn region_list(&self) -> &[String] {
        &self.regions
    }
}

/// What an upload is doing, as [`UploadProgress::phase`] says.
///
/// ```
/// use cloud_images::images::{UploadPhase, UploadProgress};
///
/// let show = |phase| UploadProgress::new(phase).to_string();
/// assert_eq!(show(UploadPhase::Staging { sent: 5, total: 10 }), "staging 5 of 10 bytes");
/// assert_eq!(show(UploadPhase::Distributing { region: "ams3".into() }), "copying to ams3");
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum UploadPhase {
    /// Checking the file, the provider's limits and the staging store.
    Checking,
    /// Sending the file to the staging store: `sent` of `total` bytes.
    Staging {
        /// Bytes handed to the store so far.
        sent: u64,
        /// The file's length.
        total: u64,
    },
    /// Asking the cloud to import the staged object.
    Importing,
    /// Waiting for the import; the provider's report, when it sent one.
    Waiting(Option<Progress>),
    /// The file is in the staging store: `key` in `bucket` (left there with
    /// [`UploadRequest::keep_staged`] or [`UploadRequest::no_wait`]).
    Staged {
        /// The bucket.
        bucket: String,
        /// The object's key.
        key: String,
    },
    /// Copying the image to `region` and waiting for it.
    Distributing {
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
            UploadPhase::Staging { sent, total } => write!(f, "staging {sent} of {total} bytes"),
            UploadPhase::Staged { bucket, key } => write!(f, "staged as s3://{bucket}/{key}"),
            UploadPhase::Importing => f.write_str("importing"),
            UploadPhase::Waiting(_) => f.write_str("waiting"),
            UploadPhase::Distributing { region } => write!(f, "copying to {region}"),
            UploadPhase::CleaningUp => f.write_str("cleaning up"),
        }
    }
}

/// What an upload calls with each report.
pub type OnUpload<'a> = &'a mut (dyn FnMut(&UploadProgress) + Send);

/// The whole upload on one provider; the image as the provider reports it
/// at the end.
#[cfg(feature = "upload")]
pub(crate) async fn run<B: ImageBackend>(
    client: &B,
    request: UploadRequest,
    progress: OnUpload<'_>,
) -> Result<B::Item, Error> {
    let mut report = |phase| progress(&UploadProgress::new(phase));
    report(UploadPhase::Checking);
    let capabilities = Capabilities::of(B::CLOUD);
    check_request(B::CLOUD, &capabilities, B::COPIES_TO_REGIONS, &request)?;
    B::check_import(import_request(&request, PLACEHOLDER_URL)).map_err(as_upload_error)?;
    let file = LocalImage::inspect(request.path.clone()).await?;
    check_file(
        B::CLOUD,
        capabilities.upload_formats,
        capabilities.upload_max_bytes,
        &file,
    )?;
    let region = request.regions.first().map(String::as_str);
    let given = given_staging(request.staging.clone(), |name| std::env::var(name).ok());
    let staging = client.upload_staging(given, region).await?;
    let store = StagingStore::open(&staging)?;
    client.check_upload_room(file.size).await?;

    let staged = store
        .put(&request.name, &file, &mut |sent, total| {
            report(UploadPhase::Staging { sent, total })
        })
        .await?;
    report(UploadPhase::Staged {
        bucket: store.bucket().to_owned(),
        key: staged.key().to_owned(),
    });
    report(UploadPhase::Importing);
    let url = staged.url().await?;
    let imported = import(client, &request, &url, &mut report)
        .await
        .map_err(|e| without_url(e, &url));
    let image = finish_staged(staged, &request, imported.is_ok(), &mut report).await;
    let image = match (imported, image) {
        (Err(e), _) => return Err(e),
        (Ok(_), Err(e)) => return Err(e),
        (Ok(image), Ok(())) => image,
    };
    if !request.wait || request.regions.len() < 2 {
        return Ok(image);
    }
    let id = B::view(&image).id;
    for region in &request.regions[1..] {
        report(UploadPhase::Distributing {
            region: region.clone(),
        });
        client.copy_to_region(&id, region, request.wait_options).await?;
    }
    client.get_item(&id).await.map(B::without_source_url)
}

/// Asks the cloud to import from `url` and, unless told not to, waits.
#[cfg(feature = "upload")]
async fn import<B: ImageBackend>(
    client: &B,
    request: &UploadRequest,
    url: &SecretString,
    report: &mut (dyn FnMut(UploadPhase) + Send),
) -> Result<B::Item, Error> {
    let item = client
        .import_item(import_request(request, url.expose_secret()))
        .await?;
    if !request.wait {
        return Ok(B::without_source_url(item));
    }
    let id = B::view(&item).id;
    report(UploadPhase::Waiting(None));
    let mut on_wait = |p: &Progress| report(UploadPhase::Waiting(Some(p.clone())));
    let item = client.wait_item(&id, request.wait_options, &mut on_wait).await?;
    Ok(B::without_source_url(item))
}

/// What an import is checked with before the file is staged.
#[cfg(feature = "upload")]
const PLACEHOLDER_URL: &str = "https://staging.invalid/image";

/// The import of the upload's image from `url`.
#[cfg(feature = "upload")]
fn import_request(request: &UploadRequest, url: &str) -> ImportRequest {
    let mut import = ImportRequest::new(&request.name, url);
    if let Some(os) = &request.os {
        import = import.with_os(os);
    }
    if let Some(version) = &request.version {
        import = import.with_version(version);
    }
    if let Some(region) = request.regions.first() {
        import = import.with_region(region);
    }
    if let Some(description) = &request.description {
        import = import.with_description(description);
    }
    import
}

/// The staged object once the cloud has it (or gave up on it): deleted,
/// unless it is to be kept or the cloud may still be fetching it
/// ([`after_import`]). A failed delete after a failed import is only logged
/// (the import's error is the one to see).
#[cfg(feature = "upload")]
async fn finish_staged(
    staged: StagedObject,
    request: &UploadRequest,
    imported: bool,
    report: &mut (dyn FnMut(UploadPhase) + Send),
) -> Result<(), Error> {
    match after_import(request.keep_staged, request.wait, imported) {
        Staged::Keep => {
            staged.keep();
            Ok(())
        }
        Staged::Delete => {
            report(UploadPhase::CleaningUp);
            match staged.delete().await {
                Ok(()) => Ok(()),
                Err(e) if imported => Err(e),
                Err(e) => {
                    tracing::warn!(error = %e, "the staged object was not deleted");
                    Ok(())
                }
            }
        }
    }
}

/// What becomes of the staged object after the import.
#[cfg(feature = "upload")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Staged {
    Keep,
    Delete,
}

/// Kept when asked to, or when the import started and was not waited for
/// (the cloud may still be fetching it); deleted otherwise: the cloud has
/// the file, or failed to get it.
#[cfg(feature = "upload")]
fn after_import(keep_staged: bool, wait: bool, imported: bool) -> Staged {
    if keep_staged || (imported && !wait) {
        Staged::Keep
    } else {
        Staged::Delete
    }
}

/// What is checked of a request before the file is read: the provider
/// uploads, the name is set, and more than one region only where the
/// provider copies images between regions.
#[cfg(feature = "upload")]
fn check_request(
    cloud: Cloud,
    capabilities: &Capabilities,
    copies_to_regions: bool,
    request: &UploadRequest,
) -> Result<(), Error> {
    if !capabilities.upload {
        return Err(Error::Unsupported(Box::new(
            crate::values::error::Unsupported::new(
                cloud,
                "upload",
                "not in this version (IONOS takes images over FTPS, which comes later); \
             host the file and use import_from_url where the provider has it",
            ),
        )));
    }
    if request.name.trim().is_empty() {
        return Err(Error::InvalidRequest("upload: `name` is empty".into()));
    }
    if request.regions.len() > 1 && !copies_to_regions {
        return Err(Error::InvalidRequest(format!(
            "upload: {cloud} images are not copied between regions; name one region, not {}",
            request.regions.len()
        )));
    }
    if request.regions.len() > 1 && !request.wait {
        return Err(Error::InvalidRequest(
            "upload: copies to further regions need the import waited for; drop `no_wait` or name one region"
                .into(),
        ));
    }
    Ok(())
}

/// An import's refusal of a request, worded for the upload.
#[cfg(feature = "upload")]
fn as_upload_error(e: Error) -> Error {
    match e {
        Error::InvalidRequest(message) => {
            Error::InvalidRequest(message.replacen("import_from_url:", "upload:", 1))
        }
        other => other,
    }
}

/// The staging store as the caller and the environment give it: the
/// request's [`Staging`] (or none), with unset parts from object_store's
/// environment names read through `lookup`.
#[cfg(feature = "upload")]
fn given_staging(staging: Option<Staging>, lookup: impl Fn(&str) -> Option<String>) -> Staging {
    staging.unwrap_or_default().or_from_env(lookup)
}

/// `e` without the URL the cloud fetches: a provider's message that quotes
/// it has the URL replaced by `<staged object URL>`.
#[cfg(feature = "upload")]
fn without_url(e: Error, url: &SecretString) -> Error {
    const SHOWN: &str = "<staged object URL>";
    let url = url.expose_secret();
    let scrub = |text: &mut String| {
        if text.contains(url) {
            *text = text.replace(url, SHOWN);
        }
        // A message that quotes only the query (the signature) loses it too.
        if let Some((_, query)) = url.split_once('?')
            && !query.is_empty()
            && text.contains(query)
        {
            *text = text.replace(query, "…");
        }
    };
    match e {
        Error::Wait(mut wait) => {
            scrub(&mut wait.message);
            scrub(&mut wait.subject);
            Error::Wait(wait)
        }
        Error::Api(mut api) => {
            if let Some(message) = api.message.as_mut() {
                scrub(message);
            }
            if let Some(body) = api.body.take() {
                let mut text = body.to_string();
                scrub(&mut text);
                api.body = Some(serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)));
            }
            Error::Api(api)
        }
        other => other,
    }
}

/// Without the `upload` feature: a configuration error naming it.
#[cfg(not(feature = "upload"))]
pub(crate) async fn run<B: ImageBackend>(
    _client: &B,
    _request: UploadRequest,
    _progress: OnUpload<'_>,
) -> Result<B::Item, Error> {
    Err(Error::Config(
        "upload: this build of cloud-images has no `upload` feature".into(),
    ))
}

#[cfg(all(test, feature = "upload"))]
mod tests {
    use super::*;

    #[test]
    fn the_staged_object_is_kept_only_when_asked_or_still_needed() {
        assert_eq!(
            after_import(false, true, true),
            Staged::Delete,
            "the cloud has it"
        );
        assert_eq!(
            after_import(false, true, false),
            Staged::Delete,
            "the import failed"
        );
        assert_eq!(
            after_import(false, false, false),
            Staged::Delete,
            "the import was refused"
        );
        assert_eq!(
            after_import(false, false, true),
            Staged::Keep,
            "the cloud may still fetch it"
        );
        assert_eq!(after_import(true, true, true), Staged::Keep);
        assert_eq!(after_import(true, true, false), Staged::Keep);
    }

    #[test]
    fn a_request_is_checked_before_the_file_is_read() {
        let request = || UploadRequest::new("debian-13", "d.qcow2");
        let contabo = Capabilities::of(Cloud::Contabo);
        let ionos = Capabilities::of(Cloud::Ionos);
        let e = check_request(Cloud::Ionos, &ionos, false, &request()).unwrap_err();
        assert!(e.is_unsupported(), "{e}");
        assert!(e.to_string().contains("ionos does not support upload"), "{e}");
        assert!(check_request(Cloud::Contabo, &contabo, false, &request()).is_ok());
        let e = check_request(
            Cloud::Contabo,
            &contabo,
            false,
            &UploadRequest::new(" ", "d.qcow2"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("`name` is empty"), "{e}");
        let two = request().regions(["fra1", "ams3"]);
        let e = check_request(Cloud::Contabo, &contabo, false, &two).unwrap_err();
        assert!(e.to_string().contains("name one region, not 2"), "{e}");
        let digitalocean = Capabilities::of(Cloud::DigitalOcean);
        assert!(check_request(Cloud::DigitalOcean, &digitalocean, true, &two).is_ok());
        let e = check_request(Cloud::DigitalOcean, &digitalocean, true, &two.no_wait()).unwrap_err();
        assert!(e.is_invalid_request(), "{e}");
    }

    #[test]
    fn the_store_comes_from_the_request_then_the_environment() {
        let env = |name: &str| match name {
            "AWS_ENDPOINT" => Some("http://127.0.0.1:9000".to_owned()),
            "AWS_REGION" => Some("eu-1".to_owned()),
            _ => None,
        };
        let given = given_staging(Some(Staging::parse("s3://b/p").unwrap()), env);
        assert_eq!((given.bucket(), given.prefix()), (Some("b"), "p"));
        assert_eq!(given.endpoint(), Some("http://127.0.0.1:9000"));
        assert_eq!(given.region(), Some("eu-1"));
        let own = given_staging(Some(Staging::default().with_endpoint("https://own")), env);
        assert_eq!(own.endpoint(), Some("https://own"), "the request wins");
        let none = given_staging(None, |_| None);
        assert_eq!((none.bucket(), none.endpoint()), (None, None));
    }

    #[test]
    fn the_url_is_taken_out_of_a_providers_message() {
        let url = SecretString::from("http://127.0.0.1:9/b/k.qcow2?X-Amz-Signature=abc".to_owned());
        let wait = Error::Wait(Box::new(crate::values::error::WaitError::new(
            "image 7 failed",
            "could not fetch http://127.0.0.1:9/b/k.qcow2?X-Amz-Signature=abc: 403; X-Amz-Signature=abc",
        )));
        let e = without_url(wait, &url);
        for shown in [e.to_string(), format!("{e:?}")] {
            assert!(!shown.contains("X-Amz-Signature=abc"), "{shown}");
        }
        assert!(e.to_string().contains("<staged object URL>"), "{e}");
    }
}
