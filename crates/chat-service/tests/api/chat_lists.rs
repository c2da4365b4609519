//! Listing a user's chats: newest activity first by default, ordered by the app's pairs, in keyset pages, the whole list up to the ceiling without a limit.

use crate::chats::{create, list};
use crate::helpers::{Backend, TestApp, assert_error, spawn_app, spawn_app_with};
use serde_json::{Value, json};

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
/// The names of each page of the user's chats, from `first_query` on, following each page's
/// `Link` (which keeps a `limit` only when the first query had one).
async fn pages_by_link(
    app: &TestApp,
    user: i32,
    session: &str,
    first_query: &str,
) -> Vec<Vec<Value>> {
    let (mut pages, mut query) = (Vec::new(), first_query.to_owned());
    loop {
        let res = list(app, user, session, &query).await;
        assert_eq!(res.status(), 200);
        let link = res
            .headers()
            .get("link")
            .map(|l| l.to_str().unwrap().to_owned());
        let body: Value = res.json().await.unwrap();
        let chats = body["chats"].as_array().unwrap();
        pages.push(chats.iter().map(|c| c["name"].clone()).collect());
        assert_eq!(body["has_more"], link.is_some());
        let Some(link) = link else { break };
        assert_eq!(
            link.contains("limit="),
            first_query.contains("limit="),
            "{link}"
        );
        query = link[link.find('?').unwrap()..link.find('>').unwrap()].to_owned();
    }
    pages
}

/// A list pages at `limits.read_budget_bytes` too (names and models are what it counts, with
/// the rest of each chat's JSON): every chat once, in order, whether `limit` was given or not;
/// a chat whose name alone passes the budget (the app's column is unbounded) comes alone.
pub async fn a_list_pages_at_the_byte_budget(backend: Backend) {
    let app = spawn_app_with(backend, &[("APP__LIMITS__READ_BUDGET_BYTES", "3000")]).await;
    let user = app.seed_user("ada@example.com").await;
    let session = app.session(user);
    let name = |i: usize| format!("{i:02} {}", "n".repeat(if i == 20 { 5000 } else { 147 }));
    let rows: Vec<String> = (0..30)
        .map(|i| format!("SELECT '{}', 'm', {user}", name(i)))
        .collect();
    app.sql(&format!(
        "INSERT INTO chat_conversation (name, model, neptun_user_id) {}",
        rows.join(" UNION ALL ")
    ))
    .await;
    let expected: Vec<Value> = (0..30).map(|i| json!(name(i))).collect();
    for first_query in ["?order_by=name:asc", "?order_by=name:asc&limit=100"] {
        let pages = pages_by_link(&app, user, &session, first_query).await;
        // 151 bytes of texts and 200 more a chat: 8 fit in 3,000 bytes, a 9th would not.
        let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
        assert_eq!(sizes, [8, 8, 4, 1, 8, 1], "{first_query}");
        assert_eq!(pages.concat(), expected, "{first_query}");
    }
}

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
    let pages = pages_by_link(&app, user, &session, "?order_by=name:asc").await;
    assert_eq!(pages.len(), 3);
    let expected: Vec<Value> = (0..60).map(|i| json!(format!("chat {i:02}"))).collect();
    assert_eq!(pages.concat(), expected);
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

crate::on_both_backends!(
    chats_are_listed_newest_activity_first,
    chats_are_paged_with_cursors_in_any_allowed_order,
    chats_are_ordered_and_paged_by_several_keys,
    without_a_limit_the_whole_list_up_to_the_ceiling,
    a_list_pages_at_the_byte_budget,
    list_parameters_are_validated,
);
