//! [`Images`] for IONOS Cloud.

use std::time::Duration;

use futures::future::BoxFuture;
use futures::stream::{self, StreamExt};
use futures::{FutureExt, TryFutureExt};

use super::{
    Cloud, Image, ImageStatus, ImageStream, ImageUpdate, Images, ImportRequest, ListFilter, ListPlan,
    OnProgress, ProviderImage,
};
use crate::error::Unsupported;
use crate::ionos::{Client, types};
use crate::wait::{Progress, WaitOptions};
use crate::{Error, Execute, PaginationOptions};

/// How long `update` and `delete` wait for IONOS to apply them: polls from
/// 0.5 s growing to 5 s, for at most 10 minutes.
pub(crate) const CHANGE_WAIT: WaitOptions = WaitOptions::new(
    Duration::from_millis(500),
    Duration::from_secs(5),
    Duration::from_secs(600),
);

impl Images for Client {
    fn cloud(&self) -> Cloud {
        Cloud::Ionos
    }

    /// One request (`GET /images?depth=1`): IONOS does not page images, so
    /// only the options' item limit applies; the filter is applied here.
    fn list(&self, filter: ListFilter, pagination: PaginationOptions) -> ImageStream<'_> {
        let plan = ListPlan::unpaged(pagination, &filter);
        let all = self
            .list_images()
            .map_ok(|found| stream::iter(found.into_inner().into_iter().map(Ok)))
            .try_flatten_stream()
            .boxed();
        plan.stream(all, from_image)
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Image, Error>> {
        async move {
            let found = self.images_find_by_id().image_id(id).execute().await?;
            Ok(from_image(found.into_inner()))
        }
        .boxed()
    }

    fn import_from_url(&self, request: ImportRequest) -> BoxFuture<'_, Result<Image, Error>> {
        let _ = request;
        let unsupported = Unsupported::new(
            Cloud::Ionos,
            "import_from_url",
            "upload the image file to the FTP server of its location (ftp-<location>.ionos.com, \
             e.g. ftp-fra.ionos.com, folder hdd-images or iso-images); it then appears in list()",
        );
        async move { Err(unsupported.into()) }.boxed()
    }

    /// Waits until IONOS has applied the change (polls from 0.5 s up to 5 s apart, for at most 10 minutes).
    fn update<'a>(&'a self, id: &'a str, changes: ImageUpdate) -> BoxFuture<'a, Result<Image, Error>> {
        async move {
            changes.check()?;
            let properties = types::ImageProperties {
                name: changes.get_name().map(str::to_owned),
                description: changes.get_description().map(str::to_owned),
                ..Default::default()
            };
            Ok(from_image(self.update_image(id, properties, CHANGE_WAIT).await?))
        }
        .boxed()
    }

    /// Waits until IONOS has deleted the image (polls from 0.5 s up to 5 s apart, for at most 10 minutes).
    fn delete<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        async move {
            self.delete_image(id, CHANGE_WAIT).await?;
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

/// An image in the neutral view.
fn from_image(image: crate::ionos::Image) -> Image {
    let properties = image.properties.clone().unwrap_or_default();
    let metadata = image.metadata.clone().unwrap_or_default();
    Image {
        provider: Cloud::Ionos,
        id: image.id.clone(),
        name: properties.name.unwrap_or_default(),
        description: properties.description.filter(|d| !d.is_empty()),
        status: status(metadata.state.as_deref()),
        custom: properties.public == Some(false),
        os: properties.licence_type,
        size_gb: properties.size,
        created_at: metadata.created_date,
        regions: properties.location.into_iter().collect(),
        raw: ProviderImage::Ionos(Box::new(image)),
    }
}

/// The states that end a wait: the image is gone.
pub(crate) const FINAL_STATES: &[&str] = &["TERMINATED"];

/// IONOS's states: `AVAILABLE` is ready, `BUSY`, `DEPLOYING` and `UPDATING`
/// pending, `FAILED...` failed, `DESTROYING` deleting; `TERMINATED` ends a
/// wait. The one reading of an IONOS state, for lists and waits alike.
pub(crate) fn status(state: Option<&str>) -> ImageStatus {
    match state {
        None | Some("") => ImageStatus::Unknown,
        Some("AVAILABLE" | "ACTIVE") => ImageStatus::Ready,
        Some(word @ ("BUSY" | "DEPLOYING" | "UPDATING")) => {
            ImageStatus::Pending(Progress::new(Some(word.to_owned()), None, None))
        }
        Some(failed) if failed.starts_with("FAILED") => ImageStatus::Failed {
            message: format!("the image is {failed}"),
        },
        Some("DESTROYING") => ImageStatus::Deleting,
        Some(other) => ImageStatus::Other(other.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_map_to_the_neutral_words() {
        for (state, expected) in [
            (Some("AVAILABLE"), "ready"),
            (Some("BUSY"), "pending"),
            (Some("FAILED_UPDATING"), "failed"),
            (Some("DESTROYING"), "deleting"),
            (Some("INACTIVE"), "INACTIVE"),
            (None, "unknown"),
        ] {
            assert_eq!(status(state).as_str(), expected, "{state:?}");
        }
    }

    #[test]
    fn an_image_keeps_its_location_and_privacy() {
        let image: crate::ionos::Image = serde_json::from_value(serde_json::json!({
            "id": "7df81087", "type": "image",
            "metadata": {"state": "AVAILABLE", "createdDate": "2025-01-02T03:04:05Z"},
            "properties": {"name": "debian", "location": "de/fra", "public": false, "size": 3.5, "licenceType": "LINUX"},
        }))
        .unwrap();
        let image = from_image(image);
        assert_eq!((image.id.as_str(), image.name.as_str()), ("7df81087", "debian"));
        assert_eq!(image.regions, ["de/fra"]);
        assert!(image.custom && image.status.is_ready());
        assert_eq!(image.size_gb, Some(3.5));
        assert!(image.created_at.is_some());
    }
}
