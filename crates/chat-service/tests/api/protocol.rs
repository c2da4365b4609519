//! Answers given outside the routes: requests actix-http's codec refuses before they exist,
//! and `Expect`. Each is in the contract's shape, with a request id, and none is logged as an
//! error of the service's.

use std::io::Read as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use tokio::io::AsyncWriteExt as _;

use crate::helpers::{Backend, spawn_app, spawn_app_with};
use crate::raw::{answered_and_closed, read_for};

/// The status line's code and the body of a raw answer, checked for the contract's shape.
fn contract_answer(answer: &str) -> (u16, Value) {
    let (head, body) = answer.split_once("\r\n\r\n").expect("a head and a body");
    let status: u16 = head[9..12].parse().unwrap();
    assert!(
        head.contains("\r\ncontent-type: application/json\r\n"),
        "{answer}"
    );
    assert!(head.contains("\r\nx-request-id: "), "{answer}");
    let body: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {answer}"));
    assert_eq!(body["statusCode"], status, "{answer}");
    assert!(body["statusMessage"].is_string(), "{answer}");
    (status, body)
}

fn malformed() -> Vec<(&'static str, String, u16)> {
    let headers: String = (0..200).map(|i| format!("X-H{i}: v\r\n")).collect();
    vec![
        (
            "bad framing",
            "GET / HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n".into(),
            400,
        ),
        (
            "no Host",
            "GET /api/users/1/chats HTTP/1.1\r\n\r\n".into(),
            400,
        ),
        (
            "a URL over the limit",
            format!("GET /{} HTTP/1.1\r\nHost: t\r\n\r\n", "a".repeat(70_000)),
            400,
        ),
        (
            "too many headers",
            format!("GET / HTTP/1.1\r\nHost: t\r\n{headers}\r\n"),
            431,
        ),
        ("a head that stalls", "GET / HTTP/1.1\r\nHo".into(), 408),
    ]
}

#[tokio::test]
async fn requests_the_codec_refuses_get_the_contracts_body() {
    let app = spawn_app_with(Backend::Sqlite, &[("APP__SERVER__HEAD_TIMEOUT_MS", "300")]).await;
    for (what, request, status) in malformed() {
        let (answer, _) = answered_and_closed(&app, &request).await;
        assert_eq!(contract_answer(&answer).0, status, "{what}: {answer}");
    }
}

/// Anyone can send a malformed request: the service logs it below ERROR.
#[test]
fn malformed_requests_are_not_logged_as_errors() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_chat-service"))
        .env("APP_ENV", "test")
        .env(
            "APP_CONFIG_DIR",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config"),
        )
        .env("APP__DATABASE__URL", "sqlite::memory:")
        .env("APP__SERVER__PORT", port.to_string())
        .env("APP__SERVER__HEAD_TIMEOUT_MS", "300")
        .env("APP__LOG__FORMAT", "json")
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting chat-service");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let address = format!("127.0.0.1:{port}");
        let mut tries = 0;
        while tokio::net::TcpStream::connect(&address).await.is_err() && tries < 100 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            tries += 1;
        }
        for (_, request, _) in malformed() {
            let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
            stream.write_all(request.as_bytes()).await.unwrap();
            read_for(&mut stream, Duration::from_secs(2)).await;
        }
    });
    child.kill().unwrap();
    let mut logs = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    child.wait().unwrap();
    let lines: Vec<Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let errors: Vec<&Value> = lines.iter().filter(|l| l["level"] == "ERROR").collect();
    assert!(errors.is_empty(), "{errors:?}");
    let ended = lines
        .iter()
        .filter(|l| l["fields"]["message"] == "connection ended by a protocol error")
        .count();
    assert!(ended >= 4, "{logs}");
}

/// `Expect: 100-continue` is answered from the head when the head decides: 401, 403, 413
/// instead of `100 Continue`; a request that may send its body gets `100` and then its answer.
#[tokio::test]
async fn expect_100_continue_is_answered_before_the_body() {
    let app = spawn_app_with(
        Backend::Sqlite,
        &[("APP__LIMITS__MAX_BODY_BYTES", "1048576")],
    )
    .await;
    let (user, chat) = app.seed_user_and_chat().await;
    let other = app.seed_user("other@example.com").await;
    let head = |session: Option<String>, owner: i32, length: usize| {
        let cookie =
            session.map_or_else(String::new, |s| format!("Cookie: neptun-session={s}\r\n"));
        format!(
            "POST /api/users/{owner}/chats/{chat}/messages HTTP/1.1\r\nHost: t\r\n{cookie}\
             Content-Type: application/json\r\nContent-Length: {length}\r\n\
             Expect: 100-continue\r\n\r\n"
        )
    };
    for (session, owner, length, status) in [
        (None, user, 1_000_000, 401),
        (Some(app.session(other)), user, 10, 403),
        (Some(app.session(user)), user, 3 * 1024 * 1024, 413),
    ] {
        let mut stream = app.raw_connection().await;
        stream
            .write_all(head(session, owner, length).as_bytes())
            .await
            .unwrap();
        let answer = read_for(&mut stream, Duration::from_secs(2)).await;
        assert!(!answer.contains("100 Continue"), "{answer}");
        assert_eq!(contract_answer(&answer).0, status, "{answer}");
    }

    let body = r#"{"message":"hi","actor":"user"}"#;
    let mut stream = app.raw_connection().await;
    let request = head(Some(app.session(user)), user, body.len());
    stream.write_all(request.as_bytes()).await.unwrap();
    let answer = read_for(&mut stream, Duration::from_millis(500)).await;
    assert_eq!(answer, "HTTP/1.1 100 Continue\r\n\r\n");
    stream.write_all(body.as_bytes()).await.unwrap();
    let answer = read_for(&mut stream, Duration::from_millis(500)).await;
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert_eq!(app.messages(chat).await.len(), 1);
}

#[tokio::test]
async fn an_unknown_expectation_is_417() {
    let app = spawn_app(Backend::Sqlite).await;
    let (user, chat) = app.seed_user_and_chat().await;
    let request = format!(
        "POST /api/users/{user}/chats/{chat}/messages HTTP/1.1\r\nHost: t\r\n\
         Cookie: neptun-session={}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\
         Expect: something-else\r\nConnection: close\r\n\r\n{{}}",
        app.session(user)
    );
    let (answer, _) = answered_and_closed(&app, &request).await;
    assert_eq!(contract_answer(&answer).0, 417, "{answer}");
    assert_eq!(app.messages(chat).await.len(), 0);
}
