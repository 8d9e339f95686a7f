//! What the layer costs per call, and what decoding costs per image.
//!
//! ```text
//! cargo bench --bench overhead
//! ```
//!
//! **Per call**: fetching one image from the in-process fake of each provider
//! through `execute()` against plain reqwest + serde into the same generated
//! type (same URL, same credentials, a fixed request id), alternating in
//! rounds. The client runs on this thread (a current-thread runtime, so that
//! its connection tasks run here too); the fakes run on another thread. CPU
//! time is this thread's (`/proc/thread-self/schedstat`, Linux; elsewhere
//! only wall time is shown). Target: library / reqwest CPU <= 1.05 (Contabo).
//!
//! **Decoding**: a page of 100 images, as each fake serves it, decoded into
//! the provider's list type; nanoseconds per image.
//!
//! For an outside counter (`valgrind --tool=callgrind`): `OVERHEAD_ONLY=library`
//! (or `raw`) runs one side only, `OVERHEAD_PROVIDER=contabo` (or
//! `digitalocean`, `ionos`) one provider, `OVERHEAD_CALLS=N` sets the calls
//! per round.

mod common;

use std::time::{Duration, Instant};

use cloud_images::{Execute, Paginate, PaginationOptions};
use futures::TryStreamExt;
use serde::de::DeserializeOwned;

/// One round's per-call figures: CPU time (where known) and wall time.
type Round = (Option<Duration>, Duration);
/// Which figure of a round.
type Pick = dyn Fn(&Round) -> Option<Duration>;

const ROUNDS: usize = 96;
const CALLS: usize = 200;
const TARGET: f64 = 1.05;
const REQUEST_ID: &str = "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f";

/// The fakes' base URLs.
struct Fakes {
    contabo: String,
    digitalocean: String,
    ionos: String,
}

fn main() {
    let full = common::full_run();
    let (rounds, calls) = if full { (ROUNDS, CALLS) } else { (1, 20) };
    let calls = std::env::var("OVERHEAD_CALLS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(calls);
    let fakes = start_fakes();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // `cargo bench --bench overhead -- per-call` (or `decoding`) runs one part.
    let only = |part: &str| {
        let named: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
        named.is_empty() || named.iter().any(|n| n == part)
    };
    runtime.block_on(async {
        if only("per-call") {
            per_call(&fakes, rounds, calls).await;
        }
        if only("decoding") {
            decoding(&fakes, if full { 2000 } else { 2 }).await;
        }
    });
}

/// The fakes, on a thread of their own.
fn start_fakes() -> Fakes {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("fake runtime");
        runtime.block_on(async move {
            use cloud_images::testing::{
                FakeContabo, FakeDigitalOcean, FakeIonos, contabo, digitalocean, ionos,
            };
            let contabo =
                FakeContabo::start_with(contabo::Config::default().with_standard(100).with_custom(0)).await;
            let digitalocean = FakeDigitalOcean::start_with(
                digitalocean::Config::default()
                    .with_distributions(100)
                    .with_applications(0)
                    .with_private(0),
            )
            .await;
            let ionos =
                FakeIonos::start_with(ionos::Config::default().with_public(100).with_private(0)).await;
            tx.send(Fakes {
                contabo: contabo.base_url(),
                digitalocean: digitalocean.base_url(),
                ionos: ionos.base_url(),
            })
            .unwrap();
            std::future::pending::<()>().await;
        });
    });
    rx.recv().expect("the fakes started")
}

/// The library / reqwest ratio from the rounds' ratios: the median, over each
/// two neighbouring rounds (one with the library first, one with reqwest
/// first), of their geometric mean. Whichever side runs second in a round
/// tends to be measured slower; a pair of rounds cancels that, and
/// neighbouring rounds see the same machine load.
fn paired_ratio(ratios: &[f64]) -> f64 {
    let mut pairs: Vec<f64> = ratios.chunks_exact(2).map(|p| (p[0] * p[1]).sqrt()).collect();
    if pairs.is_empty() {
        pairs = ratios.to_vec();
    }
    pairs.sort_by(f64::total_cmp);
    let middle = pairs.len() / 2;
    if pairs.len().is_multiple_of(2) {
        (pairs[middle - 1] + pairs[middle]) / 2.0
    } else {
        pairs[middle]
    }
}

/// CPU (this thread) and wall time of `calls` calls of `call`.
async fn time<F: AsyncFnMut()>(calls: usize, mut call: F) -> Round {
    let cpu = common::thread_cpu();
    let started = Instant::now();
    for _ in 0..calls {
        call().await;
    }
    let wall = started.elapsed() / calls as u32;
    let cpu = cpu.zip(common::thread_cpu()).map(|(a, b)| (b - a) / calls as u32);
    (cpu, wall)
}

/// Per-call figures of `library` and `raw`, run in alternating rounds (which
/// goes first alternates too): the medians, and their ratio by
/// [`paired_ratio`].
async fn compare<L: AsyncFnMut(), R: AsyncFnMut()>(
    name: &str,
    rounds: usize,
    calls: usize,
    mut library: L,
    mut raw: R,
) -> Option<f64> {
    // For an outside counter (`perf stat -e instructions:u`):
    // `OVERHEAD_ONLY=library` (or `raw`) runs only that side, silently.
    match std::env::var("OVERHEAD_ONLY").as_deref() {
        Ok("library") => return time(rounds * calls, &mut library).await.0.map(|_| 0.0),
        Ok("raw") => return time(rounds * calls, &mut raw).await.0.map(|_| 0.0),
        _ => {}
    }
    // Warm up: connections, allocator, caches.
    time(calls, &mut library).await;
    time(calls, &mut raw).await;
    let (mut lib, mut plain) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        if round % 2 == 0 {
            lib.push(time(calls, &mut library).await);
            plain.push(time(calls, &mut raw).await);
        } else {
            plain.push(time(calls, &mut raw).await);
            lib.push(time(calls, &mut library).await);
        }
    }
    let ratio = |pick: &Pick| {
        let mut ratios = Vec::new();
        for (l, r) in lib.iter().zip(&plain) {
            ratios.push(pick(l)?.as_secs_f64() / pick(r)?.as_secs_f64());
        }
        Some(paired_ratio(&ratios))
    };
    let median = |v: &[Round], pick: &Pick| {
        let all: Option<Vec<Duration>> = v.iter().map(pick).collect();
        all.map(common::median)
    };
    let wall = |t: &Round| Some(t.1);
    let cpu = |t: &Round| t.0;
    let (lib_wall, raw_wall) = (median(&lib, &wall).unwrap(), median(&plain, &wall).unwrap());
    print!(
        "  {name:<26} wall {:>8} / {:>8} = {:.2}",
        common::ns(lib_wall),
        common::ns(raw_wall),
        ratio(&wall).unwrap_or(f64::NAN)
    );
    let cpu_ratio = ratio(&cpu);
    if let (Some(l), Some(r), Some(ratio)) = (median(&lib, &cpu), median(&plain, &cpu), cpu_ratio) {
        print!(
            "   CPU {:>8} / {:>8} = {ratio:.3} (+{})",
            common::ns(l),
            common::ns(r),
            common::ns(l.saturating_sub(r))
        );
    }
    println!();
    cpu_ratio
}

/// Whether to measure `provider`: all, unless `OVERHEAD_PROVIDER` names one
/// (`contabo`, `digitalocean` or `ionos`).
fn measured(provider: &str) -> bool {
    std::env::var("OVERHEAD_PROVIDER").map_or(true, |p| p.eq_ignore_ascii_case(provider))
}

/// The `user-agent` of both sides (the library's default is as long).
const USER_AGENT: &str = "cloud-images/0.1.0";

async fn per_call(fakes: &Fakes, rounds: usize, calls: usize) {
    println!(
        "per call, library / reqwest + serde (medians of {rounds} alternating rounds of {calls} calls; \
         the ratio is the median over pairs of rounds, one in each order):"
    );
    // The same request on the wire as the library's: its `user-agent` too.
    let http = cloud_images::transport::http_client_builder()
        .expect("a TLS setup")
        .user_agent(USER_AGENT)
        .build()
        .expect("reqwest client");

    let contabo = cloud_images::contabo::Client::builder()
        .user_agent(USER_AGENT)
        .base_url(&fakes.contabo)
        .bearer_token("demo-token")
        .build()
        .unwrap();
    let first = contabo.retrieve_image_list().size(1).execute().await.unwrap();
    let id = first.data[0].image_id.clone();
    let url = format!("{}/v1/compute/images/{id}", fakes.contabo);
    println!(
        "  (the future of retrieve_image().execute(): {} bytes; of the generated send(): {} bytes)",
        std::mem::size_of_val(&contabo.retrieve_image().image_id(&id).execute()),
        std::mem::size_of_val(&contabo.retrieve_image().image_id(&id).send()),
    );
    let ratio = if !measured("contabo") {
        None
    } else {
        compare(
            "Contabo retrieve_image",
            rounds,
            calls,
            async || {
                let image = contabo.retrieve_image().image_id(&id).execute().await.unwrap();
                assert_eq!(image.data.len(), 1);
            },
            async || {
                let image: cloud_images::contabo::types::FindImageResponse =
                    get(http.get(&url).bearer_auth("demo-token")).await;
                assert_eq!(image.data.len(), 1);
            },
        )
        .await
    };

    let digitalocean = cloud_images::digitalocean::Client::builder()
        .user_agent(USER_AGENT)
        .base_url(&fakes.digitalocean)
        .bearer_token("do-demo-token")
        .build()
        .unwrap();
    let first = digitalocean
        .images_list()
        .stream_with(PaginationOptions::default().with_limit(1))
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    let id = first[0].id.to_string();
    let url = format!("{}/v2/images/{id}", fakes.digitalocean);
    if measured("digitalocean") {
        compare(
            "DigitalOcean images_get",
            rounds,
            calls,
            async || {
                let image = digitalocean.images_get().image_id(&id).execute().await.unwrap();
                assert_eq!(image.image.id.to_string(), id);
            },
            async || {
                let image: cloud_images::digitalocean::types::ImagesGetResponse =
                    get(http.get(&url).bearer_auth("do-demo-token")).await;
                assert_eq!(image.image.id.to_string(), id);
            },
        )
        .await;
    }

    let (user, password) = ("user@example.com", "ionos-demo-password");
    let ionos = cloud_images::ionos::Client::builder()
        .user_agent(USER_AGENT)
        .base_url(&fakes.ionos)
        .basic_auth(user, password)
        .build()
        .unwrap();
    let images = ionos.list_images().await.unwrap();
    let id = images[0].id.clone();
    let url = format!("{}/images/{id}", fakes.ionos);
    if measured("ionos") {
        compare(
            "IONOS images_find_by_id",
            rounds,
            calls,
            async || {
                let image = ionos.images_find_by_id().image_id(&id).execute().await.unwrap();
                assert_eq!(image.id, id);
            },
            async || {
                let image: cloud_images::ionos::types::Image =
                    get(http.get(&url).basic_auth(user, Some(password))).await;
                assert_eq!(image.id, id);
            },
        )
        .await;
    }

    if let Some(ratio) = ratio {
        println!("  Contabo CPU ratio {ratio:.2} (target <= {TARGET})");
    }
}

/// What a hand-written call does: send with a request id, check the status,
/// read the body, decode it.
async fn get<T: DeserializeOwned>(request: reqwest::RequestBuilder) -> T {
    let body = request
        .header("x-request-id", REQUEST_ID)
        .header("accept", "application/json")
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .expect("an answer")
        .bytes()
        .await
        .expect("a body");
    serde_json::from_slice(&body).expect("the type")
}

/// Decoding a page of 100 images into each provider's list type.
async fn decoding(fakes: &Fakes, repeat: usize) {
    println!("decoding a page of 100 images (median of 9 x {repeat}):");
    let http = cloud_images::transport::http_client_builder()
        .unwrap()
        .build()
        .unwrap();
    let body = |request: reqwest::RequestBuilder| async move {
        request.send().await.unwrap().bytes().await.unwrap()
    };
    let contabo = body(
        http.get(format!("{}/v1/compute/images?page=1&size=100", fakes.contabo))
            .bearer_auth("demo-token")
            .header("x-request-id", REQUEST_ID),
    )
    .await;
    decode::<cloud_images::contabo::types::ListImageResponse>("Contabo", &contabo, repeat, |p| p.data.len());
    let synthetic = common::contabo_page(100, 1, 100);
    decode::<cloud_images::contabo::types::ListImageResponse>(
        "Contabo (streaming bench page)",
        synthetic.as_bytes(),
        repeat,
        |p| p.data.len(),
    );
    let digitalocean = body(
        http.get(format!("{}/v2/images?page=1&per_page=100", fakes.digitalocean))
            .bearer_auth("do-demo-token"),
    )
    .await;
    decode::<cloud_images::digitalocean::types::ImagesListResponse>(
        "DigitalOcean",
        &digitalocean,
        repeat,
        |p| p.images.len(),
    );
    let ionos = body(
        http.get(format!("{}/images?depth=1", fakes.ionos))
            .basic_auth("user@example.com", Some("ionos-demo-password")),
    )
    .await;
    decode::<cloud_images::ionos::types::Images>("IONOS Cloud", &ionos, repeat, |p| {
        p.items.as_ref().map_or(0, Vec::len)
    });
}

fn decode<T: DeserializeOwned>(name: &str, body: &[u8], repeat: usize, count: impl Fn(&T) -> usize) {
    let n = count(&serde_json::from_slice::<T>(body).expect("a page")).max(1);
    let mut times = Vec::new();
    for _ in 0..9 {
        let started = Instant::now();
        for _ in 0..repeat {
            let page: T = serde_json::from_slice(std::hint::black_box(body)).unwrap();
            std::hint::black_box(&page);
        }
        times.push(started.elapsed() / (repeat * n) as u32);
    }
    println!(
        "  {name:<32} {:>7} per image ({} bytes per image)",
        common::ns(common::median(times)),
        body.len() / n
    );
}
