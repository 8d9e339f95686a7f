//! IONOS Cloud on the wire: every operation against the fake (stateful, 202
//! and request statuses) or httpmock (exact requests, hostile answers): depth,
//! bodies, auth, the contract number, waiting for requests, errors, rate
//! limits.

use std::time::Duration;

use cloud_images::ionos::{Client, Image, Ionos, PendingRequest, types};
use cloud_images::provider::ClientInfo;
use cloud_images::testing::ionos::{self as fake, FakeIonos};
use cloud_images::{CallOptions, ClientBuilder, Error, Execute, StatusCode, TimeoutKind};
use httpmock::prelude::*;
use serde_json::json;

mod support;
use support::{fast_retries, lookup, quick_wait};

const USER: &str = "user@example.com";
const PASSWORD: &str = "ionos-demo-password";
const TOKEN: &str = "ionos-demo-token";

fn basic_client(base_url: &str) -> Client {
    Client::builder()
        .base_url(base_url)
        .basic_auth(USER, PASSWORD)
        .retry_policy(fast_retries())
        .build()
        .unwrap()
}

fn token_client(base_url: &str, token: &str) -> Client {
    Client::builder()
        .base_url(base_url)
        .bearer_token(token)
        .retry_policy(fast_retries())
        .build()
        .unwrap()
}

async fn fake() -> (FakeIonos, Client) {
    let server = FakeIonos::start().await;
    let client = basic_client(&server.base_url());
    (server, client)
}

fn name(image: &Image) -> Option<&str> {
    image.properties.as_ref()?.name.as_deref()
}

fn state(image: &Image) -> Option<&str> {
    image.metadata.as_ref()?.state.as_deref()
}

/// `Authorization: Basic base64("user@example.com:ionos-demo-password")`.
const BASIC_HEADER: &str = "Basic dXNlckBleGFtcGxlLmNvbTppb25vcy1kZW1vLXBhc3N3b3Jk";

#[tokio::test]
async fn listing_gives_every_image_once_with_its_properties() {
    let (server, client) = fake().await;
    let images = client.list_images().await.unwrap();
    let got: Vec<&str> = images.iter().map(|i| i.id.as_str()).collect();
    let expected: Vec<String> = server
        .images()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(got, expected, "every image once, in server order");
    assert_eq!(images.len(), 17);
    assert!(images.iter().all(|i| name(i).is_some()), "properties at depth 1");

    let sent = server.api_requests();
    assert_eq!(sent.len(), 1, "one collection, no pages");
    assert_eq!(sent[0].path, "/images");
    assert_eq!(sent[0].query_values("depth"), ["1"]);
    assert_eq!(sent[0].header("authorization"), Some(BASIC_HEADER));
    assert_eq!(
        sent[0].header("api-version"),
        None,
        "a header the API does not define"
    );
}

#[tokio::test]
async fn at_depth_0_the_items_are_references_without_properties() {
    let (_server, client) = fake().await;
    let collection = client.images_get().execute().await.unwrap();
    let items = collection.items.as_ref().unwrap();
    assert_eq!(items.len(), 17);
    assert!(items.iter().all(|i| i.properties.is_none() && i.href.is_some()));
}

#[tokio::test]
async fn licence_types_the_spec_does_not_list_and_nulls_decode() {
    let (server, client) = fake().await;
    // Unset values as `null` (the fake's seed sends the real API's values).
    let mut raw = server.image(&FakeIonos::private_id(1)).unwrap();
    raw["id"] = "0000beef-0000-4000-8000-00000000beef".into();
    for field in ["description", "imageAliases", "cloudInit"] {
        raw["properties"][field] = serde_json::Value::Null;
    }
    server.insert_raw_image(raw);
    let windows = client
        .images_find_by_id()
        .image_id("0000beef-0000-4000-8000-00000000beef")
        .execute()
        .await
        .unwrap();
    let properties = windows.properties.as_ref().unwrap();
    assert_eq!(properties.licence_type.as_deref(), Some("WINDOWS2025"));
    assert_eq!(properties.description, None, "null");
    assert_eq!(properties.image_aliases, None, "null");
    assert_eq!(properties.cloud_init, None, "null");
    assert_eq!(properties.public, Some(false));
    let images = client.list_images().await.unwrap();
    assert!(
        images
            .iter()
            .any(|i| { i.properties.as_ref().and_then(|p| p.licence_type.as_deref()) == Some("RHEL") })
    );
}

#[tokio::test]
async fn an_update_is_accepted_busy_and_waited_for_until_done() {
    let (server, client) = fake().await;
    let id = FakeIonos::private_id(0);
    let change = types::ImageProperties {
        name: Some("debian-13-golden".into()),
        licence_type: Some("WINDOWS2025".into()),
        ..Default::default()
    };
    let accepted = client
        .images_patch()
        .image_id(&id)
        .body(change)
        .execute()
        .await
        .unwrap();
    assert_eq!(accepted.status(), StatusCode::ACCEPTED);
    assert_eq!(state(&accepted), Some("BUSY"));
    assert_eq!(
        name(&accepted),
        Some("debian-13-golden"),
        "the answer shows the change"
    );
    let sent = server.api_requests().pop().unwrap();
    assert_eq!(
        (sent.method.as_str(), sent.path.clone()),
        ("PATCH", format!("/images/{id}"))
    );
    assert_eq!(
        sent.json().unwrap(),
        json!({"name": "debian-13-golden", "licenceType": "WINDOWS2025"})
    );

    let request = PendingRequest::from_response(&accepted).unwrap();
    let meanwhile = client.images_find_by_id().image_id(&id).execute().await.unwrap();
    assert_eq!(state(&meanwhile), Some("BUSY"));
    assert_eq!(name(&meanwhile), Some("golden-0.qcow2"), "not applied yet");

    let mut seen = Vec::new();
    let done = client
        .wait_for_request(&request, quick_wait(), |p| seen.push(p.status.clone().unwrap()))
        .await
        .unwrap();
    assert_eq!(seen, ["QUEUED", "RUNNING"]);
    assert_eq!(done.id, request.id());
    assert_eq!(done.metadata.unwrap().status.as_deref(), Some("DONE"));
    let polls: Vec<String> = server
        .api_requests()
        .iter()
        .filter(|r| r.path.starts_with("/requests/"))
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(polls, vec![format!("/requests/{}/status", request.id()); 3]);

    let after = client.images_find_by_id().image_id(&id).execute().await.unwrap();
    assert_eq!(state(&after), Some("AVAILABLE"));
    assert_eq!(name(&after), Some("debian-13-golden"));
}

#[tokio::test]
async fn update_image_returns_the_image_once_the_change_is_done() {
    let (server, client) = fake().await;
    let id = FakeIonos::private_id(2);
    let image = client
        .update_image(
            &id,
            types::ImageProperties {
                description: Some("CIS level 2".into()),
                ..Default::default()
            },
            quick_wait(),
        )
        .await
        .unwrap();
    assert_eq!(state(&image), Some("AVAILABLE"));
    assert_eq!(
        image.properties.unwrap().description.as_deref(),
        Some("CIS level 2")
    );
    assert_eq!(
        server.image(&id).unwrap()["properties"]["description"],
        "CIS level 2"
    );
}

#[tokio::test]
async fn a_put_replaces_the_properties_through_the_same_request_flow() {
    let (_server, client) = fake().await;
    let id = FakeIonos::private_id(3);
    let mut image = client
        .images_find_by_id()
        .image_id(&id)
        .execute()
        .await
        .unwrap()
        .into_inner();
    let properties = image.properties.as_mut().unwrap();
    *properties = types::ImageProperties {
        name: Some("replaced".into()),
        licence_type: properties.licence_type.clone(),
        ..Default::default()
    };
    image.metadata = None;
    let accepted = client
        .images_put()
        .image_id(&id)
        .body(image)
        .execute()
        .await
        .unwrap();
    let request = PendingRequest::from_response(&accepted).unwrap();
    client
        .wait_for_request(&request, quick_wait(), |_| {})
        .await
        .unwrap();
    let after = client.images_find_by_id().image_id(&id).execute().await.unwrap();
    assert_eq!(name(&after), Some("replaced"));
}

#[tokio::test]
async fn a_deletion_is_waited_for_and_the_image_is_then_gone() {
    let (server, client) = fake().await;
    let id = FakeIonos::private_id(4);
    let done = client.delete_image(&id, quick_wait()).await.unwrap();
    assert_eq!(done.metadata.unwrap().status.as_deref(), Some("DONE"));
    let deleted = server
        .api_requests()
        .into_iter()
        .find(|r| r.method == Method::DELETE)
        .unwrap();
    assert_eq!(deleted.path, format!("/images/{id}"));
    assert!(server.image(&id).is_none());
    let err = client
        .images_find_by_id()
        .image_id(&id)
        .execute()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
    assert!(err.to_string().contains("309: Resource does not exist"), "{err}");
}

#[tokio::test]
async fn a_public_image_cannot_be_deleted() {
    let (server, client) = fake().await;
    let err = client
        .delete_image(&FakeIonos::public_id(0), quick_wait())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::FORBIDDEN));
    assert!(
        err.to_string()
            .contains("317: Access denied: public images cannot be deleted"),
        "{err}"
    );
    assert_eq!(server.api_requests().len(), 1, "nothing to wait for");
}

#[tokio::test]
async fn a_failed_request_ends_the_wait_with_the_apis_message() {
    let (server, client) = fake().await;
    let id = FakeIonos::private_id(1);
    server.fail_next_request("Image is in use by volume 3f2a and cannot be renamed");
    let err = client
        .update_image(
            &id,
            types::ImageProperties {
                name: Some("x".into()),
                ..Default::default()
            },
            quick_wait(),
        )
        .await
        .unwrap_err();
    let wait = err.wait().unwrap_or_else(|| panic!("{err:?}"));
    assert_eq!(wait.id.as_deref(), Some(id.as_str()));
    assert_eq!(
        wait.message,
        "Image is in use by volume 3f2a and cannot be renamed"
    );
    assert_eq!(wait.status.as_deref(), Some("FAILED"));
    let poll_id = wait.request_id.clone().expect("the failing poll's request id");
    let shown = err.to_string();
    assert!(
        shown.starts_with(&format!("update of image {id} (request ")),
        "{shown}"
    );
    assert!(
        shown.ends_with(&format!(
            "failed: Image is in use by volume 3f2a and cannot be renamed (request id {poll_id})"
        )),
        "{shown}"
    );
    let image = server.image(&id).unwrap();
    assert_eq!(image["properties"]["name"], "golden-1.qcow2", "not applied");
    assert_eq!(image["metadata"]["state"], "AVAILABLE");
}

#[tokio::test]
async fn a_read_only_property_or_an_empty_name_is_the_apis_422() {
    let (_server, client) = fake().await;
    let err = client
        .images_patch()
        .image_id(FakeIonos::private_id(0))
        .body(types::ImageProperties {
            size: Some(100.0),
            ..Default::default()
        })
        .execute()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::UNPROCESSABLE_ENTITY));
    assert!(
        err.to_string()
            .contains("100: [(root).properties.size] is read-only"),
        "{err}"
    );
}

#[tokio::test]
async fn a_wait_gives_up_at_its_timeout() {
    let server = FakeIonos::start_with(fake::Config::default().with_request_polls(1000)).await;
    let client = basic_client(&server.base_url());
    let err = client
        .delete_image(
            &FakeIonos::private_id(0),
            quick_wait().with_timeout(Duration::from_millis(60)),
        )
        .await
        .unwrap_err();
    let Error::Timeout { limit, operation, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*limit, TimeoutKind::Wait);
    assert!(
        operation.starts_with("waiting for deletion of image"),
        "{operation}"
    );
}

#[tokio::test]
async fn a_token_is_sent_as_bearer_and_wrong_credentials_are_a_401() {
    let (server, _) = fake().await;
    let ok = token_client(&server.base_url(), TOKEN)
        .list_images()
        .await
        .unwrap();
    assert_eq!(ok.len(), 17);
    assert_eq!(
        server.api_requests()[0].header("authorization"),
        Some("Bearer ionos-demo-token")
    );

    let err = token_client(&server.base_url(), "wrong")
        .list_images()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::UNAUTHORIZED));
    assert!(err.to_string().contains("315: Unauthorized"), "{err}");
    let err = Client::builder()
        .base_url(server.base_url())
        .basic_auth(USER, "wrong")
        .build()
        .unwrap()
        .list_images()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::UNAUTHORIZED));
    assert!(!err.to_string().contains("wrong"), "no secret in errors: {err}");
}

#[tokio::test]
async fn the_contract_number_goes_with_every_request_and_a_calls_own_wins() {
    let server = FakeIonos::start_with(fake::Config::default().with_contract_number(Some(31_415_926))).await;
    let client = Client::builder()
        .base_url(server.base_url())
        .basic_auth(USER, PASSWORD)
        .contract_number(31_415_926)
        .build()
        .unwrap();
    client.list_images().await.unwrap();
    client
        .update_image(
            &FakeIonos::private_id(0),
            types::ImageProperties {
                name: Some("n".into()),
                ..Default::default()
            },
            quick_wait(),
        )
        .await
        .unwrap();
    let sent = server.api_requests();
    assert!(sent.len() >= 6, "list, patch, 3 polls, get: {}", sent.len());
    for r in &sent {
        let values: Vec<_> = r.headers.get_all("x-contract-number").iter().collect();
        assert_eq!(values, ["31415926"], "{} {}", r.method, r.path);
    }

    server.clear_requests();
    let err = client
        .images_get()
        .x_contract_number(27)
        .execute()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::FORBIDDEN));
    let values: Vec<_> = server.api_requests()[0]
        .headers
        .get_all("x-contract-number")
        .iter()
        .cloned()
        .collect();
    assert_eq!(values, ["27"], "the call's own, once");
}

#[tokio::test]
async fn a_429_waits_for_retry_after_and_rate_limits_are_read() {
    let (server, client) = fake().await;
    server.fail_next("/images", 429, 1, Some("1"));
    let started = std::time::Instant::now();
    let images = client.list_images().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(images.attempts(), 2);
    let limit = images.rate_limit().unwrap();
    assert_eq!(limit.limit, Some(fake::RATE_LIMIT));
    assert_eq!(limit.burst, Some(fake::RATE_BURST));
    assert_eq!(limit.remaining, Some(fake::RATE_LIMIT - 2));
}

// ---- exact requests and hostile answers (httpmock) ----

#[tokio::test]
async fn the_list_asks_for_depth_1_with_basic_auth() {
    let server = MockServer::start_async().await;
    let list = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/images")
                .query_param("depth", "1")
                .header("authorization", BASIC_HEADER);
            then.status(200).json_body(json!({
                "id": "images", "type": "collection", "href": "x",
                "items": [{"id": "a", "properties": {"name": "alpha", "licenceType": "LINUX"}}]
            }));
        })
        .await;
    let images = basic_client(&server.base_url()).list_images().await.unwrap();
    list.assert_async().await;
    assert_eq!(images.len(), 1);
    assert_eq!(name(&images[0]), Some("alpha"));
}

#[tokio::test]
async fn the_typed_client_sends_the_current_apis_image_properties() {
    // `exposeSerial`, `requireLegacyBios` and `applicationType`: the current
    // API has them (the official SDK sends the first two on every PUT and
    // PATCH); the 2023 spec cut has them through a spec patch.
    let server = MockServer::start_async().await;
    let answer = json!({"id": "img-1", "metadata": {"state": "BUSY"}, "properties": {
        "name": "win", "licenceType": "WINDOWS2022", "exposeSerial": true,
        "requireLegacyBios": false, "applicationType": "UNKNOWN"
    }});
    let patch = server
        .mock_async(|when, then| {
            when.method(PATCH)
                .path("/images/img-1")
                .json_body(json!({"exposeSerial": true, "requireLegacyBios": false}));
            then.status(202).json_body(answer.clone());
        })
        .await;
    let put = server
        .mock_async(|when, then| {
            when.method(PUT).path("/images/img-1").json_body(json!({
                "id": "img-1",
                "properties": {"name": "win", "licenceType": "WINDOWS2022", "exposeSerial": true,
                               "requireLegacyBios": false, "applicationType": "UNKNOWN"}
            }));
            then.status(202).json_body(answer.clone());
        })
        .await;
    let client = token_client(&server.base_url(), TOKEN);
    let patched = client
        .images_patch()
        .image_id("img-1")
        .body_map(|b| b.expose_serial(true).require_legacy_bios(false))
        .execute()
        .await
        .unwrap();
    let properties = patched.into_inner().properties.unwrap();
    assert_eq!(
        (
            properties.expose_serial,
            properties.require_legacy_bios,
            properties.application_type.as_deref()
        ),
        (Some(true), Some(false), Some("UNKNOWN"))
    );
    let put_properties = types::ImageProperties {
        name: Some("win".into()),
        licence_type: Some("WINDOWS2022".into()),
        expose_serial: Some(true),
        require_legacy_bios: Some(false),
        application_type: Some("UNKNOWN".into()),
        ..Default::default()
    };
    client
        .images_put()
        .image_id("img-1")
        .body_map(|b| b.id("img-1").properties(Some(put_properties)))
        .execute()
        .await
        .unwrap();
    patch.assert_async().await;
    put.assert_async().await;
}

#[tokio::test]
async fn a_rename_sends_only_the_name_and_polls_with_the_contract_number() {
    let server = MockServer::start_async().await;
    let patch = server
        .mock_async(|when, then| {
            when.method(PATCH)
                .path("/images/img-1")
                .header("x-contract-number", "4711")
                .json_body(json!({"name": "renamed"}));
            then.status(202)
                .header(
                    "location",
                    "https://api.ionos.com/cloudapi/v6/requests/req-1/status",
                )
                .json_body(
                    json!({"id": "img-1", "metadata": {"state": "BUSY"}, "properties": {"name": "renamed"}}),
                );
        })
        .await;
    let status = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/requests/req-1/status")
                .header("x-contract-number", "4711");
            then.status(200)
                .json_body(json!({"id": "req-1", "metadata": {"status": "DONE"}}));
        })
        .await;
    let get = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/images/img-1")
                .header("x-contract-number", "4711");
            then.status(200).json_body(
                json!({"id": "img-1", "metadata": {"state": "AVAILABLE"}, "properties": {"name": "renamed"}}),
            );
        })
        .await;
    let client = Client::builder()
        .base_url(server.base_url())
        .bearer_token("t")
        .contract_number(4711)
        .build()
        .unwrap();
    let image = client
        .update_image(
            "img-1",
            types::ImageProperties {
                name: Some("renamed".into()),
                ..Default::default()
            },
            quick_wait(),
        )
        .await
        .unwrap();
    assert_eq!(state(&image), Some("AVAILABLE"));
    patch.assert_async().await;
    status.assert_async().await;
    get.assert_async().await;
}

#[tokio::test]
async fn a_location_on_another_host_is_never_contacted() {
    let api = MockServer::start_async().await;
    let elsewhere = MockServer::start_async().await;
    let trap = elsewhere
        .mock_async(|when, then| {
            when.any_request();
            then.status(200)
                .json_body(json!({"id": "req-9", "metadata": {"status": "DONE"}}));
        })
        .await;
    let location = format!("{}/cloudapi/v6/requests/req-9/status", elsewhere.base_url());
    api.mock_async(|when, then| {
        when.method(DELETE).path("/images/img-9");
        then.status(202).header("location", location.as_str());
    })
    .await;
    let status = api
        .mock_async(|when, then| {
            when.method(GET)
                .path("/requests/req-9/status")
                .header("authorization", "Bearer secret-token");
            then.status(200)
                .json_body(json!({"id": "req-9", "metadata": {"status": "DONE"}}));
        })
        .await;
    token_client(&api.base_url(), "secret-token")
        .delete_image("img-9", quick_wait())
        .await
        .unwrap();
    status.assert_async().await;
    assert_eq!(trap.calls_async().await, 0, "the Location's host saw nothing");
}

#[tokio::test]
async fn a_location_without_a_plain_request_id_is_refused_before_polling() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(DELETE).path("/images/img-1");
            then.status(202).header(
                "location",
                "https://api.ionos.com/cloudapi/v6/images/img-1/../../status",
            );
        })
        .await;
    let anything_else = server
        .mock_async(|when, then| {
            when.method(GET);
            then.status(200)
                .json_body(json!({"id": "x", "metadata": {"status": "DONE"}}));
        })
        .await;
    let err = token_client(&server.base_url(), "t")
        .delete_image("img-1", quick_wait())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Wait(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains("Location `https://api.ionos.com/cloudapi/v6/images/img-1/../../status`"),
        "{err}"
    );
    assert_eq!(anything_else.calls_async().await, 0);

    server
        .mock_async(|when, then| {
            when.method(DELETE).path("/images/img-2");
            then.status(202);
        })
        .await;
    let err = token_client(&server.base_url(), "t")
        .delete_image("img-2", quick_wait())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no Location header"), "{err}");
}

#[tokio::test]
async fn a_failed_request_status_carries_the_apis_message() {
    let server = MockServer::start_async().await;
    let status = server
        .mock_async(|when, then| {
            when.method(GET).path("/requests/req-3/status");
            then.status(200).json_body(json!({
                "id": "req-3", "type": "request-status",
                "metadata": {"status": "FAILED", "message": "Cannot delete image: it is used by 2 volumes",
                             "targets": [{"target": {"id": "img-3", "type": "image"}, "status": "FAILED"}]}
            }));
        })
        .await;
    let request = PendingRequest::from_id("req-3").unwrap();
    let err = token_client(&server.base_url(), "t")
        .wait_for_request(&request, quick_wait(), |_| {})
        .await
        .unwrap_err();
    let wait = err.wait().unwrap_or_else(|| panic!("{err:?}"));
    assert_eq!(wait.id.as_deref(), Some("req-3"));
    let poll_id = wait.request_id.as_deref().expect("the failing poll's request id");
    assert_eq!(
        err.to_string(),
        format!("request req-3 failed: Cannot delete image: it is used by 2 volumes (request id {poll_id})")
    );
    assert_eq!(status.calls_async().await, 1, "FAILED is final");
}

#[tokio::test]
async fn an_error_shows_the_apis_messages_and_rate_limits() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/images/nope");
            then.status(404)
                .header("x-ratelimit-limit", "120")
                .header("x-ratelimit-remaining", "0")
                .header("x-ratelimit-burst", "50")
                .json_body(json!({"httpStatus": 404, "messages": [
                    {"errorCode": "309", "message": "Resource does not exist"}
                ]}));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/images/two");
            then.status(422).json_body(json!({"httpStatus": 422, "messages": [
                {"errorCode": "100", "message": "[depth] is invalid"},
                {"errorCode": "101", "message": "[pretty] is invalid"}
            ]}));
        })
        .await;
    let client = token_client(&server.base_url(), "t");
    let err = client
        .images_find_by_id()
        .image_id("nope")
        .execute_with(CallOptions::new().with_request_id("6c1e0a52-35c9-4d8a-9f0e-2b7d8c4a1f00"))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "images_find_by_id: HTTP 404 Not Found: 309: Resource does not exist \
         (request id 6c1e0a52-35c9-4d8a-9f0e-2b7d8c4a1f00)"
    );
    let limit = err.api().unwrap().rate_limit.unwrap();
    assert_eq!(
        (limit.limit, limit.remaining, limit.burst),
        (Some(120), Some(0), Some(50))
    );
    let err = client
        .images_find_by_id()
        .image_id("two")
        .execute()
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains(": 100: [depth] is invalid; 101: [pretty] is invalid ("),
        "{err}"
    );
}

#[tokio::test]
async fn rate_limits_are_read_on_success() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/images/a");
            then.status(200)
                .header("X-RateLimit-Limit", "120")
                .header("X-RateLimit-Remaining", "117")
                .header("X-RateLimit-Burst", "50")
                .json_body(json!({"id": "a"}));
        })
        .await;
    let got = token_client(&server.base_url(), "t")
        .images_find_by_id()
        .image_id("a")
        .execute()
        .await
        .unwrap();
    let limit = got.rate_limit().unwrap();
    assert_eq!(
        (limit.limit, limit.remaining, limit.burst, limit.reset),
        (Some(120), Some(117), Some(50), None)
    );
}

// ---- configuration ----

#[test]
fn from_env_reads_ionos_variable_names() {
    let builder = ClientBuilder::<Ionos>::from_lookup(lookup(&[
        ("IONOS_USERNAME", USER),
        ("IONOS_PASSWORD", "pw-secret"),
        ("IONOS_API_URL", "http://127.0.0.1:9/cloudapi/v6"),
        ("IONOS_CONTRACT_NUMBER", "31415926"),
    ]))
    .unwrap();
    assert!(!format!("{builder:?}").contains("pw-secret"));
    let client = builder.build().unwrap();
    assert_eq!(
        client.baseurl(),
        "http://127.0.0.1:9/cloudapi/v6",
        "used as given"
    );
    assert!(!format!("{client:?}").contains("pw-secret"));

    let err = ClientBuilder::<Ionos>::from_lookup(lookup::<&str>(&[])).unwrap_err();
    assert!(matches!(err, Error::Config(_)));
    assert_eq!(
        err.to_string(),
        "invalid configuration: IONOS_TOKEN is not set, nor IONOS_USERNAME and IONOS_PASSWORD"
    );
    let err = ClientBuilder::<Ionos>::from_lookup(lookup(&[("IONOS_USERNAME", USER)])).unwrap_err();
    assert!(err.to_string().contains("IONOS_PASSWORD is not set"), "{err}");
    let err = ClientBuilder::<Ionos>::from_lookup(lookup(&[("IONOS_PASSWORD", "pw-secret")])).unwrap_err();
    assert!(err.to_string().contains("IONOS_USERNAME is not set"), "{err}");
    assert!(!err.to_string().contains("pw-secret"));
    let err = ClientBuilder::<Ionos>::from_lookup(lookup(&[
        ("IONOS_TOKEN", "t"),
        ("IONOS_CONTRACT_NUMBER", "acme"),
    ]))
    .unwrap_err();
    assert!(err.to_string().contains("IONOS_CONTRACT_NUMBER `acme`"), "{err}");
}

#[tokio::test]
async fn from_env_prefers_the_token_and_sends_the_contract_number() {
    let (server, _) = fake().await;
    let url = server.base_url();
    let client = ClientBuilder::<Ionos>::from_lookup(lookup(&[
        ("IONOS_TOKEN", TOKEN),
        ("IONOS_USERNAME", USER),
        ("IONOS_PASSWORD", "not-used"),
        ("IONOS_API_URL", &url),
        ("IONOS_CONTRACT_NUMBER", "31415926"),
    ]))
    .unwrap()
    .build()
    .unwrap();
    client.list_images().await.unwrap();
    let sent = &server.api_requests()[0];
    assert_eq!(sent.header("authorization"), Some("Bearer ionos-demo-token"));
    assert_eq!(sent.header("x-contract-number"), Some("31415926"));
}

#[tokio::test]
async fn waiting_for_an_image_ends_with_its_failed_state_and_the_polls_request_id() {
    let server = MockServer::start_async().await;
    let image = server
        .mock_async(|when, then| {
            when.method(GET).path("/images/img-9");
            then.status(200).json_body(json!({
                "id": "img-9", "type": "image",
                "metadata": {"state": "FAILED_UPDATING"},
                "properties": {"name": "golden", "public": false}
            }));
        })
        .await;
    let err = token_client(&server.base_url(), "t")
        .wait_for_image("img-9", quick_wait(), |_| {})
        .await
        .unwrap_err();
    let wait = err.wait().unwrap_or_else(|| panic!("{err:?}"));
    assert_eq!(wait.id.as_deref(), Some("img-9"));
    assert_eq!(wait.status.as_deref(), Some("FAILED_UPDATING"));
    assert_eq!(wait.message, "the image is FAILED_UPDATING");
    assert!(wait.request_id.is_some(), "{wait:?}");
    assert_eq!(image.calls_async().await, 1, "a failed state is final");
}

#[tokio::test]
async fn waiting_for_a_busy_image_polls_until_available() {
    let (server, client) = fake().await;
    let id = FakeIonos::private_id(1);
    // A rename makes the image BUSY until its request is done; nothing
    // polls that request here, so the wait sees BUSY and gives up.
    let accepted = client
        .images_patch()
        .image_id(&id)
        .body(types::ImageProperties {
            name: Some("renamed".into()),
            ..Default::default()
        })
        .execute()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 202);
    let mut seen = Vec::new();
    let short = quick_wait().with_timeout(Duration::from_millis(50));
    let err = client
        .wait_for_image(&id, short, |p| seen.push(p.status.clone()))
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(err.request_id().is_some(), "the last poll's id: {err:?}");
    assert!(
        !seen.is_empty() && seen.iter().all(|s| s.as_deref() == Some("BUSY")),
        "{seen:?}"
    );
    // Once the request is done, the image is available.
    let request = PendingRequest::from_response(&accepted).unwrap();
    client
        .wait_for_request(&request, quick_wait(), |_| {})
        .await
        .unwrap();
    let ready = client.wait_for_image(&id, quick_wait(), |_| {}).await.unwrap();
    assert_eq!(ready.properties.and_then(|p| p.name).as_deref(), Some("renamed"));
    drop(server);
}
