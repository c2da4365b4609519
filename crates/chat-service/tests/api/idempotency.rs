//! `Idempotency-Key` on the writes a client may retry: a retry replays the first answer byte
//! for byte and writes nothing more; another request under the key is 422; one while the
//! first runs is 409; a failed write keeps no key; keys are per user and expire.

use diesel_async::SimpleAsyncConnection as _;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_error, spawn_app, spawn_app_with};

const KEY: &str = "idempotency-key";
const REPLAYED: &str = "idempotent-replayed";

impl TestApp {
    /// Sends `method` to `path` with the session, the key and, if given, `body` as it is.
    async fn keyed(
        &self,
        method: Method,
        path: &str,
        user: i32,
        key: &str,
        body: Option<&str>,
    ) -> reqwest::Response {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.address))
            .header("cookie", format!("neptun-session={}", self.session(user)))
            .header(KEY, key);
        if let Some(body) = body {
            req = req
                .header("content-type", "application/json")
                .body(body.to_owned());
        }
        req.send().await.expect("sending the request")
    }

    async fn post_keyed(&self, user: i32, chat: i32, key: &str, body: &str) -> reqwest::Response {
        let path = format!("/api/users/{user}/chats/{chat}/messages");
        self.keyed(Method::POST, &path, user, key, Some(body)).await
    }
}

/// The status, whether it was replayed, and the body's bytes.
async fn answer(res: reqwest::Response) -> (u16, bool, Vec<u8>) {
    let status = res.status().as_u16();
    let replayed = res.headers().get(REPLAYED).map(|v| v.as_bytes()) == Some(b"true");
    (status, replayed, res.bytes().await.unwrap().to_vec())
}

const BATCH: &str =
    r#"{"messages": [{"content": "q", "role": "user"}, {"content": "a", "role": "assistant"}]}"#;

pub async fn a_retried_post_replays_the_first_answer_and_stores_nothing_more(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, chat) = app.seed_user_and_chat().await;

    let (status, replayed, first) = answer(app.post_keyed(user, chat, "k-1", BATCH).await).await;
    assert_eq!((status, replayed), (200, false));
    // The same request, written differently: the fingerprint is the parsed body.
    let respaced = serde_json::to_string_pretty(&serde_json::from_str::<Value>(BATCH).unwrap());
    let retry = app.post_keyed(user, chat, "k-1", &respaced.unwrap()).await;
    assert_eq!(retry.headers()["content-type"], "application/json");
    assert_eq!(answer(retry).await, (200, true, first.clone()));

    assert_eq!(app.messages(chat).await.len(), 2);
    // Another key is another write.
    let (status, replayed, _) = answer(app.post_keyed(user, chat, "k-2", BATCH).await).await;
    assert_eq!((status, replayed), (200, false));
    assert_eq!(app.messages(chat).await.len(), 4);
}

pub async fn a_key_used_for_another_request_is_422(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, chat) = app.seed_user_and_chat().await;
    let other_chat = app.seed_chat(user, "other").await;
    app.post_keyed(user, chat, "k", BATCH).await;

    let other_body = r#"{"message": "changed", "actor": "user"}"#;
    for res in [
        app.post_keyed(user, chat, "k", other_body).await,
        app.post_keyed(user, other_chat, "k", BATCH).await,
        app.keyed(
            Method::POST,
            &format!("/api/users/{user}/chats"),
            user,
            "k",
            Some(r#"{"name": "n", "model": "m"}"#),
        )
        .await,
    ] {
        assert_error(
            res,
            422,
            "Unprocessable Entity. This Idempotency-Key was used for a different request.",
        )
        .await;
    }
    assert_eq!(app.messages(chat).await.len(), 2);
    assert_eq!(app.messages(other_chat).await.len(), 0);
}

pub async fn keys_are_per_user(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, alices) = app.seed_user_and_chat().await;
    let bob = app.seed_user("bob@example.com").await;
    let bobs = app.seed_chat(bob, "bob's").await;

    assert_eq!(
        app.post_keyed(alice, alices, "same", BATCH).await.status(),
        200
    );
    let (status, replayed, _) = answer(app.post_keyed(bob, bobs, "same", BATCH).await).await;
    assert_eq!((status, replayed), (200, false));
    assert_eq!(app.messages(bobs).await.len(), 2);
}

pub async fn a_malformed_key_is_400_and_nothing_is_stored(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, chat) = app.seed_user_and_chat().await;
    let too_long = "k".repeat(256);
    for key in ["", too_long.as_str()] {
        let res = app.post_keyed(user, chat, key, BATCH).await;
        let body = assert_error(res, 400, "Bad Request. Invalid Idempotency-Key header.").await;
        assert_eq!(
            body["data"]["issues"][0]["path"],
            json!(["Idempotency-Key"])
        );
    }
    let res = app
        .client
        .post(app.messages_url(user, chat))
        .header("cookie", format!("neptun-session={}", app.session(user)))
        .header("content-type", "application/json")
        .header(
            KEY,
            reqwest::header::HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap(),
        )
        .body(BATCH)
        .send()
        .await
        .unwrap();
    assert_error(res, 400, "Bad Request. Invalid Idempotency-Key header.").await;
    let twice = app
        .client
        .post(app.messages_url(user, chat))
        .header("cookie", format!("neptun-session={}", app.session(user)))
        .header("content-type", "application/json")
        .header(KEY, "a")
        .header(KEY, "b")
        .body(BATCH)
        .send()
        .await
        .unwrap();
    assert_error(twice, 400, "Bad Request. Invalid Idempotency-Key header.").await;
    // The longest key is fine.
    assert_eq!(
        app.post_keyed(user, chat, &"k".repeat(255), BATCH)
            .await
            .status(),
        200
    );
    assert_eq!(app.messages(chat).await.len(), 2);
}

pub async fn a_failed_write_keeps_no_key(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, chat) = app.seed_user_and_chat().await;
    // 400: the body breaks a rule; 404: no such chat. Neither keeps the key.
    let bad = app.post_keyed(user, chat, "k", r#"{"message": ""}"#).await;
    assert_eq!(bad.status(), 400);
    let missing = app.post_keyed(user, 999, "k", BATCH).await;
    assert_error(missing, 404, "Not Found. Chat not found.").await;

    app.sql(&format!(
        "INSERT INTO chat_conversation (id, name, model, neptun_user_id, created_at, updated_at) \
         VALUES (999, 'late', 'm', {user}, '2024-01-01 00:00:00.000+00:00', \
         '2024-01-01 00:00:00.000+00:00')"
    ))
    .await;
    let (status, replayed, _) = answer(app.post_keyed(user, 999, "k", BATCH).await).await;
    assert_eq!((status, replayed), (200, false));
    assert_eq!(app.messages(999).await.len(), 2);
}

pub async fn a_retried_delete_of_the_last_exchange_deletes_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, chat) = app.seed_user_and_chat().await;
    for _ in 0..2 {
        app.post_messages(
            user,
            chat,
            &app.session(user),
            &serde_json::from_str(BATCH).unwrap(),
        )
        .await;
    }
    let path = format!("/api/users/{user}/chats/{chat}/messages/last");
    let first = answer(app.keyed(Method::DELETE, &path, user, "d", None).await).await;
    assert_eq!((first.0, first.1), (200, false));
    let removed: Value = serde_json::from_slice(&first.2).unwrap();
    assert_eq!(removed["chatMessages"].as_array().unwrap().len(), 2);

    let retry = answer(app.keyed(Method::DELETE, &path, user, "d", None).await).await;
    assert_eq!(retry, (200, true, first.2));
    assert_eq!(app.messages(chat).await.len(), 2);
}

pub async fn a_retried_chat_creation_creates_one_chat(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, _) = app.seed_user_and_chat().await;
    let path = format!("/api/users/{user}/chats");
    let body = Some(r#"{"name": "new", "model": "m"}"#);
    let first = answer(app.keyed(Method::POST, &path, user, "c", body).await).await;
    let retry = answer(app.keyed(Method::POST, &path, user, "c", body).await).await;
    assert_eq!((first.0, first.1), (200, false));
    assert_eq!(retry, (200, true, first.2));
    let list: Value = app
        .call(Method::GET, &path, &app.session(user), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["chats"].as_array().unwrap().len(), 2);
}

/// Concurrent retries of one key: one write; every answer is that write's, or (PostgreSQL,
/// while the first runs) a 409.
pub async fn concurrent_retries_of_one_key_store_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, chat) = app.seed_user_and_chat().await;
    let answers = futures_util::future::join_all(
        (0..8).map(|_| async { answer(app.post_keyed(user, chat, "race", BATCH).await).await }),
    )
    .await;
    let written: Vec<_> = answers.iter().filter(|a| a.0 == 200).collect();
    assert!(!written.is_empty(), "{answers:?}");
    assert!(written.iter().all(|a| a.2 == written[0].2), "one answer");
    assert_eq!(
        written.iter().filter(|a| !a.1).count(),
        1,
        "one fresh write"
    );
    assert!(
        answers.iter().all(|a| a.0 == 200 || a.0 == 409),
        "{answers:?}"
    );
    assert_eq!(app.messages(chat).await.len(), 2);
}

pub async fn a_key_is_forgotten_after_its_ttl(backend: Backend) {
    let app = spawn_app_with(backend, &[("APP__IDEMPOTENCY__TTL", "1s")]).await;
    let (user, chat) = app.seed_user_and_chat().await;
    assert_eq!(app.post_keyed(user, chat, "old", BATCH).await.status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (status, replayed, _) = answer(app.post_keyed(user, chat, "old", BATCH).await).await;
    assert_eq!((status, replayed), (200, false));
    assert_eq!(app.messages(chat).await.len(), 4);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(app.service.purge_expired_keys().await.unwrap(), 1);
}

crate::on_both_backends!(
    a_retried_post_replays_the_first_answer_and_stores_nothing_more,
    a_key_used_for_another_request_is_422,
    keys_are_per_user,
    a_malformed_key_is_400_and_nothing_is_stored,
    a_failed_write_keeps_no_key,
    a_retried_delete_of_the_last_exchange_deletes_once,
    a_retried_chat_creation_creates_one_chat,
    concurrent_retries_of_one_key_store_once,
    a_key_is_forgotten_after_its_ttl,
);

#[tokio::test]
async fn a_retry_while_the_first_request_runs_is_409_then_replays() {
    let app = spawn_app(Backend::Postgres).await;
    let (user, chat) = app.seed_user_and_chat().await;
    let mut locker = app.lock_chat(chat).await;
    let first = {
        let app = &app;
        async move { answer(app.post_keyed(user, chat, "slow", BATCH).await).await }
    };
    let retry = async {
        app.wait_for_a_lock_wait().await;
        let res = app.post_keyed(user, chat, "slow", BATCH).await;
        assert_eq!(res.headers()["retry-after"], "1");
        assert_error(
            res,
            409,
            "Conflict. A request with this Idempotency-Key is in progress.",
        )
        .await;
        locker.batch_execute("COMMIT").await.unwrap();
    };
    let (first, ()) = tokio::join!(first, retry);
    assert_eq!((first.0, first.1), (200, false));
    let again = answer(app.post_keyed(user, chat, "slow", BATCH).await).await;
    assert_eq!(again, (200, true, first.2));
    assert_eq!(app.messages(chat).await.len(), 2);
}
