//! OAuth2 resource owner password grant with a cached, refreshed token.

use std::fmt;
use std::time::Duration;

use futures::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::TokenSource;
use crate::Error;

/// Tokens from an OAuth2 password grant (`grant_type=password` with client id
/// and secret, API user and password), as Contabo issues API tokens.
///
/// The token is cached and renewed [`refresh_margin`](Self::refresh_margin)
/// before it expires (from `expires_in`): with the `refresh_token` when the
/// server gave one, else with a new password grant. Concurrent callers share
/// one token request. A token the API rejected with 401 is replaced once.
/// Secrets are never in `Debug` output or error messages.
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
    token_url: String,
    client_id: String,
    client_secret: SecretString,
    username: String,
    password: SecretString,
    refresh_margin: Duration,
    http: reqwest::Client,
    cache: Mutex<Option<Cached>>,
}

struct Cached {
    access: SecretString,
    refresh: Option<SecretString>,
    renew_at: Option<Instant>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
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
        f.debug_struct("PasswordGrant")
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("refresh_margin", &self.refresh_margin)
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
        Self {
            token_url: token_url.into(),
            client_id: client_id.into(),
            client_secret: SecretString::from(client_secret.into()),
            username: username.into(),
            password: SecretString::from(password.into()),
            refresh_margin: Duration::from_secs(30),
            http: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap_or_default(),
            cache: Mutex::new(None),
        }
    }

    /// How long before expiry a token is renewed (default 30 s).
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }

    /// The token endpoint.
    pub fn token_url(&self) -> &str {
        &self.token_url
    }

    async fn get(&self, rejected: Option<SecretString>) -> Result<SecretString, Error> {
        // Holding the lock across the request makes one request serve every
        // caller that waits meanwhile.
        let mut cache = self.cache.lock().await;
        if let Some(cached) = cache.as_ref() {
            let was_rejected = rejected
                .as_ref()
                .is_some_and(|r| r.expose_secret() == cached.access.expose_secret());
            let fresh = cached.renew_at.is_none_or(|at| Instant::now() < at);
            if fresh && !was_rejected {
                return Ok(cached.access.clone());
            }
        }
        let refresh = cache.as_ref().and_then(|c| c.refresh.clone());
        let response = match refresh {
            Some(refresh) => match self
                .request(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh.expose_secret()),
                ])
                .await
            {
                Ok(response) => response,
                // An expired or revoked refresh token: start over.
                Err(_) => self.password_grant().await?,
            },
            None => self.password_grant().await?,
        };
        let renew_at = response
            .expires_in
            .map(|secs| Instant::now() + Duration::from_secs(secs).saturating_sub(self.refresh_margin));
        let cached = Cached {
            access: SecretString::from(response.access_token),
            refresh: response.refresh_token.map(SecretString::from),
            renew_at,
        };
        let token = cached.access.clone();
        *cache = Some(cached);
        Ok(token)
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
        tracing::debug!(token_url = %self.token_url, grant_type = kind, "requesting an access token");
        let response = self
            .http
            .post(&self.token_url)
            .form(&form)
            .send()
            .await
            .map_err(|e| Error::Auth(format!("cannot reach the token endpoint {}: {e}", self.token_url)))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| Error::Auth(format!("cannot read the token endpoint's answer: {e}")))?;
        if status.is_success() {
            return serde_json::from_slice(&body).map_err(|e| {
                Error::Auth(format!(
                    "the token endpoint {} sent no usable access_token: {e}",
                    self.token_url
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
            _ => format!("the token endpoint {} answered HTTP {status}", self.token_url),
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

impl TokenSource for PasswordGrant {
    fn token(&self, rejected: Option<SecretString>) -> BoxFuture<'_, Result<SecretString, Error>> {
        Box::pin(self.get(rejected))
    }

    fn can_refresh(&self) -> bool {
        true
    }

    fn endpoint(&self) -> Option<&str> {
        Some(&self.token_url)
    }
}
