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

use cloud_images::testing::Fault;
use cloud_images::testing::digitalocean::{Config, FakeDigitalOcean};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let addr = args.first().map_or("127.0.0.1:8081", String::as_str);
    let number = |i: usize, default: usize| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let faults = match parse_faults(args.get(3..).unwrap_or_default()) {
        Ok(faults) => faults,
        Err(e) => fail(&e.to_string()),
    };
    let config = Config::default()
        .with_distributions(number(1, 300))
        .with_private(number(2, 40));
    let server = FakeDigitalOcean::start_on(addr, config)
        .await
        .unwrap_or_else(|e| fail(&format!("cannot listen on {addr}: {e}")));
    for fault in faults {
        println!("fault: {fault}");
        server.inject(fault);
    }
    println!("fake DigitalOcean API on {}", server.base_url());
    tokio::signal::ctrl_c().await.ok();
}

fn parse_faults(specs: &[String]) -> Result<Vec<Fault>, cloud_images::testing::ParseFaultError> {
    specs.iter().map(|spec| spec.parse()).collect()
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(2);
}
