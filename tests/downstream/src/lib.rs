//! Nothing: this crate only has tests (`tests/`), which use `cloud-images`
//! the way a user's crate does.
