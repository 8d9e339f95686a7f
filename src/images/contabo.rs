//! [`Images`] for Contabo.

use futures::FutureExt;
use futures::future::BoxFuture;

use super::model::required;
use super::{
    Cloud, Image, ImageStatus, ImageStream, ImageUpdate, Images, ImportRequest, ListFilter, ListPlan,
    OnProgress, ProviderImage,
};
use crate::contabo::types::CreateCustomImageRequest;
use crate::contabo::{Client, ImageDetails, first_image, types};
use crate::wait::{Progress, WaitOptions};
use crate::{Error, Execute, Paginate, PaginationOptions};

impl Images for Client {
    fn cloud(&self) -> Cloud {
        Cloud::Contabo
    }

    /// `standardImage` goes to the server; a name filter is applied here
    /// (Contabo's own `name` filter has its own matching rules).
    fn list(&self, filter: ListFilter, pagination: PaginationOptions) -> ImageStream<'_> {
        let mut request = self.retrieve_image_list();
        if let Some(custom) = filter.get_custom() {
            request = request.standard_image(!custom);
        }
        let plan = ListPlan::new(pagination, &filter, true);
        let items = request.stream_with(plan.server);
        plan.stream(items, from_listed)
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Image, Error>> {
        async move {
            let found = self.retrieve_image().image_id(id).execute().await?;
            Ok(from_details(first_image(found)?.into_inner()))
        }
        .boxed()
    }

    fn import_from_url(&self, request: ImportRequest) -> BoxFuture<'_, Result<Image, Error>> {
        async move {
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
            match self.get(&id).await {
                Ok(image) => Ok(image),
                Err(e) => {
                    tracing::warn!(image_id = %id, error = %e, "created, but reading the new image failed");
                    Ok(just_created(id, body))
                }
            }
        }
        .boxed()
    }

    fn update<'a>(&'a self, id: &'a str, changes: ImageUpdate) -> BoxFuture<'a, Result<Image, Error>> {
        async move {
            changes.check()?;
            let body = types::UpdateCustomImageRequest {
                name: changes.get_name().map(str::to_owned),
                description: changes.get_description().map(str::to_owned),
            };
            self.update_image().image_id(id).body(body).execute().await?;
            self.get(id).await
        }
        .boxed()
    }

    fn delete<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        async move {
            self.delete_image().image_id(id).execute().await?;
            Ok(())
        }
        .boxed()
    }

    fn wait_until_ready<'a>(
        &'a self,
        id: &'a str,
        options: WaitOptions,
        progress: OnProgress<'a>,
    ) -> BoxFuture<'a, Result<Image, Error>> {
        async move {
            let image = self.wait_for_image(id, options, progress).await?;
            Ok(from_details(image))
        }
        .boxed()
    }
}

/// An image just created, as far as the create request says: a custom
/// image `downloading`, read like any other.
fn just_created(id: String, body: types::CreateCustomImageRequest) -> Image {
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
        return Err(crate::error::Unsupported::new(
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

/// A listed image in the neutral view.
fn from_listed(image: crate::contabo::Image) -> Image {
    let status = status_of(
        image.status.as_deref(),
        image.error_message.as_deref(),
        image.uploaded_size_mb,
        image.size_mb,
    );
    Image {
        provider: Cloud::Contabo,
        id: image.image_id.clone(),
        name: image.name.clone().unwrap_or_default(),
        description: image.description.clone().filter(|d| !d.is_empty()),
        status,
        custom: image.standard_image == Some(false),
        os: image.os_type.clone(),
        size_gb: image.size_mb.map(|mb| mb / 1024.0),
        created_at: image.creation_date,
        regions: Vec::new(),
        raw: ProviderImage::Contabo(Box::new(image)),
    }
}

/// A retrieved image in the neutral view (as a listed one without tags).
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
    from_listed(crate::contabo::Image {
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
    })
}

/// Contabo's status words: `downloaded` and `available` are ready,
/// `downloading` pending with MB done (`uploadedSizeMb`) of the total
/// (`sizeMb`), `error` and `failed` failed with the `errorMessage`. The one
/// reading of a Contabo status, for lists and waits alike.
pub(crate) fn status_of(
    status: Option<&str>,
    error: Option<&str>,
    done: Option<f64>,
    total: Option<f64>,
) -> ImageStatus {
    let Some(word) = status.filter(|s| !s.is_empty()) else {
        return ImageStatus::Unknown;
    };
    match word.to_ascii_lowercase().as_str() {
        "downloaded" | "available" | "ready" => ImageStatus::Ready,
        "downloading" | "pending" | "queued" | "processing" => {
            ImageStatus::Pending(Progress::new(Some(word.to_owned()), done, total))
        }
        "error" | "failed" => ImageStatus::Failed {
            message: error.filter(|m| !m.is_empty()).map_or_else(
                || format!("status `{word}` without an error message"),
                str::to_owned,
            ),
        },
        _ => ImageStatus::Other(word.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(status: Option<&str>, error: Option<&str>) -> crate::contabo::Image {
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
            assert_eq!(
                from_listed(image(Some(word), None)).status.as_str(),
                expected,
                "{word}"
            );
        }
        assert_eq!(from_listed(image(None, None)).status, ImageStatus::Unknown);
        let failed = from_listed(image(Some("error"), Some("HTTP 404 from the URL")));
        assert_eq!(
            failed.status,
            ImageStatus::Failed {
                message: "HTTP 404 from the URL".into()
            }
        );
        let pending = from_listed(image(Some("downloading"), None));
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
    fn an_import_without_os_or_version_names_the_field() {
        let base = ImportRequest::new("debian", "https://example.com/d.qcow2");
        let err = create_body(base.clone().version("13")).unwrap_err();
        assert!(err.to_string().contains("contabo needs `os`"), "{err}");
        let err = create_body(base.clone().os("linux")).unwrap_err();
        assert!(err.to_string().contains("contabo needs `version`"), "{err}");
        let err = create_body(base.clone().os("bsd").version("14")).unwrap_err();
        assert!(err.to_string().contains("linux or windows, not `bsd`"), "{err}");
        let err = create_body(base.clone().os("linux").version("13").tag("x")).unwrap_err();
        assert!(err.is_unsupported(), "{err}");
        let body = create_body(base.os("Windows").version("2022").region("ignored")).unwrap();
        assert_eq!(body.os_type, types::CreateCustomImageRequestOsType::Windows);
        let image = just_created("9f3c".into(), body);
        assert_eq!((image.id.as_str(), image.name.as_str()), ("9f3c", "debian"));
        assert!(image.custom && image.status.is_pending());
        assert!(matches!(image.raw, ProviderImage::Contabo(_)));
    }
}
