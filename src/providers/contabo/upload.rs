//! Contabo's part of an upload: Object Storage as the staging store
//! (path-style), and the free custom-image space checked before a byte is
//! sent.

use super::Client;
use crate::Execute;
use crate::ops::staging::Staging;
use crate::values::error::Error;

/// The caller's store, path-style (how Contabo Object Storage is addressed).
pub(crate) async fn staging(_client: &Client, given: Staging) -> Result<Staging, Error> {
    Ok(given.or_defaults(Staging::default().with_path_style(true)))
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
}
