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

use cloud_images::testing::Fault;
use cloud_images::testing::contabo::{Config, FakeContabo, OAuthConfig};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let addr = args.first().map_or("127.0.0.1:8080", String::as_str);
    let number = |i: usize, default: usize| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let faults = match parse_faults(args.get(3..).unwrap_or_default()) {
        Ok(faults) => faults,
        Err(e) => fail(&e.to_string()),
    };
    let config = Config::default()
        .with_standard(number(1, 300))
        .with_custom(number(2, 40))
        .with_oauth(OAuthConfig::default());
    let server = FakeContabo::start_on(addr, config)
        .await
        .unwrap_or_else(|e| fail(&format!("cannot listen on {addr}: {e}")));
    for fault in faults {
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

fn parse_faults(specs: &[String]) -> Result<Vec<Fault>, cloud_images::testing::ParseFaultError> {
    specs.iter().map(|spec| spec.parse()).collect()
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(2);
}
