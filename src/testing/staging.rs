//! A loopback S3 server to stage uploads in: [`FakeStaging`].

use std::collections::VecDeque;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use http::{HeaderMap, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use s3s::Body;
use s3s::auth::{S3Auth, SecretKey};
use s3s::service::{S3Service, S3ServiceBuilder};
use tokio::net::{TcpListener, ToSocketAddrs};
use tokio::task::JoinSet;

use super::harness::{ConnectionCut, Cut, FaultKind, form_pairs, lock, take_fault};
use super::{Fault, RecordedRequest};

/// The staging fake's bucket and credentials.
///
/// ```
/// use cloud_images::testing::staging::Config;
///
/// let config = Config::default().with_bucket("images").with_credentials("AKIDTEST", "test-secret");
/// assert_eq!(config.bucket, "images");
/// assert_eq!(config.region, "us-east-1");
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct Config {
    /// The bucket created at start (default `staging`).
    pub bucket: String,
    /// The access key id the server accepts (default `FAKESTAGINGKEY`).
    pub access_key_id: String,
    /// Its secret (default `fake-staging-secret`): a test credential, left
    /// out of `Debug`.
    pub secret_access_key: String,
    /// The region clients should sign for (default `us-east-1`); the server
    /// checks a signature with the region it names.
    pub region: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            bucket: "staging".into(),
            access_key_id: "FAKESTAGINGKEY".into(),
            secret_access_key: "fake-staging-secret".into(),
            region: "us-east-1".into(),
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("bucket", &self.bucket)
            .field("access_key_id", &self.access_key_id)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// With this bucket.
    pub fn with_bucket(mut self, bucket: impl Into<String>) -> Self {
        self.bucket = bucket.into();
        self
    }

    /// With this access key id and secret.
    pub fn with_credentials(mut self, access_key_id: impl Into<String>, secret: impl Into<String>) -> Self {
        self.access_key_id = access_key_id.into();
        self.secret_access_key = secret.into();
        self
    }

    /// With this region.
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.region = region.into();
        self
    }
}

/// What the server task shares with the fake.
struct Shared {
    service: S3Service,
    requests: Mutex<Vec<RecordedRequest>>,
    faults: Mutex<VecDeque<Fault>>,
}

/// A real S3 server on loopback to stage uploads in, for tests: the
/// [`s3s`](https://docs.rs/s3s) protocol implementation over
/// [`s3s-fs`](https://docs.rs/s3s-fs)'s store in a temporary folder (removed
/// when the fake is dropped), with one bucket.
///
/// Requests are checked as S3 checks them: AWS signature V4 with the fake's
/// [access key](Self::access_key_id) and [secret](Self::secret_access_key)
/// (a wrong one is `403 SignatureDoesNotMatch` or `InvalidAccessKeyId`),
/// presigned URLs with their expiry (`403 AccessDenied: Request has
/// expired`); multipart uploads, listings, ranged GETs and deletes work.
/// Path-style addressing (`endpoint/bucket/key`).
///
/// [`requests`](Self::requests) records every request's method, path and
/// query without its signature (no `X-Amz-Signature`, no `authorization`
/// header) and without its body. [Faults](Fault) apply before the S3 server
/// sees a request, matched on the method, path and query as for the other
/// fakes: a refused part is `Fault::status(503).method("PUT").matching("partNumber=")`
/// (answered with an S3 XML error), a part cut off midway
/// [`Fault::connection_cut`], a download cut off midway (the answer's head
/// and half its body reach the client, then the connection closes)
/// [`Fault::truncated_body`]; [`Fault::after_auth`] makes no difference here.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use cloud_images::testing::{Fault, FakeStaging};
///
/// let staging = FakeStaging::start().await;
/// // Point an S3 client (object_store's `AmazonS3Builder`, the AWS SDK) at
/// // `staging.endpoint()` with `staging.bucket()`, `staging.region()`,
/// // `staging.access_key_id()` and `staging.secret_access_key()`, path
/// // style, HTTP allowed.
/// assert!(staging.endpoint().starts_with("http://127.0.0.1:"));
/// assert_eq!(staging.bucket(), "staging");
/// // The next two parts sent are refused.
/// staging.inject(Fault::status(503).method("PUT").matching("partNumber=").times(2));
/// // ... run the upload, then look at the far end:
/// assert_eq!(staging.keys(), Vec::<String>::new());
/// assert_eq!(staging.object("debian-13.qcow2"), None);
/// # }
/// ```
pub struct FakeStaging {
    addr: SocketAddr,
    config: Config,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
    /// The store's folder: removed on drop, after the server stopped.
    root: tempfile::TempDir,
}

impl Drop for FakeStaging {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl std::fmt::Debug for FakeStaging {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeStaging")
            .field("endpoint", &self.endpoint())
            .field("bucket", &self.config.bucket)
            .finish_non_exhaustive()
    }
}

impl FakeStaging {
    /// Starts with the default bucket and credentials ([`Config::default`])
    /// on 127.0.0.1 with an ephemeral port.
    ///
    /// # Panics
    ///
    /// If it cannot listen on a loopback port or make its temporary folder,
    /// or outside a Tokio runtime.
    pub async fn start() -> Self {
        Self::start_with(Config::default()).await
    }

    /// Starts with this bucket and these credentials on 127.0.0.1 with an
    /// ephemeral port.
    ///
    /// # Panics
    ///
    /// If it cannot listen on a loopback port or make its temporary folder,
    /// or outside a Tokio runtime.
    pub async fn start_with(config: Config) -> Self {
        match Self::start_on("127.0.0.1:0", config).await {
            Ok(fake) => fake,
            Err(e) => panic!("the fake S3 staging server cannot start on 127.0.0.1: {e}"),
        }
    }

    /// Starts on `addr` (e.g. `127.0.0.1:9000`).
    ///
    /// # Errors
    ///
    /// When it cannot listen there, make its temporary folder, or the bucket
    /// name is not one folder name.
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime.
    pub async fn start_on(addr: impl ToSocketAddrs, config: Config) -> std::io::Result<Self> {
        let invalid = |what: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, what);
        if config.bucket.is_empty() || config.bucket.contains(['/', '\\']) || config.bucket.starts_with('.') {
            return Err(invalid(format!("`{}` is not a bucket name", config.bucket)));
        }
        let root = tempfile::Builder::new().prefix("fake-staging-").tempdir()?;
        std::fs::create_dir(root.path().join(&config.bucket))?;
        let store =
            s3s_fs::FileSystem::new(root.path()).map_err(|e| invalid(format!("the S3 store: {e:?}")))?;
        let mut builder = S3ServiceBuilder::new(store);
        builder.set_auth(OneKey {
            access_key_id: config.access_key_id.clone(),
            secret: SecretKey::from(config.secret_access_key.clone()),
        });
        let shared = Arc::new(Shared {
            service: builder.build(),
            requests: Mutex::default(),
            faults: Mutex::default(),
        });
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let served = Arc::clone(&shared);
        let task = tokio::spawn(async move {
            // Aborting the accept loop drops the set, which aborts every
            // connection's task.
            let mut connections = JoinSet::new();
            loop {
                while connections.try_join_next().is_some() {}
                let Ok((stream, _)) = listener.accept().await else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let shared = Arc::clone(&served);
                connections.spawn(async move {
                    let service = service_fn(move |req| handle(Arc::clone(&shared), req));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self {
            addr,
            config,
            shared,
            task,
            root,
        })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`: the endpoint to give an S3 client.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bucket created at start.
    pub fn bucket(&self) -> &str {
        &self.config.bucket
    }

    /// The region to sign for.
    pub fn region(&self) -> &str {
        &self.config.region
    }

    /// The access key id the server accepts.
    pub fn access_key_id(&self) -> &str {
        &self.config.access_key_id
    }

    /// The secret of [`access_key_id`](Self::access_key_id): a test
    /// credential of this fake alone.
    pub fn secret_access_key(&self) -> &str {
        &self.config.secret_access_key
    }

    /// `s3://<bucket>`: the staging store's name, as a command line takes it.
    pub fn s3_url(&self) -> String {
        format!("s3://{}", self.config.bucket)
    }

    /// An object's whole content, if the bucket has it.
    pub fn object(&self, key: &str) -> Option<Vec<u8>> {
        std::fs::read(self.object_path(key)?).ok()
    }

    /// An object's length, if the bucket has it (without reading it).
    pub fn object_size(&self, key: &str) -> Option<u64> {
        let meta = std::fs::metadata(self.object_path(key)?).ok()?;
        meta.is_file().then_some(meta.len())
    }

    /// The keys in the bucket, sorted (multipart uploads not yet completed
    /// are not objects).
    pub fn keys(&self) -> Vec<String> {
        let bucket = self.root.path().join(&self.config.bucket);
        let mut keys = Vec::new();
        collect_keys(&bucket, &bucket, &mut keys);
        keys.sort();
        keys
    }

    /// Every request received so far, in arrival order, without signatures
    /// or bodies.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    /// Forgets the requests received so far.
    pub fn clear_requests(&self) {
        lock(&self.shared.requests).clear();
    }

    /// Misbehaves for the next requests that match (see [`Fault`]).
    pub fn inject(&self, fault: Fault) {
        if fault.count() > 0 {
            lock(&self.shared.faults).push_back(fault);
        }
    }

    /// Drops the faults not yet used up.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Where a key's object lives, if the key stays inside the bucket.
    fn object_path(&self, key: &str) -> Option<PathBuf> {
        let relative = Path::new(key);
        let plain = relative
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
        (plain && !key.is_empty()).then(|| self.root.path().join(&self.config.bucket).join(relative))
    }
}

/// The one access key the fake accepts; any other is S3's `403
/// InvalidAccessKeyId` (s3s's `SimpleAuth` answers `NotSignedUp`).
struct OneKey {
    access_key_id: String,
    secret: SecretKey,
}

impl S3Auth for OneKey {
    // `#[async_trait]`'s signature, written out.
    fn get_secret_key<'a, 'b, 'f>(
        &'a self,
        access_key: &'b str,
    ) -> Pin<Box<dyn Future<Output = s3s::S3Result<SecretKey>> + Send + 'f>>
    where
        'a: 'f,
        'b: 'f,
        Self: 'f,
    {
        let found = if access_key == self.access_key_id {
            Ok(self.secret.clone())
        } else {
            Err(s3s::S3Error::with_message(
                s3s::S3ErrorCode::InvalidAccessKeyId,
                "The AWS Access Key Id you provided does not exist in our records.",
            ))
        };
        Box::pin(std::future::ready(found))
    }
}

/// The files under `dir`, as keys relative to `bucket`.
fn collect_keys(bucket: &Path, dir: &Path, keys: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => collect_keys(bucket, &path, keys),
            Ok(kind) if kind.is_file() => {
                if let Ok(key) = path.strip_prefix(bucket) {
                    let parts: Vec<_> = key
                        .components()
                        .map(|c| c.as_os_str().to_string_lossy())
                        .collect();
                    keys.push(parts.join("/"));
                }
            }
            _ => {}
        }
    }
}

/// The request as recorded: no signature, no credentials header, no body.
fn record(parts: &http::request::Parts) -> RecordedRequest {
    let query = form_pairs(parts.uri.query().unwrap_or(""))
        .into_iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("X-Amz-Signature"))
        .collect();
    let mut headers: HeaderMap = parts.headers.clone();
    headers.remove(http::header::AUTHORIZATION);
    RecordedRequest {
        method: parts.method.clone(),
        path: parts.uri.path().to_owned(),
        query,
        headers,
        body: Bytes::new(),
    }
}

type Answer = hyper::Response<Body>;

async fn handle(shared: Arc<Shared>, req: hyper::Request<Incoming>) -> Result<Answer, ConnectionCut> {
    let (parts, body) = req.into_parts();
    lock(&shared.requests).push(record(&parts));
    let target = format!("{}?{}", parts.uri.path(), parts.uri.query().unwrap_or(""));
    let fault = take_fault(&mut lock(&shared.faults), |f| {
        f.applies_to(&parts.method, &target)
    });
    match fault {
        Some(FaultKind::Status {
            status,
            retry_after,
            body: own_body,
            headers,
        }) => {
            // Read what was sent, so that the client sees the answer rather
            // than a connection closed under its upload.
            let _ = body.collect().await;
            let mut resp = match own_body {
                Some(own) => hyper::Response::new(Body::from(own)),
                None => {
                    let mut resp = hyper::Response::new(Body::from(s3_error(status, parts.uri.path())));
                    resp.headers_mut()
                        .insert(CONTENT_TYPE, HeaderValue::from_static("application/xml"));
                    resp
                }
            };
            *resp.status_mut() = status;
            if let Some(after) = retry_after.and_then(|a| HeaderValue::from_str(&a).ok()) {
                resp.headers_mut().insert(http::header::RETRY_AFTER, after);
            }
            for (name, value) in headers {
                if let (Ok(name), Ok(value)) = (
                    http::header::HeaderName::from_bytes(name.as_bytes()),
                    HeaderValue::from_str(&value),
                ) {
                    resp.headers_mut().insert(name, value);
                }
            }
            Ok(resp)
        }
        Some(FaultKind::Delay(delay)) => {
            tokio::time::sleep(delay).await;
            Ok(serve(&shared, hyper::Request::from_parts(parts, body)).await)
        }
        Some(FaultKind::TruncatedBody) => {
            let resp = serve(&shared, hyper::Request::from_parts(parts, body)).await;
            let (mut parts, body) = resp.into_parts();
            let whole = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            if whole.is_empty() {
                return Ok(hyper::Response::from_parts(parts, Body::from(whole)));
            }
            parts
                .headers
                .insert(CONTENT_LENGTH, HeaderValue::from(whole.len()));
            let half = whole.slice(..whole.len() / 2);
            Ok(hyper::Response::from_parts(
                parts,
                Body::http_body(Cut::new(half).flushed()),
            ))
        }
        Some(FaultKind::ConnectionCut) => {
            let declared = parts
                .headers
                .get(CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
            let mut body = body;
            let mut read = 0u64;
            while read < declared / 2 {
                match body.frame().await {
                    Some(Ok(frame)) => read += frame.data_ref().map_or(0, |d| d.len() as u64),
                    _ => break,
                }
            }
            Err(ConnectionCut)
        }
        None => Ok(serve(&shared, hyper::Request::from_parts(parts, body)).await),
    }
}

/// The S3 server's answer.
async fn serve(shared: &Shared, req: hyper::Request<Incoming>) -> Answer {
    match shared.service.call(req.map(Body::from)).await {
        Ok(resp) => resp,
        Err(e) => {
            let mut resp = hyper::Response::new(Body::from(format!("the fake S3 server failed: {e:?}")));
            *resp.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            resp
        }
    }
}

/// An S3 error document for an injected status.
fn s3_error(status: StatusCode, resource: &str) -> String {
    let code = match status.as_u16() {
        500 => "InternalError",
        503 => "SlowDown",
        403 => "AccessDenied",
        404 => "NoSuchKey",
        _ => "InjectedFault",
    };
    let message = status.canonical_reason().unwrap_or("injected fault");
    let escape = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{}</Message><Resource>{}</Resource></Error>",
        escape(message),
        escape(resource)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn injected_errors_are_s3_documents() {
        let body = s3_error(StatusCode::SERVICE_UNAVAILABLE, "/b/<k>");
        assert!(body.contains("<Code>SlowDown</Code>"), "{body}");
        assert!(body.contains("<Resource>/b/&lt;k&gt;</Resource>"), "{body}");
    }
}
