//! One suite for the provider-neutral [`Images`] API, run against the fake of
//! every provider: each case is a plain async function over `&dyn Images`
//! (and what the fake was seeded with), so a behaviour differs between
//! providers only where [`Capabilities`] says it does.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use cloud_images::Error;
use cloud_images::PaginationOptions;
use cloud_images::images::{
    Capabilities, Cloud, ImageStatus, ImageStream, ImageUpdate, Images, ImportRequest, ListFilter, OsFamily,
};
use cloud_images::wait::{Progress, WaitOptions};
use futures::TryStreamExt;

/// What a fake was seeded with, and a window on what it received.
struct Subject {
    images: Arc<dyn Images>,
    /// Images in the account's view, and how many of them are its own.
    total: usize,
    custom: usize,
    /// An own image that failed to import, where the fake has one.
    failed: Option<String>,
    /// API requests the fake received so far.
    sent: Box<dyn Fn() -> usize + Send + Sync>,
    /// The region an upload goes to.
    upload_region: &'static str,
    _fake: Box<dyn std::any::Any + Send + Sync>,
}

fn quick() -> WaitOptions {
    WaitOptions::new(
        Duration::from_millis(1),
        Duration::from_millis(5),
        Duration::from_secs(20),
    )
}

/// A complete import request: every field any provider needs.
fn full_request(name: &str) -> ImportRequest {
    request_without(name, "")
}

/// An import request with every field any provider needs but `missing`.
fn request_without(name: &str, missing: &str) -> ImportRequest {
    let mut request = ImportRequest::new(name, "https://images.example.com/conformance.qcow2")
        .with_description("made by the conformance suite");
    for (field, value) in [("os", "linux"), ("version", "13"), ("region", "fra1")] {
        if field != missing {
            request = match field {
                "os" => request.with_os(value),
                "version" => request.with_version(value),
                _ => request.with_region(value),
            };
        }
    }
    request
}

async fn all(images: &dyn Images, filter: ListFilter) -> Vec<cloud_images::images::Image> {
    images
        .list_with(
            filter,
            PaginationOptions::default().with_page_size(4).with_concurrency(3),
        )
        .try_collect()
        .await
        .expect("the list")
}

mod cases {
    use super::*;

    pub async fn lists_every_image_once(s: &Subject) {
        let images = all(&*s.images, ListFilter::default()).await;
        assert_eq!(images.len(), s.total);
        let ids: HashSet<_> = images.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids.len(), s.total, "every image once");
        for image in &images {
            assert_eq!(image.provider, s.images.cloud());
            assert!(!image.id.is_empty() && !image.name.is_empty(), "{image:?}");
            assert!(!image.status.as_str().is_empty());
        }
        assert!(images.iter().any(|i| i.status.is_ready()));
    }

    pub async fn filters_own_and_public_images(s: &Subject) {
        let own = all(&*s.images, ListFilter::default().with_custom(true)).await;
        assert_eq!(own.len(), s.custom);
        assert!(own.iter().all(|i| i.custom));
        let public = all(&*s.images, ListFilter::default().with_custom(false)).await;
        assert_eq!(public.len(), s.total - s.custom);
        assert!(public.iter().all(|i| !i.custom));
    }

    pub async fn filters_by_name_in_any_case(s: &Subject) {
        let every = all(&*s.images, ListFilter::default()).await;
        let name = &every[every.len() / 2].name;
        let part: String = name.chars().take(4).collect::<String>().to_uppercase();
        let found = all(&*s.images, ListFilter::default().with_name(&part)).await;
        let expected = every
            .iter()
            .filter(|i| i.name.to_lowercase().contains(&part.to_lowercase()))
            .count();
        assert_eq!(found.len(), expected, "images named like {part}");
        assert!(found.iter().any(|i| &i.name == name));
    }

    pub async fn filters_by_name_prefix_and_creation_time(s: &Subject) {
        let every = all(&*s.images, ListFilter::default()).await;
        let dated = every
            .iter()
            .find(|i| i.created_at.is_some())
            .expect("a seeded image with a creation time");
        let prefix: String = dated.name.chars().take(3).collect();
        let found = all(&*s.images, ListFilter::default().with_name_prefix(&prefix)).await;
        let expected: Vec<_> = every.iter().filter(|i| i.name.starts_with(&prefix)).collect();
        assert_eq!(found.len(), expected.len(), "names starting with {prefix}");
        assert!(found.iter().all(|i| i.name.starts_with(&prefix)));

        let at = dated.created_at.unwrap();
        let window = ListFilter::default()
            .with_created_after(at)
            .with_created_before(at + chrono::Duration::seconds(1));
        let found = all(&*s.images, window).await;
        let expected = every
            .iter()
            .filter(|i| {
                i.created_at
                    .is_some_and(|c| c >= at && c < at + chrono::Duration::seconds(1))
            })
            .count();
        assert_eq!(found.len(), expected);
        assert!(found.iter().any(|i| i.id == dated.id));
        let before = all(&*s.images, ListFilter::default().with_created_before(at)).await;
        assert!(before.iter().all(|i| i.created_at.is_some_and(|c| c < at)));
        assert!(before.iter().all(|i| i.id != dated.id));
    }

    /// What `list` and `get` return borrows neither the `Images` nor the id:
    /// a stream can be returned from a function taking an `Arc<dyn Images>`,
    /// and both can be moved to a task after the id is gone.
    pub async fn streams_and_futures_borrow_nothing(s: &Subject) {
        fn own(images: Arc<dyn Images>) -> ImageStream<'static> {
            images.list(ListFilter::default().with_custom(true))
        }
        let stream = own(Arc::clone(&s.images));
        let listed: Vec<_> = tokio::spawn(stream.try_collect::<Vec<_>>())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(listed.len(), s.custom);
        let id = listed[0].id.clone();
        let get = s.images.get(&id);
        drop(id);
        let image = tokio::spawn(get).await.unwrap().unwrap();
        assert_eq!(image.id, listed[0].id);
    }

    pub async fn the_os_family_is_the_same_words_everywhere(s: &Subject) {
        let every = all(&*s.images, ListFilter::default()).await;
        for image in &every {
            let word = image.os.as_deref().unwrap_or("");
            assert_eq!(image.os_family, OsFamily::from_word(word), "{image:?}");
            let json = serde_json::to_value(image).unwrap();
            assert_eq!(json["os_family"], image.os_family.as_str());
        }
        assert!(every.iter().any(|i| i.os_family == OsFamily::Linux), "{every:?}");
    }

    pub async fn the_limit_counts_what_passes_the_filter(s: &Subject) {
        let options = PaginationOptions::default().with_page_size(3).with_limit(2);
        let own: Vec<_> = s
            .images
            .list_with(ListFilter::default().with_custom(true), options)
            .try_collect()
            .await
            .unwrap();
        assert_eq!(own.len(), 2);
        assert!(own.iter().all(|i| i.custom));
        let public: Vec<_> = s
            .images
            .list_with(ListFilter::default().with_custom(false), options)
            .try_collect()
            .await
            .unwrap();
        assert_eq!(public.len(), 2);
        assert!(public.iter().all(|i| !i.custom));
        let named: Vec<_> = s
            .images
            .list_with(ListFilter::default().with_name("e"), options)
            .try_collect()
            .await
            .unwrap();
        assert_eq!(named.len(), 2);
    }

    pub async fn get_agrees_with_list(s: &Subject) {
        for image in all(&*s.images, ListFilter::default().with_custom(true))
            .await
            .iter()
            .take(3)
        {
            let got = s.images.get(&image.id).await.unwrap();
            assert_eq!(
                (&got.id, &got.name, got.custom, got.status.as_str()),
                (&image.id, &image.name, image.custom, image.status.as_str())
            );
            assert_eq!(got.description, image.description);
        }
    }

    pub async fn a_missing_image_is_not_found_with_a_request_id(s: &Subject) {
        let err = s
            .images
            .get("00000000-dead-4bad-8bad-000000000000")
            .await
            .unwrap_err();
        assert!(err.is_not_found(), "{err:?}");
        assert!(err.request_id().is_some(), "{err:?}");
        assert!(err.to_string().contains("404"), "{err}");
    }

    pub async fn import_wait_rename_delete(s: &Subject) {
        let caps = s.images.capabilities();
        let before = (s.sent)();
        if !caps.import_from_url {
            let err = s.images.import_from_url(full_request("never")).await.unwrap_err();
            let Error::Unsupported(unsupported) = &err else {
                panic!("{err:?}")
            };
            assert_eq!(unsupported.provider, s.images.cloud());
            assert_eq!(unsupported.operation, "import_from_url");
            assert!(!unsupported.alternative.is_empty());
            assert_eq!((s.sent)(), before, "nothing is sent");
            return;
        }
        let imported = s
            .images
            .import_from_url(full_request("conformance-import"))
            .await
            .unwrap();
        assert_eq!(imported.name, "conformance-import");
        assert!(imported.custom);
        assert!(imported.status.is_pending(), "{:?}", imported.status);

        let mut reports: Vec<Progress> = Vec::new();
        let ready = s
            .images
            .wait_until_ready(&imported.id, quick(), &mut |p| reports.push(p.clone()))
            .await
            .unwrap();
        assert_eq!(ready.status, ImageStatus::Ready);
        assert!(!reports.is_empty(), "pending states are reported");
        if caps.progress {
            assert!(reports.iter().any(|p| p.total.is_some()), "{reports:?}");
        }

        let renamed = s
            .images
            .update(
                &imported.id,
                ImageUpdate::default()
                    .with_name("conformance-renamed")
                    .with_description("renamed"),
            )
            .await
            .unwrap();
        assert_eq!(
            (renamed.name.as_str(), renamed.description.as_deref()),
            ("conformance-renamed", Some("renamed"))
        );
        let listed = all(&*s.images, ListFilter::default().with_name("conformance-renamed")).await;
        assert_eq!(listed.len(), 1);

        s.images.delete(&imported.id).await.unwrap();
        assert!(s.images.get(&imported.id).await.unwrap_err().is_not_found());
        assert_eq!(
            all(&*s.images, ListFilter::default().with_custom(true))
                .await
                .len(),
            s.custom
        );
    }

    pub async fn rename_and_delete_an_own_image(s: &Subject) {
        let own = all(&*s.images, ListFilter::default().with_custom(true)).await;
        let target = own
            .iter()
            .find(|i| i.status.is_ready())
            .expect("a ready own image");
        let renamed = s
            .images
            .update(&target.id, ImageUpdate::default().with_description("described"))
            .await
            .unwrap();
        assert_eq!(renamed.name, target.name, "an unset name is left alone");
        assert_eq!(renamed.description.as_deref(), Some("described"));
        assert_eq!(
            s.images.get(&target.id).await.unwrap().description.as_deref(),
            Some("described")
        );

        s.images.delete(&target.id).await.unwrap();
        assert!(s.images.get(&target.id).await.unwrap_err().is_not_found());
        assert_eq!(all(&*s.images, ListFilter::default()).await.len(), s.total - 1);
    }

    /// `update_with_progress` and `delete_with_progress` report what the
    /// provider says while it applies a change: IONOS's request states, in
    /// order (the fake is set to show each once); nothing from a provider
    /// that applies a change before it answers.
    pub async fn changes_report_their_progress(s: &Subject) {
        let own = all(&*s.images, ListFilter::default().with_custom(true)).await;
        let target = own
            .iter()
            .find(|i| i.status.is_ready())
            .expect("a ready own image");
        let expected: &[&str] = if s.images.capabilities().waits_for_changes {
            &["QUEUED", "RUNNING"]
        } else {
            &[]
        };
        let mut seen = Vec::new();
        let renamed = s
            .images
            .update_with_progress(
                &target.id,
                ImageUpdate::default().with_name("reported"),
                &mut |p: &Progress| seen.push(p.status.clone().unwrap_or_default()),
            )
            .await
            .unwrap();
        assert_eq!(renamed.name, "reported");
        assert_eq!(seen, expected, "the update's progress");

        let mut seen = Vec::new();
        s.images
            .delete_with_progress(&target.id, &mut |p: &Progress| {
                seen.push(p.status.clone().unwrap_or_default())
            })
            .await
            .unwrap();
        assert_eq!(seen, expected, "the deletion's progress");
        assert!(s.images.get(&target.id).await.unwrap_err().is_not_found());
    }

    pub async fn what_a_provider_needs_is_named_before_sending(s: &Subject) {
        let before = (s.sent)();
        let caps: Capabilities = s.images.capabilities();
        for field in caps.import_requires {
            assert!(
                ["os", "version", "region"].contains(field),
                "a field the suite does not know: {field}"
            );
            let request = request_without("incomplete", field);
            let err = s.images.import_from_url(request).await.unwrap_err();
            assert!(err.is_invalid_request(), "{err:?}");
            assert!(err.to_string().contains(&format!("`{field}`")), "{err}");
        }
        let err = s.images.update("any", ImageUpdate::default()).await.unwrap_err();
        assert!(
            err.is_invalid_request() && err.to_string().contains("nothing to change"),
            "{err}"
        );
        let err = s
            .images
            .import_from_url(ImportRequest::new("x", "file:///etc/passwd"))
            .await
            .unwrap_err();
        assert!(err.is_invalid_request() || err.is_unsupported(), "{err}");
        assert_eq!((s.sent)(), before, "nothing is sent");
    }

    /// Where `capabilities().upload` says so, a local qcow2 file goes the
    /// provider's way to a ready image: through a staging bucket (a real S3
    /// server on loopback), which is empty afterwards, or to the provider's
    /// own file server (a real FTPS server on loopback); elsewhere `upload`
    /// is `Unsupported` and nothing is sent.
    pub async fn upload_sends_waits_and_cleans_up(s: &Subject) {
        use cloud_images::images::{ImageFormat, Staging, UploadRequest, UploadRoute};
        use cloud_images::testing::FakeStaging;

        let staging = FakeStaging::start().await;
        let dir = std::env::temp_dir().join(format!(
            "cloud-images-conformance-{}-{}",
            std::process::id(),
            s.images.cloud()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("conformance.qcow2");
        let mut bytes = vec![7u8; 6 * 1024 * 1024 + 1];
        bytes[..8].copy_from_slice(b"QFI\xfb\0\0\0\x03");
        std::fs::write(&path, &bytes).unwrap();
        let store = Staging::parse(&staging.s3_url())
            .unwrap()
            .with_endpoint(staging.endpoint())
            .with_region(staging.region())
            .with_credentials(staging.access_key_id(), staging.secret_access_key());
        let caps = s.images.capabilities();
        let mut request = UploadRequest::new("uploaded", &path)
            .with_env(|_| None)
            .with_os("linux")
            .with_version("13")
            .with_region(s.upload_region)
            .with_description("made by the conformance suite")
            .with_wait_options(quick());
        if caps.upload_route == UploadRoute::StagingBucket {
            request = request.with_staging(store);
        }
        let before = (s.sent)();
        let result = s.images.upload(request, &mut |_| {}).await;
        std::fs::remove_dir_all(&dir).unwrap();
        if !caps.upload {
            let err = result.unwrap_err();
            assert!(err.is_unsupported(), "{err}");
            assert_eq!((s.sent)(), before, "nothing is sent");
            assert!(staging.requests().is_empty());
            return;
        }
        assert!(caps.upload_formats.contains(&ImageFormat::Qcow2));
        let image = result.expect("the upload");
        assert_eq!(image.status, ImageStatus::Ready);
        assert_eq!(image.name, "uploaded");
        assert!(image.custom);
        assert_eq!(
            image.description.as_deref(),
            Some("made by the conformance suite")
        );
        assert_eq!(s.images.get(&image.id).await.unwrap().id, image.id);
        if caps.upload_route == UploadRoute::StagingBucket {
            assert!(!staging.requests().is_empty(), "staged in the bucket");
            assert_eq!(staging.keys(), Vec::<String>::new(), "and deleted from it");
        } else {
            assert!(staging.requests().is_empty(), "no bucket");
            assert_eq!(image.regions, [s.upload_region]);
        }
    }

    pub async fn a_failed_import_ends_the_wait_with_the_providers_message(s: &Subject) {
        let Some(failed) = &s.failed else { return };
        let image = s.images.get(failed).await.unwrap();
        let ImageStatus::Failed { message } = &image.status else {
            panic!("{image:?}")
        };
        let err = s
            .images
            .wait_until_ready(failed, quick(), &mut |_| {})
            .await
            .unwrap_err();
        let wait = err.wait().unwrap_or_else(|| panic!("{err:?}"));
        assert_eq!(wait.id.as_deref(), Some(failed.as_str()));
        assert_eq!(&wait.message, message);
        assert!(wait.request_id.is_some(), "{wait:?}");
        assert!(
            err.to_string()
                .contains(&format!("image {failed} failed: {message}")),
            "{err}"
        );
    }

    pub async fn json_has_the_neutral_fields(s: &Subject) {
        let image = &all(&*s.images, ListFilter::default()).await[0];
        let json = serde_json::to_value(image).unwrap();
        for key in [
            "provider",
            "id",
            "name",
            "description",
            "status",
            "custom",
            "os",
            "size_gb",
            "created_at",
            "regions",
        ] {
            assert!(json.get(key).is_some(), "{key} in {json}");
        }
        assert_eq!(json["provider"], s.images.cloud().as_str());
        assert_eq!(json["status"], image.status.as_str());
    }
}

mod setup {
    use super::*;
    use cloud_images::testing::{FakeContabo, FakeDigitalOcean, FakeIonos, contabo, digitalocean, ionos};

    pub async fn contabo() -> Subject {
        let config = contabo::Config::default().with_download_polls(3);
        let (total, custom) = (config.standard + config.custom, config.custom);
        let fake = Arc::new(FakeContabo::start_with(config).await);
        // The seed's ninth own image failed to download.
        let failed = contabo::seed_images(0, 9)[8]["imageId"]
            .as_str()
            .unwrap()
            .to_owned();
        let seen = Arc::clone(&fake);
        Subject {
            images: Arc::new(fake.client()),
            total,
            custom,
            failed: Some(failed),
            sent: Box::new(move || seen.api_requests().len()),
            upload_region: "fra1",
            _fake: Box::new(fake),
        }
    }

    pub async fn digitalocean() -> Subject {
        let config = digitalocean::Config::default().with_import_polls(2);
        let (total, custom) = (
            config.distributions + config.applications + config.private,
            config.private,
        );
        let fake = Arc::new(FakeDigitalOcean::start_with(config).await);
        let own = fake.images().into_iter().find(|i| i["public"] == false).unwrap();
        let id = own["id"].as_u64().unwrap();
        fake.set_status(id, "pending", "The URL answered 404 Not Found");
        let seen = Arc::clone(&fake);
        Subject {
            images: Arc::new(fake.client()),
            total,
            custom,
            failed: Some(id.to_string()),
            sent: Box::new(move || seen.api_requests().len()),
            upload_region: "fra1",
            _fake: Box::new(fake),
        }
    }

    pub async fn ionos() -> Subject {
        ionos_with_polls(1).await
    }

    /// IONOS whose requests are `QUEUED` for one poll, `RUNNING` for the next.
    pub async fn ionos_with_polls(polls: usize) -> Subject {
        let config = ionos::Config::default().with_request_polls(polls);
        let (total, custom) = (config.public + config.private, config.private);
        let fake = Arc::new(FakeIonos::start_with(config).await);
        // The FTP server of de/fra, registering a file at once; the client
        // logs in to it.
        let ftps = fake
            .start_ftps(
                "de/fra",
                Some(Duration::ZERO),
                cloud_images::testing::ftps::Config::default(),
            )
            .await
            .unwrap();
        let seen = Arc::clone(&fake);
        Subject {
            images: Arc::new(fake.client()),
            total,
            custom,
            failed: None,
            sent: Box::new(move || seen.api_requests().len()),
            upload_region: "de/fra",
            _fake: Box::new((fake, ftps)),
        }
    }
}

/// Every case, for every provider named.
macro_rules! conformance {
    ($($provider:ident),* $(,)?) => {$(
        mod $provider {
            use super::*;
            conformance!(@cases $provider:
                lists_every_image_once,
                filters_own_and_public_images,
                filters_by_name_in_any_case,
                filters_by_name_prefix_and_creation_time,
                streams_and_futures_borrow_nothing,
                the_os_family_is_the_same_words_everywhere,
                the_limit_counts_what_passes_the_filter,
                get_agrees_with_list,
                a_missing_image_is_not_found_with_a_request_id,
                import_wait_rename_delete,
                rename_and_delete_an_own_image,
                what_a_provider_needs_is_named_before_sending,
                a_failed_import_ends_the_wait_with_the_providers_message,
                json_has_the_neutral_fields,
                upload_sends_waits_and_cleans_up,
            );
        }
    )*};
    (@cases $provider:ident: $($case:ident),* $(,)?) => {$(
        #[tokio::test]
        async fn $case() {
            let subject = setup::$provider().await;
            cases::$case(&subject).await;
        }
    )*};
}

conformance!(contabo, digitalocean, ionos);

mod progress {
    use super::*;

    #[tokio::test]
    async fn contabo_reports_nothing() {
        cases::changes_report_their_progress(&setup::contabo().await).await;
    }

    #[tokio::test]
    async fn digitalocean_reports_nothing() {
        cases::changes_report_their_progress(&setup::digitalocean().await).await;
    }

    #[tokio::test]
    async fn ionos_reports_its_request_states() {
        cases::changes_report_their_progress(&setup::ionos_with_polls(3).await).await;
    }
}

#[test]
fn the_suite_covers_every_cloud() {
    assert_eq!(Cloud::ALL.len(), 3, "add the new cloud to conformance!(...)");
}
