//! Errors that actix-http's codec answers by itself, before any request exists: a head it
//! cannot parse (400: bad framing, no `Host`, a URL over its limit), one too large (431), one
//! that did not arrive in time (408). It writes them with an empty body and closes, and logs
//! them at ERROR. [`ContractWire`], around each connection, puts the contract's body and a
//! request id into those answers; [`log_connection_error`] logs the ending below ERROR, for
//! anyone can cause it.
//!
//! No answer of the application's is touched: every error it sends has a JSON body, so a 4xx
//! head with `content-length: 0` and `connection: close` is the codec's alone.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use actix_web::ResponseError as _;
use actix_web::body::MessageBody as _;
use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::error::ApiError;
use crate::middleware::REQUEST_ID;

/// A connection whose codec-made error answers carry the contract's body.
pub struct ContractWire<T> {
    io: T,
    /// A rewritten answer, and how much of it is written.
    pending: Option<(Bytes, usize)>,
}

impl<T> ContractWire<T> {
    pub fn new(io: T) -> Self {
        Self { io, pending: None }
    }
}

impl<T: AsyncWrite + Unpin> ContractWire<T> {
    /// Writes what is left of a rewritten answer.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((bytes, written)) = &mut self.pending {
            if *written == bytes.len() {
                self.pending = None;
                break;
            }
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, &bytes[*written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += n;
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ContractWire<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ContractWire<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_pending(cx))?;
        if let Some(answer) = contract_answer(buf) {
            // The codec's bytes count as written; the answer goes in their place.
            self.pending = Some((answer, 0));
            ready!(self.poll_pending(cx))?;
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

const EMPTY: &[u8] = b"\r\ncontent-length: 0\r\n";

/// The contract's answer in place of `written`, if `written` is a whole codec-made error.
fn contract_answer(written: &[u8]) -> Option<Bytes> {
    let head = written
        .strip_prefix(b"HTTP/1.1 4")?
        .strip_suffix(b"\r\n\r\n")?;
    let at = head.windows(EMPTY.len()).position(|w| w == EMPTY)?;
    let closes = head
        .windows(19)
        .any(|w| w.eq_ignore_ascii_case(b"connection: close\r\n"));
    if !closes || head.windows(4).any(|w| w == b"\r\n\r\n") {
        return None;
    }
    let code = std::str::from_utf8(written.get(9..12)?)
        .ok()?
        .parse()
        .ok()?;
    let status = StatusCode::from_u16(code).ok()?;
    let body = ApiError::for_status(status)
        .error_response()
        .into_body()
        .try_into_bytes()
        .ok()?;
    let head = &written[..10 + at];
    let rest = &written[10 + at + EMPTY.len()..];
    let mut answer = Vec::with_capacity(written.len() + body.len() + 96);
    answer.extend_from_slice(head);
    answer.extend_from_slice(
        format!(
            "\r\ncontent-length: {}\r\ncontent-type: application/json\r\n{}: {}\r\n",
            body.len(),
            REQUEST_ID,
            uuid::Uuid::new_v4()
        )
        .as_bytes(),
    );
    answer.extend_from_slice(rest);
    answer.extend_from_slice(&body);
    Some(answer.into())
}

/// Logs why actix-http ended a connection: below ERROR, as a client can cause any of these
/// (actix-http's own ERROR line for them is filtered out, see the binary's telemetry).
pub fn log_connection_error(error: &actix_http::error::DispatchError) {
    use actix_http::error::DispatchError;
    match error {
        // The service's own response body failed mid-way: the client got a cut answer.
        DispatchError::Body(e) => tracing::warn!(error = %e, "a response body failed"),
        e => tracing::info!(error = %e, "connection ended by a protocol error"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: &[u8]) -> String {
        String::from_utf8_lossy(bytes).into_owned()
    }

    #[test]
    fn the_codecs_own_errors_get_the_contracts_body() {
        let codec = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\
                      connection: close\r\ndate: Fri, 04 Dec 2026 15:32:43 GMT\r\n\r\n";
        let answer = text(&contract_answer(codec).unwrap());
        assert!(
            answer.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"),
            "{answer}"
        );
        assert!(
            answer.contains("\r\ncontent-type: application/json\r\n"),
            "{answer}"
        );
        assert!(answer.contains("\r\nx-request-id: "), "{answer}");
        assert!(
            answer.contains("\r\ndate: Fri, 04 Dec 2026 15:32:43 GMT\r\n\r\n{"),
            "{answer}"
        );
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(
            head.contains(&format!("content-length: {}\r", body.len())),
            "{answer}"
        );
        let body: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(body["statusCode"], 431);
    }

    #[test]
    fn the_applications_answers_are_left_alone() {
        for written in [
            &b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"[..],
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 50\r\nconnection: close\r\n\r\n{}",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\nmore",
        ] {
            assert!(contract_answer(written).is_none(), "{}", text(written));
        }
    }
}
