//! What every fake API shares: a hyper server on loopback that records each
//! request (method, path, query, headers, body), counts requests in flight,
//! adds latency and answers injected faults before a provider's routes see the
//! request. A provider's fake is its routes and seed data on top ([`Api`]).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::HeaderMap;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;

/// An answer of a fake.
pub type Response = hyper::Response<Full<Bytes>>;

/// A provider's routes and state.
pub trait Api: Send + Sync + 'static {
    /// Answers one request (already recorded; faults and latency applied).
    fn route(&self, request: &Recorded) -> Response;

    /// The body of an injected fault with this status, in the provider's error shape.
    fn fault_body(&self, status: StatusCode) -> Value;

    /// Adds what every answer of the provider carries (rate-limit headers,
    /// a server request id), faults included.
    fn finish(&self, response: &mut Response) {
        let _ = response;
    }

    /// Requests to this path are not API requests (a token endpoint): no
    /// latency, no faults, not counted in flight, not in `api_requests()`.
    fn is_side_channel(&self, path: &str) -> bool {
        let _ = path;
        false
    }
}

/// One request as the fake saw it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: Method,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    pub fn query_values(&self, key: &str) -> Vec<&str> {
        self.query
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }
    /// The first value of a query parameter.
    pub fn query_value(&self, key: &str) -> Option<&str> {
        self.query_values(key).first().copied()
    }
    /// The path split at `/`, without the leading empty segment.
    pub fn segments(&self) -> Vec<&str> {
        self.path.trim_start_matches('/').split('/').collect()
    }
    /// The body as JSON, if it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// A canned failure for the next matching request.
#[derive(Clone, Debug)]
pub struct Fault {
    /// Applies to requests whose path and query contain this.
    pub matching: String,
    pub status: u16,
    pub retry_after: Option<String>,
}

struct Shared<A> {
    api: A,
    latency: Duration,
    requests: Mutex<Vec<Recorded>>,
    faults: Mutex<VecDeque<Fault>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

/// A running fake; stops when dropped.
pub struct Fake<A: Api> {
    addr: SocketAddr,
    shared: Arc<Shared<A>>,
    task: tokio::task::JoinHandle<()>,
}

impl<A: Api> Drop for Fake<A> {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl<A: Api> Fake<A> {
    /// Serves `api` on `addr` (`127.0.0.1:0` for an ephemeral port), adding
    /// `latency` to every API request.
    pub async fn start_on(addr: &str, api: A, latency: Duration) -> Self {
        let listener = TcpListener::bind(addr).await.expect("bind the fake API");
        let addr = listener.local_addr().expect("local address");
        let shared = Arc::new(Shared {
            api,
            latency,
            requests: Mutex::default(),
            faults: Mutex::default(),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        });
        let served = Arc::clone(&shared);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let shared = Arc::clone(&served);
                tokio::spawn(async move {
                    let service = service_fn(move |req| handle(Arc::clone(&shared), req));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { addr, shared, task }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The provider's routes and state.
    pub fn api(&self) -> &A {
        &self.shared.api
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// API requests (not a token endpoint) so far.
    pub fn api_requests(&self) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| !self.shared.api.is_side_channel(&r.path))
            .collect()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.shared.requests.lock().unwrap().clear();
        self.shared.max_in_flight.store(0, Ordering::SeqCst);
    }

    /// The most API requests that were in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }

    /// Answers the next request matching `fault.matching` with the fault.
    pub fn inject(&self, fault: Fault) {
        self.shared.faults.lock().unwrap().push_back(fault);
    }

    /// Answers the next `count` requests whose path and query contain
    /// `matching` with `status`.
    pub fn fail_next(&self, matching: &str, status: u16, count: usize, retry_after: Option<&str>) {
        for _ in 0..count {
            self.inject(Fault {
                matching: matching.to_owned(),
                status,
                retry_after: retry_after.map(str::to_owned),
            });
        }
    }
}

impl<A: Api> Fake<A> {
    /// Injects faults given as `STATUS:MATCH:COUNT` (e.g. `503:/stats:5`): the
    /// next COUNT requests whose path and query contain MATCH get STATUS
    /// (429s with `Retry-After: 1`). Prints each; names a malformed one.
    pub fn inject_specs(&self, specs: &[String]) -> Result<(), String> {
        for spec in specs {
            let parts: Vec<&str> = spec.splitn(3, ':').collect();
            let parsed = match parts.as_slice() {
                [status, matching, count] => status
                    .parse::<u16>()
                    .ok()
                    .zip(count.parse::<usize>().ok())
                    .map(|(s, c)| (s, *matching, c)),
                _ => None,
            };
            let Some((status, matching, count)) = parsed else {
                return Err(format!("fault `{spec}` is not STATUS:MATCH:COUNT"));
            };
            let retry_after = (status == 429).then_some("1");
            self.fail_next(matching, status, count, retry_after);
            println!("fault: the next {count} request(s) matching `{matching}` get HTTP {status}");
        }
        Ok(())
    }
}

struct InFlight<'a>(&'a AtomicUsize);
impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn handle<A: Api>(shared: Arc<Shared<A>>, req: Request<Incoming>) -> Result<Response, Infallible> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let raw_query = parts.uri.query().unwrap_or("").to_owned();
    let recorded = Recorded {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query: form_pairs(&raw_query),
        headers: parts.headers,
        body,
    };
    shared.requests.lock().unwrap().push(recorded.clone());
    if shared.api.is_side_channel(&recorded.path) {
        return Ok(shared.api.route(&recorded));
    }

    let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    shared.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let _guard = InFlight(&shared.in_flight);
    if !shared.latency.is_zero() {
        tokio::time::sleep(shared.latency).await;
    }

    let target = format!("{}?{raw_query}", recorded.path);
    let fault = {
        let mut faults = shared.faults.lock().unwrap();
        let at = faults.iter().position(|f| target.contains(&f.matching));
        at.and_then(|i| faults.remove(i))
    };
    if let Some(fault) = fault {
        let status = StatusCode::from_u16(fault.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = reply(status, shared.api.fault_body(status));
        if let Some(after) = fault.retry_after {
            resp.headers_mut().insert("retry-after", after.parse().unwrap());
        }
        shared.api.finish(&mut resp);
        return Ok(resp);
    }
    let mut resp = shared.api.route(&recorded);
    shared.api.finish(&mut resp);
    Ok(resp)
}

/// A JSON answer.
pub fn reply(status: StatusCode, body: Value) -> Response {
    let mut resp = Response::new(Full::new(Bytes::from(body.to_string())));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    resp
}

/// An answer without a body.
pub fn empty(status: StatusCode) -> Response {
    let mut resp = Response::new(Full::new(Bytes::new()));
    *resp.status_mut() = status;
    resp
}

/// `application/x-www-form-urlencoded` pairs (also a query string).
pub fn form_pairs(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// Percent-decodes (and turns `+` into a space).
pub fn decode(s: &str) -> String {
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
