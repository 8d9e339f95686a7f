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

pub mod auth;
mod body;
pub mod client;
mod endpoint;
pub mod error;
mod execute;
pub mod images;
mod optional;
pub mod pagination;
mod path;
pub mod provider;
mod redirect;
pub mod request_id;
pub mod retry;
pub mod text;
pub mod transport;
pub mod wait;

#[cfg(feature = "contabo")]
pub mod contabo;
#[cfg(feature = "digitalocean")]
pub mod digitalocean;
#[cfg(feature = "ionos")]
pub mod ionos;
#[cfg(any(feature = "testing", feature = "httpmock"))]
pub mod testing;

pub use body::DEFAULT_MAX_BODY_SIZE;
pub use client::ClientBuilder;
pub use error::{ApiError, Error, StatusCode, TimeoutKind, Unsupported, WaitError};
pub use execute::{Execute, Response};
pub use optional::OptionalValue;
pub use pagination::{ListPages, Page, PageSource, Paginate, PaginationOptions};
/// `baseurl()` and the inner transport of a generated client.
pub use progenitor_client::ClientInfo;
pub use provider::{Provider, RateLimit};
pub use request_id::{CallOptions, new_request_id};
pub use retry::RetryPolicy;
pub use transport::{Timeouts, Transport};

/// The README's Rust examples, compiled as doctests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
