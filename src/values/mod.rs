//! Layer 1, the core values: the error type, the provider id, rate limits,
//! request ids, image file formats, the rules for URLs and for showing server text. Nothing here
//! sends a request or knows a provider's API.

pub mod cloud;
pub mod error;
pub mod format;
pub mod ids;
pub mod optional;
pub mod os;
pub mod rate_limit;
pub mod secret;
pub mod text;
pub(crate) mod url;
