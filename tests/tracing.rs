//! The tracing span of a request. In a test binary of its own: tracing caches
//! per call site whether anyone listens, which races with tests that run
//! without a subscriber on other threads.

use cloud_images::Execute;
use cloud_images::contabo::Client;
use httpmock::prelude::*;
use serde_json::json;

const TOKEN: &str = "secret-token-123";

fn client(server: &MockServer) -> Client {
    Client::builder()
        .base_url(server.base_url())
        .bearer_token(TOKEN)
        .build()
        .unwrap()
}

#[tokio::test]
async fn each_request_is_traced_with_its_operation_status_and_request_id_but_no_token() {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path("/v1/compute/images/stats");
            then.status(200)
                .json_body(json!({"data": [], "_links": {"self": "/"}}));
        })
        .await;
    let r = client(&server)
        .retrieve_custom_images_stats()
        .execute()
        .await
        .unwrap();
    let log = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    let close = log
        .lines()
        .find(|l| l.contains("close"))
        .expect("the span closed");
    for part in [
        "cloud_images.request",
        "operation=\"retrieve_custom_images_stats\"",
        "method=GET",
        "status=200",
        "attempt=1",
        &format!("request_id=\"{}\"", r.request_id().unwrap()),
        "duration_ms=",
    ] {
        assert!(close.contains(part), "{part} missing in {close}");
    }
    assert!(!log.contains(TOKEN), "{log}");
}
