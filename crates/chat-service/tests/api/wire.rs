//! A TCP proxy between the service and PostgreSQL that reads the protocol's messages as they
//! pass and counts what PostgreSQL's statement log shows: round trips, `Parse`s (a
//! statement prepared) and simple queries. It refuses TLS (answers `N` to `SSLRequest`), so the
//! service's default `sslmode=prefer` goes on in plain text where the messages can be read.

use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the service has sent PostgreSQL so far, over all its connections.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Sends that began while the connection had nothing outstanding: the client waits for the
    /// answers of each, so each is a round trip. Messages pipelined behind one (sent before its
    /// answers came) ride in the same.
    pub round_trips: u32,
    pub parses: u32,
    pub simple_queries: u32,
}

impl std::ops::Sub for Counts {
    type Output = Self;
    fn sub(self, before: Self) -> Self {
        Self {
            round_trips: self.round_trips - before.round_trips,
            parses: self.parses - before.parses,
            simple_queries: self.simple_queries - before.simple_queries,
        }
    }
}

/// Where one connection's exchange stands.
#[derive(Default)]
struct Outstanding {
    /// Messages have gone since the last `ReadyForQuery` that left nothing outstanding.
    open: bool,
    /// Requests whose `ReadyForQuery` has not come back: a `Sync` or a `Query` each.
    answers: u32,
}

pub struct Proxy {
    pub port: u16,
    counts: Arc<Mutex<Counts>>,
    accepting: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

impl Proxy {
    /// Listens on a free port of 127.0.0.1 and forwards each connection to `upstream`.
    pub async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let counts = Arc::new(Mutex::new(Counts::default()));
        let shared = counts.clone();
        let accepting = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(relay(client, upstream.clone(), shared.clone()));
            }
        });
        Self {
            port,
            counts,
            accepting,
        }
    }

    pub fn counts(&self) -> Counts {
        *self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Startup, then the two directions, each read message by message.
async fn relay(mut client: TcpStream, upstream: String, counts: Arc<Mutex<Counts>>) {
    let Ok(startup) = startup(&mut client).await else {
        return;
    };
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return;
    };
    if server.write_all(&startup).await.is_err() {
        return;
    }
    let outstanding = Arc::new(Mutex::new(Outstanding::default()));
    let (client_in, client_out) = client.into_split();
    let (server_in, server_out) = server.into_split();
    let up = pump(client_in, server_out, {
        let (counts, outstanding) = (counts.clone(), outstanding.clone());
        move |kind| sent(kind, &counts, &outstanding)
    });
    let down = pump(server_in, client_out, move |kind| {
        if kind == b'Z' {
            let mut outstanding = outstanding.lock().unwrap_or_else(PoisonError::into_inner);
            outstanding.answers = outstanding.answers.saturating_sub(1);
            outstanding.open = outstanding.answers > 0;
        }
    });
    let _ = tokio::join!(up, down);
}

/// The client's startup message, after answering `N` to its requests for TLS or GSS.
async fn startup(client: &mut TcpStream) -> io::Result<Vec<u8>> {
    const SSL_REQUEST: i32 = 80_877_103;
    const GSSENC_REQUEST: i32 = 80_877_104;
    loop {
        let len = client.read_i32().await?;
        let mut body = vec![0; usize::try_from(len - 4).unwrap_or(0)];
        client.read_exact(&mut body).await?;
        let code = body
            .get(..4)
            .map(|c| i32::from_be_bytes(c.try_into().unwrap()));
        if matches!(code, Some(SSL_REQUEST | GSSENC_REQUEST)) {
            client.write_all(b"N").await?;
            continue;
        }
        let mut message = len.to_be_bytes().to_vec();
        message.extend(body);
        return Ok(message);
    }
}

/// Counts one message from the service.
fn sent(kind: u8, counts: &Mutex<Counts>, outstanding: &Mutex<Outstanding>) {
    let mut counts = counts.lock().unwrap_or_else(PoisonError::into_inner);
    let mut outstanding = outstanding.lock().unwrap_or_else(PoisonError::into_inner);
    if !outstanding.open {
        outstanding.open = true;
        counts.round_trips += 1;
    }
    match kind {
        b'P' => counts.parses += 1,
        b'Q' => counts.simple_queries += 1,
        _ => {}
    }
    if matches!(kind, b'S' | b'Q') {
        outstanding.answers += 1;
    }
}

/// Forwards typed messages (a byte, then a length that counts itself), calling `seen` with
/// each one's type before it goes on, so that an answer is counted before the service can act
/// on it.
async fn pump(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    mut seen: impl FnMut(u8),
) -> io::Result<()> {
    loop {
        let kind = from.read_u8().await?;
        let len = from.read_i32().await?;
        let mut message = vec![kind];
        message.extend(len.to_be_bytes());
        message.resize(1 + usize::try_from(len).unwrap_or(4), 0);
        from.read_exact(&mut message[5..]).await?;
        seen(kind);
        to.write_all(&message).await?;
    }
}
