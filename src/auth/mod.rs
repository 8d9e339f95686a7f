//! Authentication: where the bearer token of each request comes from.
//!
//! A [`TokenSource`] hands the transport a token for every attempt. The crate
//! ships [`StaticToken`] (a ready token) and [`PasswordGrant`] (OAuth2 resource
//! owner password grant, as Contabo issues API tokens); anything else (a vault,
//! a token file) can implement the trait.

mod oauth2;
pub use oauth2::PasswordGrant;

use std::fmt;

use futures::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};

use crate::Error;

/// A source of bearer tokens.
///
/// The transport calls [`token`](TokenSource::token) before each attempt with
/// `rejected = None`, and once with the token the API answered 401 to (then
/// retries the call once). A source that caches must be cheap when its token is
/// fresh, must replace a rejected token only if it is still the cached one, and
/// must make one refresh serve many concurrent callers.
pub trait TokenSource: fmt::Debug + Send + Sync + 'static {
    /// A token to send as `Authorization: Bearer <token>`; not `rejected`.
    fn token(&self, rejected: Option<SecretString>) -> BoxFuture<'_, Result<SecretString, Error>>;

    /// Whether a new token can be had after a 401 (if not, a 401 is final).
    fn can_refresh(&self) -> bool {
        false
    }

    /// Where credentials are sent, if anywhere but the API: the client
    /// builder applies its `https` rule to it.
    fn endpoint(&self) -> Option<&str> {
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
}

/// The `Authorization` header value for a token, marked sensitive so that it
/// never shows in `Debug` output of the request.
pub(crate) fn bearer_header(token: &SecretString) -> Result<reqwest::header::HeaderValue, Error> {
    let mut value = reqwest::header::HeaderValue::try_from(format!("Bearer {}", token.expose_secret()))
        .map_err(|_| {
            Error::Auth("the access token contains characters not allowed in an HTTP header".into())
        })?;
    value.set_sensitive(true);
    Ok(value)
}
