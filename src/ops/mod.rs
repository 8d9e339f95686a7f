//! Layer 3, operations over any provider's calls: streams over every page
//! ([`pagination`]), and waiting until a resource is ready ([`wait`]: one
//! orchestrator that takes a poll and an acceptor) with the neutral words
//! for where an image stands ([`status`]).

#[cfg(feature = "upload")]
pub mod ftps;
pub mod images;
pub mod pagination;
// Without `upload`, only the `Staging` type is used (it names the store in
// an `UploadRequest`).
#[cfg_attr(not(feature = "upload"), allow(dead_code))]
pub mod staging;
pub mod status;
pub mod upload;
pub mod wait;
