//! Sending a file to an FTP server over explicit TLS (FTPS, `AUTH TLS` on
//! the control connection, protected passive data connections), as clouds
//! that take an image file by FTP want it: [`FtpsSettings::upload`].
//!
//! Provider-neutral: a provider says which server, folder and name.
//! Before a byte is sent the folder is listed and a name already there is
//! refused; the file is streamed from disk in constant memory with a byte
//! count after each chunk; a transfer that fails, or whose future is
//! dropped midway, has its partial file deleted (a closed data connection
//! looks like the end of the file to the server). Every step is bounded in
//! time.
//!
//! suppaftp, which speaks FTP here, writes each command to the `log` crate
//! at `trace` under the target `suppaftp`, the login's `PASS` with the
//! password included: keep that target at `debug` or below wherever `log`
//! records are kept (`RUST_LOG=trace,suppaftp=debug`).

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use secrecy::{ExposeSecret, SecretString};
use suppaftp::FtpError;
use suppaftp::tokio::{AsyncDataStream as DataStream, AsyncRustlsConnector, AsyncRustlsFtpStream};
use suppaftp::types::FileType;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::values::error::{Error, Outcome, TimeoutKind, Unconfirmed};
use crate::values::text::for_display;

/// The port of explicit FTPS (and plain FTP) unless a URL names another.
pub const DEFAULT_PORT: u16 = 21;

/// How long connecting (TCP, the greeting, TLS, login) may take unless set.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// How long one command's answer, or one chunk of the file, may take
/// unless set: a stalled transfer ends after this much silence.
pub const DEFAULT_IO_TIMEOUT: Duration = Duration::from_secs(60);

/// How many bytes are read from the file and written at a time.
const CHUNK: usize = 256 * 1024;

/// A TLS protocol version, for [`FtpsSettings::with_tls_versions`].
///
/// ```
/// use cloud_images::ftps::TlsVersion;
///
/// assert!(TlsVersion::V1_2 < TlsVersion::V1_3);
/// assert_eq!(TlsVersion::V1_2.to_string(), "TLS 1.2");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum TlsVersion {
    /// TLS 1.2.
    V1_2,
    /// TLS 1.3.
    V1_3,
}

impl TlsVersion {
    fn rustls(self) -> &'static rustls::SupportedProtocolVersion {
        match self {
            TlsVersion::V1_2 => &rustls::version::TLS12,
            TlsVersion::V1_3 => &rustls::version::TLS13,
        }
    }

    fn from_rustls(version: rustls::ProtocolVersion) -> Option<Self> {
        match version {
            rustls::ProtocolVersion::TLSv1_2 => Some(TlsVersion::V1_2),
            rustls::ProtocolVersion::TLSv1_3 => Some(TlsVersion::V1_3),
            _ => None,
        }
    }
}

impl fmt::Display for TlsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TlsVersion::V1_2 => "TLS 1.2",
            TlsVersion::V1_3 => "TLS 1.3",
        })
    }
}

/// An FTP server: `ftps://host[:port]` (explicit TLS, port 21 unless
/// given), or plain `ftp://` to a loopback address only (nothing else may
/// carry a password in the clear).
///
/// ```
/// use cloud_images::ftps::FtpServer;
///
/// let server = FtpServer::parse("ftps://ftp.example.com")?;
/// assert_eq!((server.host(), server.port(), server.is_tls()), ("ftp.example.com", 21, true));
/// assert_eq!(FtpServer::parse("ftp://127.0.0.1:2121")?.to_string(), "ftp://127.0.0.1:2121");
/// assert!(FtpServer::parse("ftp://ftp.example.com").unwrap_err().is_invalid_request());
/// # Ok::<(), cloud_images::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FtpServer {
    host: String,
    port: u16,
    tls: bool,
}

impl FtpServer {
    /// The FTPS server `host` on `port`.
    pub fn ftps(host: impl Into<String>, port: u16) -> Self {
        Self {
            host: host.into(),
            port,
            tls: true,
        }
    }

    /// `ftps://host[:port]`, or `ftp://` to a loopback address; a path other
    /// than `/`, user information, a query or another scheme is refused
    /// ([`Error::InvalidRequest`] naming what is wrong).
    pub fn parse(url: &str) -> Result<Self, Error> {
        // Text that does not parse is not shown: it may hold a password
        // where no rule can find it.
        let mut parsed = reqwest::Url::parse(url.trim())
            .map_err(|e| Error::InvalidRequest(format!("FTP server URL: not a URL ({e})")))?;
        let credentials = !parsed.username().is_empty() || parsed.password().is_some();
        let _ = parsed.set_username("");
        let _ = parsed.set_password(None);
        let shown = parsed.to_string();
        let bad =
            |why: String| Error::InvalidRequest(format!("FTP server `{}`: {why}", shown.escape_debug()));
        let tls = match parsed.scheme() {
            "ftps" => true,
            "ftp" => false,
            other => return Err(bad(format!("the scheme is {other}; write ftps://host[:port]"))),
        };
        if credentials {
            return Err(bad(
                "has user information; give the user and password apart".into()
            ));
        }
        if !matches!(parsed.path(), "" | "/") || parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(bad(
                "has a path, query or fragment; write ftps://host[:port]".into()
            ));
        }
        let host = parsed
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| bad("names no host".into()))?;
        if !tls && !crate::values::url::is_loopback(&parsed) {
            return Err(bad(
                "plain ftp:// is allowed only to a loopback address (the password would cross the network in the clear); use ftps://".into(),
            ));
        }
        Ok(Self {
            host: host.trim_start_matches('[').trim_end_matches(']').to_owned(),
            port: parsed.port().unwrap_or(DEFAULT_PORT),
            tls,
        })
    }

    /// The host name or address.
    pub fn host(&self) -> &str {
        &self.host
    }
    /// The control connection's port.
    pub fn port(&self) -> u16 {
        self.port
    }
    /// Whether the connection is secured with TLS (`ftps://`).
    pub fn is_tls(&self) -> bool {
        self.tls
    }
}

impl fmt::Display for FtpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "ftps" } else { "ftp" };
        if self.host.contains(':') {
            write!(f, "{scheme}://[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{scheme}://{}:{}", self.host, self.port)
        }
    }
}

/// How to reach an FTP server and send a file to it: the server, the login,
/// the TLS versions (TLS 1.2 only unless set: servers whose data connections
/// must resume the control connection's TLS session often fail that under
/// TLS 1.3), extra trusted roots beside the platform's, and time limits.
/// `Debug` never shows the password.
///
/// ```
/// use cloud_images::ftps::{FtpServer, FtpsSettings, TlsVersion};
///
/// let settings = FtpsSettings::new(FtpServer::ftps("ftp.example.com", 21), "user", "secret")
///     .with_tls_versions(TlsVersion::V1_2, TlsVersion::V1_3)?;
/// assert_eq!(settings.tls_versions(), (TlsVersion::V1_2, TlsVersion::V1_3));
/// assert!(!format!("{settings:?}").contains("secret"));
/// # Ok::<(), cloud_images::Error>(())
/// ```
#[derive(Clone)]
pub struct FtpsSettings {
    server: FtpServer,
    user: String,
    password: SecretString,
    min_tls: TlsVersion,
    max_tls: TlsVersion,
    extra_roots: Vec<CertificateDer<'static>>,
    connect_timeout: Duration,
    io_timeout: Duration,
}

impl fmt::Debug for FtpsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FtpsSettings")
            .field("server", &self.server.to_string())
            .field("user", &self.user)
            .field("password", &"[redacted]")
            .field("tls", &(self.min_tls, self.max_tls))
            .field("extra_roots", &self.extra_roots.len())
            .field("connect_timeout", &self.connect_timeout)
            .field("io_timeout", &self.io_timeout)
            .finish()
    }
}

impl FtpsSettings {
    /// Log in to `server` as `user` with `password`.
    pub fn new(server: FtpServer, user: impl Into<String>, password: impl Into<SecretString>) -> Self {
        Self {
            server,
            user: user.into(),
            password: password.into(),
            min_tls: TlsVersion::V1_2,
            max_tls: TlsVersion::V1_2,
            extra_roots: Vec::new(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            io_timeout: DEFAULT_IO_TIMEOUT,
        }
    }

    /// The TLS versions offered, from `min` to `max` (TLS 1.2 only unless
    /// set); `min` above `max` is [`Error::InvalidRequest`].
    pub fn with_tls_versions(mut self, min: TlsVersion, max: TlsVersion) -> Result<Self, Error> {
        if min > max {
            return Err(Error::InvalidRequest(format!(
                "FTPS: the lowest TLS version ({min}) is above the highest ({max})"
            )));
        }
        (self.min_tls, self.max_tls) = (min, max);
        Ok(self)
    }

    /// Also trusts the certificates in `pem` (one or more `CERTIFICATE`
    /// blocks), beside the platform's roots; none found, or a block that
    /// does not parse, is [`Error::Config`].
    pub fn with_extra_roots_pem(mut self, pem: &[u8]) -> Result<Self, Error> {
        let roots = parse_roots(pem).map_err(|why| Error::Config(format!("FTPS trusted roots: {why}")))?;
        self.extra_roots.extend(roots);
        Ok(self)
    }

    /// [`with_extra_roots_pem`](Self::with_extra_roots_pem) from a file;
    /// a file that cannot be read is [`Error::Config`] naming it.
    pub fn with_extra_roots_file(self, path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let pem = std::fs::read(path).map_err(|e| {
            Error::Config(format!(
                "FTPS trusted roots: cannot read `{}`: {e}",
                path.display()
            ))
        })?;
        self.with_extra_roots_pem(&pem)
            .map_err(|e| Error::Config(format!("{} (in `{}`)", e, path.display())))
    }

    /// How long connecting, the TLS handshake and the login may take.
    pub fn with_connect_timeout(mut self, limit: Duration) -> Self {
        self.connect_timeout = limit;
        self
    }

    /// How long one command's answer or one chunk of the file may take.
    pub fn with_io_timeout(mut self, limit: Duration) -> Self {
        self.io_timeout = limit;
        self
    }

    /// The server.
    pub fn server(&self) -> &FtpServer {
        &self.server
    }
    /// The user name.
    pub fn user(&self) -> &str {
        &self.user
    }
    /// The lowest and highest TLS version offered.
    pub fn tls_versions(&self) -> (TlsVersion, TlsVersion) {
        (self.min_tls, self.max_tls)
    }

    /// The names in `folder` (its `LIST`, one entry a line).
    pub async fn list(&self, folder: &str) -> Result<Vec<String>, Error> {
        check_path(folder)?;
        let mut session = self.connect().await?;
        let names = session.list(folder).await;
        session.quit().await;
        names
    }

    /// Sends the local file `file` to `folder/name`: lists `folder` and
    /// refuses a `name` already there ([`Error::InvalidRequest`], nothing
    /// sent), then streams the file with `STOR`, calling `progress` with the
    /// bytes sent so far and the file's length. A failure midway, or
    /// dropping the returned future, deletes the partial file; one that
    /// could not be deleted is [`Error::Unconfirmed`] (the server may take
    /// it for a whole file) naming it.
    pub async fn upload(
        &self,
        file: &Path,
        folder: &str,
        name: &str,
        progress: &mut (dyn FnMut(u64, u64) + Send),
    ) -> Result<FtpsUploaded, Error> {
        let remote = remote_path(folder, name)?;
        let mut local = tokio::fs::File::open(file).await.map_err(|e| {
            Error::InvalidRequest(format!(
                "upload: cannot read `{}`: {e}",
                for_display(&file.display().to_string())
            ))
        })?;
        let total = local
            .metadata()
            .await
            .map_err(|e| {
                Error::InvalidRequest(format!(
                    "upload: cannot read `{}`: {e}",
                    for_display(&file.display().to_string())
                ))
            })?
            .len();
        let mut session = self.connect().await?;
        let existing = session.list(folder).await?;
        if existing.iter().any(|n| n == name) {
            session.quit().await;
            return Err(Error::InvalidRequest(format!(
                "upload: `{}` already exists on {}; choose another name (the server does not replace a file)",
                for_display(&remote),
                self.server
            )));
        }
        let mut guard = PartialFile {
            settings: Some(self.clone()),
            remote: remote.clone(),
        };
        match session.send(&remote, &mut local, total, progress).await {
            Ok(tls_version) => {
                guard.settings = None;
                session.quit().await;
                Ok(FtpsUploaded {
                    remote,
                    bytes: total,
                    tls_version,
                })
            }
            Err((e, false)) => {
                guard.settings = None;
                session.quit().await;
                Err(e)
            }
            Err((e, true)) => {
                // The guard stays armed while the partial file is deleted
                // here: dropped meanwhile, it deletes it from a task.
                let cleanup = match session.remove(&remote).await {
                    Ok(()) => Ok(()),
                    // The control connection may be gone with the data
                    // connection: a new one.
                    Err(_) => self.remove(&remote).await,
                };
                guard.settings = None;
                Err(match cleanup {
                    Ok(()) => e,
                    // A file is left on the server, which may take it for
                    // a whole one: the upload may have had an effect.
                    Err(left) => Error::from(Unconfirmed::new(
                        format!("upload of {remote} to {}", self.server),
                        format!(
                            "{remote} on {}, which could not be deleted: delete it",
                            self.server
                        ),
                        staging_error(
                            format!("{} STOR {remote}", self.server),
                            Leftover {
                                cause: e,
                                cleanup: left.to_string(),
                            },
                        ),
                    )),
                })
            }
        }
    }

    /// Deletes `path` on the server.
    pub async fn remove(&self, path: &str) -> Result<(), Error> {
        check_path(path)?;
        let mut session = self.connect().await?;
        let done = session.remove(path).await;
        session.quit().await;
        done
    }

    fn client_config(&self) -> Result<Arc<rustls::ClientConfig>, Error> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let versions: Vec<&'static rustls::SupportedProtocolVersion> = [TlsVersion::V1_2, TlsVersion::V1_3]
            .into_iter()
            .filter(|v| (self.min_tls..=self.max_tls).contains(v))
            .map(TlsVersion::rustls)
            .collect();
        let tls_error = |e: rustls::Error| Error::Config(format!("FTPS: cannot set up TLS: {e}"));
        let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(
            self.extra_roots.clone(),
            provider.clone(),
        )
        .map_err(tls_error)?;
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&versions)
            .map_err(tls_error)?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        Ok(Arc::new(config))
    }

    /// Connects, secures the control connection, logs in and selects binary
    /// transfers, within the connect limit.
    async fn connect(&self) -> Result<Session, Error> {
        let operation = format!("{} login", self.server);
        let limit = self.connect_timeout;
        let config = if self.server.tls {
            Some(self.client_config()?)
        } else {
            None
        };
        let connecting = async {
            let address = (self.server.host.as_str(), self.server.port);
            let tcp = tokio::net::TcpStream::connect(address)
                .await
                .map_err(|e| staging_error(format!("{} connect", self.server), e))?;
            let _ = tcp.set_nodelay(true);
            let ftp_error = |e: FtpError| staging_error(operation.clone(), e);
            let mut stream = AsyncRustlsFtpStream::connect_with_stream(tcp)
                .await
                .map_err(ftp_error)?;
            if let Some(config) = config {
                let connector = AsyncRustlsConnector::from(tokio_rustls::TlsConnector::from(config));
                stream = stream
                    .into_secure(connector, &self.server.host)
                    .await
                    .map_err(ftp_error)?;
            }
            stream
                .login(self.user.as_str(), self.password.expose_secret())
                .await
                .map_err(|e| match e {
                    FtpError::UnexpectedResponse(ref answer) => Error::Auth(format!(
                        "{} refused the login of `{}`: {}",
                        self.server,
                        self.user,
                        for_display(String::from_utf8_lossy(&answer.body).trim())
                    )),
                    other => ftp_error(other),
                })?;
            stream.transfer_type(FileType::Binary).await.map_err(ftp_error)?;
            Ok::<_, Error>(stream)
        };
        let stream = tokio::time::timeout(limit, connecting)
            .await
            .map_err(|_| timeout(&operation, TimeoutKind::Connect, limit, Outcome::NotApplied))??;
        Ok(Session {
            stream,
            server: self.server.to_string(),
            limit: self.io_timeout,
        })
    }
}

/// What [`FtpsSettings::upload`] sent.
///
/// ```
/// # fn demo(sent: cloud_images::ftps::FtpsUploaded) {
/// println!("{} bytes to {} over {:?}", sent.bytes(), sent.remote(), sent.tls_version());
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FtpsUploaded {
    remote: String,
    bytes: u64,
    tls_version: Option<TlsVersion>,
}

impl FtpsUploaded {
    /// Where the file went: `folder/name`.
    pub fn remote(&self) -> &str {
        &self.remote
    }
    /// How many bytes were sent.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
    /// The TLS version the data connection negotiated (`None`: plain FTP).
    pub fn tls_version(&self) -> Option<TlsVersion> {
        self.tls_version
    }
}

/// A logged-in control connection.
struct Session {
    stream: AsyncRustlsFtpStream,
    server: String,
    limit: Duration,
}

impl Session {
    async fn list(&mut self, folder: &str) -> Result<Vec<String>, Error> {
        let limit = self.limit;
        let operation = format!("LIST {folder}");
        let server = self.server.clone();
        let lines = match tokio::time::timeout(limit, self.stream.list(Some(folder))).await {
            Ok(done) => done.map_err(|e| staging_error(format!("{server} {operation}"), e))?,
            Err(_) => {
                return Err(timeout(
                    &format!("{server} {operation}"),
                    TimeoutKind::Attempt,
                    limit,
                    Outcome::NotApplied,
                ));
            }
        };
        Ok(lines.iter().filter_map(|line| listed_name(line)).collect())
    }

    async fn remove(&mut self, path: &str) -> Result<(), Error> {
        let limit = self.limit;
        let operation = format!("{} DELE {path}", self.server);
        match tokio::time::timeout(limit, self.stream.rm(path)).await {
            Ok(done) => done.map_err(|e| staging_error(operation, e)),
            Err(_) => Err(timeout(
                &operation,
                TimeoutKind::Attempt,
                limit,
                Outcome::MaybeApplied,
            )),
        }
    }

    /// Streams `file` (`total` bytes) to `remote`; the data connection's TLS
    /// version.
    /// Streams `file` (`total` bytes) to `remote`; the data connection's TLS
    /// version. An error says whether the server may hold a partial file of
    /// ours: not when it refused the `STOR` (the name may be someone else's,
    /// stored between the listing and now).
    async fn send(
        &mut self,
        remote: &str,
        file: &mut tokio::fs::File,
        total: u64,
        progress: &mut (dyn FnMut(u64, u64) + Send),
    ) -> Result<Option<TlsVersion>, (Error, bool)> {
        let limit = self.limit;
        let operation = format!("{} STOR {remote}", self.server);
        let step_timeout = || {
            (
                timeout(&operation, TimeoutKind::Attempt, limit, Outcome::MaybeApplied),
                true,
            )
        };
        let failed = |e: std::io::Error| (staging_error(operation.clone(), e), true);
        let mut data = match tokio::time::timeout(limit, self.stream.put_with_stream(remote)).await {
            Err(_) => return Err(step_timeout()),
            Ok(Err(e @ FtpError::UnexpectedResponse(_))) => {
                return Err((staging_error(operation.clone(), e), false));
            }
            Ok(Err(e)) => return Err((staging_error(operation.clone(), e), true)),
            Ok(Ok(data)) => data,
        };
        let tls_version = match data.get_mut() {
            DataStream::Ssl(tls) => {
                use suppaftp::tokio::TokioTlsStream;
                tls.mut_ref()
                    .get_ref()
                    .1
                    .protocol_version()
                    .and_then(TlsVersion::from_rustls)
            }
            DataStream::Tcp(_) => None,
        };
        let mut buffer = vec![0u8; CHUNK];
        let mut sent = 0u64;
        progress(0, total);
        while sent < total {
            let n = file.read(&mut buffer).await.map_err(failed)?;
            if n == 0 {
                return Err((
                    Error::InvalidRequest(format!(
                        "upload: the file became shorter while it was sent ({sent} of {total} bytes)"
                    )),
                    true,
                ));
            }
            tokio::time::timeout(limit, data.write_all(&buffer[..n]))
                .await
                .map_err(|_| step_timeout())?
                .map_err(failed)?;
            sent += n as u64;
            progress(sent, total);
        }
        tokio::time::timeout(limit, data.flush())
            .await
            .map_err(|_| step_timeout())?
            .map_err(failed)?;
        tokio::time::timeout(limit, data.finish())
            .await
            .map_err(|_| step_timeout())?
            .map_err(|e| (staging_error(operation.clone(), e), true))?;
        Ok(tls_version)
    }

    async fn quit(mut self) {
        let _ = tokio::time::timeout(self.limit, self.stream.quit()).await;
    }
}

/// Deletes the partial file when the upload's future is dropped midway: a
/// task on the current Tokio runtime connects anew and deletes it, within
/// the settings' time limits.
struct PartialFile {
    settings: Option<FtpsSettings>,
    remote: String,
}

impl Drop for PartialFile {
    fn drop(&mut self) {
        let Some(settings) = self.settings.take() else {
            return;
        };
        let remote = std::mem::take(&mut self.remote);
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    if let Err(e) = settings.remove(&remote).await {
                        tracing::warn!(target: "cloud_images::ftps", "the partial file {remote} was not deleted: {e}");
                    }
                });
            }
            Err(_) => {
                tracing::warn!(target: "cloud_images::ftps", "the partial file {remote} was not deleted: no Tokio runtime");
            }
        }
    }
}

/// A failed transfer whose partial file could not be deleted either: the
/// transfer's error (kept as the source) and the delete's.
#[derive(Debug)]
struct Leftover {
    cause: Error,
    cleanup: String,
}

impl fmt::Display for Leftover {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}; the partial file was not deleted either: {}",
            self.cause, self.cleanup
        )
    }
}

impl std::error::Error for Leftover {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.cause)
    }
}

fn staging_error(operation: String, e: impl std::error::Error + Send + Sync + 'static) -> Error {
    crate::ops::staging::staging_error(operation, e)
}

fn timeout(operation: &str, limit: TimeoutKind, after: Duration, outcome: Outcome) -> Error {
    Error::Timeout {
        operation: operation.to_owned(),
        limit,
        after,
        request_id: None,
        attempts: 1,
        outcome,
    }
}

/// The certificates in `pem`: at least one, each parsing.
/// Whether `pem` holds one or more certificates that parse, as
/// [`FtpsSettings::with_extra_roots_pem`] needs; why not otherwise.
pub(crate) fn check_roots_pem(pem: &[u8]) -> Result<(), String> {
    parse_roots(pem).map(drop)
}

fn parse_roots(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let roots = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("a certificate does not parse: {e}"))?;
    if roots.is_empty() {
        return Err("no CERTIFICATE block found".into());
    }
    Ok(roots)
}

/// Refuses a path that would end the FTP command it goes into (a line
/// break or NUL would start a command of its own).
fn check_path(path: &str) -> Result<(), Error> {
    if path.contains(['\r', '\n', '\0']) {
        return Err(Error::InvalidRequest(format!(
            "ftps: `{}` holds a line break or NUL, which no FTP path may",
            path.escape_debug()
        )));
    }
    Ok(())
}

/// `folder/name`, refusing a name that would leave the folder or is empty.
fn remote_path(folder: &str, name: &str) -> Result<String, Error> {
    check_path(folder)?;
    if name.is_empty() || name.contains(['/', '\\', '\r', '\n']) || name == "." || name == ".." {
        return Err(Error::InvalidRequest(format!(
            "upload: `{}` is not a file name (no slashes, line breaks, `.` or `..`)",
            name.escape_debug()
        )));
    }
    let folder = folder.trim_matches('/');
    Ok(if folder.is_empty() {
        name.to_owned()
    } else {
        format!("{folder}/{name}")
    })
}

/// The file name in one `LIST` line: a Unix or DOS listing's last field,
/// without a folder in front; `.`, `..` and a `total` line are none.
fn listed_name(line: &str) -> Option<String> {
    let name = match suppaftp::list::File::try_from(line) {
        Ok(file) => file.name().to_owned(),
        Err(_) => line.split_whitespace().last()?.to_owned(),
    };
    let name = name.rsplit('/').next().unwrap_or(&name).to_owned();
    (!name.is_empty() && name != "." && name != ".." && !line.starts_with("total ")).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_with_a_line_break_or_nul_is_refused() {
        for bad in ["a\r\nDELE x", "a\nb", "a\0"] {
            assert!(check_path(bad).is_err(), "{bad:?}");
            assert!(remote_path(bad, "x.qcow2").is_err(), "{bad:?}");
        }
        assert!(check_path("hdd-images/x.qcow2").is_ok());
    }

    #[test]
    fn ftps_to_any_host_plain_ftp_only_to_loopback() {
        let s = FtpServer::parse("ftps://ftp-fra.example.com").unwrap();
        assert_eq!(
            (s.host(), s.port(), s.is_tls()),
            ("ftp-fra.example.com", 21, true)
        );
        assert_eq!(FtpServer::parse("ftps://h:990/").unwrap().port(), 990);
        for ok in ["ftp://127.0.0.1:2121", "ftp://localhost", "ftp://[::1]:21"] {
            let s = FtpServer::parse(ok).unwrap();
            assert!(!s.is_tls(), "{ok}");
        }
        assert_eq!(
            FtpServer::parse("ftp://[::1]:21").unwrap().to_string(),
            "ftp://[::1]:21"
        );
        for bad in [
            "ftp://ftp.example.com",
            "ftp://10.0.0.1",
            "https://h",
            "ftps://",
            "ftps://h/folder",
            "ftps://u:p@h",
            "ftps://h?x=1",
            "not a url",
        ] {
            let e = FtpServer::parse(bad).unwrap_err();
            assert!(e.is_invalid_request(), "{bad}: {e}");
        }
        let e = FtpServer::parse("ftps://user:hunter2@h").unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
        let e = FtpServer::parse("ftp://ftp.example.com").unwrap_err();
        assert!(e.to_string().contains("loopback"), "{e}");
    }

    #[test]
    fn tls_defaults_to_1_2_only_and_a_reversed_range_is_refused() {
        let s = FtpsSettings::new(FtpServer::ftps("h", 21), "u", "p");
        assert_eq!(s.tls_versions(), (TlsVersion::V1_2, TlsVersion::V1_2));
        assert!(
            s.clone()
                .with_tls_versions(TlsVersion::V1_3, TlsVersion::V1_2)
                .is_err()
        );
        let s = s.with_tls_versions(TlsVersion::V1_3, TlsVersion::V1_3).unwrap();
        assert!(s.client_config().is_ok());
    }

    #[test]
    fn roots_need_a_certificate_block() {
        assert!(parse_roots(b"").is_err());
        assert!(parse_roots(b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n").is_err());
        let e = FtpsSettings::new(FtpServer::ftps("h", 21), "u", "p")
            .with_extra_roots_file("/nonexistent/ca.pem")
            .unwrap_err();
        assert!(matches!(e, Error::Config(_)), "{e}");
    }

    #[test]
    fn a_remote_name_stays_in_its_folder() {
        assert_eq!(
            remote_path("hdd-images/", "a.qcow2").unwrap(),
            "hdd-images/a.qcow2"
        );
        assert_eq!(remote_path("", "a.iso").unwrap(), "a.iso");
        for bad in ["", "..", ".", "../x", "a/b", "a\r\nDELE x"] {
            assert!(remote_path("hdd-images", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn list_lines_give_their_names() {
        assert_eq!(
            listed_name("-rw-r--r--    1 ftp      ftp       1048576 Oct 01 08:30 golden-0.qcow2").as_deref(),
            Some("golden-0.qcow2")
        );
        assert_eq!(
            listed_name("10-01-26  08:30AM              1048576 disk.raw").as_deref(),
            Some("disk.raw")
        );
        assert_eq!(listed_name("hdd-images/plain.iso").as_deref(), Some("plain.iso"));
        assert_eq!(listed_name("total 8"), None);
        assert_eq!(listed_name(""), None);
    }
}
