//! Manage cloud VM images from Rust on Contabo, DigitalOcean and IONOS
//! Cloud: list the standard and custom images of an account, import one from
//! a URL, rename it, wait until it is ready, delete it, with one API over the
//! three clouds ([`images`]) and each cloud's full generated client beneath it.
//!
//! ```no_run
//! use cloud_images::images::{self, Error, ListFilter};
//! use futures::TryStreamExt;
//!
//! # async fn demo() -> Result<(), Error> {
//! // CLOUD_IMAGES_PROVIDER=contabo|digitalocean|ionos, and that provider's own variables.
//! let images = images::from_env(None)?;
//! let mut own = images.list(ListFilter::default().with_custom(true));
//! while let Some(image) = own.try_next().await? {
//!     println!("{} {} {} {}", image.provider, image.id, image.name, image.status);
//! }
//! # Ok(()) }
//! ```
//!
//! An error's `Display` is one line with the operation, the HTTP status, the
//! API's message and the request id support can find:
//! `images_list: HTTP 401 Unauthorized: Unable to authenticate you (request id 2f6c…)`.
//!
//! ```toml
//! [dependencies]
//! cloud-images = "0.1"
//! futures = "0.3"
//! tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
//! ```
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `contabo` | yes | [`contabo`]: Contabo's client (`CNTB_*` variables) |
//! | `digitalocean` | yes | [`digitalocean`]: DigitalOcean's client (`DIGITALOCEAN_*`) |
//! | `ionos` | yes | [`ionos`]: IONOS Cloud's client (`IONOS_*`) |
//! | `rustls` | yes | TLS through rustls, reqwest's own default (aws-lc-rs, the platform's verifier) |
//! | `native-tls` | no | TLS through the platform's library instead (OpenSSL, Secure Transport, SChannel) |
//! | `upload` | yes | `Images::upload`: a local image file staged in an S3-compatible bucket through object_store on this crate's reqwest (Contabo, DigitalOcean), or sent over FTPS with [`ftps`] (suppaftp with rustls) to IONOS ([`ionos::Client::upload_image`](crate::ionos::Client::upload_image)) |
//! | `testing` | no | `testing`: in-process fakes of each enabled provider's API, for your tests |
//! | `httpmock` | no | `testing::httpmock`: typed httpmock helpers generated from each spec |
//!
//! Only the [`images`] API and the shared layer are always there; a build
//! with one provider (`default-features = false, features = ["contabo",
//! "rustls"]`) compiles only that provider's client.
//!
//! # What is where
//!
//! | you want | look at |
//! |---|---|
//! | one API over every provider | [`images`]: [`Images`](images::Images), [`Image`](images::Image), [`ListFilter`](images::ListFilter), [`from_env`](images::from_env) |
//! | a provider's whole API | [`contabo`], [`digitalocean`], [`ionos`]: the generated client, its builders and types |
//! | to send a generated builder | [`Execute`] (`execute()`, [`Response`] with the request id) |
//! | every page of a list | [`Paginate`] (`stream()`, `pages()`), [`PaginationOptions`] |
//! | to configure a client | [`ClientBuilder`] ([`client`]): base URL, auth ([`auth`]), [`RetryPolicy`] ([`retry`]), [`Timeouts`] |
//! | to wait until an image is ready | [`wait`] |
//! | to tell errors apart | [`Error`] (`is_not_found()`, `is_timeout()`, ...), [`error`] |
//! | a request id of your own | [`CallOptions`], [`request_id`] |
//! | server text in a terminal | [`text`] |
//! | how a provider plugs in | [`provider`], [`transport`] |
//!
//! Generated code is re-exported as is; the hand-written layer beside it is
//! the same for every provider: streams over all pages with bounded
//! prefetch, an `x-request-id` on every request, errors that carry it, auth,
//! retries with back-off, time limits, waiting, tracing, limits against
//! hostile answers.
//!
//! **Names**, one rule for the whole crate: getters are named after what
//! they return, without `get_` (`options.timeout()`); a value type's setters
//! are `with_*` and return the value (`WaitOptions::default().with_timeout(..)`),
//! so a getter and its setter never share a name; builders, which have no
//! getters ([`ClientBuilder`], the generated request builders), set with
//! bare names (`.bearer_token(..)`).
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
// The shared machinery is judged whole in the build with every provider
// (CI's clippy); a build with fewer leaves parts unused that others need.
#![cfg_attr(
    not(all(feature = "contabo", feature = "digitalocean", feature = "ionos")),
    allow(dead_code, unused_macros, unused_imports)
)]
#![warn(missing_docs)]

// The generated clients name the crate's own types (`SecretText`) as
// `::cloud_images::...`, as a type of another crate would be named.
extern crate self as cloud_images;

// The layers, bottom up; each imports only from the ones before it (checked
// by `tests/layers.rs`). What users name is re-exported below.
mod engine;
pub mod images;
mod ops;
mod providers;
#[cfg(any(feature = "testing", feature = "httpmock"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "testing", feature = "httpmock"))))]
pub mod testing;
mod values;

#[cfg(feature = "contabo")]
#[cfg_attr(docsrs, doc(cfg(feature = "contabo")))]
pub use providers::contabo;
#[cfg(feature = "digitalocean")]
#[cfg_attr(docsrs, doc(cfg(feature = "digitalocean")))]
pub use providers::digitalocean;
#[cfg(feature = "ionos")]
#[cfg_attr(docsrs, doc(cfg(feature = "ionos")))]
pub use providers::ionos;

pub use engine::builder as client;
pub use engine::{auth, retry};
#[cfg(feature = "upload")]
#[cfg_attr(docsrs, doc(cfg(feature = "upload")))]
pub use ops::ftps;
pub use ops::{pagination, wait};
pub use values::ids as request_id;
pub use values::{error, text};

/// What differs per provider: the [`Provider`](provider::Provider) trait,
/// the [`ApiClient`](provider::ApiClient) each provider's client is,
/// [`ClientInfo`](provider::ClientInfo) (`baseurl()` and the inner transport
/// of a generated client), and the [`RateLimit`] answers report.
pub mod provider {
    pub use crate::engine::provider::{ApiClient, Provider};
    pub use crate::values::rate_limit::RateLimit;
    pub use progenitor_client::ClientInfo;
}

/// The request pipeline ([`Transport`](transport::Transport)), its time limits ([`Timeouts`]),
/// the body size limit and the HTTP clients it starts from.
pub mod transport {
    pub use crate::engine::body::DEFAULT_MAX_BODY_SIZE;
    pub use crate::engine::timeouts::Timeouts;
    pub use crate::engine::tls::{api_http_client_builder, http_client_builder};
    pub use crate::engine::transport::Transport;
}

pub use engine::builder::ClientBuilder;
pub use engine::execute::{Execute, Response};
pub use engine::retry::RetryPolicy;
pub use engine::timeouts::Timeouts;
pub use ops::pagination::{Page, Paginate, PaginationOptions};
pub use values::error::{ApiError, Error, StatusCode, TimeoutKind, Unsupported, WaitError};
pub use values::ids::CallOptions;
pub use values::optional::OptionalValue;
pub use values::rate_limit::RateLimit;
pub use values::secret::SecretText;

/// The README's Rust examples, compiled as doctests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
