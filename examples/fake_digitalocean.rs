//! Runs the fake DigitalOcean API on loopback, to try the `digitalocean` CLI
//! example without an account:
//!
//! ```text
//! cargo run --example fake_digitalocean -- 127.0.0.1:8081 300 40
//! DIGITALOCEAN_API_URL=http://127.0.0.1:8081 DIGITALOCEAN_TOKEN=do-demo-token cargo run --example digitalocean -- list --private
//! ```
//!
//! Arguments: address (default 127.0.0.1:8081), distribution images (300),
//! private images (40), then any number of faults `[METHOD:]STATUS:MATCH:COUNT` (METHOD optional), e.g.
//! `429:page=3&:1 503:/v2/images/:5`: the next COUNT requests whose path and
//! query contain MATCH are answered with STATUS (429s with `Retry-After: 1`).
//! It accepts the bearer token `do-demo-token`.
//!
//! The fake is `cloud_images::testing::FakeDigitalOcean` (feature `testing`).

use cloud_images::testing::digitalocean::{Config, FakeDigitalOcean};

#[path = "support/fake.rs"]
mod fake;
use fake::{FakeArgs, fail};

#[tokio::main]
async fn main() {
    let args = FakeArgs::from_env("127.0.0.1:8081", (300, 40));
    let config = Config::default()
        .with_distributions(args.counts.0)
        .with_private(args.counts.1);
    let server = FakeDigitalOcean::start_on(args.addr.as_str(), config)
        .await
        .unwrap_or_else(|e| fail(&format!("cannot listen on {}: {e}", args.addr)));
    for fault in args.faults {
        println!("fault: {fault}");
        server.inject(fault);
    }
    println!("fake DigitalOcean API on {}", server.base_url());
    tokio::signal::ctrl_c().await.ok();
}
