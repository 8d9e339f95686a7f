//! Where an image stands, in the same words for every provider, and the
//! acceptor a wait for an image uses. Each provider reads its own status
//! words into an [`ImageStatus`] (in its folder); lists and waits share that
//! one reading.

use std::fmt;

use crate::ops::wait::{Progress, State};

/// Where an image stands, the same words for every provider.
///
/// Contabo's `downloaded` and `available`, DigitalOcean's `available` and
/// IONOS's `AVAILABLE` are all [`Ready`](ImageStatus::Ready).
///
/// ```
/// use cloud_images::images::ImageStatus;
///
/// assert_eq!(ImageStatus::Ready.as_str(), "ready");
/// assert_eq!(ImageStatus::Other("retired".into()).to_string(), "retired");
/// assert!(ImageStatus::Failed { message: "HTTP 404 from the URL".into() }.is_failed());
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ImageStatus {
    /// On its way (importing, downloading); how far, where the provider
    /// reports it (Contabo: MB downloaded of the total).
    Pending(Progress),
    /// Usable.
    Ready,
    /// Will not become usable; the provider's message.
    Failed {
        /// The provider's message, as it sent it.
        message: String,
    },
    /// Being deleted.
    Deleting,
    /// A status with no neutral meaning, as the provider wrote it.
    Other(String),
    /// The provider sent no status.
    Unknown,
}

impl ImageStatus {
    /// `pending`, `ready`, `failed`, `deleting`, `unknown` (none sent), or
    /// the provider's own word.
    pub fn as_str(&self) -> &str {
        match self {
            ImageStatus::Pending(_) => "pending",
            ImageStatus::Ready => "ready",
            ImageStatus::Failed { .. } => "failed",
            ImageStatus::Deleting => "deleting",
            ImageStatus::Other(other) => other,
            ImageStatus::Unknown => "unknown",
        }
    }
    /// Whether the image is usable.
    pub fn is_ready(&self) -> bool {
        matches!(self, ImageStatus::Ready)
    }
    /// Whether the image is on its way.
    pub fn is_pending(&self) -> bool {
        matches!(self, ImageStatus::Pending(_))
    }
    /// Whether the image will not become usable.
    pub fn is_failed(&self) -> bool {
        matches!(self, ImageStatus::Failed { .. })
    }
}

impl fmt::Display for ImageStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an image stands for a wait: the neutral status, with the
/// provider's own words that are final (`final_words`, e.g. DigitalOcean's
/// `deleted`) ending the wait; other words and a missing status are polled
/// again. `word` is the provider's status word, kept in the failure.
pub(crate) fn image_state<T>(
    status: ImageStatus,
    final_words: &[&str],
    value: T,
    word: Option<String>,
) -> State<T> {
    match status {
        ImageStatus::Ready => State::Ready(value),
        ImageStatus::Pending(progress) => State::Pending(progress),
        ImageStatus::Failed { message } => State::failed(message, word),
        ImageStatus::Deleting => State::failed("the image is being deleted", word),
        ImageStatus::Other(other) if final_words.contains(&other.as_str()) => {
            State::failed(format!("the image is {other}"), word)
        }
        ImageStatus::Other(_) | ImageStatus::Unknown => State::Pending(Progress::new(word, None, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_ends_on_final_words_and_polls_unknown_ones() {
        let pending = |s| matches!(s, State::Pending(_));
        assert!(matches!(
            image_state(ImageStatus::Ready, &[], 1, None),
            State::Ready(1)
        ));
        assert!(pending(image_state(ImageStatus::Unknown, &["gone"], 1, None)));
        assert!(pending(image_state(
            ImageStatus::Other("INACTIVE".into()),
            &["gone"],
            1,
            None
        )));
        assert_eq!(
            image_state(
                ImageStatus::Other("gone".into()),
                &["gone"],
                1,
                Some("gone".into())
            ),
            State::failed("the image is gone", Some("gone".into()))
        );
        assert_eq!(
            image_state(ImageStatus::Deleting, &[], 1, Some("DESTROYING".into())),
            State::failed("the image is being deleted", Some("DESTROYING".into()))
        );
    }
}
