//! Layer 4, the providers: one folder each, with its generated client, what
//! the engine must ask it ([`Provider`](crate::engine::provider::Provider)),
//! its status words and its extras. A provider imports from the layers
//! below, never from another provider.

#[cfg(feature = "contabo")]
pub mod contabo;
#[cfg(feature = "digitalocean")]
pub mod digitalocean;
#[cfg(feature = "ionos")]
pub mod ionos;
