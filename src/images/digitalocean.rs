//! [`Images`] for DigitalOcean.

use futures::FutureExt;
use futures::future::BoxFuture;

use super::model::required;
use super::{
    Cloud, Image, ImageStatus, ImageStream, ImageUpdate, Images, ImportRequest, ListFilter, ListPlan,
    OnProgress, ProviderImage,
};
use crate::digitalocean::{Client, types};
use crate::wait::{Progress, WaitOptions};
use crate::{Error, Execute, Paginate, PaginationOptions};

impl Images for Client {
    fn cloud(&self) -> Cloud {
        Cloud::DigitalOcean
    }

    /// Own images are asked for with `private=true`; public-only and name
    /// filters are applied here.
    fn list(&self, filter: ListFilter, pagination: PaginationOptions) -> ImageStream<'_> {
        let own_only = filter.get_custom() == Some(true);
        let mut request = self.images_list();
        if own_only {
            request = request.private(true);
        }
        let plan = ListPlan::new(pagination, &filter, own_only);
        let items = request.stream_with(plan.server);
        plan.stream(items, from_image)
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Image, Error>> {
        async move {
            let found = self.images_get().image_id(id).execute().await?;
            Ok(from_image(found.into_inner().image))
        }
        .boxed()
    }

    fn import_from_url(&self, request: ImportRequest) -> BoxFuture<'_, Result<Image, Error>> {
        async move {
            let body = create_body(request)?;
            let created = self.images_create_custom().body(body).execute().await?;
            Ok(from_image(created.into_inner().image))
        }
        .boxed()
    }

    fn update<'a>(&'a self, id: &'a str, changes: ImageUpdate) -> BoxFuture<'a, Result<Image, Error>> {
        async move {
            changes.check()?;
            let body = types::ImageUpdate {
                name: changes.get_name().map(str::to_owned),
                description: changes.get_description().map(str::to_owned),
                distribution: None,
            };
            let updated = self.images_update().image_id(id).body(body).execute().await?;
            Ok(from_image(updated.into_inner().image))
        }
        .boxed()
    }

    fn delete<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        async move {
            self.images_delete().image_id(id).execute().await?;
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
        async move { Ok(from_image(self.wait_for_image(id, options, progress).await?)) }.boxed()
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

/// An image in the neutral view.
fn from_image(image: crate::digitalocean::Image) -> Image {
    Image {
        provider: Cloud::DigitalOcean,
        id: image.id.to_string(),
        name: image.name.clone().unwrap_or_default(),
        description: image.description.clone().filter(|d| !d.is_empty()),
        status: status(&image),
        custom: image.public == Some(false),
        os: image.distribution.clone(),
        // The spec's `float` is an f32: widen its shortest decimal form, so
        // 2.36 stays 2.36 rather than 2.359999895095825.
        size_gb: image.size_gigabytes.and_then(|gb| gb.to_string().parse().ok()),
        created_at: image.created_at,
        regions: image.regions.clone().unwrap_or_default(),
        raw: ProviderImage::DigitalOcean(Box::new(image)),
    }
}

/// The statuses that end a wait: the image will not become available.
pub(crate) const FINAL_STATUSES: &[&str] = &["deleted", "retired"];

/// DigitalOcean's statuses: `available` is ready, `NEW` and `pending`
/// pending, an `error_message` failed; `deleted` and `retired` stay as they
/// are (and end a wait). The one reading of a DigitalOcean status, for lists
/// and waits alike.
pub(crate) fn status(image: &crate::digitalocean::Image) -> ImageStatus {
    if let Some(message) = image.error_message.as_deref().filter(|m| !m.trim().is_empty()) {
        return ImageStatus::Failed {
            message: message.to_owned(),
        };
    }
    match image.status.as_deref() {
        None | Some("") => ImageStatus::Unknown,
        Some("available") => ImageStatus::Ready,
        Some(word @ ("NEW" | "new" | "pending")) => {
            ImageStatus::Pending(Progress::new(Some(word.to_owned()), None, None))
        }
        Some(other) => ImageStatus::Other(other.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(status: &str, error: Option<&str>) -> crate::digitalocean::Image {
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
            assert_eq!(from_image(image(word, None)).status.as_str(), expected, "{word}");
        }
        let failed = from_image(image("pending", Some("the URL answered 404")));
        assert_eq!(
            failed.status,
            ImageStatus::Failed {
                message: "the URL answered 404".into()
            }
        );
        assert_eq!(failed.id, "190000001");
        assert_eq!(failed.regions, ["fra1"]);
        assert_eq!(failed.size_gb, Some(2.5));
        let odd: crate::digitalocean::Image =
            serde_json::from_value(serde_json::json!({"id": 1, "size_gigabytes": 2.36})).unwrap();
        assert_eq!(from_image(odd).size_gb, Some(2.36));
        assert!(failed.custom);
    }

    #[test]
    fn an_import_without_a_region_names_it() {
        let base = ImportRequest::new("debian", "https://example.com/d.qcow2");
        let err = create_body(base.clone().os("linux")).unwrap_err();
        assert!(err.to_string().contains("digitalocean needs `region`"), "{err}");
        assert!(create_body(base.clone().region("fra1").os("windows")).is_err());
        let body = create_body(base.clone().region("fra1").os("linux").version("ignored")).unwrap();
        assert_eq!(body.distribution.as_deref(), Some("Unknown"));
        let body = create_body(base.region("fra1").os("Debian").tag("a")).unwrap();
        assert_eq!(
            (body.distribution.as_deref(), body.tags),
            (Some("Debian"), Some(vec!["a".to_owned()]))
        );
    }
}
