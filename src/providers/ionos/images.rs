//! IONOS Cloud's client as an [`ImageBackend`] of the neutral images API.

use std::time::Duration;

use futures::TryFutureExt;
use futures::stream::{self, BoxStream, StreamExt};

use super::status::status;
use super::{Client, Image, types};
use crate::ops::images::{
    ImageBackend, ImageUpdate, ImageView, ImportRequest, ListFilter, ListPlan, OnProgress,
};
use crate::ops::pagination::PaginationOptions;
#[cfg(feature = "upload")]
use crate::ops::upload::{DirectUpload, UploadPhase};
use crate::ops::wait::WaitOptions;
use crate::values::cloud::Cloud;
use crate::values::error::Unsupported;
use crate::{Error, Execute};

/// How long `update` and `delete` wait for IONOS to apply them: polls from
/// 0.5 s growing to 5 s, for at most 10 minutes.
pub(crate) const CHANGE_WAIT: WaitOptions = WaitOptions::new(
    Duration::from_millis(500),
    Duration::from_secs(5),
    Duration::from_secs(600),
);

impl ImageBackend for Client {
    const CLOUD: Cloud = Cloud::Ionos;
    type Item = Image;

    fn view(image: &Image) -> ImageView {
        let properties = image.properties.clone().unwrap_or_default();
        let metadata = image.metadata.clone().unwrap_or_default();
        ImageView {
            id: image.id.clone(),
            name: properties.name.unwrap_or_default(),
            description: properties.description.filter(|d| !d.is_empty()),
            status: status(metadata.state.as_deref()),
            custom: own_image(
                properties.public,
                properties.image_aliases.as_deref(),
                metadata.created_by_user_id.as_deref(),
            ),
            os: properties.licence_type,
            size_gb: properties.size,
            created_at: metadata.created_date,
            regions: properties.location.into_iter().collect(),
        }
    }

    /// One request (`GET /images?depth=1`): IONOS does not page images, so
    /// only the options' item limit applies; the filter is applied here.
    fn list_items(
        &self,
        filter: &ListFilter,
        options: PaginationOptions,
    ) -> (ListPlan, BoxStream<'static, Result<Image, Error>>) {
        let client = self.clone();
        let all = async move { client.list_images().await }
            .map_ok(|found| stream::iter(found.into_inner().into_iter().map(Ok)))
            .try_flatten_stream()
            .boxed();
        (ListPlan::unpaged(options, filter), all)
    }

    async fn get_item(&self, id: &str) -> Result<Image, Error> {
        Ok(self
            .images_find_by_id()
            .image_id(id)
            .execute()
            .await?
            .into_inner())
    }

    async fn import_item(&self, request: ImportRequest) -> Result<Image, Error> {
        let _ = request;
        Err(Unsupported::new(
            Cloud::Ionos,
            "import_from_url",
            "IONOS imports no URL: upload the local file instead (`upload`, which sends it over FTPS \
             to the FTP server of its location and waits until IONOS registers it)",
        )
        .into())
    }

    /// Waits until IONOS has applied the change (polls from 0.5 s up to 5 s
    /// apart, for at most 10 minutes), reporting each pending request status.
    async fn update_item<'a>(
        &'a self,
        id: &'a str,
        changes: ImageUpdate,
        progress: OnProgress<'a>,
    ) -> Result<Image, Error> {
        let properties = types::ImageProperties {
            name: changes.name().map(str::to_owned),
            description: changes.description().map(str::to_owned),
            ..Default::default()
        };
        self.update_image_reporting(id, properties, CHANGE_WAIT, progress)
            .await
    }

    /// Waits until IONOS has deleted the image (polls from 0.5 s up to 5 s
    /// apart, for at most 10 minutes), reporting each pending request status.
    async fn delete_item<'a>(&'a self, id: &'a str, progress: OnProgress<'a>) -> Result<(), Error> {
        self.delete_image_reporting(id, CHANGE_WAIT, progress).await?;
        Ok(())
    }

    /// Over FTPS to the location's server (the request's region), then
    /// waited for until IONOS registers it ([`Client::upload_image`]).
    #[cfg(feature = "upload")]
    async fn upload_direct<'a>(
        &'a self,
        request: DirectUpload,
        progress: &'a mut (dyn FnMut(UploadPhase) + Send),
    ) -> Result<Image, Error> {
        super::upload::direct(self, request, progress).await
    }

    async fn wait_item<'a>(
        &'a self,
        id: &'a str,
        options: WaitOptions,
        progress: OnProgress<'a>,
    ) -> Result<Image, Error> {
        self.wait_for_image(id, options, progress).await
    }
}

/// What IONOS writes as the creator of its public images.
const UNKNOWN_CREATOR: &str = "[UNKNOWN]";

/// Whether an image is the account's own rather than one of IONOS's public
/// images. `public` decides when IONOS sends it; without it, aliases
/// (`ubuntu:latest`, which only public images have) mark a public image,
/// and a creator that is a user (IONOS writes `[UNKNOWN]` for its own
/// images) marks the account's. Nothing known: not the account's.
fn own_image(public: Option<bool>, aliases: Option<&[String]>, creator: Option<&str>) -> bool {
    if let Some(public) = public {
        return !public;
    }
    if aliases.is_some_and(|a| !a.is_empty()) {
        return false;
    }
    creator.is_some_and(|c| !c.trim().is_empty() && c != UNKNOWN_CREATOR)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_image_keeps_its_location_and_privacy() {
        let image: Image = serde_json::from_value(serde_json::json!({
            "id": "7df81087", "type": "image",
            "metadata": {"state": "AVAILABLE", "createdDate": "2025-01-02T03:04:05Z"},
            "properties": {"name": "debian", "location": "de/fra", "public": false, "size": 3.5, "licenceType": "LINUX"},
        }))
        .unwrap();
        let image = Client::view(&image);
        assert_eq!((image.id.as_str(), image.name.as_str()), ("7df81087", "debian"));
        assert_eq!(image.regions, ["de/fra"]);
        assert!(image.custom && image.status.is_ready());
        assert_eq!(image.size_gb, Some(3.5));
        assert!(image.created_at.is_some());
    }

    #[test]
    fn the_accounts_own_image_is_told_by_public_else_by_aliases_and_creator() {
        // A depth=1 answer without `public` (a proxy, an older API version).
        let own: Image = serde_json::from_value(serde_json::json!({
            "id": "7df81087", "type": "image",
            "metadata": {"state": "AVAILABLE", "createdBy": "user@example.com",
                         "createdByUserId": "63cef532-26fe-4a64-a4e0-de7c8a506c90"},
            "properties": {"name": "debian", "location": "de/fra", "imageAliases": null},
        }))
        .unwrap();
        assert!(Client::view(&own).custom);
        let user = Some("63cef532-26fe-4a64-a4e0-de7c8a506c90");
        let aliases = ["ubuntu:latest".to_owned()];
        for (public, aliases, creator, expected) in [
            (Some(false), None, None, true),
            (Some(true), None, user, false),
            (Some(false), Some(&aliases[..]), None, true),
            (None, Some(&aliases[..]), user, false),
            (None, Some(&[][..]), user, true),
            (None, None, user, true),
            (None, None, Some(UNKNOWN_CREATOR), false),
            (None, None, Some(""), false),
            (None, None, None, false),
        ] {
            assert_eq!(
                own_image(public, aliases, creator),
                expected,
                "{public:?} {aliases:?} {creator:?}"
            );
        }
    }
}
