//! The staging store an upload goes through: an S3-compatible bucket
//! (object_store's S3 backend on the crate's reqwest and TLS), the local
//! file's checks, the streamed put, the presigned URL the cloud fetches and
//! the delete afterwards. Provider-neutral: a provider only fills in
//! defaults ([`Staging`] values).

use std::fmt;
use std::time::Duration;

use secrecy::SecretString;

use crate::values::error::Error;

#[cfg(feature = "upload")]
mod file;
#[cfg(feature = "upload")]
mod put;
#[cfg(feature = "upload")]
mod store;

#[cfg(feature = "upload")]
pub(crate) use file::{LocalImage, check_file};
#[cfg(feature = "upload")]
pub(crate) use store::{StagedObject, StagingStore};

/// The environment names of object_store's S3 backend that point staging at
/// any S3-compatible endpoint.
pub(crate) const ENV_ENDPOINT: &str = "AWS_ENDPOINT";
/// The access key id (object_store's name).
pub(crate) const ENV_ACCESS_KEY_ID: &str = "AWS_ACCESS_KEY_ID";
/// The secret access key (object_store's name).
pub(crate) const ENV_SECRET_ACCESS_KEY: &str = "AWS_SECRET_ACCESS_KEY";
/// The region requests are signed for (object_store's name).
pub(crate) const ENV_REGION: &str = "AWS_REGION";
/// `true`: plain HTTP to any endpoint (object_store's name).
pub(crate) const ENV_ALLOW_HTTP: &str = "AWS_ALLOW_HTTP";

/// The region requests are signed for unless set: what S3-compatible stores
/// commonly take, whatever they call their own regions.
pub(crate) const DEFAULT_REGION: &str = "us-east-1";

/// How long a presigned URL works unless set: long enough for a cloud to
/// start fetching it, short enough to be of little use once leaked.
pub(crate) const DEFAULT_URL_EXPIRY: Duration = Duration::from_secs(60 * 60);

/// Where an upload stages the file: an S3-compatible bucket, the key
/// prefix, the endpoint, the region and the keys. Unset parts come from
/// object_store's environment names (`AWS_ENDPOINT`, `AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ALLOW_HTTP`) when they
/// are set, else from the provider's defaults (its own object storage; see
/// the README's upload section). Plain `http` only to a loopback
/// address or with `allow_http`. `Debug` never shows the keys.
///
/// ```
/// use std::time::Duration;
/// use cloud_images::images::Staging;
///
/// let staging = Staging::parse("s3://images/incoming")?
///     .with_endpoint("https://s3.example.com")
///     .with_credentials("DO00EXAMPLE", "wJalrXUtnFEMI")
///     .with_url_expiry(Duration::from_secs(900));
/// assert_eq!(staging.bucket(), Some("images"));
/// assert_eq!(staging.prefix(), "incoming");
/// assert!(!format!("{staging:?}").contains("wJalrXUtnFEMI"));
/// # Ok::<(), cloud_images::Error>(())
/// ```
#[derive(Clone)]
pub struct Staging {
    bucket: Option<String>,
    prefix: String,
    endpoint: Option<String>,
    region: Option<String>,
    access_key_id: Option<SecretString>,
    secret_access_key: Option<SecretString>,
    allow_http: Option<bool>,
    path_style: Option<bool>,
    url_expiry: Duration,
    public_url: bool,
    part_size: usize,
    parts_in_flight: usize,
}

impl Default for Staging {
    fn default() -> Self {
        Self {
            bucket: None,
            prefix: String::new(),
            endpoint: None,
            region: None,
            access_key_id: None,
            secret_access_key: None,
            allow_http: None,
            path_style: None,
            url_expiry: DEFAULT_URL_EXPIRY,
            public_url: false,
            part_size: 8 * 1024 * 1024,
            parts_in_flight: 4,
        }
    }
}

impl fmt::Debug for Staging {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |v: &Option<SecretString>| v.as_ref().map(|_| "[set]");
        f.debug_struct("Staging")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &set(&self.access_key_id))
            .field("secret_access_key", &set(&self.secret_access_key))
            .field("allow_http", &self.allow_http)
            .field("path_style", &self.path_style)
            .field("url_expiry", &self.url_expiry)
            .field("public_url", &self.public_url)
            .field("part_size", &self.part_size)
            .field("parts_in_flight", &self.parts_in_flight)
            .finish()
    }
}

impl Staging {
    /// The bucket `bucket`, keys at its top.
    pub fn bucket_named(bucket: impl Into<String>) -> Self {
        Self {
            bucket: Some(bucket.into()),
            ..Self::default()
        }
    }

    /// `s3://BUCKET` or `s3://BUCKET/prefix`.
    pub fn parse(url: &str) -> Result<Self, Error> {
        let bad = |why: &str| {
            Error::InvalidRequest(format!(
                "staging `{}` {why}: write s3://BUCKET or s3://BUCKET/prefix",
                url.escape_debug()
            ))
        };
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| bad("is not an s3:// URL"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(bad("names no bucket"));
        }
        Ok(Self::bucket_named(bucket).with_prefix(prefix))
    }

    /// Keys start with `prefix` (slashes at either end are dropped).
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into().trim_matches('/').to_owned();
        self
    }
    /// The store's endpoint, e.g. `https://s3.example.com`.
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }
    /// The region requests are signed for.
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }
    /// The access key id and secret access key.
    pub fn with_credentials(
        mut self,
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
    ) -> Self {
        self.access_key_id = Some(SecretString::from(access_key_id.into()));
        self.secret_access_key = Some(SecretString::from(secret_access_key.into()));
        self
    }
    /// Plain `http` to an endpoint that is not loopback (`false`: only to loopback).
    pub fn with_allow_http(mut self, allow: bool) -> Self {
        self.allow_http = Some(allow);
        self
    }
    /// Path-style addressing (`https://host/bucket/key`) rather than
    /// virtual-hosted (`https://bucket.host/key`).
    pub fn with_path_style(mut self, path_style: bool) -> Self {
        self.path_style = Some(path_style);
        self
    }
    /// How long the presigned URL the cloud fetches works
    /// (an hour unless set).
    pub fn with_url_expiry(mut self, expiry: Duration) -> Self {
        self.url_expiry = expiry;
        self
    }
    /// `true`: the cloud gets the object's plain URL, without a signature,
    /// for a bucket whose policy lets anyone read its objects (a provider or
    /// store that will not take a query string); `false` (the default): a
    /// presigned URL that works for [`url_expiry`](Self::with_url_expiry).
    pub fn with_public_url(mut self, public: bool) -> Self {
        self.public_url = public;
        self
    }
    /// The preferred part size in bytes (8 MiB unless set; at least 5 MiB,
    /// raised when a file would need more than 10,000 parts).
    pub fn with_part_size(mut self, bytes: usize) -> Self {
        self.part_size = bytes;
        self
    }
    /// How many parts are sent at once (4 unless set; at least 1).
    pub fn with_parts_in_flight(mut self, parts: usize) -> Self {
        self.parts_in_flight = parts.max(1);
        self
    }

    /// The bucket, when set.
    pub fn bucket(&self) -> Option<&str> {
        self.bucket.as_deref()
    }
    /// The key prefix (empty: the bucket's top).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }
    /// The endpoint, when set.
    pub fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }
    /// The region, when set.
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }
    /// Whether both keys are set.
    pub fn has_credentials(&self) -> bool {
        self.access_key_id.is_some() && self.secret_access_key.is_some()
    }
    /// How long the presigned URL works.
    pub fn url_expiry(&self) -> Duration {
        self.url_expiry
    }

    /// Fills what is unset from object_store's environment names, read
    /// through `lookup`; keys only when both names are set.
    pub(crate) fn or_from_env(mut self, lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        if self.endpoint.is_none() {
            self.endpoint = get(ENV_ENDPOINT);
        }
        if self.region.is_none() {
            self.region = get(ENV_REGION);
        }
        if !self.has_credentials()
            && let (Some(id), Some(secret)) = (get(ENV_ACCESS_KEY_ID), get(ENV_SECRET_ACCESS_KEY))
        {
            self = self.with_credentials(id, secret);
        }
        if self.allow_http.is_none() {
            self.allow_http = get(ENV_ALLOW_HTTP).map(|v| v.trim().eq_ignore_ascii_case("true"));
        }
        self
    }

    /// Fills what is still unset from a provider's defaults.
    pub(crate) fn or_defaults(mut self, defaults: Staging) -> Self {
        self.bucket = self.bucket.or(defaults.bucket);
        if self.prefix.is_empty() {
            self.prefix = defaults.prefix;
        }
        self.endpoint = self.endpoint.or(defaults.endpoint);
        self.region = self.region.or(defaults.region);
        if !self.has_credentials() {
            self.access_key_id = defaults.access_key_id;
            self.secret_access_key = defaults.secret_access_key;
        }
        self.allow_http = self.allow_http.or(defaults.allow_http);
        self.path_style = self.path_style.or(defaults.path_style);
        self
    }
}

/// A staging store failure, with what was asked of it.
pub(crate) fn staging_error(operation: String, e: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::Staging {
        operation,
        source: Box::new(e),
    }
}

/// Whether `endpoint` may be reached over plain HTTP: `https`, a loopback
/// address, or `allow_http`. The reason otherwise.
pub(crate) fn check_endpoint(endpoint: &str, allow_http: bool) -> Result<(), Error> {
    let url = reqwest::Url::parse(endpoint).map_err(|e| {
        Error::InvalidRequest(format!(
            "staging endpoint `{}` is not a URL: {e}",
            crate::values::url::redact(endpoint).escape_debug()
        ))
    })?;
    match url.scheme() {
        "https" => Ok(()),
        "http" if allow_http || crate::values::url::is_loopback(&url) => Ok(()),
        scheme => Err(Error::InvalidRequest(format!(
            "staging endpoint `{}`: {scheme} is allowed only to a loopback address or with AWS_ALLOW_HTTP=true (`Staging::with_allow_http`); use https",
            crate::values::url::redact(endpoint).escape_debug()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_s3_url_names_the_bucket_and_prefix() {
        let s = Staging::parse("s3://images/a/b/").unwrap();
        assert_eq!((s.bucket(), s.prefix()), (Some("images"), "a/b"));
        assert_eq!(Staging::parse("s3://images").unwrap().prefix(), "");
        for bad in ["images", "https://x/y", "s3://", "s3:///p"] {
            let e = Staging::parse(bad).unwrap_err();
            assert!(e.is_invalid_request(), "{bad}: {e}");
        }
    }

    #[test]
    fn the_builder_wins_over_the_environment_which_wins_over_defaults() {
        let env = |name: &str| {
            Some(
                match name {
                    ENV_ENDPOINT => "http://10.0.0.1:9000",
                    ENV_ACCESS_KEY_ID => "env-id",
                    ENV_SECRET_ACCESS_KEY => "env-secret",
                    ENV_ALLOW_HTTP => "TRUE",
                    _ => return None,
                }
                .to_owned(),
            )
        };
        let defaults = Staging::bucket_named("default")
            .with_endpoint("https://s3.example.com")
            .with_region("fra1")
            .with_credentials("default-id", "default-secret");
        let s = Staging::bucket_named("mine")
            .or_from_env(env)
            .or_defaults(defaults.clone());
        assert_eq!(s.bucket(), Some("mine"));
        assert_eq!(s.endpoint(), Some("http://10.0.0.1:9000"));
        assert_eq!(s.region(), Some("fra1"));
        assert_eq!(s.allow_http, Some(true));
        use secrecy::ExposeSecret;
        assert_eq!(s.access_key_id.as_ref().unwrap().expose_secret(), "env-id");

        let s = Staging::default()
            .with_endpoint("https://own")
            .or_from_env(|_| None)
            .or_defaults(defaults.clone());
        assert_eq!((s.bucket(), s.endpoint()), (Some("default"), Some("https://own")));
        assert_eq!(s.access_key_id.as_ref().unwrap().expose_secret(), "default-id");

        let only_id = |name: &str| (name == ENV_ACCESS_KEY_ID).then(|| "x".to_owned());
        let s = Staging::default().or_from_env(only_id).or_defaults(defaults);
        assert_eq!(
            s.access_key_id.as_ref().unwrap().expose_secret(),
            "default-id",
            "one key of a pair is not used"
        );
        assert!(!format!("{s:?}").contains("default-secret"));
    }

    #[test]
    fn plain_http_only_to_loopback_or_when_allowed() {
        for ok in [
            "https://s3.example.com",
            "http://127.0.0.1:9000",
            "http://[::1]:1",
            "http://localhost:9",
        ] {
            assert!(check_endpoint(ok, false).is_ok(), "{ok}");
        }
        let e = check_endpoint("http://minio.lan:9000", false).unwrap_err();
        assert!(e.to_string().contains("AWS_ALLOW_HTTP"), "{e}");
        assert!(check_endpoint("http://minio.lan:9000", true).is_ok());
        assert!(check_endpoint("ftp://x", true).is_err());
        assert!(check_endpoint("not a url", true).is_err());
    }
}
