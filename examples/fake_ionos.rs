//! Runs the fake IONOS Cloud API on loopback, to try the `ionos` CLI example
//! without an account:
//!
//! ```text
//! cargo run --example fake_ionos -- 127.0.0.1:8082 12 5
//! IONOS_API_URL=http://127.0.0.1:8082 IONOS_TOKEN=ionos-demo-token cargo run --example ionos -- list
//! ```
//!
//! Arguments: address (default 127.0.0.1:8082), public images (12), private
//! images (5), then any number of faults `[METHOD:]STATUS:MATCH:COUNT`,
//! e.g. `429:depth=1:1 PATCH:503:/images/:5`: the next COUNT requests (with
//! METHOD, when given) whose path and query contain MATCH are answered with
//! STATUS (429s with `Retry-After: 1`). The API is served at the root and
//! under `/cloudapi/v6`.
//! It accepts the bearer token `ionos-demo-token`, and HTTP Basic with
//! `user@example.com` / `ionos-demo-password`.
//!
//! The fake is `cloud_images::testing::FakeIonos` (feature `testing`).

use cloud_images::testing::ionos::{Config, FakeIonos};

#[path = "support/fake.rs"]
mod fake;
use fake::{FakeArgs, fail};

#[tokio::main]
async fn main() {
    let args = FakeArgs::from_env("127.0.0.1:8082", (12, 5));
    let config = Config::default()
        .with_public(args.counts.0)
        .with_private(args.counts.1);
    let server = FakeIonos::start_on(args.addr.as_str(), config)
        .await
        .unwrap_or_else(|e| fail(&format!("cannot listen on {}: {e}", args.addr)));
    for fault in args.faults {
        println!("fault: {fault}");
        server.inject(fault);
    }
    println!("fake IONOS Cloud API on {}", server.base_url());
    tokio::signal::ctrl_c().await.ok();
}
