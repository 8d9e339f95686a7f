//! Uploading a local image file: checked, then either staged in an
//! S3-compatible bucket, imported by the cloud from a presigned URL, waited
//! for, copied to further regions, and the staged object deleted; or sent
//! to the provider's own file server and waited for until the provider
//! registers it ([`Capabilities::upload_route`]).

use std::fmt;
use std::path::PathBuf;

use crate::ops::images::Capabilities;
use crate::ops::images::ImageBackend;
#[cfg(feature = "upload")]
use crate::ops::images::ImportRequest;
use crate::ops::staging::Staging;
#[cfg(feature = "upload")]
use crate::ops::staging::{LocalImage, StagedObject, StagingStore, check_file};
#[cfg(feature = "upload")]
use crate::ops::upload::{DirectUpload, UploadRoute};
use crate::ops::upload::{OnUpload, UploadPhase, UploadProgress};
use crate::ops::wait::{Progress, WaitOptions};
use crate::values::cloud::Cloud;
use crate::values::error::Error;
#[cfg(feature = "upload")]
use secrecy::{ExposeSecret, SecretString};

/// A local image file to upload with [`Images::upload`](super::Images::upload).
///
/// Each provider takes it its own way ([`Capabilities::upload_route`]):
/// Contabo and DigitalOcean import it from a staging bucket
/// ([`with_staging`](Self::with_staging)); IONOS takes it over FTPS on the
/// server of its location (the request's one region, such as `de/fra`),
/// registers it under the file's name, and is then asked for the request's
/// name, OS (as its licence type) and description.
///
/// ```
/// use cloud_images::images::{Staging, UploadRequest};
///
/// let request = UploadRequest::new("debian-13", "./debian-13.qcow2")
///     .with_os("Debian")
///     .with_version("13")
///     .with_region("fra1")
///     .with_regions(["ams3", "lon1"])
///     .with_description("built with mkosi")
///     .with_staging(Staging::parse("s3://images/incoming")?)
///     .with_keep_staged(false)
///     .with_wait(true);
/// assert_eq!(request.name(), "debian-13");
/// assert_eq!(request.regions(), ["fra1", "ams3", "lon1"]);
/// assert_eq!((request.os(), request.version()), (Some("Debian"), Some("13")));
/// assert!(request.waits() && !request.keep_staged());
/// # Ok::<(), cloud_images::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct UploadRequest {
    env: Env,
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
            env: Env::Process,
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
    /// The operating system, as for [`ImportRequest::with_os`](super::ImportRequest::with_os);
    /// on IONOS its licence type (`LINUX`, `WINDOWS2022`, ..., or a
    /// distribution's name such as `Debian`, which is `LINUX`).
    pub fn with_os(mut self, os: impl Into<String>) -> Self {
        self.os = Some(os.into());
        self
    }
    /// The OS version (Contabo).
    pub fn with_version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }
    /// Adds a region: the first is imported into, each further one gets a
    /// copy (DigitalOcean), each waited for. On IONOS the one location
    /// (`de/fra`) whose FTP server takes the file.
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.regions.push(region.into());
        self
    }
    /// Adds regions, as [`with_region`](Self::with_region) does each.
    pub fn with_regions(mut self, regions: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.regions.extend(regions.into_iter().map(Into::into));
        self
    }
    /// The description.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }
    /// Where to stage the file; unset parts come from the environment and
    /// the provider's defaults (see [`Staging`]). Refused on a provider that
    /// takes the file on its own server (IONOS).
    pub fn with_staging(mut self, staging: Staging) -> Self {
        self.staging = Some(staging);
        self
    }
    /// Where the upload reads the environment names it takes (object_store's
    /// `AWS_*`, a provider's own such as `SPACES_ACCESS_KEY_ID`): the
    /// process's environment unless set; `|_| None` reads none, so that only
    /// the request's [`Staging`] and the provider's defaults count.
    ///
    /// ```
    /// use cloud_images::images::UploadRequest;
    ///
    /// let request = UploadRequest::new("debian-13", "./debian-13.qcow2").with_env(|_| None);
    /// # let _ = request;
    /// ```
    pub fn with_env(mut self, lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Self {
        self.env = Env::Lookup(std::sync::Arc::new(lookup));
        self
    }
    /// `true`: leave the staged object in the bucket afterwards.
    pub fn with_keep_staged(mut self, keep: bool) -> Self {
        self.keep_staged = keep;
        self
    }
    /// `false`: return once the import has started, with the image as the
    /// provider reports it then; the staged object is left for the cloud to
    /// fetch (its URL expires) and no copies are made. On IONOS there is no
    /// image before it registers the file: `false` waits for that, sends the
    /// name and properties, and returns without waiting for IONOS to apply
    /// them. `true` (the default): wait until the image is ready.
    pub fn with_wait(mut self, wait: bool) -> Self {
        self.wait = wait;
        self
    }
    /// How to wait for the import and each copy; on IONOS also for the
    /// registration (the image list is read every `max_interval`, at most
    /// every 10 s, until the `timeout`).
    pub fn with_wait_options(mut self, options: WaitOptions) -> Self {
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
    pub fn regions(&self) -> &[String] {
        &self.regions
    }
    /// The operating system, when set.
    pub fn os(&self) -> Option<&str> {
        self.os.as_deref()
    }
    /// The OS version, when set.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }
    /// The description, when set.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }
    /// The staging store the request names, when it names one.
    pub fn staging(&self) -> Option<&Staging> {
        self.staging.as_ref()
    }
    /// Whether the staged object is left in the bucket afterwards.
    pub fn keep_staged(&self) -> bool {
        self.keep_staged
    }
    /// Whether the upload waits until the image is ready.
    pub fn waits(&self) -> bool {
        self.wait
    }
    /// How the import and each copy are waited for.
    pub fn wait_options(&self) -> WaitOptions {
        self.wait_options
    }
}

/// A lookup of environment names.
type Lookup = std::sync::Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Where an upload reads environment names.
#[derive(Clone)]
enum Env {
    /// The process's environment.
    Process,
    /// The caller's lookup.
    Lookup(Lookup),
}

impl Env {
    #[cfg_attr(not(feature = "upload"), allow(dead_code))]
    fn get(&self, name: &str) -> Option<String> {
        match self {
            Env::Process => std::env::var(name).ok(),
            Env::Lookup(lookup) => lookup(name),
        }
    }
}

impl fmt::Debug for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Env::Process => "process environment",
            Env::Lookup(_) => "the caller's lookup",
        })
    }
}

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
    if capabilities.upload_route == UploadRoute::ProviderServer {
        return run_direct(client, request, &capabilities, &mut report).await;
    }
    B::check_import(import_request(&request, PLACEHOLDER_URL)).map_err(as_upload_error)?;
    let file = checked_file(B::CLOUD, &capabilities, &request).await?;
    let region = request.regions.first().map(String::as_str);
    let env = request.env.clone();
    let lookup = move |name: &str| env.get(name);
    let given = given_staging(request.staging.clone(), &lookup);
    let staging = client.upload_staging(given, region, &lookup).await?;
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
    let imported = import(client, &request, &url, &mut report).await;
    let end = import_end(request.wait, imported.as_ref().map(drop).map_err(Stopped::as_ref));
    finish_staged(staged, request.keep_staged, end, &mut report).await;
    let image = imported.map_err(|stopped| stopped.into_error(&url))?;
    if !request.wait || request.regions.len() < 2 {
        return Ok(image);
    }
    let id = B::view(&image).id;
    let first = &request.regions[0];
    for region in &request.regions[1..] {
        report(UploadPhase::Distributing {
            id: id.clone(),
            region: region.clone(),
        });
        client
            .copy_to_region(&id, region, request.wait_options)
            .await
            .map_err(|e| image_made(&id, first, format!("its copy to {region}"), e))?;
    }
    client
        .get_item(&id)
        .await
        .map(B::without_source_url)
        .map_err(|e| image_made(&id, first, format!("image {id}"), e))
}

/// The upload on the provider's own route (IONOS: its FTPS server, which
/// registers the file as an image): the request checked for that route, the
/// file against what the provider takes, then the provider's part.
#[cfg(feature = "upload")]
async fn run_direct<B: ImageBackend>(
    client: &B,
    request: UploadRequest,
    capabilities: &Capabilities,
    report: &mut (dyn FnMut(UploadPhase) + Send),
) -> Result<B::Item, Error> {
    let region = check_direct(B::CLOUD, &request)?;
    let file = checked_file(B::CLOUD, capabilities, &request).await?;
    let direct = DirectUpload {
        file,
        name: request.name.trim().to_owned(),
        region,
        os: request.os,
        description: request.description,
        wait: request.wait,
        wait_options: request.wait_options,
    };
    client.upload_direct(direct, report).await
}

/// The request's file, read and checked against what `cloud` takes.
#[cfg(feature = "upload")]
async fn checked_file(
    cloud: Cloud,
    capabilities: &Capabilities,
    request: &UploadRequest,
) -> Result<LocalImage, Error> {
    let file = LocalImage::inspect(request.path.clone()).await?;
    check_file(
        cloud,
        capabilities.upload_formats,
        capabilities.upload_max_bytes,
        &file,
    )?;
    Ok(file)
}

/// What a request on a provider's own route must be: no staging store
/// (there is none to use), one region (where the file server is). The region.
#[cfg(feature = "upload")]
fn check_direct(cloud: Cloud, request: &UploadRequest) -> Result<String, Error> {
    if request.staging.is_some() {
        return Err(Error::InvalidRequest(format!(
            "upload: {cloud} takes the file on its own file server, not through a staging bucket; drop `with_staging`"
        )));
    }
    match request.regions.first() {
        Some(region) if !region.trim().is_empty() => Ok(region.trim().to_owned()),
        _ => Err(Error::InvalidRequest(format!(
            "upload: {cloud} needs a region (the location whose file server takes the file, such as `de/fra`)"
        ))),
    }
}

/// An error after the image `id` was made (and is ready in `first`):
/// it says the image exists, with the outcome
/// [`Applied`](crate::values::error::Outcome::Applied).
#[cfg(feature = "upload")]
fn image_made(id: &str, first: &str, follow: String, e: Error) -> Error {
    Error::from(crate::values::error::Unconfirmed::done(
        format!("upload of image {id} (ready in {first})"),
        follow,
        e,
    ))
}

/// Where an import stopped short of a ready image.
#[cfg(feature = "upload")]
#[derive(Debug)]
enum Stopped<E> {
    /// The import call failed: the image may or may not have been made, as
    /// the error's [`outcome`](Error::outcome) says.
    Import(E),
    /// The image `id` was made; waiting for it failed.
    Wait {
        /// The image.
        id: String,
        /// Why the wait ended.
        error: E,
    },
}

#[cfg(feature = "upload")]
impl Stopped<Error> {
    fn as_ref(&self) -> Stopped<&Error> {
        match self {
            Stopped::Import(e) => Stopped::Import(e),
            Stopped::Wait { id, error } => Stopped::Wait {
                id: id.clone(),
                error,
            },
        }
    }

    /// The error the caller sees, without the URL: after the image was
    /// made, one that says so (unless the provider said the image failed).
    fn into_error(self, url: &SecretString) -> Error {
        match self {
            Stopped::Import(e) => without_url(e, url),
            Stopped::Wait {
                error: e @ Error::Wait(_),
                ..
            } => without_url(e, url),
            Stopped::Wait { id, error } => Error::from(crate::values::error::Unconfirmed::done(
                format!("import of image {id}"),
                format!("image {id} until it is ready"),
                without_url(error, url),
            )),
        }
    }
}

/// Asks the cloud to import from `url` and, unless told not to, waits.
#[cfg(feature = "upload")]
async fn import<B: ImageBackend>(
    client: &B,
    request: &UploadRequest,
    url: &SecretString,
    report: &mut (dyn FnMut(UploadPhase) + Send),
) -> Result<B::Item, Stopped<Error>> {
    let item = client
        .import_item(import_request(request, url.expose_secret()))
        .await
        .map_err(Stopped::Import)?;
    let id = B::view(&item).id;
    report(UploadPhase::Imported { id: id.clone() });
    if !request.wait {
        return Ok(B::without_source_url(item));
    }
    report(UploadPhase::Waiting(None));
    let mut on_wait = |p: &Progress| report(UploadPhase::Waiting(Some(p.clone())));
    match client.wait_item(&id, request.wait_options, &mut on_wait).await {
        Ok(item) => Ok(B::without_source_url(item)),
        Err(error) => Err(Stopped::Wait { id, error }),
    }
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
/// ([`after_import`]). A failed delete is logged with the key, not returned:
/// the import's outcome (a ready image, or the import's error) is what the
/// caller must see.
#[cfg(feature = "upload")]
async fn finish_staged(
    staged: StagedObject,
    keep_staged: bool,
    end: ImportEnd,
    report: &mut (dyn FnMut(UploadPhase) + Send),
) {
    match after_import(keep_staged, end) {
        Staged::Keep => {
            if end == ImportEnd::Unknown && !keep_staged {
                tracing::warn!(
                    key = staged.key(),
                    "how the import ended is not known: the staged object is left for the cloud to fetch; delete it yourself"
                );
            }
            staged.keep();
        }
        Staged::Delete => {
            report(UploadPhase::CleaningUp);
            let key = staged.key().to_owned();
            if let Err(e) = staged.delete().await {
                tracing::warn!(key, error = %e, "the staged object was not deleted: delete it yourself");
            }
        }
    }
}

/// How the import ended, as far as the staged object is concerned.
#[cfg(feature = "upload")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ImportEnd {
    /// Waited for and ready: the cloud has the file.
    Ready,
    /// Started, not waited for: the cloud may be fetching the file.
    Started,
    /// The import may have been made and its end is not known (its call's
    /// answer was lost or failed, a time limit fired, polling failed): the
    /// cloud may still fetch the file.
    Unknown,
    /// Refused, or failed: the cloud will not fetch the file.
    Failed,
}

/// How the import ended: `result` says which call stopped it. Only an
/// import call that was not applied, or a wait that saw the image fail
/// ([`Error::Wait`]), means the cloud will not fetch the file.
#[cfg(feature = "upload")]
fn import_end(wait: bool, result: Result<(), Stopped<&Error>>) -> ImportEnd {
    match result {
        Ok(()) if wait => ImportEnd::Ready,
        Ok(()) => ImportEnd::Started,
        Err(Stopped::Import(e)) if !e.may_have_applied() => ImportEnd::Failed,
        Err(Stopped::Wait {
            error: Error::Wait(_),
            ..
        }) => ImportEnd::Failed,
        Err(_) => ImportEnd::Unknown,
    }
}

/// What becomes of the staged object after the import.
#[cfg(feature = "upload")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Staged {
    Keep,
    Delete,
}

/// Kept when asked to, or while the cloud may still be fetching it;
/// deleted once the cloud has the file, or will not get it.
#[cfg(feature = "upload")]
fn after_import(keep_staged: bool, end: ImportEnd) -> Staged {
    match end {
        _ if keep_staged => Staged::Keep,
        ImportEnd::Started | ImportEnd::Unknown => Staged::Keep,
        ImportEnd::Ready | ImportEnd::Failed => Staged::Delete,
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
        return Err(unsupported(cloud, capabilities));
    }
    if request.name.trim().is_empty() {
        return Err(Error::InvalidRequest("upload: `name` is empty".into()));
    }
    if let Some(twice) = request
        .regions
        .iter()
        .enumerate()
        .find_map(|(i, r)| request.regions[..i].contains(r).then_some(r))
    {
        return Err(Error::InvalidRequest(format!(
            "upload: region `{}` is named twice; name each region once",
            crate::values::text::for_display(twice)
        )));
    }
    if request.regions.len() > 1 && !copies_to_regions {
        return Err(Error::InvalidRequest(format!(
            "upload: {cloud} images are not copied between regions; name one region, not {}",
            request.regions.len()
        )));
    }
    if request.regions.len() > 1 && !request.wait {
        return Err(Error::InvalidRequest(
            "upload: copies to further regions need the import waited for; drop `with_wait(false)` or name one region"
                .into(),
        ));
    }
    Ok(())
}

/// `upload` is not there for `cloud`: the reason its capabilities give.
fn unsupported(cloud: Cloud, capabilities: &Capabilities) -> Error {
    let reason = capabilities
        .upload_unsupported
        .unwrap_or("this provider does not take uploads");
    Error::from(crate::values::error::Unsupported::new(cloud, "upload", reason))
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

/// The query parameters of a presigned URL whose values are secrets (or
/// name the key): replaced wherever they appear.
#[cfg(feature = "upload")]
const SECRET_PARAMETERS: [&str; 2] = ["X-Amz-Signature", "X-Amz-Credential"];

/// `text` without the URL the cloud fetches: the URL itself becomes
/// `<staged object URL>`, its query `…`, and the value of each of
/// [`SECRET_PARAMETERS`], wherever it appears (named or not, percent-encoded
/// or not), `…`.
#[cfg(feature = "upload")]
fn scrub_url(text: &str, url: &str) -> String {
    const SHOWN: &str = "<staged object URL>";
    let mut text = text.replace(url, SHOWN);
    if let Some((_, query)) = url.split_once('?')
        && !query.is_empty()
    {
        text = text.replace(query, "…");
    }
    if let Ok(parsed) = reqwest::Url::parse(url) {
        for (name, value) in parsed.query_pairs() {
            if SECRET_PARAMETERS.iter().any(|s| s.eq_ignore_ascii_case(&name)) && value.len() >= 8 {
                let encoded: String = value
                    .bytes()
                    .map(|b| match b {
                        b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                            char::from(b).to_string()
                        }
                        _ => format!("%{b:02X}"),
                    })
                    .collect();
                text = text.replace(value.as_ref(), "…").replace(&encoded, "…");
            }
        }
    }
    for name in SECRET_PARAMETERS {
        text = without_parameter(&text, name);
    }
    text
}

/// `text` with the value after each `name=` (any case) replaced by `…`.
#[cfg(feature = "upload")]
fn without_parameter(text: &str, name: &str) -> String {
    let pattern = format!("{}=", name.to_ascii_lowercase());
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    while let Some(found) = lower[at..].find(&pattern) {
        let start = at + found + pattern.len();
        out.push_str(&text[at..start]);
        let end = text[start..]
            .find(|c: char| c == '&' || c.is_whitespace() || "\"'<>\\),;".contains(c))
            .map_or(text.len(), |n| start + n);
        if end > start {
            out.push('…');
        }
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

/// `e` without the URL the cloud fetches ([`scrub_url`]), in every message
/// it carries, its causes' included.
#[cfg(feature = "upload")]
fn without_url(e: Error, url: &SecretString) -> Error {
    scrub_error(e, url.expose_secret())
}

/// [`without_url`], with the URL in the open.
#[cfg(feature = "upload")]
fn scrub_error(e: Error, url: &str) -> Error {
    let scrub = |text: &mut String| {
        *text = scrub_url(text, url);
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
        Error::Accepted(mut accepted) => {
            scrub(&mut accepted.body);
            scrub(&mut accepted.message);
            scrub(&mut accepted.path);
            Error::Accepted(accepted)
        }
        Error::Unconfirmed(mut unconfirmed) => {
            scrub(&mut unconfirmed.change);
            scrub(&mut unconfirmed.follow);
            let source = std::mem::replace(&mut unconfirmed.source, Error::Config(String::new()));
            unconfirmed.source = scrub_error(source, url);
            Error::Unconfirmed(unconfirmed)
        }
        Error::Decode {
            operation,
            path,
            mut message,
            request_id,
        } => {
            scrub(&mut message);
            Error::Decode {
                operation,
                path,
                message,
                request_id,
            }
        }
        Error::InvalidRequest(mut message) => {
            scrub(&mut message);
            Error::InvalidRequest(message)
        }
        other => other,
    }
}

/// Without the `upload` feature: `Unsupported`, with the reason the
/// provider's capabilities give (the missing feature).
#[cfg(not(feature = "upload"))]
pub(crate) async fn run<B: ImageBackend>(
    _client: &B,
    _request: UploadRequest,
    _progress: OnUpload<'_>,
) -> Result<B::Item, Error> {
    Err(unsupported(B::CLOUD, &Capabilities::of(B::CLOUD)))
}

#[cfg(all(test, feature = "upload"))]
mod tests {
    use super::*;

    #[test]
    fn the_staged_object_is_kept_only_when_asked_or_still_needed() {
        use ImportEnd::*;
        assert_eq!(after_import(false, Ready), Staged::Delete, "the cloud has it");
        assert_eq!(
            after_import(false, Failed),
            Staged::Delete,
            "the cloud will not get it"
        );
        assert_eq!(
            after_import(false, Started),
            Staged::Keep,
            "the cloud may be fetching it"
        );
        assert_eq!(
            after_import(false, Unknown),
            Staged::Keep,
            "the cloud may still fetch it"
        );
        for end in [Ready, Failed, Started, Unknown] {
            assert_eq!(after_import(true, end), Staged::Keep, "keep_staged: {end:?}");
        }
    }

    #[test]
    fn how_the_import_ended_is_told_by_its_result_and_the_call_that_failed() {
        use crate::values::error::{AcceptedAnswer, ApiError, Outcome, TimeoutKind, WaitError};
        use ImportEnd::*;
        let failed = Error::Wait(Box::new(WaitError::new("image 7 failed", "no")));
        let timeout = |outcome| Error::Timeout {
            operation: "wait for image 7".into(),
            limit: TimeoutKind::Wait,
            after: std::time::Duration::from_secs(1),
            attempts: 1,
            request_id: None,
            outcome,
        };
        let api = |status: u16, outcome| {
            Error::Api(Box::new(ApiError {
                operation: "images_create_custom".into(),
                status: http::StatusCode::from_u16(status).unwrap(),
                message: None,
                body: None,
                retry_after: None,
                request_id: None,
                attempts: 3,
                rate_limit: None,
                outcome,
            }))
        };
        let accepted = Error::from(AcceptedAnswer::new(
            "images_create_custom",
            http::StatusCode::ACCEPTED,
            "{",
        ));
        let refused = api(422, Outcome::NotApplied);
        let server_failed = api(500, Outcome::MaybeApplied);
        let lost = timeout(Outcome::MaybeApplied);
        let not_sent = Error::InvalidRequest("no".into());
        let import = Stopped::Import;
        let wait = |error| Stopped::Wait {
            id: "7".to_owned(),
            error,
        };
        assert_eq!(import_end(true, Ok(())), Ready);
        assert_eq!(import_end(false, Ok(())), Started);
        // The import call: the object goes only when the call was not applied.
        assert_eq!(import_end(true, Err(import(&refused))), Failed);
        assert_eq!(import_end(true, Err(import(&not_sent))), Failed);
        assert_eq!(import_end(true, Err(import(&server_failed))), Unknown);
        assert_eq!(import_end(true, Err(import(&accepted))), Unknown);
        assert_eq!(import_end(true, Err(import(&lost))), Unknown);
        assert_eq!(import_end(false, Err(import(&lost))), Unknown);
        // The wait: the object goes only when the image failed.
        assert_eq!(import_end(true, Err(wait(&failed))), Failed);
        let poll_failed = api(500, Outcome::NotApplied);
        for e in [&timeout(Outcome::NotApplied), &poll_failed, &not_sent, &refused] {
            assert_eq!(import_end(true, Err(wait(e))), Unknown, "{e}");
        }
    }

    #[test]
    fn an_error_after_the_image_was_made_says_so() {
        let url = SecretString::from("http://127.0.0.1:9/b/k.qcow2?X-Amz-Signature=abc".to_owned());
        let timeout = Error::Timeout {
            operation: "wait for image 7".into(),
            limit: crate::values::error::TimeoutKind::Wait,
            after: std::time::Duration::from_secs(1),
            attempts: 1,
            request_id: None,
            outcome: crate::values::error::Outcome::NotApplied,
        };
        let e = Stopped::Wait {
            id: "7".to_owned(),
            error: timeout,
        }
        .into_error(&url);
        assert!(e.is_applied() && e.is_timeout(), "{e}");
        assert!(e.to_string().contains("import of image 7 was done"), "{e}");
        let failed = Error::Wait(Box::new(crate::values::error::WaitError::new(
            "image 7 failed",
            "no",
        )));
        let e = Stopped::Wait {
            id: "7".to_owned(),
            error: failed,
        }
        .into_error(&url);
        assert!(e.wait().is_some() && !e.is_applied(), "the image failed: {e}");
        let copy = image_made(
            "7",
            "fra1",
            "its copy to ams3".into(),
            Error::Auth("expired".into()),
        );
        assert!(copy.is_applied(), "{copy}");
        assert!(copy.to_string().contains("image 7 (ready in fra1)"), "{copy}");
    }

    #[test]
    fn a_request_is_checked_before_the_file_is_read() {
        let request = || UploadRequest::new("debian-13", "d.qcow2");
        let contabo = Capabilities::of(Cloud::Contabo);
        // A build without the feature, or a provider without uploads.
        let without = Capabilities {
            upload: false,
            upload_unsupported: Some("turn the feature on"),
            ..Capabilities::of(Cloud::Ionos)
        };
        let e = check_request(Cloud::Ionos, &without, false, &request()).unwrap_err();
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
        let two = request().with_regions(["fra1", "ams3"]);
        let e = check_request(Cloud::Contabo, &contabo, false, &two).unwrap_err();
        assert!(e.to_string().contains("name one region, not 2"), "{e}");
        let digitalocean = Capabilities::of(Cloud::DigitalOcean);
        assert!(check_request(Cloud::DigitalOcean, &digitalocean, true, &two).is_ok());
        let e = check_request(
            Cloud::DigitalOcean,
            &digitalocean,
            true,
            &two.clone().with_wait(false),
        )
        .unwrap_err();
        assert!(e.is_invalid_request(), "{e}");
        let twice = request().with_regions(["fra1", "ams3", "fra1"]);
        let e = check_request(Cloud::DigitalOcean, &digitalocean, true, &twice).unwrap_err();
        assert!(e.to_string().contains("region `fra1` is named twice"), "{e}");
        // The reason is the provider's, from its capabilities.
        let e = check_request(Cloud::Ionos, &without, false, &request()).unwrap_err();
        assert!(e.to_string().contains("turn the feature on"), "{e}");
    }

    #[test]
    fn a_request_on_the_providers_own_route_names_one_region_and_no_bucket() {
        let request = || UploadRequest::new("debian-13", "d.qcow2");
        let e = check_direct(Cloud::Ionos, &request()).unwrap_err();
        assert!(e.to_string().contains("needs a region"), "{e}");
        let e = check_direct(Cloud::Ionos, &request().with_region(" ")).unwrap_err();
        assert!(e.to_string().contains("needs a region"), "{e}");
        assert_eq!(
            check_direct(Cloud::Ionos, &request().with_region(" de/fra ")).unwrap(),
            "de/fra"
        );
        let staged = request()
            .with_region("de/fra")
            .with_staging(Staging::parse("s3://b").unwrap());
        let e = check_direct(Cloud::Ionos, &staged).unwrap_err();
        assert!(e.to_string().contains("drop `with_staging`"), "{e}");
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
    fn the_signature_and_credential_go_wherever_they_appear() {
        let url = "http://127.0.0.1:9/b/k.qcow2?X-Amz-Algorithm=AWS4-HMAC-SHA256\
                   &X-Amz-Credential=AKIAEXAMPLE%2F20260101%2Fus-east-1%2Fs3%2Faws4_request\
                   &X-Amz-Signature=0123456789abcdef";
        let shown = scrub_url(
            "fetch of http://127.0.0.1:9/b/k.qcow2?x-amz-signature=0123456789abcdef&X-Amz-Credential=AKIAEXAMPLE/20260101 failed; \
             sig 0123456789abcdef; cred AKIAEXAMPLE/20260101/us-east-1/s3/aws4_request; \"X-Amz-Signature=feedface\"",
            url,
        );
        for secret in ["0123456789abcdef", "AKIAEXAMPLE", "feedface"] {
            assert!(!shown.contains(secret), "{secret}: {shown}");
        }
        assert!(shown.contains("X-Amz-Credential=…"), "{shown}");
        // Inside an error that follows the import.
        let url = SecretString::from(url.to_owned());
        let inner = Error::Wait(Box::new(crate::values::error::WaitError::new(
            "image 7 failed",
            "X-Amz-Signature=0123456789abcdef",
        )));
        let e = without_url(
            Error::from(crate::values::error::Unconfirmed::done(
                "import", "image 7", inner,
            )),
            &url,
        );
        assert!(!format!("{e} {e:?}").contains("0123456789abcdef"), "{e:?}");
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
        // An accepted import whose answer quotes the URL and does not decode.
        let body = r#"{"data": [{"url": "http://127.0.0.1:9/b/k.qcow2?X-Amz-Signature=abc"}]}"#;
        let accepted =
            crate::values::error::AcceptedAnswer::new("create_custom_image", http::StatusCode::CREATED, body)
                .with_decode_error("data[0].imageId", "missing field");
        let e = without_url(Error::from(accepted), &url);
        assert!(e.is_applied(), "still applied: {e}");
        for shown in [e.to_string(), format!("{e:?}")] {
            assert!(!shown.contains("X-Amz-Signature=abc"), "{shown}");
        }
    }
}
