//! The client builder every provider shares.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::Error;
use secrecy::SecretString;

use crate::engine::auth::{BasicAuth, BasicCredentials, StaticToken, TokenSource};
use crate::engine::hooks::Hooks;
use crate::engine::provider::{ApiClient, Provider};
use crate::engine::retry::RetryPolicy;
use crate::engine::timeouts::Timeouts;
use crate::engine::transport::{Settings, Transport};
use crate::values::url::redact;

/// Builds a provider's client: where to, how to authenticate, trace id,
/// retries, time limits.
///
/// Credentials are only sent over `https`, or to a loopback address; anything
/// else needs [`allow_insecure_http`](Self::allow_insecure_http). A base or
/// token URL is scheme, host, port and path: one with a query, a fragment or a
/// user name or password is refused (and the password never shown).
///
/// ```
/// use std::time::Duration;
/// use cloud_images::provider::ClientInfo;
/// use cloud_images::{RetryPolicy, Timeouts};
/// # #[cfg(feature = "contabo")] {
/// use cloud_images::contabo::Client;
///
/// let client = Client::builder()
///     .bearer_token("my-token")
///     .trace_id("image-pipeline")
///     .retry_policy(RetryPolicy::default().with_max_attempts(5))
///     .timeouts(Timeouts::default().with_operation(Duration::from_secs(60)))
///     .build()
///     .unwrap();
/// assert_eq!(client.baseurl(), "https://api.contabo.com");
/// // Secrets never show in Debug:
/// assert!(!format!("{client:?}").contains("my-token"));
///
/// // Plain http to a non-loopback host is refused while credentials are set:
/// let err = Client::builder().base_url("http://example.com").bearer_token("t").build().unwrap_err();
/// assert!(err.to_string().contains("https"));
/// # }
/// ```
pub struct ClientBuilder<P> {
    base_url: Option<String>,
    auth: Option<Arc<dyn TokenSource>>,
    trace_id: Option<String>,
    default_headers: Vec<(String, String)>,
    retry: RetryPolicy,
    timeouts: Timeouts,
    user_agent: Option<String>,
    allow_insecure_http: bool,
    http: Option<reqwest::Client>,
    max_body_size: u64,
    /// A provider's own settings (one value a type), which the built
    /// client's transport keeps for the provider's code.
    extensions: http::Extensions,
    /// Why a setter refused its value, reported by `build()`.
    refused: Option<String>,
    provider: PhantomData<fn() -> P>,
}

impl<P> fmt::Debug for ClientBuilder<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &self.base_url.as_deref().map(redact))
            .field("auth", &self.auth)
            .field("trace_id", &self.trace_id)
            .field(
                "default_headers",
                &self.default_headers.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .field("retry", &self.retry)
            .field("timeouts", &self.timeouts)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field("max_body_size", &self.max_body_size)
            .finish_non_exhaustive()
    }
}

impl<P> Default for ClientBuilder<P> {
    fn default() -> Self {
        Self {
            base_url: None,
            auth: None,
            trace_id: None,
            default_headers: Vec::new(),
            retry: RetryPolicy::default(),
            timeouts: Timeouts::default(),
            user_agent: None,
            allow_insecure_http: false,
            http: None,
            max_body_size: crate::transport::DEFAULT_MAX_BODY_SIZE,
            extensions: http::Extensions::new(),
            refused: None,
            provider: PhantomData,
        }
    }
}

impl<P: Provider> ClientBuilder<P> {
    /// A builder with the provider's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// The API's base URL (default: the provider's public API).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Authenticate with a ready bearer token.
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.extensions.remove::<BasicCredentials>();
        self.auth = Some(Arc::new(StaticToken::new(token)));
        self
    }

    /// Authenticate with HTTP Basic (`Authorization: Basic ...`).
    pub fn basic_auth(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        let (username, password) = (username.into(), password.into());
        self.extensions.insert(BasicCredentials {
            username: username.clone(),
            password: SecretString::from(password.clone()),
        });
        self.auth = Some(Arc::new(BasicAuth::new(username, password)));
        self
    }

    /// Authenticate with tokens from `source` (e.g. an OAuth2 grant).
    pub fn token_source(mut self, source: impl TokenSource) -> Self {
        self.extensions.remove::<BasicCredentials>();
        self.auth = Some(Arc::new(source));
        self
    }

    /// An `x-trace-id` sent with every request (overridable per call).
    pub fn trace_id(mut self, trace_id: impl Into<String>) -> Self {
        self.trace_id = Some(trace_id.into());
        self
    }

    /// A header sent with every request (every attempt) unless the call
    /// sets it itself, e.g. through a generated builder's header parameter.
    /// Setting a name again replaces its value. The id headers keep their
    /// own rules: a chosen trace id ([`trace_id`](Self::trace_id) or the
    /// call's) wins over a default `x-trace-id`, and every attempt gets its
    /// own `x-request-id` unless the call chose one; a default value of
    /// either must be a valid id (1 to 128 printable ASCII characters, see
    /// [`request_id`](crate::request_id)) like any other. `Debug` shows the names
    /// only. Credentials go through [`bearer_token`](Self::bearer_token),
    /// [`basic_auth`](Self::basic_auth) or
    /// [`token_source`](Self::token_source), so that their `https` rule
    /// applies: an `Authorization` header here is refused.
    ///
    /// ```
    /// # #[cfg(feature = "contabo")] {
    /// use cloud_images::contabo::Client;
    ///
    /// let client = Client::builder().default_header("x-team", "images").build();
    /// assert!(client.is_ok());
    /// let err = Client::builder().default_header("bad name", "x").build().unwrap_err();
    /// assert!(err.to_string().contains("`bad name` is not a valid HTTP header name"), "{err}");
    /// let err = Client::builder().default_header("Authorization", "Bearer t").build().unwrap_err();
    /// assert!(err.to_string().contains("bearer_token"), "{err}");
    /// let err = Client::builder().default_header("X-Trace-Id", "x".repeat(129)).build().unwrap_err();
    /// assert!(err.to_string().contains("more than the 128 allowed"), "{err}");
    /// # }
    /// ```
    pub fn default_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into();
        self.default_headers
            .retain(|(n, _)| !n.eq_ignore_ascii_case(&name));
        self.default_headers.push((name, value.into()));
        self
    }

    /// When and how to retry (default: [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Time limits (default: [`Timeouts::default`]).
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// The `User-Agent` (default: `cloud-images/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Allow sending credentials over plain `http` to a host that is not
    /// loopback. Only for trusted networks.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// The largest response body read, in bytes (default
    /// [`DEFAULT_MAX_BODY_SIZE`](crate::transport::DEFAULT_MAX_BODY_SIZE), 16 MiB). A
    /// larger answer is not read past the limit and ends the call with
    /// [`Error::BodyTooLarge`].
    ///
    /// ```
    /// # #[cfg(feature = "contabo")] {
    /// let client = cloud_images::contabo::Client::builder().max_body_size(1 << 20).build().unwrap();
    /// assert_eq!(client.transport().max_body_size(), 1 << 20);
    /// # }
    /// ```
    pub fn max_body_size(mut self, bytes: u64) -> Self {
        self.max_body_size = bytes;
        self
    }

    /// Use this `reqwest::Client` (its own connect timeout, proxy, TLS and
    /// redirect settings then apply, not [`Timeouts::connect`] or
    /// `user_agent`; an answer from outside the base URL is still refused). The
    /// attempt and operation limits of [`Timeouts`] still apply; a `timeout`
    /// or `read_timeout` of the client's own applies as well, and fails a
    /// call as [`Error::Transport`] (for which `is_timeout()` holds).
    ///
    /// Start from [`transport::api_http_client_builder`](crate::engine::tls::api_http_client_builder),
    /// as the clients this crate builds do: it leaves retries to the layer.
    /// reqwest's default instead resends a request an HTTP/2 server refused
    /// itself, with the same request id and outside the attempt count, and
    /// copies every request for that.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Checks the settings and builds the client.
    pub fn build(self) -> Result<P::Client, Error> {
        if let Some(reason) = self.refused {
            return Err(Error::Config(reason));
        }
        let base_url = self
            .base_url
            .as_deref()
            .unwrap_or(P::DEFAULT_BASE_URL)
            .trim_end_matches('/');
        let shown = redact(base_url);
        let url = reqwest::Url::parse(base_url)
            .map_err(|e| Error::Config(format!("{} base URL `{shown}` is not a URL: {e}", P::NAME)))?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err(Error::Config(format!(
                "{} base URL `{shown}` has scheme `{}`; expected https or http",
                P::NAME,
                url.scheme()
            )));
        }
        crate::values::url::check(&url)
            .map_err(|why| Error::Config(format!("{} base URL `{shown}` {why}", P::NAME)))?;
        if let Some(auth) = &self.auth {
            self.credentials_may_go_to(&url, &shown)?;
            if let Some(endpoint) = auth.endpoint() {
                let shown = redact(endpoint);
                let url = reqwest::Url::parse(endpoint)
                    .map_err(|e| Error::Config(format!("token URL `{shown}` is not a URL: {e}")))?;
                crate::values::url::check(&url)
                    .map_err(|why| Error::Config(format!("token URL `{shown}` {why}")))?;
                self.credentials_may_go_to(&url, &shown)?;
            }
        }
        let trace_id = self
            .trace_id
            .map(|t| {
                crate::values::ids::check_id("trace id", t.as_bytes()).map_err(Error::Config)?;
                HeaderValue::try_from(t.as_str())
                    .map_err(|_| Error::Config(format!("trace id `{t}` is not a valid HTTP header value")))
            })
            .transpose()?;
        let default_headers =
            default_headers(&self.default_headers, &[P::REQUEST_ID_HEADER, P::TRACE_ID_HEADER])?;
        let http = match self.http {
            Some(http) => http,
            None => {
                let mut builder =
                    crate::engine::tls::api_http_client_builder()?
                        .redirect(crate::engine::redirect::policy_under(&url))
                        .user_agent(self.user_agent.unwrap_or_else(|| {
                            concat!("cloud-images/", env!("CARGO_PKG_VERSION")).to_owned()
                        }));
                if let Some(connect) = self.timeouts.connect() {
                    builder = builder.connect_timeout(connect);
                }
                builder
                    .build()
                    .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?
            }
        };
        let transport = Transport::new(Settings {
            auth: self.auth,
            trace_id,
            default_headers,
            retry: self.retry,
            timeouts: self.timeouts,
            provider: Hooks::of::<P>(),
            base_url: url,
            max_body_size: self.max_body_size,
            extensions: self.extensions,
        });
        Ok(P::Client::from_parts(base_url, http, transport))
    }
}

impl<P> ClientBuilder<P> {
    /// The provider's own setting of type `T` (its default until set), kept
    /// by the built client's transport ([`Transport::extension`]).
    pub(crate) fn extension_mut<T: Default + Clone + Send + Sync + 'static>(&mut self) -> &mut T {
        self.extensions.get_or_insert_default::<T>()
    }

    /// Records that a provider's setter refused its value: `build()` fails
    /// with `reason` (the first one).
    pub(crate) fn refuse(mut self, reason: String) -> Self {
        self.refused.get_or_insert(reason);
        self
    }

    /// Credentials go over https, or to a loopback address, or anywhere
    /// after `allow_insecure_http(true)`.
    fn credentials_may_go_to(&self, url: &reqwest::Url, shown: &str) -> Result<(), Error> {
        if url.scheme() == "https" || self.allow_insecure_http || crate::values::url::is_loopback(url) {
            return Ok(());
        }
        Err(Error::Config(format!(
            "refusing to send credentials over plain {} to {shown}: use https, a loopback address, \
             or allow_insecure_http(true)",
            url.scheme()
        )))
    }
}

/// Checks the default headers; a value is never shown in an error (it may be
/// a key of some kind), except that of an id header (`id_headers`, the
/// provider's request and trace id headers), which keeps the id rules.
fn default_headers(headers: &[(String, String)], id_headers: &[&str]) -> Result<HeaderMap, Error> {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let parsed = HeaderName::try_from(name.as_str()).map_err(|_| {
            Error::Config(format!(
                "`{}` is not a valid HTTP header name",
                crate::values::text::id_for_display(name)
            ))
        })?;
        if id_headers.iter().any(|h| h.eq_ignore_ascii_case(parsed.as_str())) {
            crate::values::ids::check_id(&format!("default header {parsed}"), value.as_bytes())
                .map_err(Error::Config)?;
        }
        if matches!(
            parsed,
            reqwest::header::AUTHORIZATION | reqwest::header::PROXY_AUTHORIZATION
        ) {
            return Err(Error::Config(format!(
                "`{parsed}` is not a default header: use bearer_token, basic_auth or token_source"
            )));
        }
        let value = HeaderValue::try_from(value.as_str()).map_err(|_| {
            Error::Config(format!(
                "the value of header `{parsed}` is not a valid HTTP header value"
            ))
        })?;
        map.insert(parsed, value);
    }
    Ok(map)
}

/// A provider whose clients can be configured from its own environment
/// variables: [`ClientBuilder::from_env`].
pub trait FromEnv: Provider {
    /// Sets up `builder` from the provider's variables, as `get` gives them
    /// (an empty value counts as unset). A missing or invalid
    /// variable is an [`Error::Config`] naming it.
    fn configure(
        builder: ClientBuilder<Self>,
        get: &dyn Fn(&str) -> Option<String>,
    ) -> Result<ClientBuilder<Self>, Error>;
}

impl<P: FromEnv> ClientBuilder<P> {
    /// A builder configured from the provider's own environment variables
    /// (Contabo: `CNTB_*`, DigitalOcean: `DIGITALOCEAN_*`, IONOS: `IONOS_*`;
    /// see each provider's module). A missing or invalid variable is an
    /// [`Error::Config`] naming it; secrets are never shown.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) with another source of variables.
    ///
    /// ```
    /// # #[cfg(feature = "contabo")] {
    /// use cloud_images::ClientBuilder;
    /// use cloud_images::contabo::Contabo;
    ///
    /// let vars = [("CNTB_OAUTH2_CLIENT_ID", "id"), ("CNTB_OAUTH2_USER", "me@example.com")];
    /// let lookup = |name: &str| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string());
    /// let err = ClientBuilder::<Contabo>::from_lookup(lookup).unwrap_err();
    /// assert!(err.to_string().contains("CNTB_OAUTH2_CLIENT_SECRET is not set"));
    /// # }
    /// ```
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        P::configure(Self::new(), &|name| lookup(name).filter(|v| !v.is_empty()))
    }
}

/// What a provider's module writes once for its generated client: the
/// progenitor hooks into the [`Transport`], [`ApiClient`], and the
/// constructors `builder()` and `from_env()` and the getter `transport()`.
/// `check: f` adds the provider's own rules for a request's values
/// (`fn(&reqwest::Request) -> Result<(), String>`), applied before anything
/// is sent; a refusal is [`Error::InvalidRequest`].
macro_rules! impl_generated_client {
    ($client:ty, $provider:ty) => {
        $crate::engine::builder::impl_generated_client!($client, $provider, check: |_| Ok(()));
    };
    ($client:ty, $provider:ty, check: $check:expr) => {
        impl ::progenitor_client::ClientHooks<$crate::engine::transport::Transport> for $client {
            async fn pre<E>(
                &self,
                request: &mut ::reqwest::Request,
                info: &::progenitor_client::OperationInfo,
            ) -> ::std::result::Result<(), ::progenitor_client::Error<E>> {
                let check: fn(&::reqwest::Request) -> ::std::result::Result<(), String> = $check;
                if let Err(reason) = check(request) {
                    return Err(::progenitor_client::Error::InvalidRequest(reason));
                }
                self.inner.pre(request, info).await
            }

            // Not an `async fn`: that would be one more future holding the
            // request.
            fn exec(
                &self,
                request: ::reqwest::Request,
                info: &::progenitor_client::OperationInfo,
            ) -> impl ::std::future::Future<Output = ::reqwest::Result<::reqwest::Response>> {
                self.inner.exec(&self.client, request, info)
            }
        }

        impl $crate::engine::provider::ApiClient for $client {
            fn from_parts(
                base_url: &str,
                http: ::reqwest::Client,
                transport: $crate::engine::transport::Transport,
            ) -> Self {
                Self::new_with_client(base_url, http, transport)
            }
        }

        impl $client {
            /// A builder for a client of this provider, with its defaults
            /// (its public API's base URL, the default retries and time
            /// limits); see [`ClientBuilder`]($crate::ClientBuilder).
            pub fn builder() -> $crate::ClientBuilder<$provider> {
                $crate::ClientBuilder::new()
            }

            /// A client configured from the provider's environment
            /// variables: [`ClientBuilder::from_env`]($crate::ClientBuilder::from_env),
            /// then `build()`.
            pub fn from_env() -> ::std::result::Result<Self, $crate::Error> {
                $crate::ClientBuilder::<$provider>::from_env()?.build()
            }

            /// The client's request pipeline (retry policy, time limits).
            pub fn transport(&self) -> &$crate::engine::transport::Transport {
                &self.inner
            }
        }
    };
}
pub(crate) use impl_generated_client;
