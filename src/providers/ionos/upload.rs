//! IONOS Cloud's upload: the file over FTPS to the FTP server of its
//! location, into the folder of its type; the wait until IONOS lists it as
//! one of the account's images; then the properties asked for.
//! [`Client::upload_image`] is the provider's call, and the neutral
//! `Images::upload` goes through it.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::SecretString;

use super::ftp::{ENV_FTP_CA_FILE, ENV_FTP_URL, api_location, kind_of, location_host, remote_name};
use super::{Client, Image, Ionos, types};
use crate::Execute;
use crate::engine::auth::BasicCredentials;
use crate::engine::builder::ClientBuilder;
use crate::ops::ftps::{DEFAULT_PORT, FtpServer, FtpsSettings, TlsVersion, check_roots_pem};
use crate::ops::staging::LocalImage;
use crate::ops::upload::{DirectUpload, UploadPhase, UploadProgress};
use crate::ops::wait::{self, Progress, State, WaitOptions};
use crate::values::error::{Error, Outcome, Unconfirmed};
use crate::values::os::OsFamily;
use crate::values::text::for_display;

/// How often the image list is read while IONOS registers an uploaded file
/// (ionosctl's interval).
pub const REGISTER_INTERVAL: Duration = Duration::from_secs(10);
/// How long IONOS may take to register an uploaded file (ionosctl's limit).
pub const REGISTER_TIMEOUT: Duration = Duration::from_secs(1200);

/// IONOS's licence types (`licenceType`) an upload may set: the spec's, and
/// those IONOS's SDKs list besides.
pub const LICENCE_TYPES: &[&str] = &[
    "LINUX",
    "RHEL",
    "WINDOWS",
    "WINDOWS2016",
    "WINDOWS2019",
    "WINDOWS2022",
    "WINDOWS2025",
    "OTHER",
    "UNKNOWN",
];

/// The FTP settings a client keeps: the login (else the client's HTTP Basic
/// credentials), a server in place of the location's, extra trusted roots,
/// the TLS versions.
#[derive(Clone, Default)]
pub(crate) struct FtpOptions {
    login: Option<(String, SecretString)>,
    server: Option<FtpServer>,
    ca_file: Option<PathBuf>,
    ca_pem: Option<Vec<u8>>,
    tls: Option<(TlsVersion, TlsVersion)>,
}

impl fmt::Debug for FtpOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FtpOptions")
            .field("user", &self.login.as_ref().map(|(user, _)| user))
            .field("server", &self.server)
            .field("ca_file", &self.ca_file)
            .field("ca_pem", &self.ca_pem.as_ref().map(|pem| pem.len()))
            .field("tls", &self.tls)
            .finish()
    }
}

/// The FTP settings of [`Client::upload_image`]. IONOS's FTP servers take
/// the account's user name and password, not a token: without
/// [`ftp_login`](Self::ftp_login) the client's
/// [`basic_auth`](ClientBuilder::basic_auth) pair is used, and
/// [`from_env`](ClientBuilder::from_env) sets the login from
/// `IONOS_USERNAME` and `IONOS_PASSWORD` even when `IONOS_TOKEN` is what the
/// API gets.
///
/// ```
/// use cloud_images::ftps::TlsVersion;
///
/// let client = cloud_images::ionos::Client::builder()
///     .bearer_token("t0ken")
///     .ftp_login("me@example.com", "s3cret")
///     .ftp_url("ftps://ftp.example.com:990")
///     .ftp_ca_file("/etc/ssl/our-root.pem")
///     .ftp_tls_versions(TlsVersion::V1_2, TlsVersion::V1_3)
///     .build()
///     .unwrap();
/// assert!(!format!("{client:?}").contains("s3cret"));
///
/// let err = cloud_images::ionos::Client::builder()
///     .ftp_url("ftp://ftp.example.com")
///     .build()
///     .unwrap_err();
/// assert!(err.to_string().contains("loopback"), "{err}");
/// ```
impl ClientBuilder<Ionos> {
    /// Logs in to the FTP servers as `user` with `password` (default: the
    /// [`basic_auth`](Self::basic_auth) pair).
    pub fn ftp_login(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.extension_mut::<FtpOptions>().login = Some((user.into(), SecretString::from(password.into())));
        self
    }

    /// This server (`ftps://host[:port]`, or `ftp://` to a loopback address
    /// only) in place of the location's `ftp-<location>.ionos.com`; a URL
    /// that is not one makes `build()` fail with [`Error::Config`].
    pub fn ftp_url(mut self, url: impl AsRef<str>) -> Self {
        match FtpServer::parse(url.as_ref()) {
            Ok(server) => {
                self.extension_mut::<FtpOptions>().server = Some(server);
                self
            }
            Err(e) => self.refuse(format!("FTP URL: {e}")),
        }
    }

    /// Also trusts the root certificates in this PEM file for the FTP
    /// server (read when an upload starts).
    pub fn ftp_ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.extension_mut::<FtpOptions>().ca_file = Some(path.into());
        self
    }

    /// Also trusts the root certificates in this PEM text for the FTP
    /// server; text without a certificate that parses makes `build()` fail.
    pub fn ftp_ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        let pem = pem.into();
        if let Err(why) = check_roots_pem(&pem) {
            return self.refuse(format!("FTP trusted roots: {why}"));
        }
        self.extension_mut::<FtpOptions>().ca_pem = Some(pem);
        self
    }

    /// The TLS versions offered to the FTP server (default: TLS 1.2 only,
    /// as ionosctl does: the data connection's session reuse fails under
    /// TLS 1.3 on some servers); a `min` over `max` makes `build()` fail.
    pub fn ftp_tls_versions(mut self, min: TlsVersion, max: TlsVersion) -> Self {
        if min > max {
            return self.refuse(format!(
                "FTP TLS versions: the lowest ({min:?}) is over the highest ({max:?})"
            ));
        }
        self.extension_mut::<FtpOptions>().tls = Some((min, max));
        self
    }
}

/// The FTP part of IONOS's environment: the login from `IONOS_USERNAME` and
/// `IONOS_PASSWORD` (whichever credential the API gets), the server from
/// [`ENV_FTP_URL`] and extra roots from [`ENV_FTP_CA_FILE`].
pub(crate) fn configure_ftp(
    mut builder: ClientBuilder<Ionos>,
    get: &dyn Fn(&str) -> Option<String>,
) -> Result<ClientBuilder<Ionos>, Error> {
    if let (Some(user), Some(password)) = (get("IONOS_USERNAME"), get("IONOS_PASSWORD")) {
        builder = builder.ftp_login(user, password);
    }
    if let Some(url) = get(ENV_FTP_URL) {
        let server = FtpServer::parse(&url).map_err(|e| Error::Config(format!("{ENV_FTP_URL}: {e}")))?;
        builder.extension_mut::<FtpOptions>().server = Some(server);
    }
    if let Some(file) = get(ENV_FTP_CA_FILE) {
        builder = builder.ftp_ca_file(file);
    }
    Ok(builder)
}

/// The FTP login: the one set for FTP, else the client's HTTP Basic pair;
/// with neither, [`Error::Config`] saying that a token cannot log in.
fn login(
    options: Option<&FtpOptions>,
    basic: Option<&BasicCredentials>,
) -> Result<(String, SecretString), Error> {
    if let Some(login) = options.and_then(|o| o.login.clone()) {
        return Ok(login);
    }
    if let Some(basic) = basic {
        return Ok((basic.username.clone(), basic.password.clone()));
    }
    Err(Error::Config(
        "an IONOS upload goes over FTPS, which needs the account's user name and password \
         (IONOS_USERNAME and IONOS_PASSWORD, or the builder's basic_auth or ftp_login); \
         a token cannot log in to FTP"
            .into(),
    ))
}

/// The FTPS settings of an upload into `location` by `client`.
fn ftp_settings(client: &Client, location: &str) -> Result<FtpsSettings, Error> {
    let transport = client.transport();
    let options = transport.extension::<FtpOptions>();
    let (user, password) = login(options, transport.extension::<BasicCredentials>())?;
    let server = match options.and_then(|o| o.server.clone()) {
        Some(server) => server,
        None => FtpServer::ftps(location_host(location)?, DEFAULT_PORT),
    };
    let (min, max) = options
        .and_then(|o| o.tls)
        .unwrap_or((TlsVersion::V1_2, TlsVersion::V1_2));
    let mut settings = FtpsSettings::new(server, user, password).with_tls_versions(min, max)?;
    if let Some(file) = options.and_then(|o| o.ca_file.as_ref()) {
        settings = settings.with_extra_roots_file(file)?;
    }
    if let Some(pem) = options.and_then(|o| o.ca_pem.as_ref()) {
        settings = settings.with_extra_roots_pem(pem)?;
    }
    Ok(settings)
}

/// How far [`Client::upload_image`] follows an upload.
///
/// ```
/// use cloud_images::ionos::UploadUntil;
///
/// assert_eq!(UploadUntil::default(), UploadUntil::Ready);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum UploadUntil {
    /// Until the file is on the FTP server; IONOS registers it later, under
    /// the file's name, and the properties are not set.
    Sent,
    /// Until IONOS lists the image; the properties change is sent, not
    /// waited for.
    Registered,
    /// Until the image is listed and its properties are set.
    #[default]
    Ready,
}

/// A local image file to upload to IONOS Cloud with [`Client::upload_image`].
///
/// The file goes to `hdd-images/` or `iso-images/` by its content (a raw
/// disk called `*.img` is a disk), named `name` with the extension of its
/// format added when missing (IONOS tells the format from it); IONOS names
/// the image after the file, so the image is renamed to `name` with the
/// other properties once it is registered.
///
/// ```
/// use std::time::Duration;
/// use cloud_images::ionos::{ImageUpload, UploadUntil, types};
///
/// let upload = ImageUpload::new("debian-13", "./debian-13.qcow2", "de/fra")
///     .with_properties(types::ImageProperties {
///         licence_type: Some("LINUX".into()),
///         cloud_init: Some("V1".into()),
///         ..Default::default()
///     })
///     .with_register_timeout(Duration::from_secs(1800))
///     .with_until(UploadUntil::Ready);
/// assert_eq!((upload.name(), upload.location()), ("debian-13", "de/fra"));
/// assert_eq!(upload.properties().cloud_init.as_deref(), Some("V1"));
/// ```
#[derive(Debug, Clone)]
pub struct ImageUpload {
    file: PathBuf,
    name: String,
    location: String,
    properties: types::ImageProperties,
    until: UploadUntil,
    register_interval: Duration,
    register_timeout: Duration,
    wait: WaitOptions,
}

impl ImageUpload {
    /// The image `name` from `file`, into `location` (`de/fra`), in the
    /// order of [`UploadRequest::new`](crate::images::UploadRequest::new).
    pub fn new(name: impl Into<String>, file: impl Into<PathBuf>, location: impl Into<String>) -> Self {
        Self {
            file: file.into(),
            name: name.into(),
            location: location.into(),
            properties: types::ImageProperties::default(),
            until: UploadUntil::Ready,
            register_interval: REGISTER_INTERVAL,
            register_timeout: REGISTER_TIMEOUT,
            wait: WaitOptions::default(),
        }
    }
    /// The properties set once the image is registered (licence type,
    /// cloud-init, description, `exposeSerial`, `requireLegacyBios`, the
    /// hot-plug flags); its `name` defaults to the upload's.
    pub fn with_properties(mut self, properties: types::ImageProperties) -> Self {
        self.properties = properties;
        self
    }
    /// How far to follow the upload (default [`UploadUntil::Ready`]).
    pub fn with_until(mut self, until: UploadUntil) -> Self {
        self.until = until;
        self
    }
    /// How often the image list is read while IONOS registers the file
    /// (default [`REGISTER_INTERVAL`]; at least
    /// [`MIN_INTERVAL`](crate::wait::MIN_INTERVAL)).
    pub fn with_register_interval(mut self, interval: Duration) -> Self {
        self.register_interval = interval;
        self
    }
    /// How long IONOS may take to register the file (default
    /// [`REGISTER_TIMEOUT`]; `Duration::MAX`: no limit).
    pub fn with_register_timeout(mut self, limit: Duration) -> Self {
        self.register_timeout = limit;
        self
    }
    /// How the properties change is waited for.
    pub fn with_wait_options(mut self, options: WaitOptions) -> Self {
        self.wait = options;
        self
    }
    /// The local file.
    pub fn file(&self) -> &Path {
        &self.file
    }
    /// The image's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The location.
    pub fn location(&self) -> &str {
        &self.location
    }
    /// The properties set once the image is registered.
    pub fn properties(&self) -> &types::ImageProperties {
        &self.properties
    }
    /// How far the upload is followed.
    pub fn until(&self) -> UploadUntil {
        self.until
    }
}

/// What [`Client::upload_image`] did.
///
/// ```
/// # async fn demo(client: &cloud_images::ionos::Client) -> Result<(), cloud_images::Error> {
/// use cloud_images::ionos::ImageUpload;
///
/// let done = client
///     .upload_image(ImageUpload::new("debian-13", "./debian-13.qcow2", "de/fra"), |p| println!("{p}"))
///     .await?;
/// println!("{} ({} bytes) is image {:?}", done.remote(), done.bytes(), done.image().map(|i| &i.id));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct UploadedImage {
    remote: String,
    bytes: u64,
    image: Option<Image>,
}

impl UploadedImage {
    /// The file's path on the FTP server (`hdd-images/debian-13.qcow2`).
    pub fn remote(&self) -> &str {
        &self.remote
    }
    /// The bytes sent.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
    /// The image, once registered ([`UploadUntil::Sent`]: none).
    pub fn image(&self) -> Option<&Image> {
        self.image.as_ref()
    }
    /// The image, once registered.
    pub fn into_image(self) -> Option<Image> {
        self.image
    }
}

impl Client {
    /// Uploads a local image file: checks its format against what IONOS
    /// takes, lists the folder and refuses a name already there, sends the
    /// file over FTPS (a cut transfer, or dropping the future, deletes the
    /// partial file, which only IONOS support could remove otherwise), waits
    /// until IONOS lists the image (every [`REGISTER_INTERVAL`], for at most
    /// [`REGISTER_TIMEOUT`], else [`Error::Timeout`]), then sets the
    /// properties and waits for that change. `progress` sees the checks
    /// ([`UploadPhase::Checking`]), the bytes sent
    /// ([`UploadPhase::Staging`]), the registration
    /// ([`UploadPhase::Registering`], [`UploadPhase::Imported`]) and the
    /// change's request ([`UploadPhase::Waiting`]).
    ///
    /// An error once the file is sent says so
    /// ([`Error::Unconfirmed`], outcome applied): IONOS registers the file
    /// whatever the client does next.
    ///
    /// The FTP client (suppaftp) writes each FTP command to the `log` crate
    /// at `trace` under the target `suppaftp`, the login's `PASS` with the
    /// password included: keep that target at `debug` or below wherever
    /// `log` records are kept.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), cloud_images::Error> {
    /// use cloud_images::ionos::{Client, ImageUpload, types};
    ///
    /// // IONOS_USERNAME and IONOS_PASSWORD (FTP takes no token); IONOS_FTP_URL, IONOS_FTP_CA_FILE
    /// let client = Client::from_env()?;
    /// let upload = ImageUpload::new("debian-13", "./debian-13.qcow2", "de/fra").with_properties(
    ///     types::ImageProperties { licence_type: Some("LINUX".into()), ..Default::default() },
    /// );
    /// let done = client.upload_image(upload, |p| eprintln!("{p}")).await?;
    /// println!("image {}", done.image().unwrap().id);
    /// # Ok(()) }
    /// ```
    pub async fn upload_image(
        &self,
        upload: ImageUpload,
        mut progress: impl FnMut(&UploadProgress) + Send,
    ) -> Result<UploadedImage, Error> {
        let mut report = |phase| progress(&UploadProgress::new(phase));
        report(UploadPhase::Checking);
        let file = LocalImage::inspect(upload.file.clone()).await?;
        send_and_register(self, &upload, &file, &mut report).await
    }
}

/// The neutral upload on IONOS: the request's OS as the licence type, its
/// description, and [`UploadUntil::Ready`] (or, not waited for,
/// [`UploadUntil::Registered`]: there is no image before). The request's
/// wait options also time the registration: the list is read every
/// `max_interval` (at most [`REGISTER_INTERVAL`]) until their `timeout`.
pub(crate) async fn direct(
    client: &Client,
    request: DirectUpload,
    report: &mut (dyn FnMut(UploadPhase) + Send),
) -> Result<Image, Error> {
    let licence_type = request.os.as_deref().map(licence_type).transpose()?;
    let upload = ImageUpload::new(request.name, request.file.path.clone(), request.region)
        .with_properties(types::ImageProperties {
            licence_type,
            description: request.description,
            ..Default::default()
        })
        .with_until(if request.wait {
            UploadUntil::Ready
        } else {
            UploadUntil::Registered
        })
        .with_register_interval(request.wait_options.max_interval().min(REGISTER_INTERVAL))
        .with_register_timeout(request.wait_options.timeout())
        .with_wait_options(request.wait_options);
    let done = send_and_register(client, &upload, &request.file, report).await?;
    done.image
        .ok_or_else(|| Error::InvalidRequest("upload: IONOS registered no image (this is a bug)".into()))
}

/// IONOS's licence type for a neutral OS word: one of [`LICENCE_TYPES`] as
/// it is (any case), else the family's (`Debian` → `LINUX`, `Windows
/// Server` → `WINDOWS`, `FreeBSD` → `OTHER`); an unknown word is
/// [`Error::InvalidRequest`] naming the licence types.
pub(crate) fn licence_type(os: &str) -> Result<String, Error> {
    let word = os.trim().to_ascii_uppercase();
    if LICENCE_TYPES.contains(&word.as_str()) {
        return Ok(word);
    }
    match OsFamily::from_word(os) {
        OsFamily::Linux => Ok("LINUX".into()),
        OsFamily::Windows => Ok("WINDOWS".into()),
        OsFamily::Bsd => Ok("OTHER".into()),
        _ => Err(Error::InvalidRequest(format!(
            "upload: `{}` is no IONOS licence type (one of {}) nor a known operating system",
            for_display(os),
            LICENCE_TYPES.join(", ")
        ))),
    }
}

/// The properties to set once the image `registered` is listed: those
/// asked, and the name asked when IONOS's (the file's) differs; none when
/// nothing would change.
fn properties_to_set(
    asked: &types::ImageProperties,
    name: &str,
    registered: &str,
) -> Option<types::ImageProperties> {
    let mut properties = asked.clone();
    if properties.name.is_none() && name != registered {
        properties.name = Some(name.to_owned());
    }
    (properties != types::ImageProperties::default()).then_some(properties)
}

/// Sends the file, then follows the upload as far as asked.
async fn send_and_register(
    client: &Client,
    upload: &ImageUpload,
    file: &LocalImage,
    report: &mut (dyn FnMut(UploadPhase) + Send),
) -> Result<UploadedImage, Error> {
    let name = upload.name.trim();
    if name.is_empty() {
        return Err(Error::InvalidRequest("upload: `name` is empty".into()));
    }
    let location = api_location(&upload.location)?;
    let location = location.as_str();
    let settings = ftp_settings(client, location)?;
    let (kind, extension) = kind_of(file.format)?;
    let remote_file = remote_name(name, extension);
    // Images of that name before the upload: the registered one is another.
    let before: HashSet<String> = if upload.until == UploadUntil::Sent {
        HashSet::new()
    } else {
        let images = client.list_images().await?.into_inner();
        same_name(&images, &remote_file, location)
            .map(|image| image.id.clone())
            .collect()
    };
    let sent = settings
        .upload(&file.path, kind.folder(), &remote_file, &mut |sent, total| {
            report(UploadPhase::Staging { sent, total })
        })
        .await?;
    let mut done = UploadedImage {
        remote: sent.remote().to_owned(),
        bytes: sent.bytes(),
        image: None,
    };
    if upload.until == UploadUntil::Sent {
        return Ok(done);
    }
    report(UploadPhase::Registering {
        path: done.remote.clone(),
    });
    let sent_file = format!("upload of {} to {}", done.remote, settings.server());
    let image = wait_registered(
        client,
        &remote_file,
        location,
        &before,
        upload.register_interval,
        upload.register_timeout,
    )
    .await
    .map_err(|e| match e {
        // The file is there: IONOS registers it whatever happens here.
        Error::Timeout {
            operation,
            limit,
            after,
            request_id,
            attempts,
            ..
        } => Error::Timeout {
            operation,
            limit,
            after,
            request_id,
            attempts,
            outcome: Outcome::Applied,
        },
        e => Unconfirmed::done(&sent_file, "the image list, until IONOS registers the file", e).into(),
    })?;
    report(UploadPhase::Imported { id: image.id.clone() });
    let Some(properties) = properties_to_set(&upload.properties, name, &remote_file) else {
        done.image = Some(image);
        return Ok(done);
    };
    let id = image.id.clone();
    let set = match upload.until {
        UploadUntil::Ready => {
            let mut on_wait = |p: &Progress| report(UploadPhase::Waiting(Some(p.clone())));
            client
                .update_image_reporting(&id, properties, upload.wait, &mut on_wait)
                .await
        }
        _ => client
            .images_patch()
            .image_id(&id)
            .body(properties)
            .execute()
            .await
            .map(|_| image),
    };
    done.image = Some(set.map_err(|e| {
        Error::from(Unconfirmed::done(
            format!("upload of image {id} ({})", done.remote),
            format!(
                "image {id}: setting its name and properties failed, so they may not be set; check the image"
            ),
            e,
        ))
    })?);
    Ok(done)
}

/// The account's images called `name` in `location`.
fn same_name<'a>(
    images: &'a [types::Image],
    name: &'a str,
    location: &'a str,
) -> impl Iterator<Item = &'a types::Image> + 'a {
    images.iter().filter(move |image| {
        image.properties.as_ref().is_some_and(|p| {
            p.public != Some(true)
                && p.name.as_deref() == Some(name)
                && p.location
                    .as_deref()
                    .is_some_and(|l| l.eq_ignore_ascii_case(location))
        })
    })
}

/// The account's image called `name` in `location` that was not there
/// before (its id not in `before`), when the list has it.
fn registered<'a>(
    images: &'a [types::Image],
    name: &'a str,
    location: &'a str,
    before: &HashSet<String>,
) -> Option<&'a types::Image> {
    same_name(images, name, location).find(|image| !before.contains(&image.id))
}

/// Reads the image list every `interval` until a new image `name` in
/// `location` is there, through the crate's one wait
/// ([`wait::until`](crate::ops::wait::until)); [`Error::Timeout`] (wait)
/// after `limit`.
async fn wait_registered(
    client: &Client,
    name: &str,
    location: &str,
    before: &HashSet<String>,
    interval: Duration,
    limit: Duration,
) -> Result<types::Image, Error> {
    let what = format!("the registration of the uploaded file {name} in {location} (the file was sent)");
    let poll = || client.images_get().depth(super::LIST_DEPTH).execute();
    let accept = |found: types::Images| {
        let images = found.items.unwrap_or_default();
        match registered(&images, name, location, before) {
            Some(image) => State::Ready(image.clone()),
            None => State::Pending(Progress::default()),
        }
    };
    let options = WaitOptions::new(interval, interval, limit);
    wait::until(&what, name, options, poll, accept, |_| {}).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(id: &str, name: &str, location: &str, public: bool) -> types::Image {
        serde_json::from_value(serde_json::json!({
            "id": id,
            "properties": {"name": name, "location": location, "public": public},
        }))
        .unwrap()
    }

    #[test]
    fn the_ftp_login_is_the_one_set_else_the_basic_pair_never_a_token() {
        use secrecy::ExposeSecret;
        let set = FtpOptions {
            login: Some(("ftp-user".into(), SecretString::from("p1".to_owned()))),
            ..Default::default()
        };
        let basic = BasicCredentials {
            username: "api-user".into(),
            password: SecretString::from("p2".to_owned()),
        };
        let (user, password) = login(Some(&set), Some(&basic)).unwrap();
        assert_eq!((user.as_str(), password.expose_secret()), ("ftp-user", "p1"));
        let (user, _) = login(Some(&FtpOptions::default()), Some(&basic)).unwrap();
        assert_eq!(user, "api-user");
        let e = login(None, None).unwrap_err();
        assert!(matches!(e, Error::Config(_)), "{e}");
        assert!(e.to_string().contains("a token cannot log in to FTP"), "{e}");
        assert!(!format!("{set:?}").contains("p1"));
    }

    #[test]
    fn the_environment_gives_the_login_server_and_roots() {
        let vars = |name: &str| match name {
            "IONOS_TOKEN" => Some("t".to_owned()),
            "IONOS_USERNAME" => Some("me@example.com".to_owned()),
            "IONOS_PASSWORD" => Some("s3cret".to_owned()),
            ENV_FTP_URL => Some("ftps://127.0.0.1:2121".to_owned()),
            _ => None,
        };
        let client = ClientBuilder::<Ionos>::from_lookup(vars)
            .unwrap()
            .build()
            .unwrap();
        let settings = ftp_settings(&client, "de/fra").unwrap();
        assert_eq!(settings.server().to_string(), "ftps://127.0.0.1:2121");
        assert_eq!(settings.user(), "me@example.com");
        assert_eq!(settings.tls_versions(), (TlsVersion::V1_2, TlsVersion::V1_2));

        let plain = |name: &str| match name {
            "IONOS_TOKEN" => Some("t".to_owned()),
            ENV_FTP_URL => Some("ftp://ftp.example.com".to_owned()),
            _ => None,
        };
        let e = ClientBuilder::<Ionos>::from_lookup(plain).unwrap_err();
        assert!(
            e.to_string().contains(ENV_FTP_URL) && e.to_string().contains("loopback"),
            "{e}"
        );

        let token = |name: &str| (name == "IONOS_TOKEN").then(|| "t".to_owned());
        let client = ClientBuilder::<Ionos>::from_lookup(token)
            .unwrap()
            .build()
            .unwrap();
        let e = ftp_settings(&client, "de/fra").unwrap_err();
        assert!(e.to_string().contains("a token cannot log in to FTP"), "{e}");

        let basic = Client::builder().basic_auth("u", "p").build().unwrap();
        let settings = ftp_settings(&basic, "de/fra/2").unwrap();
        assert_eq!(settings.server().to_string(), "ftps://ftp-fra-2.ionos.com:21");
        // A token set after basic_auth replaces it: no FTP login left.
        let replaced = Client::builder()
            .basic_auth("u", "p")
            .bearer_token("t")
            .build()
            .unwrap();
        assert!(ftp_settings(&replaced, "de/fra").is_err());
    }

    #[test]
    fn an_os_word_becomes_a_licence_type() {
        assert_eq!(licence_type("linux").unwrap(), "LINUX");
        assert_eq!(licence_type("WINDOWS2022").unwrap(), "WINDOWS2022");
        assert_eq!(licence_type("Debian").unwrap(), "LINUX");
        assert_eq!(licence_type("Windows Server").unwrap(), "WINDOWS");
        assert_eq!(licence_type("FreeBSD").unwrap(), "OTHER");
        let e = licence_type("Plan 9").unwrap_err();
        assert!(e.is_invalid_request() && e.to_string().contains("LINUX"), "{e}");
    }

    #[test]
    fn the_name_asked_is_set_when_the_files_differs() {
        let none = types::ImageProperties::default();
        assert_eq!(
            properties_to_set(&none, "debian-13.qcow2", "debian-13.qcow2"),
            None
        );
        let renamed = properties_to_set(&none, "debian-13", "debian-13.qcow2").unwrap();
        assert_eq!(renamed.name.as_deref(), Some("debian-13"));
        let asked = types::ImageProperties {
            name: Some("golden".into()),
            cloud_init: Some("V1".into()),
            ..Default::default()
        };
        assert_eq!(
            properties_to_set(&asked, "debian-13", "debian-13.qcow2"),
            Some(asked)
        );
    }

    #[test]
    fn the_registered_image_is_a_new_private_one_of_that_name_and_location() {
        let images = [
            image("old", "d.qcow2", "de/fra", false),
            image("public", "d.qcow2", "de/fra", true),
            image("elsewhere", "d.qcow2", "us/las", false),
            image("new", "d.qcow2", "DE/FRA", false),
        ];
        let before: HashSet<String> = ["old".to_owned()].into();
        let found = registered(&images, "d.qcow2", "de/fra", &before).unwrap();
        assert_eq!(found.id, "new");
        assert!(registered(&images[..3], "d.qcow2", "de/fra", &before).is_none());
    }
}
