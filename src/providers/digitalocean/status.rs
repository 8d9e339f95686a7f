//! DigitalOcean's status words, read once for lists and waits alike.

use super::Image;
use crate::ops::status::{ImageStatus, image_state};
use crate::ops::wait::{Progress, State};

/// The statuses that end a wait: the image will not become available.
const FINAL_STATUSES: &[&str] = &["deleted", "retired"];

/// DigitalOcean's statuses: `available` is ready, `NEW` and `pending`
/// pending, an `error_message` failed; `deleted` and `retired` stay as they
/// are (and end a wait). The one reading of a DigitalOcean status, for lists
/// and waits alike.
pub(super) fn status(image: &Image) -> ImageStatus {
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

/// The acceptor of a wait for an image: `available` is usable; an
/// `error_message`, `deleted` or `retired` is final; `NEW` and `pending`
/// (and anything else) are on their way.
pub(super) fn accept_image(image: Image) -> State<Image> {
    let (neutral, word) = (status(&image), image.status.clone());
    image_state(neutral, FINAL_STATUSES, image, word)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(status: &str, error: Option<&str>) -> Image {
        serde_json::from_value(serde_json::json!({"id": 7, "status": status, "error_message": error}))
            .unwrap()
    }

    #[test]
    fn image_states() {
        assert!(matches!(
            accept_image(image("available", Some(""))),
            State::Ready(_)
        ));
        assert!(matches!(accept_image(image("NEW", None)), State::Pending(_)));
        assert!(matches!(
            accept_image(image("pending", Some(" "))),
            State::Pending(_)
        ));
        assert_eq!(
            accept_image(image("pending", Some("the URL answered 404"))),
            State::failed("the URL answered 404", Some("pending".into()))
        );
        assert_eq!(
            accept_image(image("retired", None)),
            State::failed("the image is retired", Some("retired".into()))
        );
    }
}
