//! Contabo's client as an [`ImageBackend`] of the neutral images API.

use futures::stream::BoxStream;

use super::status::status_of;
use super::types::{self, CreateCustomImageRequest};
use super::{Client, Image, ImageDetails, first_image};
use crate::ops::images::{
    ImageBackend, ImageUpdate, ImageView, ImportRequest, ListFilter, ListPlan, OnProgress, required,
};
use crate::ops::pagination::{OwnedList, PaginationOptions, owned_items};
use crate::ops::wait::WaitOptions;
use crate::values::cloud::Cloud;
use crate::{Error, Execute};

impl ImageBackend for Client {
    const CLOUD: Cloud = Cloud::Contabo;
    type Item = Image;

    fn view(image: &Image) -> ImageView {
        ImageView {
            id: image.image_id.clone(),
            name: image.name.clone().unwrap_or_default(),
            description: image.description.clone().filter(|d| !d.is_empty()),
            status: status_of(
                image.status.as_deref(),
                image.error_message.as_deref(),
                image.uploaded_size_mb,
                image.size_mb,
            ),
            custom: own_image(image.standard_image, image.url.as_deref()),
            os: image.os_type.clone(),
            size_gb: image.size_mb.map(|mb| mb / 1024.0),
            created_at: image.creation_date,
            regions: Vec::new(),
        }
    }

    /// `standardImage` goes to the server; a name filter is applied here
    /// (Contabo's own `name` filter has its own matching rules).
    fn list_items(
        &self,
        filter: &ListFilter,
        options: PaginationOptions,
    ) -> (ListPlan, BoxStream<'static, Result<Image, Error>>) {
        let list = ImageList {
            client: self.clone(),
            standard: filter.custom().map(|custom| !custom),
        };
        let plan = ListPlan::new(options, filter, true);
        let items = owned_items(list, plan.server);
        (plan, items)
    }

    async fn get_item(&self, id: &str) -> Result<Image, Error> {
        let found = self.retrieve_image().image_id(id).execute().await?;
        Ok(from_details(first_image(found)?.into_inner()))
    }

    async fn import_item(&self, request: ImportRequest) -> Result<Image, Error> {
        let body = create_body(request)?;
        let created = self.create_custom_image().body(body.clone()).execute().await?;
        let id = created
            .data
            .first()
            .map(|d| d.image_id.clone())
            .ok_or_else(|| Error::Decode {
                operation: "create_custom_image".into(),
                path: "data".into(),
                message: "the API answered with no image id".into(),
                request_id: created.request_id().map(str::to_owned),
            })?;
        // The image exists now: a failed read must not lose its id (a
        // retry of the import would make a second one).
        match self.get_item(&id).await {
            Ok(image) => Ok(image),
            Err(e) => {
                tracing::warn!(image_id = %id, error = %e, "created, but reading the new image failed");
                Ok(just_created(id, body))
            }
        }
    }

    /// Contabo applies a change before it answers: nothing to report.
    async fn update_item<'a>(
        &'a self,
        id: &'a str,
        changes: ImageUpdate,
        _progress: OnProgress<'a>,
    ) -> Result<Image, Error> {
        let body = types::UpdateCustomImageRequest {
            name: changes.name().map(str::to_owned),
            description: changes.description().map(str::to_owned),
        };
        self.update_image().image_id(id).body(body).execute().await?;
        self.get_item(id).await
    }

    async fn delete_item<'a>(&'a self, id: &'a str, _progress: OnProgress<'a>) -> Result<(), Error> {
        self.delete_image().image_id(id).execute().await?;
        Ok(())
    }

    async fn wait_item<'a>(
        &'a self,
        id: &'a str,
        options: WaitOptions,
        progress: OnProgress<'a>,
    ) -> Result<Image, Error> {
        Ok(from_details(self.wait_for_image(id, options, progress).await?))
    }

    #[cfg(feature = "upload")]
    fn check_import(request: ImportRequest) -> Result<(), Error> {
        create_body(request).map(drop)
    }

    #[cfg(feature = "upload")]
    fn without_source_url(mut image: Image) -> Image {
        image.url = None;
        image
    }

    /// The caller's store, path-style; what is missing (endpoint, keys)
    /// from the account's object storage.
    #[cfg(feature = "upload")]
    async fn upload_staging<'a>(
        &'a self,
        given: crate::ops::staging::Staging,
        _region: Option<&'a str>,
    ) -> Result<crate::ops::staging::Staging, Error> {
        super::upload::staging(self, given).await
    }

    /// Contabo's free custom-image space, from its stats.
    #[cfg(feature = "upload")]
    async fn check_upload_room(&self, bytes: u64) -> Result<(), Error> {
        super::upload::check_room(self, bytes).await
    }
}

/// Whether an image is the account's own (a custom image) rather than one of
/// Contabo's standard images: `standardImage` decides when Contabo sends it;
/// without it, a source `url` marks an image imported from one (Contabo's
/// standard images have an empty `url`). Neither known: not the account's.
fn own_image(standard_image: Option<bool>, url: Option<&str>) -> bool {
    match standard_image {
        Some(standard) => !standard,
        None => url.is_some_and(|url| !url.trim().is_empty()),
    }
}

/// The image list, owned by its stream.
struct ImageList {
    client: Client,
    /// `standardImage`, when asked for.
    standard: Option<bool>,
}

impl OwnedList for ImageList {
    type Item = Image;
    type Request<'a> = super::builder::RetrieveImageList<'a>;

    fn request(&self) -> Self::Request<'_> {
        let request = self.client.retrieve_image_list();
        match self.standard {
            Some(standard) => request.standard_image(standard),
            None => request,
        }
    }
}

/// An image just created, as far as the create request says: a custom
/// image `downloading`, read like any other.
fn just_created(id: String, body: CreateCustomImageRequest) -> Image {
    let CreateCustomImageRequest {
        name,
        description,
        url,
        os_type,
        version,
    } = body;
    from_details(ImageDetails {
        image_id: id,
        name: Some(name),
        description,
        url: Some(url),
        os_type: Some(os_type.to_string()),
        version: Some(version),
        standard_image: Some(false),
        status: Some("downloading".into()),
        creation_date: None,
        customer_id: None,
        error_message: None,
        format: None,
        last_modified_date: None,
        size_mb: None,
        tenant_id: None,
        uploaded_size_mb: None,
    })
}

/// The create body, or an error naming what Contabo needs and the request lacks.
fn create_body(request: ImportRequest) -> Result<types::CreateCustomImageRequest, Error> {
    request.check()?;
    let request = request.into_parts();
    if !request.tags.is_empty() {
        return Err(crate::values::error::Unsupported::new(
            Cloud::Contabo,
            "import_from_url with tags",
            "import without tags, then assign them with Contabo's tag API",
        )
        .into());
    }
    let os = required(Cloud::Contabo, "os", request.os.as_deref())?;
    let os_type = match os.trim().to_ascii_lowercase().as_str() {
        "linux" => types::CreateCustomImageRequestOsType::Linux,
        "windows" => types::CreateCustomImageRequestOsType::Windows,
        _ => {
            return Err(Error::InvalidRequest(format!(
                "import_from_url: contabo needs `os` to be linux or windows, not `{}`",
                os.escape_debug()
            )));
        }
    };
    let version = required(Cloud::Contabo, "version", request.version.as_deref())?.to_owned();
    Ok(types::CreateCustomImageRequest {
        name: request.name,
        url: request.url,
        os_type,
        version,
        description: request.description,
    })
}

/// A retrieved image as a listed one (without tags).
fn from_details(image: ImageDetails) -> Image {
    let ImageDetails {
        creation_date,
        customer_id,
        description,
        error_message,
        format,
        image_id,
        last_modified_date,
        name,
        os_type,
        size_mb,
        standard_image,
        status,
        tenant_id,
        uploaded_size_mb,
        url,
        version,
    } = image;
    Image {
        creation_date,
        customer_id,
        description,
        error_message,
        format,
        image_id,
        last_modified_date,
        name,
        os_type,
        size_mb,
        standard_image,
        status,
        tags: None,
        tenant_id,
        uploaded_size_mb,
        url,
        version,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::status::ImageStatus;
    use crate::ops::wait::Progress;

    fn view(image: Image) -> ImageView {
        Client::view(&image)
    }

    fn image(status: Option<&str>, error: Option<&str>) -> Image {
        serde_json::from_value(serde_json::json!({
            "imageId": "1a2b", "name": "debian", "status": status, "errorMessage": error,
            "standardImage": false, "sizeMb": 2048.0, "uploadedSizeMb": 512.0, "osType": "Linux",
        }))
        .unwrap()
    }

    #[test]
    fn statuses_map_to_the_neutral_words() {
        for (word, expected) in [
            ("downloaded", "ready"),
            ("available", "ready"),
            ("downloading", "pending"),
            ("error", "failed"),
            ("archived", "archived"),
        ] {
            assert_eq!(view(image(Some(word), None)).status.as_str(), expected, "{word}");
        }
        assert_eq!(view(image(None, None)).status, ImageStatus::Unknown);
        let failed = view(image(Some("error"), Some("HTTP 404 from the URL")));
        assert_eq!(
            failed.status,
            ImageStatus::Failed {
                message: "HTTP 404 from the URL".into()
            }
        );
        let pending = view(image(Some("downloading"), None));
        assert_eq!(
            pending.status,
            ImageStatus::Pending(Progress::new(
                Some("downloading".into()),
                Some(512.0),
                Some(2048.0)
            ))
        );
        assert_eq!(pending.size_gb, Some(2.0));
        assert!(pending.custom);
    }

    #[test]
    fn the_accounts_own_image_is_told_by_standard_image_else_by_its_url() {
        let standard: Image = serde_json::from_value(serde_json::json!({
            "imageId": "afecbb85-e2fc-46f0-9684-b46b1faf00bb", "tenantId": "INT", "customerId": "54321",
            "name": "ubuntu-22.04", "url": "", "osType": "Linux", "version": "22.04", "format": "qcow2",
            "status": "available", "errorMessage": "", "standardImage": true,
        }))
        .unwrap();
        assert!(!view(standard).custom);
        let url = "https://example.com/debian-13.qcow2";
        for (standard_image, url, own) in [
            (Some(false), Some(url), true),
            (Some(false), None, true),
            (Some(true), Some(url), false),
            (Some(true), Some(""), false),
            (None, Some(url), true),
            (None, Some(" "), false),
            (None, None, false),
        ] {
            assert_eq!(own_image(standard_image, url), own, "{standard_image:?} {url:?}");
        }
    }

    #[test]
    fn an_import_without_os_or_version_names_the_field() {
        let base = ImportRequest::new("debian", "https://example.com/d.qcow2");
        let err = create_body(base.clone().with_version("13")).unwrap_err();
        assert!(err.to_string().contains("contabo needs `os`"), "{err}");
        let err = create_body(base.clone().with_os("linux")).unwrap_err();
        assert!(err.to_string().contains("contabo needs `version`"), "{err}");
        let err = create_body(base.clone().with_os("bsd").with_version("14")).unwrap_err();
        assert!(err.to_string().contains("linux or windows, not `bsd`"), "{err}");
        let err = create_body(base.clone().with_os("linux").with_version("13").with_tag("x")).unwrap_err();
        assert!(err.is_unsupported(), "{err}");
        let body = create_body(
            base.with_os("Windows")
                .with_version("2022")
                .with_region("ignored"),
        )
        .unwrap();
        assert_eq!(body.os_type, types::CreateCustomImageRequestOsType::Windows);
        let image = view(just_created("9f3c".into(), body));
        assert_eq!((image.id.as_str(), image.name.as_str()), ("9f3c", "debian"));
        assert!(image.custom && image.status.is_pending());
    }
}
