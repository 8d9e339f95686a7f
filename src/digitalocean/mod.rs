//! DigitalOcean's images API (`https://api.digitalocean.com/v2/images...`).
//!
//! [`Client`], [`types`] and [`builder`] are generated at build time from
//! `openapi/digitalocean.yaml`.

#[allow(clippy::all, missing_docs, unused_imports, dead_code, rustdoc::bare_urls)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/digitalocean.rs"));
}

pub use generated::{Client, builder, types};

use crate::client::ClientBuilder;
use crate::provider::Provider;
use crate::transport::{Transport, impl_client_hooks};

/// DigitalOcean's defaults for [`ClientBuilder`].
#[derive(Debug, Clone, Copy)]
pub struct DigitalOcean;

impl Provider for DigitalOcean {
    const NAME: &'static str = "DigitalOcean";
    const DEFAULT_BASE_URL: &'static str = "https://api.digitalocean.com";
    type Client = Client;
    fn new_client(base_url: &str, http: reqwest::Client, transport: Transport) -> Client {
        Client::new_with_client(base_url, http, transport)
    }
}

impl Client {
    /// A builder for a DigitalOcean client.
    pub fn builder() -> ClientBuilder<DigitalOcean> {
        ClientBuilder::new()
    }
}

impl_client_hooks!(Client);
