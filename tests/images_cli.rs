//! The `images` CLI example (`examples/images.rs`), run in-process against
//! the fakes of every provider: its arguments parsed as a user types them,
//! its environment given as a list of variables, its stdout and stderr
//! captured. What is asserted is what a user relies on: JSON lines with the
//! neutral fields, tables, errors on stderr with exit code 1.

use std::collections::HashSet;
use std::process::ExitCode;

use clap::Parser;
use serde_json::Value;

#[path = "../examples/images.rs"]
mod images_cli;
mod support;

// The fakes, with the credentials their default configs accept.
use cloud_images::testing::contabo::Config as ContaboConfig;
use cloud_images::testing::digitalocean::Config as DigitalOceanConfig;
use cloud_images::testing::ionos::Config as IonosConfig;
use cloud_images::testing::{FakeContabo, FakeDigitalOcean, FakeFtps, FakeIonos};
use support::ImageFile;

type Vars = Vec<(&'static str, String)>;

async fn contabo(config: ContaboConfig) -> (FakeContabo, Vars) {
    let fake = FakeContabo::start_with(config).await;
    let vars = vec![
        ("CNTB_API", fake.base_url()),
        ("CNTB_ACCESS_TOKEN", "demo-token".to_owned()),
    ];
    (fake, vars)
}

async fn digitalocean(config: DigitalOceanConfig) -> (FakeDigitalOcean, Vars) {
    let fake = FakeDigitalOcean::start_with(config).await;
    let vars = vec![
        ("DIGITALOCEAN_API_URL", fake.base_url()),
        ("DIGITALOCEAN_TOKEN", "do-demo-token".to_owned()),
    ];
    (fake, vars)
}

async fn ionos(config: IonosConfig) -> (FakeIonos, Vars) {
    let fake = FakeIonos::start_with(config).await;
    let vars = vec![
        ("IONOS_API_URL", fake.base_url()),
        ("IONOS_TOKEN", "ionos-demo-token".to_owned()),
    ];
    (fake, vars)
}

/// Quick fakes: few polls until an import or a change is done (Contabo's
/// import reads the image once; the wait then sees two pending downloads).
fn quick_contabo() -> ContaboConfig {
    ContaboConfig::default().with_download_polls(4)
}
fn quick_digitalocean() -> DigitalOceanConfig {
    DigitalOceanConfig::default().with_import_polls(2)
}
fn quick_ionos() -> IonosConfig {
    IonosConfig::default().with_request_polls(1)
}

/// What one run of the CLI left.
#[derive(Debug)]
struct Outcome {
    code: ExitCode,
    out: String,
    err: String,
}

impl Outcome {
    /// Asserts success and returns stdout.
    fn ok(&self) -> &str {
        assert_eq!(self.code, ExitCode::SUCCESS, "{self:#?}");
        &self.out
    }

    /// Asserts exit code 1 with nothing on stdout and returns stderr.
    fn failed(&self) -> &str {
        assert_eq!(self.code, ExitCode::FAILURE, "{self:#?}");
        assert_eq!(self.out, "", "nothing on stdout: {self:#?}");
        assert!(self.err.starts_with("error: "), "{self:#?}");
        &self.err
    }

    /// Asserts exit code 1 with nothing on stdout and an `error: ` line last
    /// on stderr (after progress lines), and returns that line.
    fn failed_last(&self) -> &str {
        assert_eq!(self.code, ExitCode::FAILURE, "{self:#?}");
        assert_eq!(self.out, "", "nothing on stdout: {self:#?}");
        let last = self.err.lines().last().unwrap_or_default();
        assert!(last.starts_with("error: "), "{self:#?}");
        last
    }

    /// Asserts success and parses each line of stdout as one JSON object.
    fn json_lines(&self) -> Vec<Value> {
        self.ok()
            .lines()
            .map(|line| {
                let value: Value = serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("{e}: `{line}` is not one JSON object"));
                assert!(value.is_object(), "{line}");
                value
            })
            .collect()
    }
}

/// Runs `images ARGS` with `vars` as its environment (polling every
/// millisecond while waiting).
async fn images(vars: &[(&str, String)], args: &[&str]) -> Outcome {
    let argv = ["images", "--poll-ms", "1"]
        .into_iter()
        .chain(args.iter().copied());
    let cli = images_cli::Cli::try_parse_from(argv).unwrap_or_else(|e| panic!("{args:?}: {e}"));
    let lookup = support::lookup(vars);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let io = images_cli::Io {
        vars: &lookup,
        out: &mut out,
        err: &mut err,
        progress_bar: false,
    };
    let code = images_cli::run(cli, io).await;
    Outcome {
        code,
        out: String::from_utf8(out).expect("UTF-8 on stdout"),
        err: String::from_utf8(err).expect("UTF-8 on stderr"),
    }
}

/// Every line has the neutral fields, for `provider`.
fn assert_neutral(lines: &[Value], provider: &str) {
    for line in lines {
        for key in [
            "provider",
            "id",
            "name",
            "status",
            "custom",
            "os",
            "os_family",
            "size_gb",
            "created_at",
        ] {
            assert!(line.get(key).is_some(), "{key} in {line}");
        }
        assert_eq!(line["provider"], provider, "{line}");
        assert!(line["id"].as_str().is_some_and(|id| !id.is_empty()), "{line}");
        assert!(line["custom"].is_boolean(), "{line}");
        let status = line["status"].as_str().expect("a status");
        assert!(
            ["pending", "ready", "failed", "deleting"].contains(&status),
            "a neutral status: {line}"
        );
    }
}

fn ids(lines: &[Value]) -> HashSet<String> {
    lines
        .iter()
        .map(|l| l["id"].as_str().expect("an id").to_owned())
        .collect()
}

/// The ids a fake holds, as the CLI shows them (DigitalOcean's are numbers).
fn fake_ids(images: Vec<Value>, key: &str) -> HashSet<String> {
    images
        .iter()
        .map(|i| match &i[key] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}

const MISSING: &str = "00000000-dead-4bad-8bad-000000000000";

#[tokio::test]
async fn list_json_prints_exactly_the_contabo_fakes_images() {
    let (fake, vars) = contabo(quick_contabo()).await;
    let lines = images(&vars, &["--provider", "contabo", "list", "--json"])
        .await
        .json_lines();
    assert_neutral(&lines, "contabo");
    assert_eq!(lines.len(), 24 + 11, "one line per image");
    assert_eq!(ids(&lines), fake_ids(fake.images(), "imageId"));
    assert_eq!(lines.iter().filter(|l| l["custom"] == true).count(), 11);
    assert!(
        lines.iter().any(|l| l["status"] == "failed"),
        "the seed's failed import"
    );
}

#[tokio::test]
async fn list_json_prints_exactly_the_digitalocean_fakes_images() {
    let (fake, vars) = digitalocean(quick_digitalocean()).await;
    let lines = images(&vars, &["--provider", "digitalocean", "list", "--json"])
        .await
        .json_lines();
    assert_neutral(&lines, "digitalocean");
    assert_eq!(lines.len(), 14 + 6 + 9);
    assert_eq!(ids(&lines), fake_ids(fake.images(), "id"));
}

#[tokio::test]
async fn list_json_prints_exactly_the_ionos_fakes_images() {
    let (fake, vars) = ionos(quick_ionos()).await;
    let lines = images(&vars, &["--provider", "ionos", "list", "--json"])
        .await
        .json_lines();
    assert_neutral(&lines, "ionos");
    assert_eq!(lines.len(), 12 + 5);
    assert_eq!(ids(&lines), fake_ids(fake.images(), "id"));
}

#[tokio::test]
async fn list_custom_limit_2_prints_two_own_images() {
    let (_fake, vars) = contabo(quick_contabo()).await;
    let args = ["--provider", "contabo", "list", "--custom", "--limit", "2"];
    let lines = images(&vars, &[&args[..], &["--json"]].concat())
        .await
        .json_lines();
    assert_eq!(lines.len(), 2);
    assert!(lines.iter().all(|l| l["custom"] == true), "{lines:?}");

    let table = images(&vars, &args).await;
    let rows: Vec<&str> = table.ok().lines().collect();
    assert_eq!(rows.len(), 1 + 2, "a header and two rows: {table:#?}");
    assert!(rows[0].contains("ID") && rows[0].contains("STATUS"), "{table:#?}");
    assert!(rows[1..].iter().all(|r| r.contains("custom")), "{table:#?}");
    assert_eq!(table.err, "2 image(s)\n");
}

#[tokio::test]
async fn list_filters_by_name_in_any_case() {
    let (fake, vars) = digitalocean(quick_digitalocean()).await;
    let lines = images(
        &vars,
        &["--provider", "digitalocean", "list", "--name", "UBUNTU", "--json"],
    )
    .await
    .json_lines();
    let expected = fake
        .images()
        .iter()
        .filter(|i| {
            i["name"]
                .as_str()
                .is_some_and(|n| n.to_lowercase().contains("ubuntu"))
        })
        .count();
    assert!(expected > 0, "the seed has Ubuntu images");
    assert_eq!(lines.len(), expected);
}

#[tokio::test]
async fn list_filters_by_name_prefix_and_creation_time() {
    let (fake, vars) = digitalocean(quick_digitalocean()).await;
    let seeded = fake.images();
    let list = |args: &'static [&'static str]| {
        let vars = vars.clone();
        async move {
            let argv: Vec<&str> = ["--provider", "digitalocean", "list", "--json"]
                .into_iter()
                .chain(args.iter().copied())
                .collect();
            images(&vars, &argv).await.json_lines()
        }
    };
    let prefixed = list(&["--name-prefix", "Docker"]).await;
    let expected = seeded
        .iter()
        .filter(|i| i["name"].as_str().is_some_and(|n| n.starts_with("Docker")))
        .count();
    assert!(expected > 0, "the seed has Docker images");
    assert_eq!(prefixed.len(), expected);

    // Every seeded image is newer than 2000 and older than 2100.
    assert!(list(&["--created-before", "2000-01-01"]).await.is_empty());
    let all = list(&[
        "--created-after",
        "2000-01-01T00:00:00Z",
        "--created-before",
        "2100-01-01",
    ])
    .await;
    assert_eq!(all.len(), seeded.len());

    let argv = ["images", "list", "--created-after", "yesterday"];
    let err = images_cli::Cli::try_parse_from(argv)
        .err()
        .expect("a usage error");
    assert!(err.to_string().contains("`yesterday` is not a time"), "{err}");
}

#[tokio::test]
async fn get_of_a_missing_image_exits_1_with_the_status_and_request_id() {
    let (_c, contabo_vars) = contabo(quick_contabo()).await;
    let (_d, do_vars) = digitalocean(quick_digitalocean()).await;
    let (_i, ionos_vars) = ionos(quick_ionos()).await;
    for (provider, vars) in [
        ("contabo", &contabo_vars),
        ("digitalocean", &do_vars),
        ("ionos", &ionos_vars),
    ] {
        let missing = if provider == "digitalocean" {
            "999999999"
        } else {
            MISSING
        };
        let outcome = images(vars, &["--provider", provider, "get", missing, "--json"]).await;
        let err = outcome.failed();
        assert!(err.contains("404"), "{provider}: {err}");
        assert!(err.contains("request id "), "{provider}: {err}");
        assert_eq!(err.lines().count(), 1, "{provider}: one line: {err}");
    }
}

#[tokio::test]
async fn get_shows_the_neutral_fields_as_a_table_or_one_json_line() {
    let (fake, vars) = contabo(quick_contabo()).await;
    let id = fake.images()[30]["imageId"].as_str().unwrap().to_owned();
    let lines = images(&vars, &["--provider", "contabo", "get", &id, "--json"])
        .await
        .json_lines();
    assert_eq!(lines.len(), 1);
    assert_neutral(&lines, "contabo");
    assert_eq!(lines[0]["id"], id.as_str());

    let table = images(&vars, &["--provider", "contabo", "get", &id]).await;
    let out = table.ok();
    for field in [
        "provider",
        "id",
        "name",
        "status",
        "kind",
        "os",
        "size_gb",
        "created_at",
    ] {
        assert!(
            out.lines().any(|l| l.trim_start().starts_with(field)),
            "{field}: {out}"
        );
    }
    assert!(out.contains(&id), "{out}");
}

#[tokio::test]
async fn import_on_ionos_names_what_it_does_not_support() {
    let (fake, vars) = ionos(quick_ionos()).await;
    let before = fake.api_requests().len();
    let outcome = images(
        &vars,
        &[
            "--provider",
            "ionos",
            "import",
            "--name",
            "debian-13",
            "--url",
            "https://images.example.com/debian-13.qcow2",
        ],
    )
    .await;
    let err = outcome.failed();
    assert!(err.contains("ionos does not support import_from_url"), "{err}");
    assert!(err.contains("FTP"), "the alternative: {err}");
    assert_eq!(fake.api_requests().len(), before, "nothing is sent");
}

#[tokio::test]
async fn import_on_digitalocean_without_a_region_names_the_region() {
    let (fake, vars) = digitalocean(quick_digitalocean()).await;
    let outcome = images(
        &vars,
        &[
            "--provider",
            "digitalocean",
            "import",
            "--name",
            "debian-13",
            "--url",
            "https://images.example.com/debian-13.qcow2",
            "--os",
            "Debian",
        ],
    )
    .await;
    let err = outcome.failed();
    assert!(err.contains("`region`"), "{err}");
    assert!(fake.api_requests().is_empty(), "nothing is sent");
}

#[tokio::test]
async fn import_wait_json_on_contabo_ends_with_a_ready_image() {
    let (_fake, vars) = contabo(quick_contabo()).await;
    let outcome = images(
        &vars,
        &[
            "--provider",
            "contabo",
            "import",
            "--name",
            "debian-13",
            "--url",
            "https://images.example.com/debian-13.qcow2",
            "--os",
            "linux",
            "--version",
            "13",
            "--description",
            "golden",
            "--wait",
            "--json",
        ],
    )
    .await;
    let lines = outcome.json_lines();
    assert_eq!(lines.len(), 1, "only the ready image on stdout: {outcome:#?}");
    assert_neutral(&lines, "contabo");
    let image = &lines[0];
    assert_eq!(image["status"], "ready");
    assert_eq!(image["name"], "debian-13");
    assert_eq!(image["custom"], true);
    let id = image["id"].as_str().unwrap();
    // Progress went to stderr as plain lines, not a bar.
    assert!(
        outcome
            .err
            .starts_with(&format!("importing image {id} (debian-13): pending\n")),
        "{outcome:#?}"
    );
    assert!(outcome.err.lines().count() > 1, "progress lines: {outcome:#?}");
    assert!(!outcome.err.contains('\r'), "{outcome:#?}");

    let got = images(&vars, &["--provider", "contabo", "get", id, "--json"])
        .await
        .json_lines();
    assert_eq!(got[0]["status"], "ready");
    assert_eq!(got[0]["description"], "golden");
}

#[tokio::test]
async fn import_then_wait_on_digitalocean() {
    let (_fake, vars) = digitalocean(quick_digitalocean()).await;
    let imported = images(
        &vars,
        &[
            "--provider",
            "digitalocean",
            "import",
            "--name",
            "debian-13",
            "--url",
            "https://images.example.com/debian-13.qcow2",
            "--os",
            "Debian",
            "--region",
            "fra1",
            "--json",
        ],
    )
    .await
    .json_lines();
    assert_eq!(imported.len(), 1);
    assert_eq!(imported[0]["status"], "pending");
    let id = imported[0]["id"].as_str().unwrap();

    let waited = images(
        &vars,
        &["--provider", "digitalocean", "wait", id, "--timeout", "30"],
    )
    .await;
    assert_eq!(waited.ok(), format!("image {id} (debian-13): ready\n"));
}

#[tokio::test]
async fn wait_on_a_failed_import_exits_1_with_the_providers_message() {
    let (fake, vars) = contabo(quick_contabo()).await;
    let failed = fake
        .images()
        .into_iter()
        .find(|i| i["status"] == "error")
        .expect("the seed's failed import");
    let id = failed["imageId"].as_str().unwrap();
    let err = images(&vars, &["--provider", "contabo", "wait", id, "--json"])
        .await
        .failed()
        .to_owned();
    assert!(err.contains(&format!("image {id} failed")), "{err}");
    assert!(err.contains("404 Not Found"), "the provider's message: {err}");
    assert!(err.contains("request id "), "{err}");
}

/// Renames an own image, shows it, deletes it, and finds it gone.
async fn update_and_delete(vars: &Vars, provider: &str, id: &str) {
    let updated = images(
        vars,
        &[
            "--provider",
            provider,
            "update",
            id,
            "--name",
            "renamed-by-cli",
            "--description",
            "described",
            "--json",
        ],
    )
    .await
    .json_lines();
    assert_eq!(updated.len(), 1);
    assert_eq!(
        (&updated[0]["id"], &updated[0]["name"], &updated[0]["description"]),
        (
            &Value::from(id),
            &Value::from("renamed-by-cli"),
            &Value::from("described")
        ),
        "{provider}"
    );
    let listed = images(
        vars,
        &[
            "--provider",
            provider,
            "list",
            "--name",
            "renamed-by-cli",
            "--json",
        ],
    )
    .await
    .json_lines();
    assert_eq!(ids(&listed), HashSet::from([id.to_owned()]), "{provider}");

    let deleted = images(vars, &["--provider", provider, "delete", id]).await;
    assert_eq!(deleted.ok(), format!("deleted image {id}\n"), "{provider}");
    let gone = images(vars, &["--provider", provider, "get", id]).await;
    assert!(gone.failed().contains("404"), "{provider}: {gone:#?}");
}

#[tokio::test]
async fn update_and_delete_round_trip_on_every_provider() {
    let (fake, vars) = contabo(quick_contabo()).await;
    let id = fake.images()[24]["imageId"].as_str().unwrap().to_owned();
    update_and_delete(&vars, "contabo", &id).await;

    let (fake, vars) = digitalocean(quick_digitalocean()).await;
    let own = fake.images().into_iter().find(|i| i["public"] == false).unwrap();
    update_and_delete(&vars, "digitalocean", &own["id"].to_string()).await;

    let (_fake, vars) = ionos(quick_ionos()).await;
    update_and_delete(&vars, "ionos", &FakeIonos::private_id(0)).await;
}

#[tokio::test]
async fn update_shows_a_line_with_server_text_escaped() {
    let (fake, vars) = contabo(quick_contabo()).await;
    let id = fake.images()[25]["imageId"].as_str().unwrap().to_owned();
    let outcome = images(
        &vars,
        &[
            "--provider",
            "contabo",
            "update",
            &id,
            "--name",
            "evil\u{1b}[2Jname",
        ],
    )
    .await;
    let out = outcome.ok();
    assert!(out.starts_with(&format!("updated image {id} (evil")), "{out}");
    assert!(!out.contains('\u{1b}'), "no raw escape: {out:?}");
    let table = images(&vars, &["--provider", "contabo", "list", "--name", "evil"]).await;
    assert!(!table.ok().contains('\u{1b}'), "{table:#?}");
    assert_eq!(table.err, "1 image(s)\n");
}

#[tokio::test]
async fn update_without_a_change_is_a_usage_error() {
    let err = images_cli::Cli::try_parse_from(["images", "update", "1a2b"])
        .err()
        .expect("refused");
    assert!(err.to_string().contains("--name"), "{err}");
}

#[tokio::test]
async fn the_provider_can_come_from_the_environment() {
    let (_fake, mut vars) = digitalocean(quick_digitalocean()).await;
    vars.push(("CLOUD_IMAGES_PROVIDER", "digitalocean".to_owned()));
    let lines = images(&vars, &["list", "--custom", "--json"]).await.json_lines();
    assert_eq!(lines.len(), 9);
    assert_neutral(&lines, "digitalocean");
}

#[tokio::test]
async fn a_missing_or_unknown_provider_or_variable_is_named() {
    let err = images(&[], &["list"]).await.failed().to_owned();
    assert!(err.contains("CLOUD_IMAGES_PROVIDER"), "{err}");
    assert!(err.contains("--provider"), "{err}");

    let err = images(&[], &["--provider", "aws", "list"])
        .await
        .failed()
        .to_owned();
    assert!(err.contains("unknown provider `aws`"), "{err}");

    let err = images(&[], &["--provider", "digitalocean", "list"])
        .await
        .failed()
        .to_owned();
    assert!(err.contains("DIGITALOCEAN_TOKEN"), "{err}");

    let err = images(&[], &["--provider", "ionos", "list"])
        .await
        .failed()
        .to_owned();
    assert!(err.contains("IONOS_TOKEN"), "{err}");

    let err = images(&[], &["--provider", "contabo", "list"])
        .await
        .failed()
        .to_owned();
    assert!(err.contains("CNTB_ACCESS_TOKEN"), "{err}");
}

#[tokio::test]
async fn api_and_trace_id_options_win_over_the_environment() {
    let (fake, mut vars) = contabo(quick_contabo()).await;
    let url = fake.base_url();
    vars[0].1 = "http://127.0.0.1:9".to_owned();
    let outcome = images(
        &vars,
        &[
            "--provider",
            "contabo",
            "--api",
            &url,
            "--trace-id",
            "cli-test",
            "list",
            "--limit",
            "1",
            "--json",
        ],
    )
    .await;
    assert_eq!(outcome.json_lines().len(), 1);
    let sent = fake.api_requests();
    assert!(!sent.is_empty());
    assert!(
        sent.iter().all(|r| r.header("x-trace-id") == Some("cli-test")),
        "{:?}",
        sent.iter().map(|r| r.header("x-trace-id")).collect::<Vec<_>>()
    );
}

/// The staging fake's store, as object_store's environment names give it.
fn staging_vars(staging: &cloud_images::testing::FakeStaging) -> Vars {
    vec![
        ("AWS_ENDPOINT", staging.endpoint()),
        ("AWS_REGION", staging.region().to_owned()),
        ("AWS_ACCESS_KEY_ID", staging.access_key_id().to_owned()),
        ("AWS_SECRET_ACCESS_KEY", staging.secret_access_key().to_owned()),
    ]
}

#[tokio::test]
async fn upload_stages_the_file_has_digitalocean_import_it_and_cleans_up() {
    let staging = cloud_images::testing::FakeStaging::start().await;
    let (fake, mut vars) = digitalocean(quick_digitalocean()).await;
    vars.extend(staging_vars(&staging));
    // Three 5 MiB parts' worth, and then some.
    let file = ImageFile::new("debian-13.qcow2", b"QFI\xfb\0\0\0\x03", 12 * 1024 * 1024 + 7);
    let s3 = format!("{}/incoming", staging.s3_url());
    let run = images(
        &vars,
        &[
            "--provider",
            "digitalocean",
            "upload",
            file.path_str(),
            "--name",
            "debian-13",
            "--os",
            "Debian",
            "--region",
            "fra1",
            "--staging",
            &s3,
            "--json",
        ],
    )
    .await;
    let lines = run.json_lines();
    assert_eq!(lines.len(), 1, "{run:#?}");
    assert_neutral(&lines, "digitalocean");
    assert_eq!(lines[0]["name"], "debian-13");
    assert_eq!(lines[0]["status"], "ready");
    // The bytes at the far end: what the cloud fetched is the file.
    let id: u64 = lines[0]["id"].as_str().unwrap().parse().unwrap();
    let fetched = fake.fetched(id).expect("the fake fetched the staged object");
    assert_eq!(fetched.bytes, file.len());
    assert_eq!(fetched.sha256, file.sha256());
    assert_eq!(
        staging.keys(),
        Vec::<String>::new(),
        "the staged object is deleted"
    );
    // Plain progress lines: each phase once, the bytes in tenths.
    for line in [
        "checking",
        "staging: 100% of 12582919 bytes",
        "staged as s3://staging/incoming/",
        "importing",
        "waiting",
        "cleaning up",
    ] {
        assert!(run.err.contains(line), "`{line}` in {}", run.err);
    }
    assert!(
        run.err.lines().count() < 40,
        "a line per phase and tenth: {}",
        run.err
    );
    assert!(
        !run.err.contains("X-Amz-Signature"),
        "no presigned URL: {}",
        run.err
    );
}

#[tokio::test]
async fn upload_keeps_the_staged_object_when_asked_and_does_not_wait() {
    let staging = cloud_images::testing::FakeStaging::start().await;
    let (_fake, mut vars) = digitalocean(quick_digitalocean()).await;
    vars.extend(staging_vars(&staging));
    let file = ImageFile::new("disk.img", &[0; 512], 64 * 1024);
    let s3 = staging.s3_url();
    let out = images(
        &vars,
        &[
            "--provider",
            "digitalocean",
            "upload",
            file.path_str(),
            "--name",
            "scratch",
            "--region",
            "fra1",
            "--os",
            "Debian",
            "--staging",
            &s3,
            "--keep-staged",
            "--no-wait",
        ],
    )
    .await;
    assert!(out.ok().starts_with("importing image "), "{out:#?}");
    let keys = staging.keys();
    assert_eq!(keys.len(), 1, "kept: {keys:?}");
    assert_eq!(staging.object(&keys[0]).as_deref(), Some(file.bytes()));
}

#[tokio::test]
async fn upload_of_a_format_the_provider_does_not_take_sends_nothing() {
    let staging = cloud_images::testing::FakeStaging::start().await;
    let (fake, mut vars) = contabo(quick_contabo()).await;
    vars.extend(staging_vars(&staging));
    // A raw disk: Contabo takes qcow2 and ISO images only.
    let file = ImageFile::new("disk.qcow2", &[0; 512], 64 * 1024);
    let s3 = staging.s3_url();
    fake.clear_requests();
    let err = images(
        &vars,
        &[
            "--provider",
            "contabo",
            "upload",
            file.path_str(),
            "--name",
            "raw",
            "--os",
            "linux",
            "--version",
            "13",
            "--staging",
            &s3,
        ],
    )
    .await
    .failed_last()
    .to_owned();
    assert!(err.contains("raw"), "names the format: {err}");
    assert!(
        staging.requests().is_empty(),
        "nothing staged: {:?}",
        staging.requests()
    );
    assert!(
        fake.api_requests().iter().all(|r| r.method != "POST"),
        "no import asked for"
    );
}

/// The IONOS fake with an FTPS server for `de/fra` that registers a stored
/// file at once, and the variables a user sets for it: the token for the
/// API, the account's login for FTP, the server and its root certificate
/// (in the returned file).
async fn ionos_ftps() -> (FakeIonos, FakeFtps, Vars, ImageFile) {
    let (fake, mut vars) = ionos(quick_ionos()).await;
    let (server, ftp_vars, ca) = support::ionos_ftps(&fake).await;
    vars.extend(ftp_vars);
    (fake, server, vars, ca)
}

#[tokio::test]
async fn upload_on_ionos_sends_the_file_over_ftps_and_names_the_registered_image() {
    let (fake, server, vars, _ca) = ionos_ftps().await;
    let file = ImageFile::qcow2("build-output.img", 3 * 1024 * 1024 + 17);
    let run = images(
        &vars,
        &[
            "--provider",
            "ionos",
            "upload",
            file.path_str(),
            "--name",
            "debian-13",
            "--region",
            "de/fra",
            "--os",
            "Debian",
            "--description",
            "built by CI",
            "--json",
        ],
    )
    .await;
    let lines = run.json_lines();
    assert_eq!(lines.len(), 1, "{run:#?}");
    assert_neutral(&lines, "ionos");
    let image = &lines[0];
    assert_eq!(
        (&image["name"], &image["description"], &image["status"]),
        (
            &Value::from("debian-13"),
            &Value::from("built by CI"),
            &Value::from("ready")
        ),
        "{run:#?}"
    );
    // The bytes at the far end, named after the image with its format's extension.
    let stored = server
        .bytes("hdd-images/debian-13.qcow2")
        .expect("the file on the server");
    assert_eq!(support::sha256(&stored), file.sha256());
    // The image at IONOS: renamed, with the OS as its licence type.
    let at_fake = fake
        .image(image["id"].as_str().unwrap())
        .expect("the image at IONOS");
    let properties = &at_fake["properties"];
    assert_eq!(properties["name"], "debian-13");
    assert_eq!(properties["licenceType"], "LINUX");
    assert_eq!(properties["description"], "built by CI");
    assert_eq!(properties["location"], "de/fra");
    // Plain progress lines: each phase once, the bytes in tenths.
    let id = image["id"].as_str().unwrap();
    for line in [
        "checking\n".to_owned(),
        "sending: 100% of 3145745 bytes\n".to_owned(),
        "sent hdd-images/debian-13.qcow2; waiting for it to be registered\n".to_owned(),
        format!("registered as image {id}\n"),
    ] {
        assert!(run.err.contains(&line), "`{line}` in {}", run.err);
    }
    assert!(!run.err.contains("staging"), "no bucket: {}", run.err);
    assert!(!run.err.contains(server.password()), "{}", run.err);
}

#[tokio::test]
async fn upload_on_ionos_refuses_a_staging_bucket_and_sends_nothing() {
    let (fake, server, vars, _ca) = ionos_ftps().await;
    let file = ImageFile::qcow2("debian-13.qcow2", 4096);
    let upload = [
        "--provider",
        "ionos",
        "upload",
        file.path_str(),
        "--name",
        "d",
        "--region",
        "de/fra",
    ];
    for extra in [
        &["--staging", "s3://my-bucket"][..],
        &["--keep-staged"],
        &["--region", "de/txl"],
    ] {
        let err = images(&vars, &[&upload[..], extra].concat())
            .await
            .failed()
            .to_owned();
        let expected = if extra[0] == "--region" {
            "give one --region"
        } else {
            "ionos takes the file on its own file server, not through a staging bucket"
        };
        assert!(err.contains(expected), "{extra:?}: {err}");
    }
    assert_eq!(server.logins(), 0);
    assert!(server.files().is_empty());
    assert!(fake.api_requests().is_empty(), "nothing asked of IONOS");
}

#[tokio::test]
async fn upload_on_ionos_with_only_a_token_says_ftp_needs_the_login() {
    let (fake, server, mut vars, _ca) = ionos_ftps().await;
    vars.retain(|(name, _)| !["IONOS_USERNAME", "IONOS_PASSWORD"].contains(name));
    let file = ImageFile::qcow2("debian-13.qcow2", 4096);
    let err = images(
        &vars,
        &[
            "--provider",
            "ionos",
            "upload",
            file.path_str(),
            "--name",
            "debian-13",
            "--region",
            "de/fra",
        ],
    )
    .await
    .failed_last()
    .to_owned();
    assert!(err.contains("a token cannot log in to FTP"), "{err}");
    assert!(err.contains("IONOS_USERNAME and IONOS_PASSWORD"), "{err}");
    assert_eq!(server.logins(), 0);
    assert!(server.files().is_empty());
    assert!(fake.api_requests().is_empty(), "nothing asked of IONOS");
}

#[tokio::test]
async fn upload_on_ionos_without_waiting_returns_the_registered_image() {
    let (fake, server, vars, _ca) = ionos_ftps().await;
    let file = ImageFile::qcow2("debian-13.qcow2", 4096);
    let run = images(
        &vars,
        &[
            "--provider",
            "ionos",
            "upload",
            file.path_str(),
            "--name",
            "quick",
            "--region",
            "de/fra",
            "--no-wait",
        ],
    )
    .await;
    // As registered, under the file's name: the rename is sent, not waited for.
    let out = run.ok();
    assert!(out.starts_with("registered image "), "{run:#?}");
    assert!(out.ends_with(" (quick.qcow2): ready\n"), "{run:#?}");
    assert_eq!(
        support::sha256(&server.bytes("hdd-images/quick.qcow2").unwrap()),
        file.sha256()
    );
    let requests = fake.api_requests();
    let last = requests.last().unwrap();
    assert_eq!(last.method.as_str(), "PATCH", "the rename, last");
    assert_eq!(last.json().unwrap(), serde_json::json!({"name": "quick"}));
}
