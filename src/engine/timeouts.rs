//! The time limits of a client.

use std::time::Duration;

/// Time limits of a client.
///
/// ```
/// use std::time::Duration;
/// use cloud_images::Timeouts;
///
/// let t = Timeouts::default().with_attempt(Duration::from_secs(10));
/// assert_eq!(t.attempt(), Some(Duration::from_secs(10)));
/// assert_eq!(t.connect(), Some(Duration::from_secs(10)));
/// assert_eq!(t.operation(), Some(Duration::from_secs(120)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    connect: Option<Duration>,
    attempt: Option<Duration>,
    operation: Option<Duration>,
}

impl Default for Timeouts {
    /// Connect 10 s, one attempt 30 s, a whole operation (retries and their
    /// waits included) 120 s.
    fn default() -> Self {
        Self {
            connect: Some(Duration::from_secs(10)),
            attempt: Some(Duration::from_secs(30)),
            operation: Some(Duration::from_secs(120)),
        }
    }
}

impl Timeouts {
    /// No limits at all.
    pub fn none() -> Self {
        Self {
            connect: None,
            attempt: None,
            operation: None,
        }
    }
    /// Limit on establishing a connection.
    pub fn with_connect(mut self, limit: impl Into<Option<Duration>>) -> Self {
        self.connect = limit.into();
        self
    }
    /// Limit on one attempt: sending the request and reading the whole response.
    pub fn with_attempt(mut self, limit: impl Into<Option<Duration>>) -> Self {
        self.attempt = limit.into();
        self
    }
    /// Limit on a whole operation, retries and back-off included.
    pub fn with_operation(mut self, limit: impl Into<Option<Duration>>) -> Self {
        self.operation = limit.into();
        self
    }
    /// The connect limit.
    pub fn connect(&self) -> Option<Duration> {
        self.connect
    }
    /// The per-attempt limit.
    pub fn attempt(&self) -> Option<Duration> {
        self.attempt
    }
    /// The whole-operation limit.
    pub fn operation(&self) -> Option<Duration> {
        self.operation
    }
}
