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
    let app = spawn_app(backend).await;
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

pub async fn every_broken_rule_is_reported_at_once_with_its_path(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, chat) = app.seed_user_and_chat().await;
    let body = json!({"messages": [
        {"content": "ok", "role": "user"},
        {"content": 42, "role": "bot"},
        {"role": "user"},
        {"content": "   ", "role": null},
        [],
        {"content": "x", "role": "assistant", "extra": "ignored"},
    ]});

    let issues = body_issues(
        app.post_messages(user, chat, &app.session(user), &body)
            .await,
    )
    .await;

    let got: Vec<(&str, Value)> = issues
        .iter()
        .map(|i| (i["code"].as_str().unwrap(), i["path"].clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("invalid_type", json!(["messages", 1, "content"])),
            ("invalid_enum_value", json!(["messages", 1, "role"])),
            ("invalid_type", json!(["messages", 2, "content"])),
            ("too_small", json!(["messages", 3, "content"])),
            ("invalid_type", json!(["messages", 3, "role"])),
            ("invalid_type", json!(["messages", 4])),
        ]
    );
    assert_eq!(issues[0]["expected"], "string");
    assert_eq!(issues[0]["received"], "number");
    assert_eq!(issues[0]["message"], "Expected string, received number");
    assert_eq!(issues[1]["options"], json!(["user", "assistant", "system"]));
    assert_eq!(issues[1]["received"], "bot");
    assert_eq!(issues[2]["received"], "undefined");
    assert_eq!(issues[2]["message"], "Required");
    assert_eq!(issues[3]["minimum"], 1);
    assert_eq!(issues[3]["type"], "string");
    assert_eq!(issues[4]["received"], "null");
    assert_eq!(issues[5]["expected"], "object");
    assert_eq!(issues[5]["received"], "array");
    assert_eq!(app.all_messages_count().await, 0);
}

pub async fn the_single_shape_reports_its_own_fields(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, chat) = app.seed_user_and_chat().await;
    let session = app.session(user);

    let issues = body_issues(app.post_messages(user, chat, &session, &json!({})).await).await;
    assert_eq!(issues.len(), 2);
    assert_eq!(issues[0]["path"], json!(["message"]));
    assert_eq!(
        issues[0],
        json!({"code": "invalid_type", "expected": "string", "received": "undefined",
               "path": ["message"], "message": "Required"})
    );
    assert_eq!(issues[1]["path"], json!(["actor"]));

    let issues = body_issues(
        app.post_messages(
            user,
            chat,
            &session,
            &json!({"message": true, "actor": "robot"}),
        )
        .await,
    )
    .await;
    assert_eq!(issues[0]["received"], "boolean");
    assert_eq!(issues[1]["code"], "invalid_enum_value");

    for not_an_object in [json!([]), json!("hi"), json!(null), json!(3)] {
        let issues = body_issues(
            app.post_messages(user, chat, &session, &not_an_object)
                .await,
        )
        .await;
        assert_eq!(issues[0]["code"], "invalid_type");
        assert_eq!(issues[0]["expected"], "object");
        assert_eq!(issues[0]["path"], json!([]));
    }
    assert_eq!(app.all_messages_count().await, 0);
}

pub async fn both_shapes_at_once_is_an_unrecognized_key(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, chat) = app.seed_user_and_chat().await;
    let body = json!({"message": "one", "actor": "user", "messages": [{"content": "two", "role": "user"}]});

    let issues = body_issues(
        app.post_messages(user, chat, &app.session(user), &body)
            .await,
    )
    .await;

    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0]["code"], "unrecognized_keys");
    assert_eq!(issues[0]["keys"], json!(["message"]));
    assert_eq!(app.all_messages_count().await, 0);
}

pub async fn the_batch_size_is_bounded(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, chat) = app.seed_user_and_chat().await;
    let session = app.session(user);

    let issues = body_issues(
        app.post_messages(user, chat, &session, &json!({"messages": []}))
            .await,
    )
    .await;
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0]["code"], "too_small");
    assert_eq!(issues[0]["type"], "array");
    assert_eq!(issues[0]["minimum"], 1);
    assert_eq!(issues[0]["path"], json!(["messages"]));

    let one = json!({"content": "x", "role": "user"});
    let issues = body_issues(
        app.post_messages(
            user,
            chat,
            &session,
            &json!({"messages": vec![one.clone(); 101]}),
        )
        .await,
    )
    .await;
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0]["code"], "too_big");
    assert_eq!(issues[0]["type"], "array");
    assert_eq!(issues[0]["maximum"], 100);

    let res = app
        .post_messages(user, chat, &session, &json!({"messages": vec![one; 100]}))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(app.messages(chat).await.len(), 100);

    let issues = body_issues(
        app.post_messages(user, chat, &session, &json!({"messages": "x"}))
            .await,
    )
    .await;
    assert_eq!(issues[0]["expected"], "array");
}

pub async fn limits_come_from_configuration(backend: Backend) {
    let app = spawn_app_with(
        backend,
        &[
            ("APP__LIMITS__MAX_BATCH", "2"),
            ("APP__LIMITS__MAX_MESSAGE_CHARS", "5"),
        ],
    )
    .await;
    let (user, chat) = app.seed_user_and_chat().await;
    let m = |t: &str| json!({"content": t, "role": "user"});

    let issues = body_issues(
        app.post_messages(
            user,
            chat,
            &app.session(user),
            &json!({"messages": [m("12345"), m("123456"), m("1")]}),
        )
        .await,
    )
    .await;

    assert_eq!(issues[0]["code"], "too_big");
    assert_eq!(issues[0]["maximum"], 2);
    assert_eq!(issues[1]["code"], "too_big");
    assert_eq!(issues[1]["maximum"], 5);
    assert_eq!(issues[1]["path"], json!(["messages", 1, "content"]));
}

pub async fn invalid_json_is_a_400_with_the_parsers_message(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, chat) = app.seed_user_and_chat().await;
    let session = app.session(user);

    for raw in [
        &b"{\"message\": "[..],
        b"",
        b"not json",
        b"{\"message\": \"\xff\xfe\", \"actor\": \"user\"}",
    ] {
        let url = app.messages_url(user, chat);
        let json = Some("application/json");
        let res = app.post_raw(url, Some(&session), json, raw.to_vec()).await;
        let body = assert_error(res, 400, "Bad Request. Invalid JSON body.").await;
        let issues = body["data"]["issues"].as_array().unwrap();
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0]["code"], "invalid_json");
        assert_eq!(issues[0]["path"], json!([]));
        assert!(!issues[0]["message"].as_str().unwrap().is_empty());
    }
    assert_eq!(app.all_messages_count().await, 0);
}

pub async fn only_json_is_accepted(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, chat) = app.seed_user_and_chat().await;
    let session = app.session(user);
    let body = json!({"message": "hi", "actor": "user"}).to_string();

    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("application/jsonx"),
        Some("nonsense"),
    ] {
        let url = app.messages_url(user, chat);
        let res = app
            .post_raw(url, Some(&session), content_type, body.clone())
            .await;
        assert_error(res, 415, "Unsupported Media Type.").await;
    }
    assert_eq!(app.all_messages_count().await, 0);

    let json_utf8 = Some("Application/JSON; charset=utf-8");
    let res = app
        .post_raw(
            app.messages_url(user, chat),
            Some(&session),
            json_utf8,
            body,
        )
        .await;
    assert_eq!(res.status(), 200);
}

pub async fn bodies_over_the_limit_are_refused_with_413(backend: Backend) {
    let app = spawn_app_with(backend, &[("APP__LIMITS__MAX_BODY_BYTES", "1024")]).await;
    let (user, chat) = app.seed_user_and_chat().await;
    let session = app.session(user);
    let big = json!({"message": "x".repeat(2000), "actor": "user"}).to_string();

    let (url, json) = (app.messages_url(user, chat), Some("application/json"));
    let res = app
        .post_raw(url.clone(), Some(&session), json, big.clone())
        .await;
    let body = assert_error(res, 413, "Payload Too Large.").await;
    assert_eq!(body["data"]["issues"][0]["code"], "too_big");
    assert_eq!(body["data"]["issues"][0]["type"], "body");
    assert_eq!(body["data"]["issues"][0]["maximum"], 1024);

    // The same without a Content-Length: chunked, refused once it passes the limit.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        big.as_bytes().chunks(100).map(|c| Ok(c.to_vec())).collect();
    let stream = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    let res = app.post_raw(url, Some(&session), json, stream).await;
    assert_error(res, 413, "Payload Too Large.").await;
    assert_eq!(app.all_messages_count().await, 0);

    let small = json!({"message": "x", "actor": "user"});
    assert_eq!(
        app.post_messages(user, chat, &session, &small)
            .await
            .status(),
        200
    );
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
    every_broken_rule_is_reported_at_once_with_its_path,
    the_single_shape_reports_its_own_fields,
    both_shapes_at_once_is_an_unrecognized_key,
    the_batch_size_is_bounded,
    limits_come_from_configuration,
    invalid_json_is_a_400_with_the_parsers_message,
    only_json_is_accepted,
    bodies_over_the_limit_are_refused_with_413,
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
