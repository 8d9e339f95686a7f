//! An FTPS server on loopback: [`FakeFtps`], libunftp over its folder
//! store, with a test certificate made at start.

use std::collections::BTreeMap;
use std::fmt::{self, Debug};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use async_trait::async_trait;
use libunftp::options::{FtpsRequired, TlsFlags};
use tokio::io::{AsyncRead, ReadBuf};
use unftp_core::auth::{AuthenticationError, Authenticator, Credentials, DefaultUser, Principal};
use unftp_core::storage::{self, Fileinfo, StorageBackend};
use unftp_sbe_fs::Filesystem;

use super::harness::lock;

/// The folders every fake starts with.
const FOLDERS: [&str; 2] = ["hdd-images", "iso-images"];

/// How [`FakeFtps`] behaves.
///
/// ```
/// use cloud_images::testing::ftps::Config;
///
/// let config = Config::default().with_login("me", "pw").with_tls_1_3(false);
/// assert_eq!(config.user, "me");
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// The user name accepted (default `ftp-user@example.com`).
    pub user: String,
    /// The password accepted (default `ftp-demo-password`).
    pub password: String,
    /// Whether TLS 1.3 is offered beside TLS 1.2 (default `true`, so that a
    /// client that gets TLS 1.2 asked for it).
    pub tls_1_3: bool,
    /// Whether plain FTP (without `AUTH TLS`) is served (default `false`).
    pub plain: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            user: "ftp-user@example.com".into(),
            password: "ftp-demo-password".into(),
            tls_1_3: true,
            plain: false,
        }
    }
}

impl Config {
    /// The user name and password accepted.
    pub fn with_login(mut self, user: &str, password: &str) -> Self {
        self.user = user.into();
        self.password = password.into();
        self
    }
    /// Whether TLS 1.3 is offered beside TLS 1.2.
    pub fn with_tls_1_3(mut self, offered: bool) -> Self {
        self.tls_1_3 = offered;
        self
    }
    /// Whether plain FTP is served.
    pub fn with_plain(mut self, plain: bool) -> Self {
        self.plain = plain;
        self
    }
}

/// A file the fake stored (a `STOR` that ended well), for
/// [`FakeFtps::on_stored`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoredFile {
    /// `folder/name`, without a leading slash.
    pub path: String,
    /// Its length in bytes.
    pub len: u64,
}

type OnStored = Arc<dyn Fn(StoredFile) + Send + Sync>;

struct Shared {
    config: Config,
    root: PathBuf,
    refuse_logins: AtomicBool,
    /// `u64::MAX`: no cut.
    cut_after: AtomicU64,
    on_stored: Mutex<Option<OnStored>>,
    logins: AtomicU64,
}

/// An FTPS server (explicit TLS on the control connection, protected
/// passive data connections) on loopback, storing files in a temporary
/// folder with `hdd-images/` and `iso-images/` in it; it stops when
/// dropped. Its certificate, for `localhost` and `127.0.0.1`, is signed by
/// a test authority made at start: trust [`ca_pem`](Self::ca_pem).
///
/// Faults: logins refused ([`refuse_logins`](Self::refuse_logins)), the
/// next upload cut after some bytes ([`cut_next_upload_after`](Self::cut_next_upload_after):
/// the server stops reading, answers `451` and keeps what it had, as a real
/// server does when a transfer breaks). A `STOR` to a name that exists is
/// refused with `550`, as IONOS's servers do.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use cloud_images::ftps::{FtpServer, FtpsSettings};
/// use cloud_images::testing::FakeFtps;
///
/// let fake = FakeFtps::start().await?;
/// fake.put_file("hdd-images/old.qcow2", b"QFI\xfb");
/// let settings = FtpsSettings::new(FtpServer::parse(&fake.url())?, fake.user(), fake.password())
///     .with_extra_roots_pem(fake.ca_pem().as_bytes())?;
/// assert_eq!(settings.list("hdd-images").await?, ["old.qcow2"]);
/// # Ok(()) }
/// ```
pub struct FakeFtps {
    addr: SocketAddr,
    shared: Arc<Shared>,
    ca_pem: String,
    task: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl Debug for FakeFtps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeFtps")
            .field("url", &self.url())
            .finish_non_exhaustive()
    }
}

impl Drop for FakeFtps {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeFtps {
    /// Starts with the default [`Config`].
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_with(Config::default()).await
    }

    /// Starts with `config` on a free loopback port.
    pub async fn start_with(config: Config) -> std::io::Result<Self> {
        let dir = tempfile::tempdir()?;
        let root = dir.path().join("root");
        for folder in FOLDERS {
            std::fs::create_dir_all(root.join(folder))?;
        }
        let (ca_pem, cert_pem, key_pem) = make_certificates().map_err(std::io::Error::other)?;
        let cert_file = dir.path().join("server.pem");
        let key_file = dir.path().join("server.key");
        std::fs::write(&cert_file, cert_pem)?;
        std::fs::write(&key_file, key_pem)?;
        let shared = Arc::new(Shared {
            config,
            root,
            refuse_logins: AtomicBool::new(false),
            cut_after: AtomicU64::new(u64::MAX),
            on_stored: Mutex::new(None),
            logins: AtomicU64::new(0),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let serving = shared.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let Ok(server) = build_server(&serving, &cert_file, &key_file) else {
                    continue;
                };
                tokio::spawn(async move {
                    let _ = server.service(stream).await;
                });
            }
        });
        Ok(Self {
            addr,
            shared,
            ca_pem,
            task,
            _dir: dir,
        })
    }

    /// `ftps://127.0.0.1:PORT` (`ftp://` when [`Config::plain`]).
    pub fn url(&self) -> String {
        let scheme = if self.shared.config.plain { "ftp" } else { "ftps" };
        format!("{scheme}://{}", self.addr)
    }
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// The test authority's certificate (PEM), to trust.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }
    /// The user name it accepts.
    pub fn user(&self) -> &str {
        &self.shared.config.user
    }
    /// The password it accepts.
    pub fn password(&self) -> &str {
        &self.shared.config.password
    }
    /// How many logins it accepted or refused.
    pub fn logins(&self) -> u64 {
        self.shared.logins.load(Ordering::SeqCst)
    }

    /// Refuses every login (`530`) while `true`.
    pub fn refuse_logins(&self, refuse: bool) {
        self.shared.refuse_logins.store(refuse, Ordering::SeqCst);
    }

    /// The next upload stops after `bytes` bytes: the server keeps those,
    /// stops reading, and answers that the transfer failed.
    pub fn cut_next_upload_after(&self, bytes: u64) {
        self.shared.cut_after.store(bytes, Ordering::SeqCst);
    }

    /// Calls `hook` for each file stored (after its `STOR` ended well).
    pub fn on_stored(&self, hook: impl Fn(StoredFile) + Send + Sync + 'static) {
        *lock(&self.shared.on_stored) = Some(Arc::new(hook));
    }

    /// Puts a file there, as if uploaded earlier (no hook is called).
    ///
    /// # Panics
    ///
    /// When the path leaves the fake's folder or cannot be written.
    pub fn put_file(&self, path: &str, bytes: &[u8]) {
        let target = self.local_path(path).expect("a path inside the fake");
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).expect("the fake's folder");
        }
        std::fs::write(target, bytes).expect("the fake's folder");
    }

    /// Every file stored, `folder/name` → length.
    pub fn files(&self) -> BTreeMap<String, u64> {
        let mut files = BTreeMap::new();
        collect(&self.shared.root, &self.shared.root, &mut files);
        files
    }

    /// A stored file's bytes.
    pub fn bytes(&self, path: &str) -> Option<Vec<u8>> {
        std::fs::read(self.local_path(path)?).ok()
    }

    fn local_path(&self, path: &str) -> Option<PathBuf> {
        let relative = Path::new(path.trim_start_matches('/'));
        relative
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
            .then(|| self.shared.root.join(relative))
    }
}

fn collect(root: &Path, dir: &Path, files: &mut BTreeMap<String, u64>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.metadata() {
            Ok(m) if m.is_dir() => collect(root, &path, files),
            Ok(m) => {
                if let Ok(relative) = path.strip_prefix(root) {
                    let name = relative
                        .components()
                        .map(|c| c.as_os_str().to_string_lossy().into_owned())
                        .collect::<Vec<_>>()
                        .join("/");
                    files.insert(name, m.len());
                }
            }
            Err(_) => {}
        }
    }
}

/// A test authority and a server certificate it signed for `localhost` and
/// `127.0.0.1`: (authority PEM, server certificate PEM, server key PEM).
fn make_certificates() -> Result<(String, String, String), rcgen::Error> {
    let ca_key = rcgen::KeyPair::generate()?;
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "cloud-images test authority");
    ca_params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key)?;
    let key = rcgen::KeyPair::generate()?;
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "localhost");
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params.signed_by(&key, &ca)?;
    Ok((ca.pem(), cert.pem(), key.serialize_pem()))
}

type Server = libunftp::Server<Store, DefaultUser>;

fn build_server(shared: &Arc<Shared>, cert: &Path, key: &Path) -> Result<Server, libunftp::ServerError> {
    let store = shared.clone();
    let mut builder = libunftp::ServerBuilder::with_authenticator(
        Box::new(move || Store {
            fs: Filesystem::new(store.root.clone()).expect("the fake's folder"),
            shared: store.clone(),
        }),
        Arc::new(Login(shared.clone())),
    )
    .greeting("cloud-images fake FTPS server")
    .logger(None);
    if !shared.config.plain {
        let mut flags = TlsFlags::V1_2 | TlsFlags::RESUMPTION_SESS_ID | TlsFlags::RESUMPTION_TICKETS;
        if shared.config.tls_1_3 {
            flags |= TlsFlags::V1_3;
        }
        builder = builder
            .ftps(cert.to_path_buf(), key.to_path_buf())
            .ftps_tls_flags(flags)
            .ftps_required(FtpsRequired::All, FtpsRequired::All);
    }
    builder.build()
}

/// Checks the configured user and password; refuses all when told to.
struct Login(Arc<Shared>);

impl Debug for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Login")
    }
}

#[async_trait]
impl Authenticator for Login {
    async fn authenticate(
        &self,
        username: &str,
        creds: &Credentials,
    ) -> Result<Principal, AuthenticationError> {
        let shared = &self.0;
        shared.logins.fetch_add(1, Ordering::SeqCst);
        if shared.refuse_logins.load(Ordering::SeqCst) {
            return Err(AuthenticationError::BadPassword);
        }
        if username != shared.config.user {
            return Err(AuthenticationError::BadUser);
        }
        if creds.password.as_deref() != Some(shared.config.password.as_str()) {
            return Err(AuthenticationError::BadPassword);
        }
        Ok(Principal {
            username: username.to_owned(),
        })
    }
}

/// The folder store, with the faults and the hook.
struct Store {
    fs: Filesystem,
    shared: Arc<Shared>,
}

impl Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Store")
    }
}

fn relative(path: &Path) -> String {
    path.components()
        .filter_map(|c| match c {
            std::path::Component::Normal(part) => Some(part.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[async_trait]
impl StorageBackend<DefaultUser> for Store {
    type Metadata = <Filesystem as StorageBackend<DefaultUser>>::Metadata;

    fn supported_features(&self) -> u32 {
        0
    }

    async fn metadata<P: AsRef<Path> + Send + Debug>(
        &self,
        user: &DefaultUser,
        path: P,
    ) -> storage::Result<Self::Metadata> {
        self.fs.metadata(user, path).await
    }

    async fn list<P: AsRef<Path> + Send + Debug>(
        &self,
        user: &DefaultUser,
        path: P,
    ) -> storage::Result<Vec<Fileinfo<PathBuf, Self::Metadata>>> {
        self.fs.list(user, path).await
    }

    async fn get<P: AsRef<Path> + Send + Debug>(
        &self,
        user: &DefaultUser,
        path: P,
        start_pos: u64,
    ) -> storage::Result<Box<dyn AsyncRead + Send + Sync + Unpin>> {
        self.fs.get(user, path, start_pos).await
    }

    async fn put<P: AsRef<Path> + Send + Debug, R: AsyncRead + Send + Sync + Unpin + 'static>(
        &self,
        user: &DefaultUser,
        input: R,
        path: P,
        start_pos: u64,
    ) -> storage::Result<u64> {
        let name = relative(path.as_ref());
        if self.fs.metadata(user, path.as_ref()).await.is_ok() {
            return Err(storage::Error::from(storage::ErrorKind::PermissionDenied));
        }
        let cut = self.shared.cut_after.swap(u64::MAX, Ordering::SeqCst);
        let written = if cut == u64::MAX {
            self.fs.put(user, input, path, start_pos).await?
        } else {
            let input = CutAfter {
                inner: input,
                left: cut,
            };
            self.fs.put(user, input, path, start_pos).await?
        };
        let hook = lock(&self.shared.on_stored).clone();
        if let Some(hook) = hook {
            hook(StoredFile {
                path: name,
                len: written,
            });
        }
        Ok(written)
    }

    async fn del<P: AsRef<Path> + Send + Debug>(&self, user: &DefaultUser, path: P) -> storage::Result<()> {
        self.fs.del(user, path).await
    }

    async fn mkd<P: AsRef<Path> + Send + Debug>(&self, user: &DefaultUser, path: P) -> storage::Result<()> {
        self.fs.mkd(user, path).await
    }

    async fn rename<P: AsRef<Path> + Send + Debug>(
        &self,
        user: &DefaultUser,
        from: P,
        to: P,
    ) -> storage::Result<()> {
        self.fs.rename(user, from, to).await
    }

    async fn rmd<P: AsRef<Path> + Send + Debug>(&self, user: &DefaultUser, path: P) -> storage::Result<()> {
        self.fs.rmd(user, path).await
    }

    async fn cwd<P: AsRef<Path> + Send + Debug>(&self, user: &DefaultUser, path: P) -> storage::Result<()> {
        self.fs.cwd(user, path).await
    }
}

/// Passes `left` bytes through, then fails as a broken connection does.
struct CutAfter<R> {
    inner: R,
    left: u64,
}

impl<R: AsyncRead + Unpin> AsyncRead for CutAfter<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.left == 0 {
            return Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "the fake cut the transfer",
            )));
        }
        let room = buf
            .remaining()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let mut chunk = vec![0u8; room];
        let mut limited = ReadBuf::new(&mut chunk);
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_read(cx, &mut limited) {
            Poll::Ready(Ok(())) => {
                let n = limited.filled().len();
                buf.put_slice(limited.filled());
                this.left -= n as u64;
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}
