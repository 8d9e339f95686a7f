//! Streams over all pages: every page once, in order, bounded prefetch, early
//! stop, lying servers, items listed twice, errors mid-stream.

use cloud_images::testing::contabo as fake;

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use cloud_images::contabo::{Client, Image};
use cloud_images::{Error, Paginate, PaginationOptions, RetryPolicy};
use futures::{StreamExt, TryStreamExt};
use httpmock::prelude::*;
use serde_json::json;

fn client(base_url: String) -> Client {
    Client::builder()
        .base_url(base_url)
        .bearer_token("demo-token")
        .trace_id("pagination-test")
        .retry_policy(RetryPolicy::disabled())
        .build()
        .unwrap()
}

/// Page numbers of the list requests the fake saw, with how often each.
fn pages_requested(server: &fake::FakeContabo) -> BTreeMap<u64, usize> {
    let mut pages = BTreeMap::new();
    for r in server.api_requests() {
        if r.path == "/v1/compute/images" {
            let page: u64 = r.query_values("page")[0].parse().unwrap();
            *pages.entry(page).or_default() += 1;
        }
    }
    pages
}

/// Fails the test instead of hanging.
async fn within<T>(fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), fut)
        .await
        .expect("the stream must end")
}

#[tokio::test]
async fn every_page_is_fetched_once_and_items_come_in_order_with_fresh_request_ids() {
    let server =
        fake::FakeContabo::start_with(fake::Config::default().with_standard(200).with_custom(35)).await;
    let client = client(server.base_url());
    let images: Vec<Image> = within(
        client
            .retrieve_image_list()
            .stream_with(PaginationOptions::default().with_page_size(10))
            .try_collect(),
    )
    .await
    .unwrap();

    let expected: Vec<String> = server
        .images()
        .iter()
        .map(|i| i["imageId"].as_str().unwrap().to_owned())
        .collect();
    let got: Vec<String> = images.iter().map(|i| i.image_id.clone()).collect();
    assert_eq!(got, expected, "every image once, in server order");

    let pages = pages_requested(&server);
    assert_eq!(
        pages.keys().copied().collect::<Vec<_>>(),
        (1..=24).collect::<Vec<_>>()
    );
    assert!(
        pages.values().all(|n| *n == 1),
        "each page fetched once: {pages:?}"
    );

    let requests = server.api_requests();
    let ids: HashSet<&str> = requests
        .iter()
        .map(|r| r.header("x-request-id").unwrap())
        .collect();
    assert_eq!(ids.len(), requests.len(), "a distinct x-request-id per page");
    for r in &requests {
        let id = uuid::Uuid::parse_str(r.header("x-request-id").unwrap()).unwrap();
        assert_eq!(id.get_version_num(), 4);
        assert_eq!(r.header("x-trace-id"), Some("pagination-test"));
        assert_eq!(r.header("authorization"), Some("Bearer demo-token"));
        assert_eq!(r.query_values("size"), ["10"]);
    }
}

#[tokio::test]
async fn sequential_and_concurrent_walks_give_the_same_items_and_respect_the_bound() {
    let server = fake::FakeContabo::start_with(
        fake::Config::default()
            .with_standard(90)
            .with_custom(30)
            .with_latency(Duration::from_millis(15)),
    )
    .await;
    let client = client(server.base_url());
    let walk = |concurrency| {
        client
            .retrieve_image_list()
            .order_by(vec!["name:asc".to_owned()])
            .stream_with(
                PaginationOptions::default()
                    .with_page_size(10)
                    .with_concurrency(concurrency),
            )
            .map_ok(|i| i.image_id)
            .try_collect::<Vec<_>>()
    };

    let sequential = within(walk(1)).await.unwrap();
    assert_eq!(server.max_in_flight(), 1, "concurrency 1 is strictly sequential");
    server.clear_requests();

    let concurrent = within(walk(4)).await.unwrap();
    let in_flight = server.max_in_flight();
    assert!(
        (2..=4).contains(&in_flight),
        "prefetch is concurrent and bounded by 4: {in_flight}"
    );
    assert_eq!(sequential, concurrent);
    assert_eq!(sequential.len(), 120);
    assert!(pages_requested(&server).values().all(|n| *n == 1));
}

#[tokio::test]
async fn stopping_early_fetches_no_page_beyond_the_prefetch_window() {
    let server = fake::FakeContabo::start_with(
        fake::Config::default()
            .with_standard(200)
            .with_custom(0)
            .with_latency(Duration::from_millis(5)),
    )
    .await;
    let client = client(server.base_url());

    // take(15) consumes pages 1 and 2; with 3 pages in flight at most pages 3
    // and 4 may have started too.
    let first: Vec<Image> = within(
        client
            .retrieve_image_list()
            .stream_with(
                PaginationOptions::default()
                    .with_page_size(10)
                    .with_concurrency(3),
            )
            .take(15)
            .try_collect(),
    )
    .await
    .unwrap();
    assert_eq!(first.len(), 15);
    let pages = pages_requested(&server);
    assert!(pages.contains_key(&1) && pages.contains_key(&2));
    assert!(
        pages.keys().all(|p| *p <= 4),
        "nothing past the window: {pages:?}"
    );
    server.clear_requests();

    // A limit fetches exactly the pages it needs.
    let limited: Vec<Image> = within(
        client
            .retrieve_image_list()
            .stream_with(PaginationOptions::default().with_page_size(10).with_limit(15))
            .try_collect(),
    )
    .await
    .unwrap();
    assert_eq!(limited.len(), 15);
    assert_eq!(pages_requested(&server).into_keys().collect::<Vec<_>>(), [1, 2]);
}

#[tokio::test]
async fn an_error_on_a_page_comes_after_the_items_before_it_and_ends_the_stream() {
    let server =
        fake::FakeContabo::start_with(fake::Config::default().with_standard(60).with_custom(0)).await;
    server.fail_next("page=3&", 500, 1, None);
    let client = client(server.base_url());
    let results: Vec<Result<Image, Error>> = within(
        client
            .retrieve_image_list()
            .stream_with(
                PaginationOptions::default()
                    .with_page_size(10)
                    .with_concurrency(2),
            )
            .collect(),
    )
    .await;
    assert_eq!(
        results.len(),
        21,
        "20 items of pages 1-2, then the error, then nothing"
    );
    assert!(results[..20].iter().all(Result::is_ok));
    let err = results[20].as_ref().unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
    assert!(err.request_id().is_some());
}

#[tokio::test]
async fn pages_carry_totals_and_their_request_id() {
    let server =
        fake::FakeContabo::start_with(fake::Config::default().with_standard(25).with_custom(0)).await;
    let client = client(server.base_url());
    let pages: Vec<_> = within(
        client
            .retrieve_image_list()
            .pages_with(PaginationOptions::default().with_page_size(10))
            .try_collect::<Vec<_>>(),
    )
    .await
    .unwrap();
    assert_eq!(
        pages.iter().map(|p| (p.page, p.items.len())).collect::<Vec<_>>(),
        [(1, 10), (2, 10), (3, 5)]
    );
    assert_eq!(
        (pages[0].total_elements, pages[0].total_pages, pages[0].size),
        (Some(25), Some(3), 10)
    );
    let sent: HashSet<String> = server
        .api_requests()
        .iter()
        .map(|r| r.header("x-request-id").unwrap().to_owned())
        .collect();
    for p in &pages {
        assert!(sent.contains(p.request_id.as_deref().unwrap()));
    }
}

#[tokio::test]
async fn audits_stream_over_pages_with_their_filters() {
    let server =
        fake::FakeContabo::start_with(fake::Config::default().with_standard(0).with_custom(23)).await;
    let client = client(server.base_url());
    let audits: Vec<_> = within(
        client
            .retrieve_image_audits_list()
            .stream_with(PaginationOptions::default().with_page_size(5))
            .try_collect::<Vec<_>>(),
    )
    .await
    .unwrap();
    assert_eq!(
        audits.iter().map(|a| a.id).collect::<Vec<_>>(),
        (1..=23).collect::<Vec<i64>>()
    );
    let one: Vec<_> = within(
        client
            .retrieve_image_audits_list()
            .image_id("c0000004-1111-4111-9111-000000000004")
            .stream()
            .try_collect::<Vec<_>>(),
    )
    .await
    .unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(
        one[0].image_id.as_deref(),
        Some("c0000004-1111-4111-9111-000000000004")
    );
}

// ---- lying servers (httpmock) ----

fn image(id: &str) -> serde_json::Value {
    json!({"imageId": id, "name": id})
}

fn body(
    data: Vec<serde_json::Value>,
    page: serde_json::Value,
    size: u64,
    elements: serde_json::Value,
    pages: serde_json::Value,
) -> serde_json::Value {
    json!({"_pagination": {"size": size, "totalElements": elements, "totalPages": pages, "page": page}, "data": data})
}

async fn mock_page(server: &MockServer, page: &str, response: serde_json::Value) {
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/v1/compute/images")
                .query_param("page", page);
            then.status(200).json_body(response);
        })
        .await;
}

async fn walk(server: &MockServer, options: PaginationOptions) -> Vec<Result<String, Error>> {
    let client = client(server.base_url());
    within(
        client
            .retrieve_image_list()
            .stream_with(options)
            .map_ok(|i| i.image_id)
            .collect(),
    )
    .await
}

/// The ids before the first error.
fn ok(results: &[Result<String, Error>]) -> Vec<&str> {
    results
        .iter()
        .map_while(|r| r.as_ref().ok())
        .map(String::as_str)
        .collect()
}

fn pagination_error(results: &[Result<String, Error>]) -> (u64, String) {
    match results.last() {
        Some(Err(Error::Pagination { page, reason, .. })) => (*page, reason.clone()),
        other => panic!("expected a pagination error at the end, got {other:?}"),
    }
}

#[tokio::test]
async fn an_absurd_page_count_is_refused() {
    let server = MockServer::start_async().await;
    mock_page(
        &server,
        "1",
        body(
            vec![image("a"), image("b")],
            json!(1),
            2,
            json!(4),
            json!(1_000_000_000),
        ),
    )
    .await;
    let results = walk(&server, PaginationOptions::default().with_page_size(2)).await;
    assert_eq!(ok(&results), ["a", "b"], "what arrived comes before the error");
    assert_eq!(results.len(), 3);
    let (_, reason) = pagination_error(&results);
    assert!(reason.contains("1000000000 pages"), "{reason}");
}

#[tokio::test]
async fn a_page_count_that_disagrees_with_the_element_count_is_refused() {
    let server = MockServer::start_async().await;
    mock_page(
        &server,
        "1",
        body(vec![image("a"), image("b")], json!(1), 2, json!(4), json!(9)),
    )
    .await;
    let (_, reason) = pagination_error(&walk(&server, PaginationOptions::default().with_page_size(2)).await);
    assert!(reason.contains("9 pages but 4 elements"), "{reason}");
}

#[tokio::test]
async fn a_negative_or_fractional_count_is_refused() {
    for pages in [json!(-3), json!(2.5)] {
        let server = MockServer::start_async().await;
        mock_page(
            &server,
            "1",
            body(vec![image("a")], json!(1), 2, json!(4), pages.clone()),
        )
        .await;
        let results = walk(&server, PaginationOptions::default().with_page_size(2)).await;
        assert_eq!(results.len(), 1, "nothing from a page whose counts are wrong");
        let Some(Err(Error::Pagination { reason, .. })) = results.last() else {
            panic!("{results:?}")
        };
        assert!(reason.contains(&format!("totalPages={pages}")), "{reason}");
    }
}

#[tokio::test]
async fn an_empty_page_before_the_end_is_an_error_after_the_earlier_items() {
    let server = MockServer::start_async().await;
    mock_page(
        &server,
        "1",
        body(vec![image("a"), image("b")], json!(1), 2, json!(6), json!(3)),
    )
    .await;
    mock_page(&server, "2", body(vec![], json!(2), 2, json!(6), json!(3))).await;
    mock_page(
        &server,
        "3",
        body(vec![image("e"), image("f")], json!(3), 2, json!(6), json!(3)),
    )
    .await;
    let results = walk(&server, PaginationOptions::default().with_page_size(2)).await;
    assert_eq!(
        results
            .iter()
            .take(2)
            .map(|r| r.as_ref().unwrap().as_str())
            .collect::<Vec<_>>(),
        ["a", "b"]
    );
    assert_eq!(results.len(), 3);
    assert_eq!(pagination_error(&results), (2, "page 2 of 3 is empty".to_owned()));
}

#[tokio::test]
async fn a_server_that_ignores_the_page_parameter_is_caught() {
    // Always answers with page 1.
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/v1/compute/images");
            then.status(200).json_body(body(
                vec![image("a"), image("b")],
                json!(1),
                2,
                json!(6),
                json!(3),
            ));
        })
        .await;
    let results = walk(&server, PaginationOptions::default().with_page_size(2)).await;
    assert_eq!(results.len(), 3);
    let (page, reason) = pagination_error(&results);
    assert_eq!(page, 2);
    assert!(
        reason.contains("asked for page 2, the server sent page 1"),
        "{reason}"
    );
}

#[tokio::test]
async fn the_same_items_served_twice_are_caught() {
    let server = MockServer::start_async().await;
    mock_page(
        &server,
        "1",
        body(vec![image("a"), image("b")], json!(1), 2, json!(4), json!(2)),
    )
    .await;
    mock_page(
        &server,
        "2",
        body(vec![image("a"), image("b")], json!(2), 2, json!(4), json!(2)),
    )
    .await;
    let results = walk(&server, PaginationOptions::default().with_page_size(2)).await;
    assert_eq!(ok(&results), ["a", "b"]);
    assert_eq!(results.len(), 3);
    assert_eq!(
        pagination_error(&results),
        (
            2,
            "page 2 lists only items already listed on page 1: not the page asked for".to_owned()
        )
    );
}

#[tokio::test]
async fn an_image_listed_twice_on_a_page_comes_out_once_and_the_listing_goes_on() {
    // Page 1 lists `a` twice; the count includes the repeated row.
    let server = MockServer::start_async().await;
    mock_page(
        &server,
        "1",
        body(
            vec![image("a"), image("b"), image("a")],
            json!(1),
            3,
            json!(5),
            json!(2),
        ),
    )
    .await;
    mock_page(
        &server,
        "2",
        body(vec![image("c"), image("d")], json!(2), 3, json!(5), json!(2)),
    )
    .await;
    for concurrency in [1, 4] {
        let options = PaginationOptions::default()
            .with_page_size(3)
            .with_concurrency(concurrency);
        let results = walk(&server, options).await;
        assert_eq!(
            results.into_iter().map(Result::unwrap).collect::<Vec<_>>(),
            ["a", "b", "c", "d"]
        );
    }
}

#[tokio::test]
async fn an_item_repeated_at_a_page_boundary_comes_out_once() {
    // Page 2 starts again with page 1's last item; the count includes the
    // repeated row.
    let server = MockServer::start_async().await;
    mock_page(
        &server,
        "1",
        body(vec![image("a"), image("b")], json!(1), 2, json!(6), json!(3)),
    )
    .await;
    mock_page(
        &server,
        "2",
        body(vec![image("b"), image("c")], json!(2), 2, json!(6), json!(3)),
    )
    .await;
    mock_page(
        &server,
        "3",
        body(vec![image("d"), image("e")], json!(3), 2, json!(6), json!(3)),
    )
    .await;
    let results = walk(&server, PaginationOptions::default().with_page_size(2)).await;
    assert_eq!(
        results.into_iter().map(Result::unwrap).collect::<Vec<_>>(),
        ["a", "b", "c", "d", "e"]
    );
}

#[tokio::test]
async fn a_limit_counts_each_item_once() {
    let server = MockServer::start_async().await;
    mock_page(
        &server,
        "1",
        body(
            vec![image("a"), image("a"), image("b")],
            json!(1),
            3,
            json!(6),
            json!(2),
        ),
    )
    .await;
    mock_page(
        &server,
        "2",
        body(
            vec![image("c"), image("d"), image("e")],
            json!(2),
            3,
            json!(6),
            json!(2),
        ),
    )
    .await;
    let options = PaginationOptions::default().with_page_size(3).with_limit(3);
    let results = walk(&server, options).await;
    assert_eq!(
        results.into_iter().map(Result::unwrap).collect::<Vec<_>>(),
        ["a", "b", "c"]
    );
}

#[tokio::test]
async fn the_items_of_a_page_with_a_wrong_number_come_before_the_error() {
    let server = MockServer::start_async().await;
    mock_page(
        &server,
        "1",
        body(vec![image("a"), image("b")], json!(1), 2, json!(4), json!(2)),
    )
    .await;
    // Asked for page 2, the server says page 3: its items are new, but page
    // 2's may be lost.
    mock_page(
        &server,
        "2",
        body(vec![image("a"), image("e")], json!(3), 2, json!(4), json!(2)),
    )
    .await;
    let results = walk(&server, PaginationOptions::default().with_page_size(2)).await;
    assert_eq!(ok(&results), ["a", "b", "e"]);
    assert_eq!(results.len(), 4);
    assert_eq!(
        pagination_error(&results),
        (2, "asked for page 2, the server sent page 3".to_owned())
    );
}

#[tokio::test]
async fn fewer_items_than_announced_is_an_error_at_the_end() {
    let server = MockServer::start_async().await;
    mock_page(
        &server,
        "1",
        body(vec![image("a"), image("b")], json!(1), 2, json!(4), json!(2)),
    )
    .await;
    mock_page(
        &server,
        "2",
        body(vec![image("c")], json!(2), 2, json!(4), json!(2)),
    )
    .await;
    let results = walk(&server, PaginationOptions::default().with_page_size(2)).await;
    assert_eq!(results.len(), 4);
    let (_, reason) = pagination_error(&results);
    assert_eq!(reason, "the server announced 4 items but sent 3");
}

#[tokio::test]
async fn without_totals_the_walk_is_sequential_and_bounded() {
    // No totals, and every page is full: an endless list.
    let server = MockServer::start_async().await;
    for p in 1..=9 {
        let ids = vec![image(&format!("{p}-a")), image(&format!("{p}-b"))];
        server
            .mock_async(move |when, then| {
                when.method(GET)
                    .path("/v1/compute/images")
                    .query_param("page", p.to_string());
                then.status(200)
                    .json_body(json!({"_pagination": {"size": 2, "page": p}, "data": ids}));
            })
            .await;
    }
    let results = walk(
        &server,
        PaginationOptions::default().with_page_size(2).with_max_pages(5),
    )
    .await;
    assert_eq!(
        results.len(),
        11,
        "10 items of pages 1-5, then the error at page 5"
    );
    assert_eq!(ok(&results).len(), 10);
    let (page, reason) = pagination_error(&results);
    assert_eq!(page, 5);
    assert!(reason.contains("more than 5 pages"), "{reason}");

    // A short page ends a list without totals.
    let short = MockServer::start_async().await;
    short
        .mock_async(|when, then| {
            when.query_param("page", "1");
            then.status(200)
                .json_body(json!({"_pagination": {"size": 2, "page": 1}, "data": [image("a"), image("b")]}));
        })
        .await;
    short
        .mock_async(|when, then| {
            when.query_param("page", "2");
            then.status(200)
                .json_body(json!({"_pagination": {"size": 2, "page": 2}, "data": [image("c")]}));
        })
        .await;
    let results = walk(&short, PaginationOptions::default().with_page_size(2)).await;
    assert_eq!(
        results.into_iter().map(Result::unwrap).collect::<Vec<_>>(),
        ["a", "b", "c"]
    );
}

#[tokio::test]
async fn a_server_that_caps_the_page_size_is_followed() {
    // Asked for 5 a page, the server sends 2 a page: later pages must be asked
    // with size 2 so that the numbers line up.
    let server = MockServer::start_async().await;
    for (p, ids) in [(1, ["a", "b"]), (2, ["c", "d"])] {
        server
            .mock_async(move |when, then| {
                when.query_param("page", p.to_string()).query_param("size", "2");
                then.status(200).json_body(body(
                    ids.iter().map(|i| image(i)).collect(),
                    json!(p),
                    2,
                    json!(4),
                    json!(2),
                ));
            })
            .await;
    }
    server
        .mock_async(|when, then| {
            when.query_param("page", "1").query_param("size", "5");
            then.status(200).json_body(body(
                vec![image("a"), image("b")],
                json!(1),
                2,
                json!(4),
                json!(2),
            ));
        })
        .await;
    let results = walk(&server, PaginationOptions::default().with_page_size(5)).await;
    assert_eq!(
        results.into_iter().map(Result::unwrap).collect::<Vec<_>>(),
        ["a", "b", "c", "d"]
    );
}

#[tokio::test]
async fn a_single_page_with_fewer_items_than_announced_is_an_error() {
    let server = MockServer::start_async().await;
    mock_page(
        &server,
        "1",
        body(vec![image("a"), image("b")], json!(1), 5, json!(4), json!(1)),
    )
    .await;
    let results = walk(&server, PaginationOptions::default().with_page_size(5)).await;
    assert_eq!(ok(&results), ["a", "b"], "what arrived comes before the error");
    assert_eq!(results.len(), 3);
    assert_eq!(
        pagination_error(&results),
        (1, "the server announced 4 items but sent 2".to_owned())
    );
}
