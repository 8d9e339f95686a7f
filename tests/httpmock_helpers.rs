//! The typed httpmock helpers (`cloud_images::testing::httpmock`, feature
//! `httpmock`): one mock per operation, matched on what the client puts on
//! the wire (method, path, query, headers, JSON body), answered with the
//! spec's types. Each provider's `MockServerExt` is imported where it is
//! used: operations of different providers share names (`images_get`).

use std::num::NonZeroU64;
use std::time::Duration;

use cloud_images::wait::WaitOptions;
use cloud_images::{Execute, Paginate};
use futures::TryStreamExt;
use httpmock::MockServer;
use serde_json::json;

/// A value of a generated type from its JSON.
fn from<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> T {
    serde_json::from_value(value).unwrap()
}

#[tokio::test]
async fn contabo_list_query_and_headers_and_create_body() {
    use cloud_images::contabo::{Client, types};
    use cloud_images::testing::httpmock::contabo::MockServerExt;

    let server = MockServer::start_async().await;
    let page: types::ListImageResponse = from(json!({
        "_pagination": {"size": 100, "totalElements": 2, "totalPages": 1, "page": 1},
        "_links": {"first": "", "self": "", "last": ""},
        "data": [{"imageId": "a1", "name": "app-v1"}, {"imageId": "b2", "name": "ci-v1"}],
    }));
    let order = vec!["name:asc".to_owned(), "size:desc".to_owned()];
    let list = server.retrieve_image_list(|when, then| {
        when.standard_image(false)
            .order_by(&order)
            .page(1)
            .size(100)
            .name(None)
            .x_trace_id("pipeline-7");
        then.ok(&page);
    });
    let request = types::CreateCustomImageRequest::builder()
        .name("debian-13")
        .url("https://example.com/debian-13.qcow2")
        .os_type(types::CreateCustomImageRequestOsType::Linux)
        .version("13");
    let request: types::CreateCustomImageRequest = request.try_into().unwrap();
    let created: types::CreateCustomImageResponse = from(json!({
        "data": [{"imageId": "c3"}], "_links": {"self": "/v1/compute/images/c3"},
    }));
    let create = server.create_custom_image(|when, then| {
        when.body(&request);
        then.created(&created);
    });

    let client = Client::builder()
        .base_url(server.base_url())
        .bearer_token("t")
        .trace_id("pipeline-7")
        .build()
        .unwrap();
    let images: Vec<_> = client
        .retrieve_image_list()
        .standard_image(false)
        .order_by(order.clone())
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(images.len(), 2);
    let answer = client
        .create_custom_image()
        .body(request.clone())
        .execute()
        .await
        .unwrap();
    assert_eq!(answer.data[0].image_id, "c3");
    list.assert_async().await;
    create.assert_async().await;
}

#[tokio::test]
async fn digitalocean_list_query_and_get_by_slug() {
    use cloud_images::digitalocean::{Client, types};
    use cloud_images::testing::httpmock::digitalocean::MockServerExt;

    let server = MockServer::start_async().await;
    let page: types::ImagesListResponse = from(json!({
        "images": [{"id": 7, "name": "snapshot-7"}],
        "links": {"pages": {}},
        "meta": {"total": 1},
    }));
    let list = server.images_list(|when, then| {
        when.private(true)
            .page(NonZeroU64::new(1))
            .per_page(NonZeroU64::new(100))
            .tag_name(None);
        then.ok(&page);
    });
    let image: types::ImagesGetResponse = from(json!({"image": {"id": 42, "slug": "ubuntu-24-04-x64"}}));
    let get = server.images_get(|when, then| {
        when.image_id("ubuntu-24-04-x64");
        then.ok(&image);
    });

    let client = Client::builder()
        .base_url(server.base_url())
        .bearer_token("t")
        .build()
        .unwrap();
    let mine: Vec<_> = client
        .images_list()
        .private(true)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(mine[0].id, 7);
    let got = client
        .images_get()
        .image_id("ubuntu-24-04-x64")
        .execute()
        .await
        .unwrap();
    assert_eq!(got.image.id, 42);
    list.assert_async().await;
    get.assert_async().await;
}

#[tokio::test]
async fn ionos_patch_body_then_the_request_status() {
    use cloud_images::ionos::{Client, types};
    use cloud_images::testing::httpmock::ionos::MockServerExt;

    let server = MockServer::start_async().await;
    let id = "00002000-0000-4000-8000-000000002000";
    let request_id = "00000001-7e57-4e00-9000-000000000001";
    let properties: types::ImageProperties = from(json!({"name": "renamed"}));
    let image: types::Image = from(json!({"id": id, "properties": {"name": "renamed"}}));
    let patch = server.images_patch(|when, then| {
        when.image_id(id).body(&properties);
        then.accepted(&image).into_inner().header(
            "location",
            format!("{}/requests/{request_id}/status", server.base_url()),
        );
    });
    let done: types::RequestStatus = from(json!({"id": request_id, "metadata": {"status": "DONE"}}));
    let status = server.requests_status_get(|when, then| {
        when.request_id(request_id);
        then.ok(&done);
    });

    // Then the client reads the image as it is now.
    let get = server.images_find_by_id(|when, then| {
        when.image_id(id);
        then.ok(&image);
    });

    let client = Client::builder()
        .base_url(server.base_url())
        .basic_auth("me@example.com", "secret")
        .build()
        .unwrap();
    let wait = WaitOptions::default().with_interval(Duration::from_millis(5));
    client.update_image(id, properties.clone(), wait).await.unwrap();
    patch.assert_async().await;
    status.assert_async().await;
    get.assert_async().await;
}
