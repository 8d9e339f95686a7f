//! The one error type of the crate.
//!
//! Every error that comes from a request says which operation failed, how many
//! attempts were made and which `x-request-id` the last attempt sent, so that a
//! user can quote it to the provider's support.

use std::fmt;
use std::time::Duration;

pub use reqwest::StatusCode;

use crate::values::text::{escape_controls, for_display, with_root_cause};

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
        "{operation}: {kind} error: {}{}",
        escape_controls(&with_root_cause(source)),
        suffix(request_id.as_deref(), *attempts)
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
    },

    /// A time limit fired.
    #[error("{operation}: {limit} timeout after {after:?}{}", suffix(request_id.as_deref(), *attempts))]
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
    },

    /// A response body did not decode into the expected type.
    #[error(
        "{operation}: cannot decode the response at `{}`: {}{}",
        for_display(path),
        for_display(message),
        suffix(request_id.as_deref(), 1)
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
        "{operation}: pagination stopped at page {page}: {}{}",
        for_display(reason),
        suffix(request_id.as_deref(), 1)
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

    /// The server redirected the request to another origin (scheme, host,
    /// port); the redirect was not followed and its answer not used.
    #[error(
        "{operation}: the server redirected to {}, another origin than the API's; not followed{}",
        for_display(location),
        suffix(request_id.as_deref(), *attempts)
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
    },

    /// The response body was larger than the client's limit
    /// ([`ClientBuilder::max_body_size`](crate::ClientBuilder::max_body_size));
    /// reading stopped there.
    #[error(
        "{operation}: the response body is larger than the limit of {limit} bytes; not read{}",
        suffix(request_id.as_deref(), *attempts)
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
    },
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
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: HTTP {}", self.operation, self.status)?;
        if let Some(message) = &self.message {
            write!(f, ": {}", for_display(message))?;
        }
        if let Some(after) = self.retry_after {
            write!(f, " (retry after {}s)", after.as_secs())?;
        }
        f.write_str(&suffix(self.request_id.as_deref(), self.attempts))
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
        }
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
        f.write_str(&suffix(self.request_id.as_deref(), 1))
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

fn suffix(request_id: Option<&str>, attempts: u32) -> String {
    match (request_id, attempts) {
        (Some(id), 0 | 1) => format!(" (request id {id})"),
        (Some(id), n) => format!(" (request id {id}, after {n} attempts)"),
        (None, 0 | 1) => String::new(),
        (None, n) => format!(" (after {n} attempts)"),
    }
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
            _ => None,
        }
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
