//! IONOS's image states, read once for lists and waits alike.

use super::Image;
use crate::ops::status::{ImageStatus, image_state};
use crate::ops::wait::{Progress, State};

/// The states that end a wait: the image is gone.
const FINAL_STATES: &[&str] = &["TERMINATED"];

/// IONOS's states: `AVAILABLE` is ready, `BUSY`, `DEPLOYING` and `UPDATING`
/// pending, `FAILED...` failed, `DESTROYING` deleting; `TERMINATED` ends a
/// wait. The one reading of an IONOS state, for lists and waits alike.
pub(super) fn status(state: Option<&str>) -> ImageStatus {
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

/// The acceptor of a wait for an image: `metadata.state` `AVAILABLE` (or
/// `ACTIVE`) is usable, a `FAILED...` state or `DESTROYING`/`TERMINATED`
/// final; `BUSY`, `DEPLOYING`, `UPDATING` and anything else are on their way.
pub(super) fn accept_image(image: Image) -> State<Image> {
    let state = image.metadata.as_ref().and_then(|m| m.state.clone());
    image_state(status(state.as_deref()), FINAL_STATES, image, state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn image(state: Option<&str>) -> Image {
        serde_json::from_value(json!({"id": "7df81087", "metadata": {"state": state}})).unwrap()
    }

    #[test]
    fn an_image_is_waited_for_until_available_and_the_list_agrees() {
        for (state, wait) in [
            (Some("AVAILABLE"), "ready"),
            (Some("BUSY"), "pending"),
            (Some("UPDATING"), "pending"),
            (Some("INACTIVE"), "pending"),
            (None, "pending"),
            (Some("FAILED_UPDATING"), "failed"),
            (Some("DESTROYING"), "failed"),
            (Some("TERMINATED"), "failed"),
        ] {
            let got = match accept_image(image(state)) {
                State::Ready(_) => "ready",
                State::Pending(_) => "pending",
                State::Failed { .. } => "failed",
            };
            assert_eq!(got, wait, "{state:?}");
            // What a list shows agrees: ready is ready, failed is failed.
            let shown = status(state);
            assert_eq!(shown.is_ready(), wait == "ready", "{state:?}");
            if shown.is_failed() {
                assert_eq!(wait, "failed", "{state:?}");
            }
        }
        assert_eq!(
            accept_image(image(Some("FAILED_UPDATING"))),
            State::failed("the image is FAILED_UPDATING", Some("FAILED_UPDATING".into()))
        );
    }

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
}
