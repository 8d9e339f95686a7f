//! OAuth2 tokens, retries, time limits and waiting, against the fake API on loopback.

use cloud_images::testing::contabo as fake;

use std::time::Duration;

use cloud_images::auth::PasswordGrant;
use cloud_images::contabo::{Client, Contabo, types};
use cloud_images::{
    ClientBuilder, Error, Execute, Paginate, PaginationOptions, RetryPolicy, TimeoutKind, Timeouts,
};
use futures::TryStreamExt;

mod support;
use support::{closed_url, fast_retries, lookup, quick_wait};

fn oauth(expires_in: u64, refresh_tokens: bool) -> fake::Config {
    fake::Config::default().with_token(None).with_oauth(
        fake::OAuthConfig::new("cid", "csecret", "api-user", "api-pass")
            .with_expires_in(expires_in)
            .with_refresh_tokens(refresh_tokens),
    )
}

fn grant(server: &fake::FakeContabo, password: &str) -> PasswordGrant {
    PasswordGrant::new(server.token_url(), "cid", "csecret", "api-user", password)
}

fn oauth_client(server: &fake::FakeContabo, grant: PasswordGrant) -> Client {
    Client::builder()
        .base_url(server.base_url())
        .token_source(grant)
        .retry_policy(fast_retries())
        .build()
        .unwrap()
}

fn token_grants(server: &fake::FakeContabo) -> Vec<String> {
    server
        .requests()
        .iter()
        .filter(|r| r.path == fake::TOKEN_PATH)
        .map(|r| {
            let body = String::from_utf8_lossy(&r.body).into_owned();
            body.split('&')
                .find_map(|p| p.strip_prefix("grant_type="))
                .unwrap_or("")
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn many_concurrent_calls_cause_one_token_request() {
    let server = fake::FakeContabo::start_with(oauth(3600, true)).await;
    let client = oauth_client(&server, grant(&server, "api-pass"));
    let calls = (0..20).map(|_| client.retrieve_custom_images_stats().execute());
    for r in futures::future::join_all(calls).await {
        r.unwrap();
    }
    assert_eq!(token_grants(&server), ["password"]);
    for r in server.api_requests() {
        assert_eq!(r.header("authorization"), Some("Bearer access-1"));
    }
}

#[tokio::test]
async fn an_expiring_token_is_renewed_with_the_refresh_token_or_a_new_grant() {
    // A token of 1 s is renewed after three quarters of it (the 30 s margin
    // is cut to a quarter of the lifetime): each call after 0.8 s renews.
    let server = fake::FakeContabo::start_with(oauth(1, true)).await;
    let client = oauth_client(&server, grant(&server, "api-pass"));
    for n in 0..3 {
        if n > 0 {
            tokio::time::sleep(Duration::from_millis(800)).await;
        }
        client.retrieve_custom_images_stats().execute().await.unwrap();
    }
    assert_eq!(
        token_grants(&server),
        ["password", "refresh_token", "refresh_token"]
    );

    let no_refresh = fake::FakeContabo::start_with(oauth(1, false)).await;
    let client = oauth_client(&no_refresh, grant(&no_refresh, "api-pass"));
    for n in 0..2 {
        if n > 0 {
            tokio::time::sleep(Duration::from_millis(800)).await;
        }
        client.retrieve_custom_images_stats().execute().await.unwrap();
    }
    assert_eq!(token_grants(&no_refresh), ["password", "password"]);
}

#[tokio::test]
async fn a_401_forces_one_refresh_and_one_retry() {
    let server = fake::FakeContabo::start_with(oauth(3600, true)).await;
    let client = oauth_client(&server, grant(&server, "api-pass"));
    client.retrieve_custom_images_stats().execute().await.unwrap();
    server.revoke_tokens();
    server.clear_requests();
    let r = client.retrieve_custom_images_stats().execute().await.unwrap();
    assert_eq!(r.attempts(), 2);
    let api = server.api_requests();
    assert_eq!(api.len(), 2);
    assert_eq!(api[0].header("authorization"), Some("Bearer access-1"));
    assert_eq!(api[1].header("authorization"), Some("Bearer access-2"));
    assert_ne!(api[0].header("x-request-id"), api[1].header("x-request-id"));

    // A 401 that persists: one refresh, one retry, then the 401.
    server.fail_next("/stats", 401, 5, None);
    server.clear_requests();
    let err = client.retrieve_custom_images_stats().execute().await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(server.api_requests().len(), 2);
    assert_eq!(token_grants(&server).len(), 1);
}

#[tokio::test]
async fn rejected_credentials_give_a_clear_error_without_secrets() {
    let server = fake::FakeContabo::start_with(oauth(3600, true)).await;
    let client = oauth_client(&server, grant(&server, "wrong-pass"));
    let err = client.retrieve_custom_images_stats().execute().await.unwrap_err();
    assert!(matches!(err, Error::Auth(_)), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("the API user `api-user` or its password was rejected (invalid_grant"),
        "{text}"
    );
    assert!(
        !text.contains("wrong-pass") && !text.contains("csecret"),
        "{text}"
    );
    assert!(
        server.api_requests().is_empty(),
        "nothing sent to the API without a token"
    );

    let bad_client = PasswordGrant::new(server.token_url(), "cid", "nope", "api-user", "api-pass");
    let err = oauth_client(&server, bad_client)
        .retrieve_custom_images_stats()
        .execute()
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("client id `cid` or its secret was rejected"),
        "{err}"
    );
}

#[tokio::test]
async fn from_env_builds_an_oauth_client_and_names_missing_variables() {
    let server = fake::FakeContabo::start_with(oauth(3600, true)).await;
    let vars = [
        ("CNTB_API", server.base_url()),
        ("CNTB_OAUTH2_TOKEN_URL", server.token_url()),
        ("CNTB_OAUTH2_CLIENT_ID", "cid".to_owned()),
        ("CNTB_OAUTH2_CLIENT_SECRET", "csecret".to_owned()),
        ("CNTB_OAUTH2_USER", "api-user".to_owned()),
        ("CNTB_OAUTH2_PASS", "api-pass".to_owned()),
    ];
    let lookup = lookup(&vars);
    let builder = ClientBuilder::<Contabo>::from_lookup(&lookup).unwrap();
    let shown = format!("{builder:?}");
    assert!(
        !shown.contains("csecret") && !shown.contains("api-pass"),
        "{shown}"
    );
    let client = builder.build().unwrap();
    client.retrieve_custom_images_stats().execute().await.unwrap();
    assert_eq!(token_grants(&server), ["password"]);

    let without_pass = |name: &str| {
        if name == "CNTB_OAUTH2_PASS" {
            None
        } else {
            lookup(name)
        }
    };
    let err = ClientBuilder::<Contabo>::from_lookup(without_pass).unwrap_err();
    assert!(err.to_string().contains("CNTB_OAUTH2_PASS is not set"), "{err}");

    // Plain http to a token endpoint that is not loopback is refused.
    let remote = |name: &str| match name {
        "CNTB_OAUTH2_TOKEN_URL" => Some("http://auth.example.com/token".to_owned()),
        _ => lookup(name),
    };
    let err = ClientBuilder::<Contabo>::from_lookup(remote)
        .unwrap()
        .build()
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("plain http to http://auth.example.com/token"),
        "{err}"
    );
}

fn token_client(server: &fake::FakeContabo, retry: RetryPolicy) -> Client {
    Client::builder()
        .base_url(server.base_url())
        .bearer_token("demo-token")
        .retry_policy(retry)
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_429_with_retry_after_is_retried_with_a_fresh_request_id() {
    let server = fake::FakeContabo::start().await;
    server.fail_next("/stats", 429, 1, Some("1"));
    let client = token_client(&server, fast_retries());
    let started = std::time::Instant::now();
    let r = client.retrieve_custom_images_stats().execute().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "Retry-After: 1 was honoured"
    );
    assert_eq!(r.attempts(), 2);
    let api = server.api_requests();
    assert_eq!(api.len(), 2);
    assert_ne!(api[0].header("x-request-id"), api[1].header("x-request-id"));
    assert_eq!(r.request_id(), api[1].header("x-request-id"));
}

#[tokio::test]
async fn a_retry_after_beyond_the_cap_ends_the_retries() {
    let server = fake::FakeContabo::start().await;
    server.fail_next("/stats", 429, 1, Some("3600"));
    let err = token_client(&server, fast_retries())
        .retrieve_custom_images_stats()
        .execute()
        .await
        .unwrap_err();
    assert_eq!(err.api().unwrap().retry_after, Some(Duration::from_secs(3600)));
    assert_eq!(server.api_requests().len(), 1);
}

#[tokio::test]
async fn a_503_until_the_attempts_run_out_says_so() {
    let server = fake::FakeContabo::start().await;
    server.fail_next("/stats", 503, 10, None);
    let err = token_client(&server, fast_retries())
        .retrieve_custom_images_stats()
        .execute()
        .await
        .unwrap_err();
    let api = server.api_requests();
    assert_eq!(api.len(), 3, "3 attempts by default");
    assert_eq!(err.attempts(), 3);
    let last = api[2].header("x-request-id").unwrap();
    assert_eq!(err.request_id(), Some(last));
    assert_eq!(
        err.to_string(),
        format!(
            "retrieve_custom_images_stats: HTTP 503 Service Unavailable: Service Unavailable \
             (request id {last}, after 3 attempts)"
        )
    );
}

#[tokio::test]
async fn a_500_is_retried_for_idempotent_methods_but_not_for_a_post() {
    let server = fake::FakeContabo::start().await;
    let client = token_client(&server, fast_retries());
    server.fail_next("/stats", 500, 10, None);
    let err = client.retrieve_custom_images_stats().execute().await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
    assert_eq!(server.api_requests().len(), 3, "a GET is retried on a 500");
    assert!(!err.may_have_applied(), "a read changes nothing: {err}");

    server.clear_faults();
    server.clear_requests();
    server.fail_next("/v1/compute/images?", 500, 10, None);
    let err = create(&client, "https://example.com/x.qcow2").await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
    assert_eq!(server.api_requests().len(), 1, "a POST is not retried on a 500");
    assert_eq!(err.outcome(), cloud_images::error::Outcome::MaybeApplied);
    assert!(
        err.to_string().ends_with("; the change may have been applied"),
        "{err}"
    );
}

#[tokio::test]
async fn a_post_whose_answer_was_cut_off_may_have_been_applied() {
    let server = fake::FakeContabo::start().await;
    let client = token_client(&server, fast_retries());
    let before = client
        .retrieve_image_list()
        .standard_image(false)
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    server.inject(cloud_images::testing::Fault::truncated_body().matching("/v1/compute/images?"));
    let err = create(&client, "https://example.com/x.qcow2").await.unwrap_err();
    assert!(matches!(err, Error::Transport { kind: "request", .. }), "{err:?}");
    assert!(err.may_have_applied(), "{err:?}");
    assert!(
        err.to_string().ends_with("; the change may have been applied"),
        "{err}"
    );
    let after = client
        .retrieve_image_list()
        .standard_image(false)
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    assert_eq!(after.len(), before.len() + 1, "it was: once");
}

#[tokio::test]
async fn a_post_that_got_an_answer_is_not_retried() {
    let server = fake::FakeContabo::start().await;
    server.fail_next("/v1/compute/images?", 503, 1, None);
    let client = token_client(&server, fast_retries());
    let err = create(&client, "https://example.com/x.qcow2").await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(server.api_requests().len(), 1);
}

#[tokio::test]
async fn a_post_whose_connection_failed_is_retried() {
    // Nothing listens on this port: every attempt fails to connect.
    let client = Client::builder()
        .base_url(closed_url())
        .retry_policy(fast_retries())
        .build()
        .unwrap();
    let err = create(&client, "https://example.com/x.qcow2").await.unwrap_err();
    assert!(matches!(err, Error::Transport { kind: "connect", .. }), "{err:?}");
    assert_eq!(err.attempts(), 3);
}

/// An HTTP/2 server (prior knowledge, on loopback) that resets the first
/// `refusals` streams with `reason` (with `mid_answer`, after the answer's
/// head and part of its body), then answers a created image; it records each
/// request's `x-request-id`.
async fn h2_server(
    refusals: usize,
    reason: h2::Reason,
    mid_answer: bool,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let ids = seen.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let ids = ids.clone();
            tokio::spawn(async move {
                let Ok(mut connection) = h2::server::handshake(socket).await else {
                    return;
                };
                while let Some(Ok((request, mut respond))) = connection.accept().await {
                    let n = {
                        let mut ids = ids.lock().unwrap();
                        let id = request
                            .headers()
                            .get("x-request-id")
                            .and_then(|v| v.to_str().ok());
                        ids.push(id.unwrap_or_default().to_owned());
                        ids.len()
                    };
                    let answer = http::Response::builder()
                        .status(201)
                        .header("content-type", "application/json")
                        .body(())
                        .unwrap();
                    let body = r#"{"data":[{"tenantId":"INT","customerId":"54321","imageId":"img-1"}],"_links":{"self":"/v1/compute/images/img-1"}}"#;
                    if n <= refusals && !mid_answer {
                        respond.send_reset(reason);
                    } else if n <= refusals {
                        // Reset while the answer is under way (the
                        // connection goes on being driven meanwhile).
                        if let Ok(mut stream) = respond.send_response(answer, false) {
                            let _ =
                                stream.send_data(bytes::Bytes::from_static(&body.as_bytes()[..10]), false);
                            tokio::spawn(async move {
                                tokio::time::sleep(Duration::from_millis(50)).await;
                                stream.send_reset(reason);
                            });
                        }
                    } else if let Ok(mut stream) = respond.send_response(answer, false) {
                        let _ = stream.send_data(bytes::Bytes::from_static(body.as_bytes()), true);
                    }
                }
            });
        }
    });
    (url, seen)
}

/// A client on an HTTP/2 (prior knowledge) reqwest client set up as the
/// crate's own clients are (retries left to the layer).
fn h2_client(url: &str) -> Client {
    let http = cloud_images::transport::api_http_client_builder()
        .unwrap()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    Client::builder()
        .base_url(url)
        .bearer_token("t")
        .http_client(http)
        .retry_policy(fast_retries())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_post_an_http2_server_refused_is_retried_with_a_fresh_request_id() {
    let (url, seen) = h2_server(1, h2::Reason::REFUSED_STREAM, false).await;
    let created = create(&h2_client(&url), "https://example.com/x.qcow2")
        .await
        .unwrap();
    assert_eq!(created.data[0].image_id, "img-1");
    assert_eq!(created.attempts(), 2);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_ne!(seen[0], seen[1], "each attempt has its own request id");
    assert_eq!(created.request_id(), Some(seen[1].as_str()));
}

/// A POST to a server that resets it as `h2_server` does fails at once:
/// one attempt, sent once.
async fn a_post_sent_once(reason: h2::Reason, mid_answer: bool) {
    let (url, seen) = h2_server(3, reason, mid_answer).await;
    let err = create(&h2_client(&url), "https://example.com/x.qcow2")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert_eq!(err.attempts(), 1);
    assert_eq!(seen.lock().unwrap().len(), 1, "sent once");
}

#[tokio::test]
async fn a_post_reset_for_another_reason_is_not_retried() {
    a_post_sent_once(h2::Reason::INTERNAL_ERROR, false).await;
}

#[tokio::test]
async fn a_post_refused_while_its_answer_is_read_is_not_retried() {
    // The server answered, so it had the request: a refusal after that
    // does not make it unprocessed.
    a_post_sent_once(h2::Reason::REFUSED_STREAM, true).await;
}

#[tokio::test]
async fn a_429_in_the_middle_of_a_listing_is_retried() {
    let server =
        fake::FakeContabo::start_with(fake::Config::default().with_standard(100).with_custom(0)).await;
    server.fail_next("page=7&", 429, 1, Some("0"));
    let images: Vec<_> = token_client(&server, fast_retries())
        .retrieve_image_list()
        .stream_with(PaginationOptions::default().with_page_size(10))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(images.len(), 100);
    let page7 = server
        .api_requests()
        .iter()
        .filter(|r| r.query_values("page") == ["7"])
        .count();
    assert_eq!(page7, 2);
}

#[tokio::test]
async fn time_limits_say_which_limit_fired() {
    let server =
        fake::FakeContabo::start_with(fake::Config::default().with_latency(Duration::from_millis(400))).await;
    let attempt_limited = Client::builder()
        .base_url(server.base_url())
        .bearer_token("demo-token")
        .retry_policy(RetryPolicy::disabled())
        .timeouts(Timeouts::default().with_attempt(Duration::from_millis(50)))
        .build()
        .unwrap();
    let err = attempt_limited
        .retrieve_custom_images_stats()
        .execute()
        .await
        .unwrap_err();
    let Error::Timeout { limit, after, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        (*limit, *after),
        (TimeoutKind::Attempt, Duration::from_millis(50))
    );
    assert!(
        err.to_string().contains("per-attempt timeout after 50ms"),
        "{err}"
    );

    let operation_limited = Client::builder()
        .base_url(server.base_url())
        .bearer_token("demo-token")
        .retry_policy(fast_retries())
        .timeouts(
            Timeouts::default()
                .with_attempt(Duration::from_millis(300))
                .with_operation(Duration::from_millis(120)),
        )
        .build()
        .unwrap();
    let err = operation_limited
        .retrieve_custom_images_stats()
        .execute()
        .await
        .unwrap_err();
    let Error::Timeout { limit, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*limit, TimeoutKind::Operation);
}

async fn create(
    client: &Client,
    url: &str,
) -> Result<cloud_images::Response<types::CreateCustomImageResponse>, Error> {
    client
        .create_custom_image()
        .body_map(|b| {
            b.name("x")
                .url(url)
                .os_type(types::CreateCustomImageRequestOsType::Linux)
                .version("1")
        })
        .execute()
        .await
}

#[tokio::test]
async fn waiting_follows_the_download_until_the_image_is_ready() {
    let server = fake::FakeContabo::start_with(fake::Config::default().with_download_polls(4)).await;
    let client = token_client(&server, fast_retries());
    let created = create(&client, "https://example.com/x.qcow2").await.unwrap();
    let mut seen = Vec::new();
    let image = client
        .wait_for_image(&created.data[0].image_id, quick_wait(), |p| {
            seen.push((p.status.clone().unwrap(), p.done.unwrap(), p.total.unwrap()))
        })
        .await
        .unwrap();
    assert_eq!(image.status.as_deref(), Some("downloaded"));
    assert_eq!(seen.len(), 3);
    assert!(seen.iter().all(|(s, _, _)| s == "downloading"));
    assert!(
        seen.windows(2).all(|w| w[0].1 < w[1].1),
        "progress grows: {seen:?}"
    );
}

#[tokio::test]
async fn waiting_on_a_failed_image_reports_its_error_message() {
    let server = fake::FakeContabo::start().await;
    // The ninth seeded custom image failed to download.
    let failed = "c0000008-1111-4111-9111-000000000008";
    let err = token_client(&server, fast_retries())
        .wait_for_image(failed, quick_wait(), |_| {})
        .await
        .unwrap_err();
    let wait = err.wait().unwrap_or_else(|| panic!("{err:?}"));
    assert_eq!(wait.id.as_deref(), Some(failed));
    assert_eq!(wait.status.as_deref(), Some("error"));
    let poll = wait
        .request_id
        .as_deref()
        .expect("the request id of the poll that saw it");
    let sent = server
        .api_requests()
        .last()
        .unwrap()
        .header("x-request-id")
        .unwrap()
        .to_owned();
    assert_eq!(poll, sent, "the id is the one the failing poll sent");
    assert_eq!(
        err.to_string(),
        format!(
            "image {failed} failed: Error downloading image from provided URL: 404 Not Found \
             (request id {poll})"
        )
    );
}

#[tokio::test]
async fn waiting_gives_up_after_its_timeout() {
    let server = fake::FakeContabo::start_with(fake::Config::default().with_download_polls(1_000_000)).await;
    let client = token_client(&server, fast_retries());
    let created = create(&client, "https://example.com/x.iso").await.unwrap();
    let err = client
        .wait_for_image(
            &created.data[0].image_id,
            quick_wait().with_timeout(Duration::from_millis(60)),
            |_| {},
        )
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
}

#[test]
fn debug_of_config_and_client_types_shows_no_secret() {
    let grant = PasswordGrant::new(
        "https://auth.example.com/t",
        "cid",
        "csecret-xyz",
        "user",
        "pass-xyz",
    );
    let builder = Client::builder().token_source(grant);
    let client = Client::builder().bearer_token("tok-xyz").build().unwrap();
    for shown in [
        format!("{builder:?}"),
        format!("{client:?}"),
        format!("{:?}", client.transport()),
    ] {
        for secret in ["csecret-xyz", "pass-xyz", "tok-xyz"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }
}
