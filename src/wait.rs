//! Waiting for a resource (an image being imported) to become usable.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::Error;
use crate::error::TimeoutKind;

/// How to poll while waiting.
///
/// ```
/// use std::time::Duration;
/// use cloud_images::wait::WaitOptions;
///
/// let options = WaitOptions::default().timeout(Duration::from_secs(600));
/// assert_eq!(options.get_timeout(), Duration::from_secs(600));
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
    /// The first wait between polls.
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }
    /// The longest wait between polls.
    pub fn max_interval(mut self, interval: Duration) -> Self {
        self.max_interval = interval;
        self
    }
    /// How long to wait in all (`Duration::MAX`: no limit).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
    /// How long to wait in all.
    pub fn get_timeout(&self) -> Duration {
        self.timeout
    }
}

/// Where a resource stands.
#[derive(Debug, Clone, PartialEq)]
pub enum State<T> {
    /// Not ready yet; how far along, when known.
    Pending(Progress),
    /// Usable.
    Ready(T),
    /// Will not become usable; the provider's reason.
    Failed(String),
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

/// Polls `check` until it reports ready or failed, calling `on_progress` with
/// each pending report. `what` names the resource in errors.
pub async fn until<T, F, Fut>(
    what: &str,
    options: WaitOptions,
    mut check: F,
    mut on_progress: impl FnMut(&Progress),
) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<State<T>, Error>>,
{
    // A timeout too far away to be an instant is no limit.
    let deadline = Instant::now().checked_add(options.timeout);
    let mut interval = options.interval;
    loop {
        match check().await? {
            State::Ready(value) => return Ok(value),
            State::Failed(reason) => return Err(Error::Wait(format!("{what} failed: {reason}"))),
            State::Pending(progress) => on_progress(&progress),
        }
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d) {
            return Err(Error::Timeout {
                operation: format!("waiting for {what}"),
                limit: TimeoutKind::Wait,
                after: options.timeout,
                request_id: None,
                attempts: 0,
            });
        }
        tokio::time::sleep(deadline.map_or(interval, |d| interval.min(d - now))).await;
        interval = interval.saturating_add(interval / 2).min(options.max_interval);
    }
}
