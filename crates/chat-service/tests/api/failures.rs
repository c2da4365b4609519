//! Faults: nothing is stored, nothing internal is revealed, and the service heals.

use serde_json::json;

use crate::helpers::{assert_error, spawn_app, spawn_app_with};

#[tokio::test]
async fn a_database_failure_half_way_through_a_batch_stores_nothing() {
    let app = spawn_app().await;
    let (user, chat) = app.seed_user_and_chat().await;
    let before = app.chat_updated_at(chat).await;
    // The third row of the batch makes the database fail, after two rows went in.
    app.sql(
        "CREATE FUNCTION fail_on_boom() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN IF NEW.message = 'boom' THEN RAISE EXCEPTION 'injected failure: secret detail'; \
         END IF; RETURN NEW; END $$",
    )
    .await;
    app.sql(
        "CREATE TRIGGER fail_on_boom BEFORE INSERT ON chat_conversation_message \
         FOR EACH ROW EXECUTE FUNCTION fail_on_boom()",
    )
    .await;
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

#[tokio::test]
async fn an_unreachable_database_is_503_with_retry_after() {
    let app = spawn_app_with(&[
        // Nothing listens on port 1.
        (
            "APP__DATABASE__URL",
            "postgres://nobody:nothing@127.0.0.1:1/none",
        ),
        ("APP__DATABASE__MIGRATE_ON_START", "false"),
        ("APP__DATABASE__POOL_WAIT_MS", "500"),
        ("APP__DATABASE__CONNECT_TIMEOUT_MS", "500"),
    ])
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
    let app = spawn_app().await;
    let (user, chat) = app.seed_user_and_chat().await;
    let hi = json!({"message": "hi", "actor": "user"});
    assert_eq!(
        app.post_messages(user, chat, &app.session(user), &hi)
            .await
            .status(),
        200
    );

    // What a database restart does to the pool's connections.
    app.sql(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = '{}' AND application_name = 'chat-service'",
        app.db.name
    ))
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
    let app = spawn_app_with(&[
        ("APP__DATABASE__POOL_SIZE", "1"),
        ("APP__DATABASE__POOL_WAIT_MS", "200"),
    ])
    .await;
    let (user, chat) = app.seed_user_and_chat().await;
    let session = app.session(user);
    let hi = json!({"message": "hi", "actor": "user"});
    // Hold the chat's row, so the first request keeps the pool's only connection while it waits.
    let mut locker = app.db.conn().await;
    diesel_async::SimpleAsyncConnection::batch_execute(
        &mut locker,
        &format!("BEGIN; SELECT id FROM chat_conversation WHERE id = {chat} FOR UPDATE"),
    )
    .await
    .unwrap();

    let first = tokio::spawn({
        let (url, session, body) = (
            app.messages_url(user, chat),
            session.clone(),
            hi.to_string(),
        );
        let client = app.client.clone();
        async move {
            client
                .post(url)
                .header("content-type", "application/json")
                .header("cookie", format!("neptun-session={session}"))
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let second = app.post_messages(user, chat, &session, &hi).await;
    assert_eq!(second.headers()["retry-after"], "1");
    assert_error(second, 503, "Service Unavailable.").await;

    diesel_async::SimpleAsyncConnection::batch_execute(&mut locker, "COMMIT")
        .await
        .unwrap();
    assert_eq!(first.await.unwrap(), 200);
    assert_eq!(app.messages(chat).await.len(), 1);
}
