//! IONOS uploads from the command line, as a user runs them: the `ionos`
//! and `images` examples as child processes, configured by their
//! environment only, against `FakeIonos` and its FTPS server on loopback.
//! What is asserted is what a user relies on: the exit status, the bytes on
//! the FTP server, the image and its properties at IONOS, the phases on
//! stderr, what stdout prints, and the errors.

mod support;

use std::process::Output;

use cloud_images::testing::{FakeFtps, FakeIonos};
use serde_json::Value;
use support::ImageFile;

type Vars = Vec<(&'static str, String)>;

/// The IONOS fake with an FTPS server for `de/fra` that registers a stored
/// file at once, and the variables a user sets for it: the token for the
/// API, the account's login for FTP, the server and its root certificate
/// (in the returned file).
async fn ionos() -> (FakeIonos, FakeFtps, Vars, ImageFile) {
    let fake = FakeIonos::start().await;
    let (server, ftp_vars, ca) = support::ionos_ftps(&fake).await;
    let mut vars = vec![
        ("IONOS_API_URL", fake.base_url()),
        ("IONOS_TOKEN", "ionos-demo-token".to_owned()),
    ];
    vars.extend(ftp_vars);
    (fake, server, vars, ca)
}

/// Runs `cargo run --example EXAMPLE -- ARGS` with these variables (and
/// none of the providers' own or S3's from the environment), polling every
/// millisecond while waiting.
async fn run(example: &'static str, vars: &Vars, args: &[&str]) -> Output {
    let args: Vec<String> = ["--poll-ms", "1"]
        .iter()
        .chain(args)
        .map(|a| a.to_string())
        .collect();
    support::run_example(example, vars.clone(), args).await
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts success and returns stdout and stderr.
fn ok(output: &Output) -> (String, String) {
    let (out, err) = (text(&output.stdout), text(&output.stderr));
    assert!(output.status.success(), "{:?}\n{out}\n{err}", output.status);
    (out, err)
}

/// Asserts exit status 1, nothing on stdout, and returns the `error: ` line
/// (last on stderr).
fn failed(output: &Output) -> String {
    let (out, err) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(1), "{out}\n{err}");
    assert_eq!(out, "", "nothing on stdout: {err}");
    let last = err.lines().last().unwrap_or_default().to_owned();
    assert!(last.starts_with("error: "), "{err}");
    last
}

#[tokio::test(flavor = "multi_thread")]
async fn ionos_upload_sends_the_file_and_sets_every_property_asked() {
    let (fake, server, vars, _ca) = ionos().await;
    let file = ImageFile::qcow2("build-output.img", 2 * 1024 * 1024 + 5);
    let output = run(
        "ionos",
        &vars,
        &[
            "upload",
            file.path_str(),
            "--location",
            "de/fra",
            "--name",
            "debian-13",
            "--licence-type",
            "LINUX",
            "--cloud-init",
            "V1",
            "--description",
            "built by CI",
            "--expose-serial",
            "--require-legacy-bios",
            "--hot-plug",
            "cpu,ram,disc-virtio",
            "--hot-unplug",
            "nic",
            "--json",
        ],
    )
    .await;
    let (out, err) = ok(&output);

    // The bytes at the far end.
    let stored = server
        .bytes("hdd-images/debian-13.qcow2")
        .expect("the file on the server");
    assert_eq!(support::sha256(&stored), file.sha256());

    // stdout: the image as the API has it, one JSON object.
    let printed: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let id = printed["id"].as_str().expect("an id");
    assert_eq!(printed["properties"]["name"], "debian-13", "{out}");

    // On the wire: one change, with every property asked and none other.
    let patches: Vec<Value> = fake
        .api_requests()
        .iter()
        .filter(|r| r.method == "PATCH")
        .map(|r| r.json().unwrap())
        .collect();
    let asked = serde_json::json!({
        "name": "debian-13",
        "licenceType": "LINUX",
        "cloudInit": "V1",
        "description": "built by CI",
        "exposeSerial": true,
        "requireLegacyBios": true,
        "cpuHotPlug": true,
        "ramHotPlug": true,
        "discVirtioHotPlug": true,
        "nicHotUnplug": true,
    });
    assert_eq!(patches.len(), 1, "one change: {patches:?}");
    assert_eq!(patches[0], asked);
    // The image at IONOS has them.
    let image = fake.image(id).expect("the image at IONOS");
    for (key, value) in asked.as_object().unwrap() {
        assert_eq!(&image["properties"][key], value, "{key}: {image:#}");
    }
    assert_eq!(image["properties"]["location"], "de/fra");

    // stderr: each phase, as plain lines (no terminal).
    for line in [
        "sending: 100% of 2097157 bytes",
        "sent hdd-images/debian-13.qcow2; waiting for it to be registered",
        &format!("registered as image {id}"),
    ] {
        assert!(err.lines().any(|l| l == line), "`{line}` in {err}");
    }
    assert!(!err.contains(server.password()), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn ionos_upload_no_wait_sends_the_file_and_says_ionos_registers_it_later() {
    let (fake, server, vars, _ca) = ionos().await;
    let iso = ImageFile::iso("rescue.iso", 100_000);
    let args = [
        "upload",
        iso.path_str(),
        "--location",
        "de/fra",
        "--name",
        "rescue",
        "--no-wait",
    ];
    let (out, _) = ok(&run("ionos", &vars, &args).await);
    assert_eq!(
        out,
        "sent iso-images/rescue.iso (100000 bytes); IONOS registers it later as image rescue.iso\n"
    );
    assert_eq!(
        support::sha256(&server.bytes("iso-images/rescue.iso").unwrap()),
        iso.sha256()
    );
    assert!(
        fake.api_requests().is_empty(),
        "until sent: no list, no poll, no change"
    );

    // Properties cannot be set before IONOS registers the file: refused, nothing sent.
    let files = server.files();
    let with_property = [&args[..], &["--licence-type", "OTHER"]].concat();
    let err = failed(&run("ionos", &vars, &with_property).await);
    assert!(err.contains("--no-wait"), "{err}");
    assert_eq!(server.files(), files);
}

#[tokio::test(flavor = "multi_thread")]
async fn ionos_upload_with_only_a_token_says_ftp_needs_the_login() {
    let (fake, server, mut vars, _ca) = ionos().await;
    vars.retain(|(name, _)| !["IONOS_USERNAME", "IONOS_PASSWORD"].contains(name));
    let file = ImageFile::qcow2("d.qcow2", 10_000);
    let args = ["upload", file.path_str(), "--location", "de/fra", "--name", "d"];
    let err = failed(&run("ionos", &vars, &args).await);
    assert!(err.contains("a token cannot log in to FTP"), "{err}");
    assert!(err.contains("IONOS_USERNAME and IONOS_PASSWORD"), "{err}");
    assert_eq!(server.logins(), 0);
    assert!(fake.api_requests().is_empty());

    // The neutral CLI says the same.
    let args = [
        "--provider",
        "ionos",
        "upload",
        file.path_str(),
        "--name",
        "d",
        "--region",
        "de/fra",
    ];
    let err = failed(&run("images", &vars, &args).await);
    assert!(err.contains("a token cannot log in to FTP"), "{err}");
    assert_eq!(server.logins(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn images_upload_on_ionos_prints_the_neutral_image() {
    let (fake, server, vars, _ca) = ionos().await;
    let file = ImageFile::qcow2("d.qcow2", 300_000);
    let output = run(
        "images",
        &vars,
        &[
            "--provider",
            "ionos",
            "upload",
            file.path_str(),
            "--name",
            "golden",
            "--region",
            "de/fra",
            "--os",
            "windows",
            "--json",
        ],
    )
    .await;
    let (out, err) = ok(&output);
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.len(), 1, "{out}");
    let image = &lines[0];
    assert_eq!(
        (&image["provider"], &image["name"], &image["status"], &image["os"]),
        (
            &Value::from("ionos"),
            &Value::from("golden"),
            &Value::from("ready"),
            &Value::from("WINDOWS")
        ),
        "{out}"
    );
    assert_eq!(image["regions"], serde_json::json!(["de/fra"]));
    let at_fake = fake
        .image(image["id"].as_str().unwrap())
        .expect("the image at IONOS");
    assert_eq!(at_fake["properties"]["licenceType"], "WINDOWS");
    assert_eq!(
        support::sha256(&server.bytes("hdd-images/golden.qcow2").unwrap()),
        file.sha256()
    );
    assert!(
        err.contains("sent hdd-images/golden.qcow2; waiting for it to be registered"),
        "{err}"
    );
}
