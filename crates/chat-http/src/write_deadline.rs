//! A connection that gives up on a client that takes nothing of its answer for too long. An
//! answer waiting for a client that does not read holds its memory (up to a page of the read
//! budget) for as long as the connection stays open, and actix-http has no timeout for writes:
//! without this, clients that send reads and never read the answers could hold any amount.

use std::future::Future as _;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Sleep, sleep};

pub struct WriteDeadline<T> {
    io: T,
    limit: Duration,
    /// Running from the first write the client's socket refused, until one goes through.
    stalled: Option<Pin<Box<Sleep>>>,
}

impl<T> WriteDeadline<T> {
    /// `io`, whose writes fail once none has gone through for `limit`.
    pub fn new(io: T, limit: Duration) -> Self {
        Self {
            io,
            limit,
            stalled: None,
        }
    }

    /// `pending` (a write the socket refused) as it stands against the deadline: the deadline
    /// starts at the first refusal, wakes the connection when it passes, and then fails it.
    fn against_deadline<R>(
        &mut self,
        pending: Poll<io::Result<R>>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<R>> {
        if pending.is_ready() {
            self.stalled = None;
            return pending;
        }
        let limit = self.limit;
        let deadline = self.stalled.get_or_insert_with(|| Box::pin(sleep(limit)));
        match deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "the client took nothing of the answer for {} ms",
                    limit.as_millis()
                ),
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for WriteDeadline<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for WriteDeadline<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.io).poll_write(cx, buf);
        self.against_deadline(written, cx)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let flushed = Pin::new(&mut self.io).poll_flush(cx);
        self.against_deadline(flushed, cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let shut = Pin::new(&mut self.io).poll_shutdown(cx);
        self.against_deadline(shut, cx)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncWriteExt as _;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_write_the_reader_never_takes_fails_at_the_deadline() {
        let (ours, theirs) = tokio::io::duplex(16);
        let mut wire = WriteDeadline::new(ours, Duration::from_millis(500));
        let started = tokio::time::Instant::now();
        let err = wire.write_all(&[b'x'; 64]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert_eq!(started.elapsed(), Duration::from_millis(500));
        drop(theirs);
    }

    #[tokio::test(start_paused = true)]
    async fn a_reader_that_keeps_taking_is_given_all() {
        let (ours, mut theirs) = tokio::io::duplex(16);
        let mut wire = WriteDeadline::new(ours, Duration::from_millis(500));
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            let mut buf = [0; 8];
            loop {
                // Slower in all than the deadline, but never idle that long.
                tokio::time::sleep(Duration::from_millis(100)).await;
                match tokio::io::AsyncReadExt::read(&mut theirs, &mut buf)
                    .await
                    .unwrap()
                {
                    0 => return got,
                    n => got.extend_from_slice(&buf[..n]),
                }
            }
        });
        wire.write_all(&[b'x'; 256]).await.unwrap();
        wire.shutdown().await.unwrap();
        assert_eq!(reader.await.unwrap().len(), 256);
    }
}
