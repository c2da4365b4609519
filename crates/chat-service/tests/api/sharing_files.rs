//! A message's code blocks ("files"), as the app's front end saves and reads them.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error};
use crate::sharing::{Person, ok};

/// Posts two messages to the chat; their ids.
pub async fn two_messages(app: &TestApp, owner: &Person, chat: i32) -> (i64, i64) {
    let body = json!({"messages": [{"content": "Write main", "role": "user"},
                                   {"content": "```rust\nfn main() {}\n```", "role": "assistant"}]});
    let posted = ok(app
        .post_messages(owner.id, chat, &owner.session, &body)
        .await)
    .await;
    let id = |i: usize| posted["chatMessages"][i]["id"].as_i64().unwrap();
    (id(0), id(1))
}

/// Saves code blocks as the app's front end does, reads them back as its Code Blocks panel
/// does, and is refused what the app refuses, storing nothing then.
pub async fn files_are_saved_and_read_as_the_front_end_does(
    app: &TestApp,
    owner: &Person,
    chat: i32,
    other_chat: i32,
) {
    let (_, answer) = two_messages(app, owner, chat).await;
    let files = format!("/api/users/{}/chats/{chat}/files", owner.id);
    let before = ok(app.call(Method::GET, &files, &owner.session, None).await).await;
    let before = before["chatFiles"].as_array().unwrap().len();

    // One block: the front end sends it alone, with the route's ids in it too.
    let one = json!({"neptun_user_id": owner.id, "chat_conversation_id": chat,
        "chat_conversation_message_id": answer, "title": "main.rs", "text": "fn main() {}",
        "language": "rust", "extension": "rs"});
    let save = format!("{files}/{answer}");
    let saved = ok(app
        .call(Method::POST, &save, &owner.session, Some(&one))
        .await)
    .await;
    assert_eq!(saved["chatFile"].as_array().unwrap().len(), 1, "{saved}");
    let many = json!({"files": [{"text": "print(1)", "title": null, "language": "", "extension": "py"},
                                {"text": "", "title": "empty"}]});
    let saved = ok(app
        .call(Method::POST, &save, &owner.session, Some(&many))
        .await)
    .await;
    let saved = saved["chatFiles"].as_array().unwrap().clone();
    assert_eq!(saved.len(), 2);
    assert_eq!(
        (
            saved[0]["language"].as_str(),
            saved[0]["extension"].as_str()
        ),
        (Some("text"), Some("py"))
    );
    assert_eq!(
        (
            saved[1]["language"].as_str(),
            saved[1]["extension"].as_str()
        ),
        (Some("text"), Some("txt"))
    );

    let read = ok(app.call(Method::GET, &files, &owner.session, None).await).await;
    let read = read["chatFiles"].as_array().unwrap().clone();
    assert_eq!(read.len(), before + 3);
    let mine = &read[before..];
    assert_eq!(mine[0]["title"], "main.rs");
    assert_eq!(mine[0]["text"], "fn main() {}");
    assert_eq!(mine[0]["language"], "rust");
    assert_eq!(mine[0]["extension"], "rs");
    assert_eq!(mine[0]["chat_conversation_message_id"], answer);
    assert_eq!(mine[0]["chat_conversation_id"], chat);
    assert_eq!(mine[0]["neptun_user_id"], owner.id);
    assert!(mine[1]["title"].is_null());
    assert!(mine[0]["created_at"].as_str().unwrap().ends_with('Z'));

    // Refused, nothing stored.
    let (other_message, _) = two_messages(app, owner, other_chat).await;
    let elsewhere = format!("{files}/{other_message}");
    let res = app
        .call(Method::POST, &elsewhere, &owner.session, Some(&one))
        .await;
    assert_error(res, 404, "Not Found. Message not found.").await;
    let res = app
        .call(
            Method::POST,
            &format!("{files}/x"),
            &owner.session,
            Some(&one),
        )
        .await;
    let body = assert_error(
        res,
        400,
        "Bad Request. Invalid route parameters(user_id | chat_id | message_id).",
    )
    .await;
    assert_eq!(body["data"]["issues"][0]["path"], json!(["message_id"]));
    for (bad, paths) in [
        (json!({"files": 5}), json!([["files"]])),
        (json!({"title": 3}), json!([["text"], ["title"]])),
        (
            json!({"files": [{"text": "a\u{0}"}, 7]}),
            json!([["files", 0, "text"], ["files", 1]]),
        ),
    ] {
        let res = app
            .call(Method::POST, &save, &owner.session, Some(&bad))
            .await;
        let body = assert_error(res, 400, "Bad Request. Invalid body(file | files).").await;
        let got: Vec<Value> = body["data"]["issues"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["path"].clone())
            .collect();
        assert_eq!(Value::from(got), paths, "{bad}");
    }
    let read = ok(app.call(Method::GET, &files, &owner.session, None).await).await;
    assert_eq!(read["chatFiles"].as_array().unwrap().len(), before + 3);
}
