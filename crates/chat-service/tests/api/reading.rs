//! Reading messages back in pages, and deleting the last exchange.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_error, spawn_app, spawn_app_with};

async fn post(app: &TestApp, user: i32, chat: i32, messages: &[(&str, &str)]) -> Vec<i64> {
    let batch: Vec<Value> = messages
        .iter()
        .map(|(role, content)| json!({"content": content, "role": role}))
        .collect();
    let res = app
        .post_messages(user, chat, &app.session(user), &json!({"messages": batch}))
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    body["chatMessages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect()
}

async fn page(app: &TestApp, user: i32, chat: i32, query: &str) -> (Value, Option<String>) {
    let res = app
        .call(
            Method::GET,
            &format!("/api/users/{user}/chats/{chat}/messages{query}"),
            &app.session(user),
            None,
        )
        .await;
    assert_eq!(res.status(), 200, "{query}");
    let link = res
        .headers()
        .get("link")
        .map(|l| l.to_str().unwrap().to_owned());
    (res.json().await.unwrap(), link)
}

fn ids_of(body: &Value) -> Vec<i64> {
    body["chatMessages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect()
}

pub async fn messages_read_back_oldest_first_in_pages(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, chat) = app.seed_user_and_chat().await;
    let ids = post(
        &app,
        user,
        chat,
        &[
            ("user", "q1"),
            ("assistant", "a1"),
            ("user", "q2"),
            ("assistant", "a2"),
            ("user", "q3"),
        ],
    )
    .await;

    let (all, link) = page(&app, user, chat, "").await;
    assert_eq!(ids_of(&all), ids);
    assert_eq!(all["has_more"], false);
    assert_eq!(all["next_cursor"], Value::Null);
    assert!(link.is_none());
    assert_eq!(all["chatMessages"][1]["actor"], "assistant");
    assert_eq!(all["chatMessages"][1]["message"], "a1");

    let (first, link) = page(&app, user, chat, "?limit=2").await;
    assert_eq!(ids_of(&first), ids[..2]);
    assert_eq!(first["has_more"], true);
    assert_eq!(first["next_cursor"], ids[1]);
    let link = link.expect("a Link header");
    assert!(
        link.contains(&format!("after={}", ids[1])) && link.contains("rel=\"next\""),
        "{link}"
    );

    let (second, _) = page(&app, user, chat, &format!("?limit=2&after={}", ids[1])).await;
    assert_eq!(ids_of(&second), ids[2..4]);
    let (newest, link) = page(&app, user, chat, "?order=desc&limit=2").await;
    assert_eq!(ids_of(&newest), vec![ids[4], ids[3]]);
    assert!(link.unwrap().contains(&format!("before={}", ids[3])));
    let (range, _) = page(
        &app,
        user,
        chat,
        &format!("?after={}&before={}", ids[0], ids[4]),
    )
    .await;
    assert_eq!(ids_of(&range), ids[1..4]);
}

/// The app's front end reads a whole chat: without `limit`, every message in order, up to
/// `limits.read_ceiling`; past it, pages whose `Link` continues without a `limit`.
pub async fn without_a_limit_the_whole_chat_up_to_the_ceiling(backend: Backend) {
    let app = spawn_app_with(backend, &[("APP__LIMITS__READ_CEILING", "100")]).await;
    let (user, chat) = app.seed_user_and_chat().await;
    let mut ids = Vec::new();
    for batch in 0..2 {
        let texts: Vec<String> = (0..75).map(|i| format!("m{batch}-{i}")).collect();
        let messages: Vec<(&str, &str)> = texts.iter().map(|t| ("user", t.as_str())).collect();
        ids.extend(post(&app, user, chat, &messages).await);
    }
    let (first, link) = page(&app, user, chat, "").await;
    assert_eq!(ids_of(&first), ids[..100]);
    assert_eq!(first["has_more"], true);
    let link = link.expect("a Link past the ceiling");
    assert!(!link.contains("limit="), "{link}");
    let query = &link[link.find('?').unwrap()..link.find('>').unwrap()];
    let (rest, link) = page(&app, user, chat, query).await;
    assert_eq!(ids_of(&rest), ids[100..]);
    assert_eq!((rest["has_more"].clone(), link), (json!(false), None));

    let app = spawn_app(backend).await;
    let (user, chat) = app.seed_user_and_chat().await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        ids.extend(post(&app, user, chat, &[("user", "q"); 75]).await);
    }
    let (whole, link) = page(&app, user, chat, "").await;
    assert_eq!(ids_of(&whole), ids);
    assert_eq!((whole["has_more"].clone(), link), (json!(false), None));
}

pub async fn paging_while_others_write_skips_and_repeats_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, chat) = app.seed_user_and_chat().await;
    let mut written = post(
        &app,
        user,
        chat,
        &[("user", "m0"), ("assistant", "m1"), ("user", "m2")],
    )
    .await;
    let mut read = Vec::new();
    let mut query = "?limit=2".to_owned();
    for round in 0.. {
        let (body, _) = page(&app, user, chat, &query).await;
        read.extend(ids_of(&body));
        // Someone writes between every two pages.
        if round < 4 {
            written
                .extend(post(&app, user, chat, &[("user", "more"), ("assistant", "more")]).await);
        }
        match body["next_cursor"].as_i64() {
            Some(next) => query = format!("?limit=2&after={next}"),
            None if round >= 4 => break,
            // The last page came before the last writes: continue from its end.
            None => query = format!("?limit=2&after={}", read.last().unwrap()),
        }
    }
    assert_eq!(read, written, "every message once, in order");
}

pub async fn message_list_parameters_are_validated(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, chat) = app.seed_user_and_chat().await;
    for (query, path) in [
        ("?limit=0", "limit"),
        ("?limit=1001", "limit"),
        ("?after=abc", "after"),
        ("?before=-3", "before"),
        ("?order=sideways", "order"),
    ] {
        let res = app
            .call(
                Method::GET,
                &format!("/api/users/{user}/chats/{chat}/messages{query}"),
                &app.session(user),
                None,
            )
            .await;
        let body = assert_error(
            res,
            400,
            "Bad Request. Invalid query parameters(limit | after | before | order).",
        )
        .await;
        assert_eq!(body["data"]["issues"][0]["path"], json!([path]), "{query}");
    }
    let (body, _) = page(&app, user, chat, "?limit=1000").await;
    assert_eq!(body["chatMessages"], json!([]));
}

pub async fn the_last_exchange_is_deleted_as_the_app_does(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, chat) = app.seed_user_and_chat().await;
    let path = format!("/api/users/{user}/chats/{chat}/messages/last");
    let delete_last = || async {
        let res = app
            .call(Method::DELETE, &path, &app.session(user), None)
            .await;
        assert_eq!(res.status(), 200);
        ids_of(&res.json::<Value>().await.unwrap())
    };

    assert_eq!(
        delete_last().await,
        Vec::<i64>::new(),
        "an empty chat: nothing to remove"
    );
    let ids = post(
        &app,
        user,
        chat,
        &[
            ("system", "s"),
            ("user", "q1"),
            ("assistant", "a1"),
            ("user", "q2"),
            ("assistant", "a2"),
        ],
    )
    .await;
    let before = app.chat_updated_at(chat).await;
    assert_eq!(
        delete_last().await,
        ids[3..5],
        "the last question and its answer"
    );
    assert!(app.chat_updated_at(chat).await >= before);
    // Unanswered questions go with the exchange before them.
    let more = post(&app, user, chat, &[("user", "q3"), ("user", "q4")]).await;
    let mut expected = ids[1..3].to_vec();
    expected.extend(&more);
    assert_eq!(delete_last().await, expected);
    // One message left: it stays.
    assert_eq!(delete_last().await, Vec::<i64>::new());
    let left: Vec<i64> = app.messages(chat).await.iter().map(|m| m.id).collect();
    assert_eq!(left, ids[..1]);
}

pub async fn reading_a_missing_chat_is_404(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, _) = app.seed_user_and_chat().await;
    for (method, route) in [(Method::GET, "messages"), (Method::DELETE, "messages/last")] {
        let res = app
            .call(
                method,
                &format!("/api/users/{user}/chats/999999/{route}"),
                &app.session(user),
                None,
            )
            .await;
        assert_error(res, 404, "Not Found. Chat not found.").await;
    }
}

/// A read pages at `limits.read_budget_bytes` as it does at the ceiling: a chat of large
/// messages comes a few at a time, every message once, in order, whether `limit` was given or
/// not; a message larger than the budget still comes, alone.
pub async fn a_read_pages_at_the_byte_budget(backend: Backend) {
    let app = spawn_app_with(backend, &[("APP__LIMITS__READ_BUDGET_BYTES", "30000")]).await;
    let (user, chat) = app.seed_user_and_chat().await;
    let big = "b".repeat(10_000);
    let mut ids = post(&app, user, chat, &[("assistant", big.as_str()); 7]).await;
    let huge = "h".repeat(50_000);
    ids.extend(post(&app, user, chat, &[("assistant", huge.as_str())]).await);
    ids.extend(post(&app, user, chat, &[("user", "small"); 40]).await);
    for first_query in ["", "?limit=1000"] {
        let (mut seen, mut query, mut pages) = (Vec::new(), first_query.to_owned(), 0);
        loop {
            let (body, link) = page(&app, user, chat, &query).await;
            let got = ids_of(&body);
            assert!(!got.is_empty());
            let bytes: usize = body["chatMessages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["message"].as_str().unwrap().len())
                .sum();
            assert!(
                got.len() == 1 || bytes <= 30_000,
                "{bytes} bytes in a page of {}",
                got.len()
            );
            seen.extend(got);
            pages += 1;
            match link {
                Some(link) => {
                    assert_eq!(body["has_more"], true);
                    assert_eq!(Some(*seen.last().unwrap()), body["next_cursor"].as_i64());
                    query = link[link.find('?').unwrap()..link.find('>').unwrap()].to_owned();
                }
                None => break,
            }
        }
        assert_eq!(seen, ids, "{first_query}");
        assert!(pages >= 4, "{pages} pages");
    }
}

crate::on_both_backends!(
    a_read_pages_at_the_byte_budget,
    messages_read_back_oldest_first_in_pages,
    without_a_limit_the_whole_chat_up_to_the_ceiling,
    paging_while_others_write_skips_and_repeats_nothing,
    message_list_parameters_are_validated,
    the_last_exchange_is_deleted_as_the_app_does,
    reading_a_missing_chat_is_404,
);
