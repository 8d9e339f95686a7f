//! Authentication: where the `Authorization` header of each request comes from.
//!
//! A [`TokenSource`] hands the transport a credential and its scheme for every
//! attempt. The crate ships [`StaticToken`] (a ready bearer token),
//! [`BasicAuth`] (user name and password, as IONOS accepts) and
//! [`PasswordGrant`] (OAuth2 resource owner password grant, as Contabo issues
//! API tokens); anything else (a vault, a token file) can implement the trait.

mod oauth2;
pub use oauth2::PasswordGrant;

use std::fmt;
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};

use crate::Error;

/// A source of credentials for the `Authorization` header.
///
/// The transport calls [`token`](TokenSource::token) before each attempt with
/// `rejected = None`, and once with the token the API answered 401 to (then
/// retries the call once). A source that caches must be cheap when its token is
/// fresh, must replace a rejected token only if it is still the cached one, and
/// must make one refresh serve many concurrent callers.
pub trait TokenSource: fmt::Debug + Send + Sync + 'static {
    /// A credential to send as `Authorization: <scheme> <token>`; not `rejected`.
    fn token(&self, rejected: Option<SecretString>) -> BoxFuture<'_, Result<SecretString, Error>>;

    /// The `Authorization` scheme (default `Bearer`).
    fn scheme(&self) -> &'static str {
        "Bearer"
    }

    /// Whether a new token can be had after a 401 (if not, a 401 is final).
    fn can_refresh(&self) -> bool {
        false
    }

    /// Where credentials are sent, if anywhere but the API: the client
    /// builder applies its `https` rule to it.
    fn endpoint(&self) -> Option<&str> {
        None
    }

    /// The credential, when it never changes (a ready token, Basic
    /// credentials): the transport then makes its `Authorization` header
    /// once, instead of calling [`token`](TokenSource::token) for every
    /// attempt. Default: `None`.
    fn fixed_token(&self) -> Option<&SecretString> {
        None
    }
}

/// A ready bearer token, sent as it is.
///
/// ```
/// use cloud_images::auth::StaticToken;
///
/// let token = StaticToken::new("eyJhbGciOi...");
/// assert_eq!(format!("{token:?}"), "StaticToken(<redacted>)");
/// ```
#[derive(Clone)]
pub struct StaticToken(SecretString);

impl StaticToken {
    /// Wraps a token.
    pub fn new(token: impl Into<String>) -> Self {
        Self(SecretString::from(token.into()))
    }
}

impl fmt::Debug for StaticToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StaticToken(<redacted>)")
    }
}

impl TokenSource for StaticToken {
    fn token(&self, _rejected: Option<SecretString>) -> BoxFuture<'_, Result<SecretString, Error>> {
        let token = self.0.clone();
        Box::pin(async move { Ok(token) })
    }

    fn fixed_token(&self) -> Option<&SecretString> {
        Some(&self.0)
    }
}

/// HTTP Basic credentials, sent as `Authorization: Basic base64(user:password)`.
///
/// ```
/// use cloud_images::auth::BasicAuth;
///
/// let auth = BasicAuth::new("me@example.com", "s3cret");
/// let shown = format!("{auth:?}");
/// assert!(shown.contains("me@example.com") && !shown.contains("s3cret"));
/// ```
#[derive(Clone)]
pub struct BasicAuth {
    username: String,
    encoded: SecretString,
}

impl BasicAuth {
    /// Credentials of `username` with `password`.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        use base64::Engine;
        let username = username.into();
        let password = SecretString::from(password.into());
        let pair = format!("{username}:{}", password.expose_secret());
        let encoded = SecretString::from(base64::engine::general_purpose::STANDARD.encode(pair));
        Self { username, encoded }
    }

    /// The user name.
    pub fn username(&self) -> &str {
        &self.username
    }
}

/// The user name and password a client was given for HTTP Basic, kept (as
/// a secret) for a provider whose other services log in with the same pair.
#[derive(Clone)]
pub(crate) struct BasicCredentials {
    pub(crate) username: String,
    pub(crate) password: SecretString,
}

impl fmt::Debug for BasicCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicCredentials")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicAuth")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

impl TokenSource for BasicAuth {
    fn token(&self, _rejected: Option<SecretString>) -> BoxFuture<'_, Result<SecretString, Error>> {
        let encoded = self.encoded.clone();
        Box::pin(async move { Ok(encoded) })
    }

    fn scheme(&self) -> &'static str {
        "Basic"
    }

    fn fixed_token(&self) -> Option<&SecretString> {
        Some(&self.encoded)
    }
}

/// The `Authorization` header value for a credential, marked sensitive so
/// that it never shows in `Debug` output of the request.
pub(crate) fn authorization_header(scheme: &str, token: &SecretString) -> Result<HeaderValue, Error> {
    let mut value = HeaderValue::try_from(format!("{scheme} {}", token.expose_secret())).map_err(|_| {
        Error::Auth("the credential contains characters not allowed in an HTTP header".into())
    })?;
    value.set_sensitive(true);
    Ok(value)
}

/// The credential in an `Authorization` header value made by
/// [`authorization_header`] (what follows the scheme).
pub(crate) fn token_of(header: &HeaderValue) -> Option<SecretString> {
    let (_, token) = header.to_str().ok()?.split_once(' ')?;
    Some(SecretString::from(token.to_owned()))
}

/// The `Authorization` headers of a source: made once for a fixed
/// credential, else remade only when the source hands out another token.
pub(crate) struct Authorizer {
    source: Arc<dyn TokenSource>,
    /// The header of a fixed credential (or why it cannot be one).
    fixed: Option<Result<HeaderValue, String>>,
    /// The last token of a changing source and its header.
    last: Mutex<Option<(SecretString, HeaderValue)>>,
}

impl Authorizer {
    pub(crate) fn new(source: Arc<dyn TokenSource>) -> Self {
        let fixed = source.fixed_token().map(|token| {
            authorization_header(source.scheme(), token).map_err(|e| match e {
                Error::Auth(message) => message,
                other => other.to_string(),
            })
        });
        Self {
            source,
            fixed,
            last: Mutex::new(None),
        }
    }

    /// Whether the credential never changes (nothing to wait for).
    pub(crate) fn is_fixed(&self) -> bool {
        self.fixed.is_some()
    }

    /// The header for the next attempt; `rejected` is the token the API
    /// answered 401 to.
    pub(crate) async fn header(&self, rejected: Option<SecretString>) -> Result<HeaderValue, Error> {
        if let Some(fixed) = &self.fixed {
            return fixed.clone().map_err(Error::Auth);
        }
        // The token source runs as no call of its own: a generated client's
        // `send()` it may make is not taken for part of the call that needs
        // the token (whose record would take that answer's headers and body,
        // and whose ids it would send).
        let token = crate::engine::call::Call::scope(Default::default(), self.source.token(rejected)).await?;
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((cached, header)) = &*last
            && cached.expose_secret() == token.expose_secret()
        {
            return Ok(header.clone());
        }
        let header = authorization_header(self.source.scheme(), &token)?;
        *last = Some((token, header.clone()));
        Ok(header)
    }
}

impl fmt::Debug for Authorizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.source.fmt(f)
    }
}
