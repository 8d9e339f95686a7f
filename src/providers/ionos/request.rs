//! A change IONOS runs as a request: the request behind a `202 Accepted`,
//! and its acceptor for a wait.

use std::fmt;

use reqwest::header::LOCATION;

use super::RequestStatus;
use crate::engine::execute::Response;
use crate::ops::wait::{Progress, State};
use crate::values::error::{Error, WaitError};

/// A change IONOS accepted and runs as a request: the request's id, taken
/// from the `Location` of the `202 Accepted` answer.
///
/// Only the id is kept; waiting polls `GET /requests/{id}/status` on the
/// client's own base URL, never the host a `Location` names.
///
/// ```
/// use cloud_images::ionos::PendingRequest;
///
/// let location = "https://api.ionos.com/cloudapi/v6/requests/1a2b3c4d-0000-4000-8000-00000000abcd/status";
/// let request = PendingRequest::from_location(location).unwrap();
/// assert_eq!(request.id(), "1a2b3c4d-0000-4000-8000-00000000abcd");
/// assert!(PendingRequest::from_location("https://api.ionos.com/cloudapi/v6/requests/../status").is_err());
/// assert!(PendingRequest::from_location("https://example.com/other/path").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PendingRequest {
    id: String,
}

impl PendingRequest {
    /// The request named by a `Location` (absolute or a path):
    /// `.../requests/{id}/status`, where the id is letters, digits and `-`.
    /// Anything else is [`Error::Wait`] naming the `Location`.
    pub fn from_location(location: &str) -> Result<Self, Error> {
        request_id_from_location(location)
            .map(|id| Self { id: id.to_owned() })
            .ok_or_else(|| {
                WaitError::new(
                    "cannot wait for the request",
                    format!(
                        "Location `{}` does not point at .../requests/{{id}}/status with a plain id",
                        location.escape_debug()
                    ),
                )
                .into()
            })
    }

    /// The request behind an accepted change: the answer's `Location`
    /// header. An answer without one is [`Error::Wait`].
    ///
    /// ```no_run
    /// # async fn demo(client: &cloud_images::ionos::Client) -> Result<(), cloud_images::Error> {
    /// use cloud_images::Execute;
    /// use cloud_images::ionos::PendingRequest;
    ///
    /// let accepted = client.images_delete().image_id("7df81087-5835-41c6-a10b-3e098593bba4").execute().await?;
    /// let request = PendingRequest::from_response(&accepted)?;
    /// println!("deleting as request {}", request.id());
    /// # Ok(()) }
    /// ```
    pub fn from_response<T>(response: &Response<T>) -> Result<Self, Error> {
        let request_id = response.request_id().map(str::to_owned);
        let cannot = |message: String| -> Error {
            WaitError::new("cannot wait for the request", message)
                .with_request_id(request_id.clone())
                .into()
        };
        let location = response.headers().get(LOCATION).ok_or_else(|| {
            cannot(format!(
                "the HTTP {} answer has no Location header",
                response.status()
            ))
        })?;
        let location = location
            .to_str()
            .map_err(|_| cannot("the Location header is not text".into()))?;
        Self::from_location(location).map_err(|e| match e {
            Error::Wait(w) => cannot(w.message),
            other => other,
        })
    }

    /// A request by its id (letters, digits and `-`), e.g. one a user quotes.
    ///
    /// ```
    /// use cloud_images::ionos::PendingRequest;
    ///
    /// assert!(PendingRequest::from_id("1a2b3c4d-0000-4000-8000-00000000abcd").is_ok());
    /// assert!(PendingRequest::from_id("a/b").is_err());
    /// ```
    pub fn from_id(id: &str) -> Result<Self, Error> {
        if is_plain_id(id) {
            Ok(Self { id: id.to_owned() })
        } else {
            Err(Error::InvalidRequest(format!(
                "`{}` is not a request id (letters, digits and `-`)",
                id.escape_debug()
            )))
        }
    }

    /// The request id.
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl fmt::Display for PendingRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "request {}", self.id)
    }
}

/// The id in `.../requests/{id}/status` (query and fragment ignored), if it
/// is a plain id.
fn request_id_from_location(location: &str) -> Option<&str> {
    let path = location.split(['?', '#']).next()?;
    let mut segments = path.trim_end_matches('/').rsplit('/');
    let (status, id, requests) = (segments.next()?, segments.next()?, segments.next()?);
    (status == "status" && requests == "requests" && is_plain_id(id)).then_some(id)
}

/// Letters, digits and `-`, 1 to 64 of them: what IONOS's ids (UUIDs) are
/// made of, and nothing that could change a path.
fn is_plain_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// A request status: `DONE` is done, `FAILED` final (with the API's message);
/// `QUEUED`, `RUNNING` and anything else are on their way.
pub(super) fn accept_request(status: RequestStatus) -> State<RequestStatus> {
    let metadata = status.metadata.clone().unwrap_or_default();
    match metadata.status.as_deref() {
        Some("DONE") => State::Ready(status),
        Some("FAILED") => State::failed(
            metadata
                .message
                .filter(|m| !m.trim().is_empty())
                .unwrap_or_else(|| "the request FAILED without a message".into()),
            metadata.status,
        ),
        _ => State::Pending(Progress::new(metadata.status, None, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_a_plain_id_is_taken_from_a_location() {
        let ok = [
            (
                "https://api.ionos.com/cloudapi/v6/requests/0c1d2e3f-aaaa-4bbb-8ccc-1234567890ab/status",
                "0c1d2e3f-aaaa-4bbb-8ccc-1234567890ab",
            ),
            ("/cloudapi/v6/requests/abc/status", "abc"),
            ("requests/abc/status/", "abc"),
            (
                "https://api.ionos.com/cloudapi/v6/requests/abc/status?depth=1#x",
                "abc",
            ),
        ];
        for (location, id) in ok {
            assert_eq!(request_id_from_location(location), Some(id), "{location}");
        }
        let refused = [
            "",
            "https://api.ionos.com/cloudapi/v6/requests/abc",
            "https://api.ionos.com/cloudapi/v6/requests//status",
            "https://api.ionos.com/cloudapi/v6/requests/../status",
            "https://api.ionos.com/cloudapi/v6/requests/a%2F..%2Fb/status",
            "https://api.ionos.com/cloudapi/v6/requests/a b/status",
            "https://api.ionos.com/cloudapi/v6/images/abc/status",
            "https://api.ionos.com/cloudapi/v6/requests/abc/status/extra",
            "status",
        ];
        for location in refused {
            assert_eq!(request_id_from_location(location), None, "{location}");
        }
        assert_eq!(
            request_id_from_location(&format!("/requests/{}/status", "a".repeat(65))),
            None,
            "too long"
        );
    }

    fn status(value: &str, message: Option<&str>) -> RequestStatus {
        serde_json::from_value(json!({"id": "r", "metadata": {"status": value, "message": message}})).unwrap()
    }

    #[test]
    fn request_states() {
        assert!(matches!(accept_request(status("DONE", None)), State::Ready(_)));
        assert_eq!(
            accept_request(status("QUEUED", None)),
            State::Pending(Progress::new(Some("QUEUED".into()), None, None))
        );
        assert!(matches!(
            accept_request(status("RUNNING", Some("x"))),
            State::Pending(_)
        ));
        assert!(matches!(
            accept_request(status("PAUSED", None)),
            State::Pending(_)
        ));
        assert_eq!(
            accept_request(status("FAILED", Some("Image 'x' is in use"))),
            State::failed("Image 'x' is in use", Some("FAILED".into()))
        );
        assert_eq!(
            accept_request(status("FAILED", Some(" "))),
            State::failed("the request FAILED without a message", Some("FAILED".into()))
        );
        let bare: RequestStatus = serde_json::from_value(json!({"id": "r"})).unwrap();
        assert!(matches!(accept_request(bare), State::Pending(_)));
    }
}
