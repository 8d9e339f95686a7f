//! In-process fakes of the providers' APIs, on loopback, for the demo, the
//! tests, the benchmark and the `fake_*` examples: one harness, one small file
//! of routes and seed data per provider.
#![allow(dead_code, unused_imports)]

pub mod contabo;
pub mod digitalocean;
pub mod harness;
pub mod ionos;
