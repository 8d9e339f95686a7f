//! What an error says of the change a call asked for, and what it shows of
//! the server's answer, against a loopback server that sends exactly the
//! answers real servers send: Contabo's validation errors, error bodies that
//! are not the declared schema, a success to a change that does not decode,
//! answers lost after the request went out, IONOS requests whose status
//! cannot be read, 500s, and huge or hostile text.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cloud_images::error::Outcome;
use cloud_images::images::{ImageUpdate, Images, ImportRequest};
use cloud_images::wait::WaitOptions;
use cloud_images::{Error, Execute, RetryPolicy, StatusCode, TimeoutKind, Timeouts};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

mod support;
use support::closed_url;

// ---------------------------------------------------------------------------
// A scripted server: raw HTTP/1.1, one request per connection.

/// One request as the server saw it: its request line and headers.
#[derive(Debug, Clone)]
struct Seen {
    line: String,
    headers: Vec<(String, String)>,
}

impl Seen {
    fn method(&self) -> &str {
        self.line.split(' ').next().unwrap_or("")
    }
    fn path(&self) -> &str {
        self.line.split(' ').nth(1).unwrap_or("")
    }
}

/// How the server answers.
enum Reply {
    /// These bytes, then the connection closes.
    Raw(Vec<u8>),
    /// The request is read, then the connection closes without an answer.
    Drop,
    /// The request is read, then nothing, ever.
    Hang,
}

type Script = dyn Fn(&Seen, usize) -> Reply + Send + Sync;

struct Server {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    /// A server that answers the `n`-th request (from 0) with `script(seen, n)`.
    async fn start(script: impl Fn(&Seen, usize) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let script: Arc<Script> = Arc::new(script);
        let record = Arc::clone(&seen);
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                connections.spawn(serve(stream, Arc::clone(&record), Arc::clone(&script)));
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

async fn serve(mut stream: TcpStream, record: Arc<Mutex<Vec<Seen>>>, script: Arc<Script>) {
    let Some(seen) = read_request(&mut stream).await else {
        return;
    };
    let n = {
        let mut record = record.lock().unwrap();
        record.push(seen.clone());
        record.len() - 1
    };
    match script(&seen, n) {
        Reply::Raw(bytes) => {
            let _ = stream.write_all(&bytes).await;
            let _ = stream.shutdown().await;
        }
        Reply::Drop => drop(stream),
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
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf.len() - head_end - 4;
    while body < length {
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body += n;
    }
    Some(Seen { line, headers })
}

fn respond(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let mut head = format!(
        "HTTP/1.1 {status} Scripted\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    let mut bytes = (head + "\r\n").into_bytes();
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
// Clients.

const ID: &str = "d5a1c1f0-35b8-4f0e-8a3a-1f1bd2a1c6e4";

/// Retries with a short back-off.
fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .with_initial_backoff(Duration::from_millis(2))
        .with_max_backoff(Duration::from_millis(10))
}

fn contabo(url: &str) -> cloud_images::contabo::Client {
    cloud_images::contabo::Client::builder()
        .base_url(url)
        .bearer_token("t")
        .retry_policy(fast_retries())
        .build()
        .unwrap()
}

fn digitalocean(url: &str) -> cloud_images::digitalocean::Client {
    cloud_images::digitalocean::Client::builder()
        .base_url(url)
        .bearer_token("t")
        .retry_policy(fast_retries())
        .build()
        .unwrap()
}

fn ionos(url: &str) -> cloud_images::ionos::Client {
    cloud_images::ionos::Client::builder()
        .base_url(url)
        .bearer_token("t")
        .retry_policy(fast_retries())
        .build()
        .unwrap()
}

fn create(client: &cloud_images::contabo::Client) -> cloud_images::contabo::builder::CreateCustomImage<'_> {
    client.create_custom_image().body_map(|b| {
        b.name("debian-13")
            .url("https://example.com/debian-13.qcow2")
            .os_type(cloud_images::contabo::types::CreateCustomImageRequestOsType::Linux)
            .version("13")
    })
}

fn quick_wait() -> WaitOptions {
    WaitOptions::default()
        .with_interval(Duration::from_millis(10))
        .with_max_interval(Duration::from_millis(10))
        .with_timeout(Duration::from_secs(5))
}

// ---------------------------------------------------------------------------
// 1. Messages as the servers send them.

#[tokio::test]
async fn contabo_validation_messages_are_joined() {
    let server = Server::start(|_, _| {
        json_reply(
            400,
            &json!({"statusCode": 400, "message": [
                "productId must be longer than or equal to 1 characters",
                "name must be a string"
            ], "error": "Bad Request"}),
        )
    })
    .await;
    let err = contabo(&server.url())
        .retrieve_image()
        .image_id(ID)
        .execute()
        .await
        .unwrap_err();
    let api = err.api().unwrap_or_else(|| panic!("{err:?}"));
    assert_eq!(
        api.message.as_deref(),
        Some("productId must be longer than or equal to 1 characters; name must be a string")
    );
    let text = err.to_string();
    assert!(
        text.starts_with(
            "retrieve_image: HTTP 400 Bad Request: productId must be longer than or equal to 1 \
             characters; name must be a string (request id "
        ),
        "{text}"
    );
    assert_eq!(err.outcome(), Outcome::NotApplied);
}

#[tokio::test]
async fn an_error_body_that_is_not_the_declared_schema_is_still_the_apis_error() {
    // Contabo declares `{message: string, statusCode: integer}` for a 415.
    let server = Server::start(|seen, _| match seen.path() {
        "/v1/compute/images" if seen.method() == "POST" => json_reply(
            415,
            &json!({"statusCode": "415", "message": ["url must point at a .qcow2 or .iso file"]}),
        ),
        _ => respond(415, &[("content-type", "text/html")], b"<html>Unsupported</html>"),
    })
    .await;
    let client = contabo(&server.url());
    let err = create(&client).execute().await.unwrap_err();
    assert!(matches!(err, Error::Api(_)), "{err:?}");
    assert_eq!(err.status(), Some(StatusCode::UNSUPPORTED_MEDIA_TYPE));
    assert_eq!(
        err.api().unwrap().message.as_deref(),
        Some("url must point at a .qcow2 or .iso file")
    );
    assert!(!err.to_string().contains("missing field"), "{err}");
    assert_eq!(err.outcome(), Outcome::NotApplied, "a 4xx changed nothing");
    assert_eq!(server.lines().len(), 1);

    // A body that is not JSON at all: its text.
    let server =
        Server::start(|_, _| respond(415, &[("content-type", "text/html")], b"<html>Unsupported</html>"))
            .await;
    let err = create(&contabo(&server.url())).execute().await.unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::UNSUPPORTED_MEDIA_TYPE), "{err:?}");
    assert_eq!(
        err.api().unwrap().message.as_deref(),
        Some("<html>Unsupported</html>")
    );
}

// ---------------------------------------------------------------------------
// 2. Did the change happen?

#[tokio::test]
async fn a_success_to_a_change_that_does_not_decode_says_it_was_applied() {
    let server = Server::start(|seen, _| match seen.method() {
        "POST" => json_reply(201, &json!({"data": "created, but not as the spec says"})),
        _ => json_reply(200, &json!({"data": "not a list"})),
    })
    .await;
    let client = contabo(&server.url());
    let err = create(&client).execute().await.unwrap_err();
    let Error::Accepted(answer) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(answer.status, StatusCode::CREATED);
    assert_eq!(answer.path, "data");
    assert!(answer.body.contains("created, but not as the spec says"));
    assert!(err.is_applied() && err.may_have_applied());
    assert_eq!(
        err.request_id(),
        server.seen()[0]
            .headers
            .iter()
            .find(|(k, _)| k == "x-request-id")
            .map(|(_, v)| v.as_str())
    );
    let text = err.to_string();
    assert!(
        text.starts_with("create_custom_image: HTTP 201 Created: the server accepted the change, but its answer does not decode at `data`"),
        "{text}"
    );
    assert!(
        text.contains("body: {\"data\":\"created, but not as the spec says\"}"),
        "{text}"
    );
    assert!(text.ends_with("; the change was applied"), "{text}");
    assert_eq!(server.lines().len(), 1, "sent once");

    // A read that does not decode changed nothing.
    let err = client.retrieve_image().image_id(ID).execute().await.unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert_eq!(err.outcome(), Outcome::NotApplied);
    assert!(!err.to_string().contains("applied"), "{err}");
}

#[tokio::test]
async fn the_neutral_api_carries_the_same_outcome() {
    let server = Server::start(|_, _| json_reply(201, &json!({"data": [{"name": "no imageId"}]}))).await;
    let images: &dyn Images = &contabo(&server.url());
    let request = ImportRequest::new("debian-13", "https://example.com/debian-13.qcow2")
        .with_os("linux")
        .with_version("13");
    let err = images.import_from_url(request).await.unwrap_err();
    assert!(matches!(err, Error::Accepted(_)), "{err:?}");
    assert_eq!(err.outcome(), Outcome::Applied);
}

#[tokio::test]
async fn a_change_whose_answer_was_lost_may_have_been_applied() {
    let server = Server::start(|_, _| Reply::Drop).await;
    let client = contabo(&server.url());
    let err = create(&client).execute().await.unwrap_err();
    assert!(matches!(err, Error::Transport { kind: "request", .. }), "{err:?}");
    assert_eq!(err.outcome(), Outcome::MaybeApplied);
    assert!(
        err.to_string().ends_with("; the change may have been applied"),
        "{err}"
    );
    assert_eq!(server.lines().len(), 1, "a POST that was sent is not sent again");

    // A DELETE is retried, and the first attempt may have done it.
    let err = client.delete_image().image_id(ID).execute().await.unwrap_err();
    assert_eq!(err.outcome(), Outcome::MaybeApplied, "{err:?}");
    assert_eq!(err.attempts(), 3);

    // A read never changes anything.
    let err = client.retrieve_image().image_id(ID).execute().await.unwrap_err();
    assert_eq!(err.outcome(), Outcome::NotApplied, "{err:?}");
    assert!(!err.to_string().contains("applied"), "{err}");

    // Nothing sent: not applied.
    let closed = contabo(&closed_url());
    let err = create(&closed).execute().await.unwrap_err();
    assert!(matches!(err, Error::Transport { kind: "connect", .. }), "{err:?}");
    assert_eq!(err.outcome(), Outcome::NotApplied);
}

#[tokio::test]
async fn a_change_whose_answer_is_late_may_have_been_applied() {
    let server = Server::start(|_, _| Reply::Hang).await;
    let client = cloud_images::contabo::Client::builder()
        .base_url(server.url())
        .bearer_token("t")
        .retry_policy(RetryPolicy::disabled())
        .timeouts(Timeouts::default().with_attempt(Duration::from_millis(100)))
        .build()
        .unwrap();
    let err = client.delete_image().image_id(ID).execute().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Timeout {
                limit: TimeoutKind::Attempt,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.outcome(), Outcome::MaybeApplied);
    let err = client.retrieve_image().image_id(ID).execute().await.unwrap_err();
    assert_eq!(err.outcome(), Outcome::NotApplied, "{err:?}");
}

/// The status of an answer came but its body is past `max_body_size`: a
/// success to a change says it was made (the error still names the limit);
/// a failure to a change may have made it; a read changed nothing.
#[tokio::test]
async fn a_change_whose_answer_is_too_large_to_read_says_what_its_status_said() {
    let big = json!({"data": [{"imageId": ID, "name": "x".repeat(4096)}]});
    let server = Server::start(move |seen, _| match (seen.method(), seen.path()) {
        ("DELETE", p) if p.ends_with("/busy") => json_reply(503, &big),
        ("POST", _) => json_reply(201, &big),
        _ => json_reply(200, &big),
    })
    .await;
    let client = cloud_images::contabo::Client::builder()
        .base_url(server.url())
        .bearer_token("t")
        .retry_policy(fast_retries())
        .max_body_size(1024)
        .build()
        .unwrap();
    let changes = [
        ("POST", create(&client).execute().await.map(drop)),
        (
            "PATCH",
            client
                .update_image()
                .image_id(ID)
                .body_map(|b| b.name(Some("renamed".to_owned())))
                .execute()
                .await
                .map(drop),
        ),
        (
            "DELETE",
            client.delete_image().image_id(ID).execute().await.map(drop),
        ),
    ];
    for (method, result) in changes {
        let err = result.unwrap_err();
        assert!(
            matches!(
                err,
                Error::BodyTooLarge {
                    limit: 1024,
                    attempts: 1,
                    ..
                }
            ),
            "{method}: {err:?}"
        );
        assert_eq!(err.outcome(), Outcome::Applied, "{method}: {err}");
        let text = err.to_string();
        assert!(
            text.contains("the response body is larger than the limit of 1024 bytes")
                && text.ends_with("; the change was applied"),
            "{method}: {text}"
        );
    }

    // A failure whose body was not read: the change may have been made.
    let err = client
        .delete_image()
        .image_id("busy")
        .execute()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::BodyTooLarge { limit: 1024, .. }), "{err:?}");
    assert_eq!(err.outcome(), Outcome::MaybeApplied, "{err}");

    // A read changed nothing.
    let err = client.retrieve_image().image_id(ID).execute().await.unwrap_err();
    assert!(matches!(err, Error::BodyTooLarge { limit: 1024, .. }), "{err:?}");
    assert_eq!(err.outcome(), Outcome::NotApplied, "{err}");
    assert!(!err.to_string().contains("applied"), "{err}");

    // None of them was sent again.
    let methods: Vec<String> = server.seen().iter().map(|s| s.method().to_owned()).collect();
    assert_eq!(methods, ["POST", "PATCH", "DELETE", "DELETE", "GET"]);
}

const LOCATION: &str = "https://api.ionos.com/cloudapi/v6/requests/req-1/status";

/// An IONOS server that accepts a deletion as request `req-1`, answers its
/// status polls with `status`, and has the image.
async fn ionos_accepting(status: fn(usize) -> Reply) -> Server {
    Server::start(move |seen, n| match (seen.method(), seen.path()) {
        ("DELETE", _) => respond(202, &[("location", LOCATION)], b""),
        ("PATCH", _) => respond(
            202,
            &[("location", LOCATION), ("content-type", "application/json")],
            json!({"id": "img-1", "type": "image", "metadata": {"state": "BUSY"}}).to_string().as_bytes(),
        ),
        (_, p) if p.starts_with("/requests/req-1/status") => status(n),
        _ => json_reply(
            200,
            &json!({"id": "img-1", "type": "image", "metadata": {"state": "AVAILABLE"}, "properties": {"name": "x"}}),
        ),
    })
    .await
}

#[tokio::test]
async fn an_accepted_ionos_change_whose_status_cannot_be_read_names_the_request() {
    let server = ionos_accepting(|_| {
        json_reply(
            503,
            &json!({"httpStatus": 503, "messages": [{"errorCode": "0", "message": "down"}]}),
        )
    })
    .await;
    let client = ionos(&server.url());
    let err = client.delete_image("img-1", quick_wait()).await.unwrap_err();
    let Error::Unconfirmed(unconfirmed) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(unconfirmed.source.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(err.outcome(), Outcome::MaybeApplied);
    let text = err.to_string();
    assert!(
        text.contains("deletion of image img-1 (request req-1) was accepted"),
        "{text}"
    );
    assert!(text.contains("GET /requests/req-1/status"), "{text}");
    assert!(text.contains("HTTP 503 Service Unavailable: 0: down"), "{text}");
    assert!(text.ends_with("; the change may have been applied"), "{text}");
    assert!(err.request_id().is_some());

    // The same through the neutral API.
    let images: &dyn Images = &client;
    let err = images.delete("img-1").await.unwrap_err();
    assert!(matches!(err, Error::Unconfirmed(_)), "{err:?}");
    assert_eq!(err.outcome(), Outcome::MaybeApplied);
    let err = images
        .update("img-1", ImageUpdate::default().with_name("renamed"))
        .await
        .unwrap_err();
    assert_eq!(err.outcome(), Outcome::MaybeApplied, "{err:?}");
}

#[tokio::test]
async fn an_accepted_ionos_change_still_running_at_the_wait_timeout_may_be_applied() {
    let server =
        ionos_accepting(|_| json_reply(200, &json!({"id": "req-1", "metadata": {"status": "RUNNING"}})))
            .await;
    let err = ionos(&server.url())
        .delete_image("img-1", quick_wait().with_timeout(Duration::from_millis(50)))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Timeout {
                limit: TimeoutKind::Wait,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.outcome(), Outcome::MaybeApplied);
    assert!(err.to_string().contains("(request req-1)"), "{err}");

    // FAILED is final: the change was not made.
    let server = ionos_accepting(|_| {
        json_reply(
            200,
            &json!({"id": "req-1", "metadata": {"status": "FAILED", "message": "in use"}}),
        )
    })
    .await;
    let err = ionos(&server.url())
        .delete_image("img-1", quick_wait())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Wait(_)), "{err:?}");
    assert_eq!(err.outcome(), Outcome::NotApplied);
}

// ---------------------------------------------------------------------------
// 3. A 500 is retried for idempotent methods only.

#[tokio::test]
async fn a_500_is_retried_for_idempotent_methods_only() {
    let contabo_500 = || {
        json_reply(
            500,
            &json!({"statusCode": 500, "message": "Internal Server Error. Please try again later."}),
        )
    };
    let server = Server::start(move |_, _| contabo_500()).await;
    let client = contabo(&server.url());
    let err = client.retrieve_image().image_id(ID).execute().await.unwrap_err();
    assert_eq!(err.attempts(), 3, "{err:?}");
    assert_eq!(err.outcome(), Outcome::NotApplied);
    let err = client.delete_image().image_id(ID).execute().await.unwrap_err();
    assert_eq!(err.attempts(), 3, "{err:?}");
    assert_eq!(
        err.outcome(),
        Outcome::MaybeApplied,
        "a 500 to a change may have made it"
    );
    let err = create(&client).execute().await.unwrap_err();
    assert_eq!(err.attempts(), 1, "a POST is not retried: {err:?}");
    assert_eq!(err.outcome(), Outcome::MaybeApplied);
    let methods: Vec<String> = server.seen().iter().map(|s| s.method().to_owned()).collect();
    assert_eq!(
        methods,
        ["GET", "GET", "GET", "DELETE", "DELETE", "DELETE", "POST"]
    );

    // A PATCH (IONOS) is not retried on a 500 either; a GET is.
    let server = Server::start(move |seen, _| match seen.method() {
        "GET" if seen.path().ends_with("/images/img-1") => json_reply(200, &json!({"id": "img-1"})),
        _ => contabo_500(),
    })
    .await;
    let client = ionos(&server.url());
    let err = client
        .images_patch()
        .image_id("img-1")
        .body(cloud_images::ionos::types::ImageProperties::default())
        .execute()
        .await
        .unwrap_err();
    assert_eq!(err.attempts(), 1, "{err:?}");
    assert_eq!(server.lines().len(), 1);
}

// ---------------------------------------------------------------------------
// 4. Server and caller text in errors is escaped and cut.

#[tokio::test]
async fn a_huge_or_hostile_request_id_is_escaped_and_cut() {
    let huge = format!("\u{1b}[2J{}", "r".repeat(1_000_000));
    let header_id = format!("{}\t{}", "h".repeat(10_000), "j".repeat(10));
    let server = Server::start(move |seen, _| {
        if seen.path().contains("header") {
            respond(
                404,
                &[("x-request-id", header_id.as_str())],
                b"{\"id\": \"not_found\", \"message\": \"gone\"}",
            )
        } else {
            json_reply(
                404,
                &json!({"id": "not_found", "message": "gone", "request_id": huge}),
            )
        }
    })
    .await;
    let client = digitalocean(&server.url());
    let err = client.images_get().image_id("body").execute().await.unwrap_err();
    assert_eq!(err.request_id().map(str::len), Some(1_000_004), "kept as sent");
    let text = err.to_string();
    assert!(text.len() < 1000, "{} bytes", text.len());
    assert!(!text.chars().any(char::is_control), "{text:?}");
    assert!(text.contains("(request id \\u{1b}[2Jrrr"), "{text}");

    let err = client
        .images_get()
        .image_id("header")
        .execute()
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.len() < 1000, "{} bytes", text.len());
    assert!(text.contains("more bytes not shown]"), "{text}");
}

#[tokio::test]
async fn a_transport_error_shows_a_cut_url_and_its_cause() {
    let client = cloud_images::contabo::Client::builder()
        .base_url(closed_url())
        .bearer_token("t")
        .retry_policy(RetryPolicy::disabled())
        .build()
        .unwrap();
    let id = "i".repeat(30_000);
    let err = client.retrieve_image().image_id(&id).execute().await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.len() < 1000, "{} bytes: {}", text.len(), &text[..200]);
    assert!(text.to_lowercase().contains("connection refused"), "{text}");
}

#[tokio::test]
async fn ids_in_wait_errors_are_escaped_and_cut() {
    let id = format!("{}\u{1b}]0;owned\u{7}", "w".repeat(20_000));
    let server =
        Server::start(|_, _| json_reply(200, &json!({"data": [{"imageId": "x", "status": "downloading"}]})))
            .await;
    let err = contabo(&server.url())
        .wait_for_image(&id, quick_wait().with_timeout(Duration::from_millis(30)), |_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Timeout {
                limit: TimeoutKind::Wait,
                ..
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.len() < 1000, "{} bytes", text.len());
    assert!(!text.chars().any(char::is_control), "{text:?}");
}

// ---------------------------------------------------------------------------
// 5. What a caller passes is bounded before anything is sent.

#[tokio::test]
async fn a_request_that_cannot_be_made_fails_at_once() {
    let server = Server::start(|_, _| json_reply(200, &json!({}))).await;
    let client = cloud_images::contabo::Client::builder()
        .base_url(server.url())
        .bearer_token("t")
        .retry_policy(RetryPolicy::default().with_initial_backoff(Duration::from_secs(30)))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client
        .retrieve_image()
        .image_id("i".repeat(100_000))
        .execute()
        .await
        .unwrap_err();
    assert!(err.is_invalid_request(), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "retried: {:?}",
        started.elapsed()
    );
    let text = err.to_string();
    assert!(
        text.starts_with("invalid request: retrieve_image: the request cannot be sent"),
        "{text}"
    );
    assert!(text.len() < 1000, "{} bytes", text.len());
    assert_eq!(err.outcome(), Outcome::NotApplied);
    assert_eq!(server.lines(), Vec::<String>::new());
}

#[tokio::test]
async fn a_default_trace_id_keeps_the_id_rules() {
    for bad in ["", " padded ", "caf\u{e9}", &"t".repeat(129)] {
        let err = cloud_images::contabo::Client::builder()
            .default_header("X-Trace-Id", bad)
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{bad:?}: {err:?}");
        assert!(err.to_string().contains("default header x-trace-id"), "{err}");
    }
    assert!(
        cloud_images::contabo::Client::builder()
            .default_header("x-trace-id", "nightly-sync")
            .build()
            .is_ok()
    );
}

#[tokio::test]
async fn ionos_depth_and_contract_number_are_bounded() {
    let server = Server::start(|_, _| json_reply(200, &json!({"id": "img-1"}))).await;
    let client = ionos(&server.url());
    let err = client
        .images_find_by_id()
        .image_id("img-1")
        .depth(11)
        .execute()
        .await
        .unwrap_err();
    assert!(err.is_invalid_request(), "{err:?}");
    assert!(
        err.to_string()
            .contains("depth 11 is out of range: IONOS accepts 0 to 10"),
        "{err}"
    );
    let err = client
        .images_find_by_id()
        .image_id("img-1")
        .x_contract_number(-5)
        .execute()
        .await
        .unwrap_err();
    assert!(err.is_invalid_request(), "{err:?}");
    assert!(
        err.to_string()
            .contains("X-Contract-Number `-5` is not a contract number"),
        "{err}"
    );
    let err = cloud_images::ionos::Client::builder()
        .base_url(server.url())
        .bearer_token("t")
        .contract_number(u32::MAX)
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains("contract number 4294967295 is out of range"),
        "{err}"
    );
    assert_eq!(server.lines(), Vec::<String>::new(), "nothing sent");
    client
        .images_find_by_id()
        .image_id("img-1")
        .depth(10)
        .execute()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_zero_poll_interval_does_not_flood_the_server() {
    let server =
        Server::start(|_, _| json_reply(200, &json!({"data": [{"imageId": ID, "status": "downloading"}]})))
            .await;
    let zero = WaitOptions::default()
        .with_interval(Duration::ZERO)
        .with_max_interval(Duration::ZERO)
        .with_timeout(Duration::from_millis(200));
    let err = contabo(&server.url())
        .wait_for_image(ID, zero, |_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Timeout {
                limit: TimeoutKind::Wait,
                ..
            }
        ),
        "{err:?}"
    );
    let polls = server.lines().len();
    assert!(polls <= 21, "{polls} polls in 200 ms");
}
