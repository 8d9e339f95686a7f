//! Every Contabo images operation on the wire (httpmock on loopback): method,
//! path, query, JSON body, headers, decoding, and the errors a user sees.

use cloud_images::contabo::{Client, types};
use cloud_images::{CallOptions, Error, Execute, RetryPolicy, StatusCode};
use httpmock::prelude::*;
use serde_json::json;

const TOKEN: &str = "secret-token-123";
const UUID_V4: &str = "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$";
const IMAGE_ID: &str = "d5a1c1f0-35b8-4f0e-8a3a-1f1bd2a1c6e4";

fn client(server: &MockServer) -> Client {
    Client::builder()
        .base_url(server.base_url())
        .bearer_token(TOKEN)
        .trace_id("trace-abc")
        .retry_policy(RetryPolicy::disabled())
        .build()
        .unwrap()
}

fn image_json(id: &str) -> serde_json::Value {
    json!({
        "imageId": id, "tenantId": "INT", "customerId": "54321", "name": "ubuntu-24.04",
        "description": "Ubuntu 24.04 LTS", "url": "https://example.com/u.qcow2", "sizeMb": 2048,
        "uploadedSizeMb": 2048, "osType": "Linux", "version": "24.04", "format": "qcow2",
        "status": "downloaded", "errorMessage": "", "standardImage": true,
        "creationDate": "2026-01-05T08:00:00Z", "lastModifiedDate": "2026-02-05T08:00:00.123Z",
        "tags": [{"tagId": 7, "tagName": "production"}]
    })
}

fn page_json(data: Vec<serde_json::Value>, page: u64, size: u64, total: u64) -> serde_json::Value {
    json!({
        "_pagination": {"size": size, "totalElements": total, "totalPages": total.div_ceil(size), "page": page},
        "_links": {"first": "/v1/compute/images?page=1", "self": "/v1/compute/images", "last": "/v1/compute/images"},
        "data": data,
    })
}

/// The headers every request must carry (and progenitor's `api-version`,
/// which the API does not define, it must not).
fn standard_headers(when: httpmock::When) -> httpmock::When {
    when.header("authorization", format!("Bearer {TOKEN}"))
        .header_matches("x-request-id", UUID_V4)
        .header("x-trace-id", "trace-abc")
        .header_missing("api-version")
}

#[tokio::test]
async fn retrieve_image_list_encodes_every_filter_and_sends_the_headers() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            standard_headers(when.method(GET).path("/v1/compute/images")).is_true(|req| {
                let mut q = req.query_params();
                q.sort();
                let want = [
                    ("name", "ubuntu-24.04"),
                    ("orderBy", "creationDate:desc"),
                    ("orderBy", "name:asc"),
                    ("page", "2"),
                    ("search", "lts"),
                    ("size", "5"),
                    ("standardImage", "true"),
                ];
                q == want.map(|(k, v)| (k.to_owned(), v.to_owned()))
            });
            then.status(200)
                .json_body(page_json(vec![image_json(IMAGE_ID)], 2, 5, 6));
        })
        .await;

    let page = client(&server)
        .retrieve_image_list()
        .name("ubuntu-24.04")
        .standard_image(true)
        .search("lts")
        .order_by(vec!["name:asc".to_owned(), "creationDate:desc".to_owned()])
        .page(2)
        .size(5)
        .execute()
        .await
        .unwrap();
    mock.assert_async().await;

    assert_eq!(page.status(), StatusCode::OK);
    assert!(uuid::Uuid::parse_str(page.request_id().unwrap()).is_ok());
    assert_eq!(page.attempts(), 1);
    let image = &page.data[0];
    assert_eq!(image.image_id, IMAGE_ID);
    assert_eq!(image.name.as_deref(), Some("ubuntu-24.04"));
    assert_eq!(image.size_mb, Some(2048.0));
    assert_eq!(image.standard_image, Some(true));
    assert_eq!(
        image.tags.as_ref().unwrap()[0].tag_name.as_deref(),
        Some("production")
    );
    assert_eq!(
        image.creation_date.unwrap().to_rfc3339(),
        "2026-01-05T08:00:00+00:00"
    );
    assert_eq!(page.pagination.total_pages, Some(2.0));
}

#[tokio::test]
async fn order_by_keeps_the_callers_order_on_the_wire() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET).path("/v1/compute/images").is_true(|req| {
                let order: Vec<String> = req
                    .query_params()
                    .into_iter()
                    .filter(|(k, _)| k == "orderBy")
                    .map(|(_, v)| v)
                    .collect();
                order == ["name:asc", "sizeMb:desc"]
            });
            then.status(200).json_body(page_json(vec![], 1, 10, 0));
        })
        .await;
    client(&server)
        .retrieve_image_list()
        .order_by(vec!["name:asc".to_owned(), "sizeMb:desc".to_owned()])
        .execute()
        .await
        .unwrap();
    mock.assert_async().await;
}

#[tokio::test]
async fn create_custom_image_posts_the_json_body() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            standard_headers(when.method(POST).path("/v1/compute/images"))
                .header("content-type", "application/json")
                .json_body(json!({
                    "name": "debian-13", "description": "hardened", "url": "https://example.com/d.qcow2",
                    "osType": "Linux", "version": "13"
                }));
            then.status(201).json_body(json!({
                "data": [{"tenantId": "INT", "customerId": "54321", "imageId": IMAGE_ID}],
                "_links": {"self": format!("/v1/compute/images/{IMAGE_ID}")}
            }));
        })
        .await;
    let created = client(&server)
        .create_custom_image()
        .body_map(|b| {
            b.name("debian-13")
                .description(Some("hardened".to_owned()))
                .url("https://example.com/d.qcow2")
                .os_type(types::CreateCustomImageRequestOsType::Linux)
                .version("13")
        })
        .execute()
        .await
        .unwrap();
    mock.assert_async().await;
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(created.data[0].image_id, IMAGE_ID);
}

#[tokio::test]
async fn create_custom_image_415_is_the_typed_error_with_its_message() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/v1/compute/images");
            then.status(415).json_body(json!({
                "statusCode": 415, "message": "Unsupported Media Type: use an .iso or .qcow2 image"
            }));
        })
        .await;
    let err = client(&server)
        .create_custom_image()
        .body_map(|b| {
            b.name("x")
                .url("https://example.com/x.zip")
                .os_type(types::CreateCustomImageRequestOsType::Windows)
                .version("1")
        })
        .execute()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::UNSUPPORTED_MEDIA_TYPE));
    let api = err.api().unwrap();
    let typed: types::CreateCustomImageFailResponse =
        serde_json::from_value(api.body.clone().unwrap()).unwrap();
    assert_eq!(typed.status_code, Some(415));
    let rid = err.request_id().unwrap().to_owned();
    assert_eq!(
        err.to_string(),
        format!(
            "create_custom_image: HTTP 415 Unsupported Media Type: Unsupported Media Type: use an .iso or \
             .qcow2 image (request id {rid})"
        )
    );
}

#[tokio::test]
async fn retrieve_update_delete_use_the_image_path() {
    let server = MockServer::start_async().await;
    let get = server
        .mock_async(|when, then| {
            standard_headers(when.method(GET).path(format!("/v1/compute/images/{IMAGE_ID}")));
            then.status(200)
                .json_body(json!({"data": [image_json(IMAGE_ID)], "_links": {"self": "/x"}}));
        })
        .await;
    let patch = server
        .mock_async(|when, then| {
            standard_headers(when.method(PATCH).path(format!("/v1/compute/images/{IMAGE_ID}")))
                .json_body(json!({"name": "renamed"}));
            then.status(200).json_body(json!({
                "data": [{"tenantId": "INT", "customerId": "54321", "imageId": IMAGE_ID}],
                "_links": {"self": "/x"}
            }));
        })
        .await;
    let delete = server
        .mock_async(|when, then| {
            standard_headers(when.method(DELETE).path(format!("/v1/compute/images/{IMAGE_ID}")));
            then.status(204);
        })
        .await;
    let client = client(&server);

    let found = client
        .retrieve_image()
        .image_id(IMAGE_ID)
        .execute()
        .await
        .unwrap();
    assert_eq!(found.data[0].name.as_deref(), Some("ubuntu-24.04"));
    assert_eq!(found.data[0].status.as_deref(), Some("downloaded"));

    let updated = client
        .update_image()
        .image_id(IMAGE_ID)
        .body_map(|b| b.name(Some("renamed".to_owned())))
        .execute()
        .await
        .unwrap();
    assert_eq!(updated.data[0].image_id, IMAGE_ID);

    let deleted = client.delete_image().image_id(IMAGE_ID).execute().await.unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);

    get.assert_async().await;
    patch.assert_async().await;
    delete.assert_async().await;
}

#[tokio::test]
async fn stats_and_audits() {
    let server = MockServer::start_async().await;
    let stats = server
        .mock_async(|when, then| {
            standard_headers(when.method(GET).path("/v1/compute/images/stats"));
            then.status(200).json_body(json!({
                "data": [{"tenantId": "INT", "customerId": "54321", "currentImagesCount": 3,
                          "totalSizeMb": 102400, "usedSizeMb": 5000, "freeSizeMb": 97400}],
                "_links": {"self": "/v1/compute/images/stats"}
            }));
        })
        .await;
    let audits = server
        .mock_async(|when, then| {
            standard_headers(when.method(GET).path("/v1/compute/images/audits"))
                .query_param("imageId", IMAGE_ID)
                .query_param("changedBy", "c4c800ff-e524-47dd-9543-71dfc8b91113")
                .query_param("startDate", "2026-01-01")
                .query_param("endDate", "2026-12-31");
            then.status(200).json_body(json!({
                "_pagination": {"size": 10, "totalElements": 1, "totalPages": 1, "page": 1},
                "_links": {"first": "/a", "self": "/a", "last": "/a"},
                "data": [{"id": 12, "action": "CREATED", "timestamp": "2026-03-30T11:35:06.177Z",
                          "tenantId": "INT", "customerId": "54321", "changedBy": "c4c800ff-e524-47dd-9543-71dfc8b91113",
                          "username": "John.Doe", "requestId": "04e0f898-37b4-48bc-a794-1a57abe6aa31",
                          "traceId": "t", "imageId": IMAGE_ID, "changes": {"name": "x"}}]
            }));
        })
        .await;
    let client = client(&server);
    let s = client.retrieve_custom_images_stats().execute().await.unwrap();
    assert_eq!(s.data[0].current_images_count, Some(3.0));
    assert_eq!(s.data[0].free_size_mb, Some(97400.0));

    let date = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let a = client
        .retrieve_image_audits_list()
        .image_id(IMAGE_ID)
        .changed_by("c4c800ff-e524-47dd-9543-71dfc8b91113")
        .start_date(date("2026-01-01"))
        .end_date(date("2026-12-31"))
        .execute()
        .await
        .unwrap();
    assert_eq!(a.data[0].id, 12);
    assert_eq!(a.data[0].action.as_deref(), Some("CREATED"));
    stats.assert_async().await;
    audits.assert_async().await;
}

#[tokio::test]
async fn per_call_request_and_trace_ids_replace_the_defaults() {
    let server = MockServer::start_async().await;
    let chosen = "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
    let by_options = server
        .mock_async(|when, then| {
            when.path("/v1/compute/images/stats")
                .header("x-request-id", chosen)
                .header("x-trace-id", "call-trace");
            then.status(200)
                .json_body(json!({"data": [], "_links": {"self": "/"}}));
        })
        .await;
    let by_builder = server
        .mock_async(|when, then| {
            when.path(format!("/v1/compute/images/{IMAGE_ID}"))
                .header("x-request-id", chosen)
                .header("x-trace-id", "builder-trace");
            then.status(200)
                .json_body(json!({"data": [image_json(IMAGE_ID)]}));
        })
        .await;
    let client = client(&server);
    let r = client
        .retrieve_custom_images_stats()
        .execute_with(
            CallOptions::new()
                .with_request_id(chosen)
                .with_trace_id("call-trace"),
        )
        .await
        .unwrap();
    assert_eq!(r.request_id(), Some(chosen));
    client
        .retrieve_image()
        .image_id(IMAGE_ID)
        .x_request_id(chosen)
        .x_trace_id("builder-trace")
        .execute()
        .await
        .unwrap();
    by_options.assert_async().await;
    by_builder.assert_async().await;

    // A default `x-trace-id` header is sent where no trace id is chosen; a
    // call's own trace id, or the client's, wins over it.
    let with_default = |trace_id: Option<&str>| {
        let builder = Client::builder()
            .base_url(server.base_url())
            .bearer_token(TOKEN)
            .default_header("x-trace-id", "default-trace");
        match trace_id {
            Some(t) => builder.trace_id(t),
            None => builder,
        }
        .build()
        .unwrap()
    };
    for (client, options, trace) in [
        (with_default(None), CallOptions::new(), "default-trace"),
        (
            with_default(None),
            CallOptions::new().with_trace_id("call-trace"),
            "call-trace",
        ),
        (
            with_default(Some("client-trace")),
            CallOptions::new(),
            "client-trace",
        ),
    ] {
        let mock = server
            .mock_async(|when, then| {
                when.path("/v1/compute/images/stats").header("x-trace-id", trace);
                then.status(200)
                    .json_body(json!({"data": [], "_links": {"self": "/"}}));
            })
            .await;
        client
            .retrieve_custom_images_stats()
            .execute_with(options)
            .await
            .unwrap();
        mock.assert_async().await;
        mock.delete_async().await;
    }
}

#[tokio::test]
async fn each_request_gets_its_own_request_id() {
    let server = MockServer::start_async().await;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(std::collections::HashSet::new()));
    let record = seen.clone();
    server
        .mock_async(move |when, then| {
            when.path("/v1/compute/images/stats").is_true(move |req| {
                let id = req
                    .headers()
                    .get("x-request-id")
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_owned();
                record.lock().unwrap().insert(id);
                true
            });
            then.status(200)
                .json_body(json!({"data": [], "_links": {"self": "/"}}));
        })
        .await;
    let client = client(&server);
    let mut returned = std::collections::HashSet::new();
    for _ in 0..5 {
        let r = client.retrieve_custom_images_stats().execute().await.unwrap();
        returned.insert(r.request_id().unwrap().to_owned());
    }
    assert_eq!(returned.len(), 5, "five calls, five request ids");
    assert_eq!(
        *seen.lock().unwrap(),
        returned,
        "the ids reported are the ids sent"
    );
}

async fn error_for(status: u16, body: serde_json::Value) -> Error {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path(format!("/v1/compute/images/{IMAGE_ID}"));
            then.status(status).json_body(body);
        })
        .await;
    client(&server)
        .retrieve_image()
        .image_id(IMAGE_ID)
        .execute()
        .await
        .unwrap_err()
}

#[tokio::test]
async fn error_statuses_show_status_message_and_request_id() {
    for (status, body, text) in [
        (
            401,
            json!({"statusCode": 401, "message": "Unauthorized"}),
            "HTTP 401 Unauthorized: Unauthorized",
        ),
        (
            404,
            json!({"statusCode": 404, "message": "Entry Image not found by imageId x"}),
            "HTTP 404 Not Found: Entry Image not found by imageId x",
        ),
        (
            429,
            json!({"statusCode": 429, "message": "Too Many Requests"}),
            "HTTP 429 Too Many Requests: Too Many Requests",
        ),
        (
            500,
            json!({"statusCode": 500, "message": "Internal error"}),
            "HTTP 500 Internal Server Error: Internal error",
        ),
    ] {
        let err = error_for(status, body).await;
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
        let rid = err.request_id().expect("errors carry the request id").to_owned();
        assert!(uuid::Uuid::parse_str(&rid).is_ok());
        assert_eq!(
            err.to_string(),
            format!("retrieve_image: {text} (request id {rid})")
        );
    }
}

#[tokio::test]
async fn an_error_body_that_is_not_json_is_shown_as_text() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.any_request();
            then.status(502).body("<html>Bad Gateway</html>");
        })
        .await;
    let err = client(&server)
        .retrieve_custom_images_stats()
        .execute()
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("HTTP 502 Bad Gateway: <html>Bad Gateway</html>"),
        "{err}"
    );
}

#[tokio::test]
async fn decoding_tolerates_nulls_missing_fields_unknown_enum_values_and_extra_fields() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path("/v1/compute/images");
            then.status(200).json_body(page_json(
                vec![
                    json!({"imageId": "a", "name": null, "description": null, "sizeMb": null, "tags": null,
                           "tenantId": "EU", "format": "vmdk", "standardImage": null, "creationDate": null}),
                    json!({"imageId": "b"}),
                    json!({"imageId": "c", "name": "x", "brandNewField": {"nested": true}, "status": "quarantined"}),
                ],
                1,
                10,
                3,
            ));
        })
        .await;
    let page = client(&server).retrieve_image_list().execute().await.unwrap();
    let [a, b, c] = &page.data[..] else {
        panic!("three images")
    };
    assert_eq!(
        (a.name.as_deref(), a.size_mb, a.creation_date),
        (None, None, None)
    );
    assert_eq!(
        a.tenant_id.as_deref(),
        Some("EU"),
        "a tenant the spec does not list"
    );
    assert_eq!(
        a.format.as_deref(),
        Some("vmdk"),
        "a format the spec does not list"
    );
    assert_eq!(a.tags, None, "a list sent as null");
    assert_eq!(b.image_id, "b");
    assert_eq!(b.status, None);
    assert_eq!(c.status.as_deref(), Some("quarantined"));
}

#[tokio::test]
async fn a_missing_image_id_is_a_decode_error_naming_the_field() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path("/v1/compute/images");
            then.status(200).json_body(page_json(
                vec![json!({"imageId": "a"}), json!({"name": "no id"})],
                1,
                10,
                2,
            ));
        })
        .await;
    let err = client(&server).retrieve_image_list().execute().await.unwrap_err();
    let Error::Decode {
        path,
        message,
        request_id,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(path, "data[1]");
    assert!(message.contains("missing field `imageId`"), "{message}");
    assert!(request_id.is_some());
    assert!(
        err.to_string()
            .starts_with("retrieve_image_list: cannot decode the response at `data[1]`"),
        "{err}"
    );
}

#[tokio::test]
async fn a_malformed_body_is_a_decode_error() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200)
                .header("content-type", "application/json")
                .body("{\"data\": [");
        })
        .await;
    let err = client(&server)
        .retrieve_custom_images_stats()
        .execute()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");

    let wrong_type = MockServer::start_async().await;
    wrong_type
        .mock_async(|when, then| {
            when.any_request();
            then.status(200)
                .json_body(json!({"data": [{"currentImagesCount": "three"}]}));
        })
        .await;
    let err = client(&wrong_type)
        .retrieve_custom_images_stats()
        .execute()
        .await
        .unwrap_err();
    let Error::Decode { path, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(path, "data[0].currentImagesCount");
}

#[tokio::test]
async fn a_missing_required_parameter_is_an_invalid_request_and_sends_nothing() {
    let server = MockServer::start_async().await;
    let any = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200);
        })
        .await;
    let err = client(&server).retrieve_image().execute().await.unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    assert!(err.to_string().contains("image_id"), "{err}");

    let err = client(&server)
        .retrieve_image()
        .image_id(IMAGE_ID)
        .x_request_id("not-a-uuid")
        .execute()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("x_request_id"), "{err}");

    let err = client(&server)
        .retrieve_custom_images_stats()
        .execute_with(CallOptions::new().with_trace_id("two\nlines"))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid request: retrieve_custom_images_stats: trace id `two\\nlines` is not printable ASCII (byte 3 is 0x0a)"
    );
    assert_eq!(any.calls_async().await, 0);
}

#[test]
fn debug_output_never_shows_the_token() {
    let client = Client::builder().bearer_token(TOKEN).build().unwrap();
    assert!(!format!("{client:?}").contains(TOKEN));
    let builder = Client::builder().bearer_token(TOKEN);
    assert!(!format!("{builder:?}").contains(TOKEN));
}

#[test]
fn bad_configuration_is_named() {
    let err = Client::builder().base_url("not a url").build().unwrap_err();
    assert!(err.to_string().contains("`not a url` is not a URL"), "{err}");
    let err = Client::builder()
        .base_url("ftp://example.com")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("scheme `ftp`"), "{err}");
    let err = Client::builder()
        .base_url("http://10.1.2.3")
        .bearer_token("t")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("plain http"), "{err}");
    for ok in ["http://127.0.0.1:1", "http://localhost:1", "http://[::1]:1"] {
        Client::builder().base_url(ok).bearer_token("t").build().unwrap();
    }
    Client::builder()
        .base_url("http://10.1.2.3")
        .bearer_token("t")
        .allow_insecure_http(true)
        .build()
        .unwrap();
    let err = Client::builder().trace_id("bad\ntrace").build().unwrap_err();
    assert!(err.to_string().contains("trace id"), "{err}");
}

#[test]
fn the_future_of_a_call_stays_small() {
    // It holds the whole call: the generated code's state, the transport's,
    // the answer. An `async fn` layer that keeps a second copy of a large
    // argument (the generated future, the request) would show here; every
    // future that awaits a call moves this much.
    let client = Client::builder()
        .base_url("http://127.0.0.1:1")
        .bearer_token("t")
        .build()
        .unwrap();
    let call = client.retrieve_image().image_id("x").execute();
    let size = std::mem::size_of_val(&call);
    assert!(size <= 3 * 1024, "{size} bytes");
}
