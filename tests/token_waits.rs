//! OAuth2 token requests under concurrency and slow or failing token
//! endpoints: one shared request, its failure shared, renewal that fits the
//! token's lifetime, and no caller waiting past its own call's time limit.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cloud_images::auth::{PasswordGrant, TokenSource};
use cloud_images::contabo::Client;
use cloud_images::{Error, Execute, TimeoutKind, Timeouts};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// How the token endpoint answers.
#[derive(Clone, Copy)]
enum Answer {
    /// Reads the request and never answers.
    Never,
    /// `503` after a delay.
    Unavailable(Duration),
    /// A token living `expires_in` seconds, at once.
    Token { expires_in: u64 },
}

/// A token endpoint on loopback that counts the token requests it receives.
struct TokenEndpoint {
    url: String,
    requests: Arc<AtomicUsize>,
}

impl TokenEndpoint {
    async fn start(answer: Answer) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/token", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let counted = requests.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let counted = counted.clone();
                tokio::spawn(async move {
                    // One request per connection: read up to the end of the form body.
                    let mut seen = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !request_complete(&seen) {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => seen.extend_from_slice(&buf[..n]),
                        }
                    }
                    let n = counted.fetch_add(1, Ordering::SeqCst) + 1;
                    let (status, body) = match answer {
                        Answer::Never => {
                            tokio::time::sleep(Duration::from_secs(3600)).await;
                            return;
                        }
                        Answer::Unavailable(delay) => {
                            tokio::time::sleep(delay).await;
                            (
                                "503 Service Unavailable",
                                r#"{"error":"temporarily_unavailable"}"#.to_owned(),
                            )
                        }
                        Answer::Token { expires_in } => (
                            "200 OK",
                            format!(r#"{{"access_token":"token-{n}","expires_in":{expires_in}}}"#),
                        ),
                    };
                    let reply = format!(
                        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = socket.write_all(reply.as_bytes()).await;
                });
            }
        });
        Self { url, requests }
    }

    fn grant(&self) -> PasswordGrant {
        PasswordGrant::new(&self.url, "cid", "csecret", "api-user", "api-pass")
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

fn request_complete(seen: &[u8]) -> bool {
    let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&seen[..end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    seen.len() >= end + 4 + length
}

#[tokio::test]
async fn concurrent_callers_share_one_token_request_and_its_failure() {
    let endpoint = TokenEndpoint::start(Answer::Unavailable(Duration::from_millis(300))).await;
    let grant = endpoint.grant();
    let results = futures::future::join_all((0..6).map(|_| grant.token(None))).await;
    assert_eq!(endpoint.requests(), 1, "one token request for six callers");
    let messages: Vec<String> = results
        .into_iter()
        .map(|r| match r {
            Err(Error::Auth(message)) => message,
            other => panic!("expected Error::Auth, got {other:?}"),
        })
        .collect();
    assert!(messages[0].contains("503"), "{}", messages[0]);
    assert!(messages.iter().all(|m| *m == messages[0]), "{messages:?}");

    // A failure is not cached: the next caller asks again.
    assert!(grant.token(None).await.is_err());
    assert_eq!(endpoint.requests(), 2);
}

#[tokio::test]
async fn a_short_lived_token_serves_most_of_its_life() {
    // 4 s of life with the default 30 s margin: renewed after 3 s, not at
    // every call.
    let endpoint = TokenEndpoint::start(Answer::Token { expires_in: 4 }).await;
    let grant = endpoint.grant();
    for _ in 0..200 {
        let token = grant.token(None).await.unwrap();
        assert_eq!(secrecy::ExposeSecret::expose_secret(&token), "token-1");
    }
    assert_eq!(endpoint.requests(), 1);
}

#[tokio::test]
async fn a_token_endpoint_that_never_answers_ends_each_call_at_its_own_limit() {
    let endpoint = TokenEndpoint::start(Answer::Never).await;
    let client = Client::builder()
        .base_url("http://127.0.0.1:9/v1")
        .token_source(endpoint.grant())
        .timeouts(Timeouts::default().with_operation(Duration::from_secs(1)))
        .build()
        .unwrap();
    let started = Instant::now();
    let calls = (0..6).map(|_| async {
        let result = client.retrieve_custom_images_stats().execute().await;
        (result, started.elapsed())
    });
    for (result, took) in futures::future::join_all(calls).await {
        match result {
            Err(Error::Timeout { limit, .. }) => assert_eq!(limit, TimeoutKind::Operation),
            other => panic!("expected the operation's time limit, got {other:?}"),
        }
        assert!(took < Duration::from_secs(3), "a call ended after {took:?}");
    }
    assert_eq!(
        endpoint.requests(),
        1,
        "the six calls waited for one token request"
    );
}

/// A generated client's own `send()` (outside `execute()`) counts its
/// operation limit from before the wait for its token, as `execute()` does:
/// a token that takes 0.7 s and an answer that takes 0.6 s overrun a 1 s
/// limit, and the call ends at the limit.
#[tokio::test]
async fn a_generated_send_counts_its_limit_from_before_the_token() {
    use cloud_images::testing::Fault;
    use cloud_images::testing::contabo as fake;

    let server = fake::FakeContabo::start_with(
        fake::Config::default()
            .with_token(None)
            .with_oauth(fake::OAuthConfig::new("cid", "csecret", "api-user", "api-pass")),
    )
    .await;
    server.inject(Fault::delay(Duration::from_millis(700)).matching(fake::TOKEN_PATH));
    server.inject(Fault::delay(Duration::from_millis(600)).matching("/images/stats"));
    let client = server
        .client_builder()
        .timeouts(Timeouts::default().with_operation(Duration::from_secs(1)))
        .build()
        .unwrap();
    let started = Instant::now();
    let sent = client.retrieve_custom_images_stats().send().await;
    let took = started.elapsed();
    let err = match sent {
        Err(e) => e,
        Ok(answer) => panic!(
            "answered after {took:?}, past the 1 s limit: {:?}",
            answer.status()
        ),
    };
    // The generated code's error carries the transport's as its source.
    let mut text = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    assert!(
        text.contains("retrieve_custom_images_stats: operation timeout after 1s"),
        "{text}"
    );
    assert!(
        took >= Duration::from_millis(950) && took < Duration::from_millis(1300),
        "ended after {took:?}, not at the limit (the answer came at 1.3 s)"
    );
    assert_eq!(server.tokens_issued(), 1);
    assert_eq!(server.api_requests().len(), 1, "the request was sent once");
}
