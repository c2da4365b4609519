//! A client that takes nothing of its answer is disconnected after `server.write_timeout_ms`:
//! the answer waiting for it (up to a page of the read budget) does not outlive that.

use std::time::Duration;

use serde_json::json;
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpSocket;

use crate::helpers::{Backend, spawn_app_with};
use crate::raw::read_until_closed;

#[tokio::test]
async fn a_client_that_never_reads_its_answer_is_disconnected() {
    let vars = [
        ("APP__SERVER__WRITE_TIMEOUT_MS", "300"),
        ("APP__LIMITS__READ_BUDGET_BYTES", "67108864"),
    ];
    let app = spawn_app_with(Backend::Sqlite, &vars).await;
    let (user, chat) = app.seed_user_and_chat().await;
    let session = app.session(user);
    // 16 MB of messages, far more than the two sockets' buffers hold.
    let message = json!({"role": "assistant", "content": "x".repeat(1_000_000)});
    for _ in 0..2 {
        let batch = json!({"messages": vec![message.clone(); 8]});
        let res = app.post_messages(user, chat, &session, &batch).await;
        assert_eq!(res.status(), 200);
    }
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let address = app.address.trim_start_matches("http://").parse().unwrap();
    let mut stream = socket.connect(address).await.unwrap();
    let request = format!(
        "GET /api/users/{user}/chats/{chat}/messages HTTP/1.1\r\nHost: t\r\n\
         Cookie: neptun-session={session}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // What was on its way when the server gave up, then the end: not the whole answer.
    let (answer, _) = read_until_closed(&mut stream, Duration::from_secs(10)).await;
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"));
    assert!(
        answer.len() < 10_000_000,
        "{} bytes of a 16 MB answer",
        answer.len()
    );
}
