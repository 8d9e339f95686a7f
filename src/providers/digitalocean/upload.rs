//! DigitalOcean's part of an upload: Spaces as the default staging store,
//! and the transfer of an uploaded image to further regions.

use super::{Client, types};
use crate::Execute;
use crate::ops::staging::Staging;
use crate::ops::wait::WaitOptions;
use crate::values::error::Error;

/// The access key id of a Spaces key (the name DigitalOcean's Terraform
/// provider reads).
pub const SPACES_ACCESS_KEY_ID: &str = "SPACES_ACCESS_KEY_ID";
/// The secret of a Spaces key.
pub const SPACES_SECRET_ACCESS_KEY: &str = "SPACES_SECRET_ACCESS_KEY";

/// The store an upload into `region` stages in: `given` with what is unset
/// from Spaces in that region (`https://<region>.digitaloceanspaces.com`)
/// and the Spaces key from [`SPACES_ACCESS_KEY_ID`] and
/// [`SPACES_SECRET_ACCESS_KEY`] (read through `lookup`, both or neither).
/// No region: an error naming it, as an import needs one.
pub(crate) fn staging(
    given: Staging,
    region: Option<&str>,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Staging, Error> {
    let region = region.map(str::trim).filter(|r| !r.is_empty()).ok_or_else(|| {
        Error::InvalidRequest("upload: digitalocean needs `region` (the region to import into)".into())
    })?;
    let mut defaults = Staging::default().with_endpoint(format!("https://{region}.digitaloceanspaces.com"));
    let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
    if let (Some(id), Some(secret)) = (get(SPACES_ACCESS_KEY_ID), get(SPACES_SECRET_ACCESS_KEY)) {
        defaults = defaults.with_credentials(id, secret);
    }
    Ok(given.or_defaults(defaults))
}

/// Transfers the image `id` to `region` and waits until the transfer is done.
pub(crate) async fn copy_to_region(
    client: &Client,
    id: &str,
    region: &str,
    options: WaitOptions,
) -> Result<(), Error> {
    let body = types::ImageActionTransfer {
        type_: "transfer".into(),
        region: region.to_owned(),
    };
    let action = client
        .image_actions_post()
        .image_id(id)
        .body(types::ImageActionsPostBody::Transfer(body))
        .execute()
        .await?
        .into_inner()
        .action;
    client.wait_for_action(id, action.id, options).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            SPACES_ACCESS_KEY_ID => Some("DO00SPACES".into()),
            SPACES_SECRET_ACCESS_KEY => Some("spaces-secret".into()),
            _ => None,
        }
    }

    #[test]
    fn spaces_in_the_import_region_is_the_default_store() {
        let s = staging(Staging::parse("s3://images").unwrap(), Some("fra1"), env).unwrap();
        assert_eq!(s.endpoint(), Some("https://fra1.digitaloceanspaces.com"));
        assert_eq!(s.bucket(), Some("images"));
        assert!(s.has_credentials());
        assert!(!format!("{s:?}").contains("spaces-secret"));
    }

    #[test]
    fn what_the_caller_gives_wins_over_spaces() {
        let given = Staging::parse("s3://images")
            .unwrap()
            .with_endpoint("http://127.0.0.1:9000")
            .with_credentials("own", "own-secret");
        let s = staging(given, Some("fra1"), env).unwrap();
        assert_eq!(s.endpoint(), Some("http://127.0.0.1:9000"));
        let only_id = |name: &str| (name == SPACES_ACCESS_KEY_ID).then(|| "x".to_owned());
        let s = staging(Staging::default(), Some("ams3"), only_id).unwrap();
        assert!(!s.has_credentials(), "half a key is not used");
    }

    #[test]
    fn no_region_is_named_before_anything_is_sent() {
        let e = staging(Staging::default(), None, env).unwrap_err();
        assert!(e.to_string().contains("digitalocean needs `region`"), "{e}");
        assert!(staging(Staging::default(), Some(" "), env).is_err());
    }
}
