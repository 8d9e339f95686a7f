//! The FTPS upload (`cloud_images::ftps`) against a real FTPS server on
//! loopback (`FakeFtps`: libunftp with a test certificate): the bytes at the
//! far end, a name already there, a refused login, a transfer cut midway or
//! dropped, plain FTP, the TLS version, and IONOS's fake registering what
//! was stored.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use cloud_images::Error;
use cloud_images::ftps::{FtpServer, FtpsSettings, TlsVersion};
use cloud_images::testing::{FakeFtps, FakeIonos, ftps};
use support::ImageFile;

const MIB: usize = 1024 * 1024;

fn settings(fake: &FakeFtps) -> FtpsSettings {
    FtpsSettings::new(
        FtpServer::parse(&fake.url()).unwrap(),
        fake.user(),
        fake.password(),
    )
    .with_extra_roots_pem(fake.ca_pem().as_bytes())
    .unwrap()
    .with_io_timeout(Duration::from_secs(10))
    .with_connect_timeout(Duration::from_secs(10))
}

/// Waits up to 5 s for `done`.
async fn eventually(mut done: impl FnMut() -> bool) -> bool {
    for _ in 0..500 {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    done()
}

#[tokio::test]
async fn the_bytes_at_the_far_end_are_the_files_and_tls_1_2_is_negotiated_by_default() {
    let fake = FakeFtps::start().await.unwrap();
    let file = ImageFile::qcow2("debian-13.qcow2", 3 * MIB + 17);
    let mut seen = Vec::new();
    let sent = settings(&fake)
        .upload(
            file.path(),
            "hdd-images",
            "debian-13.qcow2",
            &mut |done, total| seen.push((done, total)),
        )
        .await
        .unwrap();

    assert_eq!(sent.remote(), "hdd-images/debian-13.qcow2");
    assert_eq!(sent.bytes(), file.len());
    assert_eq!(
        sent.tls_version(),
        Some(TlsVersion::V1_2),
        "the server offers TLS 1.3 too: 1.2 is what the client asks for"
    );
    let stored = fake.bytes("hdd-images/debian-13.qcow2").unwrap();
    assert_eq!(support::sha256(&stored), file.sha256());
    let total = file.len();
    assert_eq!(seen.first(), Some(&(0, total)));
    assert_eq!(seen.last(), Some(&(total, total)));
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0), "progress only goes up");
}

#[tokio::test]
async fn tls_1_3_when_asked_for() {
    let fake = FakeFtps::start().await.unwrap();
    let file = ImageFile::qcow2("a.qcow2", 100_000);
    let sent = settings(&fake)
        .with_tls_versions(TlsVersion::V1_3, TlsVersion::V1_3)
        .unwrap()
        .upload(file.path(), "hdd-images", "a.qcow2", &mut |_, _| {})
        .await
        .unwrap();
    assert_eq!(sent.tls_version(), Some(TlsVersion::V1_3));
    assert_eq!(fake.bytes("hdd-images/a.qcow2").unwrap(), file.bytes());
}

#[tokio::test]
async fn a_server_not_signed_by_a_trusted_root_is_refused() {
    let fake = FakeFtps::start().await.unwrap();
    let file = ImageFile::qcow2("a.qcow2", 1000);
    let untrusted = FtpsSettings::new(
        FtpServer::parse(&fake.url()).unwrap(),
        fake.user(),
        fake.password(),
    );
    let e = untrusted
        .upload(file.path(), "hdd-images", "a.qcow2", &mut |_, _| {})
        .await
        .unwrap_err();
    assert!(e.to_string().to_lowercase().contains("certificate"), "{e}");
    assert!(fake.files().is_empty());
}

#[tokio::test]
async fn a_name_already_there_is_refused_before_anything_is_sent() {
    let fake = FakeFtps::start().await.unwrap();
    fake.put_file("hdd-images/golden.qcow2", b"the old one");
    let file = ImageFile::qcow2("golden.qcow2", 200_000);
    let mut progress_calls = 0;
    let e = settings(&fake)
        .upload(file.path(), "hdd-images", "golden.qcow2", &mut |_, _| {
            progress_calls += 1
        })
        .await
        .unwrap_err();
    assert!(e.is_invalid_request(), "{e}");
    assert!(
        e.to_string().contains("hdd-images/golden.qcow2") && e.to_string().contains("already exists"),
        "{e}"
    );
    assert_eq!(progress_calls, 0, "no byte sent");
    assert_eq!(fake.bytes("hdd-images/golden.qcow2").unwrap(), b"the old one");
    // Another folder's name does not count.
    settings(&fake)
        .upload(file.path(), "iso-images", "golden.qcow2", &mut |_, _| {})
        .await
        .unwrap();
}

#[tokio::test]
async fn a_refused_login_says_so_without_the_password() {
    let fake = FakeFtps::start().await.unwrap();
    fake.refuse_logins(true);
    let file = ImageFile::qcow2("a.qcow2", 1000);
    let e = settings(&fake)
        .upload(file.path(), "hdd-images", "a.qcow2", &mut |_, _| {})
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Auth(_)), "{e:?}");
    let shown = format!("{e} {e:?}");
    assert!(
        shown.contains("refused the login") && shown.contains(fake.user()),
        "{shown}"
    );
    assert!(!shown.contains(fake.password()), "{shown}");
    assert!(fake.files().is_empty());

    // A wrong password: the same, and it is not shown either.
    fake.refuse_logins(false);
    let wrong = FtpsSettings::new(
        FtpServer::parse(&fake.url()).unwrap(),
        fake.user(),
        "not-the-password-42",
    )
    .with_extra_roots_pem(fake.ca_pem().as_bytes())
    .unwrap();
    let e = wrong.list("hdd-images").await.unwrap_err();
    assert!(matches!(e, Error::Auth(_)), "{e:?}");
    assert!(!format!("{e} {e:?} {wrong:?}").contains("not-the-password-42"));
}

#[tokio::test]
async fn a_transfer_cut_midway_leaves_no_partial_file() {
    let fake = FakeFtps::start().await.unwrap();
    fake.cut_next_upload_after(MIB as u64);
    let file = ImageFile::qcow2("big.qcow2", 4 * MIB);
    let e = settings(&fake)
        .upload(file.path(), "hdd-images", "big.qcow2", &mut |_, _| {})
        .await
        .unwrap_err();
    assert!(e.to_string().contains("STOR hdd-images/big.qcow2"), "{e}");
    assert!(
        !fake.files().contains_key("hdd-images/big.qcow2"),
        "{:?}",
        fake.files()
    );
    // The same name can be sent again.
    settings(&fake)
        .upload(file.path(), "hdd-images", "big.qcow2", &mut |_, _| {})
        .await
        .unwrap();
    assert_eq!(
        support::sha256(&fake.bytes("hdd-images/big.qcow2").unwrap()),
        file.sha256()
    );
}

#[tokio::test]
async fn an_upload_dropped_midway_has_its_partial_file_deleted() {
    let fake = FakeFtps::start().await.unwrap();
    let file = ImageFile::qcow2("dropped.qcow2", 16 * MIB);
    let settings = settings(&fake);
    let (tx, rx) = tokio::sync::oneshot::channel();
    let tx = Arc::new(Mutex::new(Some(tx)));
    let path = file.path().to_path_buf();
    let upload = tokio::spawn(async move {
        settings
            .upload(&path, "hdd-images", "dropped.qcow2", &mut |done, _| {
                if done >= MIB as u64
                    && let Some(tx) = tx.lock().unwrap().take()
                {
                    let _ = tx.send(());
                }
            })
            .await
    });
    rx.await.unwrap();
    upload.abort();
    assert!(upload.await.unwrap_err().is_cancelled());
    assert!(
        eventually(|| !fake.files().contains_key("hdd-images/dropped.qcow2")).await,
        "{:?}",
        fake.files()
    );
}

#[tokio::test]
async fn plain_ftp_only_to_loopback() {
    let e = FtpServer::parse("ftp://ftp-fra.example.com").unwrap_err();
    assert!(
        e.is_invalid_request() && e.to_string().contains("loopback"),
        "{e}"
    );
    assert!(FtpServer::parse("ftp://192.0.2.1:21").is_err());

    let fake = FakeFtps::start_with(ftps::Config::default().with_plain(true))
        .await
        .unwrap();
    assert!(fake.url().starts_with("ftp://127.0.0.1:"));
    let file = ImageFile::qcow2("plain.qcow2", 50_000);
    let sent = settings(&fake)
        .upload(file.path(), "hdd-images", "plain.qcow2", &mut |_, _| {})
        .await
        .unwrap();
    assert_eq!(sent.tls_version(), None);
    assert_eq!(fake.bytes("hdd-images/plain.qcow2").unwrap(), file.bytes());
}

#[tokio::test]
async fn the_ionos_fake_registers_a_stored_file_as_a_private_image() {
    let ionos = FakeIonos::start().await;
    let before = ionos.images().len();
    let server = ionos
        .start_ftps(
            "de/txl",
            // Far longer than the upload's end takes on a loaded machine.
            Some(Duration::from_secs(2)),
            ftps::Config::default(),
        )
        .await
        .unwrap();
    let file = ImageFile::qcow2("disk.qcow2", 300_000);
    settings(&server)
        .upload(file.path(), "hdd-images", "web-2026.qcow2", &mut |_, _| {})
        .await
        .unwrap();
    assert_eq!(ionos.images().len(), before, "not at once");
    assert!(eventually(|| ionos.images().len() == before + 1).await);
    let image = ionos.images().pop().unwrap();
    let properties = &image["properties"];
    assert_eq!(properties["name"], "web-2026.qcow2");
    assert_eq!(properties["location"], "de/txl");
    assert_eq!(properties["imageType"], "HDD");
    assert_eq!(properties["public"], false);

    // Told never to register: the file is there, no image comes.
    let never = ionos
        .start_ftps("de/txl", None, ftps::Config::default())
        .await
        .unwrap();
    settings(&never)
        .upload(file.path(), "hdd-images", "never.qcow2", &mut |_, _| {})
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(never.files().contains_key("hdd-images/never.qcow2"));
    assert_eq!(ionos.images().len(), before + 1);
}
