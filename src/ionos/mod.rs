//! IONOS Cloud's images API (`https://api.ionos.com/cloudapi/v6/images...`).
//!
//! [`Client`], [`types`] and [`builder`] are generated at build time from
//! `openapi/ionos.yaml`.

#[allow(clippy::all, missing_docs, unused_imports, dead_code, rustdoc::bare_urls)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/ionos.rs"));
}

pub use generated::{Client, builder, types};

use crate::client::ClientBuilder;
use crate::provider::Provider;
use crate::transport::{Transport, impl_client_hooks};

/// IONOS Cloud's defaults for [`ClientBuilder`].
#[derive(Debug, Clone, Copy)]
pub struct Ionos;

impl Provider for Ionos {
    const NAME: &'static str = "IONOS Cloud";
    const DEFAULT_BASE_URL: &'static str = "https://api.ionos.com/cloudapi/v6";
    type Client = Client;
    fn new_client(base_url: &str, http: reqwest::Client, transport: Transport) -> Client {
        Client::new_with_client(base_url, http, transport)
    }
}

impl Client {
    /// A builder for an IONOS Cloud client.
    pub fn builder() -> ClientBuilder<Ionos> {
        ClientBuilder::new()
    }
}

impl_client_hooks!(Client);
