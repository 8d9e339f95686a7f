//! DigitalOcean's client as an [`ImageBackend`] of the neutral images API.

use futures::stream::BoxStream;

use super::status::status;
use super::{Client, Image, types};
use crate::ops::images::{
    ImageBackend, ImageUpdate, ImageView, ImportRequest, ListFilter, ListPlan, OnProgress, required,
};
use crate::ops::pagination::{OwnedList, PaginationOptions, owned_items};
use crate::ops::wait::WaitOptions;
use crate::values::cloud::Cloud;
use crate::{Error, Execute};

impl ImageBackend for Client {
    const CLOUD: Cloud = Cloud::DigitalOcean;
    type Item = Image;

    fn view(image: &Image) -> ImageView {
        ImageView {
            id: image.id.to_string(),
            name: image.name.clone().unwrap_or_default(),
            description: image.description.clone().filter(|d| !d.is_empty()),
            status: status(image),
            custom: own_image(image.type_.as_deref(), image.public),
            os: image.distribution.clone(),
            // The spec's `float` is an f32: widen its shortest decimal form, so
            // 2.36 stays 2.36 rather than 2.359999895095825.
            size_gb: image.size_gigabytes.and_then(|gb| gb.to_string().parse().ok()),
            created_at: image.created_at,
            regions: image.regions.clone().unwrap_or_default(),
        }
    }

    /// Own images are asked for with `private=true`; public-only and name
    /// filters are applied here.
    fn list_items(
        &self,
        filter: &ListFilter,
        options: PaginationOptions,
    ) -> (ListPlan, BoxStream<'static, Result<Image, Error>>) {
        let own_only = filter.custom() == Some(true);
        let list = ImageList {
            client: self.clone(),
            own_only,
        };
        let plan = ListPlan::new(options, filter, own_only);
        let items = owned_items(list, plan.server);
        (plan, items)
    }

    async fn get_item(&self, id: &str) -> Result<Image, Error> {
        Ok(self.images_get().image_id(id).execute().await?.into_inner().image)
    }

    async fn import_item(&self, request: ImportRequest) -> Result<Image, Error> {
        let body = create_body(request)?;
        let created = self.images_create_custom().body(body).execute().await?;
        Ok(created.into_inner().image)
    }

    /// DigitalOcean applies a change before it answers: nothing to report.
    async fn update_item<'a>(
        &'a self,
        id: &'a str,
        changes: ImageUpdate,
        _progress: OnProgress<'a>,
    ) -> Result<Image, Error> {
        let body = types::ImageUpdate {
            name: changes.name().map(str::to_owned),
            description: changes.description().map(str::to_owned),
            distribution: None,
        };
        let updated = self.images_update().image_id(id).body(body).execute().await?;
        Ok(updated.into_inner().image)
    }

    async fn delete_item<'a>(&'a self, id: &'a str, _progress: OnProgress<'a>) -> Result<(), Error> {
        self.images_delete().image_id(id).execute().await?;
        Ok(())
    }

    async fn wait_item<'a>(
        &'a self,
        id: &'a str,
        options: WaitOptions,
        progress: OnProgress<'a>,
    ) -> Result<Image, Error> {
        self.wait_for_image(id, options, progress).await
    }

    #[cfg(feature = "upload")]
    const COPIES_TO_REGIONS: bool = true;

    #[cfg(feature = "upload")]
    fn check_import(request: ImportRequest) -> Result<(), Error> {
        create_body(request).map(drop)
    }

    /// Spaces in the import region, with the Spaces key from the environment.
    #[cfg(feature = "upload")]
    async fn upload_staging<'a>(
        &'a self,
        given: crate::ops::staging::Staging,
        region: Option<&'a str>,
    ) -> Result<crate::ops::staging::Staging, Error> {
        super::upload::staging(given, region, |name| std::env::var(name).ok())
    }

    #[cfg(feature = "upload")]
    async fn copy_to_region<'a>(
        &'a self,
        id: &'a str,
        region: &'a str,
        options: WaitOptions,
    ) -> Result<(), Error> {
        super::upload::copy_to_region(self, id, region, options).await
    }
}

/// The image list, owned by its stream.
struct ImageList {
    client: Client,
    /// `private=true`: the account's own images only.
    own_only: bool,
}

impl OwnedList for ImageList {
    type Item = Image;
    type Request<'a> = super::builder::ImagesList<'a>;

    fn request(&self) -> Self::Request<'_> {
        let request = self.client.images_list();
        if self.own_only {
            request.private(true)
        } else {
            request
        }
    }
}

/// Whether an image is the account's own rather than one of DigitalOcean's
/// public images. `public` decides when DigitalOcean sends it (a public
/// Marketplace image is a `snapshot` with `public: true`); without it (the
/// answer to an import has no `public`) the `type` does: `custom`,
/// `snapshot` and `backup` are the account's, `base` and `admin` are
/// DigitalOcean's. Neither known: not the account's.
fn own_image(kind: Option<&str>, public: Option<bool>) -> bool {
    match public {
        Some(public) => !public,
        None => matches!(kind, Some("custom" | "snapshot" | "backup")),
    }
}

/// The create body, or an error naming what DigitalOcean needs and the request lacks.
fn create_body(request: ImportRequest) -> Result<types::ImageNewCustom, Error> {
    request.check()?;
    let request = request.into_parts();
    let region = required(Cloud::DigitalOcean, "region", request.region.as_deref())?.to_owned();
    let distribution = match request.os.as_deref().map(str::trim) {
        None | Some("") => None,
        // DigitalOcean's word for a Linux it has no name for.
        Some(os) if os.eq_ignore_ascii_case("linux") => Some("Unknown".to_owned()),
        Some(os) if os.eq_ignore_ascii_case("windows") => {
            return Err(Error::InvalidRequest(
                "import_from_url: digitalocean imports Linux and other Unix images, not `windows`".into(),
            ));
        }
        Some(os) => Some(os.to_owned()),
    };
    Ok(types::ImageNewCustom {
        name: request.name,
        url: request.url,
        region,
        distribution,
        description: request.description,
        tags: (!request.tags.is_empty()).then_some(request.tags),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::status::ImageStatus;

    fn view(image: Image) -> ImageView {
        Client::view(&image)
    }

    fn image(status: &str, error: Option<&str>) -> Image {
        serde_json::from_value(serde_json::json!({
            "id": 190000001, "name": "debian", "status": status, "error_message": error,
            "public": false, "regions": ["fra1"], "size_gigabytes": 2.5, "distribution": "Debian",
        }))
        .unwrap()
    }

    #[test]
    fn statuses_map_to_the_neutral_words() {
        for (word, expected) in [
            ("available", "ready"),
            ("NEW", "pending"),
            ("pending", "pending"),
            ("retired", "retired"),
        ] {
            assert_eq!(view(image(word, None)).status.as_str(), expected, "{word}");
        }
        let failed = view(image("pending", Some("the URL answered 404")));
        assert_eq!(
            failed.status,
            ImageStatus::Failed {
                message: "the URL answered 404".into()
            }
        );
        assert_eq!(failed.id, "190000001");
        assert_eq!(failed.regions, ["fra1"]);
        assert_eq!(failed.size_gb, Some(2.5));
        let odd: Image =
            serde_json::from_value(serde_json::json!({"id": 1, "size_gigabytes": 2.36})).unwrap();
        assert_eq!(view(odd).size_gb, Some(2.36));
        assert!(failed.custom);
    }

    #[test]
    fn the_accounts_own_image_is_told_by_public_else_by_type() {
        // The answer to an import: `type` and `status`, no `public`.
        let imported: Image = serde_json::from_value(serde_json::json!({
            "id": 38413969, "name": "ubuntu-18.04-minimal", "distribution": "Ubuntu", "regions": [],
            "created_at": "2018-09-20T19:28:00Z", "type": "custom", "status": "NEW", "error_message": "",
        }))
        .unwrap();
        assert!(view(imported).custom);
        for (kind, public, own) in [
            (Some("custom"), None, true),
            (Some("snapshot"), None, true),
            (Some("backup"), None, true),
            (Some("base"), None, false),
            (Some("admin"), None, false),
            (Some("some-new-kind"), None, false),
            (None, None, false),
            (None, Some(false), true),
            (None, Some(true), false),
            // A Marketplace image: a public snapshot.
            (Some("snapshot"), Some(true), false),
            (Some("base"), Some(false), true),
        ] {
            assert_eq!(own_image(kind, public), own, "{kind:?} {public:?}");
        }
    }

    #[test]
    fn an_import_without_a_region_names_it() {
        let base = ImportRequest::new("debian", "https://example.com/d.qcow2");
        let err = create_body(base.clone().with_os("linux")).unwrap_err();
        assert!(err.to_string().contains("digitalocean needs `region`"), "{err}");
        assert!(create_body(base.clone().with_region("fra1").with_os("windows")).is_err());
        let body = create_body(
            base.clone()
                .with_region("fra1")
                .with_os("linux")
                .with_version("ignored"),
        )
        .unwrap();
        assert_eq!(body.distribution.as_deref(), Some("Unknown"));
        let body = create_body(base.with_region("fra1").with_os("Debian").with_tag("a")).unwrap();
        assert_eq!(
            (body.distribution.as_deref(), body.tags),
            (Some("Debian"), Some(vec!["a".to_owned()]))
        );
    }
}
