//! Faults a client may retry are 503s with `Retry-After` and store nothing; a request dropped
//! at any await leaves no transaction open and no connection in a bad state. On the test's
//! own database of the shared cluster: nothing here stops or reconfigures the server (the
//! fault suite does that, on a cluster of its own).

use std::time::Duration;

use chat_domain::{ChatId, UserId};
use diesel_async::SimpleAsyncConnection as _;

use crate::helpers::{Backend, assert_error, spawn_app_with};

const HI: &str = r#"{"message": "hi", "actor": "user"}"#;

#[tokio::test]
async fn a_statement_cancelled_by_statement_timeout_is_503() {
    let app = spawn_app_with(
        Backend::Postgres,
        &[("APP__DATABASE__STATEMENT_TIMEOUT_MS", "300")],
    )
    .await;
    let (user, chat) = app.seed_user_and_chat().await;
    let mut locker = app.lock_chat(chat).await;

    let res = app
        .post_messages(
            user,
            chat,
            &app.session(user),
            &serde_json::from_str(HI).unwrap(),
        )
        .await;
    assert_eq!(res.headers()["retry-after"], "1");
    assert_error(res, 503, "Service Unavailable.").await;

    locker.batch_execute("COMMIT").await.unwrap();
    assert_eq!(app.messages(chat).await.len(), 0);
}

#[tokio::test]
async fn a_connection_terminated_by_an_administrator_is_503() {
    let app = spawn_app_with(Backend::Postgres, &[]).await;
    let (user, chat) = app.seed_user_and_chat().await;
    let mut locker = app.lock_chat(chat).await;
    let (session, hi) = (app.session(user), serde_json::from_str(HI).unwrap());
    let post = app.post_messages(user, chat, &session, &hi);
    let terminate = async {
        app.wait_for_a_lock_wait().await;
        let waiting = app.service_backends("wait_event_type = 'Lock'");
        app.sql(&format!("SELECT pg_terminate_backend(pid) {waiting}"))
            .await;
    };
    let (res, ()) = tokio::join!(post, terminate);
    assert_error(res, 503, "Service Unavailable.").await;

    locker.batch_execute("COMMIT").await.unwrap();
    assert_eq!(app.messages(chat).await.len(), 0);
    // The pool drops the dead connection: the next request is served.
    let hi: serde_json::Value = serde_json::from_str(HI).unwrap();
    let res = app.post_messages(user, chat, &app.session(user), &hi).await;
    assert_eq!(res.status(), 200);
}

/// A client that gives up while its request waits for the chat's row lock (a reset, a
/// timeout): once the lock is free, the service holds no transaction and the chat is
/// writable at once, on the one connection the pool has.
#[tokio::test]
async fn a_client_reset_while_the_chat_is_locked_leaves_no_transaction_open() {
    let app = spawn_app_with(Backend::Postgres, &[("APP__DATABASE__POOL_SIZE", "1")]).await;
    let (user, chat) = app.seed_user_and_chat().await;
    let hi: serde_json::Value = serde_json::from_str(HI).unwrap();
    app.post_messages(user, chat, &app.session(user), &hi).await;
    let mut locker = app.lock_chat(chat).await;

    for path in ["messages/last", "messages/last"] {
        let gave_up = app
            .client
            .delete(format!(
                "{}/api/users/{user}/chats/{chat}/{path}",
                app.address
            ))
            .header("cookie", format!("neptun-session={}", app.session(user)))
            .timeout(Duration::from_millis(500))
            .send()
            .await;
        assert!(gave_up.unwrap_err().is_timeout());
    }
    locker.batch_execute("COMMIT").await.unwrap();

    let open = app.service_backends("state LIKE 'idle in transaction%'");
    app.wait_for_postgres(&format!("SELECT count(*) AS n {open}"), |n| n == 0)
        .await;
    let res = app
        .client
        .post(app.messages_url(user, chat))
        .header("cookie", format!("neptun-session={}", app.session(user)))
        .header("content-type", "application/json")
        .body(HI)
        .timeout(Duration::from_secs(2))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

/// The same, where the request future itself is dropped inside the transaction (a timeout,
/// a forced shutdown): the connection is closed, not pooled with its transaction open.
#[tokio::test]
async fn a_request_dropped_inside_a_transaction_leaves_none_open() {
    let app = spawn_app_with(Backend::Postgres, &[("APP__DATABASE__POOL_SIZE", "1")]).await;
    let (user, chat) = app.seed_user_and_chat().await;
    let caller = app
        .service
        .authorize(Some(&app.session(user)), UserId::new(user.into()).unwrap())
        .unwrap();
    let chat_id = ChatId::new(chat.into()).unwrap();
    let mut locker = app.lock_chat(chat).await;

    let delete = app.service.delete_last_exchange(&caller, chat_id, None);
    let dropped = tokio::time::timeout(Duration::from_millis(300), delete).await;
    assert!(dropped.is_err(), "the delete waited for the lock");
    locker.batch_execute("COMMIT").await.unwrap();

    let open = app.service_backends("state LIKE 'idle in transaction%'");
    app.wait_for_postgres(&format!("SELECT count(*) AS n {open}"), |n| n == 0)
        .await;
    let hi: serde_json::Value = serde_json::from_str(HI).unwrap();
    let res = app.post_messages(user, chat, &app.session(user), &hi).await;
    assert_eq!(res.status(), 200);
}
