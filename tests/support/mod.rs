//! Helpers shared by the integration tests, each included with `mod support;`.
//!
//! Only what is the same in every file that uses it lives here; a test that
//! needs other values (a different back-off, another wait) keeps its own.

// Each integration test is a crate of its own and uses only some of these
// helpers: the rest would be dead code in that crate.
#![allow(dead_code)]

use std::time::Duration;

use cloud_images::RetryPolicy;
use cloud_images::wait::WaitOptions;

/// Retries with a short back-off (5 ms, at most 20 ms), so that tests which
/// retry do not sleep for the default back-off.
pub fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .with_initial_backoff(Duration::from_millis(5))
        .with_max_backoff(Duration::from_millis(20))
}

/// Polls every 5 ms (at most every 10 ms), giving up after 5 s.
pub fn quick_wait() -> WaitOptions {
    WaitOptions::default()
        .with_interval(Duration::from_millis(5))
        .with_max_interval(Duration::from_millis(10))
        .with_timeout(Duration::from_secs(5))
}

/// An environment of `vars` for `from_lookup`: the value of the first
/// variable of that name, or `None`.
pub fn lookup<V: AsRef<str>>(vars: &[(&str, V)]) -> impl Fn(&str) -> Option<String> + use<V> {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.as_ref().to_owned()))
        .collect();
    move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

/// A loopback URL on which nothing listens: a port the system handed out,
/// released again, so that every connection to it is refused.
pub fn closed_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}")
}
