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
/// [`SPACES_SECRET_ACCESS_KEY`] (read through `lookup`, both or neither),
/// only for a Spaces endpoint: another store the caller names gets its own
/// keys or none. No region: an error naming it, as an import needs one.
pub(crate) fn staging(
    given: Staging,
    region: Option<&str>,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Staging, Error> {
    let region = region.map(str::trim).filter(|r| !r.is_empty()).ok_or_else(|| {
        Error::InvalidRequest("upload: digitalocean needs `region` (the region to import into)".into())
    })?;
    if !is_region_slug(region) {
        return Err(Error::InvalidRequest(format!(
            "upload: `{}` is not a digitalocean region (lower-case letters, digits and `-`, e.g. fra1)",
            crate::values::text::for_display(region)
        )));
    }
    let mut defaults = Staging::default().with_endpoint(format!("https://{region}.digitaloceanspaces.com"));
    let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
    let spaces = given.endpoint().is_none_or(is_spaces);
    if spaces && let (Some(id), Some(secret)) = (get(SPACES_ACCESS_KEY_ID), get(SPACES_SECRET_ACCESS_KEY)) {
        defaults = defaults.with_credentials(id, secret);
    }
    let staging = given.or_defaults(defaults);
    if !staging.has_credentials() && staging.endpoint().is_some_and(is_spaces) {
        return Err(Error::InvalidRequest(format!(
            "upload: staging in digitalocean spaces ({}) needs a spaces key: \
             {SPACES_ACCESS_KEY_ID} and {SPACES_SECRET_ACCESS_KEY}, or `Staging::with_credentials`",
            crate::values::text::for_display(&crate::values::url::redact(
                staging.endpoint().unwrap_or_default()
            ))
        )));
    }
    Ok(staging)
}

/// Whether `region` is a region slug (`fra1`, `nyc3`): the only text that
/// goes into the default Spaces host, which gets the Spaces key.
fn is_region_slug(region: &str) -> bool {
    !region.is_empty()
        && region.len() <= 32
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Whether `endpoint` is DigitalOcean Spaces (`https://<region>.digitaloceanspaces.com`).
fn is_spaces(endpoint: &str) -> bool {
    reqwest::Url::parse(endpoint).is_ok_and(|url| {
        url.scheme() == "https"
            && url
                .host_str()
                .is_some_and(|host| host.to_ascii_lowercase().ends_with(".digitaloceanspaces.com"))
    })
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

    #[test]
    fn only_a_region_slug_goes_into_the_spaces_host() {
        for ok in ["fra1", "nyc3", "sgp1"] {
            assert!(is_region_slug(ok), "{ok}");
        }
        for bad in ["", "x.evil.example#", "evil/", "FRA1", "fra1.", "a b", "fra1@x"] {
            assert!(!is_region_slug(bad), "{bad}");
        }
        let lookup = |_: &str| Some("key".to_owned());
        let e = staging(Staging::default(), Some("x.evil.example#"), lookup).unwrap_err();
        assert!(e.to_string().contains("not a digitalocean region"), "{e}");
    }

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
        let e = staging(Staging::default(), Some("ams3"), only_id).unwrap_err();
        assert!(
            e.to_string().contains("needs a spaces key"),
            "half a key is not used: {e}"
        );
    }

    #[test]
    fn the_spaces_key_goes_only_to_spaces() {
        let other = Staging::parse("s3://images")
            .unwrap()
            .with_endpoint("https://s3.example.com");
        let s = staging(other, Some("fra1"), env).unwrap();
        assert!(!s.has_credentials(), "another store does not get the Spaces key");
        let spaces = Staging::parse("s3://images")
            .unwrap()
            .with_endpoint("https://AMS3.digitaloceanspaces.com");
        assert_eq!(
            staging(spaces, Some("fra1"), env).unwrap().access_key_id(),
            Some("DO00SPACES")
        );
    }

    #[test]
    fn aws_keys_without_an_endpoint_do_not_go_to_spaces() {
        let aws = |name: &str| match name {
            "AWS_ACCESS_KEY_ID" => Some("AKIAEXAMPLE".to_owned()),
            "AWS_SECRET_ACCESS_KEY" => Some("aws-secret".to_owned()),
            "AWS_REGION" => Some("eu-west-1".to_owned()),
            _ => env(name),
        };
        let given = Staging::parse("s3://images").unwrap().or_from_env(aws);
        let s = staging(given, Some("fra1"), aws).unwrap();
        assert_eq!(s.endpoint(), Some("https://fra1.digitaloceanspaces.com"));
        assert_eq!(s.region(), None, "not AWS's region");
        assert_eq!(s.access_key_id(), Some("DO00SPACES"), "the Spaces key");
    }

    #[test]
    fn no_region_is_named_before_anything_is_sent() {
        let e = staging(Staging::default(), None, env).unwrap_err();
        assert!(e.to_string().contains("digitalocean needs `region`"), "{e}");
        assert!(staging(Staging::default(), Some(" "), env).is_err());
    }
}
