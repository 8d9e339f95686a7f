//! Runs the fake Contabo API (and its token endpoint) on loopback, to try the
//! `contabo` CLI example without an account:
//!
//! ```text
//! cargo run --example fake_contabo -- 127.0.0.1:8080 300 40
//! CNTB_API=http://127.0.0.1:8080 CNTB_ACCESS_TOKEN=demo-token cargo run --example contabo -- list
//! ```
//!
//! Arguments: address (default 127.0.0.1:8080), standard images (300), custom
//! images (40), then any number of faults `[METHOD:]STATUS:MATCH:COUNT` (METHOD optional), e.g.
//! `429:page=3&:1 503:/stats:5`: the next COUNT requests whose path and query
//! contain MATCH are answered with STATUS (429s with `Retry-After: 1`). It
//! accepts the bearer token `demo-token`, and the OAuth2 client
//! `demo-client`/`demo-secret` with API user `api-user`/`api-pass`.
//!
//! The fake is `cloud_images::testing::FakeContabo` (feature `testing`).

use cloud_images::testing::contabo::{Config, FakeContabo, OAuthConfig};

#[path = "support/fake.rs"]
mod fake;
use fake::{FakeArgs, fail};

#[tokio::main]
async fn main() {
    let args = FakeArgs::from_env("127.0.0.1:8080", (300, 40));
    let config = Config::default()
        .with_standard(args.counts.0)
        .with_custom(args.counts.1)
        .with_oauth(OAuthConfig::default());
    let server = FakeContabo::start_on(args.addr.as_str(), config)
        .await
        .unwrap_or_else(|e| fail(&format!("cannot listen on {}: {e}", args.addr)));
    for fault in args.faults {
        println!("fault: {fault}");
        server.inject(fault);
    }
    println!(
        "fake Contabo API on {} (token endpoint {})",
        server.base_url(),
        server.token_url()
    );
    tokio::signal::ctrl_c().await.ok();
}
