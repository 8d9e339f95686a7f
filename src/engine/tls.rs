//! The TLS setup of the crate's HTTP clients.

/// A `reqwest::ClientBuilder` with the crate's TLS setup and reqwest's
/// defaults otherwise (the OAuth2 token client starts from it). For a client
/// to hand to [`ClientBuilder::http_client`](crate::ClientBuilder::http_client),
/// start from [`api_http_client_builder`], which leaves retries to the layer.
///
/// With the default `rustls` feature, that is reqwest's own TLS: rustls
/// with the aws-lc-rs crypto provider (or the process's default provider,
/// when one is installed) and the platform's certificate verifier, speaking
/// HTTP/2 or HTTP/1.1. Since it is reqwest's default, a plain
/// `reqwest::Client::builder()` elsewhere in the program works too, whether
/// or not it asked for TLS itself. With the `native-tls` feature, the
/// platform's TLS library.
///
/// ```
/// let http = cloud_images::transport::http_client_builder()?
///     .pool_max_idle_per_host(4)
///     .build()
///     .unwrap();
/// # drop(http);
/// # Ok::<(), cloud_images::Error>(())
/// ```
pub fn http_client_builder() -> Result<reqwest::ClientBuilder, crate::Error> {
    Ok(reqwest::Client::builder())
}

/// [`http_client_builder`] set up as the crate's API clients are: where they
/// start from, and where to start from for
/// [`ClientBuilder::http_client`](crate::ClientBuilder::http_client).
///
/// Retries are left to the layer: reqwest's own retry (of a request an
/// HTTP/2 server refused) would resend the request with the same request id
/// in an attempt nobody counts, and copies every request for it; the layer
/// retries such a request itself, with a fresh id. Redirects are followed
/// only within the origin, and only when they keep the method (`307`, `308`);
/// an answer from outside the client's base URL is refused anyway.
///
/// ```
/// let http = cloud_images::transport::api_http_client_builder()?
///     .pool_max_idle_per_host(4)
///     .build()
///     .unwrap();
/// # drop(http);
/// # Ok::<(), cloud_images::Error>(())
/// ```
pub fn api_http_client_builder() -> Result<reqwest::ClientBuilder, crate::Error> {
    Ok(http_client_builder()?
        .retry(reqwest::retry::never().max_retries_per_request(0))
        .redirect(crate::engine::redirect::same_origin_policy()))
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncReadExt;

    use super::*;

    /// The TLS setup works without a process-wide crypto provider: a client
    /// builds, and an `https` request starts a TLS handshake (to a loopback
    /// server that reads the first record and hangs up) instead of panicking.
    #[tokio::test]
    async fn https_requests_start_a_tls_handshake() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut first = [0u8; 3];
            stream.read_exact(&mut first).await.unwrap();
            first
        });
        let http = http_client_builder().unwrap().build().unwrap();
        let result = http.get(format!("https://localhost:{port}/")).send().await;
        assert!(result.is_err(), "no TLS server there");
        let first = server.await.unwrap();
        // A TLS handshake record (22), version 3.x.
        assert_eq!(first[..2], [22, 3], "{first:?}");
    }
}
