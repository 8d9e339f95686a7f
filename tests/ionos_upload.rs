//! IONOS Cloud's upload end to end, through the neutral `Images::upload` and
//! the provider's `Client::upload_image`: the file over FTPS to a real FTPS
//! server on loopback (`FakeFtps`, libunftp with a test certificate) that
//! `FakeIonos` registers files from, the bytes checked at the far end, the
//! properties on the wire; and each fault: a token without a login, a login
//! refused, the connection cut mid-file, a name already there, a
//! registration that never comes.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use cloud_images::Error;
use cloud_images::images::{Images, UploadPhase, UploadRequest, UploadRoute};
use cloud_images::ionos::{ImageUpload, UploadUntil, types};
use cloud_images::testing::{FakeFtps, FakeIonos, SeedImage, ftps};
use cloud_images::wait::WaitOptions;
use support::ImageFile;

const MIB: usize = 1024 * 1024;

/// The IONOS fake with an FTPS server for `de/fra` that registers a stored
/// file after `register_after` (never with `None`).
async fn ionos(register_after: Option<Duration>) -> (FakeIonos, FakeFtps) {
    let fake = FakeIonos::start().await;
    let server = fake
        .start_ftps("de/fra", register_after, ftps::Config::default())
        .await
        .unwrap();
    (fake, server)
}

/// Polls every 5 ms, at most 10 ms apart, for 5 s.
fn quick() -> WaitOptions {
    WaitOptions::new(
        Duration::from_millis(5),
        Duration::from_millis(10),
        Duration::from_secs(5),
    )
}

fn request(file: &ImageFile, name: &str) -> UploadRequest {
    UploadRequest::new(name, file.path())
        .with_region("de/fra")
        .with_wait_options(quick())
        .with_env(|_| None)
}

/// The phases an upload reported, and the callback that records them.
fn recorder() -> (
    Arc<Mutex<Vec<UploadPhase>>>,
    impl FnMut(&cloud_images::images::UploadProgress) + Send,
) {
    let phases = Arc::new(Mutex::new(Vec::new()));
    let sink = phases.clone();
    (phases, move |p: &cloud_images::images::UploadProgress| {
        sink.lock().unwrap().push(p.phase().clone())
    })
}

#[tokio::test]
async fn the_file_goes_over_ftps_is_registered_then_named_and_described() {
    let (fake, server) = ionos(Some(Duration::from_millis(100))).await;
    let client = fake.client();
    assert!(client.capabilities().upload);
    assert_eq!(client.capabilities().upload_route, UploadRoute::ProviderServer);
    let file = ImageFile::qcow2("build-output.img", 3 * MIB + 4321);
    let (phases, mut on_progress) = recorder();

    let image = client
        .upload(
            request(&file, "debian-13")
                .with_os("Debian")
                .with_description("built with mkosi"),
            &mut on_progress,
        )
        .await
        .unwrap();

    // The bytes at the far end, in the folder of the content's type, named
    // with its extension (not the local `.img`).
    let stored = server.bytes("hdd-images/debian-13.qcow2").unwrap();
    assert_eq!(support::sha256(&stored), file.sha256());
    assert_eq!(server.files().len(), 1, "{:?}", server.files());

    // The image as asked: renamed from the file's name, the OS as a licence type.
    assert_eq!(image.name, "debian-13");
    assert_eq!(image.description.as_deref(), Some("built with mkosi"));
    assert_eq!(image.os.as_deref(), Some("LINUX"));
    assert_eq!(image.regions, ["de/fra"]);
    assert!(image.custom);

    // On the wire: the list before sending (images of that name already
    // there are not the new one), the polls, one PATCH with the properties.
    let requests = fake.api_requests();
    assert_eq!(requests[0].method, "GET");
    assert_eq!(requests[0].query_value("depth"), Some("1"));
    let patches: Vec<_> = requests.iter().filter(|r| r.method == "PATCH").collect();
    assert_eq!(patches.len(), 1);
    assert_eq!(patches[0].path, format!("/images/{}", image.id));
    assert_eq!(
        patches[0].json().unwrap(),
        serde_json::json!({
            "name": "debian-13",
            "licenceType": "LINUX",
            "description": "built with mkosi",
        })
    );

    // The phases, in order: checked, sent (bytes up to the whole file),
    // registered, the change waited for.
    let phases = phases.lock().unwrap().clone();
    assert_eq!(phases[0], UploadPhase::Checking);
    let last_sent = phases
        .iter()
        .filter_map(|p| match p {
            UploadPhase::Staging { sent, total } => Some((*sent, *total)),
            _ => None,
        })
        .next_back();
    assert_eq!(last_sent, Some((file.len(), file.len())));
    let at = |wanted: &dyn Fn(&UploadPhase) -> bool| phases.iter().position(wanted).unwrap();
    let registering =
        at(&|p| matches!(p, UploadPhase::Registering { path } if path == "hdd-images/debian-13.qcow2"));
    let imported = at(&|p| matches!(p, UploadPhase::Imported { id } if *id == image.id));
    let waiting = at(&|p| matches!(p, UploadPhase::Waiting(Some(_))));
    assert!(registering < imported && imported < waiting, "{phases:?}");
}

#[tokio::test]
async fn an_older_image_of_the_same_name_is_not_taken_for_the_new_one() {
    let (fake, _server) = ionos(Some(Duration::from_millis(50))).await;
    let old = fake.insert_image(SeedImage::new("debian-13.qcow2").with_custom(true));
    assert_eq!(fake.image(&old).unwrap()["properties"]["location"], "de/fra");
    let file = ImageFile::qcow2("d.qcow2", 100_000);
    let image = fake
        .client()
        .upload(request(&file, "debian-13.qcow2"), &mut |_| {})
        .await
        .unwrap();
    assert_ne!(image.id, old);
    assert_eq!(image.name, "debian-13.qcow2");
    // The name was the file's already: nothing to change.
    assert!(!fake.api_requests().iter().any(|r| r.method == "PATCH"));
}

#[tokio::test]
async fn a_cd_rom_image_goes_to_iso_images_and_the_providers_call_sets_every_property() {
    let (fake, server) = ionos(Some(Duration::from_millis(20))).await;
    let iso = ImageFile::iso("rescue", 200_000);
    let properties = types::ImageProperties {
        licence_type: Some("WINDOWS2022".into()),
        cloud_init: Some("NONE".into()),
        expose_serial: Some(true),
        require_legacy_bios: Some(false),
        cpu_hot_plug: Some(true),
        nic_hot_unplug: Some(true),
        ..Default::default()
    };
    let done = fake
        .client()
        .upload_image(
            ImageUpload::new("rescue", iso.path(), "de/fra")
                .with_properties(properties)
                .with_register_interval(Duration::from_millis(10))
                .with_wait_options(quick()),
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(done.remote(), "iso-images/rescue.iso");
    assert_eq!(done.bytes(), iso.len());
    assert_eq!(
        support::sha256(&server.bytes("iso-images/rescue.iso").unwrap()),
        iso.sha256()
    );
    let image = done.into_image().unwrap();
    let set = image.properties.unwrap();
    assert_eq!(set.name.as_deref(), Some("rescue"));
    assert_eq!(set.image_type.as_deref(), Some("CDROM"));
    assert_eq!(set.licence_type.as_deref(), Some("WINDOWS2022"));
    assert_eq!(set.cloud_init.as_deref(), Some("NONE"));
    assert_eq!(
        (
            set.expose_serial,
            set.require_legacy_bios,
            set.cpu_hot_plug,
            set.nic_hot_unplug
        ),
        (Some(true), Some(false), Some(true), Some(true))
    );

    // Until sent: no list, no image, the file on the server.
    let qcow2 = ImageFile::qcow2("later.qcow2", 50_000);
    let before = fake.api_requests().len();
    let sent = fake
        .client()
        .upload_image(
            ImageUpload::new("later", qcow2.path(), "de/fra").with_until(UploadUntil::Sent),
            |_| {},
        )
        .await
        .unwrap();
    assert!(sent.image().is_none());
    assert_eq!(fake.api_requests().len(), before);
    assert!(server.files().contains_key("hdd-images/later.qcow2"));
}

#[tokio::test]
async fn no_wait_returns_the_registered_image_with_the_change_sent() {
    let (fake, _server) = ionos(Some(Duration::ZERO)).await;
    let file = ImageFile::qcow2("d.qcow2", 10_000);
    let image = fake
        .client()
        .upload(request(&file, "quick").with_wait(false), &mut |_| {})
        .await
        .unwrap();
    assert_eq!(
        image.name, "quick.qcow2",
        "as registered: the rename is under way"
    );
    let requests = fake.api_requests();
    let patch = requests.iter().position(|r| r.method == "PATCH").unwrap();
    assert_eq!(patch, requests.len() - 1, "the change is not waited for");
}

#[tokio::test]
async fn a_token_cannot_log_in_to_ftp_and_nothing_is_sent() {
    let (fake, server) = ionos(Some(Duration::ZERO)).await;
    let client = cloud_images::ionos::Client::builder()
        .base_url(fake.base_url())
        .bearer_token("ionos-demo-token")
        .ftp_url(server.url())
        .build()
        .unwrap();
    let file = ImageFile::qcow2("d.qcow2", 10_000);
    let e = client.upload(request(&file, "d"), &mut |_| {}).await.unwrap_err();
    assert!(matches!(e, Error::Config(_)), "{e:?}");
    assert!(e.to_string().contains("a token cannot log in to FTP"), "{e}");
    assert!(e.to_string().contains("IONOS_USERNAME and IONOS_PASSWORD"), "{e}");
    assert_eq!(server.logins(), 0);
    assert!(fake.api_requests().is_empty());
}

#[tokio::test]
async fn a_refused_login_is_an_error_without_the_password_and_sends_nothing() {
    let (fake, server) = ionos(Some(Duration::ZERO)).await;
    server.refuse_logins(true);
    let file = ImageFile::qcow2("d.qcow2", 10_000);
    let e = fake
        .client()
        .upload(request(&file, "d"), &mut |_| {})
        .await
        .unwrap_err();
    let shown = format!("{e} {e:?}");
    assert!(
        shown.contains("530") || shown.to_lowercase().contains("login"),
        "{shown}"
    );
    assert!(!shown.contains(server.password()), "{shown}");
    assert!(server.files().is_empty());
    assert!(!fake.api_requests().iter().any(|r| r.method == "PATCH"));
}

#[tokio::test]
async fn a_connection_cut_mid_file_leaves_no_partial_file_and_no_image() {
    let (fake, server) = ionos(Some(Duration::ZERO)).await;
    let images = fake.images().len();
    server.cut_next_upload_after(MIB as u64);
    let file = ImageFile::qcow2("d.qcow2", 3 * MIB);
    let e = fake
        .client()
        .upload(request(&file, "cut"), &mut |_| {})
        .await
        .unwrap_err();
    assert!(!e.is_applied(), "{e}");
    assert!(server.files().is_empty(), "{:?}", server.files());
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(fake.images().len(), images);

    // Sent again, whole.
    let image = fake
        .client()
        .upload(request(&file, "cut"), &mut |_| {})
        .await
        .unwrap();
    assert_eq!(image.name, "cut");
    assert_eq!(
        support::sha256(&server.bytes("hdd-images/cut.qcow2").unwrap()),
        file.sha256()
    );
}

#[tokio::test]
async fn a_name_already_on_the_server_is_refused_before_a_byte_is_sent() {
    let (fake, server) = ionos(Some(Duration::ZERO)).await;
    server.put_file("hdd-images/taken.qcow2", b"older bytes");
    let file = ImageFile::qcow2("d.qcow2", 10_000);
    let e = fake
        .client()
        .upload(request(&file, "taken"), &mut |_| {})
        .await
        .unwrap_err();
    assert!(e.is_invalid_request(), "{e:?}");
    assert!(e.to_string().contains("already exists"), "{e}");
    assert_eq!(server.bytes("hdd-images/taken.qcow2").unwrap(), b"older bytes");
}

#[tokio::test]
async fn a_registration_that_never_comes_is_a_wait_timeout_saying_the_file_was_sent() {
    let (fake, server) = ionos(None).await;
    let file = ImageFile::qcow2("d.qcow2", 10_000);
    let e = fake
        .client()
        .upload(
            request(&file, "never").with_wait_options(quick().with_timeout(Duration::from_millis(300))),
            &mut |_| {},
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Timeout {
                limit: cloud_images::TimeoutKind::Wait,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.is_applied(), "the file is there: {e}");
    assert!(e.to_string().contains("the file was sent"), "{e}");
    assert!(server.files().contains_key("hdd-images/never.qcow2"));
}

#[tokio::test]
async fn what_ionos_cannot_take_is_refused_before_a_byte_is_sent() {
    let (fake, server) = ionos(Some(Duration::ZERO)).await;
    let client = fake.client();
    let gzip = ImageFile::new("d.qcow2.gz", b"\x1f\x8b\x08", 10_000);
    let e = client.upload(request(&gzip, "d"), &mut |_| {}).await.unwrap_err();
    assert!(e.is_invalid_request() && e.to_string().contains("gzip"), "{e}");

    let file = ImageFile::qcow2("d.qcow2", 10_000);
    let nowhere = UploadRequest::new("d", file.path()).with_env(|_| None);
    let e = client.upload(nowhere, &mut |_| {}).await.unwrap_err();
    assert!(e.to_string().contains("needs a region"), "{e}");

    let e = client
        .upload(
            request(&file, "d").with_staging(cloud_images::images::Staging::parse("s3://b").unwrap()),
            &mut |_| {},
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("not through a staging bucket"), "{e}");

    let e = client
        .upload(request(&file, "d").with_os("Plan 9"), &mut |_| {})
        .await
        .unwrap_err();
    assert!(e.to_string().contains("licence type"), "{e}");

    let e = client
        .upload(request(&file, "d").with_region("de/txl"), &mut |_| {})
        .await
        .unwrap_err();
    assert!(e.to_string().contains("name one region"), "{e}");

    assert_eq!(server.logins(), 0);
    assert!(fake.api_requests().is_empty());
}

#[tokio::test]
async fn a_location_by_its_short_name_is_the_apis_and_a_misspelt_one_is_refused() {
    let (fake, server) = ionos(Some(Duration::from_millis(20))).await;
    let file = ImageFile::qcow2("d.qcow2", 10_000);
    let image = fake
        .client()
        .upload(
            UploadRequest::new("short", file.path())
                .with_region("FRA")
                .with_wait_options(quick())
                .with_env(|_| None),
            &mut |_| {},
        )
        .await
        .unwrap();
    assert_eq!(image.regions, ["de/fra"]);

    let e = fake
        .client()
        .upload(
            UploadRequest::new("misspelt", file.path())
                .with_region("de/fra-2")
                .with_wait_options(quick())
                .with_env(|_| None),
            &mut |_| {},
        )
        .await
        .unwrap_err();
    assert!(
        e.is_invalid_request() && e.to_string().contains("de/fra/2"),
        "{e}"
    );
    assert!(!server.files().keys().any(|k| k.contains("misspelt")));
}

#[tokio::test]
async fn no_limit_does_not_overflow_and_no_interval_does_not_flood_the_api() {
    let (fake, _server) = ionos(Some(Duration::from_millis(300))).await;
    let file = ImageFile::qcow2("d.qcow2", 10_000);
    let done = fake
        .client()
        .upload_image(
            ImageUpload::new("eager", file.path(), "de/fra")
                .with_register_timeout(Duration::MAX)
                .with_register_interval(Duration::ZERO)
                .with_wait_options(quick()),
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(
        done.image().unwrap().properties.as_ref().unwrap().name.as_deref(),
        Some("eager")
    );
    let lists = fake
        .api_requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path == "/images")
        .count();
    // At least 10 ms apart (`wait::MIN_INTERVAL`) for about 300 ms.
    assert!(lists <= 40, "{lists} lists");
}

#[tokio::test]
async fn a_compressed_or_archived_file_is_refused_by_its_content() {
    let (fake, server) = ionos(Some(Duration::ZERO)).await;
    for (name, head) in [
        ("d.raw", &b"\xfd7zXZ\x00"[..]),
        ("d.img", &b"\x28\xb5\x2f\xfd"[..]),
        ("d.qcow2", &b"PK\x03\x04"[..]),
    ] {
        let file = ImageFile::new(name, head, 10_000);
        let e = fake
            .client()
            .upload(request(&file, "packed"), &mut |_| {})
            .await
            .unwrap_err();
        assert!(e.is_invalid_request(), "{name}: {e}");
        assert!(e.to_string().contains("does not import"), "{name}: {e}");
    }
    assert_eq!(server.logins(), 0);
}
