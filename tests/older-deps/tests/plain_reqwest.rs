//! A program that has its own reqwest, without TLS features, and adds
//! cloud-images: its plain client still builds, before and after one of
//! ours (reqwest panics at `build()` when its rustls has no crypto provider).

use cloud_images::images::Images;

#[derive(serde::Serialize)]
struct Note {
    id: uuid::Uuid,
}

#[tokio::test]
async fn a_plain_reqwest_client_builds_before_and_after_ours() {
    let before = reqwest::Client::builder().build().expect("a plain client, first");

    let ours = cloud_images::digitalocean::Client::builder()
        .base_url("https://api.digitalocean.com")
        .bearer_token("not-a-real-token")
        .build()
        .expect("our client");
    assert_eq!(ours.cloud().to_string(), "digitalocean");

    let after = reqwest::Client::new();
    let body = serde_json::to_string(&Note {
        id: uuid::Uuid::new_v4(),
    })
    .unwrap();
    for client in [before, after] {
        let request = client
            .post("https://example.com/notes")
            .body(body.clone())
            .build();
        assert!(request.is_ok());
    }
}
