//! Waiting for a resource (an image being imported) to become usable.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::values::error::{Outcome, TimeoutKind, WaitError};
use crate::{Error, Response};

/// The shortest wait between polls, [`MIN_INTERVAL`] (10 ms): a shorter
/// interval (zero included) counts as this one, so that a wait never polls
/// more than a hundred times a second, and the interval grows from there.
pub const MIN_INTERVAL: Duration = Duration::from_millis(10);

/// How to poll while waiting.
///
/// Intervals shorter than [`MIN_INTERVAL`] count as [`MIN_INTERVAL`].
///
/// ```
/// use std::time::Duration;
/// use cloud_images::wait::{MIN_INTERVAL, WaitOptions};
///
/// let options = WaitOptions::default().with_timeout(Duration::from_secs(600));
/// assert_eq!(options.timeout(), Duration::from_secs(600));
/// let eager = WaitOptions::default().with_interval(Duration::ZERO).with_max_interval(Duration::ZERO);
/// assert_eq!((eager.interval(), eager.max_interval()), (MIN_INTERVAL, MIN_INTERVAL));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitOptions {
    interval: Duration,
    max_interval: Duration,
    timeout: Duration,
}

impl Default for WaitOptions {
    /// First poll after 2 s, the interval growing by half each time up to
    /// 30 s, giving up after 30 min.
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(2),
            max_interval: Duration::from_secs(30),
            timeout: Duration::from_secs(30 * 60),
        }
    }
}

impl WaitOptions {
    /// Polls after `interval`, the interval growing by half each time up to
    /// `max_interval`, giving up after `timeout`.
    pub const fn new(interval: Duration, max_interval: Duration, timeout: Duration) -> Self {
        Self {
            interval,
            max_interval,
            timeout,
        }
    }
    /// The first wait between polls (at least [`MIN_INTERVAL`]).
    pub fn with_interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }
    /// The longest wait between polls (at least the first).
    pub fn with_max_interval(mut self, interval: Duration) -> Self {
        self.max_interval = interval;
        self
    }
    /// How long to wait in all (`Duration::MAX`: no limit).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
    /// How long to wait in all.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
    /// The first wait between polls (at least [`MIN_INTERVAL`]).
    pub fn interval(&self) -> Duration {
        self.interval.max(MIN_INTERVAL)
    }
    /// The longest wait between polls (at least [`interval`](Self::interval)).
    pub fn max_interval(&self) -> Duration {
        self.max_interval.max(self.interval())
    }
}

/// Where a resource stands.
#[derive(Debug, Clone, PartialEq)]
pub enum State<T> {
    /// Not ready yet; how far along, when known.
    Pending(Progress),
    /// Usable.
    Ready(T),
    /// Will not become usable.
    Failed {
        /// The provider's reason (or, when it gave none, what was seen).
        message: String,
        /// The provider's status word, e.g. `error`.
        status: Option<String>,
    },
}

impl<T> State<T> {
    /// A failure with the provider's `message` and `status` word.
    pub fn failed(message: impl Into<String>, status: Option<String>) -> Self {
        State::Failed {
            message: message.into(),
            status,
        }
    }
}

/// How far along a resource is.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct Progress {
    /// The provider's status word, e.g. `downloading`.
    pub status: Option<String>,
    /// Done so far (e.g. MB downloaded), when known.
    pub done: Option<f64>,
    /// The total (e.g. MB), when known.
    pub total: Option<f64>,
}

impl Progress {
    /// A progress report.
    pub fn new(status: Option<String>, done: Option<f64>, total: Option<f64>) -> Self {
        Self { status, done, total }
    }
}

/// Polls with `poll` until `accept` says what it got is ready or failed,
/// calling `on_progress` with each pending report: the one wait of the
/// crate, as smithy-rs's waiters have one orchestrator and an acceptor per
/// operation. `what` names the resource in errors (`image 1a2b`), `id` is
/// its id. A failure is [`Error::Wait`] with the provider's message and the
/// request id of the poll that saw it; running out of time is
/// [`Error::Timeout`]; a failed poll ends the wait with its error.
///
/// ```no_run
/// # async fn demo(client: &cloud_images::digitalocean::Client) -> Result<(), cloud_images::Error> {
/// use cloud_images::Execute;
/// use cloud_images::digitalocean::types::ImagesGetResponse;
/// use cloud_images::wait::{self, Progress, State, WaitOptions};
///
/// let id = "190000001";
/// let poll = || client.images_get().image_id(id).execute();
/// let accept = |found: ImagesGetResponse| match found.image.status.as_deref() {
///     Some("available") => State::Ready(found.image),
///     Some("deleted") => State::failed("the image was deleted", found.image.status.clone()),
///     _ => State::Pending(Progress::default()),
/// };
/// let image = wait::until(&format!("image {id}"), id, WaitOptions::default(), poll, accept, |_| {}).await?;
/// # Ok(()) }
/// ```
pub async fn until<R, T, Fut>(
    what: &str,
    id: &str,
    options: WaitOptions,
    mut poll: impl FnMut() -> Fut,
    accept: impl Fn(R) -> State<T>,
    mut on_progress: impl FnMut(&Progress),
) -> Result<T, Error>
where
    Fut: Future<Output = Result<Response<R>, Error>>,
{
    // A timeout too far away to be an instant is no limit.
    let deadline = Instant::now().checked_add(options.timeout);
    let mut interval = options.interval();
    let mut last_request_id = None;
    loop {
        let polled = poll().await?;
        let request_id = polled.request_id().map(str::to_owned);
        last_request_id.clone_from(&request_id);
        match accept(polled.into_inner()) {
            State::Ready(value) => return Ok(value),
            State::Failed { message, status } => {
                let mut failure = WaitError::new(format!("{what} failed"), message)
                    .with_id(id)
                    .with_request_id(request_id);
                failure.status = status;
                return Err(failure.into());
            }
            State::Pending(progress) => on_progress(&progress),
        }
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d) {
            return Err(Error::Timeout {
                operation: format!("waiting for {what}"),
                limit: TimeoutKind::Wait,
                after: options.timeout,
                request_id: last_request_id,
                attempts: 0,
                outcome: Outcome::NotApplied,
            });
        }
        tokio::time::sleep(deadline.map_or(interval, |d| interval.min(d - now))).await;
        interval = interval.saturating_add(interval / 2).min(options.max_interval());
    }
}

/// [`until`] for an image: what every provider's `wait_for_image` is.
pub(crate) async fn for_image<R, T, Fut>(
    id: &str,
    options: WaitOptions,
    poll: impl FnMut() -> Fut,
    accept: impl Fn(R) -> State<T>,
    on_progress: impl FnMut(&Progress),
) -> Result<T, Error>
where
    Fut: Future<Output = Result<Response<R>, Error>>,
{
    until(&format!("image {id}"), id, options, poll, accept, on_progress).await
}
