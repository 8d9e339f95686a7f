//! Contabo's part of an upload: Object Storage as the staging store
//! (path-style), found through the API where the caller names no endpoint
//! or keys, as Contabo's `cntb` finds it; and the free custom-image space
//! checked before a byte is sent.

use base64::Engine;
use secrecy::{ExposeSecret, SecretString};

use super::{Client, types};
use crate::Execute;
use crate::ops::staging::Staging;
use crate::values::error::Error;

/// The caller's store, path-style; an endpoint or keys it lacks come from
/// the account's first ready object storage and the API user's S3 keys for
/// it. Contabo's keys are looked up only for that storage: a caller's
/// endpoint that is another store, without keys, is an error naming both.
pub(crate) async fn staging(client: &Client, given: Staging) -> Result<Staging, Error> {
    let given = given.or_defaults(Staging::default().with_path_style(true));
    if given.bucket().is_none() {
        return Err(Error::InvalidRequest(
            "upload: contabo needs a bucket of your object storage to stage in (`s3://BUCKET`: `Staging::parse`)"
                .into(),
        ));
    }
    if given.endpoint().is_some() && given.has_credentials() {
        return Ok(given);
    }
    let storages = client
        .retrieve_object_storage_list()
        .execute()
        .await?
        .into_inner()
        .data;
    let storage = pick_storage(&storages)?;
    let id = &storage.object_storage_id;
    let endpoint = endpoint_of(id, storage.s3_url.as_deref().unwrap_or_default())?;
    if let Some(own) = given.endpoint()
        && !same_endpoint(own, &endpoint)
    {
        return Err(Error::InvalidRequest(format!(
            "upload: the staging endpoint `{}` is not contabo object storage {} ({}), \
             so its keys are not used there; give that store's keys (`Staging::with_credentials`)",
            crate::values::text::for_display(&crate::values::url::redact(own)),
            crate::values::text::for_display(id),
            crate::values::text::for_display(&endpoint),
        )));
    }
    let mut found = Staging::default().with_endpoint(endpoint);
    if !given.has_credentials() {
        let (id, secret) = credentials(client, id).await?;
        found = found.with_credentials(id, secret.expose_secret());
    }
    Ok(given.or_defaults(found))
}

/// The API user's S3 keys for the object storage `storage`.
async fn credentials(client: &Client, storage: &str) -> Result<(String, SecretString), Error> {
    let token = client.transport().current_token().await?.ok_or_else(|| {
        Error::Config("upload: finding contabo's object storage keys needs the API's bearer token".into())
    })?;
    let user = user_id_of(&token)?;
    let found = client
        .list_object_storage_credentials()
        .user_id(user)
        .object_storage_id(storage)
        .execute()
        .await?
        .into_inner()
        .data;
    let first = found.into_iter().next().ok_or_else(|| {
        Error::InvalidRequest(format!(
            "upload: contabo has no S3 keys for object storage {storage}; give them (`Staging::with_credentials`)"
        ))
    })?;
    Ok((first.access_key, first.secret_key.into()))
}

/// The first object storage that is `READY` (or says nothing of its status).
fn pick_storage(storages: &[types::ObjectStorageResponse]) -> Result<&types::ObjectStorageResponse, Error> {
    storages
        .iter()
        .find(|s| {
            s.status
                .as_deref()
                .is_none_or(|status| status.eq_ignore_ascii_case("READY"))
        })
        .ok_or_else(|| {
            Error::InvalidRequest(format!(
                "upload: the contabo account has no ready object storage to stage in ({} found); \
                 order one, or name another S3-compatible store (`Staging::with_endpoint`)",
                storages.len()
            ))
        })
}

/// Whether two endpoints are the same store (scheme, host and port; case
/// and a trailing slash aside).
fn same_endpoint(a: &str, b: &str) -> bool {
    let origin = |s: &str| reqwest::Url::parse(s.trim()).ok().map(|u| u.origin());
    match (origin(a), origin(b)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// The endpoint of object storage `id`'s `s3Url` (`https://eu2.contabostorage.com`,
/// or a bare host, which is https).
fn endpoint_of(id: &str, s3_url: &str) -> Result<String, Error> {
    let s3_url = s3_url.trim().trim_end_matches('/');
    if s3_url.is_empty() {
        return Err(Error::InvalidRequest(format!(
            "upload: contabo object storage {} has no s3Url; name the endpoint (`Staging::with_endpoint`)",
            crate::values::text::for_display(id)
        )));
    }
    Ok(if s3_url.contains("://") {
        s3_url.to_owned()
    } else {
        format!("https://{s3_url}")
    })
}

/// The user id (`sub`) in an access token, a JWT: what Contabo's
/// credentials path takes. The signature is not checked: the token is the
/// client's own, from Contabo's token endpoint.
fn user_id_of(token: &SecretString) -> Result<String, Error> {
    let bad = |why: &str| {
        Error::Config(format!(
            "upload: the contabo access token {why}, so the user's object storage keys cannot be found; \
             give the keys (`Staging::with_credentials`)"
        ))
    };
    let payload = token
        .expose_secret()
        .split('.')
        .nth(1)
        .ok_or_else(|| bad("is not a JWT"))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| bad("is not a JWT"))?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| bad("is not a JWT"))?;
    claims["sub"]
        .as_str()
        .filter(|sub| !sub.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| bad("names no user (`sub`)"))
}

/// Asks Contabo for the account's custom-image space and checks that an
/// image of `bytes` bytes fits.
pub(crate) async fn check_room(client: &Client, bytes: u64) -> Result<(), Error> {
    let stats = client
        .retrieve_custom_images_stats()
        .execute()
        .await?
        .into_inner();
    let free_mb = stats.data.first().and_then(|s| s.free_size_mb);
    room_for(free_mb, bytes)
}

/// Whether `bytes` fit into `free_mb` MB (Contabo's MB: MiB) of custom-image
/// space; no figure from Contabo: assumed to fit (Contabo then refuses the
/// import itself).
fn room_for(free_mb: Option<f64>, bytes: u64) -> Result<(), Error> {
    const MIB: f64 = 1024.0 * 1024.0;
    let Some(free_mb) = free_mb.filter(|f| f.is_finite()) else {
        return Ok(());
    };
    let needed_mb = (bytes as f64 / MIB).ceil();
    if needed_mb > free_mb {
        return Err(Error::InvalidRequest(format!(
            "upload: the file needs {needed_mb} MB of custom-image space and contabo has {} MB free; \
             delete custom images or add space",
            free_mb.max(0.0)
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_decoded_credential_does_not_show_its_secret_key() {
        let body = r#"{"data": [{"accessKey": "AKIAEXAMPLE", "secretKey": "wJalrXK7MDENGbPxRfiCYEXAMPLEKEY",
            "objectStorageId": "s1", "region": "EU"}], "_pagination": {}}"#;
        let found: types::ListCredentialResponse = serde_json::from_str(body).unwrap();
        let credential = &found.data[0];
        assert_eq!(
            credential.secret_key.expose_secret(),
            "wJalrXK7MDENGbPxRfiCYEXAMPLEKEY"
        );
        for shown in [
            format!("{credential:?}"),
            format!("{found:?}"),
            format!("{found:#?}"),
        ] {
            assert!(!shown.contains("wJalrXK7"), "{shown}");
            assert!(
                shown.contains("AKIAEXAMPLE"),
                "the access key id is no secret: {shown}"
            );
        }
        // A credential built through the generated builder hides it too.
        let built = types::builder::CredentialData::default()
            .access_key("AKIAEXAMPLE")
            .secret_key("wJalrXK7MDENGbPxRfiCYEXAMPLEKEY");
        assert!(!format!("{built:?}").contains("wJalrXK7"), "{built:?}");
    }

    #[test]
    fn an_image_larger_than_the_free_space_is_refused() {
        const MIB: u64 = 1024 * 1024;
        assert!(room_for(Some(100.0), 100 * MIB).is_ok());
        assert!(room_for(Some(100.0), 100 * MIB - 1).is_ok());
        let e = room_for(Some(100.0), 100 * MIB + 1).unwrap_err();
        assert!(e.is_invalid_request());
        assert!(
            e.to_string()
                .contains("needs 101 MB of custom-image space and contabo has 100 MB free"),
            "{e}"
        );
        assert!(room_for(Some(-3.0), 1).is_err());
        assert!(room_for(None, u64::MAX).is_ok(), "no figure: Contabo decides");
        assert!(room_for(Some(f64::NAN), 1).is_ok());
    }

    fn jwt(claims: serde_json::Value) -> SecretString {
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let (header, claims) = (
            engine.encode(br#"{"alg":"RS256"}"#),
            engine.encode(claims.to_string()),
        );
        SecretString::from(format!("{header}.{claims}.signature"))
    }

    #[test]
    fn the_user_is_the_tokens_subject() {
        let token = jwt(serde_json::json!({"sub": "6cdf5968-f9fe-4192-97c2-f349e813c5e8", "exp": 1}));
        assert_eq!(
            user_id_of(&token).unwrap(),
            "6cdf5968-f9fe-4192-97c2-f349e813c5e8"
        );
        for bad in [
            SecretString::from("opaque-token".to_owned()),
            SecretString::from("a.!!!.c".to_owned()),
            jwt(serde_json::json!({"exp": 1})),
            jwt(serde_json::json!({"sub": ""})),
        ] {
            let e = user_id_of(&bad).unwrap_err();
            assert!(e.to_string().contains("Staging::with_credentials"), "{e}");
            assert!(
                !e.to_string().contains("opaque-token"),
                "the token is not shown: {e}"
            );
        }
    }

    fn storage(id: &str, status: Option<&str>) -> types::ObjectStorageResponse {
        serde_json::from_value(serde_json::json!({
            "objectStorageId": id, "status": status, "s3Url": "https://eu2.contabostorage.com",
        }))
        .unwrap()
    }

    #[test]
    fn the_first_ready_object_storage_is_used() {
        let storages = [
            storage("a", Some("PROVISIONING")),
            storage("b", Some("ready")),
            storage("c", None),
        ];
        assert_eq!(pick_storage(&storages).unwrap().object_storage_id, "b");
        assert_eq!(pick_storage(&storages[2..]).unwrap().object_storage_id, "c");
        let e = pick_storage(&storages[..1]).unwrap_err();
        assert!(
            e.to_string()
                .contains("no ready object storage to stage in (1 found)"),
            "{e}"
        );
    }

    #[test]
    fn an_s3_url_without_a_scheme_is_https() {
        assert_eq!(
            endpoint_of("s1", "https://eu2.contabostorage.com/").unwrap(),
            "https://eu2.contabostorage.com"
        );
        assert_eq!(
            endpoint_of("s1", "eu1-s3.contabo.com").unwrap(),
            "https://eu1-s3.contabo.com"
        );
        let e = endpoint_of("s1", " ").unwrap_err();
        assert!(e.to_string().contains("object storage s1"), "{e}");
    }

    #[test]
    fn contabos_keys_go_only_to_its_own_storage() {
        let own = "https://eu2.contabostorage.com";
        assert!(same_endpoint("https://EU2.contabostorage.com/", own));
        assert!(same_endpoint("https://eu2.contabostorage.com:443", own));
        assert!(!same_endpoint("https://s3.example.com", own));
        assert!(!same_endpoint("http://eu2.contabostorage.com", own));
        assert!(!same_endpoint("not a url", own));
    }
}
