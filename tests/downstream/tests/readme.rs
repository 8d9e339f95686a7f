use cloud_images::contabo::Client;
use cloud_images::testing::{FakeContabo, Fault};
use cloud_images::{Error, Paginate};
use futures::TryStreamExt;

/// The code under test: the names of the account's custom images.
async fn custom_image_names(client: &Client) -> Result<Vec<String>, Error> {
    let images: Vec<_> = client
        .retrieve_image_list()
        .standard_image(false)
        .stream()
        .try_collect()
        .await?;
    Ok(images.into_iter().filter_map(|image| image.name).collect())
}

#[tokio::test]
async fn lists_custom_images_through_a_rate_limit() {
    let fake = FakeContabo::start().await; // 24 standard and 11 custom images
    fake.inject(Fault::status(429).retry_after("0")); // the first request is rate-limited

    let names = custom_image_names(&fake.client()).await.unwrap();
    assert_eq!(names.len(), 11);
    assert!(names.contains(&"app-base-v1".to_owned()));

    let sent = fake.requests(); // the 429 and its retry
    assert_eq!(sent.len(), 2);
    assert!(sent.iter().all(|r| r.path == "/v1/compute/images"));
    let filters: Vec<_> = sent.iter().map(|r| r.query_value("standardImage")).collect();
    assert_eq!(filters, [Some("false"); 2]);
    assert_ne!(sent[0].header("x-request-id"), sent[1].header("x-request-id"));
}
