//! Nothing: the crate exists for its tests.
