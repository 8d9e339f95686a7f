//! `cloud_images::testing` as a user sees it: each fake's `client()`, what
//! `requests()` records, faults (statuses, delays, bodies cut short),
//! latency, addresses, and the server stopping with the fake.

use std::time::{Duration, Instant};

use cloud_images::testing::{FakeContabo, FakeDigitalOcean, FakeIonos, Fault, contabo, digitalocean, ionos};
use cloud_images::wait::WaitOptions;
use cloud_images::{Error, Execute, Paginate, RetryPolicy, TimeoutKind, Timeouts};
use futures::TryStreamExt;

mod support;
use support::fast_retries;

/// Polls every 5 ms with the default ceiling and timeout (not
/// `support::quick_wait`, which also lowers those).
fn quick_wait() -> WaitOptions {
    WaitOptions::default().with_interval(Duration::from_millis(5))
}

#[tokio::test]
async fn each_fakes_client_is_configured_for_it() {
    let fake = FakeContabo::start().await;
    let images: Vec<_> = fake
        .client()
        .retrieve_image_list()
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(images.len(), fake.images().len());
    assert_eq!(
        fake.requests()[0].header("authorization"),
        Some("Bearer demo-token")
    );

    let fake = FakeDigitalOcean::start().await;
    let image = fake
        .client()
        .images_get()
        .image_id("ubuntu-24-04-x64")
        .execute()
        .await
        .unwrap();
    assert_eq!(image.image.slug.as_deref(), Some("ubuntu-24-04-x64"));
    assert_eq!(fake.requests()[0].path, "/v2/images/ubuntu-24-04-x64");
    assert_eq!(
        fake.requests()[0].header("authorization"),
        Some("Bearer do-demo-token")
    );

    let fake = FakeIonos::start().await;
    let images = fake.client().list_images().await.unwrap();
    assert_eq!(images.len(), 17);
    assert_eq!(fake.requests()[0].query_value("depth"), Some("1"));
    assert_eq!(
        fake.requests()[0].header("authorization"),
        Some("Bearer ionos-demo-token")
    );
}

#[tokio::test]
async fn clients_follow_the_configured_credentials() {
    // Contabo without a static token: the OAuth2 password grant.
    let fake = FakeContabo::start_with(
        contabo::Config::default()
            .with_token(None)
            .with_oauth(contabo::OAuthConfig::default()),
    )
    .await;
    fake.client()
        .retrieve_custom_images_stats()
        .execute()
        .await
        .unwrap();
    assert_eq!(fake.tokens_issued(), 1);
    let sent = fake.requests();
    assert_eq!(sent[0].path, contabo::TOKEN_PATH);
    assert!(sent[0].form().contains(&("grant_type".into(), "password".into())));
    assert_eq!(sent[1].header("authorization"), Some("Bearer access-1"));
    assert_eq!(
        fake.api_requests().len(),
        1,
        "token requests are not API requests"
    );

    // IONOS without a token: HTTP Basic, and the contract number it expects.
    let fake = FakeIonos::start_with(
        ionos::Config::default()
            .with_token(None)
            .with_contract_number(31_415_926),
    )
    .await;
    fake.client().list_images().await.unwrap();
    let sent = &fake.requests()[0];
    assert!(sent.header("authorization").unwrap().starts_with("Basic "));
    assert_eq!(sent.header("x-contract-number"), Some("31415926"));

    // No credentials configured: none sent, every request accepted.
    let fake = FakeDigitalOcean::start_with(digitalocean::Config::default().with_token(None)).await;
    fake.client().images_list().execute().await.unwrap();
    assert_eq!(fake.requests()[0].header("authorization"), None);
}

#[tokio::test]
async fn requests_record_method_path_query_headers_and_body() {
    let fake = FakeIonos::start().await;
    let client = fake.client();
    let id = FakeIonos::private_id(1);
    client
        .update_image(
            &id,
            cloud_images::ionos::types::ImageProperties::builder()
                .name(Some("renamed".to_owned()))
                .try_into()
                .unwrap(),
            quick_wait(),
        )
        .await
        .unwrap();
    let sent = fake.requests();
    assert_eq!(sent[0].method, http::Method::PATCH);
    assert_eq!(sent[0].segments(), ["images", id.as_str()]);
    assert_eq!(sent[0].json().unwrap()["name"], "renamed");
    assert!(sent[0].header("x-request-id").is_some());
    let polls = sent.iter().filter(|r| r.path.ends_with("/status")).count();
    assert_eq!(polls, 3, "QUEUED, RUNNING, DONE");
    assert_eq!(fake.image(&id).unwrap()["properties"]["name"], "renamed");

    fake.clear_requests();
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn status_faults_hit_the_matching_requests_as_often_as_asked() {
    let fake = FakeContabo::start().await;
    let client = fake
        .client_builder()
        .retry_policy(fast_retries())
        .build()
        .unwrap();
    fake.inject(Fault::status(503).matching("/stats").times(2));
    let stats = client.retrieve_custom_images_stats().execute().await.unwrap();
    assert_eq!(stats.attempts(), 3);
    // Used up: the next call goes through at once, and other paths never saw it.
    let stats = client.retrieve_custom_images_stats().execute().await.unwrap();
    assert_eq!(stats.attempts(), 1);

    fake.inject(Fault::status(429).retry_after("0").times(5));
    let err = client.retrieve_image_list().execute().await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(429));
    assert_eq!(err.attempts(), 3);
    fake.clear_faults();
    client.retrieve_image_list().execute().await.unwrap();
}

#[tokio::test]
async fn a_body_cut_short_is_a_transport_error_and_retried() {
    let fake = FakeDigitalOcean::start().await;
    let client = fake
        .client_builder()
        .retry_policy(fast_retries())
        .build()
        .unwrap();
    fake.inject(Fault::truncated_body().matching("/v2/images"));
    let images = client.images_list().execute().await.unwrap();
    assert_eq!(images.attempts(), 2);

    fake.inject(Fault::truncated_body().times(3));
    let err = client.images_list().execute().await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert_eq!(err.attempts(), 3);
}

#[tokio::test]
async fn delays_and_latency_meet_the_clients_time_limits() {
    let fake = FakeContabo::start().await;
    let client = fake
        .client_builder()
        .retry_policy(RetryPolicy::disabled())
        .timeouts(Timeouts::default().with_attempt(Duration::from_millis(500)))
        .build()
        .unwrap();
    fake.inject(Fault::delay(Duration::from_secs(5)));
    let err = client.retrieve_custom_images_stats().execute().await.unwrap_err();
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

    fake.set_latency(Duration::from_secs(1));
    let started = Instant::now();
    assert!(client.retrieve_custom_images_stats().execute().await.is_err());
    assert!(started.elapsed() >= Duration::from_millis(500));
    // Back to none: within the attempt's limit again.
    fake.set_latency(Duration::ZERO);
    client.retrieve_custom_images_stats().execute().await.unwrap();
}

#[tokio::test]
async fn provider_behaviours_users_test_against() {
    // Contabo: a created image downloads over a few GETs.
    let fake = FakeContabo::start_with(contabo::Config::default().with_download_polls(3)).await;
    let client = fake.client();
    let created = client
        .create_custom_image()
        .body_map(|b| {
            b.name("debian-13")
                .url("https://example.com/debian-13.qcow2")
                .os_type(cloud_images::contabo::types::CreateCustomImageRequestOsType::Linux)
                .version("13")
        })
        .execute()
        .await
        .unwrap();
    let mut seen = Vec::new();
    let image = client
        .wait_for_image(&created.data[0].image_id, quick_wait(), |p| seen.push(p.done))
        .await
        .unwrap();
    assert_eq!(image.status.as_deref(), Some("downloaded"));
    assert_eq!(seen.len(), 2, "two polls in progress: {seen:?}");

    // DigitalOcean: NEW, pending, available.
    let fake = FakeDigitalOcean::start().await;
    let client = fake.client();
    let created = client
        .images_create_custom()
        .body(cloud_images::digitalocean::types::ImageNewCustom {
            name: "debian-13".into(),
            url: "https://example.com/debian-13.qcow2".into(),
            region: "nyc3".into(),
            distribution: None,
            description: None,
            tags: None,
        })
        .execute()
        .await
        .unwrap();
    assert_eq!(created.image.status.as_deref(), Some("NEW"));
    let id = created.image.id.to_string();
    let mut statuses = Vec::new();
    let image = client
        .wait_for_image(&id, quick_wait(), |p| statuses.push(p.status.clone()))
        .await
        .unwrap();
    assert_eq!(image.status.as_deref(), Some("available"));
    assert_eq!(
        fake.image(created.image.id as u64).unwrap()["status"],
        "available"
    );

    // IONOS: a failed request carries the API's message.
    let fake = FakeIonos::start().await;
    fake.fail_next_request("Image is in use");
    let err = fake
        .client()
        .delete_image(&FakeIonos::private_id(0), quick_wait())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Image is in use"), "{err}");
    assert_eq!(fake.images().len(), 17);
}

#[tokio::test]
async fn a_fake_on_a_taken_address_is_an_error_and_a_dropped_fake_stops() {
    let fake = FakeDigitalOcean::start().await;
    let taken = FakeDigitalOcean::start_on(fake.addr(), digitalocean::Config::default()).await;
    assert!(taken.is_err());

    let client = fake
        .client_builder()
        .retry_policy(RetryPolicy::disabled())
        .build()
        .unwrap();
    client.images_list().execute().await.unwrap();
    drop(fake);
    tokio::task::yield_now().await;
    let err = client.images_list().execute().await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
}
