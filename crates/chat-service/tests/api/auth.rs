//! Sessions, ownership and the order of the checks.

use chat_sessions::iron::{self, Password};
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_error, spawn_app, spawn_app_with};

const VECTORS: &str = include_str!("../../../chat-sessions/tests/vectors/sessions.json");
const CURRENT: &str = "vector-password-one-0123456789-abcdefghij";
const PREVIOUS: &str = "vector-password-two-ZYXWVUTSRQ-9876543210";

fn hello() -> Value {
    json!({"message": "hello", "actor": "user"})
}

async fn post_with(
    app: &TestApp,
    user: i32,
    chat: i32,
    header: Option<&str>,
    cookie: Option<&str>,
) -> reqwest::Response {
    let mut req = app
        .client
        .post(app.messages_url(user, chat))
        .header("content-type", "application/json")
        .body(hello().to_string());
    if let Some(h) = header {
        req = req.header("x-neptun-session-session", h);
    }
    if let Some(c) = cookie {
        req = req.header("cookie", format!("other=1; neptun-session={c}"));
    }
    req.send().await.unwrap()
}

/// The app's own cookies: accepted and refused exactly as the vectors say, in the cookie and in
/// the header.
pub async fn the_apps_own_session_cookies_are_honoured(backend: Backend) {
    let app = spawn_app_with(
        backend,
        &[
            ("NUXT_SESSION_PASSWORD", CURRENT),
            ("APP__SESSION__PREVIOUS_PASSWORDS", PREVIOUS),
        ],
    )
    .await;
    let mut chats = std::collections::HashMap::new();
    for id in [1, 7, 2_147_483_647] {
        app.seed_user_with_id(id).await;
        chats.insert(id, app.seed_chat(id, "chat").await);
    }
    let vectors: Value = serde_json::from_str(VECTORS).unwrap();
    for v in vectors["vectors"].as_array().unwrap() {
        let name = v["name"].as_str().unwrap();
        let value = v["value"].as_str().unwrap();
        // A seal that carries an expiry is refused once it passed (the date the test runs
        // decides; session_vectors.rs checks every vector at a fixed date).
        let expected = v["expect"]["user_id"]
            .as_i64()
            .filter(|_| !has_expired(value));
        match expected {
            Some(user) => {
                let user = user as i32;
                for (header, cookie) in [(None, Some(value)), (Some(value), None)] {
                    let res = post_with(&app, user, chats[&user], header, cookie).await;
                    assert_eq!(res.status(), 200, "{name}");
                }
            }
            None => {
                for (header, cookie) in [(None, Some(value)), (Some(value), None)] {
                    let res = post_with(&app, 7, chats[&7], header, cookie).await;
                    let body = assert_error(res, 401, "Unauthorized.").await;
                    assert_eq!(
                        body,
                        json!({"statusCode": 401, "statusMessage": "Unauthorized."}),
                        "{name}"
                    );
                }
            }
        }
    }
    assert_eq!(app.messages(chats[&7]).await.len(), 2);
}

/// Whether an iron seal's expiry (its sixth field, empty for none) is past, with iron's skew.
fn has_expired(seal: &str) -> bool {
    let now_ms = chrono::Utc::now().timestamp_millis();
    seal.split('*')
        .nth(5)
        .and_then(|expiry| expiry.parse::<i64>().ok())
        .is_some_and(|expiry| expiry <= now_ms - 60_000)
}

pub async fn the_header_wins_over_the_cookie_unless_it_is_empty(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, chat) = app.seed_user_and_chat().await;
    let good = app.session(user);

    assert_eq!(
        post_with(&app, user, chat, Some(&good), Some("garbage"))
            .await
            .status(),
        200
    );
    assert_eq!(
        post_with(&app, user, chat, Some(""), Some(&good))
            .await
            .status(),
        200
    );
    assert_eq!(
        post_with(&app, user, chat, Some("garbage"), Some(&good))
            .await
            .status(),
        401
    );
    // Percent-encoded, as cookie libraries may write it.
    let encoded = good.replace('*', "%2A");
    assert_eq!(
        post_with(&app, user, chat, None, Some(&encoded))
            .await
            .status(),
        200
    );
}

pub async fn no_or_bad_sessions_are_401_and_reveal_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, chat) = app.seed_user_and_chat().await;
    let other_password =
        Password::new(SecretString::from("some-other-password-of-32-characters")).unwrap();
    let foreign = iron::seal(
        json!({"data": {"user": {"id": user}}})
            .to_string()
            .as_bytes(),
        &other_password,
        None,
    )
    .unwrap();
    let mut tampered = app.session(user);
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });

    for session in [
        None,
        Some("hello"),
        Some("Fe26.2**"),
        Some(foreign.as_str()),
        Some(tampered.as_str()),
    ] {
        let res = post_with(&app, user, chat, None, session).await;
        let body = assert_error(res, 401, "Unauthorized.").await;
        assert!(body.get("data").is_none());
    }
    assert_eq!(app.all_messages_count().await, 0);
}

pub async fn sessions_older_than_max_age_are_refused(backend: Backend) {
    let app = spawn_app_with(backend, &[("APP__SESSION__MAX_AGE", "60")]).await;
    let (user, chat) = app.seed_user_and_chat().await;
    let password = app.settings.session_password.clone();
    let now = chrono::Utc::now().timestamp_millis();
    let seal = |created: i64| {
        iron::seal(
            json!({"id": "x", "createdAt": created, "data": {"user": {"id": user}}})
                .to_string()
                .as_bytes(),
            &password,
            None,
        )
        .unwrap()
    };

    assert_eq!(
        post_with(&app, user, chat, None, Some(&seal(now - 120_000)))
            .await
            .status(),
        401
    );
    assert_eq!(
        post_with(&app, user, chat, None, Some(&seal(now - 1_000)))
            .await
            .status(),
        200
    );
}

pub async fn a_seal_past_its_expiry_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, chat) = app.seed_user_and_chat().await;
    let now = chrono::Utc::now().timestamp_millis();
    let payload = json!({"data": {"user": {"id": user}}}).to_string();
    let expired = iron::seal(
        payload.as_bytes(),
        &app.settings.session_password,
        Some(now - 61_000),
    )
    .unwrap();
    let in_skew = iron::seal(
        payload.as_bytes(),
        &app.settings.session_password,
        Some(now - 30_000),
    )
    .unwrap();

    assert_eq!(
        post_with(&app, user, chat, None, Some(&expired))
            .await
            .status(),
        401
    );
    assert_eq!(
        post_with(&app, user, chat, None, Some(&in_skew))
            .await
            .status(),
        200
    );
}

pub async fn another_users_path_is_403(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, alice_chat) = app.seed_user_and_chat().await;
    let (bob, _) = app.seed_user_and_chat().await;

    let res = app
        .post_messages(alice, alice_chat, &app.session(bob), &hello())
        .await;

    let body = assert_error(res, 403, "Forbidden.").await;
    assert!(body.get("data").is_none());
    assert_eq!(app.all_messages_count().await, 0);
}

pub async fn missing_chats_and_other_users_chats_are_the_same_404(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, _) = app.seed_user_and_chat().await;
    let (bob, bob_chat) = app.seed_user_and_chat().await;
    let session = app.session(alice);

    let theirs = app.post_messages(alice, bob_chat, &session, &hello()).await;
    let body_theirs = assert_error(theirs, 404, "Not Found. Chat not found.").await;
    let missing = app.post_messages(alice, 999_999, &session, &hello()).await;
    let body_missing = assert_error(missing, 404, "Not Found. Chat not found.").await;
    assert_eq!(body_theirs, body_missing);

    // A batch for someone else's chat stores nothing there either.
    let batch =
        json!({"messages": [{"content": "a", "role": "user"}, {"content": "b", "role": "user"}]});
    assert_eq!(
        app.post_messages(alice, bob_chat, &session, &batch)
            .await
            .status(),
        404
    );
    assert!(app.messages(bob_chat).await.is_empty());
    let _ = bob;
}

pub async fn a_user_without_a_row_gets_404(backend: Backend) {
    let app = spawn_app(backend).await;
    let ghost = 424_242;
    let res = app
        .post_messages(ghost, 1, &app.session(ghost), &hello())
        .await;
    assert_error(res, 404, "Not Found. Chat not found.").await;
}

pub async fn checks_run_in_the_contracts_order(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, chat) = app.seed_user_and_chat().await;
    let (other, _) = app.seed_user_and_chat().await;
    let bad_body = json!({"message": 1});

    // Route parameters before the session.
    let res = app
        .client
        .post(app.messages_url("abc", chat))
        .send()
        .await
        .unwrap();
    assert_error(
        res,
        400,
        "Bad Request. Invalid route parameters(user_id | chat_id).",
    )
    .await;
    // The session before the body.
    let res = app.post_messages(user, chat, "nonsense", &bad_body).await;
    assert_error(res, 401, "Unauthorized.").await;
    // The owner before the media type.
    let res = app
        .client
        .post(app.messages_url(user, chat))
        .header("cookie", format!("neptun-session={}", app.session(other)))
        .header("content-type", "text/plain")
        .send()
        .await
        .unwrap();
    assert_error(res, 403, "Forbidden.").await;
    // The body before the chat.
    let res = app
        .post_messages(user, 999_999, &app.session(user), &bad_body)
        .await;
    assert_error(res, 400, "Bad Request. Invalid body(message | messages).").await;
}

crate::on_both_backends!(
    the_apps_own_session_cookies_are_honoured,
    the_header_wins_over_the_cookie_unless_it_is_empty,
    no_or_bad_sessions_are_401_and_reveal_nothing,
    sessions_older_than_max_age_are_refused,
    a_seal_past_its_expiry_is_refused,
    another_users_path_is_403,
    missing_chats_and_other_users_chats_are_the_same_404,
    a_user_without_a_row_gets_404,
    checks_run_in_the_contracts_order,
);
