//! A crate of its own that uses `cloud-images` with `features = ["testing"]`,
//! as a user's crate would: each fake starts, its `client()` works, and
//! `requests()` shows what was sent.

use std::time::Duration;

use cloud_images::testing::{FakeContabo, FakeDigitalOcean, FakeIonos, Fault, contabo};
use cloud_images::wait::WaitOptions;
use cloud_images::{Execute, Paginate, RetryPolicy};
use futures::TryStreamExt;

#[tokio::test]
async fn contabo() {
    let fake = FakeContabo::start_with(contabo::Config::default().with_custom(3)).await;
    let client = fake.client();
    let custom: Vec<_> = client
        .retrieve_image_list()
        .standard_image(false)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(custom.len(), 3);
    let image = client
        .retrieve_image()
        .image_id(&custom[0].image_id)
        .execute()
        .await
        .unwrap();
    assert_eq!(image.data[0].image_id, custom[0].image_id);

    let sent = fake.requests();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].method, "GET");
    assert_eq!(sent[1].path, format!("/v1/compute/images/{}", custom[0].image_id));
    assert_eq!(sent[1].header("authorization"), Some("Bearer demo-token"));
}

#[tokio::test]
async fn digitalocean() {
    let fake = FakeDigitalOcean::start().await;
    let client = fake
        .client_builder()
        .retry_policy(RetryPolicy::disabled())
        .build()
        .unwrap();
    fake.inject(Fault::status(503).matching("/v2/images"));
    let err = client.images_list().execute().await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    let mine: Vec<_> = client
        .images_list()
        .private(true)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(mine.len(), 9);

    let sent = fake.requests();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].query_value("private"), Some("true"));
}

#[tokio::test]
async fn ionos() {
    let fake = FakeIonos::start().await;
    let wait = WaitOptions::default().with_interval(Duration::from_millis(5));
    fake.client()
        .delete_image(&FakeIonos::private_id(0), wait)
        .await
        .unwrap();
    assert!(fake.image(&FakeIonos::private_id(0)).is_none());

    let sent = fake.requests();
    assert_eq!(sent[0].method, "DELETE");
    assert!(sent[1..].iter().all(|r| r.path.ends_with("/status")));
}

#[test]
fn the_readme_shows_the_readme_test() {
    let readme = include_str!("../../../README.md");
    assert!(
        readme.contains(include_str!("readme.rs")),
        "README.md's \"Testing your code\" example is tests/downstream/tests/readme.rs, word for word"
    );
}
