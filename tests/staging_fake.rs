//! `cloud_images::testing::FakeStaging` as a user drives it: a real S3 client
//! (object_store's) putting, reading and presigning against it, with its
//! signature and expiry checks and its faults; then a presigned URL handed to
//! the DigitalOcean and Contabo fakes, whose imports really fetch it and end
//! the image as the provider does.

use std::time::Duration;

use cloud_images::Error;
use cloud_images::Execute;
use cloud_images::images::ImageFormat;
use cloud_images::testing::{
    FakeContabo, FakeDigitalOcean, FakeStaging, Fault, FetchReport, contabo, digitalocean,
};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::signer::Signer;
use object_store::{BackoffConfig, ObjectStoreExt, PutPayload, RetryConfig};
use sha2::{Digest, Sha256};

mod support;
use support::quick_wait;

/// The smallest part S3 takes (but the last).
const PART: usize = 5 * 1024 * 1024;

/// An S3 client for the fake, as a user configures one: its endpoint,
/// bucket, region and credentials, path style, HTTP allowed; retries with a
/// short back-off, `max_retries` of them.
fn s3(staging: &FakeStaging, secret: &str, max_retries: usize) -> AmazonS3 {
    AmazonS3Builder::new()
        .with_endpoint(staging.endpoint())
        .with_bucket_name(staging.bucket())
        .with_region(staging.region())
        .with_access_key_id(staging.access_key_id())
        .with_secret_access_key(secret)
        .with_virtual_hosted_style_request(false)
        .with_allow_http(true)
        .with_retry(RetryConfig {
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(5),
                max_backoff: Duration::from_millis(20),
                base: 2.0,
            },
            max_retries,
            retry_timeout: Duration::from_secs(30),
        })
        .build()
        .unwrap()
}

/// The client with the fake's own secret.
fn client(staging: &FakeStaging, max_retries: usize) -> AmazonS3 {
    s3(staging, staging.secret_access_key(), max_retries)
}

/// `len` bytes of a disk image in `format` (its header, then a pattern).
fn image_bytes(format: ImageFormat, len: usize) -> Vec<u8> {
    let mut bytes: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
    match format {
        ImageFormat::Qcow2 => bytes[..8].copy_from_slice(b"QFI\xfb\0\0\0\x03"),
        ImageFormat::Iso => bytes[0x8001..0x8006].copy_from_slice(b"CD001"),
        ImageFormat::Raw => bytes[..4].copy_from_slice(&[0; 4]),
        other => panic!("no sample of {other}"),
    }
    assert_eq!(ImageFormat::detect(&bytes), format);
    bytes
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Puts `bytes` at `key` as a multipart upload of [`PART`]-sized parts:
/// what each `put_part` answered, and the completion's (when every part was
/// taken).
async fn put_multipart(store: &AmazonS3, key: &str, bytes: &[u8]) -> Result<(), object_store::Error> {
    let mut upload = store.put_multipart(&Path::from(key)).await?;
    for part in bytes.chunks(PART) {
        if let Err(e) = upload.put_part(PutPayload::from(part.to_vec())).await {
            let _ = upload.abort().await;
            return Err(e);
        }
    }
    upload.complete().await.map(drop)
}

/// Puts `bytes` at `key` in one request and presigns a GET of it for `expiry`.
async fn staged_url(staging: &FakeStaging, key: &str, bytes: &[u8], expiry: Duration) -> String {
    let store = client(staging, 0);
    store
        .put(&Path::from(key), PutPayload::from(bytes.to_vec()))
        .await
        .unwrap();
    let url = store
        .signed_url(http::Method::GET, &Path::from(key), expiry)
        .await
        .unwrap();
    url.to_string()
}

/// The URL with its signature's last hex digit changed.
fn tampered(url: &str) -> String {
    let at = url.find("X-Amz-Signature=").unwrap() + "X-Amz-Signature=".len() + 63;
    let last = &url[at..at + 1];
    let other = if last == "0" { "1" } else { "0" };
    format!("{}{other}{}", &url[..at], &url[at + 1..])
}

#[tokio::test]
async fn a_multipart_put_reads_back_equal_and_is_recorded_without_signatures() {
    let staging = FakeStaging::start().await;
    let store = client(&staging, 0);
    let bytes = image_bytes(ImageFormat::Qcow2, 2 * PART + 12_345);
    put_multipart(&store, "images/debian-13.qcow2", &bytes)
        .await
        .unwrap();

    let read = store
        .get(&Path::from("images/debian-13.qcow2"))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(read == bytes, "the bytes read back differ from those put");
    assert!(staging.object("images/debian-13.qcow2").unwrap() == bytes);
    assert_eq!(
        staging.object_size("images/debian-13.qcow2"),
        Some(bytes.len() as u64)
    );
    assert_eq!(staging.keys(), ["images/debian-13.qcow2"]);

    let sent = staging.requests();
    let parts: Vec<_> = sent
        .iter()
        .filter(|r| r.method == "PUT" && r.query_value("partNumber").is_some())
        .map(|r| r.query_value("partNumber").unwrap().to_owned())
        .collect();
    assert_eq!(parts, ["1", "2", "3"]);
    assert!(
        sent.iter()
            .any(|r| r.method == "POST" && r.query_value("uploads").is_some())
    );
    assert!(
        sent.iter()
            .any(|r| r.method == "POST" && r.query_value("uploadId").is_some())
    );
    assert!(
        sent.iter()
            .all(|r| r.path.starts_with("/staging/") && r.header("authorization").is_none()),
        "recorded with the path-style bucket and without credentials: {sent:?}"
    );
}

#[tokio::test]
async fn a_wrong_secret_or_key_is_refused_as_s3_refuses_it() {
    let staging = FakeStaging::start().await;
    let err = s3(&staging, "not-the-secret", 0)
        .put(&Path::from("k.qcow2"), PutPayload::from_static(b"QFI\xfb"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, object_store::Error::PermissionDenied { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("SignatureDoesNotMatch"), "{err}");
    assert!(staging.keys().is_empty());

    let unknown = AmazonS3Builder::new()
        .with_endpoint(staging.endpoint())
        .with_bucket_name(staging.bucket())
        .with_region(staging.region())
        .with_access_key_id("AKIDUNKNOWN")
        .with_secret_access_key(staging.secret_access_key())
        .with_allow_http(true)
        .with_retry(RetryConfig {
            max_retries: 0,
            ..RetryConfig::default()
        })
        .build()
        .unwrap();
    let err = unknown
        .put(&Path::from("k.qcow2"), PutPayload::from_static(b"QFI\xfb"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("InvalidAccessKeyId"), "{err}");
    assert!(staging.keys().is_empty());
}

#[tokio::test]
async fn a_presigned_get_works_until_it_expires_and_only_with_its_signature() {
    let staging = FakeStaging::start().await;
    let bytes = image_bytes(ImageFormat::Qcow2, 70_000);
    // Long enough that a loaded machine cannot reach the expiry by accident.
    let url = staged_url(&staging, "debian-13.qcow2", &bytes, Duration::from_secs(300)).await;
    assert!(
        url.starts_with(&format!("{}/staging/debian-13.qcow2?", staging.endpoint())),
        "{url}"
    );

    let http = reqwest::Client::new();
    let got = http.get(&url).send().await.unwrap();
    assert_eq!(got.status(), 200);
    assert!(got.bytes().await.unwrap() == bytes);

    let wrong = http.get(tampered(&url)).send().await.unwrap();
    assert_eq!(wrong.status(), 403);
    let body = wrong.text().await.unwrap();
    assert!(body.contains("SignatureDoesNotMatch"), "{body}");

    // Recorded without the signature, which is a credential.
    let recorded = staging.requests().into_iter().last().unwrap();
    assert_eq!(recorded.query_value("X-Amz-Signature"), None);
    assert_eq!(recorded.query_value("X-Amz-Expires"), Some("300"));

    // A one-second URL is refused once it is over two seconds old, however
    // slow the machine: only the lower bound of the wait is certain.
    let short = staged_url(&staging, "short.qcow2", &bytes, Duration::from_secs(1)).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let expired = http.get(&short).send().await.unwrap();
    assert_eq!(expired.status(), 403);
    let body = expired.text().await.unwrap();
    assert!(
        body.contains("AccessDenied") && body.contains("expired"),
        "{body}"
    );
}

#[tokio::test]
async fn a_refused_part_fails_the_upload_without_retries_and_is_retried_with_them() {
    let staging = FakeStaging::start().await;
    let bytes = image_bytes(ImageFormat::Qcow2, PART + 1000);

    staging.inject(Fault::status(503).method("PUT").matching("partNumber=2"));
    let err = put_multipart(&client(&staging, 0), "refused.qcow2", &bytes)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("503"), "{err}");
    assert!(
        err.to_string().contains("SlowDown"),
        "the S3 error document: {err}"
    );
    assert!(
        staging.keys().is_empty(),
        "no object from an upload whose part was refused"
    );

    staging.clear_requests();
    staging.inject(Fault::status(503).method("PUT").matching("partNumber=2"));
    put_multipart(&client(&staging, 3), "retried.qcow2", &bytes)
        .await
        .unwrap();
    assert!(staging.object("retried.qcow2").unwrap() == bytes);
    let second: Vec<_> = staging
        .requests()
        .into_iter()
        .filter(|r| r.method == "PUT" && r.query_value("partNumber") == Some("2"))
        .collect();
    assert_eq!(second.len(), 2, "the refused part, then its retry");
}

#[tokio::test]
async fn a_connection_cut_mid_part_fails_it_and_a_retry_completes_the_object() {
    let staging = FakeStaging::start().await;
    let bytes = image_bytes(ImageFormat::Qcow2, 2 * PART);

    staging.inject(Fault::connection_cut().method("PUT").matching("partNumber=1"));
    let err = put_multipart(&client(&staging, 0), "cut.qcow2", &bytes)
        .await
        .unwrap_err();
    assert!(
        !matches!(err, object_store::Error::PermissionDenied { .. }),
        "{err:?}"
    );
    assert!(staging.keys().is_empty(), "no object from an upload cut midway");

    staging.clear_requests();
    staging.inject(Fault::connection_cut().method("PUT").matching("partNumber=2"));
    put_multipart(&client(&staging, 3), "resumed.qcow2", &bytes)
        .await
        .unwrap();
    assert!(
        staging.object("resumed.qcow2").unwrap() == bytes,
        "every byte, once"
    );
    let parts = staging
        .requests()
        .into_iter()
        .filter(|r| r.method == "PUT" && r.query_value("partNumber") == Some("2"))
        .count();
    assert_eq!(parts, 2, "the cut part, then its retry");
}

/// Imports `url` into the DigitalOcean fake through the generated client and
/// waits for the image: its id and how the wait ended.
async fn digitalocean_import(
    fake: &FakeDigitalOcean,
    url: &str,
) -> (u64, Result<cloud_images::digitalocean::types::Image, Error>) {
    let client = fake.client();
    let created = client
        .images_create_custom()
        .body(cloud_images::digitalocean::types::ImageNewCustom {
            name: "debian-13".into(),
            url: url.into(),
            region: "nyc3".into(),
            distribution: Some("Debian".into()),
            description: None,
            tags: None,
        })
        .execute()
        .await
        .unwrap();
    let id = created.image.id as u64;
    (
        id,
        client.wait_for_image(&id.to_string(), quick_wait(), |_| ()).await,
    )
}

/// Imports `url` into the Contabo fake through the generated client and
/// waits for the image: its id and how the wait ended.
async fn contabo_import(
    fake: &FakeContabo,
    url: &str,
) -> (String, Result<cloud_images::contabo::ImageDetails, Error>) {
    let client = fake.client();
    let created = client
        .create_custom_image()
        .body_map(|b| {
            b.name("debian-13")
                .url(url)
                .os_type(cloud_images::contabo::types::CreateCustomImageRequestOsType::Linux)
                .version("13")
        })
        .execute()
        .await
        .unwrap();
    let id = created.data[0].image_id.clone();
    let waited = client.wait_for_image(&id, quick_wait(), |_| ()).await;
    (id, waited)
}

/// The provider's status word and message a failed wait carries.
fn failure<T: std::fmt::Debug>(waited: Result<T, Error>) -> (Option<String>, String) {
    match waited {
        Err(Error::Wait(e)) => (e.status.clone(), e.message.clone()),
        other => panic!("expected the image to fail, got {other:?}"),
    }
}

#[tokio::test]
async fn digitalocean_imports_what_was_put_through_a_presigned_url() {
    let staging = FakeStaging::start().await;
    let bytes = image_bytes(ImageFormat::Qcow2, PART + 4321);
    let url = staged_url(&staging, "debian-13.qcow2", &bytes, Duration::from_secs(600)).await;
    staging.clear_requests();

    let fake = FakeDigitalOcean::start().await;
    let (id, waited) = digitalocean_import(&fake, &url).await;
    let image = waited.unwrap();
    assert_eq!(image.status.as_deref(), Some("available"));
    assert_eq!(image.size_gigabytes, Some(0.01));

    let report = fake.fetched(id).unwrap();
    assert!(report.is_success(), "{report:?}");
    assert_eq!(report.status, Some(200));
    assert_eq!(report.bytes, bytes.len() as u64);
    assert_eq!(report.sha256, sha256(&bytes));
    assert_eq!(report.format, Some(ImageFormat::Qcow2));

    // The cloud's fetch, as the staging server saw it: one plain GET of the key.
    let gets = staging.requests();
    assert_eq!(gets.len(), 1, "{gets:?}");
    assert_eq!(
        (gets[0].method.as_str(), gets[0].path.as_str()),
        ("GET", "/staging/debian-13.qcow2")
    );
}

#[tokio::test]
async fn digitalocean_ends_an_iso_a_bad_url_and_an_unreachable_one_deleted_with_its_message() {
    let staging = FakeStaging::start().await;
    let fake = FakeDigitalOcean::start().await;

    let iso = image_bytes(ImageFormat::Iso, 40_000);
    let url = staged_url(&staging, "installer.iso", &iso, Duration::from_secs(600)).await;
    let (id, waited) = digitalocean_import(&fake, &url).await;
    assert_eq!(
        failure(waited),
        (Some("deleted".into()), digitalocean::UNSUPPORTED_FORMAT.into())
    );
    assert_eq!(fake.fetched(id).unwrap().format, Some(ImageFormat::Iso));
    assert_eq!(
        fake.image(id).unwrap()["error_message"],
        digitalocean::UNSUPPORTED_FORMAT
    );

    let qcow2 = image_bytes(ImageFormat::Qcow2, 10_000);
    let url = staged_url(&staging, "debian.qcow2", &qcow2, Duration::from_secs(600)).await;
    let (id, waited) = digitalocean_import(&fake, &tampered(&url)).await;
    assert_eq!(
        failure(waited),
        (Some("deleted".into()), digitalocean::DOWNLOAD_FAILED.into())
    );
    assert_eq!(fake.fetched(id).unwrap().status, Some(403), "a wrong signature");

    let url = staged_url(&staging, "soon.qcow2", &qcow2, Duration::from_secs(1)).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (id, waited) = digitalocean_import(&fake, &url).await;
    assert_eq!(
        failure(waited),
        (Some("deleted".into()), digitalocean::DOWNLOAD_FAILED.into())
    );
    let report = fake.fetched(id).unwrap();
    assert_eq!(
        (report.status, report.bytes),
        (Some(403), 0),
        "an expired URL: {report:?}"
    );

    let url = staged_url(&staging, "fine.qcow2", &qcow2, Duration::from_secs(600)).await;
    staging.clear_requests();
    fake.fail_next_fetch();
    let (id, waited) = digitalocean_import(&fake, &url).await;
    assert_eq!(
        failure(waited),
        (Some("deleted".into()), digitalocean::DOWNLOAD_FAILED.into())
    );
    assert_eq!(fake.fetched(id).unwrap().status, None);
    assert!(staging.requests().is_empty(), "the cloud could not reach the URL");

    // The failure was for one import only.
    let (_, waited) = digitalocean_import(&fake, &url).await;
    assert_eq!(waited.unwrap().status.as_deref(), Some("available"));
}

#[tokio::test]
async fn contabo_imports_what_was_put_through_a_presigned_url() {
    let staging = FakeStaging::start().await;
    let bytes = image_bytes(ImageFormat::Qcow2, 3 * 1024 * 1024 + 1);
    let key = "uploads/debian-13.qcow2";
    put_multipart(&client(&staging, 0), key, &bytes).await.unwrap();
    let url = client(&staging, 0)
        .signed_url(http::Method::GET, &Path::from(key), Duration::from_secs(600))
        .await
        .unwrap();

    let fake = FakeContabo::start_with(contabo::Config::default().with_download_polls(2)).await;
    let (id, waited) = contabo_import(&fake, url.as_str()).await;
    let image = waited.unwrap();
    assert_eq!(image.status.as_deref(), Some("downloaded"));
    assert_eq!(image.size_mb, Some(4.0), "3 MiB and one byte, in whole MB");
    assert_eq!(image.format.as_deref(), Some("qcow2"));

    let report = fake.fetched(&id).unwrap();
    assert_eq!(report.bytes, bytes.len() as u64);
    assert_eq!(report.sha256, sha256(&bytes));
    assert_eq!(report.format, Some(ImageFormat::Qcow2));
}

#[tokio::test]
async fn contabo_ends_wrong_bytes_an_expired_url_and_an_unreachable_one_in_error_with_its_message() {
    let staging = FakeStaging::start().await;
    let fake = FakeContabo::start_with(contabo::Config::default().with_download_polls(2)).await;

    // Raw bytes behind a `.qcow2` name.
    let raw = image_bytes(ImageFormat::Raw, 10_000);
    let url = staged_url(&staging, "disk.qcow2", &raw, Duration::from_secs(600)).await;
    let (id, waited) = contabo_import(&fake, &url).await;
    assert_eq!(
        failure(waited),
        (Some("error".into()), contabo::UNSUPPORTED_FORMAT.into())
    );
    assert_eq!(fake.fetched(&id).unwrap().format, Some(ImageFormat::Raw));

    // An ISO is fine under its own name.
    let iso = image_bytes(ImageFormat::Iso, 40_000);
    let url = staged_url(&staging, "installer.iso", &iso, Duration::from_secs(600)).await;
    let (_, waited) = contabo_import(&fake, &url).await;
    assert_eq!(waited.unwrap().status.as_deref(), Some("downloaded"));

    let qcow2 = image_bytes(ImageFormat::Qcow2, 10_000);
    let url = staged_url(&staging, "soon.qcow2", &qcow2, Duration::from_secs(1)).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (id, waited) = contabo_import(&fake, &url).await;
    assert_eq!(
        failure(waited),
        (Some("error".into()), contabo::DOWNLOAD_FAILED.into())
    );
    assert_eq!(fake.fetched(&id).unwrap().status, Some(403));

    let url = staged_url(&staging, "fine.qcow2", &qcow2, Duration::from_secs(600)).await;
    fake.fail_next_fetch();
    let (id, waited) = contabo_import(&fake, &url).await;
    assert_eq!(
        failure(waited),
        (Some("error".into()), contabo::DOWNLOAD_FAILED.into())
    );
    assert!(!fake.fetched(&id).unwrap().is_success());
    let (_, waited) = contabo_import(&fake, &url).await;
    assert_eq!(waited.unwrap().status.as_deref(), Some("downloaded"));
}

#[tokio::test]
async fn a_url_off_loopback_is_never_fetched_and_a_closed_port_is_a_download_failure() {
    let fake = FakeDigitalOcean::start().await;
    let (id, waited) = digitalocean_import(&fake, "https://example.com/debian-13.qcow2").await;
    assert_eq!(waited.unwrap().status.as_deref(), Some("available"));
    assert_eq!(fake.fetched(id), None);

    let closed = format!("{}/staging/debian-13.qcow2", support::closed_url());
    let (id, waited) = digitalocean_import(&fake, &closed).await;
    assert_eq!(
        failure(waited),
        (Some("deleted".into()), digitalocean::DOWNLOAD_FAILED.into())
    );
    let report: FetchReport = fake.fetched(id).unwrap();
    assert_eq!(report.status, None);
    let why = report.failure.unwrap();
    assert!(
        !why.contains("127.0.0.1"),
        "the URL stays out of the failure: {why}"
    );
}

#[tokio::test]
async fn a_download_cut_short_by_the_staging_server_fails_the_import() {
    let staging = FakeStaging::start().await;
    let bytes = image_bytes(ImageFormat::Qcow2, 200_000);
    let url = staged_url(&staging, "debian-13.qcow2", &bytes, Duration::from_secs(600)).await;
    staging.inject(Fault::truncated_body().method("GET"));

    let fake = FakeDigitalOcean::start().await;
    let (id, waited) = digitalocean_import(&fake, &url).await;
    assert_eq!(
        failure(waited),
        (Some("deleted".into()), digitalocean::DOWNLOAD_FAILED.into())
    );
    let report = fake.fetched(id).unwrap();
    assert_eq!(report.status, Some(200), "{report:?}");
    assert!(report.bytes < bytes.len() as u64, "{report:?}");
    assert!(report.failure.unwrap().contains("cut short"));
}
