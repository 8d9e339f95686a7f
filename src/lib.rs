//! Manage cloud VM images from Rust: list the standard and custom images of an
//! account, import a custom image from a URL, rename it, wait until it is
//! ready, delete it.
//!
//! Each provider module holds a client **generated at build time** from the
//! provider's OpenAPI spec (`openapi/`), plus a thin hand-written layer that is
//! the same for every provider:
//!
//! | concern | module |
//! |---|---|
//! | streams over all pages, prefetched | [`pagination`] |
//! | `x-request-id` per request, `x-trace-id` per client or call | [`request_id`] |
//! | one error type that carries the request id | [`error`] |
//! | what differs per provider | [`provider`] |
//! | bearer tokens, Basic auth, OAuth2 | [`auth`] |
//! | retries with back-off, `Retry-After` | [`retry`] |
//! | time limits, the request pipeline | [`transport`] |
//! | one images API over every provider | [`images`] |
//! | sending a generated builder | [`Execute`] |
//! | waiting until a resource is ready | [`wait`] |
//! | showing server text in errors and terminals | [`text`] |
//!
//! **Names**, one rule for the whole crate: getters are named after what
//! they return, without `get_` (`options.timeout()`); a value type's setters
//! are `with_*` and return the value (`WaitOptions::default().with_timeout(..)`),
//! so a getter and its setter never share a name; builders, which have no
//! getters ([`ClientBuilder`], the generated request builders), set with
//! bare names (`.bearer_token(..)`).
//!
//! For your own tests, the `testing` feature adds in-process fakes of each
//! provider's API, and the `httpmock` feature typed httpmock helpers
//! generated from each spec: see `cloud_images::testing`.
//!
//! ```no_run
//! use cloud_images::contabo::Client;
//! use cloud_images::{Execute, Paginate};
//! use futures::TryStreamExt;
//!
//! # async fn demo() -> Result<(), cloud_images::Error> {
//! let client = Client::from_env()?; // CNTB_API, CNTB_ACCESS_TOKEN or CNTB_OAUTH2_*
//! let mut images = client.retrieve_image_list().stream();
//! while let Some(image) = images.try_next().await? {
//!     println!("{} {}", image.image_id, image.name.as_deref().unwrap_or("-"));
//! }
//! let image = client.retrieve_image().image_id("d5a1c1f0-35b8-4f0e-8a3a-1f1bd2a1c6e4").execute().await?;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
// With no provider enabled, the shared machinery has no user.
#![cfg_attr(not(feature = "contabo"), allow(dead_code, unused_macros, unused_imports))]
#![warn(missing_docs)]

// The layers, bottom up; each imports only from the ones before it (checked
// by `tests/layers.rs`). What users name is re-exported below.
mod engine;
pub mod images;
mod ops;
mod providers;
#[cfg(any(feature = "testing", feature = "httpmock"))]
pub mod testing;
mod values;

#[cfg(feature = "contabo")]
pub use providers::contabo;
#[cfg(feature = "digitalocean")]
pub use providers::digitalocean;
#[cfg(feature = "ionos")]
pub use providers::ionos;

pub use engine::builder as client;
pub use engine::{auth, retry};
pub use ops::{pagination, wait};
pub use values::ids as request_id;
pub use values::{error, text};

/// What differs per provider: the [`Provider`] trait, the [`ApiClient`](crate::engine::provider::ApiClient)
/// each provider's client is, and the [`RateLimit`] answers report.
pub mod provider {
    pub use crate::engine::provider::{ApiClient, Provider};
    pub use crate::values::rate_limit::RateLimit;
}

/// The request pipeline ([`Transport`]), its time limits ([`Timeouts`]) and
/// the HTTP clients it starts from.
pub mod transport {
    pub use crate::engine::timeouts::Timeouts;
    pub use crate::engine::tls::{api_http_client_builder, http_client_builder};
    pub use crate::engine::transport::Transport;
}

pub use engine::body::DEFAULT_MAX_BODY_SIZE;
pub use engine::builder::ClientBuilder;
pub use engine::execute::{Execute, Response};
pub use engine::provider::Provider;
pub use engine::retry::RetryPolicy;
pub use engine::timeouts::Timeouts;
pub use engine::transport::Transport;
pub use ops::pagination::{ListPages, Page, PageSource, Paginate, PaginationOptions};
/// `baseurl()` and the inner transport of a generated client.
pub use progenitor_client::ClientInfo;
pub use values::error::{ApiError, Error, StatusCode, TimeoutKind, Unsupported, WaitError};
pub use values::ids::{CallOptions, new_request_id};
pub use values::optional::OptionalValue;
pub use values::rate_limit::RateLimit;

/// The README's Rust examples, compiled as doctests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
