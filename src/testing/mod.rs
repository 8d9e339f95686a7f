//! Test your own code against the providers' APIs without an account or a
//! network.
//!
//! With the `testing` feature, one in-process fake per enabled provider, each
//! an HTTP server on a loopback port, stateful and seeded with realistic
//! images, and an S3 server to stage uploads in:
//!
//! | fake | behaves like the real API in | seed and settings |
//! |---|---|---|
//! | [`FakeContabo`] | pages (`page`/`size`, `_pagination`, `_links` with `first`, `previous`, `self`, `next`, `last` keeping the filters), filters and `orderBy`; audits filtered by image, request, user and `startDate`/`endDate`; a custom image downloads over a few GETs (`uploadedSizeMb` of `sizeMb`, then `downloaded`; a URL on loopback is really fetched, and the image ends `error` with `errorMessage` when it cannot be, or is not the `.qcow2`/`.iso` it is called: [`FakeContabo::fetched`], [`FakeContabo::fail_next_fetch`]); the bearer token `demo-token`; an OAuth2 password-grant endpoint ([`FakeContabo::token_url`]) whose refresh tokens expire (`400 invalid_grant`, [`FakeContabo::revoke_refresh_tokens`]); `x-request-id` must be a UUID | [`contabo::Config`] |
//! | [`FakeDigitalOcean`] | pages (`page`/`per_page` up to 200, `links.pages` on the fake keeping the filters, `meta.total`); a custom image goes `NEW` → `pending` → `available` over GETs (or `deleted` with `error_message`, [`FakeDigitalOcean::fail_next_import`]; a URL on loopback is really fetched, and an image that cannot be, or an ISO, ends `deleted`: [`FakeDigitalOcean::fetched`], [`FakeDigitalOcean::fail_next_fetch`]), an image action `in-progress` → `completed` (or `errored`, [`FakeDigitalOcean::fail_next_action`]) with its `region` object; a snapshot's account transfer, started and cancelled; the bearer token `do-demo-token`; a rate-limit budget (`ratelimit-*` headers, then 429 with `Retry-After` until `ratelimit-reset`) and a server `x-request-id` on every answer | [`digitalocean::Config`] |
//! | [`FakeIonos`] | at the root and under `/cloudapi/v6`, `href`s and `Location`s on the fake; changes answer `202 Accepted` with a `Location` whose request status goes `QUEUED` → `RUNNING` → `DONE` (or `FAILED`, [`FakeIonos::fail_next_request`]) while the image is `BUSY`; `GET /requests` and `/requests/{id}`; `depth`; `filter.<property>` on image properties and metadata (part of the value, not case-sensitive, at `depth` > 0); every image property with the real API's values (`exposeSerial`, `requireLegacyBios`, `applicationType` too, writable, any string); HTTP Basic (`user@example.com` / `ionos-demo-password`) or the token `ionos-demo-token`; an optional contract number; `X-RateLimit-*` headers | [`ionos::Config`] |
//! | [`FakeStaging`] | S3 (the [s3s](https://docs.rs/s3s) server over a temporary folder) for uploads staged before an import: signature V4 checked (`403 SignatureDoesNotMatch`, `InvalidAccessKeyId`), presigned URLs with their expiry, multipart uploads; the objects' bytes ([`FakeStaging::object`]) | [`staging::Config`] |
//!
//! An import from a URL on loopback (a presigned URL of a [`FakeStaging`])
//! is fetched by the provider fake, which reports what arrived
//! ([`FetchReport`]: status, length, format, SHA-256); a URL elsewhere is
//! never fetched. Each provider fake has:
//!
//! - `start().await` (default seed, an ephemeral port), `start_with(config).await`,
//!   and `start_on(address, config).await` for a fixed address;
//! - `base_url()`, and `client()`: the provider's client, configured for the
//!   fake (its base URL and credentials), or `client_builder()` to change
//!   more (retries, time limits) before `build()`;
//! - `requests()`: every request received ([`RecordedRequest`]: method, path,
//!   query, headers, body), `api_requests()` without token requests,
//!   `clear_requests()`, `max_in_flight()`;
//! - faults ([`Fault`]): an HTTP status for the next N matching requests
//!   (`inject(Fault::status(503).times(2))`, or `fail_next`), for one method
//!   (`.method("PATCH")`), with a body and headers of its own, after the
//!   credentials are checked (`.after_auth()`); a delay, a body cut short, the
//!   connection cut mid-request (`Fault::connection_cut()`);
//!   latency on every request (`Config`'s or `set_latency`);
//! - typed seeding: `insert_image(`[`SeedImage`]`)` (the same neutral
//!   description for every provider: name, custom or not, creation time,
//!   size, OS, [`SeedStatus`]) returns the new image's id, and
//!   `set_image_status(id, ImageState::…)` with the provider's own states;
//! - the state it holds (`images()`) and provider-specific controls.
//!
//! The server and its connections stop when the fake is dropped. It needs a
//! Tokio runtime (`#[tokio::test]` is enough) and uses no global state, so
//! tests may run in parallel, each with its own fake.
//!
//! ```
//! # #[cfg(feature = "contabo")]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), cloud_images::Error> {
//! use cloud_images::testing::{Fault, FakeContabo};
//! use cloud_images::{Execute, Paginate};
//! use futures::TryStreamExt;
//!
//! let fake = FakeContabo::start().await;
//! let client = fake.client();
//! fake.inject(Fault::status(503).matching("/stats"));  // retried by the client
//!
//! let images: Vec<_> = client.retrieve_image_list().stream().try_collect().await?;
//! assert_eq!(images.len(), 35);                        // 24 standard + 11 custom
//! let stats = client.retrieve_custom_images_stats().execute().await?;
//! assert_eq!(stats.attempts(), 2);
//!
//! let sent = fake.requests();
//! assert_eq!(sent.len(), 3);                           // one page, a 503, the retry
//! assert_eq!(sent[0].path, "/v1/compute/images");
//! assert_eq!(sent[0].header("authorization"), Some("Bearer demo-token"));
//! assert!(sent.iter().all(|r| r.header("x-request-id").is_some()));
//! # Ok(()) }
//! # #[cfg(not(feature = "contabo"))]
//! # fn main() {}
//! ```
//!
//! With the `httpmock` feature, `cloud_images::testing::httpmock` has typed
//! helpers for [httpmock](https://docs.rs/httpmock)'s `MockServer`, generated
//! from each provider's spec, for tests that script single answers
//! (`server.retrieve_image(|when, then| ...)`).

#[cfg(feature = "testing")]
mod harness;

#[cfg(feature = "testing")]
pub use harness::{Fault, ParseFaultError, RecordedRequest};

#[cfg(feature = "testing")]
mod fetch;
#[cfg(feature = "testing")]
pub use fetch::FetchReport;

#[cfg(feature = "testing")]
pub mod staging;
#[cfg(feature = "testing")]
pub use staging::FakeStaging;

#[cfg(feature = "testing")]
pub mod ftps;
#[cfg(feature = "testing")]
pub use ftps::FakeFtps;

#[cfg(feature = "testing")]
mod seed;
#[cfg(feature = "testing")]
pub use seed::{SeedImage, SeedStatus};

#[cfg(all(feature = "testing", feature = "contabo"))]
pub mod contabo;
#[cfg(all(feature = "testing", feature = "contabo"))]
pub use contabo::FakeContabo;

#[cfg(all(feature = "testing", feature = "digitalocean"))]
pub mod digitalocean;
#[cfg(all(feature = "testing", feature = "digitalocean"))]
pub use digitalocean::FakeDigitalOcean;

#[cfg(all(feature = "testing", feature = "ionos"))]
pub mod ionos;
#[cfg(all(feature = "testing", feature = "ionos"))]
pub use ionos::FakeIonos;

#[cfg(feature = "httpmock")]
pub mod httpmock;
