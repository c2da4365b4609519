//! The chat routes: create, list (ordered, in pages), read, rename, delete one or many.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_error, spawn_app, spawn_app_with};

async fn create(app: &TestApp, user: i32, session: &str, name: &str) -> Value {
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

async fn list(app: &TestApp, user: i32, session: &str, query: &str) -> reqwest::Response {
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

pub async fn chats_are_listed_newest_activity_first(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.seed_user("ada@example.com").await;
    let session = app.session(user);
    let mut ids = Vec::new();
    for name in ["a", "b", "c"] {
        ids.push(
            create(&app, user, &session, name).await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    // Activity in the oldest chat makes it the newest. Timestamps have millisecond precision
    // (SQLite), so the activity must come in a later millisecond than the last chat's creation,
    // or the two would tie and the id would decide.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let hi = json!({"message": "hi", "actor": "user"});
    app.post_messages(user, ids[0], &session, &hi).await;

    let res = list(&app, user, &session, "").await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let order: Vec<i64> = body["chats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(order, vec![ids[0], ids[2], ids[1]]);
    assert_eq!(body["has_more"], false);
    assert_eq!(body["next_cursor"], Value::Null);
}

/// The names of the user's chats in `order_by`, read two a page by following each page's
/// cursor (and checking its `Link`).
async fn names_in_pages(app: &TestApp, user: i32, session: &str, order_by: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut query = format!("?order_by={order_by}&limit=2");
    loop {
        let res = list(app, user, session, &query).await;
        assert_eq!(res.status(), 200, "{order_by}");
        let link = res
            .headers()
            .get("link")
            .map(|l| l.to_str().unwrap().to_owned());
        let body: Value = res.json().await.unwrap();
        for chat in body["chats"].as_array().unwrap() {
            seen.push(chat["name"].as_str().unwrap().to_owned());
        }
        match body["next_cursor"].as_str() {
            Some(cursor) => {
                assert_eq!(body["has_more"], true);
                let link = link.expect("a Link header while more follow");
                assert!(
                    link.contains("rel=\"next\"") && link.contains(cursor),
                    "{link}"
                );
                query = format!("?order_by={order_by}&limit=2&cursor={cursor}");
            }
            None => break,
        }
    }
    seen
}

pub async fn chats_are_paged_with_cursors_in_any_allowed_order(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.seed_user("ada@example.com").await;
    let session = app.session(user);
    let names = ["delta", "alpha", "echo", "charlie", "bravo"];
    for name in names {
        create(&app, user, &session, name).await;
    }
    for (order_by, expected) in [
        (
            "name:asc",
            vec!["alpha", "bravo", "charlie", "delta", "echo"],
        ),
        (
            "name:desc",
            vec!["echo", "delta", "charlie", "bravo", "alpha"],
        ),
        ("created_at:asc", names.to_vec()),
        ("id:desc", names.iter().rev().copied().collect()),
    ] {
        let seen = names_in_pages(&app, user, &session, order_by).await;
        assert_eq!(seen, expected, "{order_by}");
    }
}

/// The app's list filter: several `column:direction` pairs, mixed directions, ties on the
/// first key broken by the next, paged by a cursor that carries every key.
pub async fn chats_are_ordered_and_paged_by_several_keys(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.seed_user("ada@example.com").await;
    let session = app.session(user);
    for (name, model) in [("a", "y"), ("b", "x"), ("c", "y"), ("d", "x"), ("e", "y")] {
        app.sql(&format!(
            "INSERT INTO chat_conversation (name, model, neptun_user_id) \
             VALUES ('{name}', '{model}', {user})"
        ))
        .await;
    }
    for (order_by, expected) in [
        ("model:asc,name:desc", ["d", "b", "e", "c", "a"]),
        ("model:desc,name:asc", ["a", "c", "e", "b", "d"]),
        ("model:asc,id:desc", ["d", "b", "e", "c", "a"]),
    ] {
        let seen = names_in_pages(&app, user, &session, order_by).await;
        assert_eq!(seen, expected, "{order_by}");
    }
}

/// Without `limit`, the whole list, as the app reads it; past `limits.read_ceiling` it pages,
/// and the `Link` it gives continues without a `limit` of its own.
pub async fn without_a_limit_the_whole_list_up_to_the_ceiling(backend: Backend) {
    let app = spawn_app_with(backend, &[("APP__LIMITS__READ_CEILING", "25")]).await;
    let user = app.seed_user("ada@example.com").await;
    let session = app.session(user);
    app.sql(&format!(
        "INSERT INTO chat_conversation (name, model, neptun_user_id) \
         {}",
        (0..60)
            .map(|i| format!("SELECT 'chat {i:02}', 'm', {user}"))
            .collect::<Vec<_>>()
            .join(" UNION ALL ")
    ))
    .await;
    let mut names = Vec::new();
    let mut query = "?order_by=name:asc".to_owned();
    let mut pages = 0;
    loop {
        let res = list(&app, user, &session, &query).await;
        assert_eq!(res.status(), 200);
        let link = res
            .headers()
            .get("link")
            .map(|l| l.to_str().unwrap().to_owned());
        let body: Value = res.json().await.unwrap();
        names.extend(
            body["chats"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["name"].clone()),
        );
        pages += 1;
        let Some(link) = link else { break };
        assert!(!link.contains("limit="), "{link}");
        let start = link.find('?').unwrap();
        let end = link.find('>').unwrap();
        query = link[start..end].to_owned();
    }
    assert_eq!(pages, 3);
    let expected: Vec<Value> = (0..60).map(|i| json!(format!("chat {i:02}"))).collect();
    assert_eq!(names, expected);
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

pub async fn list_parameters_are_validated(backend: Backend) {
    let app = spawn_app(backend).await;
    let user = app.seed_user("ada@example.com").await;
    let session = app.session(user);
    create(&app, user, &session, "a").await;
    create(&app, user, &session, "b").await;
    let body: Value = list(&app, user, &session, "?order_by=name:asc&limit=1")
        .await
        .json()
        .await
        .unwrap();
    let name_cursor = body["next_cursor"].as_str().unwrap().to_owned();

    for (query, path) in [
        ("?order_by=password:asc", "order_by"),
        ("?order_by=name", "order_by"),
        ("?order_by=name:asc,name:desc", "order_by"),
        ("?order_by=name:asc,", "order_by"),
        ("?limit=0", "limit"),
        ("?limit=201", "limit"),
        ("?limit=ten", "limit"),
        ("?cursor=garbage", "cursor"),
        (&format!("?order_by=id:asc&cursor={name_cursor}"), "cursor"),
    ] {
        let res = list(&app, user, &session, query).await;
        let body = assert_error(
            res,
            400,
            "Bad Request. Invalid query parameters(order_by | limit | cursor).",
        )
        .await;
        assert_eq!(body["data"]["issues"][0]["path"], json!([path]), "{query}");
    }
    assert_eq!(
        list(&app, user, &session, "?limit=200&unknown=1")
            .await
            .status(),
        200
    );
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
    chats_are_listed_newest_activity_first,
    chats_are_paged_with_cursors_in_any_allowed_order,
    chats_are_ordered_and_paged_by_several_keys,
    without_a_limit_the_whole_list_up_to_the_ceiling,
    nul_in_a_name_a_model_or_a_cursor_is_400,
    list_parameters_are_validated,
    bulk_delete_touches_only_the_callers_chats,
    no_route_reaches_another_users_chat,
    a_chat_for_a_user_without_a_row_is_404,
);
