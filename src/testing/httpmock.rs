//! Typed helpers for [httpmock](https://docs.rs/httpmock), generated at build
//! time from each enabled provider's spec (the same patched spec as the
//! client, so the types are the client's `types`). Feature `httpmock`.
//!
//! Each provider module has a `MockServerExt` trait for
//! [`httpmock::MockServer`] with one method per operation, named like the
//! client's builder method (`retrieve_image`, `images_list`,
//! `images_find_by_id`, ...). Its closure gets typed `When` and `Then`
//! wrappers (`operations::RetrieveImageWhen`, `operations::RetrieveImageThen`):
//! the method and path pattern are already set; `When` has one method per
//! parameter (path, query, header, body) and `Then` one per response the spec
//! declares (`ok(&body)`, `created(&body)`, `no_content()`, ...). `into_inner()`
//! gives the plain httpmock type for anything else. A path parameter's value
//! is put into the path pattern as a regular expression, so give plain ids.
//!
//! ```
//! # #[cfg(feature = "contabo")]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), cloud_images::Error> {
//! use cloud_images::contabo::{Client, types};
//! use cloud_images::testing::httpmock::contabo::MockServerExt;
//! use cloud_images::Execute;
//!
//! let server = httpmock::MockServer::start_async().await;
//! let id = "d5a1c1f0-35b8-4f0e-8a3a-1f1bd2a1c6e4";
//! let body: types::FindImageResponse = serde_json::from_value(serde_json::json!({
//!     "data": [{"imageId": id, "name": "debian-13"}],
//!     "_links": {"self": format!("/v1/compute/images/{id}")},
//! }))
//! .unwrap();
//! let mock = server.retrieve_image(|when, then| {
//!     when.image_id(id);
//!     then.ok(&body);
//! });
//!
//! let client = Client::builder().base_url(server.base_url()).bearer_token("t").build()?;
//! let image = client.retrieve_image().image_id(id).execute().await?;
//! assert_eq!(image.data[0].name.as_deref(), Some("debian-13"));
//! mock.assert_async().await;
//! # Ok(()) }
//! # #[cfg(not(feature = "contabo"))]
//! # fn main() {}
//! ```

/// httpmock helpers for Contabo's operations ([`crate::contabo`]).
#[cfg(feature = "contabo")]
#[allow(missing_docs, unused_imports, clippy::all)]
pub mod contabo {
    include!(concat!(env!("OUT_DIR"), "/contabo_httpmock.rs"));
}

/// httpmock helpers for DigitalOcean's operations ([`crate::digitalocean`]).
#[cfg(feature = "digitalocean")]
#[allow(missing_docs, unused_imports, clippy::all)]
pub mod digitalocean {
    include!(concat!(env!("OUT_DIR"), "/digitalocean_httpmock.rs"));
}

/// httpmock helpers for IONOS Cloud's operations ([`crate::ionos`]).
#[cfg(feature = "ionos")]
#[allow(missing_docs, unused_imports, clippy::all)]
pub mod ionos {
    include!(concat!(env!("OUT_DIR"), "/ionos_httpmock.rs"));
}
