//! The client against a hostile API server on loopback: what the server saw
//! (the exact request line, or no request at all, or none on the other port)
//! and what the user sees (the error's kind and its text).
//!
//! The checks are written against [`Subject`], what these tests need of a
//! provider's client, so every provider on the shared pipeline runs them; the
//! `#[tokio::test]`s at the bottom run them for Contabo, DigitalOcean and
//! IONOS Cloud, and the neutral `images` API's cases over each of the three.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cloud_images::auth::PasswordGrant;
use cloud_images::contabo::Contabo;
use cloud_images::digitalocean::DigitalOcean;
use cloud_images::error::Outcome;
use cloud_images::images::{ImageUpdate, Images, ListFilter};
use cloud_images::ionos::Ionos;
use cloud_images::provider::Provider;
use cloud_images::transport::DEFAULT_MAX_BODY_SIZE;
use cloud_images::wait::WaitOptions;
use cloud_images::{
    CallOptions, ClientBuilder, Error, Execute, Paginate, PaginationOptions, RetryPolicy, TimeoutKind,
    Timeouts,
};
use futures::StreamExt;
use futures::future::BoxFuture;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

mod support;
use support::closed_url;

// ---------------------------------------------------------------------------
// A hostile server: raw HTTP/1.1 over TCP, one request per connection.

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    /// E.g. `GET /v1/compute/images/a%5Cb HTTP/1.1`.
    line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn path(&self) -> &str {
        self.line.split(' ').nth(1).unwrap_or("")
    }

    /// A query parameter of the request line.
    fn query(&self, key: &str) -> Option<String> {
        let query = self.path().split_once('?')?.1;
        query
            .split('&')
            .find_map(|pair| pair.strip_prefix(key)?.strip_prefix('='))
            .map(str::to_owned)
    }
}

/// How the server answers a request.
enum Reply {
    /// These bytes (a whole response), then the connection closes.
    Raw(Vec<u8>),
    /// This head, then a chunked body that never ends.
    Endless(String),
    /// This head, these bytes of the body, then a connection reset.
    Reset(String, Vec<u8>),
    /// This head, these bytes of the body, then nothing more, ever.
    Stall(String, Vec<u8>),
    /// Nothing, ever.
    Hang,
}

type Answer = dyn Fn(&Seen, usize) -> Reply + Send + Sync;

struct Hostile {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Hostile {
    /// Starts a server that answers the `n`-th request (from 0) `seen` with
    /// `answer(seen, n)`.
    async fn start(answer: impl Fn(&Seen, usize) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let answer: Arc<Answer> = Arc::new(answer);
        let record = Arc::clone(&seen);
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                connections.spawn(serve(stream, Arc::clone(&record), Arc::clone(&answer)));
            }
        });
        Self { addr, seen, task }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn lines(&self) -> Vec<String> {
        self.seen().into_iter().map(|s| s.line).collect()
    }
}

async fn serve(mut stream: TcpStream, record: Arc<Mutex<Vec<Seen>>>, answer: Arc<Answer>) {
    let Some(seen) = read_request(&mut stream).await else {
        return;
    };
    let n = {
        let mut record = record.lock().unwrap();
        record.push(seen.clone());
        record.len() - 1
    };
    match answer(&seen, n) {
        Reply::Raw(bytes) => {
            let _ = stream.write_all(&bytes).await;
            let _ = stream.shutdown().await;
        }
        Reply::Endless(head) => {
            if stream.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let mut chunk = format!("{:x}\r\n", 64 * 1024).into_bytes();
            chunk.extend(std::iter::repeat_n(b' ', 64 * 1024));
            chunk.extend(b"\r\n");
            while stream.write_all(&chunk).await.is_ok() {}
        }
        Reply::Reset(head, partial) => {
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(&partial).await;
            let _ = stream.flush().await;
            tokio::time::sleep(Duration::from_millis(20)).await;
            let _ = stream.set_zero_linger();
        }
        Reply::Stall(head, partial) => {
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(&partial).await;
            let _ = stream.flush().await;
            std::future::pending::<()>().await
        }
        Reply::Hang => std::future::pending::<()>().await,
    }
}

async fn read_request(stream: &mut TcpStream) -> Option<Seen> {
    let mut buf = Vec::new();
    let head_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let line = lines.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Seen { line, headers, body })
}

fn head(status: u16, headers: &[(&str, &str)]) -> String {
    let mut head = format!("HTTP/1.1 {status} Hostile\r\nconnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head + "\r\n"
}

/// A 200 head announcing a JSON body of 1000 bytes (more than is sent).
fn long_json_head() -> String {
    head(
        200,
        &[("content-type", "application/json"), ("content-length", "1000")],
    )
}

fn respond(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let length = body.len().to_string();
    let mut all = headers.to_vec();
    all.push(("content-length", length.as_str()));
    let mut bytes = head(status, &all).into_bytes();
    bytes.extend_from_slice(body);
    Reply::Raw(bytes)
}

fn json_reply(status: u16, body: &Value) -> Reply {
    respond(
        status,
        &[("content-type", "application/json")],
        body.to_string().as_bytes(),
    )
}

// ---------------------------------------------------------------------------
// What the checks need of a provider.

/// A provider's client as the hostile tests drive it.
trait Subject: Provider<Client: std::fmt::Debug + Images> + Sized + 'static {
    /// The path of item `id` (as sent, percent-encoded) and of the list.
    fn item_path(encoded_id: &str) -> String;
    fn list_path() -> &'static str;
    /// The status of a successful deletion.
    const DELETED: u16;
    /// The status of an image that is ready.
    const READY: &'static str;
    /// Gets item `id`, with these ids set on the generated builder.
    fn get<'a>(client: &'a Self::Client, id: &str, ids: BuilderIds) -> BoxFuture<'a, Result<(), Error>>;
    /// Gets item `id` with these per-call options.
    fn get_with(client: &Self::Client, id: String, options: CallOptions) -> BoxFuture<'_, Result<(), Error>>;
    fn delete<'a>(client: &'a Self::Client, id: &str) -> BoxFuture<'a, Result<(), Error>>;
    /// Every item's id over all pages, until the first error (which ends it).
    fn list(client: &Self::Client) -> BoxFuture<'_, Vec<Result<String, Error>>>;
    /// Waits for item `id` to be ready.
    fn wait(client: &Self::Client, id: String, options: WaitOptions) -> BoxFuture<'_, Result<(), Error>>;
    /// The body of item `id`, in state `status` with `error` as its error text.
    fn item(id: &str, status: &str, error: &str) -> Value;
    /// Page `page` (of `pages`, `total` items, `size` a page) with these ids.
    fn page(ids: &[&str], page: u64, size: u64, total: u64, pages: u64) -> Value;
    /// An error body with this message.
    fn error(message: &str) -> Value;
    /// A client for `base_url` that pairs `made`'s transport with `http`.
    fn paired(base_url: &str, made: &Self::Client, http: reqwest::Client) -> Self::Client;
}

/// Ids set through a generated builder's header setters.
#[derive(Default, Clone, Copy)]
struct BuilderIds<'a> {
    request_id: Option<&'a str>,
    trace_id: Option<&'a str>,
}

impl Subject for Contabo {
    fn paired(base_url: &str, made: &Self::Client, http: reqwest::Client) -> Self::Client {
        cloud_images::contabo::Client::new_with_client(base_url, http, made.transport().clone())
    }
    const DELETED: u16 = 204;
    const READY: &'static str = "downloaded";
    fn item_path(encoded_id: &str) -> String {
        format!("/v1/compute/images/{encoded_id}")
    }
    fn list_path() -> &'static str {
        "/v1/compute/images"
    }
    fn get<'a>(client: &'a Self::Client, id: &str, ids: BuilderIds) -> BoxFuture<'a, Result<(), Error>> {
        let mut builder = client.retrieve_image().image_id(id);
        if let Some(r) = ids.request_id {
            builder = builder.x_request_id(r);
        }
        if let Some(t) = ids.trace_id {
            builder = builder.x_trace_id(t);
        }
        Box::pin(async move { builder.execute().await.map(drop) })
    }
    fn get_with(client: &Self::Client, id: String, options: CallOptions) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(async move {
            client
                .retrieve_image()
                .image_id(id)
                .execute_with(options)
                .await
                .map(drop)
        })
    }
    fn delete<'a>(client: &'a Self::Client, id: &str) -> BoxFuture<'a, Result<(), Error>> {
        let builder = client.delete_image().image_id(id);
        Box::pin(async move { builder.execute().await.map(drop) })
    }
    fn list(client: &Self::Client) -> BoxFuture<'_, Vec<Result<String, Error>>> {
        Box::pin(async move {
            client
                .retrieve_image_list()
                .stream_with(PaginationOptions::default().with_page_size(2))
                .map(|r| r.map(|image| image.image_id))
                .collect()
                .await
        })
    }
    fn wait(client: &Self::Client, id: String, options: WaitOptions) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(async move { client.wait_for_image(&id, options, |_| {}).await.map(drop) })
    }
    fn item(id: &str, status: &str, error: &str) -> Value {
        json!({"data": [{"imageId": id, "name": "image", "status": status, "errorMessage": error}]})
    }
    fn page(ids: &[&str], page: u64, size: u64, total: u64, pages: u64) -> Value {
        let data: Vec<Value> = ids.iter().map(|id| json!({"imageId": id})).collect();
        json!({
            "_pagination": {"size": size, "totalElements": total, "totalPages": pages, "page": page},
            "data": data,
        })
    }
    fn error(message: &str) -> Value {
        json!({"statusCode": 400, "message": message})
    }
}

/// DigitalOcean's answers carry numbers as ids; the ids these tests use are
/// names, so an item's name stands for its id.
impl Subject for DigitalOcean {
    fn paired(base_url: &str, made: &Self::Client, http: reqwest::Client) -> Self::Client {
        cloud_images::digitalocean::Client::new_with_client(base_url, http, made.transport().clone())
    }
    const DELETED: u16 = 204;
    const READY: &'static str = "available";
    fn item_path(encoded_id: &str) -> String {
        format!("/v2/images/{encoded_id}")
    }
    fn list_path() -> &'static str {
        "/v2/images"
    }
    fn get<'a>(client: &'a Self::Client, id: &str, ids: BuilderIds) -> BoxFuture<'a, Result<(), Error>> {
        // The generated builders have no id headers: the ids go as call options.
        let mut options = CallOptions::new();
        if let Some(r) = ids.request_id {
            options = options.with_request_id(r);
        }
        if let Some(t) = ids.trace_id {
            options = options.with_trace_id(t);
        }
        Self::get_with(client, id.to_owned(), options)
    }
    fn get_with(client: &Self::Client, id: String, options: CallOptions) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(async move {
            client
                .images_get()
                .image_id(id)
                .execute_with(options)
                .await
                .map(drop)
        })
    }
    fn delete<'a>(client: &'a Self::Client, id: &str) -> BoxFuture<'a, Result<(), Error>> {
        let builder = client.images_delete().image_id(id);
        Box::pin(async move { builder.execute().await.map(drop) })
    }
    fn list(client: &Self::Client) -> BoxFuture<'_, Vec<Result<String, Error>>> {
        Box::pin(async move {
            client
                .images_list()
                .stream_with(PaginationOptions::default().with_page_size(2))
                .map(|r| r.map(|image| image.name.unwrap_or_default()))
                .collect()
                .await
        })
    }
    fn wait(client: &Self::Client, id: String, options: WaitOptions) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(async move { client.wait_for_image(&id, options, |_| {}).await.map(drop) })
    }
    fn item(id: &str, status: &str, error: &str) -> Value {
        json!({"image": {"id": numeric_id(id), "name": id, "status": status, "error_message": error}})
    }
    fn page(ids: &[&str], _page: u64, _size: u64, total: u64, _pages: u64) -> Value {
        let images: Vec<Value> = ids
            .iter()
            .map(|id| json!({"id": numeric_id(id), "name": id}))
            .collect();
        json!({"images": images, "links": {}, "meta": {"total": total}})
    }
    fn error(message: &str) -> Value {
        json!({"id": "bad_request", "message": message, "request_id": "do-request-1"})
    }
}

/// IONOS Cloud: not paged (one `items` collection, at `depth=1`), changes
/// answered `202 Accepted` with a `Location` (the builders return then), and
/// no error text on an image: a failed state's word is what a wait shows, so
/// the error text rides in it (`FAILED bad …`).
impl Subject for Ionos {
    fn paired(base_url: &str, made: &Self::Client, http: reqwest::Client) -> Self::Client {
        cloud_images::ionos::Client::new_with_client(base_url, http, made.transport().clone())
    }
    const DELETED: u16 = 202;
    const READY: &'static str = "AVAILABLE";
    fn item_path(encoded_id: &str) -> String {
        format!("/images/{encoded_id}")
    }
    fn list_path() -> &'static str {
        "/images"
    }
    fn get<'a>(client: &'a Self::Client, id: &str, ids: BuilderIds) -> BoxFuture<'a, Result<(), Error>> {
        // The generated builders have no id headers: the ids go as call options.
        let mut options = CallOptions::new();
        if let Some(r) = ids.request_id {
            options = options.with_request_id(r);
        }
        if let Some(t) = ids.trace_id {
            options = options.with_trace_id(t);
        }
        Self::get_with(client, id.to_owned(), options)
    }
    fn get_with(client: &Self::Client, id: String, options: CallOptions) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(async move {
            client
                .images_find_by_id()
                .image_id(id)
                .execute_with(options)
                .await
                .map(drop)
        })
    }
    fn delete<'a>(client: &'a Self::Client, id: &str) -> BoxFuture<'a, Result<(), Error>> {
        let builder = client.images_delete().image_id(id);
        Box::pin(async move { builder.execute().await.map(drop) })
    }
    fn list(client: &Self::Client) -> BoxFuture<'_, Vec<Result<String, Error>>> {
        Box::pin(async move {
            match client.list_images().await {
                Ok(images) => images.into_inner().into_iter().map(|i| Ok(i.id)).collect(),
                Err(e) => vec![Err(e)],
            }
        })
    }
    fn wait(client: &Self::Client, id: String, options: WaitOptions) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(async move { client.wait_for_image(&id, options, |_| {}).await.map(drop) })
    }
    fn item(id: &str, status: &str, error: &str) -> Value {
        let state = match status {
            "error" => format!("FAILED {error}"),
            "downloading" => "BUSY".to_owned(),
            other => other.to_owned(),
        };
        json!({
            "id": id, "type": "image", "href": format!("/images/{id}"),
            "metadata": {"state": state},
            "properties": {"name": id, "location": "de/fra", "public": false},
        })
    }
    fn page(ids: &[&str], _page: u64, _size: u64, _total: u64, _pages: u64) -> Value {
        let items: Vec<Value> = ids.iter().map(|id| Self::item(id, Self::READY, "")).collect();
        json!({"id": "images", "type": "collection", "items": items})
    }
    fn error(message: &str) -> Value {
        json!({"httpStatus": 400, "messages": [{"message": message}]})
    }
}

/// A stable number for a test id.
fn numeric_id(id: &str) -> u64 {
    id.bytes()
        .fold(7u64, |n, b| n.wrapping_mul(31).wrapping_add(u64::from(b)))
        % 1_000_000_000
}

const TOKEN: &str = "hostile-test-token";
const ID: &str = "d5a1c1f0-35b8-4f0e-8a3a-1f1bd2a1c6e4";

/// A shorter back-off than `support::fast_retries` (2 ms, at most 10 ms).
fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .with_initial_backoff(Duration::from_millis(2))
        .with_max_backoff(Duration::from_millis(10))
}

fn builder<S: Subject>(base_url: &str) -> ClientBuilder<S> {
    ClientBuilder::<S>::new()
        .base_url(base_url)
        .bearer_token(TOKEN)
        .retry_policy(fast_retries())
}

fn client<S: Subject>(server: &Hostile) -> S::Client {
    builder::<S>(&server.url()).build().unwrap()
}

/// A server that answers every request as the API would: item `ID`, ready,
/// or a deletion done.
async fn friendly<S: Subject>() -> Hostile {
    Hostile::start(|seen, _| {
        if seen.line.starts_with("DELETE ") {
            respond(S::DELETED, &[], b"")
        } else {
            json_reply(200, &S::item(ID, S::READY, ""))
        }
    })
    .await
}

fn grant(token_url: String) -> PasswordGrant {
    PasswordGrant::new(token_url, "cid", "csecret", "api-user", "api-pass")
}

// ---------------------------------------------------------------------------
// 1. Path parameters.

async fn path_parameters_are_one_segment<S: Subject>() {
    let server = friendly::<S>().await;
    let client = client::<S>(&server);
    for (id, why) in [("", "is empty"), (".", "is `.`"), ("..", "is `..`")] {
        for err in [
            S::get(&client, id, BuilderIds::default()).await.unwrap_err(),
            S::delete(&client, id).await.unwrap_err(),
        ] {
            assert!(matches!(err, Error::InvalidRequest(_)), "{id:?}: {err:?}");
            let text = err.to_string();
            assert!(text.contains("path parameter `") && text.contains(why), "{text}");
            assert_eq!(err.attempts(), 0);
        }
    }
    assert_eq!(server.lines(), Vec::<String>::new(), "nothing was sent");

    let cases = [
        ("a\\b", "a%5Cb"),
        ("..\\..\\..\\..\\admin", "..%5C..%5C..%5C..%5Cadmin"),
        ("a/b", "a%2Fb"),
        ("%2e%2e", "%252e%252e"),
        ("x?y=1#z", "x%3Fy%3D1%23z"),
        ("...", "..."),
        ("ünï", "%C3%BCn%C3%AF"),
    ];
    for (id, _) in cases {
        S::get(&client, id, BuilderIds::default()).await.unwrap();
        S::delete(&client, id).await.unwrap();
    }
    let expected: Vec<String> = cases
        .iter()
        .flat_map(|(_, sent)| {
            let path = S::item_path(sent);
            [format!("GET {path} HTTP/1.1"), format!("DELETE {path} HTTP/1.1")]
        })
        .collect();
    assert_eq!(server.lines(), expected);
    assert!(
        server
            .seen()
            .iter()
            .all(|s| s.header("authorization") == Some(&*format!("Bearer {TOKEN}")))
    );
}

// ---------------------------------------------------------------------------
// 2. Redirects.

async fn token_redirects_are_not_followed<S: Subject>() {
    let elsewhere =
        Hostile::start(|_, _| json_reply(200, &json!({"access_token": "stolen", "expires_in": 300}))).await;
    for status in [301, 302, 303, 307, 308] {
        let target = format!("{}/token", elsewhere.url());
        let api = Hostile::start(move |seen, _| {
            if seen.path() == "/token" {
                respond(status, &[("location", target.as_str())], b"")
            } else {
                json_reply(200, &S::item(ID, S::READY, ""))
            }
        })
        .await;
        let client = ClientBuilder::<S>::new()
            .base_url(api.url())
            .token_source(grant(format!("{}/token", api.url())))
            .build()
            .unwrap();
        let err = S::get(&client, ID, BuilderIds::default()).await.unwrap_err();
        assert!(matches!(err, Error::Auth(_)), "{err:?}");
        let text = err.to_string();
        assert!(
            text.contains(&format!("a redirect to {}/token", elsewhere.url()))
                && text.contains(&status.to_string()),
            "{text}"
        );
        assert!(!text.contains("csecret") && !text.contains("api-pass"), "{text}");
        assert_eq!(
            api.lines(),
            ["POST /token HTTP/1.1"],
            "no API request without a token"
        );
        assert!(
            api.seen()[0].body.starts_with(b"client_id=cid&"),
            "the form went where it was configured to"
        );
    }
    assert_eq!(
        elsewhere.lines(),
        Vec::<String>::new(),
        "nothing went to the other port"
    );
}

async fn api_redirects_stay_within_the_origin<S: Subject>() {
    let elsewhere = friendly::<S>().await;
    let target = format!("{}{}", elsewhere.url(), S::item_path("stolen"));
    let same_origin = S::item_path("moved");
    let location = target.clone();
    let api = Hostile::start(move |seen, _| match seen.path() {
        p if p == S::item_path("away") => respond(307, &[("location", location.as_str())], b""),
        p if p == S::item_path("here") => respond(308, &[("location", same_origin.as_str())], b""),
        _ => json_reply(200, &S::item(ID, S::READY, "")),
    })
    .await;
    let client = client::<S>(&api);

    let err = S::get(&client, "away", BuilderIds::default()).await.unwrap_err();
    let Error::Redirect {
        location, attempts, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!((location.as_str(), *attempts), (target.as_str(), 1));
    assert!(
        err.to_string()
            .contains(&format!("redirected to {target}; not followed")),
        "{err}"
    );
    assert_eq!(
        elsewhere.lines(),
        Vec::<String>::new(),
        "nothing went to the other port"
    );

    // A redirect within the origin is followed.
    S::get(&client, "here", BuilderIds::default()).await.unwrap();
    let moved = S::item_path("moved");
    assert_eq!(
        api.lines()[1..],
        [
            format!("GET {} HTTP/1.1", S::item_path("here")),
            format!("GET {moved} HTTP/1.1")
        ]
    );

    // With the caller's own HTTP client (which follows any redirect), the other
    // origin's answer is still refused.
    let own = builder::<S>(&api.url())
        .http_client(
            cloud_images::transport::http_client_builder()
                .unwrap()
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let err = S::get(&own, "away", BuilderIds::default()).await.unwrap_err();
    assert!(
        matches!(&err, Error::Redirect { location, .. } if *location == target),
        "{err:?}"
    );
    let reached = elsewhere.seen();
    assert_eq!(reached.len(), 1);
    assert_eq!(reached[0].header("authorization"), None, "the token stayed home");

    // So is it when the crate's transport is paired with such a client.
    let permissive = cloud_images::transport::http_client_builder()
        .unwrap()
        .build()
        .unwrap();
    let paired = S::paired(&api.url(), &client, permissive);
    let err = S::get(&paired, "away", BuilderIds::default()).await.unwrap_err();
    assert!(
        matches!(&err, Error::Redirect { location, .. } if *location == target),
        "{err:?}"
    );
    assert_eq!(
        elsewhere.seen().len(),
        2,
        "followed by reqwest, refused by the layer"
    );
}

async fn api_redirects_stay_under_the_base_and_keep_the_request<S: Subject>() {
    // The API under `/api` of the server: `/outside` is the same origin, not the API.
    let outside = "/outside/stolen";
    let looping = format!("/api{}", S::item_path("loop"));
    let item = format!("/api{}", S::item_path(ID));
    let (looping_target, item_target) = (looping.clone(), item.clone());
    let api = Hostile::start(move |seen, _| match seen.path().strip_prefix("/api") {
        Some(p) if p == S::item_path("away") => respond(307, &[("location", outside)], b""),
        Some(p) if p == S::item_path("loop") => respond(307, &[("location", looping_target.as_str())], b""),
        // A change answered with a redirect that would turn it into a GET.
        Some(p) if p == S::item_path("gone") => respond(303, &[("location", item_target.as_str())], b""),
        _ => json_reply(200, &S::item(ID, S::READY, "")),
    })
    .await;
    let client = builder::<S>(&format!("{}/api", api.url())).build().unwrap();

    let err = S::get(&client, "away", BuilderIds::default()).await.unwrap_err();
    let target = format!("{}{outside}", api.url());
    assert!(
        matches!(&err, Error::Redirect { location, .. } if *location == target),
        "{err:?}"
    );
    assert!(err.to_string().contains("not followed"), "{err}");

    let err = S::get(&client, "loop", BuilderIds::default()).await.unwrap_err();
    assert!(err.to_string().contains("too many redirects"), "{err}");
    assert_eq!(err.outcome(), cloud_images::error::Outcome::NotApplied);

    let err = S::delete(&client, "gone").await.unwrap_err();
    assert!(
        matches!(&err, Error::Redirect { location, .. } if location.ends_with(&item)),
        "{err:?}"
    );
    // The server had the DELETE: a redirect may follow a change it made.
    assert_eq!(err.outcome(), cloud_images::error::Outcome::MaybeApplied, "{err}");

    let lines = api.lines();
    assert!(lines.iter().all(|l| !l.contains("/outside")), "{lines:?}");
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.contains(&format!("{looping} ")))
            .count(),
        11,
        "the first request and ten redirects: {lines:?}"
    );
    assert!(
        !lines
            .iter()
            .any(|l| l.starts_with("GET ") && l.contains(&format!("{item} "))),
        "the DELETE was not turned into a GET: {lines:?}"
    );
}

// ---------------------------------------------------------------------------
// 3. Pagination.

async fn changing_totals_end_the_walk<S: Subject>() {
    let server = Hostile::start(|seen, _| match seen.query("page").as_deref() {
        Some("1") => json_reply(200, &S::page(&["a", "b"], 1, 2, 4, 2)),
        Some("2") => json_reply(200, &S::page(&["c", "d"], 2, 2, 6, 3)),
        _ => json_reply(200, &S::page(&["e", "f"], 3, 2, 6, 3)),
    })
    .await;
    let results = S::list(&client::<S>(&server)).await;
    let ids: Vec<&str> = results
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(String::as_str)
        .collect();
    assert_eq!(
        ids,
        ["a", "b", "c", "d"],
        "the items that arrived, then the error"
    );
    let Some(Err(err)) = results.last() else {
        panic!("the walk must end in an error: {results:?}")
    };
    assert!(matches!(err, Error::Pagination { page: 2, .. }), "{err:?}");
    assert!(
        err.to_string().contains("page 1 announced")
            && err.to_string().contains("4 items, page 2 announces")
            && err
                .to_string()
                .contains("6 items; the list changed during the walk"),
        "{err}"
    );
    let pages: Vec<Option<String>> = server.seen().iter().map(|s| s.query("page")).collect();
    assert_eq!(pages, [Some("1".into()), Some("2".into())]);
    assert!(server.seen().iter().all(|s| s.path().starts_with(S::list_path())));
}

// ---------------------------------------------------------------------------
// 4. Response size.

fn kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|l| {
        l.strip_prefix(field)?
            .trim()
            .strip_suffix("kB")?
            .trim()
            .parse()
            .ok()
    })
}

async fn an_endless_body_stops_at_the_limit<S: Subject>() {
    let before = kib("VmRSS:");
    let server = Hostile::start(|_, _| {
        Reply::Endless(head(
            200,
            &[
                ("content-type", "application/json"),
                ("transfer-encoding", "chunked"),
            ],
        ))
    })
    .await;
    let err = S::get(&client::<S>(&server), ID, BuilderIds::default())
        .await
        .unwrap_err();
    let Error::BodyTooLarge { limit, attempts, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        (*limit, *attempts),
        (DEFAULT_MAX_BODY_SIZE, 1),
        "a final error, not retried"
    );
    assert!(
        err.to_string()
            .contains("the response body is larger than the limit of 16777216 bytes"),
        "{err}"
    );
    assert_eq!(server.lines().len(), 1);
    if let (Some(before), Some(peak)) = (before, kib("VmHWM:")) {
        let grown_mib = peak.saturating_sub(before) / 1024;
        assert!(grown_mib < 256, "memory grew by {grown_mib} MiB");
    }
}

async fn the_body_limit_is_configurable_and_checked_before_reading<S: Subject>() {
    let body = S::item(ID, S::READY, &"x".repeat(4000)).to_string();
    let small = body.len() as u64;
    let server = Hostile::start(move |seen, _| {
        if seen.path() == S::item_path("huge") {
            // Announces 1 GiB, sends a few bytes, then waits.
            Reply::Raw(
                (head(
                    200,
                    &[
                        ("content-type", "application/json"),
                        ("content-length", "1073741824"),
                    ],
                ) + "{\"data\"")
                    .into_bytes(),
            )
        } else {
            respond(200, &[("content-type", "application/json")], body.as_bytes())
        }
    })
    .await;
    let exact = builder::<S>(&server.url()).max_body_size(small).build().unwrap();
    S::get(&exact, ID, BuilderIds::default()).await.unwrap();
    let tight = builder::<S>(&server.url())
        .max_body_size(small - 1)
        .build()
        .unwrap();
    let err = S::get(&tight, ID, BuilderIds::default()).await.unwrap_err();
    assert!(
        matches!(err, Error::BodyTooLarge { limit, .. } if limit == small - 1),
        "{err:?}"
    );

    let default = builder::<S>(&server.url())
        .timeouts(Timeouts::default().with_attempt(Duration::from_secs(20)))
        .build()
        .unwrap();
    let err = S::get(&default, "huge", BuilderIds::default()).await.unwrap_err();
    assert!(
        matches!(err, Error::BodyTooLarge { .. }),
        "refused without waiting for the body: {err:?}"
    );
}

async fn a_huge_token_answer_is_refused<S: Subject>() {
    let server = Hostile::start(|seen, _| {
        if seen.path() == "/token" {
            let token = "t".repeat(2 * 1024 * 1024);
            json_reply(200, &json!({"access_token": token}))
        } else {
            json_reply(200, &S::item(ID, S::READY, ""))
        }
    })
    .await;
    let client = ClientBuilder::<S>::new()
        .base_url(server.url())
        .token_source(grant(format!("{}/token", server.url())))
        .build()
        .unwrap();
    let err = S::get(&client, ID, BuilderIds::default()).await.unwrap_err();
    assert!(matches!(err, Error::Auth(_)), "{err:?}");
    assert!(
        err.to_string().contains("answered with more than 1048576 bytes"),
        "{err}"
    );
    assert_eq!(server.lines(), ["POST /token HTTP/1.1"]);
}

// ---------------------------------------------------------------------------
// 5. Huge durations and expiry.

async fn huge_limits_and_expiry_do_not_panic<S: Subject>() {
    let server = Hostile::start(|seen, n| match seen.path() {
        "/token" => json_reply(200, &json!({"access_token": "forever", "expires_in": 1.0e19})),
        // The first API request fails, so that a retry is waited for.
        _ if n == 1 => json_reply(503, &S::error("busy")),
        // The item is pending on its first poll.
        _ if n == 2 => json_reply(200, &S::item(ID, "downloading", "")),
        _ => json_reply(200, &S::item(ID, S::READY, "")),
    })
    .await;
    let client = ClientBuilder::<S>::new()
        .base_url(server.url())
        .token_source(grant(format!("{}/token", server.url())))
        .timeouts(
            Timeouts::none()
                .with_connect(Duration::MAX)
                .with_attempt(Duration::MAX)
                .with_operation(Duration::MAX),
        )
        .retry_policy(
            fast_retries()
                .with_max_backoff(Duration::MAX)
                .with_max_retry_after(Duration::MAX),
        )
        .build()
        .unwrap();
    let options = WaitOptions::default()
        .with_interval(Duration::from_millis(1))
        .with_max_interval(Duration::MAX)
        .with_timeout(Duration::MAX);
    S::wait(&client, ID.into(), options).await.unwrap();
    S::get(&client, ID, BuilderIds::default()).await.unwrap();
    let lines = server.lines();
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("POST /token")).count(),
        1,
        "{lines:?}"
    );
    assert_eq!(lines.len(), 5, "token, 503, pending, ready, get: {lines:?}");
}

// ---------------------------------------------------------------------------
// 6. Base and token URLs.

async fn urls_with_query_fragment_or_userinfo_are_refused<S: Subject>() {
    let server = friendly::<S>().await;
    let base = server.url();
    let with_password = base.replace("http://", "http://admin:s3cret@");
    for (url, why) in [
        (format!("{base}/prefix?x=1"), "has a query"),
        (format!("{base}/prefix?"), "has a query"),
        (format!("{base}/prefix#frag"), "has a fragment"),
        (with_password.clone(), "has a user name or password"),
    ] {
        let builder = builder::<S>(&url);
        assert!(!format!("{builder:?}").contains("s3cret"));
        let err = builder.build().unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err:?}");
        let text = err.to_string();
        assert!(text.contains(why) && !text.contains("s3cret"), "{text}");
    }
    for (url, why) in [
        (format!("{with_password}/token"), "has a user name or password"),
        (format!("{base}/token?realm=x"), "has a query"),
    ] {
        let grant = grant(url);
        assert!(!format!("{grant:?}").contains("s3cret"));
        let err = ClientBuilder::<S>::new()
            .base_url(&base)
            .token_source(grant)
            .build()
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("token URL") && text.contains(why) && !text.contains("s3cret"),
            "{text}"
        );
    }
    let err = builder::<S>("http://admin:s3cret@[::1").build().unwrap_err();
    assert!(!err.to_string().contains("s3cret"), "{err}");
    assert_eq!(server.lines(), Vec::<String>::new());

    // A path prefix is kept.
    let prefixed = builder::<S>(&format!("{base}/prefix/")).build().unwrap();
    S::get(&prefixed, ID, BuilderIds::default()).await.unwrap();
    assert_eq!(
        server.lines(),
        [format!("GET /prefix{} HTTP/1.1", S::item_path(ID))]
    );
}

// ---------------------------------------------------------------------------
// 7. Server text.

async fn server_text_is_escaped_and_cut<S: Subject>() {
    let forged = "denied\r\n2026-01-01 INFO all good\x1b[2J\x1b]0;owned\x07\u{202e}";
    let huge = "m".repeat(1_000_000);
    let failed_image = format!("bad {forged}");
    let server = Hostile::start(move |seen, _| match seen.path() {
        p if p == S::item_path("forged") => json_reply(400, &S::error(forged)),
        p if p == S::item_path("huge") => json_reply(400, &S::error(&huge)),
        _ => json_reply(200, &S::item(ID, "error", &failed_image)),
    })
    .await;
    let client = client::<S>(&server);

    let err = S::get(&client, "forged", BuilderIds::default())
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        !text.chars().any(char::is_control) && !text.contains('\u{202e}'),
        "{text:?}"
    );
    assert!(
        text.contains("denied\\r\\n2026-01-01 INFO all good\\u{1b}[2J\\u{1b}]0;owned\\u{7}\\u{202e}"),
        "{text}"
    );
    assert_eq!(
        err.api().unwrap().message.as_deref(),
        Some(forged),
        "kept as sent"
    );

    let err = S::get(&client, "huge", BuilderIds::default()).await.unwrap_err();
    let text = err.to_string();
    assert!(text.chars().count() < 1000, "{} characters", text.chars().count());
    assert!(text.contains("… [999600 more bytes not shown]"), "{text}");
    let body = err.api().unwrap().body.as_ref().unwrap();
    assert!(
        body.to_string().contains(&"m".repeat(1_000_000)),
        "the whole body stays available"
    );

    let quick = WaitOptions::default().with_interval(Duration::from_millis(1));
    let err = S::wait(&client, ID.into(), quick).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Wait(_)), "{err:?}");
    assert!(
        !text.chars().any(char::is_control) && text.contains("bad denied\\r\\n"),
        "{text:?}"
    );
}

// ---------------------------------------------------------------------------
// 8. Causes.

async fn errors_show_their_root_cause<S: Subject>() {
    let closed = builder::<S>(&closed_url())
        .retry_policy(RetryPolicy::disabled())
        .build()
        .unwrap();
    let err = S::get(&closed, ID, BuilderIds::default()).await.unwrap_err();
    assert!(matches!(err, Error::Transport { kind: "connect", .. }), "{err:?}");
    assert!(
        err.to_string().to_lowercase().contains("connection refused"),
        "{err}"
    );

    let hanging = Hostile::start(|_, _| Reply::Hang).await;
    let client = ClientBuilder::<S>::new()
        .base_url(hanging.url())
        .token_source(grant(format!("{}/token", hanging.url())).timeout(Duration::from_millis(200)))
        .build()
        .unwrap();
    let err = S::get(&client, ID, BuilderIds::default()).await.unwrap_err();
    assert!(matches!(err, Error::Auth(_)), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("did not answer within 200ms (timeout)"), "{text}");
    assert!(!text.contains("cannot reach"), "{text}");
}

// ---------------------------------------------------------------------------
// 9. Odd inputs.

async fn a_reset_mid_body_is_retried_for_idempotent_methods<S: Subject>() {
    let body = S::item(ID, S::READY, "").to_string();
    let server = Hostile::start(move |_, n| {
        if n == 0 {
            Reply::Reset(long_json_head(), body.as_bytes()[..10].to_vec())
        } else {
            respond(200, &[("content-type", "application/json")], body.as_bytes())
        }
    })
    .await;
    S::get(&client::<S>(&server), ID, BuilderIds::default())
        .await
        .unwrap();
    let line = format!("GET {} HTTP/1.1", S::item_path(ID));
    assert_eq!(server.lines(), [line.clone(), line]);
    let ids: Vec<_> = server
        .seen()
        .iter()
        .map(|s| s.header("x-request-id").map(str::to_owned))
        .collect();
    assert_ne!(ids[0], ids[1], "each attempt has its own request id");

    let once = Hostile::start(|_, _| Reply::Reset(long_json_head(), b"{\"data\": [".to_vec())).await;
    let client = builder::<S>(&once.url())
        .retry_policy(RetryPolicy::disabled())
        .build()
        .unwrap();
    let err = S::get(&client, ID, BuilderIds::default()).await.unwrap_err();
    assert!(matches!(err, Error::Transport { kind: "request", .. }), "{err:?}");
    assert_eq!(once.lines().len(), 1);
}

async fn a_stalled_body_is_cut_off_by_the_attempt_limit<S: Subject>() {
    let body = S::item(ID, S::READY, "").to_string();
    let stalled = move || Reply::Stall(long_json_head(), body.as_bytes()[..10].to_vec());
    let server = Hostile::start(move |_, _| stalled()).await;
    let client = builder::<S>(&server.url())
        .retry_policy(fast_retries().with_max_attempts(2))
        .timeouts(Timeouts::default().with_attempt(Duration::from_millis(100)))
        .build()
        .unwrap();
    let err = S::get(&client, ID, BuilderIds::default()).await.unwrap_err();
    let Error::Timeout {
        limit,
        after,
        attempts,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(
        (*limit, *after, *attempts),
        (TimeoutKind::Attempt, Duration::from_millis(100), 2)
    );
    assert!(err.is_timeout(), "{err:?}");
    let ids: Vec<_> = server
        .seen()
        .iter()
        .map(|s| s.header("x-request-id").map(str::to_owned))
        .collect();
    assert_eq!(ids.len(), 2, "the stalled GET was sent again");
    assert_ne!(ids[0], ids[1], "each attempt has its own request id");
    assert_eq!(err.request_id(), ids[1].as_deref(), "the last attempt's id");
}

async fn a_fractional_expires_in_is_rounded_down<S: Subject>() {
    let server = Hostile::start(|seen, _| match seen.path() {
        "/token" => json_reply(200, &json!({"access_token": "tok", "expires_in": 3600.5})),
        _ => json_reply(200, &S::item(ID, S::READY, "")),
    })
    .await;
    let client = ClientBuilder::<S>::new()
        .base_url(server.url())
        .token_source(grant(format!("{}/token", server.url())))
        .build()
        .unwrap();
    for _ in 0..2 {
        S::get(&client, ID, BuilderIds::default()).await.unwrap();
    }
    let seen = server.seen();
    assert_eq!(
        seen.iter().filter(|s| s.path() == "/token").count(),
        1,
        "the token was cached"
    );
    assert!(
        seen.iter()
            .filter(|s| s.path() != "/token")
            .all(|s| s.header("authorization") == Some("Bearer tok"))
    );
}

async fn bad_ids_are_refused_before_sending<S: Subject>() {
    let server = friendly::<S>().await;
    let client = client::<S>(&server);
    let long = "a".repeat(64 * 1024);
    let bad = ["", "ünïcode", long.as_str(), " padded", "tab\tinside"];
    for id in bad {
        for options in [
            CallOptions::new().with_request_id(id),
            CallOptions::new().with_trace_id(id),
        ] {
            let err = S::get_with(&client, ID.into(), options).await.unwrap_err();
            assert!(matches!(err, Error::InvalidRequest(_)), "{id:?}: {err:?}");
            assert!(err.to_string().chars().count() < 300, "{err}");
        }
        let ids = BuilderIds {
            trace_id: Some(id),
            ..Default::default()
        };
        let err = S::get(&client, ID, ids).await.unwrap_err();
        assert!(matches!(err, Error::InvalidRequest(_)), "{id:?}: {err:?}");
        // A generated header setter names the header; call options name the id.
        let text = err.to_string();
        assert!(text.contains("x-trace-id") || text.contains("trace id"), "{text}");
        let err = builder::<S>(&server.url()).trace_id(id).build().unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{id:?}: {err:?}");
        // A default header of the same name keeps the same rules.
        let err = builder::<S>(&server.url())
            .default_header(S::TRACE_ID_HEADER, id)
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{id:?}: {err:?}");
        assert!(err.to_string().chars().count() < 300, "{err}");
    }
    let err = S::get_with(
        &client,
        ID.into(),
        CallOptions::new().with_trace_id(long.as_str()),
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("is 65536 bytes long, more than the 128 allowed"),
        "{err}"
    );
    let err = S::get_with(&client, ID.into(), CallOptions::new().with_request_id("ünïcode"))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("request id `ünïcode` is not printable ASCII"),
        "{err}"
    );
    assert_eq!(server.lines(), Vec::<String>::new(), "nothing was sent");

    // A good chosen id goes out as it is.
    let ids = BuilderIds {
        request_id: Some("3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"),
        trace_id: Some("deploy 42"),
    };
    S::get(&client, ID, ids).await.unwrap();
    let seen = server.seen();
    assert_eq!(seen[0].header("x-request-id"), ids.request_id);
    assert_eq!(seen[0].header("x-trace-id"), ids.trace_id);
}

// ---------------------------------------------------------------------------
// 10. Answers and inputs that are not what the spec says.

async fn an_error_body_in_another_shape_is_the_apis_error<S: Subject>() {
    let server = Hostile::start(|seen, _| match seen.path() {
        p if p == S::item_path("array") => json_reply(
            422,
            &json!({"statusCode": 422, "message": ["name must be a string", "url must be a URL"]}),
        ),
        p if p == S::item_path("nested") => {
            json_reply(503, &json!({"error": {"code": 503, "message": "upstream down"}}))
        }
        _ => respond(502, &[("content-type", "text/html")], b"<html>Bad Gateway</html>"),
    })
    .await;
    let client = client::<S>(&server);
    let cases = [
        ("array", 422, "name must be a string; url must be a URL"),
        ("nested", 503, "upstream down"),
        ("html", 502, "<html>Bad Gateway</html>"),
    ];
    for (id, status, message) in cases {
        let err = S::get(&client, id, BuilderIds::default()).await.unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status), "{err:?}");
        assert_eq!(err.api().unwrap().message.as_deref(), Some(message), "{err:?}");
        assert!(!err.may_have_applied(), "a read: {err}");
    }
}

async fn a_request_that_cannot_be_made_is_not_retried<S: Subject>() {
    let server = friendly::<S>().await;
    // A back-off long enough to notice.
    let client = builder::<S>(&server.url())
        .retry_policy(RetryPolicy::default().with_initial_backoff(Duration::from_secs(30)))
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let err = S::get(&client, &"x".repeat(70_000), BuilderIds::default())
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(err.is_invalid_request(), "{err:?}");
    assert!(err.to_string().chars().count() < 600, "{err}");
    assert!(!err.may_have_applied());
    assert_eq!(server.lines(), Vec::<String>::new(), "nothing was sent");

    // A URL that can be made but is long: its error shows it cut.
    let closed = builder::<S>(&closed_url())
        .retry_policy(RetryPolicy::disabled())
        .build()
        .unwrap();
    let err = S::get(&closed, &"y".repeat(20_000), BuilderIds::default())
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.chars().count() < 600, "{} characters", text.chars().count());
    assert!(text.to_lowercase().contains("connection refused"), "{text}");
}

// ---------------------------------------------------------------------------
// The cases, for every provider.

// ---------------------------------------------------------------------------
// 13. A change whose answer is too large to read.

/// The status came, the body did not: a success made the change; a 5xx
/// may have.
async fn a_change_answered_too_large_says_what_its_status_said<S: Subject>() {
    let server = Hostile::start(|seen, _| {
        let status = if seen.path() == S::item_path("done") {
            200
        } else {
            503
        };
        Reply::Endless(head(
            status,
            &[
                ("content-type", "application/json"),
                ("transfer-encoding", "chunked"),
            ],
        ))
    })
    .await;
    let client = builder::<S>(&server.url()).max_body_size(1024).build().unwrap();
    for (id, outcome) in [("done", Outcome::Applied), ("busy", Outcome::MaybeApplied)] {
        let err = S::delete(&client, id).await.unwrap_err();
        assert!(
            matches!(
                err,
                Error::BodyTooLarge {
                    limit: 1024,
                    attempts: 1,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(err.outcome(), outcome, "{id}: {err}");
        assert!(err.to_string().ends_with(&outcome.to_string()), "{err}");
    }
    assert_eq!(server.lines().len(), 2, "neither is sent again");
}

// ---------------------------------------------------------------------------
// 14. The neutral `images` API keeps the same limits.

/// Ids the path cannot hold are refused before anything is sent, by every
/// operation; any other id is one path segment.
async fn the_neutral_api_sends_one_segment_or_nothing<S: Subject>() {
    let server = friendly::<S>().await;
    let client = client::<S>(&server);
    let images: &dyn Images = &client;
    for (id, why) in [("", "is empty"), (".", "is `.`"), ("..", "is `..`")] {
        for err in [
            images.get(id).await.unwrap_err(),
            images.delete(id).await.unwrap_err(),
            images
                .update(id, ImageUpdate::default().with_name("x"))
                .await
                .unwrap_err(),
        ] {
            assert!(err.is_invalid_request(), "{id:?}: {err:?}");
            let text = err.to_string();
            assert!(text.contains("path parameter `") && text.contains(why), "{text}");
            assert_eq!(err.outcome(), Outcome::NotApplied);
        }
    }
    assert_eq!(server.lines(), Vec::<String>::new(), "nothing was sent");
    images.get("../a/b?c#d").await.unwrap();
    assert_eq!(
        server.lines(),
        [format!("GET {} HTTP/1.1", S::item_path("..%2Fa%2Fb%3Fc%23d"))]
    );
}

/// The body limit, redirects to another origin, and server text, through
/// `Images::get`.
async fn the_neutral_api_keeps_the_body_limit_redirects_and_escaping<S: Subject>() {
    let elsewhere = friendly::<S>().await;
    let target = format!("{}{}", elsewhere.url(), S::item_path("stolen"));
    let forged = format!("denied\r\n\x1b[2J\u{202e}{}", "m".repeat(5000));
    let error = S::error(&forged);
    let server = Hostile::start(move |seen, _| match seen.path() {
        p if p == S::item_path("away") => respond(307, &[("location", target.as_str())], b""),
        p if p == S::item_path("endless") => Reply::Endless(head(
            200,
            &[
                ("content-type", "application/json"),
                ("transfer-encoding", "chunked"),
            ],
        )),
        p if p == S::item_path("forged") => json_reply(400, &error),
        p if p == S::item_path("garbage") => respond(
            200,
            &[("content-type", "application/json")],
            b"<html>\x1b[2J not an image",
        ),
        _ => json_reply(200, &S::item(ID, S::READY, "")),
    })
    .await;
    let client = builder::<S>(&server.url())
        .max_body_size(64 * 1024)
        .build()
        .unwrap();
    let images: &dyn Images = &client;

    let err = images.get("endless").await.unwrap_err();
    assert!(matches!(err, Error::BodyTooLarge { limit: 65536, .. }), "{err:?}");
    assert_eq!(err.outcome(), Outcome::NotApplied, "{err}");

    let err = images.get("garbage").await.unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert_eq!(err.outcome(), Outcome::NotApplied, "{err}");
    let text = err.to_string();
    assert!(!text.chars().any(char::is_control), "{text:?}");

    let err = images.get("away").await.unwrap_err();
    assert!(matches!(err, Error::Redirect { .. }), "{err:?}");
    assert_eq!(elsewhere.lines(), Vec::<String>::new(), "nothing went elsewhere");

    let err = images.get("forged").await.unwrap_err();
    let text = err.to_string();
    assert!(
        !text.chars().any(char::is_control) && !text.contains('\u{202e}'),
        "{text:?}"
    );
    assert!(text.contains("denied\\r\\n\\u{1b}[2J\\u{202e}mmm"), "{text}");
    assert!(
        text.chars().count() < 1000,
        "cut: {} characters",
        text.chars().count()
    );
    assert_eq!(
        err.api().unwrap().message.as_deref(),
        Some(&*forged),
        "kept whole"
    );
}

/// A server that never answers: a read times out within its limit and did
/// nothing; a change says it may have been applied.
async fn the_neutral_api_keeps_its_time_limits_and_a_lost_change_may_have_happened<S: Subject>() {
    let server = Hostile::start(|_, _| Reply::Hang).await;
    let client = builder::<S>(&server.url())
        .timeouts(
            Timeouts::default()
                .with_attempt(Duration::from_millis(100))
                .with_operation(Duration::from_millis(400)),
        )
        .build()
        .unwrap();
    let images: &dyn Images = &client;
    let started = std::time::Instant::now();
    let err = images.get(ID).await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(err.outcome(), Outcome::NotApplied, "{err}");
    for err in [
        images.delete(ID).await.unwrap_err(),
        images
            .update(ID, ImageUpdate::default().with_name("renamed"))
            .await
            .unwrap_err(),
    ] {
        assert!(err.is_timeout(), "{err:?}");
        assert_eq!(err.outcome(), Outcome::MaybeApplied, "{err}");
        assert!(
            err.to_string().ends_with("the change may have been applied"),
            "{err}"
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "three calls within their limits: {:?}",
        started.elapsed()
    );
}

/// A hostile list page through `Images::list`: a body that is not the
/// declared list, or one that never ends, is one error that ends the
/// stream; the page is not asked for again.
async fn the_neutral_list_ends_at_a_hostile_page<S: Subject>() {
    let garbage = json!({"data": "not a list", "images": "not a list", "items": "not a list"});
    let not_a_list = Hostile::start(move |_, _| json_reply(200, &garbage)).await;
    let endless = Hostile::start(|_, _| {
        Reply::Endless(head(
            200,
            &[
                ("content-type", "application/json"),
                ("transfer-encoding", "chunked"),
            ],
        ))
    })
    .await;
    for server in [&not_a_list, &endless] {
        let client = builder::<S>(&server.url())
            .max_body_size(64 * 1024)
            .build()
            .unwrap();
        let images: &dyn Images = &client;
        let got: Vec<_> = images.list(ListFilter::default()).collect().await;
        let [Err(err)] = &got[..] else {
            panic!("one error, then the end: {got:?}")
        };
        if std::ptr::eq(server, &not_a_list) {
            assert!(matches!(err, Error::Decode { .. }), "{err:?}");
        } else {
            assert!(matches!(err, Error::BodyTooLarge { limit: 65536, .. }), "{err:?}");
        }
        assert_eq!(err.outcome(), Outcome::NotApplied, "{err}");
        let lines = server.lines();
        assert_eq!(lines.len(), 1, "not asked for again: {lines:?}");
        assert!(
            lines[0].starts_with(&format!("GET {}", S::list_path())),
            "{lines:?}"
        );
    }
}

/// `Images::delete` answered with a redirect to another origin: not
/// followed, nothing reaches the other origin, and the DELETE the server
/// had may have been carried out.
async fn the_neutral_delete_does_not_follow_a_redirect_elsewhere<S: Subject>() {
    let elsewhere = friendly::<S>().await;
    let target = format!("{}{}", elsewhere.url(), S::item_path(ID));
    let location = target.clone();
    let server = Hostile::start(move |seen, _| {
        if seen.line.starts_with("DELETE ") {
            respond(307, &[("location", location.as_str())], b"")
        } else {
            json_reply(200, &S::item(ID, S::READY, ""))
        }
    })
    .await;
    let client = client::<S>(&server);
    let images: &dyn Images = &client;
    let err = images.delete(ID).await.unwrap_err();
    assert!(
        matches!(&err, Error::Redirect { location, .. } if *location == target),
        "{err:?}"
    );
    assert_eq!(err.outcome(), Outcome::MaybeApplied, "{err}");
    assert!(
        err.to_string().ends_with("the change may have been applied"),
        "{err}"
    );
    assert_eq!(elsewhere.lines(), Vec::<String>::new(), "nothing went elsewhere");
    let deletes: Vec<String> = server
        .lines()
        .into_iter()
        .filter(|l| l.starts_with("DELETE "))
        .collect();
    assert_eq!(
        deletes,
        [format!("DELETE {} HTTP/1.1", S::item_path(ID))],
        "sent once"
    );
}

macro_rules! hostile_suite {
    ($module:ident, $provider:ty) => {
        mod $module {
            use super::*;

            #[tokio::test]
            async fn path_parameters_become_one_segment_or_nothing_is_sent() {
                path_parameters_are_one_segment::<$provider>().await;
            }

            #[tokio::test]
            async fn a_token_endpoint_redirect_is_not_followed_with_the_credentials() {
                token_redirects_are_not_followed::<$provider>().await;
            }

            #[tokio::test]
            async fn an_api_redirect_to_another_origin_is_not_followed() {
                api_redirects_stay_within_the_origin::<$provider>().await;
            }

            #[tokio::test]
            async fn an_api_redirect_outside_the_base_or_turning_a_change_into_a_get_is_not_followed() {
                api_redirects_stay_under_the_base_and_keep_the_request::<$provider>().await;
            }

            #[tokio::test]
            async fn an_endless_body_ends_at_the_size_limit_with_bounded_memory() {
                an_endless_body_stops_at_the_limit::<$provider>().await;
            }

            #[tokio::test]
            async fn the_body_limit_is_a_setting_and_a_declared_huge_body_is_not_read() {
                the_body_limit_is_configurable_and_checked_before_reading::<$provider>().await;
            }

            #[tokio::test]
            async fn a_huge_token_answer_is_not_read() {
                a_huge_token_answer_is_refused::<$provider>().await;
            }

            #[tokio::test]
            async fn durations_and_expiry_beyond_the_clock_do_not_panic() {
                huge_limits_and_expiry_do_not_panic::<$provider>().await;
            }

            #[tokio::test]
            async fn base_and_token_urls_with_query_fragment_or_password_are_refused_without_echoing_it() {
                urls_with_query_fragment_or_userinfo_are_refused::<$provider>().await;
            }

            #[tokio::test]
            async fn server_text_in_errors_is_escaped_and_cut() {
                server_text_is_escaped_and_cut::<$provider>().await;
            }

            #[tokio::test]
            async fn transport_and_token_errors_name_their_cause() {
                errors_show_their_root_cause::<$provider>().await;
            }

            #[tokio::test]
            async fn a_connection_reset_mid_body_is_retried_for_get_only_within_the_attempts() {
                a_reset_mid_body_is_retried_for_idempotent_methods::<$provider>().await;
            }

            #[tokio::test]
            async fn a_body_that_stalls_is_cut_off_by_the_attempt_limit_and_retried() {
                a_stalled_body_is_cut_off_by_the_attempt_limit::<$provider>().await;
            }

            #[tokio::test]
            async fn an_expires_in_with_a_fraction_is_accepted() {
                a_fractional_expires_in_is_rounded_down::<$provider>().await;
            }

            #[tokio::test]
            async fn request_and_trace_ids_that_are_empty_non_ascii_or_huge_are_refused() {
                bad_ids_are_refused_before_sending::<$provider>().await;
            }

            #[tokio::test]
            async fn an_error_body_not_in_the_declared_shape_is_the_apis_error_with_its_message() {
                an_error_body_in_another_shape_is_the_apis_error::<$provider>().await;
            }

            #[tokio::test]
            async fn a_request_that_cannot_be_made_fails_at_once_with_its_url_cut() {
                a_request_that_cannot_be_made_is_not_retried::<$provider>().await;
            }

            #[tokio::test]
            async fn a_change_answered_with_a_body_too_large_is_applied_for_a_success_only() {
                a_change_answered_too_large_says_what_its_status_said::<$provider>().await;
            }

            #[tokio::test]
            async fn neutral_path_parameters_become_one_segment_or_nothing_is_sent() {
                the_neutral_api_sends_one_segment_or_nothing::<$provider>().await;
            }

            #[tokio::test]
            async fn neutral_calls_keep_the_body_limit_redirects_and_escaping() {
                the_neutral_api_keeps_the_body_limit_redirects_and_escaping::<$provider>().await;
            }

            #[tokio::test]
            async fn a_neutral_list_ends_at_a_hostile_page() {
                the_neutral_list_ends_at_a_hostile_page::<$provider>().await;
            }

            #[tokio::test]
            async fn a_neutral_delete_does_not_follow_a_redirect_elsewhere() {
                the_neutral_delete_does_not_follow_a_redirect_elsewhere::<$provider>().await;
            }

            #[tokio::test]
            async fn neutral_calls_keep_their_time_limits_and_a_lost_change_may_have_happened() {
                the_neutral_api_keeps_its_time_limits_and_a_lost_change_may_have_happened::<$provider>()
                    .await;
            }
        }
    };
}

hostile_suite!(contabo, Contabo);
hostile_suite!(digitalocean, DigitalOcean);
hostile_suite!(ionos, Ionos);

/// Paged walks, for the providers whose lists are paged. IONOS's image list
/// is one collection (no pages, so no totals to change), so this case does
/// not apply to it.
mod paged {
    use super::*;

    #[tokio::test]
    async fn totals_that_change_during_a_walk_end_the_stream_contabo() {
        changing_totals_end_the_walk::<Contabo>().await;
    }

    #[tokio::test]
    async fn totals_that_change_during_a_walk_end_the_stream_digitalocean() {
        changing_totals_end_the_walk::<DigitalOcean>().await;
    }
}

/// IONOS `update_image`: once IONOS says the request is `DONE`, the change
/// was made; a failed re-read of the image says so.
#[tokio::test]
async fn an_ionos_update_whose_result_cannot_be_read_was_applied() {
    const REQUEST: &str = "5d7a1c1f-35b8-4f0e-8a3a-1f1bd2a1c6e4";
    let server = Hostile::start(|seen, _| {
        if seen.line.starts_with("PATCH ") {
            let location = format!(
                "http://{}/requests/{REQUEST}/status",
                seen.header("host").unwrap_or_default()
            );
            // IONOS accepts with the image as it is then, and the request to poll.
            let image = Ionos::item(ID, "BUSY", "").to_string();
            respond(
                202,
                &[("content-type", "application/json"), ("location", location.as_str())],
                image.as_bytes(),
            )
        } else if seen.path().starts_with("/requests/") {
            json_reply(
                200,
                &json!({"id": REQUEST, "type": "request-status", "metadata": {"status": "DONE", "message": "done"}}),
            )
        } else {
            json_reply(500, &Ionos::error("the image store is down"))
        }
    })
    .await;
    let client = client::<Ionos>(&server);
    let change = cloud_images::ionos::types::ImageProperties {
        name: Some("renamed".into()),
        ..Default::default()
    };
    let quick = WaitOptions::default().with_interval(Duration::from_millis(1));
    let err = client.update_image(ID, change, quick).await.unwrap_err();
    assert!(matches!(err, Error::Unconfirmed(_)), "{err:?}");
    assert_eq!(err.outcome(), Outcome::Applied, "{err}");
    let text = err.to_string();
    assert!(
        text.contains("was done, but reading its result failed")
            && text.contains("the image store is down")
            && text.ends_with("the change was applied"),
        "{text}"
    );
}

#[tokio::test]
async fn a_generated_setter_says_why_its_value_was_refused() {
    let server = friendly::<Contabo>().await;
    let client = client::<Contabo>(&server);
    let ids = BuilderIds {
        request_id: Some("bad"),
        ..Default::default()
    };
    let err = Contabo::get(&client, ID, ids).await.unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains(
            "conversion to `RetrieveImageXRequestId` for x_request_id failed: doesn't match pattern"
        ),
        "{text}"
    );
    let err = client
        .retrieve_image_list()
        .page(u64::MAX)
        .execute()
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("for page failed: out of range integral type conversion attempted"),
        "{err}"
    );
    assert_eq!(server.lines(), Vec::<String>::new());
}
