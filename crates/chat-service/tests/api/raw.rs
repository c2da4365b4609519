//! Raw HTTP/1.1 on a socket, for what a client library will not send: stalled heads and
//! bodies, malformed requests, `Expect`.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::helpers::TestApp;

impl TestApp {
    pub async fn raw_connection(&self) -> TcpStream {
        let address = self.address.trim_start_matches("http://");
        TcpStream::connect(address).await.expect("connecting")
    }
}

/// What the server sends until it closes the connection, and how long that took; fails the
/// test if it is still open after `limit`.
pub async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, Duration) {
    let started = Instant::now();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(limit, stream.read_to_end(&mut answer)).await;
    assert!(
        read.is_ok(),
        "the server kept the connection open for {limit:?}"
    );
    (
        String::from_utf8_lossy(&answer).into_owned(),
        started.elapsed(),
    )
}

/// Sends `request` (whole or not) and returns the answer once the server has closed.
pub async fn answered_and_closed(app: &TestApp, request: &str) -> (String, TcpStream) {
    let mut stream = app.raw_connection().await;
    stream.write_all(request.as_bytes()).await.unwrap();
    let (answer, _) = read_until_closed(&mut stream, Duration::from_secs(10)).await;
    (answer, stream)
}

/// What the server has sent within `wait` (for answers that leave the connection open).
pub async fn read_for(stream: &mut TcpStream, wait: Duration) -> String {
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    let deadline = Instant::now() + wait;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match tokio::time::timeout(left, stream.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => answer.extend_from_slice(&chunk[..n]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}
