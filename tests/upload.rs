//! `Images::upload` end to end: a local file staged in a real S3 server on
//! loopback (`FakeStaging`), imported by the provider fakes, which really
//! fetch the URL they are given; the bytes are checked at the far end and
//! the bucket afterwards.

mod support;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cloud_images::images::{ImageFormat, ImageStatus, Images, Staging, UploadPhase, UploadRequest};
use cloud_images::testing::{
    FakeContabo, FakeDigitalOcean, FakeStaging, Fault, FetchReport, contabo, digitalocean,
};
use cloud_images::wait::WaitOptions;
use support::ImageFile;

const MIB: usize = 1024 * 1024;

/// A qcow2 file of three parts (5 MiB, 5 MiB and the rest).
fn qcow2(name: &str) -> ImageFile {
    ImageFile::qcow2(name, 12 * MIB + 12_345)
}

/// The staging fake as the request's store: 5 MiB parts, two in flight.
fn staging_of(fake: &FakeStaging) -> Staging {
    Staging::parse(&format!("{}/incoming", fake.s3_url()))
        .unwrap()
        .with_endpoint(fake.endpoint())
        .with_region(fake.region())
        .with_credentials(fake.access_key_id(), fake.secret_access_key())
        .with_part_size(5 * MIB)
        .with_parts_in_flight(2)
}

fn quick() -> WaitOptions {
    WaitOptions::new(
        Duration::from_millis(5),
        Duration::from_millis(20),
        Duration::from_secs(60),
    )
}

/// The phases reported, in order, with consecutive repeats folded.
#[derive(Default, Clone)]
struct Phases(Arc<Mutex<Vec<UploadPhase>>>);

impl Phases {
    fn record(&self) -> impl FnMut(&cloud_images::images::UploadProgress) + Send + 'static {
        let seen = Arc::clone(&self.0);
        move |p| seen.lock().unwrap().push(p.phase().clone())
    }
    fn all(&self) -> Vec<UploadPhase> {
        self.0.lock().unwrap().clone()
    }
    fn names(&self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = Vec::new();
        for phase in self.all() {
            let name = match phase {
                UploadPhase::Checking => "checking",
                UploadPhase::Staging { .. } => "staging",
                UploadPhase::Staged { .. } => "staged",
                UploadPhase::Importing => "importing",
                UploadPhase::Imported { .. } => "imported",
                UploadPhase::Waiting(_) => "waiting",
                UploadPhase::Distributing { .. } => "distributing",
                UploadPhase::CleaningUp => "cleaning up",
                _ => "other",
            };
            if names.last() != Some(&name) {
                names.push(name);
            }
        }
        names
    }
}

/// What the far end got, once its fetch ended.
async fn fetched(report: impl Fn() -> Option<FetchReport>) -> FetchReport {
    for _ in 0..500 {
        if let Some(report) = report() {
            return report;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the fake never fetched the URL");
}

fn assert_same_bytes(report: &FetchReport, file: &ImageFile) {
    assert!(report.is_success(), "{report:?}");
    assert_eq!(report.bytes, file.len());
    assert_eq!(
        report.sha256,
        file.sha256(),
        "the bytes at the far end are the file's"
    );
    assert_eq!(report.format, Some(ImageFormat::Qcow2));
}

fn part_puts(staging: &FakeStaging) -> usize {
    staging
        .requests()
        .iter()
        .filter(|r| r.method == "PUT" && r.query.iter().any(|(k, _)| k == "partNumber"))
        .count()
}

async fn digitalocean() -> FakeDigitalOcean {
    FakeDigitalOcean::start_with(
        digitalocean::Config::default()
            .with_import_polls(2)
            .with_action_polls(1),
    )
    .await
}

async fn contabo() -> FakeContabo {
    FakeContabo::start_with(contabo::Config::default().with_download_polls(2)).await
}

fn digitalocean_request(file: &ImageFile, staging: &FakeStaging) -> UploadRequest {
    UploadRequest::new("debian-13", file.path())
        .with_env(|_| None)
        .with_os("Debian")
        .with_region("fra1")
        .with_staging(staging_of(staging))
        .with_wait_options(quick())
}

fn contabo_request(file: &ImageFile, staging: &FakeStaging) -> UploadRequest {
    UploadRequest::new("debian-13", file.path())
        .with_env(|_| None)
        .with_os("linux")
        .with_version("13")
        .with_staging(staging_of(staging))
        .with_wait_options(quick())
}

#[tokio::test]
async fn digitalocean_imports_the_file_copies_it_and_cleans_up() {
    let (cloud, staging) = (digitalocean().await, FakeStaging::start().await);
    let file = qcow2("debian-13.qcow2");
    let phases = Phases::default();
    let request = digitalocean_request(&file, &staging).with_regions(["ams3", "sgp1"]);
    let image = cloud
        .client()
        .upload(request, &mut phases.record())
        .await
        .expect("the upload");

    assert_eq!(image.status, ImageStatus::Ready);
    assert_eq!(image.name, "debian-13");
    for region in ["ams3", "sgp1"] {
        assert!(
            image.regions.iter().any(|r| r == region),
            "copied to {region}: {:?}",
            image.regions
        );
    }
    let id: u64 = image.id.parse().unwrap();
    assert_same_bytes(&fetched(|| cloud.fetched(id)).await, &file);
    assert_eq!(
        staging.keys(),
        Vec::<String>::new(),
        "the staged object is deleted"
    );
    assert_eq!(part_puts(&staging), 3, "three parts, each sent once");
    assert_eq!(
        phases.names(),
        [
            "checking",
            "staging",
            "staged",
            "importing",
            "imported",
            "waiting",
            "cleaning up",
            "distributing"
        ]
    );
    let all = phases.all();
    assert!(all.contains(&UploadPhase::Staging {
        sent: file.len(),
        total: file.len()
    }));
    assert!(all.contains(&UploadPhase::Distributing {
        id: image.id.clone(),
        region: "sgp1".into()
    }));
    // The key keeps the image's name and the file's extension, under the prefix.
    let Some(UploadPhase::Staged { bucket, key }) =
        all.iter().find(|p| matches!(p, UploadPhase::Staged { .. }))
    else {
        unreachable!()
    };
    assert_eq!(bucket, staging.bucket());
    assert!(
        key.starts_with("incoming/") && key.ends_with("/debian-13.qcow2"),
        "{key}"
    );
}

#[tokio::test]
async fn contabo_imports_the_file_and_cleans_up() {
    let (cloud, staging) = (contabo().await, FakeStaging::start().await);
    let file = qcow2("debian-13.qcow2");
    let image = cloud
        .client()
        .upload(contabo_request(&file, &staging), &mut |_| {})
        .await
        .expect("the upload");
    assert_eq!(image.status, ImageStatus::Ready);
    assert_same_bytes(&fetched(|| cloud.fetched(&image.id)).await, &file);
    assert_eq!(staging.keys(), Vec::<String>::new());
    // The free space was asked for before the first byte went out.
    let paths: Vec<String> = cloud.api_requests().iter().map(|r| r.path.clone()).collect();
    assert!(paths.iter().any(|p| p == "/v1/compute/images/stats"), "{paths:?}");
    // The image Contabo returns does not carry the presigned URL.
    assert!(!format!("{image:?}").contains("X-Amz-Signature"), "{image:?}");
}

#[tokio::test]
async fn keep_staged_leaves_the_object_with_the_files_bytes() {
    let (cloud, staging) = (contabo().await, FakeStaging::start().await);
    let file = qcow2("debian-13.qcow2");
    let request = contabo_request(&file, &staging).with_keep_staged(true);
    cloud
        .client()
        .upload(request, &mut |_| {})
        .await
        .expect("the upload");
    let keys = staging.keys();
    assert_eq!(keys.len(), 1, "{keys:?}");
    let kept = staging.object(&keys[0]).unwrap();
    assert_eq!(support::sha256(&kept), file.sha256());
}

#[tokio::test]
async fn a_refused_part_is_sent_again() {
    let (cloud, staging) = (digitalocean().await, FakeStaging::start().await);
    let file = qcow2("debian-13.qcow2");
    staging.inject(Fault::status(503).method("PUT").matching("partNumber=2").times(2));
    let image = cloud
        .client()
        .upload(digitalocean_request(&file, &staging), &mut |_| {})
        .await
        .expect("the upload, after the part was retried");
    assert_same_bytes(&fetched(|| cloud.fetched(image.id.parse().unwrap())).await, &file);
    assert_eq!(part_puts(&staging), 5, "three parts and two retries");
    assert_eq!(staging.keys(), Vec::<String>::new());
}

#[tokio::test]
async fn a_part_cut_off_midway_is_sent_again() {
    let (cloud, staging) = (contabo().await, FakeStaging::start().await);
    let file = qcow2("debian-13.qcow2");
    staging.inject(Fault::connection_cut().method("PUT").matching("partNumber=1"));
    let image = cloud
        .client()
        .upload(contabo_request(&file, &staging), &mut |_| {})
        .await
        .expect("the upload, after the cut part was sent again");
    assert_same_bytes(&fetched(|| cloud.fetched(&image.id)).await, &file);
    assert_eq!(part_puts(&staging), 4);
}

#[tokio::test]
async fn a_cloud_that_cannot_fetch_ends_in_its_message_and_the_object_goes() {
    for provider in ["digitalocean", "contabo"] {
        let staging = FakeStaging::start().await;
        let file = qcow2("debian-13.qcow2");
        let e = if provider == "digitalocean" {
            let cloud = digitalocean().await;
            cloud.fail_next_fetch();
            cloud
                .client()
                .upload(digitalocean_request(&file, &staging), &mut |_| {})
                .await
                .unwrap_err()
        } else {
            let cloud = contabo().await;
            cloud.fail_next_fetch();
            cloud
                .client()
                .upload(contabo_request(&file, &staging), &mut |_| {})
                .await
                .unwrap_err()
        };
        let wait = e
            .wait()
            .unwrap_or_else(|| panic!("{provider}: a wait error: {e}"));
        let expected = if provider == "digitalocean" {
            digitalocean::DOWNLOAD_FAILED
        } else {
            contabo::DOWNLOAD_FAILED
        };
        assert_eq!(wait.message, expected, "{provider}");
        assert_eq!(
            staging.keys(),
            Vec::<String>::new(),
            "{provider}: deleted after the failure"
        );
        for shown in [e.to_string(), format!("{e:?}")] {
            assert!(
                !shown.contains("X-Amz-"),
                "{provider}: the URL is a secret: {shown}"
            );
        }
    }
}

#[tokio::test]
async fn a_format_the_cloud_does_not_take_is_refused_before_a_byte_is_sent() {
    let (cloud, staging) = (contabo().await, FakeStaging::start().await);
    let raw = ImageFile::new("debian-13.img", &[0; 512], MIB);
    let request = contabo_request(&raw, &staging);
    let e = cloud.client().upload(request, &mut |_| {}).await.unwrap_err();
    assert!(e.is_invalid_request(), "{e}");
    assert!(
        e.to_string()
            .contains("is raw, which contabo does not import (it takes qcow2, iso)"),
        "{e}"
    );
    assert!(staging.requests().is_empty(), "nothing was sent to the store");
    assert!(cloud.api_requests().is_empty(), "nothing was sent to the cloud");

    // DigitalOcean takes raw, not ISO.
    let cloud = digitalocean().await;
    let iso = ImageFile::iso("debian.iso", 0x9000);
    let e = cloud
        .client()
        .upload(digitalocean_request(&iso, &staging), &mut |_| {})
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("is iso, which digitalocean does not import"),
        "{e}"
    );
    assert!(staging.requests().is_empty());
}

#[tokio::test]
async fn a_missing_file_or_field_is_named_before_a_byte_is_sent() {
    let (cloud, staging) = (contabo().await, FakeStaging::start().await);
    let missing = Path::new("no/such/debian-13.qcow2");
    let request = UploadRequest::new("debian-13", missing)
        .with_env(|_| None)
        .with_os("linux")
        .with_version("13")
        .with_staging(staging_of(&staging));
    let e = cloud.client().upload(request, &mut |_| {}).await.unwrap_err();
    assert!(e.is_invalid_request(), "{e}");
    assert!(
        e.to_string().contains("cannot read `no/such/debian-13.qcow2`"),
        "{e}"
    );

    let file = qcow2("debian-13.qcow2");
    let no_version = UploadRequest::new("debian-13", file.path())
        .with_env(|_| None)
        .with_os("linux")
        .with_staging(staging_of(&staging));
    let e = cloud.client().upload(no_version, &mut |_| {}).await.unwrap_err();
    assert!(e.to_string().contains("upload: contabo needs `version`"), "{e}");
    assert!(staging.requests().is_empty());
    assert!(cloud.api_requests().is_empty());
}

#[tokio::test]
async fn an_upload_dropped_while_sending_leaves_no_parts() {
    let (cloud, staging) = (digitalocean().await, FakeStaging::start().await);
    let file = qcow2("debian-13.qcow2");
    // The second part takes long: the upload is dropped while it is sent.
    staging.inject(
        Fault::delay(Duration::from_secs(30))
            .method("PUT")
            .matching("partNumber=2"),
    );
    let client = cloud.client();
    let mut progress = |_: &cloud_images::images::UploadProgress| {};
    let upload = client.upload(digitalocean_request(&file, &staging), &mut progress);
    assert!(
        tokio::time::timeout(Duration::from_millis(1500), upload)
            .await
            .is_err(),
        "still sending"
    );
    let aborted = || {
        staging
            .requests()
            .iter()
            .any(|r| r.method == "DELETE" && r.query.iter().any(|(k, _)| k == "uploadId"))
    };
    for _ in 0..200 {
        if aborted() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        aborted(),
        "the multipart upload was aborted: {:?}",
        staging.requests()
    );
    assert_eq!(staging.keys(), Vec::<String>::new());
    assert!(cloud.api_requests().is_empty(), "no import was asked for");
}

#[tokio::test]
async fn an_upload_dropped_while_waiting_deletes_the_staged_object() {
    let cloud = FakeDigitalOcean::start_with(digitalocean::Config::default().with_import_polls(10_000)).await;
    let staging = FakeStaging::start().await;
    let file = qcow2("debian-13.qcow2");
    let phases = Phases::default();
    let client = cloud.client();
    let mut record = phases.record();
    let upload = client.upload(digitalocean_request(&file, &staging), &mut record);
    let waiting = async {
        tokio::pin!(upload);
        loop {
            tokio::select! {
                _ = &mut upload => panic!("the import cannot end"),
                _ = tokio::time::sleep(Duration::from_millis(20)) => {
                    if phases.names().contains(&"waiting") {
                        return;
                    }
                }
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), waiting)
        .await
        .expect("the upload reaches the wait");
    assert_eq!(staging.keys().len(), 1, "staged while the cloud imports");
    for _ in 0..200 {
        if staging.keys().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        staging.keys(),
        Vec::<String>::new(),
        "deleted once the upload was dropped"
    );
}

/// A refusal whose answer quotes a presigned URL (its signature and
/// credential) does not show them.
#[tokio::test]
async fn the_presigned_url_stays_out_of_an_import_refusal() {
    let (cloud, staging) = (digitalocean().await, FakeStaging::start().await);
    let file = qcow2("debian-13.qcow2");
    let quoted = format!(
        "{}/incoming/k/debian-13.qcow2?X-Amz-Algorithm=AWS4-HMAC-SHA256\
         &X-Amz-Credential=SECRETKEYID%2F20260101%2Fus-east-1%2Fs3%2Faws4_request\
         &X-Amz-Signature=5ecre75160a7e",
        staging.endpoint()
    );
    let body = serde_json::json!({
        "id": "unprocessable_entity",
        "message": format!("cannot fetch {quoted}: unsupported")
    });
    cloud.inject(
        Fault::status(422)
            .method("POST")
            .matching("/v2/images")
            .body(body.to_string()),
    );
    let e = cloud
        .client()
        .upload(digitalocean_request(&file, &staging), &mut |_| {})
        .await
        .unwrap_err();
    assert_eq!(e.status().map(|s| s.as_u16()), Some(422), "{e}");
    for shown in [e.to_string(), format!("{e:?}")] {
        for secret in ["5ecre75160a7e", "SECRETKEYID"] {
            assert!(!shown.contains(secret), "{secret}: {shown}");
        }
    }
    assert!(e.to_string().contains("cannot fetch"), "the message stays: {e}");
    assert_eq!(staging.keys(), Vec::<String>::new(), "deleted after the refusal");
}

#[tokio::test]
async fn no_wait_returns_once_the_import_started_and_keeps_the_object_for_the_cloud() {
    let (cloud, staging) = (contabo().await, FakeStaging::start().await);
    let file = qcow2("debian-13.qcow2");
    let image = cloud
        .client()
        .upload(contabo_request(&file, &staging).with_wait(false), &mut |_| {})
        .await
        .expect("the import started");
    assert!(
        matches!(image.status, ImageStatus::Pending(_)),
        "{:?}",
        image.status
    );
    assert_same_bytes(&fetched(|| cloud.fetched(&image.id)).await, &file);
    assert_eq!(staging.keys().len(), 1, "left for the cloud to fetch");
}

/// With only a bucket named, Contabo's upload finds the endpoint from the
/// account's object storage and the keys from the API user's credentials
/// (the user from the access token's `sub`), as `cntb` does.
#[tokio::test]
async fn contabo_finds_its_object_storage_and_keys_through_the_api() {
    use cloud_images::contabo::{Client, types};
    use cloud_images::testing::httpmock::contabo::MockServerExt;
    use serde_json::json;

    fn from<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> T {
        serde_json::from_value(value).unwrap()
    }
    let staging = FakeStaging::start().await;
    let server = httpmock::MockServer::start_async().await;
    let user = "6cdf5968-f9fe-4192-97c2-f349e813c5e8";
    let page = json!({"size": 10, "totalElements": 1, "totalPages": 1, "page": 1});
    let stats: types::CustomImagesStatsResponse = from(json!({"data": [{"freeSizeMb": 1000}]}));
    let storages: types::ListObjectStorageResponse = from(json!({"_pagination": page, "data": [
        {"objectStorageId": "os-0", "status": "PROVISIONING", "s3Url": "https://unused.example.com"},
        {"objectStorageId": "os-1", "status": "READY", "s3Url": staging.endpoint()},
    ]}));
    let keys: types::ListCredentialResponse = from(json!({"_pagination": page, "data": [
        {"accessKey": staging.access_key_id(), "secretKey": staging.secret_access_key(), "objectStorageId": "os-1"},
    ]}));
    let created: types::CreateCustomImageResponse = from(json!({"data": [{"imageId": "img-1"}]}));
    let found: types::FindImageResponse = from(json!({"data": [
        {"imageId": "img-1", "name": "debian-13", "status": "downloaded", "standardImage": false},
    ]}));
    let stats = server.retrieve_custom_images_stats(|_, then| {
        then.ok(&stats);
    });
    let storages = server.retrieve_object_storage_list(|_, then| {
        then.ok(&storages);
    });
    let keys = server.list_object_storage_credentials(|when, then| {
        when.user_id(user).object_storage_id("os-1");
        then.ok(&keys);
    });
    let create = server.create_custom_image(|_, then| {
        then.created(&created);
    });
    server.retrieve_image(|_, then| {
        then.ok(&found);
    });
    let engine = |text: &str| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
    };
    let token = format!(
        "{}.{}.signature",
        engine(r#"{"alg":"RS256"}"#),
        engine(&json!({"sub": user}).to_string())
    );
    let client = Client::builder()
        .base_url(server.base_url())
        .bearer_token(token)
        .build()
        .unwrap();

    let file = qcow2("debian-13.qcow2");
    let request = UploadRequest::new("debian-13", file.path())
        .with_env(|_| None)
        .with_os("linux")
        .with_version("13")
        .with_staging(Staging::parse(&staging.s3_url()).unwrap())
        .with_wait_options(quick());
    let image = client.upload(request, &mut |_| {}).await.expect("the upload");
    assert_eq!(image.id, "img-1");
    assert_eq!(image.status, ImageStatus::Ready);
    for mock in [&stats, &storages, &keys, &create] {
        mock.assert_calls_async(1).await;
    }
    assert!(part_puts(&staging) > 0, "staged at the object storage found");
    assert_eq!(staging.keys(), Vec::<String>::new());
}

/// `with_public_url(true)` hands the cloud the object's plain URL, without a
/// signature: the staging fake's bucket is private, so the cloud's fetch is
/// refused, which shows the URL carried no signature.
#[tokio::test]
async fn a_public_url_carries_no_signature() {
    let (cloud, staging) = (digitalocean().await, FakeStaging::start().await);
    let file = qcow2("debian-13.qcow2");
    let request = UploadRequest::new("debian-13", file.path())
        .with_env(|_| None)
        .with_os("Debian")
        .with_region("fra1")
        .with_staging(staging_of(&staging).with_public_url(true))
        .with_wait_options(quick());
    let e = cloud.client().upload(request, &mut |_| {}).await.unwrap_err();
    assert!(e.wait().is_some(), "{e}");
    let id = cloud
        .images()
        .iter()
        .filter_map(|i| i["id"].as_u64())
        .max()
        .unwrap();
    let report = fetched(|| cloud.fetched(id)).await;
    assert_eq!(
        report.status,
        Some(403),
        "an unsigned GET of a private object: {report:?}"
    );
    assert_eq!(staging.keys(), Vec::<String>::new());
}

/// Polling fails after the import was made: the cloud may still fetch the
/// file, so the object stays, and the error says the image exists.
#[tokio::test]
async fn a_failed_poll_keeps_the_object_and_says_the_image_was_made() {
    let (cloud, staging) = (digitalocean().await, FakeStaging::start().await);
    let file = qcow2("debian-13.qcow2");
    cloud.inject(
        Fault::status(500)
            .method("GET")
            .matching("/v2/images/")
            .times(100),
    );
    let phases = Phases::default();
    let e = cloud
        .client()
        .upload(digitalocean_request(&file, &staging), &mut phases.record())
        .await
        .unwrap_err();
    let Some(UploadPhase::Imported { id }) = phases
        .all()
        .into_iter()
        .find(|p| matches!(p, UploadPhase::Imported { .. }))
    else {
        panic!("no Imported phase: {:?}", phases.all())
    };
    assert!(e.is_applied(), "the image was made: {e}");
    assert!(
        e.to_string().contains(&format!("import of image {id} was done")),
        "{e}"
    );
    assert_eq!(
        staging.keys().len(),
        1,
        "kept for the cloud that may still fetch it"
    );
    assert!(!phases.names().contains(&"cleaning up"), "{:?}", phases.names());
}

/// Ordinary AWS keys in the environment, without an endpoint, are not sent
/// to DigitalOcean Spaces: with no Spaces key, the upload stops before a
/// byte is sent, naming the Spaces key.
#[tokio::test]
async fn aws_keys_without_an_endpoint_are_not_used_for_spaces() {
    let cloud = digitalocean().await;
    let file = qcow2("debian-13.qcow2");
    let env = |name: &str| match name {
        "AWS_ACCESS_KEY_ID" => Some("AKIAEXAMPLE".to_owned()),
        "AWS_SECRET_ACCESS_KEY" => Some("aws-secret".to_owned()),
        "AWS_REGION" => Some("eu-west-1".to_owned()),
        _ => None,
    };
    let request = UploadRequest::new("debian-13", file.path())
        .with_region("fra1")
        .with_staging(Staging::parse("s3://images").unwrap())
        .with_env(env);
    let e = tokio::time::timeout(
        Duration::from_secs(30),
        cloud.client().upload(request, &mut |_| {}),
    )
    .await
    .expect("refused at once")
    .unwrap_err();
    assert!(e.is_invalid_request(), "{e}");
    let shown = e.to_string();
    assert!(
        shown.contains("SPACES_ACCESS_KEY_ID") && shown.contains("fra1.digitaloceanspaces.com"),
        "{shown}"
    );
    assert!(cloud.api_requests().is_empty(), "nothing sent to the cloud");
}

/// A completion whose answer is lost may have made the object: it is
/// deleted after the failed put, so nothing is left in the bucket.
#[tokio::test]
async fn a_completion_whose_answer_is_lost_leaves_no_object() {
    let (cloud, staging) = (contabo().await, FakeStaging::start().await);
    let file = qcow2("debian-13.qcow2");
    staging.inject(
        Fault::truncated_body()
            .method("POST")
            .matching("uploadId")
            .times(20),
    );
    let e = cloud
        .client()
        .upload(contabo_request(&file, &staging), &mut |_| {})
        .await
        .unwrap_err();
    assert!(e.to_string().contains("completing it"), "{e}");
    assert_eq!(
        staging.keys(),
        Vec::<String>::new(),
        "the completed object is deleted"
    );
}

#[tokio::test]
async fn a_part_size_outside_s3s_limits_is_refused_before_a_byte_is_sent() {
    let (cloud, staging) = (contabo().await, FakeStaging::start().await);
    let file = qcow2("debian-13.qcow2");
    let request = contabo_request(&file, &staging).with_staging(staging_of(&staging).with_part_size(1024));
    let e = cloud.client().upload(request, &mut |_| {}).await.unwrap_err();
    assert!(
        e.is_invalid_request() && e.to_string().contains("with_part_size(1024)"),
        "{e}"
    );
    assert!(staging.requests().is_empty(), "nothing sent to the store");
}
