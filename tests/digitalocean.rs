//! DigitalOcean on the wire: every operation against the fake (stateful,
//! paginated) or httpmock (exact requests, hostile answers): paths, queries,
//! bodies, pagination, the server's request ids, rate limits, waiting.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use cloud_images::digitalocean::{Client, DigitalOcean, Image, types};
use cloud_images::testing::digitalocean::{self as fake, FakeDigitalOcean};
use cloud_images::{ClientBuilder, Error, Execute, Paginate, PaginationOptions, RetryPolicy, StatusCode};
use futures::TryStreamExt;
use httpmock::prelude::*;
use serde_json::json;

mod support;
use support::{fast_retries, lookup, quick_wait};

fn client(base_url: &str, token: &str) -> Client {
    Client::builder()
        .base_url(base_url)
        .bearer_token(token)
        .retry_policy(fast_retries())
        .build()
        .unwrap()
}

async fn fake() -> (FakeDigitalOcean, Client) {
    let server = FakeDigitalOcean::start().await;
    let client = client(&server.base_url(), "do-demo-token");
    (server, client)
}

#[tokio::test]
async fn listing_walks_every_page_once_with_page_and_per_page() {
    let server = FakeDigitalOcean::start_with(
        fake::Config::default()
            .with_distributions(130)
            .with_applications(20)
            .with_private(47),
    )
    .await;
    let client = client(&server.base_url(), "do-demo-token");
    let images: Vec<Image> = client
        .images_list()
        .stream_with(PaginationOptions::default().with_page_size(25))
        .try_collect()
        .await
        .unwrap();
    let expected: Vec<i64> = server
        .images()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    let got: Vec<i64> = images.iter().map(|i| i.id).collect();
    assert_eq!(got, expected, "every image once, in server order");

    let mut pages = BTreeMap::new();
    for r in server.api_requests() {
        assert_eq!(r.path, "/v2/images");
        assert_eq!(r.header("authorization"), Some("Bearer do-demo-token"));
        assert_eq!(r.header("api-version"), None, "a header the API does not define");
        assert_eq!(r.query_value("per_page"), Some("25"));
        *pages
            .entry(r.query_value("page").unwrap().parse::<u64>().unwrap())
            .or_insert(0) += 1;
    }
    assert_eq!(
        pages.keys().copied().collect::<Vec<_>>(),
        (1..=8).collect::<Vec<_>>()
    );
    assert!(pages.values().all(|n| *n == 1), "each page once: {pages:?}");
}

#[tokio::test]
async fn filters_reach_the_query_and_the_spec_s_unknown_values_decode() {
    let (server, client) = fake().await;
    // A distribution the published spec does not list (the fake's seed
    // keeps to the spec's list).
    let seed = cloud_images::testing::SeedImage::new("nixos")
        .with_custom(true)
        .with_os("NixOS");
    server.insert_image(seed);
    let private: Vec<Image> = client
        .images_list()
        .private(true)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(private.len(), 10);
    assert!(private.iter().all(|i| i.public == Some(false)));
    // Regions and distributions the published spec does not list, and nulls.
    assert!(
        private
            .iter()
            .any(|i| i.regions.as_deref() == Some(&["atl1".to_owned()][..]))
    );
    assert!(private.iter().any(|i| i.distribution.as_deref() == Some("NixOS")));
    assert!(
        private
            .iter()
            .any(|i| i.min_disk_size.is_none() && i.slug.is_none())
    );

    let tagged: Vec<Image> = client
        .images_list()
        .private(true)
        .tag_name("production")
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(tagged.len(), 5);
    let apps: Vec<Image> = client
        .images_list()
        .type_(types::ImagesListType::Application)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(apps.len(), 6);
    let queries: Vec<Vec<(String, String)>> = server.api_requests().into_iter().map(|r| r.query).collect();
    let has = |q: &Vec<(String, String)>, k: &str, v: &str| q.iter().any(|(a, b)| a == k && b == v);
    assert!(has(&queries[0], "private", "true"));
    assert!(has(&queries[1], "tag_name", "production") && has(&queries[1], "private", "true"));
    assert!(has(&queries[2], "type", "application"));
}

#[tokio::test]
async fn a_page_size_above_200_is_refused_before_sending() {
    let (server, client) = fake().await;
    let err = client
        .images_list()
        .stream_with(PaginationOptions::default().with_page_size(201))
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    assert!(err.to_string().contains("page size 201"), "{err}");
    assert!(err.to_string().contains("1 to 200"), "{err}");
    assert!(server.api_requests().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn create_get_update_delete_on_the_wire() {
    let (server, client) = fake().await;
    let created = client
        .images_create_custom()
        .body(types::ImageNewCustom {
            name: "debian-13".into(),
            url: "https://example.com/debian-13.qcow2".into(),
            region: "atl1".into(),
            distribution: Some("Debian".into()),
            description: Some("CIS hardened".into()),
            tags: Some(vec!["base".into()]),
        })
        .execute()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::ACCEPTED);
    let id = created.image.id;
    assert_eq!(created.image.status.as_deref(), Some("NEW"));
    let sent = server.api_requests().pop().unwrap();
    assert_eq!((sent.method.as_str(), sent.path.as_str()), ("POST", "/v2/images"));
    assert_eq!(
        sent.json().unwrap(),
        json!({"name": "debian-13", "url": "https://example.com/debian-13.qcow2", "region": "atl1",
               "distribution": "Debian", "description": "CIS hardened", "tags": ["base"]})
    );

    let by_slug = client
        .images_get()
        .image_id("ubuntu-24-04-x64")
        .execute()
        .await
        .unwrap();
    assert_eq!(by_slug.image.slug.as_deref(), Some("ubuntu-24-04-x64"));

    let updated = client
        .images_update()
        .image_id(id.to_string())
        .body(types::ImageUpdate {
            name: Some("debian-13-cis".into()),
            ..Default::default()
        })
        .execute()
        .await
        .unwrap();
    assert_eq!(updated.image.name.as_deref(), Some("debian-13-cis"));
    let sent = server.api_requests().pop().unwrap();
    assert_eq!(
        (sent.method.as_str(), sent.path.clone()),
        ("PUT", format!("/v2/images/{id}"))
    );
    assert_eq!(
        sent.json().unwrap(),
        json!({"name": "debian-13-cis"}),
        "only what changes"
    );

    let deleted = client
        .images_delete()
        .image_id(id.to_string())
        .execute()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let err = client
        .images_get()
        .image_id(id.to_string())
        .execute()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
}

#[tokio::test]
async fn waiting_follows_an_import_until_available() {
    let (_server, client) = fake().await;
    let created = client
        .images_create_custom()
        .body(types::ImageNewCustom {
            name: "nixos".into(),
            url: "https://example.com/nixos.qcow2".into(),
            region: "nyc3".into(),
            distribution: None,
            description: None,
            tags: None,
        })
        .execute()
        .await
        .unwrap();
    let mut seen = Vec::new();
    let image = client
        .wait_for_image(&created.image.id.to_string(), quick_wait(), |p| {
            seen.push(p.status.clone().unwrap())
        })
        .await
        .unwrap();
    assert_eq!(image.status.as_deref(), Some("available"));
    assert_eq!(seen, ["NEW", "pending"]);
}

#[tokio::test]
async fn a_failed_import_ends_the_wait_with_the_apis_message() {
    let (server, client) = fake().await;
    server.set_status(180_000_002, "pending", "The image URL answered 404 Not Found");
    let err = client
        .wait_for_image("180000002", quick_wait(), |_| {})
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Wait(_)), "{err:?}");
    assert!(err.to_string().contains("404 Not Found"), "{err}");
}

#[tokio::test]
async fn a_transfer_is_posted_and_waited_for() {
    let (server, client) = fake().await;
    let posted = client
        .image_actions_post()
        .image_id("180000001")
        .body(types::ImageActionsPostBody::Transfer(
            types::ImageActionTransfer {
                type_: "transfer".into(),
                region: "fra1".into(),
            },
        ))
        .execute()
        .await
        .unwrap();
    let sent = server.api_requests().pop().unwrap();
    assert_eq!(sent.path, "/v2/images/180000001/actions");
    assert_eq!(
        sent.json().unwrap(),
        json!({"type": "transfer", "region": "fra1"})
    );
    let done = client
        .wait_for_action("180000001", posted.action.id, quick_wait())
        .await
        .unwrap();
    assert_eq!(done.status.as_deref(), Some("completed"));
    let actions: Vec<_> = client
        .image_actions_list()
        .image_id("180000001")
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(actions.len(), 1);
    let image = client.images_get().image_id("180000001").execute().await.unwrap();
    assert!(image.image.regions.as_ref().unwrap().contains(&"fra1".to_owned()));
}

#[tokio::test]
async fn request_ids_are_the_servers_on_success_and_on_error() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/v2/images/42");
            then.status(200)
                .header("x-request-id", "srv-ok-1")
                .header("ratelimit-limit", "5000")
                .header("ratelimit-remaining", "4321")
                .header("ratelimit-reset", "1795000000")
                .json_body(json!({"image": {"id": 42, "name": "n", "status": "available"}}));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/v2/images/43");
            then.status(404).json_body(json!({
                "id": "not_found", "message": "The resource you were accessing could not be found.",
                "request_id": "srv-err-2"
            }));
        })
        .await;
    let client = client(&server.base_url(), "t");
    let ok = client.images_get().image_id("42").execute().await.unwrap();
    assert_eq!(ok.request_id(), Some("srv-ok-1"));
    let limit = ok.rate_limit().unwrap();
    assert_eq!((limit.limit, limit.remaining), (Some(5000), Some(4321)));
    assert_eq!(
        limit.reset,
        Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000))
    );

    let err = client.images_get().image_id("43").execute().await.unwrap_err();
    assert_eq!(err.request_id(), Some("srv-err-2"), "the body's request_id");
    assert_eq!(
        err.to_string(),
        "images_get: HTTP 404 Not Found: The resource you were accessing could not be found. \
         (request id srv-err-2)"
    );
}

#[tokio::test]
async fn a_429_waits_for_a_near_reset_and_not_for_one_in_the_past() {
    let server = MockServer::start_async().await;
    let soon = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 2;
    let limited = server
        .mock_async(|when, then| {
            when.method(GET).path("/v2/images/1");
            then.status(429)
                .header("ratelimit-remaining", "0")
                .header("ratelimit-reset", soon.to_string())
                .json_body(json!({"id": "too_many_requests", "message": "API Rate limit exceeded."}));
        })
        .await;
    let client = Client::builder()
        .base_url(server.base_url())
        .bearer_token("t")
        .retry_policy(RetryPolicy::default().with_max_attempts(2))
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let err = client.images_get().image_id("1").execute().await.unwrap_err();
    // Two attempts, the second after the window reset (not after a 100 ms back-off).
    assert_eq!(err.attempts(), 2);
    assert_eq!(limited.calls_async().await, 2);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(err.status(), Some(StatusCode::TOO_MANY_REQUESTS));
    assert!(err.to_string().contains("API Rate limit exceeded."), "{err}");
}

#[tokio::test]
async fn a_missing_id_is_a_decode_error_naming_the_field() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/v2/images");
            then.status(200).json_body(json!({
                "images": [{"id": 1, "name": "a"}, {"name": "no id"}],
                "links": {}, "meta": {"total": 2}
            }));
        })
        .await;
    let client = client(&server.base_url(), "t");
    let err = client
        .images_list()
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    let Error::Decode { path, message, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(path, "images[1]");
    assert!(message.contains("missing field `id`"), "{message}");
}

#[tokio::test]
async fn a_negative_total_is_a_pagination_error() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/v2/images");
            then.status(200)
                .json_body(json!({"images": [{"id": 1}], "links": {}, "meta": {"total": -5}}));
        })
        .await;
    let err = client(&server.base_url(), "t")
        .images_list()
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Pagination { .. }), "{err:?}");
    assert!(err.to_string().contains("meta.total=-5"), "{err}");
}

#[test]
fn from_env_reads_digitaloceans_variable_names() {
    let vars = [
        ("DIGITALOCEAN_TOKEN", "dop_v1_secret"),
        ("DIGITALOCEAN_API_URL", "http://127.0.0.1:9"),
    ];
    let client = ClientBuilder::<DigitalOcean>::from_lookup(lookup(&vars))
        .unwrap()
        .build()
        .unwrap();
    use cloud_images::provider::ClientInfo;
    assert_eq!(client.baseurl(), "http://127.0.0.1:9");
    assert!(!format!("{client:?}").contains("dop_v1_secret"));
    let err = ClientBuilder::<DigitalOcean>::from_lookup(|_| None).unwrap_err();
    assert!(matches!(err, Error::Config(_)));
    assert!(err.to_string().contains("DIGITALOCEAN_TOKEN"), "{err}");
}

#[tokio::test]
async fn a_wrong_token_is_a_401_with_the_apis_message() {
    let (server, _) = fake().await;
    let err = client(&server.base_url(), "wrong")
        .images_get()
        .image_id("180000001")
        .execute()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::UNAUTHORIZED));
    assert!(err.to_string().contains("Unable to authenticate you"), "{err}");
    assert!(err.request_id().is_some(), "the server's request id");
}

/// A token source that asks another API (through a generated client's own
/// `send()`) before it answers, and keeps what that call got.
#[derive(Debug)]
struct AsksFirst {
    other: Client,
    seen: std::sync::Mutex<Option<(StatusCode, Option<String>, String)>>,
}

impl cloud_images::auth::TokenSource for AsksFirst {
    fn token(
        &self,
        _rejected: Option<secrecy::SecretString>,
    ) -> futures::future::BoxFuture<'_, Result<secrecy::SecretString, Error>> {
        Box::pin(async move {
            let e = self.other.images_get().image_id("7").send().await.unwrap_err();
            let progenitor_client::Error::UnexpectedResponse(answer) = e else {
                panic!("{e:?}")
            };
            let status = answer.status();
            let header = answer
                .headers()
                .get("x-answer")
                .map(|v| v.to_str().unwrap().to_owned());
            let body = answer.text().await.unwrap();
            *self.seen.lock().unwrap() = Some((status, header, body));
            Ok("outer-token".to_owned().into())
        })
    }
}

#[tokio::test]
async fn a_token_source_that_calls_an_api_itself_gets_its_own_answer() {
    let other = MockServer::start_async().await;
    let leaked = other
        .mock_async(|when, then| {
            when.path("/v2/images/7").header("x-request-id", "outer-id");
            then.status(500);
        })
        .await;
    let nested = other
        .mock_async(|when, then| {
            when.method(GET).path("/v2/images/7");
            then.status(418)
                .header("x-answer", "teapot")
                .body("short and stout");
        })
        .await;
    let api = MockServer::start_async().await;
    let outer = api
        .mock_async(|when, then| {
            when.method(GET)
                .path("/v2/images/8")
                .header("authorization", "Bearer outer-token")
                .header("x-request-id", "outer-id");
            then.status(200).json_body(json!({"image": {
                "id": 8, "name": "x", "type": "snapshot", "distribution": "Ubuntu",
                "public": false, "regions": [], "created_at": "2024-01-01T00:00:00Z",
                "min_disk_size": 1, "size_gigabytes": 1.0, "status": "available"
            }}));
        })
        .await;
    let source = std::sync::Arc::new(AsksFirst {
        other: client(&other.base_url(), "other-token"),
        seen: Default::default(),
    });
    let client = Client::builder()
        .base_url(api.base_url())
        .token_source(SharedSource(source.clone()))
        .build()
        .unwrap();
    let image = client
        .images_get()
        .image_id("8")
        .execute_with(cloud_images::CallOptions::new().with_request_id("outer-id"))
        .await
        .unwrap();
    assert_eq!(image.request_id(), Some("outer-id"));
    outer.assert_async().await;
    // The nested call kept its own answer, and did not send the outer
    // call's request id.
    assert_eq!(
        source.seen.lock().unwrap().clone(),
        Some((
            StatusCode::IM_A_TEAPOT,
            Some("teapot".to_owned()),
            "short and stout".to_owned()
        ))
    );
    nested.assert_async().await;
    assert_eq!(leaked.calls_async().await, 0);
}

/// A token source shared with the test.
#[derive(Debug)]
struct SharedSource(std::sync::Arc<AsksFirst>);

impl cloud_images::auth::TokenSource for SharedSource {
    fn token(
        &self,
        rejected: Option<secrecy::SecretString>,
    ) -> futures::future::BoxFuture<'_, Result<secrecy::SecretString, Error>> {
        self.0.token(rejected)
    }
}
