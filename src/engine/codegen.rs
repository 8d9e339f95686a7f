//! The one module the generated clients call (their paths are written by
//! `build.rs` and its code patches), so that moving a file of the layer never
//! touches the build: the transport a client carries, path parameters, the
//! optional-value setters and the body decoder.

pub(crate) use crate::engine::body::from_response;
pub(crate) use crate::engine::path::{PathText, segment};
pub(crate) use crate::engine::transport::Transport;
pub(crate) use crate::values::optional::OptionalValue;
