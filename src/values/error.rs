//! The one error type of the crate.
//!
//! Every error that comes from a request says which operation failed, how many
//! attempts were made and which `x-request-id` the last attempt sent, so that a
//! user can quote it to the provider's support.

use std::fmt;
use std::time::Duration;

pub use reqwest::StatusCode;

use crate::values::text::{for_display, id_for_display};

/// Everything that can go wrong in this crate.
///
/// `Display` gives one line a user can act on, including the request id; text
/// that came from the server is escaped and cut (see [`crate::text`]), e.g.
/// `retrieve_image: HTTP 404 Not Found: Entry Image not found by imageId 1a2b
/// (request id 0b8a7e9c-6f53-4f0e-9b1e-6d9f3b7c2a10)`.
///
/// ```no_run
/// # async fn demo(client: &cloud_images::contabo::Client) {
/// use cloud_images::{Error, Execute, StatusCode};
///
/// match client.retrieve_image().image_id("1a2b").execute().await {
///     Ok(found) => println!("{:?}", found.data[0].name),
///     Err(e) if e.status() == Some(StatusCode::NOT_FOUND) => println!("no such image"),
///     Err(Error::Timeout { limit, .. }) => println!("the {limit} limit fired"),
///     Err(e) => eprintln!("{e} (quote request id {:?} to support)", e.request_id()),
/// }
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with a status that is not a success.
    #[error("{0}")]
    Api(Box<ApiError>),

    /// The request could not be sent or its response not received. `Display`
    /// shows the root cause (connection refused, DNS, TLS, reset).
    #[error(
        "{}: {kind} error: {}{}",
        for_display(operation),
        crate::values::text::transport_error_for_display(source),
        suffix(request_id.as_deref(), *attempts, *outcome)
    )]
    Transport {
        /// The operation, e.g. `retrieve_image_list`.
        operation: String,
        /// `connect` when no connection could be made (the request never reached
        /// the server), else `request`.
        kind: &'static str,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
        /// The `x-request-id` of the last attempt.
        request_id: Option<String>,
        /// Attempts made, retries included.
        attempts: u32,
        /// Whether the change the request asked for may have happened: a
        /// request that changes something and was sent, whose answer was
        /// lost, may have been carried out (see [`Error::outcome`]).
        outcome: Outcome,
    },

    /// A time limit fired.
    #[error(
        "{}: {limit} timeout after {after:?}{}",
        for_display(operation),
        suffix(request_id.as_deref(), *attempts, *outcome)
    )]
    Timeout {
        /// The operation, e.g. `retrieve_image_list`.
        operation: String,
        /// Which limit fired.
        limit: TimeoutKind,
        /// The limit's value.
        after: Duration,
        /// The `x-request-id` of the last attempt.
        request_id: Option<String>,
        /// Attempts made, retries included.
        attempts: u32,
        /// Whether the change may have happened: a change whose answer did
        /// not come in time, or whose completion a wait did not see, may have
        /// (see [`Error::outcome`]).
        outcome: Outcome,
    },

    /// A response body did not decode into the expected type.
    #[error(
        "{}: cannot decode the response at `{}`: {}{}",
        for_display(operation),
        for_display(path),
        for_display(message),
        suffix(request_id.as_deref(), 1, Outcome::NotApplied)
    )]
    Decode {
        /// The operation, e.g. `retrieve_image_list`.
        operation: String,
        /// Where in the body it failed, e.g. `data[3].imageId` (`.` for the root).
        path: String,
        /// What was wrong.
        message: String,
        /// The `x-request-id` of the request.
        request_id: Option<String>,
    },

    /// A page stream met a server answer that cannot be right (an absurd page
    /// count, an empty page before the end, an item seen twice). The stream ends.
    #[error(
        "{}: pagination stopped at page {page}: {}{}",
        for_display(operation),
        for_display(reason),
        suffix(request_id.as_deref(), 1, Outcome::NotApplied)
    )]
    Pagination {
        /// The operation, e.g. `retrieve_image_list`.
        operation: String,
        /// The page that showed the problem.
        page: u64,
        /// What was wrong.
        reason: String,
        /// The `x-request-id` of that page's request.
        request_id: Option<String>,
    },

    /// Getting an access token failed.
    #[error("authentication failed: {}", for_display(.0))]
    Auth(String),

    /// The request was not sent: a parameter was missing or invalid.
    #[error("invalid request: {}", for_display(.0))]
    InvalidRequest(String),

    /// The client could not be built: a setting or environment variable is
    /// missing or invalid.
    #[error("invalid configuration: {}", for_display(.0))]
    Config(String),

    /// Waiting for a resource ended without it becoming ready: the provider
    /// reported it failed, or its answer gave nothing to wait on.
    #[error("{0}")]
    Wait(Box<WaitError>),

    /// The provider cannot do this; [`Unsupported::alternative`] says what
    /// to do instead. Nothing was sent.
    #[error("{0}")]
    Unsupported(Box<Unsupported>),

    /// The server redirected the request where the client does not follow:
    /// outside the API's base URL, or with a status (`301`, `302`, `303`)
    /// that would resend it as a `GET`. The clients this crate builds did not
    /// follow it (a caller's own HTTP client may have: its answer is not
    /// used). A server may answer a change it made with a redirect (`303 See
    /// Other` after a `POST`): for a change, the outcome is
    /// [`Outcome::MaybeApplied`].
    #[error(
        "{}: the server redirected to {}; not followed (only a 307 or 308 within the API's base URL is){}",
        for_display(operation),
        for_display(location),
        suffix(request_id.as_deref(), *attempts, *outcome)
    )]
    Redirect {
        /// The operation, e.g. `retrieve_image`.
        operation: String,
        /// Where the server pointed (its `Location`, or where a redirect
        /// followed by a caller's own HTTP client ended).
        location: String,
        /// The `x-request-id` of the last attempt.
        request_id: Option<String>,
        /// Attempts made, retries included.
        attempts: u32,
        /// Whether the change was made, in any of the attempts (see
        /// [`Error::outcome`]).
        outcome: Outcome,
    },

    /// The response body was larger than the client's limit
    /// ([`ClientBuilder::max_body_size`](crate::ClientBuilder::max_body_size));
    /// reading stopped there.
    #[error(
        "{}: the response body is larger than the limit of {limit} bytes; not read{}",
        for_display(operation),
        suffix(request_id.as_deref(), *attempts, *outcome)
    )]
    BodyTooLarge {
        /// The operation, e.g. `retrieve_image`.
        operation: String,
        /// The limit in bytes.
        limit: u64,
        /// The `x-request-id` of the last attempt.
        request_id: Option<String>,
        /// Attempts made, retries included.
        attempts: u32,
        /// Whether the change may have happened (an answer to a change was
        /// not read: it may say it was carried out).
        outcome: Outcome,
    },

    /// The server answered a change (POST, PUT, PATCH, DELETE) with a
    /// success status, so the change was carried out, but its body did not
    /// decode. Do not send the change again: look at what it made.
    /// [`Error::outcome`] is [`Outcome::Applied`].
    #[error("{0}")]
    Accepted(Box<AcceptedAnswer>),

    /// A change the server accepted (e.g. a change request behind a `202
    /// Accepted`, whose status is polled) whose outcome could not be learnt: following it failed
    /// (`source`). [`Unconfirmed::follow`] says what to follow.
    #[error("{0}")]
    Unconfirmed(Box<Unconfirmed>),

    /// Where an upload sends the file failed: a staging store (an
    /// S3-compatible bucket) or a file server (FTPS). `operation` is what
    /// was asked of it (`put`, `delete`, `sign`; `ftps://host:21 STOR path`),
    /// `source` its error.
    #[error("staging {}: {}", for_display(operation), for_display(&source.to_string()))]
    Staging {
        /// What was asked of the store or server, with the object's key or
        /// the file's path.
        operation: String,
        /// The store's or server's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Whether the change a failed call asked for happened: what
/// [`Error::outcome`] says. A read (GET) never changes anything.
///
/// ```
/// use cloud_images::error::Outcome;
///
/// assert!(Outcome::Applied.may_have_applied() && Outcome::Applied.is_applied());
/// assert!(Outcome::MaybeApplied.may_have_applied() && !Outcome::MaybeApplied.is_applied());
/// assert!(!Outcome::NotApplied.may_have_applied());
/// assert!(Outcome::NotApplied < Outcome::MaybeApplied && Outcome::MaybeApplied < Outcome::Applied);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[non_exhaustive]
pub enum Outcome {
    /// Nothing changed: nothing was sent, the server refused it (a 4xx),
    /// or the call only reads.
    #[default]
    NotApplied,
    /// The change may have happened: it was sent and its answer was lost
    /// or late, the server failed while handling it (a 5xx), or a change it
    /// accepted could not be followed to its end. Check before sending it
    /// again.
    MaybeApplied,
    /// The server said it carried the change out (a 2xx); something after
    /// that failed.
    Applied,
}

impl Outcome {
    /// Whether the change was carried out.
    pub fn is_applied(self) -> bool {
        self == Outcome::Applied
    }

    /// Whether the change was, or may have been, carried out.
    pub fn may_have_applied(self) -> bool {
        self != Outcome::NotApplied
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Outcome::NotApplied => "the change was not applied",
            Outcome::MaybeApplied => "the change may have been applied",
            Outcome::Applied => "the change was applied",
        })
    }
}

/// A success answer to a change whose body did not decode ([`Error::Accepted`]).
///
/// ```
/// use cloud_images::error::AcceptedAnswer;
/// use cloud_images::{Error, StatusCode};
///
/// let answer = AcceptedAnswer::new("create_custom_image", StatusCode::CREATED, "{\"data\": 7}")
///     .with_request_id(Some("0b8a7e9c".into()))
///     .with_decode_error("data", "invalid type: integer `7`, expected a sequence");
/// let e = Error::from(answer);
/// assert!(e.outcome().is_applied());
/// assert_eq!(
///     e.to_string(),
///     "create_custom_image: HTTP 201 Created: the server accepted the change, but its answer does not \
///      decode at `data`: invalid type: integer `7`, expected a sequence; body: {\"data\": 7} \
///      (request id 0b8a7e9c); the change was applied"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AcceptedAnswer {
    /// The operation, e.g. `create_custom_image`.
    pub operation: String,
    /// The success status the server answered with.
    pub status: StatusCode,
    /// Where in the body decoding failed (`.` for the root).
    pub path: String,
    /// What was wrong.
    pub message: String,
    /// The body as the server sent it (lossy UTF-8); `Display` cuts it.
    pub body: String,
    /// The request id to quote to support (the server's own where it sends one).
    pub request_id: Option<String>,
    /// Attempts made, retries included.
    pub attempts: u32,
}

impl AcceptedAnswer {
    /// A `status` answer to `operation` with this `body`.
    pub fn new(operation: impl Into<String>, status: StatusCode, body: impl Into<String>) -> Self {
        Self {
            operation: operation.into(),
            status,
            path: ".".into(),
            message: String::new(),
            body: body.into(),
            request_id: None,
            attempts: 1,
        }
    }
    /// Sets where and why decoding failed.
    pub fn with_decode_error(mut self, path: impl Into<String>, message: impl Into<String>) -> Self {
        self.path = path.into();
        self.message = message.into();
        self
    }
    /// Sets the request id.
    pub fn with_request_id(mut self, request_id: Option<String>) -> Self {
        self.request_id = request_id;
        self
    }
}

/// How much of an accepted answer's body `Display` shows.
const BODY_SHOWN: usize = 200;

impl fmt::Display for AcceptedAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: HTTP {}: the server accepted the change, but its answer does not decode at `{}`: {}; body: {}",
            for_display(&self.operation),
            self.status,
            for_display(&self.path),
            for_display(&self.message),
            crate::values::text::shorten(&self.body, BODY_SHOWN),
        )?;
        f.write_str(&suffix(
            self.request_id.as_deref(),
            self.attempts,
            Outcome::Applied,
        ))
    }
}

impl From<AcceptedAnswer> for Error {
    fn from(e: AcceptedAnswer) -> Self {
        Error::Accepted(Box::new(e))
    }
}

/// A change that was accepted but could not be followed to its end
/// ([`Error::Unconfirmed`]).
///
/// ```
/// use cloud_images::error::{Outcome, Unconfirmed};
/// use cloud_images::Error;
///
/// let cause = Error::InvalidRequest("example".into());
/// let e = Error::from(Unconfirmed::new("deletion of image 1a2b", "IONOS request 9f3c (GET /requests/9f3c/status)", cause));
/// assert_eq!(e.outcome(), Outcome::MaybeApplied);
/// assert_eq!(
///     e.to_string(),
///     "deletion of image 1a2b was accepted, but its outcome is unknown (follow IONOS request 9f3c \
///      (GET /requests/9f3c/status)): invalid request: example; the change may have been applied"
/// );
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct Unconfirmed {
    /// The change, e.g. `deletion of image 1a2b`.
    pub change: String,
    /// What to follow to learn the outcome, e.g. `request 9f3c (GET /requests/9f3c/status)`.
    pub follow: String,
    /// Why the outcome could not be learnt.
    pub source: Error,
    /// What is known of the change: [`Outcome::MaybeApplied`], or
    /// [`Outcome::Applied`] when the provider said it was done and only
    /// reading the result failed ([`Unconfirmed::done`]).
    pub outcome: Outcome,
}

impl Unconfirmed {
    /// `change` was accepted; following `follow` failed with `source`.
    pub fn new(change: impl Into<String>, follow: impl Into<String>, source: Error) -> Self {
        Self {
            change: change.into(),
            follow: follow.into(),
            source,
            outcome: Outcome::MaybeApplied,
        }
    }

    /// `change` was carried out (the provider said so); reading its result
    /// (`follow`) then failed with `source`.
    ///
    /// ```
    /// use cloud_images::error::Unconfirmed;
    /// use cloud_images::Error;
    ///
    /// let cause = Error::InvalidRequest("example".into());
    /// let e = Error::from(Unconfirmed::done("update of image 1a2b", "GET /images/1a2b", cause));
    /// assert!(e.outcome().is_applied());
    /// assert_eq!(
    ///     e.to_string(),
    ///     "update of image 1a2b was done, but reading its result failed (read GET /images/1a2b): \
    ///      invalid request: example; the change was applied"
    /// );
    /// ```
    pub fn done(change: impl Into<String>, follow: impl Into<String>, source: Error) -> Self {
        Self {
            outcome: Outcome::Applied,
            ..Self::new(change, follow, source)
        }
    }
}

impl fmt::Display for Unconfirmed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (said, verb) = match self.outcome {
            Outcome::Applied => ("was done, but reading its result failed", "read"),
            _ => ("was accepted, but its outcome is unknown", "follow"),
        };
        write!(
            f,
            "{} {said} ({verb} {}): {}; {}",
            for_display(&self.change),
            for_display(&self.follow),
            self.source,
            self.outcome
        )
    }
}

impl std::error::Error for Unconfirmed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

impl From<Unconfirmed> for Error {
    fn from(e: Unconfirmed) -> Self {
        Error::Unconfirmed(Box::new(e))
    }
}

/// An error status from the API.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ApiError {
    /// The operation, e.g. `retrieve_image`.
    pub operation: String,
    /// The HTTP status.
    pub status: StatusCode,
    /// The API's own message, when the body had one (Contabo's and
    /// DigitalOcean's `message`, IONOS's `messages[].message`), as the server
    /// sent it; `Display` escapes and cuts it.
    pub message: Option<String>,
    /// The body as JSON, when it was JSON (a typed error body such as
    /// Contabo's `CreateCustomImageFailResponse` decodes from it).
    pub body: Option<serde_json::Value>,
    /// The server's `Retry-After`, when it sent one.
    pub retry_after: Option<Duration>,
    /// The request id to quote to support: the server's own where the
    /// provider sends one, else the `x-request-id` of the last attempt.
    pub request_id: Option<String>,
    /// Attempts made, retries included.
    pub attempts: u32,
    /// The rate-limit state the answer reported, where the provider reports one.
    pub rate_limit: Option<crate::RateLimit>,
    /// Whether the change the call asked for may have happened (a change
    /// the server failed with a 5xx, or an earlier attempt whose answer was
    /// lost, may have); see [`Error::outcome`].
    pub outcome: Outcome,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: HTTP {}", for_display(&self.operation), self.status)?;
        if let Some(message) = &self.message {
            write!(f, ": {}", for_display(message))?;
        }
        if let Some(after) = self.retry_after {
            write!(f, " (retry after {}s)", after.as_secs())?;
        }
        f.write_str(&suffix(self.request_id.as_deref(), self.attempts, self.outcome))
    }
}

/// Why a wait ended without the resource becoming ready
/// ([`Error::Wait`]).
///
/// ```
/// use cloud_images::error::WaitError;
///
/// let e = WaitError::new("image 1a2b failed", "the URL answered 404")
///     .with_id("1a2b")
///     .with_status("error")
///     .with_request_id(Some("0b8a7e9c".into()));
/// assert_eq!(e.to_string(), "image 1a2b failed: the URL answered 404 (request id 0b8a7e9c)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WaitError {
    /// What ended, e.g. `image 1a2b failed` or `deletion of image 1a2b (request 9f3c) failed`.
    pub subject: String,
    /// The id of what was waited for: an image (by the `wait_for_image`s,
    /// `wait_until_ready` and IONOS's `update_image`/`delete_image`), or
    /// an action or a request (`wait_for_action`, `wait_for_request`).
    pub id: Option<String>,
    /// The provider's message (its `errorMessage`, `error_message` or
    /// request-status message), as it sent it; `Display` escapes and cuts it.
    pub message: String,
    /// The provider's last status word, e.g. `error` or `FAILED`, when it sent one.
    pub status: Option<String>,
    /// The request id of the poll that saw the failure: the one to quote to support.
    pub request_id: Option<String>,
    /// Whether a change behind the wait happened (e.g. a change accepted
    /// whose request cannot be followed may have); see [`Error::outcome`].
    pub outcome: Outcome,
}

impl WaitError {
    /// A wait that ended: what ended and why.
    pub fn new(subject: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            subject: subject.into(),
            id: None,
            message: message.into(),
            status: None,
            request_id: None,
            outcome: Outcome::NotApplied,
        }
    }
    /// Sets whether a change behind the wait happened.
    pub fn with_outcome(mut self, outcome: Outcome) -> Self {
        self.outcome = outcome;
        self
    }
    /// Sets the id of the resource waited for.
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }
    /// Sets the provider's last status word.
    pub fn with_status(mut self, status: impl Into<String>) -> Self {
        self.status = Some(status.into());
        self
    }
    /// Sets the request id of the poll that saw the failure.
    pub fn with_request_id(mut self, request_id: Option<String>) -> Self {
        self.request_id = request_id;
        self
    }
}

impl fmt::Display for WaitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}",
            for_display(&self.subject),
            for_display(&self.message)
        )?;
        f.write_str(&suffix(self.request_id.as_deref(), 1, self.outcome))
    }
}

impl From<WaitError> for Error {
    fn from(e: WaitError) -> Self {
        Error::Wait(Box::new(e))
    }
}

/// An operation a provider does not offer ([`Error::Unsupported`]).
///
/// ```
/// use cloud_images::error::Unsupported;
///
/// use cloud_images::images::Cloud;
///
/// let e = Unsupported::new(Cloud::Ionos, "import_from_url", "upload the image to the location's FTP server");
/// assert_eq!(
///     e.to_string(),
///     "ionos does not support import_from_url: upload the image to the location's FTP server"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Unsupported {
    /// The provider.
    pub provider: crate::values::cloud::Cloud,
    /// The operation, e.g. `import_from_url`.
    pub operation: &'static str,
    /// What to do instead.
    pub alternative: String,
}

impl Unsupported {
    /// `provider` cannot do `operation`; do `alternative` instead.
    pub fn new(
        provider: crate::values::cloud::Cloud,
        operation: &'static str,
        alternative: impl Into<String>,
    ) -> Self {
        Self {
            provider,
            operation,
            alternative: alternative.into(),
        }
    }
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} does not support {}: {}",
            self.provider, self.operation, self.alternative
        )
    }
}

impl From<crate::values::cloud::UnknownCloud> for Error {
    fn from(e: crate::values::cloud::UnknownCloud) -> Self {
        Error::Config(e.to_string())
    }
}

impl From<Unsupported> for Error {
    fn from(e: Unsupported) -> Self {
        Error::Unsupported(Box::new(e))
    }
}

/// Which time limit fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutKind {
    /// Establishing the connection.
    Connect,
    /// One attempt (sending the request and reading the whole response).
    Attempt,
    /// The whole operation, retries and back-off included.
    Operation,
    /// Waiting for a resource to become ready.
    Wait,
}

impl fmt::Display for TimeoutKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeoutKind::Connect => "connect",
            TimeoutKind::Attempt => "per-attempt",
            TimeoutKind::Operation => "operation",
            TimeoutKind::Wait => "wait",
        })
    }
}

/// The end of an error line: the request id (escaped and cut: it may be
/// the server's), the attempts, and the outcome when a change may have
/// happened.
fn suffix(request_id: Option<&str>, attempts: u32, outcome: Outcome) -> String {
    let mut out = match (request_id.map(id_for_display), attempts) {
        (Some(id), 0 | 1) => format!(" (request id {id})"),
        (Some(id), n) => format!(" (request id {id}, after {n} attempts)"),
        (None, 0 | 1) => String::new(),
        (None, n) => format!(" (after {n} attempts)"),
    };
    if outcome.may_have_applied() {
        out.push_str("; ");
        out.push_str(&outcome.to_string());
    }
    out
}

impl Error {
    /// The `x-request-id` of the (last) request behind this error, if one was sent.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Api(api) => api.request_id.as_deref(),
            Error::Transport { request_id, .. }
            | Error::Timeout { request_id, .. }
            | Error::Redirect { request_id, .. }
            | Error::BodyTooLarge { request_id, .. }
            | Error::Decode { request_id, .. }
            | Error::Pagination { request_id, .. } => request_id.as_deref(),
            Error::Wait(wait) => wait.request_id.as_deref(),
            Error::Accepted(answer) => answer.request_id.as_deref(),
            Error::Unconfirmed(u) => u.source.request_id(),
            _ => None,
        }
    }

    /// Whether the change the call asked for happened. Reads (GET) and
    /// calls refused before anything was sent are
    /// [`Outcome::NotApplied`]; a change whose answer was lost, late, a
    /// 5xx, or whose accepted request could not be followed is
    /// [`Outcome::MaybeApplied`]; a change the server answered with a
    /// success that then failed to decode ([`Error::Accepted`]) is
    /// [`Outcome::Applied`]. `Display` says so when it is not `NotApplied`.
    ///
    /// ```
    /// use cloud_images::error::Outcome;
    /// use cloud_images::Error;
    ///
    /// assert_eq!(Error::InvalidRequest("bad id".into()).outcome(), Outcome::NotApplied);
    /// ```
    pub fn outcome(&self) -> Outcome {
        match self {
            Error::Api(api) => api.outcome,
            Error::Transport { outcome, .. }
            | Error::Timeout { outcome, .. }
            | Error::Redirect { outcome, .. }
            | Error::BodyTooLarge { outcome, .. } => *outcome,
            Error::Wait(wait) => wait.outcome,
            Error::Accepted(_) => Outcome::Applied,
            Error::Unconfirmed(u) => u.outcome,
            _ => Outcome::NotApplied,
        }
    }

    /// Whether the change was carried out ([`Outcome::Applied`]).
    pub fn is_applied(&self) -> bool {
        self.outcome().is_applied()
    }

    /// Whether the change was, or may have been, carried out: check before
    /// sending it again.
    pub fn may_have_applied(&self) -> bool {
        self.outcome().may_have_applied()
    }

    /// The HTTP status, for [`Error::Api`].
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api(api) => Some(api.status),
            _ => None,
        }
    }

    /// How many attempts were made (0 when nothing was sent).
    pub fn attempts(&self) -> u32 {
        match self {
            Error::Api(api) => api.attempts,
            Error::Transport { attempts, .. }
            | Error::Timeout { attempts, .. }
            | Error::Redirect { attempts, .. }
            | Error::BodyTooLarge { attempts, .. } => *attempts,
            Error::Accepted(answer) => answer.attempts,
            Error::Unconfirmed(u) => u.source.attempts(),
            Error::Decode { .. } | Error::Pagination { .. } => 1,
            _ => 0,
        }
    }

    /// Whether the server answered 404 Not Found (the image, or whatever
    /// the request named, does not exist).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(StatusCode::NOT_FOUND)
    }

    /// Whether a time limit fired ([`Error::Timeout`]).
    pub fn is_timeout(&self) -> bool {
        match self {
            Error::Timeout { .. } => true,
            Error::Unconfirmed(u) => u.source.is_timeout(),
            // The time limit of an HTTP client brought along.
            Error::Transport { source, .. } => source.is_timeout(),
            _ => false,
        }
    }

    /// Whether the provider does not offer the operation ([`Error::Unsupported`]).
    pub fn is_unsupported(&self) -> bool {
        matches!(self, Error::Unsupported(_))
    }

    /// Whether the request was refused before anything was sent
    /// ([`Error::InvalidRequest`]).
    pub fn is_invalid_request(&self) -> bool {
        matches!(self, Error::InvalidRequest(_))
    }

    /// Why a wait ended, for [`Error::Wait`].
    pub fn wait(&self) -> Option<&WaitError> {
        match self {
            Error::Wait(wait) => Some(wait),
            _ => None,
        }
    }

    /// The API error, for [`Error::Api`].
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(api) => Some(api),
            _ => None,
        }
    }
}
