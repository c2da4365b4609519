//! Faults: nothing is stored, nothing internal is revealed, and the service heals.

use std::time::{Duration, Instant};

use serde_json::json;

use diesel_async::SimpleAsyncConnection as _;

use crate::helpers::{Backend, TestConn, assert_error, spawn_app, spawn_app_with};

pub async fn a_database_failure_half_way_through_a_batch_stores_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, chat) = app.seed_user_and_chat().await;
    let before = app.chat_updated_at(chat).await;
    // The third row of the batch makes the database fail, after two rows went in.
    app.fail_inserts_of("boom").await;
    let batch: Vec<_> = ["one", "two", "boom", "four"]
        .iter()
        .map(|t| json!({"content": t, "role": "user"}))
        .collect();

    let res = app
        .post_messages(user, chat, &app.session(user), &json!({"messages": batch}))
        .await;

    let body = assert_error(res, 500, "Internal Server Error.").await;
    assert_eq!(
        body,
        json!({"statusCode": 500, "statusMessage": "Internal Server Error."})
    );
    assert_eq!(app.all_messages_count().await, 0);
    assert_eq!(app.chat_updated_at(chat).await, before);

    // The same request without the failing row goes through.
    let ok = json!({"messages": [{"content": "one", "role": "user"}]});
    assert_eq!(
        app.post_messages(user, chat, &app.session(user), &ok)
            .await
            .status(),
        200
    );
}

pub async fn an_unreachable_database_is_503_with_retry_after(backend: Backend) {
    let app = spawn_app_with(
        backend,
        &[
            // Nothing listens on port 1.
            (
                "APP__DATABASE__URL",
                "postgres://nobody:nothing@127.0.0.1:1/none",
            ),
            ("APP__DATABASE__MIGRATE_ON_START", "false"),
            ("APP__DATABASE__POOL_WAIT_MS", "500"),
            ("APP__DATABASE__CONNECT_TIMEOUT_MS", "500"),
        ],
    )
    .await;

    let res = app
        .post_messages(
            1,
            1,
            &app.session(1),
            &json!({"message": "hi", "actor": "user"}),
        )
        .await;

    assert_eq!(res.headers()["retry-after"], "1");
    let body = assert_error(res, 503, "Service Unavailable.").await;
    assert!(body.get("data").is_none());
}

#[tokio::test]
async fn connections_killed_by_the_database_are_replaced() {
    let app = spawn_app(Backend::Postgres).await;
    let (user, chat) = app.seed_user_and_chat().await;
    let hi = json!({"message": "hi", "actor": "user"});
    assert_eq!(
        app.post_messages(user, chat, &app.session(user), &hi)
            .await
            .status(),
        200
    );

    // What a database restart does to the pool's connections; then wait until they are gone,
    // so that the next request meets dead connections rather than dying ones.
    let app_backends = format!(
        "FROM pg_stat_activity WHERE datname = '{}' AND application_name = 'chat-service'",
        app.db.postgres_name()
    );
    app.sql(&format!("SELECT pg_terminate_backend(pid) {app_backends}"))
        .await;
    app.wait_for_postgres(&format!("SELECT count(*) AS n {app_backends}"), |n| n == 0)
        .await;

    assert_eq!(
        app.post_messages(user, chat, &app.session(user), &hi)
            .await
            .status(),
        200
    );
    assert_eq!(app.messages(chat).await.len(), 2);
}

#[tokio::test]
async fn no_free_connection_in_time_is_503_and_the_waiting_request_still_lands() {
    let app = spawn_app_with(
        Backend::Postgres,
        &[
            ("APP__DATABASE__POOL_SIZE", "1"),
            ("APP__DATABASE__POOL_WAIT_MS", "200"),
        ],
    )
    .await;
    let (user, chat) = app.seed_user_and_chat().await;
    let session = app.session(user);
    let hi = json!({"message": "hi", "actor": "user"});
    // Hold the chat's row, so the first request keeps the pool's only connection while it waits.
    let mut locker = app.lock_chat(chat).await;

    let first = app.spawn_post_messages(user, chat, &session, &hi);
    // Until the first request waits for the row, holding the pool's only connection.
    app.wait_for_a_lock_wait().await;
    let second = app.post_messages(user, chat, &session, &hi).await;
    assert_eq!(second.headers()["retry-after"], "1");
    assert_error(second, 503, "Service Unavailable.").await;

    locker.batch_execute("COMMIT").await.unwrap();
    assert_eq!(first.await.unwrap(), 200);
    assert_eq!(app.messages(chat).await.len(), 1);
}

#[tokio::test]
async fn sqlite_lock_contention_past_the_busy_timeout_is_503_not_500() {
    let app = spawn_app_with(
        Backend::Sqlite,
        &[("APP__DATABASE__BUSY_TIMEOUT_MS", "200")],
    )
    .await;
    let (user, chat) = app.seed_user_and_chat().await;
    let session = app.session(user);
    let hi = json!({"message": "hi", "actor": "user"});
    // Another writer holds the database's write lock.
    let mut writer = app.db.conn().await;
    let TestConn::Sqlite(writer_conn) = &mut writer else {
        unreachable!("an SQLite test")
    };
    writer_conn.batch_execute("BEGIN IMMEDIATE").await.unwrap();

    let res = app.post_messages(user, chat, &session, &hi).await;
    assert_eq!(res.headers()["retry-after"], "1");
    assert_error(res, 503, "Service Unavailable.").await;

    writer_conn.batch_execute("COMMIT").await.unwrap();
    drop(writer);
    assert_eq!(
        app.post_messages(user, chat, &session, &hi).await.status(),
        200
    );
    assert_eq!(app.messages(chat).await.len(), 1);
}

/// `busy_timeout` bounds a write's whole wait, its place in the service's queue of writers
/// included: with the file locked from outside, every one of several queued writes is
/// answered 503 within about that bound, and none is stored later.
#[tokio::test]
async fn sqlite_queued_writes_wait_at_most_the_busy_timeout_in_all() {
    let app = spawn_app_with(
        Backend::Sqlite,
        &[("APP__DATABASE__BUSY_TIMEOUT_MS", "700")],
    )
    .await;
    let (user, chat) = app.seed_user_and_chat().await;
    let session = app.session(user);
    let mut writer = app.db.conn().await;
    let TestConn::Sqlite(writer_conn) = &mut writer else {
        unreachable!("an SQLite test")
    };
    writer_conn.batch_execute("BEGIN IMMEDIATE").await.unwrap();

    let posts = (0..6).map(|i| {
        let (app, session) = (&app, &session);
        async move {
            let started = Instant::now();
            let body = json!({"message": format!("m{i}"), "actor": "user"});
            let status = app.post_messages(user, chat, session, &body).await.status();
            (status.as_u16(), started.elapsed())
        }
    });
    for (status, took) in futures_util::future::join_all(posts).await {
        assert_eq!(status, 503);
        assert!(
            took < Duration::from_millis(1500),
            "answered after {took:?}"
        );
    }
    writer_conn.batch_execute("COMMIT").await.unwrap();
    drop(writer);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.messages(chat).await.len(), 0);
}

#[tokio::test]
async fn an_in_memory_sqlite_database_is_shared_by_every_connection() {
    let app = spawn_app_with(
        Backend::Sqlite,
        &[
            ("APP__DATABASE__URL", "sqlite::memory:"),
            ("APP__DATABASE__POOL_SIZE", "3"),
        ],
    )
    .await;
    // The harness cannot seed a database that lives in the app's process: the app's own
    // commands do it, through the same store.
    let user = app.service_create_user("memory@example.com").await;
    let chat = app.service_create_chat(user).await;
    let session = app.session(user);
    let posts = (0..6).map(|i| {
        let body = json!({"message": format!("m{i}"), "actor": "user"});
        let (app, session) = (&app, &session);
        async move { app.post_messages(user, chat, session, &body).await.status() }
    });
    let statuses = futures_util::future::join_all(posts).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
}

crate::on_both_backends!(
    a_database_failure_half_way_through_a_batch_stores_nothing,
    an_unreachable_database_is_503_with_retry_after,
);
