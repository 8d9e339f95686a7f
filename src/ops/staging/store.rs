//! The bucket itself: opened from a [`Staging`], the staged object, its URL
//! for the cloud and its delete, also when an upload is dropped midway.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::signer::Signer;
use object_store::{BackoffConfig, ClientOptions, ObjectStoreExt, RetryConfig};
use secrecy::{ExposeSecret, SecretString};

use super::file::{LocalImage, object_key, object_name};
use super::{Staging, check_endpoint, put, staging_error};
use crate::values::error::Error;

/// How long one request to the store may take (a part of several MiB on a
/// slow line included).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);
/// How long connecting to the store may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// An opened bucket: where the file goes.
#[derive(Clone)]
pub(crate) struct StagingStore {
    pub(super) inner: Arc<AmazonS3>,
    bucket: String,
    prefix: String,
    expiry: Duration,
    public_url: bool,
    pub(super) part_size: usize,
    pub(super) parts_in_flight: usize,
}

impl fmt::Debug for StagingStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StagingStore")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// object_store's retries of one request (a part, the delete): a few, with
/// a short backoff, within a minute.
fn retry_config() -> RetryConfig {
    RetryConfig {
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            base: 2.0,
        },
        max_retries: 4,
        retry_timeout: Duration::from_secs(60),
    }
}

impl StagingStore {
    /// Opens the bucket `staging` names: it needs a bucket, an endpoint and
    /// both keys (each named when missing), and `https` unless allowed.
    pub(crate) fn open(staging: &Staging) -> Result<Self, Error> {
        let missing = |what: &str| Error::InvalidRequest(format!("upload: the staging store has no {what}"));
        let bucket = staging
            .bucket
            .clone()
            .ok_or_else(|| missing("bucket (`s3://BUCKET`: `Staging::parse`)"))?;
        let endpoint = staging
            .endpoint
            .clone()
            .ok_or_else(|| missing("endpoint (AWS_ENDPOINT or `Staging::with_endpoint`)"))?;
        let (Some(id), Some(secret)) = (&staging.access_key_id, &staging.secret_access_key) else {
            return Err(missing(
                "keys (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or `Staging::with_credentials`)",
            ));
        };
        check_endpoint(&endpoint, staging.allow_http.unwrap_or(false))?;
        let client = ClientOptions::new()
            // Checked above: https, loopback, or allowed.
            .with_allow_http(true)
            .with_timeout(REQUEST_TIMEOUT)
            .with_connect_timeout(CONNECT_TIMEOUT);
        let store = AmazonS3Builder::new()
            .with_bucket_name(&bucket)
            .with_endpoint(endpoint.trim_end_matches('/'))
            .with_region(staging.region.as_deref().unwrap_or(super::DEFAULT_REGION))
            .with_access_key_id(id.expose_secret())
            .with_secret_access_key(secret.expose_secret())
            .with_virtual_hosted_style_request(!staging.path_style.unwrap_or(true))
            .with_client_options(client)
            .with_retry(retry_config())
            .build()
            .map_err(|e| staging_error(format!("open bucket {bucket}"), e))?;
        Ok(Self {
            inner: Arc::new(store),
            bucket,
            prefix: staging.prefix.clone(),
            expiry: staging.url_expiry,
            public_url: staging.public_url,
            part_size: staging.part_size,
            parts_in_flight: staging.parts_in_flight.max(1),
        })
    }

    /// The bucket's name.
    pub(crate) fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Sends `file` as the image `name` to a fresh key, calling
    /// `progress(sent, total)`; the staged object is deleted when it is
    /// dropped unless it is [`keep`](StagedObject::keep)t or deleted first. A
    /// failed or dropped put leaves nothing behind (the multipart upload is
    /// aborted).
    pub(crate) async fn put(
        &self,
        name: &str,
        file: &LocalImage,
        progress: &mut (dyn FnMut(u64, u64) + Send),
    ) -> Result<StagedObject, Error> {
        let folder = uuid::Uuid::new_v4().to_string();
        let key = Path::from(object_key(
            &self.prefix,
            &folder,
            &object_name(name, &file.extension, file.format),
        ));
        put::put_file(self, &key, file, progress).await?;
        Ok(StagedObject {
            store: self.clone(),
            key,
            armed: true,
        })
    }
}

/// An object in the staging store, deleted when dropped (a task is spawned
/// for it) unless deleted or kept before.
pub(crate) struct StagedObject {
    store: StagingStore,
    key: Path,
    armed: bool,
}

impl fmt::Debug for StagedObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StagedObject")
            .field("bucket", &self.store.bucket)
            .field("key", &self.key.as_ref())
            .finish()
    }
}

impl StagedObject {
    /// The key in the bucket.
    pub(crate) fn key(&self) -> &str {
        self.key.as_ref()
    }

    /// The URL the cloud fetches: presigned for the store's expiry, or the
    /// object's plain URL for a bucket that lets anyone read
    /// ([`Staging::with_public_url`]). A secret either way.
    pub(crate) async fn url(&self) -> Result<SecretString, Error> {
        let mut url = self
            .store
            .inner
            .signed_url(http::Method::GET, &self.key, self.store.expiry)
            .await
            .map_err(|e| staging_error(format!("sign {}", self.key), e))?;
        if self.store.public_url {
            url.set_query(None);
        }
        Ok(SecretString::from(String::from(url)))
    }

    /// Leaves the object in the bucket.
    pub(crate) fn keep(mut self) {
        self.armed = false;
    }

    /// Deletes the object now.
    pub(crate) async fn delete(mut self) -> Result<(), Error> {
        self.armed = false;
        delete(&self.store, &self.key).await
    }
}

async fn delete(store: &StagingStore, key: &Path) -> Result<(), Error> {
    store
        .inner
        .delete(key)
        .await
        .map_err(|e| staging_error(format!("delete {key}"), e))
}

impl Drop for StagedObject {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let (store, key) = (self.store.clone(), self.key.clone());
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    if let Err(e) = delete(&store, &key).await {
                        tracing::warn!(error = %e, "the staged object of a dropped upload was not deleted");
                    }
                });
            }
            Err(_) => {
                tracing::warn!(key = %key, "a staged object is left behind: no runtime to delete it on")
            }
        }
    }
}
