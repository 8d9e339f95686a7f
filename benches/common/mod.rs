//! What the benches share: CPU time of the running thread, peak memory of the
//! process, runs measured in a child process ([`child`]), an image file of
//! any size, and a loopback server that synthesizes Contabo list pages on the
//! fly (no list kept in memory, so that it can serve a million images).
#![allow(dead_code)]

pub mod child;

use std::convert::Infallible;
use std::fmt::Write as _;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

/// CPU time the calling thread has used (on Linux, from
/// `/proc/thread-self/schedstat`, in nanoseconds); `None` elsewhere.
pub fn thread_cpu() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// CPU time (user and system) of the child processes this process has
/// waited for, all together (on Linux, `cutime` and `cstime` of
/// `/proc/self/stat`, counted in 1/100 s); `None` elsewhere. The difference
/// around one child's run is that child's CPU time.
pub fn children_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // After the command name, which may hold spaces, in parentheses.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // Fields 16 and 17 of the line, counted from 1 (the state is field 3).
    let ticks = fields.get(13)?.parse::<u64>().ok()? + fields.get(14)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// The peak resident set size of this process in KiB (`VmHWM` of
/// `/proc/self/status`); `None` where there is no `/proc`.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Whether `cargo bench` runs this (`--bench`), rather than `cargo test
/// --benches`, which only checks that the bench works: keep it quick then.
pub fn full_run() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// An image file of `size` bytes: a qcow2 header, then bytes that do not
/// compress (written 8 MiB at a time, each 8 MiB numbered).
pub fn write_image(path: &Path, size: u64) -> std::io::Result<()> {
    let mut chunk = vec![0u8; 8 << 20];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for b in chunk.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    chunk[..8].copy_from_slice(b"QFI\xfb\0\0\0\x03");
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut left = size;
    let mut n = 0u64;
    while left > 0 {
        let take = left.min(chunk.len() as u64) as usize;
        if n > 0 {
            chunk[..8].copy_from_slice(&n.to_le_bytes());
        }
        file.write_all(&chunk[..take])?;
        left -= take as u64;
        n += 1;
    }
    file.into_inner().map_err(|e| e.into_error())?.sync_all()
}

/// The median of some durations.
pub fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

/// Nanoseconds, as a short figure.
pub fn ns(d: Duration) -> String {
    let n = d.as_nanos();
    if n >= 10_000_000 {
        format!("{} ms", n / 1_000_000)
    } else if n >= 10_000 {
        format!("{:.1} us", n as f64 / 1000.0)
    } else {
        format!("{n} ns")
    }
}

/// One Contabo image of a list, as the API sends it (about 480 bytes).
pub fn contabo_image(out: &mut String, i: u64) {
    let day = 1 + i % 28;
    let month = 1 + i % 9;
    let _ = write!(
        out,
        r#"{{"imageId":"{:08x}-0000-4000-8000-{:012x}","tenantId":"INT","customerId":"54321","name":"ubuntu-24.04-r{i}","description":"Ubuntu 24.04 LTS (Noble Numbat)","url":"","sizeMb":{},"uploadedSizeMb":0,"osType":"Linux","version":"24.04","format":"qcow2","status":"available","errorMessage":"","standardImage":true,"creationDate":"2026-0{month}-{day:02}T08:00:00Z","lastModifiedDate":"2026-0{month}-{day:02}T08:00:00Z","tags":[]}}"#,
        0x5d00_0000u64 + (i >> 48),
        i & 0xffff_ffff_ffff,
        2048 + (i % 5) * 512,
    );
}

/// Page `page` (from 1) of `size` of a Contabo list of `total` images.
pub fn contabo_page(total: u64, page: u64, size: u64) -> String {
    let first = (page - 1).saturating_mul(size).min(total);
    let last = page.saturating_mul(size).min(total);
    let mut out = String::with_capacity(((last - first) * 500 + 400) as usize);
    out.push_str(r#"{"data":["#);
    for i in first..last {
        if i > first {
            out.push(',');
        }
        contabo_image(&mut out, i);
    }
    let pages = total.div_ceil(size);
    let _ = write!(
        out,
        r#"],"_links":{{"first":"/v1/compute/images?page=1&size={size}","self":"/v1/compute/images?page={page}&size={size}","last":"/v1/compute/images?page={pages}&size={size}"}},"_pagination":{{"size":{size},"totalElements":{total},"totalPages":{pages},"page":{page}}}}}"#
    );
    out
}

/// One DigitalOcean image of a list, as the API sends it (about 330 bytes).
pub fn digitalocean_image(out: &mut String, i: u64) {
    let day = 1 + i % 9;
    let _ = write!(
        out,
        r#"{{"id":{},"name":"24.04 (LTS) x64","type":"base","distribution":"Ubuntu","slug":"ubuntu-24-04-x64-r{i}","public":true,"regions":["nyc1","nyc3","sfo3","ams3","fra1","lon1","sgp1","tor1","blr1","syd1","atl1"],"created_at":"2026-0{day}-0{day}T12:00:00Z","min_disk_size":{},"size_gigabytes":0.5,"description":"","tags":[],"status":"available","error_message":""}}"#,
        160_000_000 + i,
        7 + (i % 3) * 5,
    );
}

/// Page `page` (from 1) of `per_page` of a DigitalOcean list of `total` images.
pub fn digitalocean_page(total: u64, page: u64, per_page: u64) -> String {
    let first = (page - 1).saturating_mul(per_page).min(total);
    let last = page.saturating_mul(per_page).min(total);
    let mut out = String::with_capacity(((last - first) * 400 + 300) as usize);
    out.push_str(r#"{"images":["#);
    for i in first..last {
        if i > first {
            out.push(',');
        }
        digitalocean_image(&mut out, i);
    }
    let pages = total.div_ceil(per_page);
    let _ = write!(
        out,
        r#"],"links":{{"pages":{{"last":"/v2/images?page={pages}&per_page={per_page}"}}}},"meta":{{"total":{total}}}}}"#
    );
    out
}

/// A loopback server, on a thread of its own, that synthesizes the pages of
/// a list of `total` images, each answer after `ms` milliseconds:
///
/// - `GET /contabo/{total}/{ms}/v1/compute/images?page=P&size=S`
/// - `GET /digitalocean/{total}/{ms}/v2/images?page=P&per_page=S`
///
/// (a client's base URL is `http://{addr}/{provider}/{total}/{ms}`). Lives
/// as long as the process.
pub fn start_synthetic() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the synthetic server");
    let addr = listener.local_addr().expect("local address");
    listener.set_nonblocking(true).expect("non-blocking listener");
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("server runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                tokio::spawn(async move {
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service_fn(synthetic))
                        .await;
                });
            }
        });
    });
    addr
}

/// Waits until `latency` after `from`, to within a few microseconds: tokio's
/// timer fires on whole milliseconds, up to 1 ms late, which would add up to
/// 2 % to a 50 ms latency; so it sleeps to 1 ms before and then yields until
/// the instant.
async fn hold(from: tokio::time::Instant, latency: Duration) {
    let until = from + latency;
    tokio::time::sleep_until(until - Duration::from_millis(1).min(latency)).await;
    while tokio::time::Instant::now() < until {
        tokio::task::yield_now().await;
    }
}

async fn synthetic(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let arrived = tokio::time::Instant::now();
    let uri = request.uri();
    let query = |key: &str| {
        uri.query()
            .unwrap_or("")
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| *k == key)
            .and_then(|(_, v)| v.parse::<u64>().ok())
    };
    let page = query("page").unwrap_or(1).max(1);
    let segments: Vec<&str> = uri.path().trim_start_matches('/').split('/').collect();
    let body = match segments.as_slice() {
        ["contabo", total, ms, "v1", "compute", "images"] => total
            .parse()
            .ok()
            .zip(ms.parse().ok())
            .map(|(t, ms)| (ms, contabo_page(t, page, query("size").unwrap_or(10).max(1)))),
        ["digitalocean", total, ms, "v2", "images"] => {
            total.parse().ok().zip(ms.parse().ok()).map(|(t, ms)| {
                (
                    ms,
                    digitalocean_page(t, page, query("per_page").unwrap_or(20).max(1)),
                )
            })
        }
        _ => None,
    };
    let Some((ms, body)) = body else {
        let mut response = Response::new(Full::new(Bytes::from_static(b"{}")));
        *response.status_mut() = StatusCode::NOT_FOUND;
        return Ok(response);
    };
    if ms > 0 {
        hold(arrived, Duration::from_millis(ms)).await;
    }
    let mut response = Response::new(Full::new(Bytes::from(body)));
    response
        .headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    Ok(response)
}

/// What a hand-written Contabo client would do to list every image: page 1,
/// then the others `concurrency` at a time, in order, each decoded into the
/// generated types. The images seen.
pub async fn raw_contabo_listing(base_url: &str, size: u64, concurrency: usize) -> u64 {
    use cloud_images::contabo::types::ListImageResponse;
    use futures::StreamExt;

    let http = cloud_images::transport::http_client_builder()
        .expect("a TLS setup")
        .build()
        .expect("client");
    let fetch = |page: u64| {
        let http = http.clone();
        let url = format!("{base_url}/v1/compute/images?page={page}&size={size}");
        async move {
            let body = http
                .get(url)
                .bearer_auth("bench-token")
                .header("x-request-id", "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f")
                .send()
                .await
                .and_then(|r| r.error_for_status())
                .expect("a page")
                .bytes()
                .await
                .expect("a body");
            serde_json::from_slice::<ListImageResponse>(&body).expect("a page of images")
        }
    };
    let first = fetch(1).await;
    let pages = first.pagination.total_pages.unwrap_or(1.0) as u64;
    let mut count = first.data.iter().filter(|i| !i.image_id.is_empty()).count() as u64;
    let mut rest = futures::stream::iter(2..=pages).map(fetch).buffered(concurrency);
    while let Some(page) = rest.next().await {
        for image in page.data {
            count += u64::from(!image.image_id.is_empty());
        }
    }
    count
}
