//! A load run with faults: thousands of calls on one shared client against
//! the Contabo fake (OAuth2 tokens that live a few seconds), while faults are
//! injected all along: `503`s, answers slower than the attempt limit, bodies
//! cut short (after a change was made, too). It counts what a user relies
//! on and prints it:
//!
//! - calls completed, and failures by kind (none may be a wrong result);
//! - creations: every image asked for exists once at most, none reported
//!   "not applied" exists, none reported done is missing;
//! - token requests against the token lifetimes the run spanned;
//! - peak memory, and the longest call against the operation's limit.
//!
//! `cargo bench --bench load` runs 10,000 calls with 1,500 faults;
//! `cargo test --benches` a short run that checks the same promises.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cloud_images::contabo::types;
use cloud_images::testing::Fault;
use cloud_images::testing::contabo::{Config, FakeContabo, OAuthConfig};
use cloud_images::{Error, Execute, RetryPolicy, Timeouts};
use futures::StreamExt;

mod common;

/// The token lifetime the fake grants, in seconds.
const TOKEN_LIFETIME: u64 = 1;
/// Calls in flight at once.
const CONCURRENCY: usize = 64;

#[derive(Default)]
struct Tally {
    completed: usize,
    failed: HashMap<&'static str, usize>,
}

#[tokio::main]
async fn main() {
    let full = common::full_run();
    let (calls, faults) = if full { (10_000, 1_500) } else { (600, 90) };
    let operation_limit = Duration::from_secs(5);

    let fake = FakeContabo::start_with(
        Config::default()
            .with_token(None)
            .with_standard(20)
            .with_custom(20)
            .with_oauth(
                OAuthConfig::new("cid", "csecret", "api-user", "api-pass").with_expires_in(TOKEN_LIFETIME),
            ),
    )
    .await;
    let grant = fake.password_grant().expect("the fake has an OAuth2 endpoint");
    let client = fake
        .client_builder()
        .token_source(grant)
        .retry_policy(
            RetryPolicy::default()
                .with_max_attempts(4)
                .with_initial_backoff(Duration::from_millis(5))
                .with_max_backoff(Duration::from_millis(50)),
        )
        .timeouts(
            Timeouts::default()
                .with_attempt(Duration::from_millis(400))
                .with_operation(operation_limit),
        )
        .build()
        .unwrap();
    let ids: Vec<String> = fake
        .images()
        .iter()
        .filter_map(|i| i["imageId"].as_str().map(str::to_owned))
        .collect();

    let started = Instant::now();
    let longest = Arc::new(std::sync::Mutex::new(Duration::ZERO));
    let created: Arc<std::sync::Mutex<Vec<(String, Outcome)>>> = Arc::default();
    let tally = Arc::new(std::sync::Mutex::new(Tally::default()));
    let wrong = Arc::new(AtomicUsize::new(0));
    // Faults all along the run, a few at a time.
    let inject = async {
        for n in 0..faults {
            let fault = match n % 3 {
                0 => Fault::status(503),
                1 => Fault::delay(Duration::from_millis(600)),
                _ => Fault::truncated_body(),
            };
            fake.inject(fault);
            tokio::time::sleep(Duration::from_millis(if n % 10 == 0 { 20 } else { 2 })).await;
        }
    };
    let run = futures::stream::iter(0..calls).for_each_concurrent(CONCURRENCY, |n| {
        let (client, ids, longest, created, tally, wrong) = (
            &client,
            &ids,
            longest.clone(),
            created.clone(),
            tally.clone(),
            wrong.clone(),
        );
        async move {
            let begun = Instant::now();
            let result: Result<(), Error> = match n % 10 {
                // A change: a custom image with a name of its own.
                0 => {
                    let name = format!("load-{n}");
                    let body = types::CreateCustomImageRequest::builder()
                        .name(name.clone())
                        .url("https://example.com/images/load.qcow2")
                        .os_type(types::CreateCustomImageRequestOsType::Linux)
                        .version("1");
                    let r = client.create_custom_image().body(body).execute().await;
                    created.lock().unwrap().push((name, Outcome::of(&r)));
                    r.map(drop)
                }
                1..=2 => client.retrieve_image_list().size(10).execute().await.map(|page| {
                    if page.data.len() > 10 {
                        wrong.fetch_add(1, Ordering::SeqCst);
                    }
                }),
                _ => {
                    let id = &ids[n % ids.len()];
                    client.retrieve_image().image_id(id).execute().await.map(|image| {
                        if image.data.first().map(|i| i.image_id.as_str()) != Some(id.as_str()) {
                            wrong.fetch_add(1, Ordering::SeqCst);
                        }
                    })
                }
            };
            let took = begun.elapsed();
            let mut l = longest.lock().unwrap();
            *l = (*l).max(took);
            drop(l);
            let mut t = tally.lock().unwrap();
            match result {
                Ok(()) => t.completed += 1,
                Err(e) => *t.failed.entry(kind(&e)).or_default() += 1,
            }
        }
    });
    // The run ends when its calls have; faults not yet injected are not.
    if let futures::future::Either::Right(((), run)) =
        futures::future::select(Box::pin(run), Box::pin(inject)).await
    {
        run.await;
    }
    let elapsed = started.elapsed();

    // Every creation against the fake's state.
    let names: HashMap<String, usize> = fake
        .images()
        .iter()
        .filter_map(|i| i["name"].as_str())
        .filter(|n| n.starts_with("load-"))
        .fold(HashMap::new(), |mut m, n| {
            *m.entry(n.to_owned()).or_default() += 1;
            m
        });
    let created = created.lock().unwrap();
    let duplicates = names.values().filter(|&&c| c > 1).count();
    let mut said_not_made_but_made = 0;
    let mut said_made_but_missing = 0;
    let mut maybe = 0;
    for (name, outcome) in created.iter() {
        let there = names.contains_key(name);
        match outcome {
            Outcome::Done if !there => said_made_but_missing += 1,
            Outcome::NotMade if there => said_not_made_but_made += 1,
            Outcome::Maybe => maybe += 1,
            _ => {}
        }
    }
    let tally = tally.lock().unwrap();
    let lifetimes = (elapsed.as_secs_f64() / TOKEN_LIFETIME as f64).ceil();
    let tokens = fake.tokens_issued();
    let longest = *longest.lock().unwrap();

    println!("load: {calls} calls, {CONCURRENCY} at a time, {faults} faults injected, in {elapsed:.1?}");
    println!("  completed: {}", tally.completed);
    let mut failed: Vec<_> = tally.failed.iter().collect();
    failed.sort();
    println!("  failed: {failed:?}");
    println!("  wrong results: {}", wrong.load(Ordering::SeqCst));
    println!(
        "  creations: {} asked, {} made, {duplicates} made twice, {said_not_made_but_made} said not made but made, \
         {said_made_but_missing} said made but missing, {maybe} said maybe",
        created.len(),
        names.len()
    );
    println!(
        "  token requests: {tokens} over {lifetimes} token lifetimes of {TOKEN_LIFETIME} s ({:.2} a lifetime)",
        tokens as f64 / lifetimes
    );
    println!("  longest call: {longest:.2?} (operation limit {operation_limit:?})");
    if let Some(kib) = common::peak_rss_kib() {
        println!(
            "  peak RSS: {:.1} MiB (the fake, in the same process, keeps every request it received)",
            kib as f64 / 1024.0
        );
    }

    assert_eq!(wrong.load(Ordering::SeqCst), 0, "wrong results");
    assert_eq!(duplicates, 0, "an image created twice");
    assert_eq!(said_not_made_but_made, 0, "a change said not made was made");
    assert_eq!(said_made_but_missing, 0, "a change said made is missing");
    assert!(
        longest < operation_limit + Duration::from_millis(500),
        "a call took {longest:?}"
    );
    assert!(
        (tokens as f64) <= 2.0 * lifetimes + 2.0,
        "{tokens} token requests over {lifetimes} lifetimes"
    );
}

/// What a call said of its change.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Done,
    NotMade,
    Maybe,
}

impl Outcome {
    fn of<T>(result: &Result<T, Error>) -> Self {
        match result {
            Ok(_) => Outcome::Done,
            Err(e) => match e.outcome() {
                cloud_images::error::Outcome::NotApplied => Outcome::NotMade,
                cloud_images::error::Outcome::Applied => Outcome::Done,
                _ => Outcome::Maybe,
            },
        }
    }
}

/// A failure's kind, for the tally.
fn kind(e: &Error) -> &'static str {
    match e {
        Error::Api(_) => "api",
        Error::Transport { .. } => "transport",
        Error::Timeout { .. } => "timeout",
        Error::Decode { .. } => "decode",
        Error::Auth(_) => "auth",
        _ => "other",
    }
}
