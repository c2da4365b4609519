//! The rules a message body must meet: every broken rule reported at once, in zod's shapes; the media type, JSON syntax and size checks before them.

use crate::helpers::{Backend, assert_error, body_issues, spawn_app, spawn_app_with};
use serde_json::{Value, json};

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
    let app = spawn_app_with(backend, &[("APP__LIMITS__MAX_BATCH", "100")]).await;
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

/// The defaults accept what the app's front end sends in real use: a long playground saved at
/// once, an AI answer with long code, a body over the contract's old 2 MiB.
pub async fn the_defaults_take_a_long_playground_and_long_answers(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, chat) = app.seed_user_and_chat().await;
    let session = app.session(user);
    let code = "fn main() { println!(\"é\"); }\n".repeat(8_000);
    assert!(code.chars().count() > 65_536 && code.len() > 2 * 1024 * 1024 / 10);
    let messages: Vec<_> = (0..1_000)
        .map(|i| match i % 100 {
            99 => json!({"content": code, "role": "assistant"}),
            _ => json!({"content": format!("turn {i}"), "role": "user"}),
        })
        .collect();
    let body = json!({"messages": messages});
    assert!(body.to_string().len() > 2 * 1024 * 1024);
    let res = app.post_messages(user, chat, &session, &body).await;
    assert_eq!(res.status(), 200);
    let stored = app.messages(chat).await;
    assert_eq!(stored.len(), 1_000);
    assert_eq!(stored[99].message, code);
}

crate::on_both_backends!(
    the_defaults_take_a_long_playground_and_long_answers,
    every_broken_rule_is_reported_at_once_with_its_path,
    the_single_shape_reports_its_own_fields,
    both_shapes_at_once_is_an_unrecognized_key,
    the_batch_size_is_bounded,
    limits_come_from_configuration,
    invalid_json_is_a_400_with_the_parsers_message,
    only_json_is_accepted,
    bodies_over_the_limit_are_refused_with_413,
);
