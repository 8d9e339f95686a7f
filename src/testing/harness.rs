//! What every fake API shares: a hyper server on loopback that records each
//! request (method, path, query, headers, body), counts requests in flight,
//! adds latency and answers injected faults before a provider's routes see the
//! request. A provider's fake is its routes and seed data on top ([`Api`]).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use http::{Method, StatusCode};
use http_body::Frame;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::{TcpListener, ToSocketAddrs};
use tokio::task::JoinSet;

/// An answer of a provider's routes.
pub(crate) type Response = hyper::Response<Full<Bytes>>;

/// What the server sends: a route's answer, or a fault's.
type Sent = hyper::Response<BoxBody<Bytes, Infallible>>;

/// A provider's routes and state.
pub(crate) trait Api: Send + Sync + 'static {
    /// Answers one request (already recorded; faults and latency applied).
    fn route(&self, request: &RecordedRequest) -> Response;

    /// The body of an injected fault with this status, in the provider's error shape.
    fn fault_body(&self, status: StatusCode) -> Value;

    /// Adds what every answer of the provider carries (rate-limit headers,
    /// a server request id), faults included.
    fn finish(&self, response: &mut Response) {
        let _ = response;
    }

    /// The answer to a request whose credentials the API refuses (its 401),
    /// or `None` when they pass: a fault applied
    /// [`after_auth`](Fault::after_auth) lets such a request through to this.
    fn unauthorized(&self, request: &RecordedRequest) -> Option<Response> {
        let _ = request;
        None
    }

    /// Requests to this path are not API requests (a token endpoint): no
    /// latency, not counted in flight, not in `api_requests()`, and only the
    /// faults whose [`matching`](Fault::matching) text names them.
    fn is_side_channel(&self, path: &str) -> bool {
        let _ = path;
        false
    }
}

/// Locks a mutex; a panic elsewhere while it was held does not poison the fake.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One request as a fake received it.
///
/// ```
/// # #[cfg(feature = "contabo")]
/// # async fn demo() {
/// use cloud_images::testing::FakeContabo;
///
/// let fake = FakeContabo::start().await;
/// // ... run the code under test against fake.base_url() or fake.client() ...
/// for request in fake.requests() {
///     println!("{} {} {:?}", request.method, request.path, request.header("x-request-id"));
/// }
/// # }
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// `GET`, `POST`, ...
    pub method: Method,
    /// The path, percent-encoded as sent (`/v1/compute/images/abc`).
    pub path: String,
    /// The query's pairs in order, decoded (`+` is a space).
    pub query: Vec<(String, String)>,
    /// Every header as sent.
    pub headers: HeaderMap,
    /// The body as sent.
    pub body: Bytes,
}

impl RecordedRequest {
    /// A header's value, if it was sent and is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Every value of a query parameter, in order.
    pub fn query_values(&self, key: &str) -> Vec<&str> {
        self.query
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The first value of a query parameter.
    pub fn query_value(&self, key: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// The path split at `/`, without the leading empty segment.
    pub fn segments(&self) -> Vec<&str> {
        self.path.trim_start_matches('/').split('/').collect()
    }

    /// The body as JSON, if it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The body's `application/x-www-form-urlencoded` pairs (a token request's).
    pub fn form(&self) -> Vec<(String, String)> {
        form_pairs(&String::from_utf8_lossy(&self.body))
    }
}

/// A canned misbehaviour for the next requests that match: an HTTP status, a
/// delay, or a body cut short.
///
/// A fault applies to requests whose path and query (`/v1/compute/images?page=2&size=10`)
/// contain [`matching`](Self::matching) (by default every API request) and,
/// when given, whose [`method`](Self::method) is the one named, the next
/// [`times`](Self::times) of them (by default one). At most one fault applies
/// to a request: the first injected one that matches. A status fault answers
/// with the provider's error body, or the fault's own [`body`](Self::body)
/// and [`header`](Self::header)s. By default a fault comes before the API
/// checks credentials; with [`after_auth`](Self::after_auth) a request the
/// API refuses gets the API's 401 and leaves the fault for the next one.
/// Token requests (Contabo's OAuth2 endpoint) get only the faults whose
/// matching text they contain (`Fault::status(503).matching(contabo::TOKEN_PATH)`),
/// never one that matches every request.
///
/// ```
/// use std::time::Duration;
/// use cloud_images::testing::Fault;
///
/// // The next two requests for the stats: 503.
/// let unavailable = Fault::status(503).matching("/stats").times(2);
/// // The next request: 429 with `Retry-After: 1`.
/// let limited = Fault::status(429).retry_after("1");
/// // The next page 3: answered after 2 s.
/// let slow = Fault::delay(Duration::from_secs(2)).matching("page=3&");
/// // The next request: the real answer, but the connection closes halfway
/// // through its body.
/// let cut = Fault::truncated_body();
/// // Only the next PATCH of an image, a GET of it is served as usual; with
/// // a body and a header of its own, and only once the credentials passed.
/// let conflict = Fault::status(409)
///     .method("PATCH")
///     .matching("/images/")
///     .body(r#"{"message":"locked"}"#)
///     .header("x-lock-owner", "backup")
///     .after_auth();
/// // As the `fake_*` examples take them on the command line:
/// // [METHOD:]STATUS:MATCH:COUNT.
/// let parsed: Fault = "503:/stats:2".parse().unwrap();
/// assert_eq!(parsed.count(), 2);
/// assert_eq!(parsed.matching_text(), "/stats");
/// let parsed: Fault = "PATCH:503:/images/:1".parse().unwrap();
/// assert_eq!(parsed.method_name(), Some(&http::Method::PATCH));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    matching: String,
    method: Option<Method>,
    times: usize,
    after_auth: bool,
    kind: FaultKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum FaultKind {
    Status {
        status: StatusCode,
        retry_after: Option<String>,
        body: Option<Bytes>,
        headers: Vec<(String, String)>,
    },
    Delay(Duration),
    TruncatedBody,
    ConnectionCut,
}

impl Fault {
    /// Answer with this status (and the provider's error body) instead of
    /// routing the request. A status that is not a valid HTTP status code
    /// (100 to 999) becomes 500.
    pub fn status(status: u16) -> Self {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        Self::of(FaultKind::Status {
            status,
            retry_after: None,
            body: None,
            headers: Vec::new(),
        })
    }

    /// Wait this long (on top of the fake's latency), then answer normally.
    pub fn delay(delay: Duration) -> Self {
        Self::of(FaultKind::Delay(delay))
    }

    /// Answer normally, but declare the whole body's `Content-Length`, send
    /// only the first half of it, and close the connection. An answer
    /// without a body (`204 No Content`) is sent as it is.
    pub fn truncated_body() -> Self {
        Self::of(FaultKind::TruncatedBody)
    }

    /// Read the first half of the request's body (by its `Content-Length`),
    /// then close the connection without an answer: a request cut off
    /// midway, as a network failure cuts an upload's part. The provider
    /// fakes read the whole request before they see a fault, so there the
    /// connection closes after it.
    pub fn connection_cut() -> Self {
        Self::of(FaultKind::ConnectionCut)
    }

    fn of(kind: FaultKind) -> Self {
        Self {
            matching: String::new(),
            method: None,
            times: 1,
            after_auth: false,
            kind,
        }
    }

    /// Only for requests whose path and query contain this text.
    pub fn matching(mut self, text: impl Into<String>) -> Self {
        self.matching = text.into();
        self
    }

    /// Only for requests with this method (`"PATCH"`, any case); a name
    /// that is not an HTTP method matches no request.
    pub fn method(mut self, method: &str) -> Self {
        let method = method.to_ascii_uppercase();
        self.method = Some(Method::from_bytes(method.as_bytes()).unwrap_or_else(|_| {
            // Never sent by a client: the fault matches nothing, as documented.
            Method::from_bytes(b"INVALID-METHOD").unwrap_or(Method::CONNECT)
        }));
        self
    }

    /// Only once the API accepted the request's credentials: a request it
    /// refuses gets its 401 and does not use the fault up.
    pub fn after_auth(mut self) -> Self {
        self.after_auth = true;
        self
    }

    /// This body instead of the provider's error body (sent as is, with
    /// `Content-Type: application/json` unless a [`header`](Self::header)
    /// says otherwise); only for [`Fault::status`].
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        if let FaultKind::Status { body: slot, .. } = &mut self.kind {
            *slot = Some(body.into());
        }
        self
    }

    /// This header on the answer (added to, or replacing, what the fake
    /// sends); only for [`Fault::status`]. A name or value that is not a
    /// valid header is left out.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        if let FaultKind::Status { headers, .. } = &mut self.kind {
            headers.push((name.into(), value.into()));
        }
        self
    }

    /// For this many requests (default 1).
    pub fn times(mut self, count: usize) -> Self {
        self.times = count;
        self
    }

    /// With this `Retry-After` header (seconds or an HTTP date); only for
    /// [`Fault::status`].
    pub fn retry_after(mut self, value: impl Into<String>) -> Self {
        if let FaultKind::Status { retry_after, .. } = &mut self.kind {
            *retry_after = Some(value.into());
        }
        self
    }

    /// What requests must contain to get the fault.
    pub fn matching_text(&self) -> &str {
        &self.matching
    }

    /// The method requests must have to get the fault, if one was named.
    pub fn method_name(&self) -> Option<&Method> {
        self.method.as_ref()
    }

    /// How many more requests get the fault.
    pub fn count(&self) -> usize {
        self.times
    }

    /// Whether the fault waits for the API to accept the credentials.
    pub fn is_after_auth(&self) -> bool {
        self.after_auth
    }

    /// Whether a request with this method, path and query gets the fault.
    pub(crate) fn applies_to(&self, method: &Method, target: &str) -> bool {
        target.contains(&self.matching) && self.method.as_ref().is_none_or(|m| m == method)
    }
}

/// What the fault does, to whom: `HTTP 503 for the next 2 requests matching `/stats``.
impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            FaultKind::Status {
                status, retry_after, ..
            } => {
                write!(f, "HTTP {}", status.as_u16())?;
                if let Some(after) = retry_after {
                    write!(f, " (Retry-After: {after})")?;
                }
            }
            FaultKind::Delay(delay) => write!(f, "a delay of {} ms", delay.as_millis())?,
            FaultKind::TruncatedBody => write!(f, "a body cut short")?,
            FaultKind::ConnectionCut => write!(f, "the connection cut mid-request")?,
        }
        let plural = if self.times == 1 { "" } else { "s" };
        write!(f, " for the next {} ", self.times)?;
        if let Some(method) = &self.method {
            write!(f, "{method} ")?;
        }
        write!(f, "request{plural}")?;
        if !self.matching.is_empty() {
            write!(f, " matching `{}`", self.matching)?;
        }
        Ok(())
    }
}

/// `[METHOD:]STATUS:MATCH:COUNT`, e.g. `503:/stats:5`, `429:page=3&:1` or
/// `PATCH:503:/images/:1`: the next COUNT requests (with METHOD, when given)
/// whose path and query contain MATCH get STATUS; a 429 carries
/// `Retry-After: 1`.
impl FromStr for Fault {
    type Err = ParseFaultError;

    fn from_str(spec: &str) -> Result<Self, ParseFaultError> {
        let error = || ParseFaultError(spec.to_owned());
        let (first, rest) = spec.split_once(':').ok_or_else(error)?;
        let (method, status, rest) = if !first.is_empty() && first.bytes().all(|b| b.is_ascii_alphabetic()) {
            let (status, rest) = rest.split_once(':').ok_or_else(error)?;
            (Some(first), status, rest)
        } else {
            (None, first, rest)
        };
        let (matching, count) = rest.rsplit_once(':').ok_or_else(error)?;
        let status: u16 = status.parse().map_err(|_| error())?;
        let count: usize = count.parse().map_err(|_| error())?;
        if StatusCode::from_u16(status).is_err() {
            return Err(error());
        }
        let mut fault = Fault::status(status).matching(matching).times(count);
        if let Some(method) = method {
            fault = fault.method(method);
        }
        Ok(if status == 429 {
            fault.retry_after("1")
        } else {
            fault
        })
    }
}

/// A fault given as text is not `[METHOD:]STATUS:MATCH:COUNT`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseFaultError(String);

impl fmt::Display for ParseFaultError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fault `{}` is not [METHOD:]STATUS:MATCH:COUNT", self.0)
    }
}

impl std::error::Error for ParseFaultError {}

struct Shared<A> {
    api: A,
    latency: Mutex<Duration>,
    requests: Mutex<Vec<RecordedRequest>>,
    faults: Mutex<VecDeque<Fault>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

/// A running fake: the server task and what it shares with it. The server
/// (and every connection it accepted) stops when this is dropped.
pub(crate) struct Server<A: Api> {
    addr: SocketAddr,
    shared: Arc<Shared<A>>,
    task: tokio::task::JoinHandle<()>,
}

impl<A: Api> Drop for Server<A> {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl<A: Api> Server<A> {
    /// Serves `api` on `addr` (`127.0.0.1:0` for an ephemeral port), adding
    /// `latency` to every API request.
    pub(crate) async fn start_on(
        addr: impl ToSocketAddrs,
        api: A,
        latency: Duration,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            api,
            latency: Mutex::new(latency),
            requests: Mutex::default(),
            faults: Mutex::default(),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        });
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
        Ok(Self { addr, shared, task })
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub(crate) fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub(crate) fn api(&self) -> &A {
        &self.shared.api
    }

    pub(crate) fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    pub(crate) fn api_requests(&self) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(|r| !self.shared.api.is_side_channel(&r.path))
            .collect()
    }

    pub(crate) fn clear_requests(&self) {
        lock(&self.shared.requests).clear();
        self.shared.max_in_flight.store(0, Ordering::SeqCst);
    }

    pub(crate) fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }

    pub(crate) fn set_latency(&self, latency: Duration) {
        *lock(&self.shared.latency) = latency;
    }

    pub(crate) fn inject(&self, fault: Fault) {
        if fault.times > 0 {
            lock(&self.shared.faults).push_back(fault);
        }
    }

    pub(crate) fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }
}

/// The methods every fake has: `start`, `start_with` and `client` (of the
/// provider named `$name`, whose client type is `$client`; the fake's
/// module has `Config`, `start_on` and `client_builder`), and those
/// delegated to its [`Server`] in `self.0`.
macro_rules! common_methods {
    ($name:literal, $client:ty) => {
        /// Starts with the default seed and settings ([`Config::default`]) on
        /// 127.0.0.1 with an ephemeral port.
        ///
        /// # Panics
        ///
        /// If it cannot listen on a loopback port, or outside a Tokio runtime.
        pub async fn start() -> Self {
            Self::start_with(Config::default()).await
        }

        /// Starts with this seed and these settings on 127.0.0.1 with an
        /// ephemeral port.
        ///
        /// # Panics
        ///
        /// If it cannot listen on a loopback port, or outside a Tokio runtime.
        pub async fn start_with(config: Config) -> Self {
            match Self::start_on("127.0.0.1:0", config).await {
                Ok(fake) => fake,
                Err(e) => panic!(concat!("the fake ", $name, " API cannot listen on 127.0.0.1: {}"), e),
            }
        }

        #[doc = concat!("A client of the ", $name, " API for this fake (see [`client_builder`](Self::client_builder)).")]
        ///
        /// # Panics
        ///
        /// If the client cannot be built (a [`Config::token`] that is not a
        /// valid header value).
        pub fn client(&self) -> $client {
            match self.client_builder().build() {
                Ok(client) => client,
                Err(e) => panic!(concat!("cannot build a client for the fake ", $name, " API: {}"), e),
            }
        }

        /// The address the fake listens on.
        pub fn addr(&self) -> std::net::SocketAddr {
            self.0.addr()
        }

        /// `http://127.0.0.1:<port>`: the base URL to give a client.
        pub fn base_url(&self) -> String {
            self.0.base_url()
        }

        /// Every request received so far, in arrival order.
        pub fn requests(&self) -> Vec<$crate::testing::RecordedRequest> {
            self.0.requests()
        }

        /// The API requests received so far (not those to a token endpoint),
        /// in arrival order.
        pub fn api_requests(&self) -> Vec<$crate::testing::RecordedRequest> {
            self.0.api_requests()
        }

        /// Forgets the requests received so far (and the most in flight).
        pub fn clear_requests(&self) {
            self.0.clear_requests()
        }

        /// The most API requests that were in flight at once.
        pub fn max_in_flight(&self) -> usize {
            self.0.max_in_flight()
        }

        /// Adds this much latency to every API request from now on.
        pub fn set_latency(&self, latency: std::time::Duration) {
            self.0.set_latency(latency)
        }

        /// Misbehaves for the next requests that match (see [`Fault`](crate::testing::Fault)).
        pub fn inject(&self, fault: $crate::testing::Fault) {
            self.0.inject(fault)
        }

        /// Answers the next `count` API requests whose path and query contain
        /// `matching` with `status` (and `Retry-After` when given): a
        /// shorthand for [`inject`](Self::inject) with [`Fault::status`](crate::testing::Fault::status).
        pub fn fail_next(&self, matching: &str, status: u16, count: usize, retry_after: Option<&str>) {
            let mut fault = $crate::testing::Fault::status(status)
                .matching(matching)
                .times(count);
            if let Some(after) = retry_after {
                fault = fault.retry_after(after);
            }
            self.0.inject(fault)
        }

        /// Drops the faults not yet used up.
        pub fn clear_faults(&self) {
            self.0.clear_faults()
        }
    };
}
pub(crate) use common_methods;

/// A fake's `Debug`: its type and base URL.
macro_rules! impl_fake_debug {
    ($fake:ident) => {
        impl std::fmt::Debug for $fake {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($fake))
                    .field("base_url", &self.base_url())
                    .finish_non_exhaustive()
            }
        }
    };
}
pub(crate) use impl_fake_debug;

struct InFlight<'a>(&'a AtomicUsize);
impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn handle<A: Api>(
    shared: Arc<Shared<A>>,
    req: hyper::Request<Incoming>,
) -> Result<Sent, ConnectionCut> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let raw_query = parts.uri.query().unwrap_or("").to_owned();
    let recorded = RecordedRequest {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query: form_pairs(&raw_query),
        headers: parts.headers,
        body,
    };
    lock(&shared.requests).push(recorded.clone());
    let side_channel = shared.api.is_side_channel(&recorded.path);
    let _guard = if side_channel {
        None
    } else {
        let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        shared.max_in_flight.fetch_max(now, Ordering::SeqCst);
        let latency = *lock(&shared.latency);
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        Some(InFlight(&shared.in_flight))
    };

    let target = format!("{}?{raw_query}", recorded.path);
    let refused = std::cell::OnceCell::new();
    let fault = {
        let mut faults = lock(&shared.faults);
        let wanted = |f: &Fault| {
            // Token requests: only faults that name them.
            let reaches = !side_channel || !f.matching.is_empty();
            let waits = f.after_auth && *refused.get_or_init(|| shared.api.unauthorized(&recorded).is_some());
            f.applies_to(&recorded.method, &target) && reaches && !waits
        };
        take_fault(&mut faults, wanted)
    };
    match fault {
        Some(FaultKind::Status {
            status,
            retry_after,
            body,
            headers,
        }) => {
            let mut resp = match body {
                Some(body) => {
                    let mut resp = empty(status);
                    *resp.body_mut() = Full::new(body);
                    resp.headers_mut()
                        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                    resp
                }
                None => reply(status, shared.api.fault_body(status)),
            };
            if let Some(after) = retry_after.and_then(|a| HeaderValue::from_str(&a).ok()) {
                resp.headers_mut().insert(RETRY_AFTER, after);
            }
            if !side_channel {
                shared.api.finish(&mut resp);
            }
            for (name, value) in headers {
                if let (Ok(name), Ok(value)) = (
                    http::header::HeaderName::from_bytes(name.as_bytes()),
                    HeaderValue::from_str(&value),
                ) {
                    resp.headers_mut().insert(name, value);
                }
            }
            Ok(resp.map(BodyExt::boxed))
        }
        Some(FaultKind::Delay(delay)) => {
            tokio::time::sleep(delay).await;
            Ok(answer(&shared, &recorded).map(BodyExt::boxed))
        }
        Some(FaultKind::TruncatedBody) => {
            let resp = answer(&shared, &recorded);
            let (mut parts, body) = resp.into_parts();
            let Ok(collected) = body.collect().await;
            let whole = collected.to_bytes();
            if whole.is_empty() {
                return Ok(hyper::Response::from_parts(parts, Full::new(whole).boxed()));
            }
            parts
                .headers
                .insert(CONTENT_LENGTH, HeaderValue::from(whole.len()));
            let half = whole.slice(..whole.len() / 2);
            Ok(hyper::Response::from_parts(parts, Cut::new(half).boxed()))
        }
        Some(FaultKind::ConnectionCut) => Err(ConnectionCut),
        None => Ok(answer(&shared, &recorded).map(BodyExt::boxed)),
    }
}

/// Spends one use of the first fault that `wanted` accepts: what it does.
pub(crate) fn take_fault(
    faults: &mut VecDeque<Fault>,
    wanted: impl FnMut(&Fault) -> bool,
) -> Option<FaultKind> {
    let at = faults.iter().position(wanted)?;
    let fault = &mut faults[at];
    fault.times -= 1;
    let kind = fault.kind.clone();
    if fault.times == 0 {
        faults.remove(at);
    }
    Some(kind)
}

/// The error that makes hyper close a connection without an answer
/// ([`Fault::connection_cut`]).
#[derive(Debug)]
pub(crate) struct ConnectionCut;

impl fmt::Display for ConnectionCut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the connection was cut by an injected fault")
    }
}

impl std::error::Error for ConnectionCut {}

fn answer<A: Api>(shared: &Shared<A>, recorded: &RecordedRequest) -> Response {
    let mut resp = shared.api.route(recorded);
    if !shared.api.is_side_channel(&recorded.path) {
        shared.api.finish(&mut resp);
    }
    resp
}

/// A body that does not know its length, so that hyper sends the declared
/// `Content-Length` and, when the body ends short of it, closes the
/// connection. Ending at once, hyper closes it before it flushed what it
/// had (the client sees no answer); with [`flushed`](Self::flushed), the
/// head and the part reach the client first.
pub(crate) struct Cut {
    part: Option<Bytes>,
    pause: Option<Duration>,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Cut {
    pub(crate) fn new(part: Bytes) -> Self {
        Self {
            part: Some(part),
            pause: None,
            sleep: None,
        }
    }

    /// Waits a moment after the part, so that hyper flushes the head and
    /// the part to the client before the body ends short.
    pub(crate) fn flushed(mut self) -> Self {
        self.pause = Some(Duration::from_millis(50));
        self
    }
}

impl http_body::Body for Cut {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if let Some(part) = self.part.take() {
            self.sleep = self.pause.map(|pause| Box::pin(tokio::time::sleep(pause)));
            return Poll::Ready(Some(Ok(Frame::data(part))));
        }
        match self.sleep.as_mut() {
            Some(sleep) => sleep.as_mut().poll(cx).map(|()| None),
            None => Poll::Ready(None),
        }
    }
}

/// A JSON answer.
pub(crate) fn reply(status: StatusCode, body: Value) -> Response {
    let mut resp = Response::new(Full::new(Bytes::from(body.to_string())));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

/// An answer without a body.
pub(crate) fn empty(status: StatusCode) -> Response {
    let mut resp = Response::new(Full::new(Bytes::new()));
    *resp.status_mut() = status;
    resp
}

/// `application/x-www-form-urlencoded` pairs (also a query string).
pub(crate) fn form_pairs(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// A query string of these pairs, each byte outside `A-Z a-z 0-9 - . _ ~ :`
/// percent-encoded.
pub(crate) fn query_string<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let encode = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b':' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    pairs
        .into_iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-decodes (and turns `+` into a space).
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_parse_from_text() {
        let fault: Fault = "503:/stats:5".parse().unwrap();
        assert_eq!(fault, Fault::status(503).matching("/stats").times(5));
        let fault: Fault = "429:page=3&size=1:1".parse().unwrap();
        assert_eq!(
            fault,
            Fault::status(429).matching("page=3&size=1").retry_after("1")
        );
        assert_eq!(
            fault.to_string(),
            "HTTP 429 (Retry-After: 1) for the next 1 request matching `page=3&size=1`"
        );
        assert_eq!(
            Fault::delay(Duration::from_secs(2)).times(3).to_string(),
            "a delay of 2000 ms for the next 3 requests"
        );
        let fault: Fault = "patch:503:/images/:2".parse().unwrap();
        assert_eq!(
            fault,
            Fault::status(503).method("PATCH").matching("/images/").times(2)
        );
        assert_eq!(
            fault.to_string(),
            "HTTP 503 for the next 2 PATCH requests matching `/images/`"
        );
        assert!(fault.applies_to(&Method::PATCH, "/images/1?"));
        assert!(!fault.applies_to(&Method::GET, "/images/1?"));
        for bad in [
            "503",
            "503:/x",
            "x:/y:1",
            "503:/y:z",
            "1000:/y:1",
            "GET:/y:1",
            "GET:503:/y",
        ] {
            let err = bad.parse::<Fault>().unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("fault `{bad}` is not [METHOD:]STATUS:MATCH:COUNT")
            );
        }
    }

    #[test]
    fn query_strings_encode_what_needs_it() {
        assert_eq!(
            query_string([("orderBy", "name:asc"), ("name", "a b&c")]),
            "orderBy=name:asc&name=a%20b%26c"
        );
        assert_eq!(
            form_pairs(&query_string([("x", "a b&c=d")])),
            [("x".into(), "a b&c=d".into())]
        );
    }

    #[test]
    fn queries_and_forms_are_decoded() {
        assert_eq!(
            form_pairs("a=1&b=x+y%2Fz&c&d=%zz"),
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "x y/z".into()),
                ("c".into(), "".into()),
                ("d".into(), "%zz".into()),
            ]
        );
    }
}
