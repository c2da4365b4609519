//! Bounded waits: a request's head and body must arrive in time, idle keep-alive connections
//! close, and the service raises its open-file limit, so that slow clients cannot hold it.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt as _;

use crate::helpers::{Backend, spawn_app, spawn_app_with};
use crate::raw::{answered_and_closed, read_until_closed};

#[tokio::test]
async fn a_body_that_stalls_is_408_after_the_body_timeout() {
    let app = spawn_app_with(Backend::Sqlite, &[("APP__SERVER__BODY_TIMEOUT_MS", "300")]).await;
    let (user, chat) = app.seed_user_and_chat().await;
    let mut stream = app.raw_connection().await;
    let head = format!(
        "POST /api/users/{user}/chats/{chat}/messages HTTP/1.1\r\nHost: test\r\n\
         Cookie: neptun-session={}\r\nContent-Type: application/json\r\n\
         Content-Length: 100\r\n\r\n{{\"message\": ",
        app.session(user)
    );
    stream.write_all(head.as_bytes()).await.unwrap();

    let (answer, after) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains(r#""statusCode":408"#), "{answer}");
    assert!(after < Duration::from_secs(3), "{after:?}");
    assert_eq!(app.messages(chat).await.len(), 0);
}

#[tokio::test]
async fn a_head_that_stalls_is_closed_after_the_head_timeout() {
    let app = spawn_app_with(Backend::Sqlite, &[("APP__SERVER__HEAD_TIMEOUT_MS", "300")]).await;
    let mut stream = app.raw_connection().await;
    stream
        .write_all(b"GET /api/users/1/chats HTTP/1.1\r\nHost: te")
        .await
        .unwrap();
    let (answer, after) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
    assert!(after < Duration::from_secs(3), "{after:?}");
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let app = spawn_app_with(Backend::Sqlite, &[("APP__SERVER__KEEP_ALIVE_S", "1")]).await;
    let mut stream = app.raw_connection().await;
    stream
        .write_all(b"GET /api/users/1/chats HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .unwrap();
    let (answer, after) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(after < Duration::from_secs(4), "{after:?}");
}

/// The soft limit goes up to the hard limit, and the log says so.
#[test]
fn the_open_file_limit_is_raised_at_start() {
    let hard = String::from_utf8(
        Command::new("sh")
            .args(["-c", "ulimit -Hn"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let mut child = Command::new("sh")
        .args([
            "-c",
            "ulimit -Sn 256 && exec \"$0\"",
            env!("CARGO_BIN_EXE_chat-service"),
        ])
        .env("APP_ENV", "test")
        .env(
            "APP_CONFIG_DIR",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config"),
        )
        .env("APP__DATABASE__URL", "sqlite::memory:")
        .env("APP__LOG__FORMAT", "json")
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting chat-service");
    let stderr = child.stderr.take().unwrap();
    let line = BufReader::new(stderr)
        .lines()
        .map_while(Result::ok)
        .find(|line| line.contains("open-file limit"));
    child.kill().unwrap();
    child.wait().unwrap();

    let line = line.expect("a log line about the open-file limit");
    let logged: serde_json::Value = serde_json::from_str(&line).unwrap();
    let hard = hard.trim();
    let expected = if hard == "unlimited" {
        u64::MAX.to_string()
    } else {
        hard.to_owned()
    };
    assert_eq!(logged["fields"]["limit"].to_string(), expected, "{line}");
}

/// How many files this process has open (the test's client sockets and the server's).
fn open_files() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, Iterator::count)
}

/// A chunked upload answered before its body (here a 401: no session) ends its connection,
/// as one with a Content-Length does: 2,000 of them held open by their clients leave the
/// server with no descriptor of theirs, and a new client is served at once.
#[tokio::test]
async fn connections_answered_before_their_chunked_body_are_closed() {
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let app = spawn_app(Backend::Sqlite).await;
    let before = open_files();
    let head = "POST /api/users/1/chats/1/messages HTTP/1.1\r\nHost: test\r\n\
                Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    let mut held = Vec::new();
    for _ in 0..20 {
        let wave = (0..100).map(|_| answered_and_closed(&app, head));
        for (answer, stream) in futures_util::future::join_all(wave).await {
            assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
            held.push(stream);
        }
    }
    let started = Instant::now();
    let res = reqwest::get(format!("{}/healthz", app.address))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(started.elapsed() < Duration::from_secs(1));
    // Only the clients' ends are left (and a few of the new client's).
    let servers = open_files().saturating_sub(held.len());
    assert!(
        servers <= before + 8,
        "{servers} open besides the clients' (was {before})"
    );
}

/// The same for a 415 and for a chunked body that stops arriving (408).
#[tokio::test]
async fn chunked_uploads_ended_by_415_or_408_are_closed() {
    let app = spawn_app_with(Backend::Sqlite, &[("APP__SERVER__BODY_TIMEOUT_MS", "300")]).await;
    let (user, chat) = app.seed_user_and_chat().await;
    let head = |media: &str| {
        format!(
            "POST /api/users/{user}/chats/{chat}/messages HTTP/1.1\r\nHost: test\r\n\
             Cookie: neptun-session={}\r\nContent-Type: {media}\r\n\
             Transfer-Encoding: chunked\r\n\r\n",
            app.session(user)
        )
    };
    let (answer, _) = answered_and_closed(&app, &head("text/plain")).await;
    assert!(answer.starts_with("HTTP/1.1 415"), "{answer}");
    let stalled = format!("{}5\r\n{{\"mes\r\n", head("application/json"));
    let (answer, _) = answered_and_closed(&app, &stalled).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains(r#""statusCode":408"#), "{answer}");
    assert_eq!(app.messages(chat).await.len(), 0);
}
