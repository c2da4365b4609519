//! The chat routes: create, list (ordered, in pages), read, rename, delete one or many.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_error, spawn_app};

pub async fn create(app: &TestApp, user: i32, session: &str, name: &str) -> Value {
    let res = app
        .call(
            Method::POST,
            &format!("/api/users/{user}/chats"),
            session,
            Some(&json!({"name": name, "model": "llama3"})),
        )
        .await;
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.unwrap()["chat"].clone()
}

pub async fn list(app: &TestApp, user: i32, session: &str, query: &str) -> reqwest::Response {
    app.call(
        Method::GET,
        &format!("/api/users/{user}/chats{query}"),
        session,
        None,
    )
    .await
}

pub async fn a_chat_is_created_read_renamed_and_deleted(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.seed_user("ada@example.com").await;
    let session = app.session(user);

    let chat = create(&app, user, &session, "  Plans  ").await;
    assert_eq!(chat["name"], "Plans");
    assert_eq!(chat["model"], "llama3");
    assert_eq!(chat["neptun_user_id"], user);
    let id = chat["id"].as_i64().unwrap();
    let path = format!("/api/users/{user}/chats/{id}");

    let got: Value = app
        .call(Method::GET, &path, &session, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["chat"], chat);

    let res = app
        .call(
            Method::PATCH,
            &path,
            &session,
            Some(&json!({"name": "Holidays"})),
        )
        .await;
    assert_eq!(res.status(), 200);
    let renamed: Value = res.json().await.unwrap();
    assert_eq!(renamed["chat"]["name"], "Holidays");
    assert!(renamed["chat"]["updated_at"].as_str() >= chat["updated_at"].as_str());

    let hi = json!({"message": "hi", "actor": "user"});
    assert_eq!(
        app.post_messages(user, id, &session, &hi).await.status(),
        200
    );
    let res = app.call(Method::DELETE, &path, &session, None).await;
    assert_eq!(res.status(), 200);
    let deleted: Value = res.json().await.unwrap();
    assert_eq!(deleted["chat"]["name"], "Holidays");
    assert_eq!(
        app.all_messages_count().await,
        0,
        "its messages went with it"
    );
    let res = app.call(Method::GET, &path, &session, None).await;
    assert_error(res, 404, "Not Found. Chat not found.").await;
}

pub async fn chat_bodies_are_validated(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.seed_user("ada@example.com").await;
    let session = app.session(user);
    let path = format!("/api/users/{user}/chats");

    let res = app
        .call(
            Method::POST,
            &path,
            &session,
            Some(&json!({"name": "   ", "model": "m".repeat(101)})),
        )
        .await;
    let body = assert_error(res, 400, "Bad Request. Invalid body(model, name).").await;
    let issues = body["data"]["issues"].as_array().unwrap();
    assert_eq!(issues[0]["code"], "too_small");
    assert_eq!(issues[0]["path"], json!(["name"]));
    assert_eq!(issues[1]["code"], "too_big");
    assert_eq!(issues[1]["maximum"], 100);

    let res = app
        .call(
            Method::POST,
            &path,
            &session,
            Some(&json!({"name": "x".repeat(201)})),
        )
        .await;
    let body = assert_error(res, 400, "Bad Request. Invalid body(model, name).").await;
    assert_eq!(body["data"]["issues"].as_array().unwrap().len(), 2);

    let chat = create(&app, user, &session, "ok").await;
    let item = format!("{path}/{}", chat["id"]);
    let res = app
        .call(Method::PATCH, &item, &session, Some(&json!({"name": 5})))
        .await;
    assert_error(res, 400, "Bad Request. Invalid body(name).").await;
    let res = app.call(Method::PATCH, &item, &session, None).await;
    assert_error(res, 415, "Unsupported Media Type.").await;
}

/// Blank is blank as the app's JavaScript sees it, in names as in messages: U+FEFF too.
pub async fn names_of_byte_order_marks_are_blank(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.seed_user("ada@example.com").await;
    let session = app.session(user);
    let path = format!("/api/users/{user}/chats");
    let body = json!({"name": "\u{feff}", "model": "\u{feff} "});
    let res = app.call(Method::POST, &path, &session, Some(&body)).await;
    let body = assert_error(res, 400, "Bad Request. Invalid body(model, name).").await;
    let codes: Vec<_> = body["data"]["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].clone())
        .collect();
    assert_eq!(codes, [json!("too_small"), json!("too_small")]);

    let chat = create(&app, user, &session, "ok").await;
    let item = format!("{path}/{}", chat["id"]);
    let res = app
        .call(
            Method::PATCH,
            &item,
            &session,
            Some(&json!({"name": "\u{feff}"})),
        )
        .await;
    assert_error(res, 400, "Bad Request. Invalid body(name).").await;
    let res = app.call(Method::GET, &item, &session, None).await;
    let stored: Value = res.json().await.unwrap();
    assert_eq!(stored["chat"]["name"], "ok", "{stored}");
}

/// U+0000 cannot be stored by PostgreSQL: refused as a 400 on both backends, in a name, a
/// model, and a crafted cursor.
pub async fn nul_in_a_name_a_model_or_a_cursor_is_400(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.seed_user("ada@example.com").await;
    let session = app.session(user);
    let chats = format!("/api/users/{user}/chats");
    for (body, path) in [
        (json!({"name": "a\u{0}b", "model": "m"}), "name"),
        (json!({"name": "a", "model": "m\u{0}"}), "model"),
    ] {
        let res = app.call(Method::POST, &chats, &session, Some(&body)).await;
        let body = assert_error(res, 400, "Bad Request. Invalid body(model, name).").await;
        assert_eq!(body["data"]["issues"][0]["code"], "invalid_string");
        assert_eq!(body["data"]["issues"][0]["path"], json!([path]));
    }
    let id = create(&app, user, &session, "a").await["id"]
        .as_i64()
        .unwrap();
    let rename = json!({"name": "x\u{0}"});
    let res = app
        .call(
            Method::PATCH,
            &format!("{chats}/{id}"),
            &session,
            Some(&rename),
        )
        .await;
    assert_error(res, 400, "Bad Request. Invalid body(name).").await;
    let cursor = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        r#"{"o":"name:asc","k":["a\u0000"],"i":1}"#,
    );
    let res = list(
        &app,
        user,
        &session,
        &format!("?order_by=name:asc&cursor={cursor}"),
    )
    .await;
    let body = assert_error(
        res,
        400,
        "Bad Request. Invalid query parameters(order_by | limit | cursor).",
    )
    .await;
    assert_eq!(body["data"]["issues"][0]["path"], json!(["cursor"]));
    assert_eq!(app.all_messages_count().await, 0);
}

pub async fn bulk_delete_touches_only_the_callers_chats(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, a1) = app.seed_user_and_chat().await;
    let a2 = app.seed_chat(alice, "second").await;
    let (bob, b1) = app.seed_user_and_chat().await;
    let session = app.session(alice);
    let path = format!("/api/users/{alice}/chats");

    let res = app
        .call(
            Method::DELETE,
            &path,
            &session,
            Some(&json!({"chat_ids": [a1, a2, b1, 999_999]})),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"deleted": 2}));
    let bobs = app
        .call(
            Method::GET,
            &format!("/api/users/{bob}/chats/{b1}"),
            &app.session(bob),
            None,
        )
        .await;
    assert_eq!(bobs.status(), 200, "bob's chat is untouched");

    for bad in [
        json!({}),
        json!({"chat_ids": "1"}),
        json!({"chat_ids": [0]}),
        json!({"chat_ids": [1.5]}),
    ] {
        let res = app.call(Method::DELETE, &path, &session, Some(&bad)).await;
        assert_error(res, 400, "Bad Request. Invalid body(chat_ids).").await;
    }
    let res = app
        .call(
            Method::DELETE,
            &path,
            &session,
            Some(&json!({"chat_ids": []})),
        )
        .await;
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"deleted": 0}));
}

/// A route under `/api/users/{user}`: its method, its path below the user, its body.
type Route = (Method, String, Option<Value>);

/// Every route under a user: the first three are the user's chat list's, the rest name `chat`.
fn every_route(chat: i32) -> Vec<Route> {
    let hi = json!({"message": "hi", "actor": "user"});
    let chat_path = |tail: &str| format!("/chats/{chat}{tail}");
    vec![
        (Method::GET, "/chats".into(), None),
        (
            Method::POST,
            "/chats".into(),
            Some(json!({"name": "x", "model": "m"})),
        ),
        (
            Method::DELETE,
            "/chats".into(),
            Some(json!({"chat_ids": [chat]})),
        ),
        (Method::GET, chat_path(""), None),
        (
            Method::PATCH,
            chat_path(""),
            Some(json!({"name": "mine now"})),
        ),
        (Method::DELETE, chat_path(""), None),
        (Method::GET, chat_path("/messages"), None),
        (Method::POST, chat_path("/messages"), Some(hi)),
        (Method::DELETE, chat_path("/messages/last"), None),
    ]
}

/// Calls each of `routes` under `user` with `session`; each must fail with `status` and `message`.
async fn refused_everywhere(
    app: &TestApp,
    routes: &[Route],
    user: i32,
    session: &str,
    (status, message): (u16, &str),
) {
    for (method, route, body) in routes {
        let path = format!("/api/users/{user}{route}");
        let res = app
            .call(method.clone(), &path, session, body.as_ref())
            .await;
        assert_error(res, status, message).await;
    }
}

/// Every route, tried by another user: 403 on their path, 404 for their chat on one's own.
pub async fn no_route_reaches_another_users_chat(backend: Backend) {
    let app = spawn_app(backend).await;
    let (alice, alice_chat) = app.seed_user_and_chat().await;
    let (bob, _) = app.seed_user_and_chat().await;
    let hi = json!({"message": "hi", "actor": "user"});
    let posted = app
        .post_messages(alice, alice_chat, &app.session(alice), &hi)
        .await;
    assert_eq!(posted.status(), 200);
    let bob_session = app.session(bob);
    let routes = every_route(alice_chat);
    refused_everywhere(&app, &routes, alice, &bob_session, (403, "Forbidden.")).await;
    // On bob's own path, alice's chat does not exist for him.
    let not_found = (404, "Not Found. Chat not found.");
    refused_everywhere(&app, &routes[3..], bob, &bob_session, not_found).await;
    let res = app
        .call(
            Method::DELETE,
            &format!("/api/users/{bob}/chats"),
            &bob_session,
            Some(&json!({"chat_ids": [alice_chat]})),
        )
        .await;
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"deleted": 0}));
    // Nothing of alice's changed.
    let path = format!("/api/users/{alice}/chats/{alice_chat}");
    let res = app
        .call(Method::GET, &path, &app.session(alice), None)
        .await;
    let chat: Value = res.json().await.unwrap();
    assert_eq!(chat["chat"]["name"], "chat");
    assert_eq!(app.messages(alice_chat).await.len(), 1);
    // And no session at all is 401 on every route.
    refused_everywhere(&app, &routes, alice, "nonsense", (401, "Unauthorized.")).await;
}

pub async fn a_chat_for_a_user_without_a_row_is_404(backend: Backend) {
    let app = spawn_app(backend).await;
    let ghost = 424_242;
    let res = app
        .call(
            Method::POST,
            &format!("/api/users/{ghost}/chats"),
            &app.session(ghost),
            Some(&json!({"name": "x", "model": "m"})),
        )
        .await;
    assert_error(res, 404, "Not Found. User not found.").await;
}

crate::on_both_backends!(
    a_chat_is_created_read_renamed_and_deleted,
    chat_bodies_are_validated,
    names_of_byte_order_marks_are_blank,
    nul_in_a_name_a_model_or_a_cursor_is_400,
    bulk_delete_touches_only_the_callers_chats,
    no_route_reaches_another_users_chat,
    a_chat_for_a_user_without_a_row_is_404,
);
