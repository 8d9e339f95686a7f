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

/// A raw request to a fake, as a user's own HTTP code would send it.
async fn send(method: &str, url: &str, token: &str, body: Option<serde_json::Value>) -> reqwest::Response {
    let client = reqwest::Client::new();
    let mut request = client
        .request(method.parse().unwrap(), url)
        .bearer_auth(token)
        .header("x-request-id", uuid_like());
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(1);
    format!(
        "{:08x}-0000-4000-8000-000000000000",
        N.fetch_add(1, Ordering::SeqCst)
    )
}

async fn json_of(response: reqwest::Response) -> serde_json::Value {
    response.json().await.unwrap()
}

/// Every `null` in a JSON value, by path.
fn nulls(value: &serde_json::Value, path: &str, found: &mut Vec<String>) {
    match value {
        serde_json::Value::Null => found.push(path.to_owned()),
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                nulls(item, &format!("{path}[{i}]"), found);
            }
        }
        serde_json::Value::Object(fields) => {
            for (key, item) in fields {
                nulls(item, &format!("{path}.{key}"), found);
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn ionos_answers_under_the_production_prefix_with_hrefs_at_the_fake() {
    let fake = FakeIonos::start().await;
    let base = fake.base_url();
    let token = "ionos-demo-token";
    for prefix in ["", "/cloudapi/v6"] {
        let list = json_of(send("GET", &format!("{base}{prefix}/images?depth=1"), token, None).await).await;
        assert_eq!(list["href"], format!("{base}{prefix}/images"));
        let items = list["items"].as_array().unwrap();
        assert_eq!(items.len(), 17);
        for item in items {
            assert_eq!(
                item["href"],
                format!("{base}{prefix}/images/{}", item["id"].as_str().unwrap())
            );
        }
        let id = FakeIonos::private_id(0);
        let one = json_of(send("GET", &format!("{base}{prefix}/images/{id}"), token, None).await).await;
        assert_eq!(one["href"], format!("{base}{prefix}/images/{id}"));
        let changed = send(
            "PATCH",
            &format!("{base}{prefix}/images/{id}"),
            token,
            Some(serde_json::json!({"name": "x"})),
        )
        .await;
        assert_eq!(changed.status(), 202);
        let location = changed.headers()["location"].to_str().unwrap().to_owned();
        assert!(
            location.starts_with(&format!("{base}{prefix}/requests/")),
            "{location}"
        );
        let status = json_of(send("GET", &location, token, None).await).await;
        assert_eq!(status["href"], location);
        assert_eq!(status["metadata"]["targets"][0]["target"]["href"], one["href"]);
    }
    let everything = serde_json::to_string(&fake.images()).unwrap();
    assert!(!everything.contains("api.ionos.com"), "{everything}");
}

#[tokio::test]
async fn ionos_lists_requests_and_shows_one_with_its_status() {
    let fake = FakeIonos::start().await;
    let base = fake.base_url();
    let token = "ionos-demo-token";
    let id = FakeIonos::private_id(1);
    let accepted = send(
        "PATCH",
        &format!("{base}/cloudapi/v6/images/{id}"),
        token,
        Some(serde_json::json!({"name": "renamed"})),
    )
    .await;
    let location = accepted.headers()["location"].to_str().unwrap().to_owned();
    let request_id = location
        .trim_end_matches("/status")
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();

    let refs = json_of(send("GET", &format!("{base}/cloudapi/v6/requests"), token, None).await).await;
    assert_eq!(refs["type"], "collection");
    assert_eq!(
        refs["items"],
        serde_json::json!([{"id": request_id, "type": "request", "href": format!("{base}/cloudapi/v6/requests/{request_id}")}])
    );
    let deep = json_of(send("GET", &format!("{base}/requests?depth=2"), token, None).await).await;
    let item = &deep["items"][0];
    assert_eq!(item["properties"]["method"], "PATCH");
    assert_eq!(
        item["properties"]["url"],
        format!("{base}/cloudapi/v6/images/{id}")
    );
    assert_eq!(item["metadata"]["requestStatus"]["metadata"]["status"], "QUEUED");

    let one = json_of(send("GET", &format!("{base}/requests/{request_id}"), token, None).await).await;
    assert_eq!(one["id"], request_id.as_str());
    assert_eq!(
        one["metadata"]["requestStatus"]["href"],
        format!("{base}/requests/{request_id}/status")
    );
    assert!(
        one["properties"]["headers"].get("authorization").is_none(),
        "no credentials shown"
    );
    let missing = send("GET", &format!("{base}/requests/nope"), token, None).await;
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn ionos_images_send_real_values_and_take_what_the_sdk_sends() {
    let fake = FakeIonos::start().await;
    let mut found = Vec::new();
    for image in fake.images() {
        nulls(&image, "", &mut found);
        assert_eq!(image["properties"]["exposeSerial"], false);
        assert_eq!(image["properties"]["requireLegacyBios"], true);
        assert_eq!(image["properties"]["applicationType"], "UNKNOWN");
    }
    assert!(found.is_empty(), "nulls at {found:?}");

    // What the official SDK's PATCH and PUT send.
    let base = fake.base_url();
    let id = FakeIonos::private_id(0);
    let sent = serde_json::json!({"name": "golden", "exposeSerial": true, "requireLegacyBios": false, "applicationType": "UNKNOWN"});
    let patched = send(
        "PATCH",
        &format!("{base}/images/{id}"),
        "ionos-demo-token",
        Some(sent.clone()),
    )
    .await;
    assert_eq!(patched.status(), 202, "{}", patched.text().await.unwrap());
    let put = send(
        "PUT",
        &format!("{base}/images/{id}"),
        "ionos-demo-token",
        Some(serde_json::json!({"properties": sent})),
    )
    .await;
    assert_eq!(put.status(), 202);
    let bad = send(
        "PATCH",
        &format!("{base}/images/{id}"),
        "ionos-demo-token",
        Some(serde_json::json!({"exposeSerial": "yes"})),
    )
    .await;
    assert_eq!(bad.status(), 422);
    for _ in 0..3 {
        for r in [
            "00000001-7e57-4e00-9000-000000000001",
            "00000002-7e57-4e00-9000-000000000002",
        ] {
            send(
                "GET",
                &format!("{base}/requests/{r}/status"),
                "ionos-demo-token",
                None,
            )
            .await;
        }
    }
    let image = fake.image(&id).unwrap();
    assert_eq!(image["properties"]["exposeSerial"], true);
    assert_eq!(image["properties"]["requireLegacyBios"], false);
}

#[tokio::test]
async fn digitalocean_spends_a_rate_limit_budget_then_answers_429() {
    let fake = FakeDigitalOcean::start_with(digitalocean::Config::default().with_rate_limit(3)).await;
    let url = format!("{}/v2/images?per_page=1", fake.base_url());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let answer = send("GET", &url, "do-demo-token", None).await;
        assert_eq!(answer.status(), 200);
        let header = |name: &str| answer.headers()[name].to_str().unwrap().parse::<u64>().unwrap();
        assert_eq!(header("ratelimit-limit"), 3);
        let reset = header("ratelimit-reset");
        assert!(reset > now && reset <= now + 3601, "{reset} vs {now}");
        remaining.push(header("ratelimit-remaining"));
    }
    assert_eq!(remaining, [2, 1, 0]);
    let spent = send("GET", &url, "do-demo-token", None).await;
    assert_eq!(spent.status(), 429);
    assert_eq!(spent.headers()["ratelimit-remaining"], "0");
    let retry_after: u64 = spent.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=3600).contains(&retry_after), "{retry_after}");
    assert_eq!(
        json_of(spent).await,
        serde_json::json!({"id": "too_many_requests", "message": "API Rate limit exceeded."})
    );
}

#[tokio::test]
async fn digitalocean_links_keep_the_filters_and_point_at_the_fake() {
    let fake = FakeDigitalOcean::start().await;
    let base = fake.base_url();
    let first = json_of(
        send(
            "GET",
            &format!("{base}/v2/images?private=true&tag_name=production&per_page=2"),
            "do-demo-token",
            None,
        )
        .await,
    )
    .await;
    let total = first["meta"]["total"].as_u64().unwrap();
    assert_eq!(total, 5);
    let mut seen: Vec<u64> = first["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_u64().unwrap())
        .collect();
    let mut next = first["links"]["pages"]["next"].as_str().map(str::to_owned);
    let last = first["links"]["pages"]["last"].as_str().unwrap().to_owned();
    assert!(
        last.starts_with(&format!("{base}/v2/images?page=3&per_page=2")),
        "{last}"
    );
    while let Some(url) = next {
        assert!(
            url.starts_with(&base) && url.contains("private=true") && url.contains("tag_name=production"),
            "{url}"
        );
        let page = json_of(send("GET", &url, "do-demo-token", None).await).await;
        assert_eq!(page["meta"]["total"].as_u64(), Some(total));
        assert!(
            page["links"]["pages"]["prev"]
                .as_str()
                .unwrap()
                .contains("private=true")
        );
        seen.extend(
            page["images"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_u64().unwrap()),
        );
        next = page["links"]["pages"]["next"].as_str().map(str::to_owned);
    }
    assert_eq!(seen.len() as u64, total);
    assert!(seen.iter().all(|id| fake.image(*id).unwrap()["public"] == false));
}

#[tokio::test]
async fn digitalocean_actions_carry_their_region_and_can_fail_as_imports_can() {
    let fake = FakeDigitalOcean::start_with(
        digitalocean::Config::default()
            .with_action_polls(1)
            .with_import_polls(2),
    )
    .await;
    let base = fake.base_url();
    let token = "do-demo-token";
    let posted = json_of(
        send(
            "POST",
            &format!("{base}/v2/images/180000001/actions"),
            token,
            Some(serde_json::json!({"type": "transfer", "region": "nyc3"})),
        )
        .await,
    )
    .await;
    let action = &posted["action"];
    assert_eq!(action["region_slug"], "nyc3");
    assert_eq!(action["region"]["slug"], "nyc3");
    assert_eq!(action["region"]["name"], "New York 3");
    assert_eq!(action["region"]["available"], true);
    assert!(
        action["region"]["features"]
            .as_array()
            .is_some_and(|f| !f.is_empty())
    );
    assert!(
        action["region"]["sizes"]
            .as_array()
            .is_some_and(|s| !s.is_empty())
    );

    fake.fail_next_action();
    let posted = json_of(
        send(
            "POST",
            &format!("{base}/v2/images/180000001/actions"),
            token,
            Some(serde_json::json!({"type": "transfer", "region": "lon1"})),
        )
        .await,
    )
    .await;
    let id = posted["action"]["id"].as_u64().unwrap();
    let polled = json_of(
        send(
            "GET",
            &format!("{base}/v2/images/180000001/actions/{id}"),
            token,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(polled["action"]["status"], "errored");
    assert!(
        !fake.image(180_000_001).unwrap()["regions"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("lon1"))
    );

    fake.fail_next_import("Failed to import: the URL answered 404 Not Found");
    let created = json_of(
        send(
            "POST",
            &format!("{base}/v2/images"),
            token,
            Some(
                serde_json::json!({"name": "broken", "url": "https://example.com/x.qcow2", "region": "nyc3"}),
            ),
        )
        .await,
    )
    .await;
    let id = created["image"]["id"].as_u64().unwrap();
    let mut statuses = Vec::new();
    for _ in 0..2 {
        let image = json_of(send("GET", &format!("{base}/v2/images/{id}"), token, None).await).await;
        statuses.push(image["image"]["status"].as_str().unwrap().to_owned());
    }
    assert_eq!(statuses, ["NEW", "deleted"]);
    assert_eq!(
        fake.image(id).unwrap()["error_message"],
        "Failed to import: the URL answered 404 Not Found"
    );
}

#[tokio::test]
async fn contabo_links_keep_the_filters_and_audits_filter_by_date() {
    let fake = FakeContabo::start().await;
    let base = fake.base_url();
    let page = json_of(
        send(
            "GET",
            &format!("{base}/v1/compute/images?standardImage=false&orderBy=name:desc&page=2&size=4"),
            "demo-token",
            None,
        )
        .await,
    )
    .await;
    let links = &page["_links"];
    let filters = "standardImage=false&orderBy=name:desc";
    assert_eq!(
        links["first"],
        format!("/v1/compute/images?page=1&size=4&{filters}")
    );
    assert_eq!(
        links["previous"],
        format!("/v1/compute/images?page=1&size=4&{filters}")
    );
    assert_eq!(
        links["self"],
        format!("/v1/compute/images?page=2&size=4&{filters}")
    );
    assert_eq!(
        links["next"],
        format!("/v1/compute/images?page=3&size=4&{filters}")
    );
    assert_eq!(
        links["last"],
        format!("/v1/compute/images?page=3&size=4&{filters}")
    );
    let next = json_of(
        send(
            "GET",
            &format!("{base}{}", links["next"].as_str().unwrap()),
            "demo-token",
            None,
        )
        .await,
    )
    .await;
    assert_eq!(next["data"].as_array().unwrap().len(), 3);
    assert!(next["_links"].get("next").is_none());
    let first = json_of(
        send(
            "GET",
            &format!("{base}/v1/compute/images?size=100"),
            "demo-token",
            None,
        )
        .await,
    )
    .await;
    assert!(first["_links"].get("previous").is_none());

    let audits = json_of(
        send(
            "GET",
            &format!("{base}/v1/compute/images/audits?startDate=2026-10-03&endDate=2026-10-05&size=100"),
            "demo-token",
            None,
        )
        .await,
    )
    .await;
    let days: Vec<&str> = audits["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["timestamp"].as_str().unwrap()[..10])
        .collect();
    assert_eq!(days, ["2026-10-03", "2026-10-04", "2026-10-05"]);
    let bad = send(
        "GET",
        &format!("{base}/v1/compute/images/audits?startDate=yesterday"),
        "demo-token",
        None,
    )
    .await;
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn contabo_rejects_an_unknown_or_expired_refresh_token_as_keycloak_does() {
    let fake =
        FakeContabo::start_with(contabo::Config::default().with_oauth(contabo::OAuthConfig::default())).await;
    let token = |form: &[(&str, &str)]| {
        let form: Vec<(String, String)> = form
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let url = fake.token_url();
        async move { reqwest::Client::new().post(url).form(&form).send().await.unwrap() }
    };
    let client = [("client_id", "demo-client"), ("client_secret", "demo-secret")];
    let granted = json_of(
        token(&[
            client[0],
            client[1],
            ("grant_type", "password"),
            ("username", "api-user"),
            ("password", "api-pass"),
        ])
        .await,
    )
    .await;
    let refresh = granted["refresh_token"].as_str().unwrap().to_owned();
    let unknown = token(&[
        client[0],
        client[1],
        ("grant_type", "refresh_token"),
        ("refresh_token", "refresh-999"),
    ])
    .await;
    assert_eq!(unknown.status(), 400);
    assert_eq!(
        json_of(unknown).await,
        serde_json::json!({"error": "invalid_grant", "error_description": "Invalid refresh token"})
    );
    fake.revoke_refresh_tokens();
    let expired = token(&[
        client[0],
        client[1],
        ("grant_type", "refresh_token"),
        ("refresh_token", &refresh),
    ])
    .await;
    assert_eq!(expired.status(), 400);

    // The client falls back to a password grant when its refresh is refused.
    let fake = FakeContabo::start_with(
        contabo::Config::default()
            .with_token(None)
            .with_oauth(contabo::OAuthConfig::default().with_expires_in(0)),
    )
    .await;
    let client = fake.client();
    client.retrieve_custom_images_stats().execute().await.unwrap();
    fake.revoke_refresh_tokens();
    client.retrieve_custom_images_stats().execute().await.unwrap();
    let grants: Vec<String> = fake
        .requests()
        .iter()
        .filter(|r| r.path == contabo::TOKEN_PATH)
        .map(|r| r.form().into_iter().find(|(k, _)| k == "grant_type").unwrap().1)
        .collect();
    assert_eq!(grants.first().map(String::as_str), Some("password"));
    assert!(grants.contains(&"refresh_token".to_owned()), "{grants:?}");
    assert_eq!(grants.last().map(String::as_str), Some("password"), "{grants:?}");
}

#[tokio::test]
async fn faults_match_the_method_carry_their_own_answer_and_can_wait_for_auth() {
    let fake = FakeIonos::start().await;
    let base = fake.base_url();
    let id = FakeIonos::private_id(0);
    fake.inject(
        Fault::status(409)
            .method("PATCH")
            .matching("/images/")
            .body(r#"{"httpStatus":409,"messages":[{"errorCode":"999","message":"locked"}]}"#)
            .header("x-custom", "yes"),
    );
    let get = send("GET", &format!("{base}/images/{id}"), "ionos-demo-token", None).await;
    assert_eq!(get.status(), 200, "a GET does not take a PATCH's fault");
    let patch = send(
        "PATCH",
        &format!("{base}/images/{id}"),
        "ionos-demo-token",
        Some(serde_json::json!({"name": "x"})),
    )
    .await;
    assert_eq!(patch.status(), 409);
    assert_eq!(patch.headers()["x-custom"], "yes");
    assert!(
        patch.headers().contains_key("x-ratelimit-limit"),
        "the provider's headers still there"
    );
    assert_eq!(json_of(patch).await["messages"][0]["message"], "locked");

    fake.inject(Fault::status(503).after_auth());
    let refused = send("GET", &format!("{base}/images"), "wrong-token", None).await;
    assert_eq!(refused.status(), 401, "the fake's own 401 first");
    let faulted = send("GET", &format!("{base}/images"), "ionos-demo-token", None).await;
    assert_eq!(
        faulted.status(),
        503,
        "the fault is still there for the next request"
    );

    // The token endpoint gets the faults that name it, never the others.
    let fake = FakeContabo::start_with(
        contabo::Config::default()
            .with_token(None)
            .with_oauth(contabo::OAuthConfig::default()),
    )
    .await;
    let client = fake
        .client_builder()
        .retry_policy(fast_retries())
        .build()
        .unwrap();
    fake.inject(Fault::status(503));
    fake.inject(Fault::status(503).matching(contabo::TOKEN_PATH));
    let stats = client.retrieve_custom_images_stats().execute().await.unwrap_err();
    assert!(matches!(stats, Error::Auth { .. }), "{stats:?}");
    let token_answers = fake
        .requests()
        .iter()
        .filter(|r| r.path == contabo::TOKEN_PATH)
        .count();
    assert!(token_answers >= 1);
    let stats = client.retrieve_custom_images_stats().execute().await.unwrap();
    assert_eq!(
        stats.attempts(),
        2,
        "the API's own fault was left for an API request"
    );
}

#[tokio::test]
async fn every_fake_seeds_a_typed_image_and_sets_its_status() {
    use cloud_images::images::{Images, ListFilter};
    use cloud_images::testing::{SeedImage, SeedStatus};

    let forty_days = Duration::from_secs(40 * 86_400);
    let old = SeedImage::new("golden-old")
        .with_age(forty_days)
        .with_size_gb(3.0);
    let cutoff = chrono::Utc::now() - chrono::Duration::days(30);

    let contabo = FakeContabo::start().await;
    let contabo_id = contabo.insert_image(old.clone());
    let digitalocean = FakeDigitalOcean::start().await;
    let digitalocean_id = digitalocean.insert_image(old.clone());
    let ionos = FakeIonos::start().await;
    let ionos_id = ionos.insert_image(old.clone());
    let clients: Vec<(Box<dyn Images>, String)> = vec![
        (Box::new(contabo.client()), contabo_id.clone()),
        (Box::new(digitalocean.client()), digitalocean_id.to_string()),
        (Box::new(ionos.client()), ionos_id.clone()),
    ];
    for (client, id) in &clients {
        let own: Vec<_> = client
            .list(ListFilter::default().with_custom(true))
            .try_collect()
            .await
            .unwrap();
        let image = own
            .iter()
            .find(|i| &i.id == id)
            .unwrap_or_else(|| panic!("{id} listed"));
        assert_eq!(image.name, "golden-old");
        assert!(image.created_at.unwrap() < cutoff, "{:?}", image.created_at);
    }

    assert!(contabo.set_image_status(&contabo_id, contabo::ImageState::Error("404".into())));
    assert_eq!(contabo.image(&contabo_id).unwrap()["errorMessage"], "404");
    assert!(digitalocean.set_image_status(digitalocean_id, digitalocean::ImageState::Pending));
    assert_eq!(digitalocean.image(digitalocean_id).unwrap()["status"], "pending");
    assert!(ionos.set_image_status(&ionos_id, ionos::ImageState::Busy));
    assert!(!ionos.set_image_status("nope", ionos::ImageState::Busy));
    let failed =
        contabo.insert_image(SeedImage::new("broken").with_status(SeedStatus::Failed("bad URL".into())));
    assert_eq!(contabo.image(&failed).unwrap()["status"], "error");
}
