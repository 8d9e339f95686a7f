//! The README's quickstart: the same program as `examples/quickstart.rs`,
//! which runs, as a user runs it, against the DigitalOcean fake: the whole
//! tour with the right token, and one `Display` line (not the error's
//! `Debug` form) with a wrong one.

mod support;

use std::process::Output;

use cloud_images::testing::FakeDigitalOcean;
use cloud_images::testing::digitalocean::Config;

const EXAMPLE: &str = include_str!("../examples/quickstart.rs");
const README: &str = include_str!("../README.md");

/// The example without its header comment: the program the README shows.
fn program() -> &'static str {
    let start = EXAMPLE
        .find("use std::process::ExitCode;")
        .expect("the example's first line");
    &EXAMPLE[start..]
}

#[test]
fn the_readme_shows_the_example_word_for_word() {
    assert!(
        README.contains(program()),
        "README.md's quickstart and examples/quickstart.rs differ; copy one into the other"
    );
}

/// Runs the example with these variables (and none of the providers' own
/// from the environment).
async fn run(vars: Vec<(&'static str, String)>) -> Output {
    support::run_example("quickstart", vars, Vec::new()).await
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_quickstart_runs_and_its_failure_is_one_display_line() {
    let fake = FakeDigitalOcean::start_with(Config::default().with_import_polls(1)).await;
    let vars = |token: &str| {
        vec![
            ("CLOUD_IMAGES_PROVIDER", "digitalocean".to_owned()),
            ("DIGITALOCEAN_API_URL", fake.base_url()),
            ("DIGITALOCEAN_TOKEN", token.to_owned()),
        ]
    };

    let ok = run(vars("do-demo-token")).await;
    let stdout = text(&ok.stdout);
    assert!(ok.status.success(), "{stdout}\n{}", text(&ok.stderr));
    assert!(stdout.contains("images of our own"), "{stdout}");
    assert!(stdout.contains("imported, renamed and deleted"), "{stdout}");

    let failed = run(vars("a-wrong-token")).await;
    assert_eq!(failed.status.code(), Some(1));
    let stderr = text(&failed.stderr);
    let lines: Vec<_> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    let line = lines[0];
    assert!(
        line.starts_with("error: images_list: HTTP 401 Unauthorized: "),
        "{line}"
    );
    assert!(line.contains("(request id "), "{line}");
    assert!(
        !line.contains("ApiError") && !line.contains('{'),
        "the Debug form: {line}"
    );
}
