//! Appends under load: on PostgreSQL they go to the database in groups (one statement for
//! several requests). Whatever groups form, every request stays its own: it gets back exactly
//! the messages it sent, in its order; a request for a chat that is not its caller's is a 404
//! and stores nothing, without failing the requests grouped with it.

use std::time::Duration;

use diesel_async::SimpleAsyncConnection as _;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, spawn_app_with};

const ROUNDS: usize = 12;

/// One client: posts `ROUNDS` batches (1 to 3 messages) to `chat` as `user`; what it sent and
/// the statuses and answers it got.
async fn client(
    app: &TestApp,
    user: i32,
    chat: i32,
    name: String,
) -> Vec<(Vec<String>, u16, Value)> {
    let session = app.session(user);
    let mut results = vec![];
    for round in 0..ROUNDS {
        let texts: Vec<String> = (0..=round % 3)
            .map(|i| format!("{name}/{round}/{i}"))
            .collect();
        let messages: Vec<Value> = texts
            .iter()
            .map(|t| json!({"content": t, "role": "user"}))
            .collect();
        let res = app
            .post_messages(user, chat, &session, &json!({"messages": messages}))
            .await;
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap();
        results.push((texts, status, body));
    }
    results
}

/// Whether some append group had two or more members, as the database saw it: a group is
/// one transaction, so its rows share one `created_at` (`now()`), while every request of a
/// test's own stamps its rows apart. Nothing another test does can make this true.
async fn grouped(app: &TestApp, chats: &[(i32, i32)], requests: usize) -> bool {
    let mut stamps = std::collections::HashSet::new();
    for (_, chat) in chats {
        stamps.extend(app.messages(*chat).await.into_iter().map(|m| m.created_at));
    }
    stamps.len() < requests
}

async fn concurrent_appends_each_get_their_own_messages_back(backend: Backend) {
    // Enough connections that groups form behind the ones in flight.
    let app = spawn_app_with(backend, &[("APP__DATABASE__POOL_SIZE", "8")]).await;
    let mut chats = vec![];
    for owner in 0..3 {
        let user = app.seed_user(&format!("group{owner}@example.com")).await;
        chats.push((user, app.seed_chat(user, "grouped").await));
    }
    // Each chat has two writers; a seventh writes to a chat that is not its caller's.
    let mut writers = vec![];
    for (i, (user, chat)) in chats.iter().enumerate() {
        writers.push((*user, *chat, format!("{i}a")));
        writers.push((*user, *chat, format!("{i}b")));
    }
    let (intruder, victim) = (chats[0].0, chats[1].1);
    writers.push((intruder, victim, "intruder".to_owned()));

    let all = futures_util::future::join_all(
        writers
            .iter()
            .map(|(user, chat, name)| client(&app, *user, *chat, name.clone())),
    )
    .await;

    for ((_, _, name), results) in writers.iter().zip(&all) {
        for (texts, status, body) in results {
            if name == "intruder" {
                assert_eq!(*status, 404, "{body}");
                continue;
            }
            assert_eq!(*status, 200, "{body}");
            let got: Vec<&str> = body["chatMessages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["message"].as_str().unwrap())
                .collect();
            assert_eq!(got, texts.iter().map(String::as_str).collect::<Vec<_>>());
        }
    }
    if backend == Backend::Postgres {
        let answered = all.iter().flatten().filter(|(_, status, _)| *status == 200);
        let requests = answered.count();
        assert!(
            grouped(&app, &chats, requests).await,
            "no group of two or more formed"
        );
    }
    assert_stored_in_order(&app, &chats, &writers).await;
}

/// Stored: every 200's messages once, in each writer's order; nothing of the intruder's.
async fn assert_stored_in_order(
    app: &TestApp,
    chats: &[(i32, i32)],
    writers: &[(i32, i32, String)],
) {
    for (_, chat) in chats {
        let stored: Vec<String> = app
            .messages(*chat)
            .await
            .into_iter()
            .map(|m| m.message)
            .collect();
        assert_eq!(
            stored.len(),
            2 * (0..ROUNDS).map(|r| r % 3 + 1).sum::<usize>()
        );
        assert!(stored.iter().all(|m| !m.starts_with("intruder")));
        for writer in writers.iter().filter(|w| w.1 == *chat && w.2 != "intruder") {
            let mine: Vec<&String> = stored
                .iter()
                .filter(|m| m.starts_with(&format!("{}/", writer.2)))
                .collect();
            let sent: Vec<String> = (0..ROUNDS)
                .flat_map(|r| (0..=r % 3).map(move |i| (r, i)))
                .map(|(r, i)| format!("{}/{r}/{i}", writer.2))
                .collect();
            assert_eq!(mine, sent.iter().collect::<Vec<_>>());
        }
    }
}

crate::on_both_backends!(concurrent_appends_each_get_their_own_messages_back);

/// One append statement runs at a time; one that waits on a locked chat gives up its turn, so
/// the appends to other chats go on while the lock is held.
#[tokio::test]
async fn an_append_waiting_on_a_locked_chat_does_not_hold_up_other_chats() {
    let app = spawn_app_with(Backend::Postgres, &[]).await;
    let (locked_user, locked_chat) = app.seed_user_and_chat().await;
    let other_user = app.seed_user("other@example.com").await;
    let other_chat = app.seed_chat(other_user, "free").await;
    let hi = json!({"message": "hi", "actor": "user"});
    let mut locker = app.lock_chat(locked_chat).await;
    let waiting = app.spawn_post_messages(locked_user, locked_chat, &app.session(locked_user), &hi);
    app.wait_for_a_lock_wait().await;

    // Well before the lock is released (or the statement times out, 10 s).
    let session = app.session(other_user);
    for _ in 0..2 {
        let other = app.post_messages(other_user, other_chat, &session, &hi);
        let other = tokio::time::timeout(Duration::from_secs(3), other)
            .await
            .expect("an append to another chat waited for the locked one");
        assert_eq!(other.status(), 200);
    }
    assert!(!waiting.is_finished());

    locker.batch_execute("COMMIT").await.unwrap();
    assert_eq!(waiting.await.unwrap(), 200);
    assert_eq!(app.messages(locked_chat).await.len(), 1);
    assert_eq!(app.messages(other_chat).await.len(), 2);
}

/// A locked chat never holds up an append to another chat, not even one grouped with the
/// locked chat's appends: while another session holds one chat, its appends and those of free
/// chats arrive together, and every free chat's append is answered long before the lock goes
/// (and before the statement timeout); the locked chat's appends land once it is released.
#[tokio::test]
async fn a_locked_chat_never_holds_up_the_appends_grouped_with_it() {
    let app = spawn_app_with(
        Backend::Postgres,
        &[
            ("APP__DATABASE__STATEMENT_TIMEOUT_MS", "6000"),
            ("APP__DATABASE__POOL_SIZE", "10"),
        ],
    )
    .await;
    let (locked_user, locked_chat) = app.seed_user_and_chat().await;
    let mut free = vec![];
    for i in 0..3 {
        let user = app.seed_user(&format!("free{i}@example.com")).await;
        free.push((user, app.seed_chat(user, "free").await));
    }
    let hi = json!({"message": "hi", "actor": "user"});
    let locked_session = app.session(locked_user);
    let mut locker = app.lock_chat(locked_chat).await;
    let mut waiting = vec![];
    for _ in 0..4 {
        // Each round: the locked chat's append and the free chats' at once.
        waiting.push(app.spawn_post_messages(locked_user, locked_chat, &locked_session, &hi));
        let posts = free.iter().map(|(user, chat)| async {
            let started = std::time::Instant::now();
            let res = app
                .post_messages(*user, *chat, &app.session(*user), &hi)
                .await;
            (res.status().as_u16(), started.elapsed())
        });
        for (status, took) in futures_util::future::join_all(posts).await {
            assert_eq!(status, 200);
            assert!(
                took < Duration::from_secs(2),
                "a free chat's append took {took:?}"
            );
        }
    }
    assert!(
        waiting.iter().all(|w| !w.is_finished()),
        "the lock is still held"
    );
    locker.batch_execute("COMMIT").await.unwrap();
    for w in waiting {
        assert_eq!(w.await.unwrap(), 200);
    }
    assert_eq!(app.messages(locked_chat).await.len(), 4);
    for (_, chat) in free {
        assert_eq!(app.messages(chat).await.len(), 4);
    }
}

/// The appends waiting for a turn are bounded (`database.append_queue`): past it, 503 with
/// `Retry-After`, and nothing of the refused request is stored.
#[tokio::test]
async fn a_full_append_queue_is_503_and_stores_nothing() {
    let app = spawn_app_with(
        Backend::Postgres,
        &[
            ("APP__DATABASE__APPEND_QUEUE", "1"),
            ("APP__DATABASE__POOL_SIZE", "20"),
        ],
    )
    .await;
    let (user, chat) = app.seed_user_and_chat().await;
    // Every append statement takes a while, so the turn is held while the others arrive.
    app.sql(
        "CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN PERFORM pg_sleep(0.3); RETURN NEW; END $$",
    )
    .await;
    app.sql(
        "CREATE TRIGGER slow BEFORE INSERT ON chat_conversation_message \
         FOR EACH STATEMENT EXECUTE FUNCTION slow()",
    )
    .await;
    let session = app.session(user);
    let hi = json!({"message": "hi", "actor": "user"});
    let posts = (0..12).map(|_| async {
        let res = app.post_messages(user, chat, &session, &hi).await;
        let retry = res.headers().contains_key("retry-after");
        (res.status().as_u16(), retry)
    });
    let answers = futures_util::future::join_all(posts).await;
    let ok = answers.iter().filter(|(s, _)| *s == 200).count();
    let refused: Vec<_> = answers.iter().filter(|(s, _)| *s != 200).collect();
    assert!(!refused.is_empty(), "no append was refused: {answers:?}");
    assert!(
        refused.iter().all(|(s, retry)| *s == 503 && *retry),
        "{answers:?}"
    );
    assert_eq!(app.messages(chat).await.len(), ok);
}
