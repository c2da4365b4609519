//! `chat-service healthcheck`: asks the local service's `/healthz`, with nothing but a TCP
//! socket, so that a container image needs no curl.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use anyhow::{Context as _, bail};

const TIMEOUT: Duration = Duration::from_secs(2);

/// Succeeds if `GET /healthz` on `127.0.0.1:port` answers 200 within the timeout.
pub fn check(port: u16) -> anyhow::Result<()> {
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&address, TIMEOUT)
        .with_context(|| format!("connecting to {address}"))?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
    let mut status_line = [0u8; 12];
    stream
        .read_exact(&mut status_line)
        .with_context(|| format!("reading the answer of {address}"))?;
    if &status_line != b"HTTP/1.1 200" {
        bail!(
            "{address}/healthz answered {}",
            String::from_utf8_lossy(&status_line)
        );
    }
    Ok(())
}
