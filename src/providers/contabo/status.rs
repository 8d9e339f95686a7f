//! Contabo's status words, read once for lists and waits alike.

use super::ImageDetails;
use crate::ops::status::{ImageStatus, image_state};
use crate::ops::wait::{Progress, State};

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

/// The acceptor of a wait for an image: `downloaded` (custom) and
/// `available` (standard) are usable; `error` and `failed` are final;
/// anything else (`downloading`, `pending`, ...) is still on its way.
pub(super) fn accept_image(image: ImageDetails) -> State<ImageDetails> {
    let status = status_of(
        image.status.as_deref(),
        image.error_message.as_deref(),
        image.uploaded_size_mb,
        image.size_mb,
    );
    let word = image.status.clone();
    image_state(status, &[], image, word)
}
