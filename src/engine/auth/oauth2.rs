//! OAuth2 resource owner password grant with a cached, refreshed token.

use std::fmt;
use std::time::Duration;

use std::sync::Arc;

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::time::Instant;

use super::TokenSource;
use crate::Error;
use crate::engine::body::{ReadError, read_capped};
use crate::values::text::with_root_cause;
use crate::values::url::redact;

/// The largest token endpoint answer read, in bytes.
const TOKEN_BODY_LIMIT: u64 = 1024 * 1024;

/// Tokens from an OAuth2 password grant (`grant_type=password` with client id
/// and secret, API user and password), as Contabo issues API tokens.
///
/// The token is cached and renewed [`refresh_margin`](Self::refresh_margin)
/// before it expires (from `expires_in`; at most a quarter of its lifetime
/// before): with the `refresh_token` when the server gave one, else with a
/// new password grant. Concurrent callers share one token request and its
/// result, a failure included; no lock is held while it runs, so each caller
/// waits only as long as its own call's time limit allows. A token the API
/// rejected with 401 is replaced once.
/// Secrets are never in `Debug` output or error messages.
///
/// The token request follows no redirect (a redirect is an
/// [`Error::Auth`] naming where it pointed), reads at most 1 MiB of answer,
/// and gives up after [`timeout`](Self::timeout). An `expires_in` with a
/// fraction is rounded down; one too large for a clock means no expiry.
///
/// ```
/// use cloud_images::auth::PasswordGrant;
///
/// let grant = PasswordGrant::new(
///     "https://auth.contabo.com/auth/realms/contabo/protocol/openid-connect/token",
///     "client-id",
///     "client-secret",
///     "api-user@example.com",
///     "api-password",
/// );
/// let shown = format!("{grant:?}");
/// assert!(shown.contains("client-id") && !shown.contains("client-secret") && !shown.contains("api-password"));
/// ```
pub struct PasswordGrant {
    endpoint: Endpoint,
    refresh_margin: Duration,
    state: std::sync::Mutex<State>,
}

/// What a token request needs: cheap to clone, so that the request shared by
/// every waiting caller owns its copy and outlives any one of them.
#[derive(Clone)]
struct Endpoint {
    token_url: String,
    /// `token_url` as messages and logs show it (no password).
    shown_url: String,
    client_id: String,
    client_secret: SecretString,
    username: String,
    password: SecretString,
    timeout: Duration,
    /// The HTTP client, or why none could be set up (said at the first request).
    http: Result<reqwest::Client, String>,
}

/// The cached token and the token request under way.
#[derive(Default)]
struct State {
    cached: Option<Arc<Fetched>>,
    /// The token request under way and its number: every caller that needs a
    /// token meanwhile awaits this one request and gets its result, a
    /// failure included. No lock is held while it runs.
    pending: Option<(u64, Pending)>,
    requests: u64,
}

/// A token request, shared; its failure is the message of an [`Error::Auth`].
type Pending = Shared<BoxFuture<'static, Result<Arc<Fetched>, String>>>;

/// A token request's result, cached until it is due for renewal.
struct Fetched {
    access: SecretString,
    refresh: Option<SecretString>,
    /// When to renew it, if it expires.
    renew_at: Option<Instant>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    /// Seconds, as a number or a numeric string; see [`lifetime`].
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
    #[serde(default)]
    refresh_token: Option<String>,
}

#[derive(Deserialize)]
struct TokenError {
    error: Option<String>,
    error_description: Option<String>,
}

impl fmt::Debug for PasswordGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let endpoint = &self.endpoint;
        f.debug_struct("PasswordGrant")
            .field("token_url", &endpoint.shown_url)
            .field("client_id", &endpoint.client_id)
            .field("client_secret", &"<redacted>")
            .field("username", &endpoint.username)
            .field("password", &"<redacted>")
            .field("refresh_margin", &self.refresh_margin)
            .field("timeout", &endpoint.timeout)
            .finish()
    }
}

impl PasswordGrant {
    /// A grant against `token_url`.
    pub fn new(
        token_url: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        let token_url = token_url.into();
        let timeout = Duration::from_secs(30);
        Self {
            endpoint: Endpoint {
                shown_url: redact(&token_url),
                token_url,
                client_id: client_id.into(),
                client_secret: SecretString::from(client_secret.into()),
                username: username.into(),
                password: SecretString::from(password.into()),
                timeout,
                http: token_http_client(timeout),
            },
            refresh_margin: Duration::from_secs(30),
            state: std::sync::Mutex::default(),
        }
    }

    /// How long one token request may take in all (default 30 s; connecting
    /// at most 10 s of it).
    ///
    /// ```
    /// use std::time::Duration;
    /// use cloud_images::auth::PasswordGrant;
    ///
    /// let grant = PasswordGrant::new("https://auth.example.com/token", "id", "secret", "user", "pass")
    ///     .timeout(Duration::from_secs(5));
    /// assert!(format!("{grant:?}").contains("timeout: 5s"));
    /// ```
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.endpoint.timeout = limit;
        self.endpoint.http = token_http_client(limit);
        self
    }

    /// How long before expiry a token is renewed (default 30 s), at most a
    /// quarter of its lifetime: a token that lives 30 s is renewed after
    /// 22.5 s, not before each call.
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }

    /// The token endpoint.
    pub fn token_url(&self) -> &str {
        &self.endpoint.token_url
    }

    async fn get(&self, rejected: Option<SecretString>) -> Result<SecretString, Error> {
        let (number, pending) = {
            let mut state = self.lock();
            if let Some(token) = state.usable(rejected.as_ref(), Instant::now()) {
                return Ok(token);
            }
            match &state.pending {
                Some((number, pending)) => (*number, pending.clone()),
                None => {
                    let refresh = state.cached.as_ref().and_then(|c| c.refresh.clone());
                    // A task of its own: it goes on (within its own time
                    // limit) when every caller waiting for it gave up.
                    let task = tokio::spawn(self.endpoint.clone().fetch(refresh, self.refresh_margin));
                    let pending = async move {
                        task.await
                            .unwrap_or_else(|e| Err(format!("the token request did not finish: {e}")))
                    }
                    .boxed()
                    .shared();
                    state.requests += 1;
                    state.pending = Some((state.requests, pending.clone()));
                    (state.requests, pending)
                }
            }
        };
        let fetched = pending.await;
        // The first waiter to see the result puts it in the cache (and lets
        // the next caller start a new request after a failure).
        let mut state = self.lock();
        if state.pending.as_ref().is_some_and(|(n, _)| *n == number) {
            state.pending = None;
            if let Ok(fetched) = &fetched {
                state.cached = Some(fetched.clone());
            }
        }
        fetched.map(|f| f.access.clone()).map_err(Error::Auth)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A poisoned lock only means a panic elsewhere; the state is still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl State {
    /// The cached token, if it is still fresh at `now` and is not the one the
    /// API rejected. A finished request nobody collected (its callers were
    /// dropped) is collected here: a token is cached, a failure forgotten.
    fn usable(&mut self, rejected: Option<&SecretString>, now: Instant) -> Option<SecretString> {
        if let Some((_, pending)) = &self.pending
            && let Some(fetched) = pending.peek()
        {
            if let Ok(fetched) = fetched {
                self.cached = Some(fetched.clone());
            }
            self.pending = None;
        }
        let cached = self.cached.as_ref()?;
        let was_rejected = rejected.is_some_and(|r| r.expose_secret() == cached.access.expose_secret());
        let fresh = cached.renew_at.is_none_or(|at| now < at);
        (fresh && !was_rejected).then(|| cached.access.clone())
    }
}

impl Endpoint {
    /// A new token: with `refresh` when there is one, else (or when it is
    /// rejected) with a password grant.
    async fn fetch(self, refresh: Option<SecretString>, margin: Duration) -> Result<Arc<Fetched>, String> {
        let asked_at = Instant::now();
        let response = match refresh {
            Some(refresh) => match self
                .request(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh.expose_secret()),
                ])
                .await
            {
                Ok(response) => Ok(response),
                // An expired or revoked refresh token: start over.
                Err(_) => self.password_grant().await,
            },
            None => self.password_grant().await,
        };
        let response = response.map_err(|e| match e {
            Error::Auth(message) => message,
            other => other.to_string(),
        })?;
        // Counted from when it was asked for. No expiry, or one too far away
        // to be an instant: renewed after a 401.
        let renew_at = response
            .expires_in
            .as_ref()
            .and_then(lifetime)
            .and_then(|life| asked_at.checked_add(renew_after(life, margin)));
        Ok(Arc::new(Fetched {
            access: SecretString::from(response.access_token),
            refresh: response.refresh_token.map(SecretString::from),
            renew_at,
        }))
    }

    async fn password_grant(&self) -> Result<TokenResponse, Error> {
        self.request(&[
            ("grant_type", "password"),
            ("username", &self.username),
            ("password", self.password.expose_secret()),
        ])
        .await
    }

    async fn request(&self, grant: &[(&str, &str)]) -> Result<TokenResponse, Error> {
        let mut form: Vec<(&str, &str)> = vec![
            ("client_id", &self.client_id),
            ("client_secret", self.client_secret.expose_secret()),
        ];
        form.extend_from_slice(grant);
        let kind = grant[0].1;
        let url = &self.shown_url;
        tracing::debug!(token_url = %url, grant_type = kind, "requesting an access token");
        let http = self.http.as_ref().map_err(|why| Error::Auth(why.clone()))?;
        let mut response = http
            .post(&self.token_url)
            .form(&form)
            .send()
            .await
            .map_err(|e| Error::Auth(self.failure("send the token request to", &e)))?;
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .map(|l| redact(&String::from_utf8_lossy(l.as_bytes())))
                .unwrap_or_else(|| "nowhere".to_owned());
            return Err(Error::Auth(format!(
                "the token endpoint {url} answered HTTP {status}, a redirect to {location}; \
                 credentials are not sent after a redirect (configure the final token URL)"
            )));
        }
        let body = match read_capped(&mut response, TOKEN_BODY_LIMIT).await {
            Ok(body) => body,
            Err(ReadError::TooLarge) => {
                return Err(Error::Auth(format!(
                    "the token endpoint {url} answered with more than {TOKEN_BODY_LIMIT} bytes; not read"
                )));
            }
            Err(ReadError::Failed(e)) => return Err(Error::Auth(self.failure("read the answer of", &e))),
        };
        if status.is_success() {
            return serde_json::from_slice(&body).map_err(|e| {
                Error::Auth(format!(
                    "the token endpoint {url} sent no usable access_token: {e}"
                ))
            });
        }
        let detail: Option<TokenError> = serde_json::from_slice(&body).ok();
        let code = detail.as_ref().and_then(|d| d.error.clone());
        let description = detail.and_then(|d| d.error_description).unwrap_or_default();
        let what = match code.as_deref() {
            Some("invalid_grant") if kind == "password" => {
                format!("the API user `{}` or its password was rejected", self.username)
            }
            Some("invalid_grant") => "the refresh token was rejected".to_owned(),
            Some("unauthorized_client" | "invalid_client") => {
                format!(
                    "the OAuth2 client id `{}` or its secret was rejected",
                    self.client_id
                )
            }
            _ => format!("the token endpoint {url} answered HTTP {status}"),
        };
        let code = code.map(|c| {
            format!(
                " ({c}{}{description})",
                if description.is_empty() { "" } else { ": " }
            )
        });
        Err(Error::Auth(format!("{what}{}", code.unwrap_or_default())))
    }
}

impl Endpoint {
    /// A failed token request in words: a timeout says so, anything else
    /// shows its root cause (connection refused, DNS, TLS, reset).
    fn failure(&self, what: &str, e: &reqwest::Error) -> String {
        let url = &self.shown_url;
        if e.is_timeout() {
            format!(
                "the token endpoint {url} did not answer within {:?} (timeout)",
                self.timeout
            )
        } else if e.is_connect() {
            format!("cannot reach the token endpoint {url}: {}", with_root_cause(e))
        } else {
            format!("cannot {what} the token endpoint {url}: {}", with_root_cause(e))
        }
    }
}

/// The HTTP client of token requests (the crate's TLS setup): no redirects,
/// a time limit.
fn token_http_client(timeout: Duration) -> Result<reqwest::Client, String> {
    crate::engine::tls::http_client_builder()
        .map_err(|e| e.to_string())?
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .timeout(timeout)
        .build()
        .map_err(|e| format!("cannot build the HTTP client of token requests: {e}"))
}

/// How long after it was asked for a token that lives `lifetime` is
/// renewed: `margin` before it expires, but never more than a quarter of its
/// lifetime before (so a short-lived token serves three quarters of its life,
/// not one call).
fn renew_after(lifetime: Duration, margin: Duration) -> Duration {
    lifetime.saturating_sub(margin.min(lifetime / 4))
}

/// A token's lifetime from `expires_in`: whole seconds, a fraction rounded
/// down, as a number or a numeric string; a negative one is already over, one
/// past what a `Duration` holds is `Duration::MAX`; anything else is unknown.
fn lifetime(expires_in: &serde_json::Value) -> Option<Duration> {
    if let Some(secs) = expires_in.as_u64() {
        return Some(Duration::from_secs(secs));
    }
    let secs = match expires_in {
        serde_json::Value::Number(n) => n.as_f64()?,
        serde_json::Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    if secs.is_nan() {
        return None;
    }
    Some(Duration::try_from_secs_f64(secs.max(0.0).floor()).unwrap_or(Duration::MAX))
}

impl TokenSource for PasswordGrant {
    fn token(&self, rejected: Option<SecretString>) -> BoxFuture<'_, Result<SecretString, Error>> {
        Box::pin(self.get(rejected))
    }

    fn can_refresh(&self) -> bool {
        true
    }

    fn endpoint(&self) -> Option<&str> {
        Some(&self.endpoint.token_url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renewal_leaves_a_margin_of_at_most_a_quarter_of_the_lifetime() {
        let s = Duration::from_secs;
        // A long-lived token: the configured margin.
        assert_eq!(renew_after(s(300), s(30)), s(270));
        assert_eq!(renew_after(s(3600), s(30)), s(3570));
        // Short-lived ones: a quarter of their life, not renewed on every call.
        assert_eq!(renew_after(s(30), s(30)), Duration::from_millis(22_500));
        assert_eq!(renew_after(s(10), s(30)), Duration::from_millis(7_500));
        assert_eq!(renew_after(s(120), s(30)), s(90));
        // Already over.
        assert_eq!(renew_after(Duration::ZERO, s(30)), Duration::ZERO);
        assert_eq!(renew_after(Duration::MAX, s(30)), Duration::MAX - s(30));
    }

    #[test]
    fn expires_in_is_whole_seconds_rounded_down_and_saturating() {
        let secs = |v: serde_json::Value| lifetime(&v);
        assert_eq!(secs(json!(3600)), Some(Duration::from_secs(3600)));
        assert_eq!(secs(json!(3600.5)), Some(Duration::from_secs(3600)));
        assert_eq!(secs(json!("299")), Some(Duration::from_secs(299)));
        assert_eq!(secs(json!(-5)), Some(Duration::ZERO));
        assert_eq!(secs(json!(u64::MAX)), Some(Duration::from_secs(u64::MAX)));
        assert_eq!(secs(json!(1e30)), Some(Duration::MAX));
        assert_eq!(secs(json!("soon")), None);
        assert_eq!(secs(json!(null)), None);
        assert_eq!(secs(json!({"s": 1})), None);
    }
}
