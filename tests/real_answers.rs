//! Answers shaped as the real APIs send them (fields left out, older forms),
//! through the neutral images API and the typed clients, from loopback
//! servers: what a user sees of each.

use cloud_images::images::{Images, ImportRequest, ListFilter};
use cloud_images::{Execute, RetryPolicy};
use futures::TryStreamExt;
use httpmock::prelude::*;
use serde_json::json;

/// The `id`s of the images `filter` lists, with their `custom` flag.
async fn listed(images: &dyn Images, filter: ListFilter) -> Vec<(String, bool)> {
    let found: Vec<_> = images.list(filter).try_collect().await.unwrap();
    found.into_iter().map(|i| (i.id, i.custom)).collect()
}

mod digitalocean {
    use super::*;
    use cloud_images::digitalocean::Client;

    fn client(server: &MockServer) -> Client {
        Client::builder()
            .base_url(server.base_url())
            .bearer_token("t")
            .retry_policy(RetryPolicy::disabled())
            .build()
            .unwrap()
    }

    /// The answer to `POST /v2/images` as DigitalOcean documents it: `type`
    /// and `status`, no `public`.
    fn imported() -> serde_json::Value {
        json!({"image": {
            "created_at": "2018-09-20T19:28:00Z", "description": "Cloud-optimized image w/ small footprint",
            "distribution": "Ubuntu", "error_message": "", "id": 38413969, "name": "ubuntu-18.04-minimal",
            "regions": [], "type": "custom", "tags": ["base-image", "prod"], "status": "NEW"
        }})
    }

    #[tokio::test]
    async fn an_imported_image_is_the_accounts_own() {
        let server = MockServer::start_async().await;
        server
            .mock_async(|when, then| {
                when.method(POST).path("/v2/images");
                then.status(202).json_body(imported());
            })
            .await;
        server
            .mock_async(|when, then| {
                when.method(GET).path("/v2/images/38413969");
                then.status(200).json_body(imported());
            })
            .await;
        let client = client(&server);
        let request =
            ImportRequest::new("ubuntu-18.04-minimal", "https://example.com/u.qcow2").with_region("nyc3");
        let image = client.import_from_url(request).await.unwrap();
        assert!(image.custom, "{image:?}");
        assert!(image.status.is_pending());
        assert!(client.get("38413969").await.unwrap().custom);
        assert_eq!(
            serde_json::to_value(&image).unwrap()["custom"],
            true,
            "what a CLI prints"
        );
    }

    #[tokio::test]
    async fn a_listing_tells_own_images_from_public_ones_without_public() {
        let server = MockServer::start_async().await;
        server
            .mock_async(|when, then| {
                when.method(GET).path("/v2/images");
                then.status(200).json_body(json!({
                    "images": [
                        {"id": 1, "name": "ubuntu-24-04-x64", "type": "base", "public": true, "slug": "ubuntu-24-04-x64"},
                        {"id": 2, "name": "docker-20-04", "type": "snapshot", "public": true},
                        {"id": 3, "name": "web-snapshot", "type": "snapshot"},
                        {"id": 4, "name": "imported", "type": "custom", "status": "NEW"},
                        {"id": 5, "name": "nightly", "type": "backup", "public": false}
                    ],
                    "links": {}, "meta": {"total": 5}
                }));
            })
            .await;
        let client = client(&server);
        let all = listed(&client, ListFilter::default()).await;
        assert_eq!(
            all,
            [
                ("1".to_owned(), false),
                ("2".to_owned(), false),
                ("3".to_owned(), true),
                ("4".to_owned(), true),
                ("5".to_owned(), true)
            ]
        );
        let public = listed(&client, ListFilter::default().with_custom(false)).await;
        assert_eq!(public, [("1".to_owned(), false), ("2".to_owned(), false)]);
    }
}

mod digitalocean_actions {
    use super::*;
    use cloud_images::digitalocean::{Client, action_region};
    use cloud_images::wait::WaitOptions;

    /// An image action as DigitalOcean sent them in 2014: `region` is the
    /// region's slug, not the region object.
    #[tokio::test]
    async fn an_older_action_with_the_region_as_a_slug_is_read_and_waited_for() {
        let server = MockServer::start_async().await;
        let action = json!({"action": {
            "id": 36804636, "status": "completed", "type": "transfer",
            "started_at": "2014-11-14T16:29:21Z", "completed_at": "2014-11-14T16:30:06Z",
            "resource_id": 7938269, "resource_type": "image",
            "region": "nyc3", "region_slug": "nyc3"
        }});
        server
            .mock_async(|when, then| {
                when.method(GET).path("/v2/images/7938269/actions/36804636");
                then.status(200).json_body(action);
            })
            .await;
        let client = Client::builder()
            .base_url(server.base_url())
            .bearer_token("t")
            .retry_policy(RetryPolicy::disabled())
            .build()
            .unwrap();
        let got = client
            .image_actions_get()
            .image_id("7938269")
            .action_id(std::num::NonZeroU64::new(36804636).unwrap())
            .execute()
            .await
            .unwrap();
        assert_eq!(action_region(&got.action), Some("nyc3"));
        let done = client
            .wait_for_action("7938269", 36804636, WaitOptions::default())
            .await
            .unwrap();
        assert_eq!(done.status.as_deref(), Some("completed"));
        assert_eq!(action_region(&done), Some("nyc3"));
    }
}

mod contabo {
    use super::*;
    use cloud_images::contabo::Client;

    fn client(server: &MockServer) -> Client {
        Client::builder()
            .base_url(server.base_url())
            .bearer_token("t")
            .retry_policy(RetryPolicy::disabled())
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn an_image_without_standard_image_is_told_by_its_url() {
        let server = MockServer::start_async().await;
        let custom = json!({
            "imageId": "9f3c0c4e-1a2b-4c5d-8e9f-0a1b2c3d4e5f", "tenantId": "INT", "customerId": "54321",
            "name": "debian-13", "url": "https://example.com/debian-13.qcow2", "osType": "Linux",
            "version": "13", "format": "qcow2", "status": "downloading"
        });
        let standard = json!({
            "imageId": "afecbb85-e2fc-46f0-9684-b46b1faf00bb", "tenantId": "INT", "name": "ubuntu-22.04",
            "url": "", "osType": "Linux", "version": "22.04", "format": "qcow2", "status": "available"
        });
        let page = json!({
            "data": [standard, custom.clone()],
            "_pagination": {"size": 100, "totalElements": 2, "totalPages": 1, "page": 1}
        });
        server
            .mock_async(|when, then| {
                when.method(GET).path("/v1/compute/images");
                then.status(200).json_body(page);
            })
            .await;
        server
            .mock_async(|when, then| {
                when.method(GET)
                    .path("/v1/compute/images/9f3c0c4e-1a2b-4c5d-8e9f-0a1b2c3d4e5f");
                then.status(200).json_body(json!({"data": [custom]}));
            })
            .await;
        let client = client(&server);
        assert_eq!(
            listed(&client, ListFilter::default()).await,
            [
                ("afecbb85-e2fc-46f0-9684-b46b1faf00bb".to_owned(), false),
                ("9f3c0c4e-1a2b-4c5d-8e9f-0a1b2c3d4e5f".to_owned(), true)
            ]
        );
        let got = client.get("9f3c0c4e-1a2b-4c5d-8e9f-0a1b2c3d4e5f").await.unwrap();
        assert!(got.custom, "{got:?}");
    }
}

/// A tracing subscriber writing into a buffer, for this thread.
fn capture_logs() -> (
    tracing::subscriber::DefaultGuard,
    std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
) {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::WARN)
        .finish();
    (tracing::subscriber::set_default(subscriber), buffer.0)
}

mod listed_twice {
    use super::*;
    use cloud_images::contabo::Client;

    /// The only test here whose listing has a repeat: tracing caches per
    /// call site whether anyone listens.
    #[tokio::test]
    async fn an_image_listed_twice_is_shown_once_and_the_repeat_is_logged() {
        let (_guard, log) = capture_logs();
        let server = MockServer::start_async().await;
        let image =
            |id: &str| json!({"imageId": id, "name": id, "standardImage": false, "status": "downloaded"});
        server
            .mock_async(|when, then| {
                when.method(GET).path("/v1/compute/images");
                then.status(200).json_body(json!({
                    "data": [image("a"), image("b"), image("a")],
                    "_pagination": {"size": 100, "totalElements": 3, "totalPages": 1, "page": 1}
                }));
            })
            .await;
        let client = Client::builder()
            .base_url(server.base_url())
            .bearer_token("t")
            .retry_policy(RetryPolicy::disabled())
            .build()
            .unwrap();
        let ids: Vec<String> = listed(&client, ListFilter::default())
            .await
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        assert_eq!(ids, ["a", "b"]);
        let log = String::from_utf8(log.lock().unwrap().clone()).unwrap();
        let line = log
            .lines()
            .find(|l| l.contains("items listed again are dropped"))
            .unwrap_or_else(|| panic!("no warning in {log:?}"));
        assert!(line.contains("WARN"), "{line}");
        assert!(line.contains("operation=\"retrieve_image_list\""), "{line}");
        assert!(line.contains("page=1") && line.contains("repeats=1"), "{line}");
        assert!(line.contains("\"a\" (page 1)"), "{line}");
    }
}

mod ionos {
    use super::*;
    use cloud_images::ionos::Client;

    fn client(server: &MockServer) -> Client {
        Client::builder()
            .base_url(server.base_url())
            .bearer_token("t")
            .retry_policy(RetryPolicy::disabled())
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn an_image_without_public_is_told_by_its_aliases_and_creator() {
        let server = MockServer::start_async().await;
        let own = json!({
            "id": "7df81087-5835-41c6-a10b-3e098593bba4", "type": "image",
            "metadata": {"state": "AVAILABLE", "createdBy": "user@example.com",
                         "createdByUserId": "63cef532-26fe-4a64-a4e0-de7c8a506c90"},
            "properties": {"name": "debian-13", "location": "de/fra", "licenceType": "LINUX",
                           "imageType": "HDD", "imageAliases": null}
        });
        let public = json!({
            "id": "0e4d57f9-cd78-11e9-b88c-525400f64d8d", "type": "image",
            "metadata": {"state": "AVAILABLE", "createdBy": "[UNKNOWN]", "createdByUserId": "[UNKNOWN]"},
            "properties": {"name": "ubuntu-24.04", "location": "de/fra", "licenceType": "LINUX",
                           "imageType": "HDD", "imageAliases": ["ubuntu:latest"]}
        });
        server
            .mock_async(|when, then| {
                when.method(GET).path("/images");
                then.status(200)
                    .json_body(json!({"id": "images", "type": "collection", "items": [public, own.clone()]}));
            })
            .await;
        server
            .mock_async(|when, then| {
                when.method(GET)
                    .path("/images/7df81087-5835-41c6-a10b-3e098593bba4");
                then.status(200).json_body(own);
            })
            .await;
        let client = client(&server);
        assert_eq!(
            listed(&client, ListFilter::default().with_custom(true)).await,
            [("7df81087-5835-41c6-a10b-3e098593bba4".to_owned(), true)]
        );
        assert!(
            client
                .get("7df81087-5835-41c6-a10b-3e098593bba4")
                .await
                .unwrap()
                .custom
        );
    }
}
