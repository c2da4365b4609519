//! The messages endpoint: success, body rules, limits, effects.

use serde_json::{Value, json};

use crate::helpers::{Backend, assert_error, body_issues, spawn_app, spawn_app_with};

fn is_js_iso(s: &str) -> bool {
    // 2024-03-20T10:00:00.000Z
    s.len() == 24
        && s.ends_with('Z')
        && chrono::DateTime::parse_from_rfc3339(s).is_ok()
        && s.as_bytes()[19] == b'.'
}

pub async fn a_single_message_is_stored_and_returned_as_an_object(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, chat) = app.seed_user_and_chat().await;

    let res = app
        .post_messages(
            user,
            chat,
            &app.session(user),
            &json!({"message": "Hello", "actor": "user"}),
        )
        .await;

    assert_eq!(res.status(), 200);
    assert!(res.headers().contains_key("x-request-id"));
    let body: Value = res.json().await.unwrap();
    let m = &body["chatMessage"];
    assert_eq!(m["chat_conversation_id"], chat);
    assert_eq!(m["neptun_user_id"], user);
    assert_eq!(m["message"], "Hello");
    assert_eq!(m["actor"], "user");
    assert!(is_js_iso(m["created_at"].as_str().unwrap()), "{m}");
    assert_eq!(m["created_at"], m["updated_at"]);
    let stored = app.messages(chat).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(m["id"], stored[0].id);
    assert_eq!(stored[0].actor, "user");
}

pub async fn a_batch_is_stored_in_order_with_one_timestamp(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, chat) = app.seed_user_and_chat().await;
    let before = app.chat_updated_at(chat).await;
    let batch: Vec<Value> = (0..10)
        .map(|i| {
            let role = ["user", "assistant", "system"][i % 3];
            json!({"content": format!("message {i}"), "role": role})
        })
        .collect();

    let res = app
        .post_messages(user, chat, &app.session(user), &json!({"messages": batch}))
        .await;

    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let returned = body["chatMessages"].as_array().unwrap();
    assert_eq!(returned.len(), 10);
    for (i, m) in returned.iter().enumerate() {
        assert_eq!(m["message"], format!("message {i}"));
        assert_eq!(m["actor"], ["user", "assistant", "system"][i % 3]);
        assert_eq!(m["created_at"], returned[0]["created_at"]);
    }
    let ids: Vec<i64> = returned.iter().map(|m| m["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids increase: {ids:?}");

    let stored = app.messages(chat).await;
    assert_eq!(stored.iter().map(|m| m.id).collect::<Vec<_>>(), ids);
    assert!(stored.iter().all(|m| m.created_at == stored[0].created_at));
    let updated = app.chat_updated_at(chat).await;
    assert!(updated >= before); // equal only within one millisecond on SQLite
    assert_eq!(
        updated, stored[0].created_at,
        "the chat's updated_at is the messages' time"
    );
}

pub async fn text_is_stored_exactly_as_sent(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, chat) = app.seed_user_and_chat().await;
    let texts = [
        "  leading and trailing spaces  ",
        "\ttabs\nand\r\nnewlines\n",
        "emoji 😀, ünïcödé, 日本語, RTL עברית",
        r#"quotes " and \ backslashes and {"json": true}"#,
        "<script>alert(1)</script>'; DROP TABLE neptun_user; --",
        "\u{feff}zero width\u{200b}joiner",
    ];
    let batch: Vec<Value> = texts
        .iter()
        .map(|t| json!({"content": t, "role": "assistant"}))
        .collect();

    let res = app
        .post_messages(user, chat, &app.session(user), &json!({"messages": batch}))
        .await;

    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let stored = app.messages(chat).await;
    for (i, text) in texts.iter().enumerate() {
        assert_eq!(body["chatMessages"][i]["message"], *text);
        assert_eq!(stored[i].message, *text);
    }
}

pub async fn the_length_limit_counts_characters_not_bytes(backend: Backend) {
    let app = spawn_app_with(backend, &[("APP__LIMITS__MAX_MESSAGE_CHARS", "65536")]).await;
    let (user, chat) = app.seed_user_and_chat().await;
    let session = app.session(user);

    // 65,536 two-byte characters: 131,072 bytes, within the limit.
    let at_limit = "é".repeat(65_536);
    let res = app
        .post_messages(
            user,
            chat,
            &session,
            &json!({"message": at_limit, "actor": "user"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(app.messages(chat).await[0].message, at_limit);

    let over = "é".repeat(65_537);
    let issues = body_issues(
        app.post_messages(
            user,
            chat,
            &session,
            &json!({"message": over, "actor": "user"}),
        )
        .await,
    )
    .await;
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0]["code"], "too_big");
    assert_eq!(issues[0]["maximum"], 65_536);
    assert_eq!(issues[0]["type"], "string");
    assert_eq!(issues[0]["path"], json!(["message"]));
    assert_eq!(app.messages(chat).await.len(), 1);
}

pub async fn a_nul_character_is_refused_with_400_not_500(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, chat) = app.seed_user_and_chat().await;

    let issues = body_issues(
        app.post_messages(
            user,
            chat,
            &app.session(user),
            &json!({"messages": [{"content": "fine", "role": "user"}, {"content": "a\u{0}b", "role": "user"}]}),
        )
        .await,
    )
    .await;

    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0]["code"], "invalid_string");
    assert_eq!(issues[0]["message"], "Text must not contain NUL characters");
    assert_eq!(issues[0]["path"], json!(["messages", 1, "content"]));
    assert_eq!(app.all_messages_count().await, 0);
}

pub async fn unknown_routes_and_methods_answer_in_the_contract_shape(backend: Backend) {
    let app = spawn_app(backend).await;

    let res = app
        .client
        .get(format!("{}/nope", app.address))
        .send()
        .await
        .unwrap();
    assert_error(res, 404, "Not Found.").await;

    let res = app.client.put(app.messages_url(1, 1)).send().await.unwrap();
    assert_eq!(res.headers()["allow"], "GET, HEAD, POST");
    assert_error(res, 405, "Method Not Allowed.").await;
}

pub async fn a_request_id_from_the_proxy_is_kept_and_a_bad_one_replaced(backend: Backend) {
    let app = spawn_app(backend).await;

    let res = app
        .client
        .post(app.messages_url(1, 1))
        .header("x-request-id", "proxy-abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "proxy-abc-123");

    let res = app
        .client
        .post(app.messages_url(1, 1))
        .header("x-request-id", "bad id with spaces")
        .send()
        .await
        .unwrap();
    let id = res.headers()["x-request-id"].to_str().unwrap();
    assert_ne!(id, "bad id with spaces");
    assert!(uuid::Uuid::parse_str(id).is_ok());
}

pub async fn concurrent_batches_to_one_chat_all_land_in_order(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, chat) = app.seed_user_and_chat().await;
    let session = app.session(user);
    let requests = (0..8).map(|r| {
        let batch: Vec<Value> = (0..5)
            .map(|i| json!({"content": format!("r{r} m{i}"), "role": "user"}))
            .collect();
        let body = json!({"messages": batch});
        let (app, session) = (&app, &session);
        async move { app.post_messages(user, chat, session, &body).await }
    });

    let responses = futures_util::future::join_all(requests).await;

    // Every writer lands whole: writers of one chat queue for it (PostgreSQL's row lock,
    // SQLite's writer queue), well within the bounds on waiting.
    let landed = responses.len();
    for (r, res) in responses.into_iter().enumerate() {
        assert_eq!(res.status(), 200, "request {r}");
        let body: Value = res.json().await.unwrap();
        let msgs = body["chatMessages"].as_array().unwrap();
        let texts: Vec<&str> = msgs
            .iter()
            .map(|m| m["message"].as_str().unwrap())
            .collect();
        let expected: Vec<String> = (0..5).map(|i| format!("r{r} m{i}")).collect();
        assert_eq!(texts, expected);
        let ids: Vec<i64> = msgs.iter().map(|m| m["id"].as_i64().unwrap()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    }
    let stored = app.messages(chat).await;
    assert_eq!(
        stored.len(),
        5 * landed,
        "no row lost, none from a refused request"
    );
    let mut texts: Vec<&str> = stored.iter().map(|m| m.message.as_str()).collect();
    texts.sort_unstable();
    texts.dedup();
    assert_eq!(texts.len(), 5 * landed, "no row doubled");
}

crate::on_both_backends!(
    a_single_message_is_stored_and_returned_as_an_object,
    a_batch_is_stored_in_order_with_one_timestamp,
    text_is_stored_exactly_as_sent,
    the_length_limit_counts_characters_not_bytes,
    a_nul_character_is_refused_with_400_not_500,
    unknown_routes_and_methods_answer_in_the_contract_shape,
    a_request_id_from_the_proxy_is_kept_and_a_bad_one_replaced,
    concurrent_batches_to_one_chat_all_land_in_order,
);

#[tokio::test]
async fn the_openapi_document_and_its_page_are_served() {
    let app = spawn_app(Backend::Sqlite).await;
    let res = app
        .client
        .get(format!("{}/api/openapi.json", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    // The API's routes (not the probes) answer every error of the contract.
    let api = chat_http::openapi::ROUTES
        .iter()
        .filter(|(_, p)| p.starts_with("/api/"));
    for (method, path) in api {
        let op = &doc["paths"][path][method.to_lowercase()];
        assert!(op.is_object(), "{method} {path}");
        for status in ["200", "400", "401", "403", "404", "500", "503"] {
            assert!(
                op["responses"][status].is_object(),
                "{method} {path} {status}"
            );
        }
    }

    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = no_redirects
        .get(format!("{}/api/docs", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 308);
    assert_eq!(res.headers()["location"], "/api/docs/");
    let res = app
        .client
        .get(format!("{}/api/docs/", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("swagger-ui"));
}
