//! A chat's code blocks ("files") and shares, as the app's front end uses them: the bodies it
//! sends and the fields it reads (useDashboard's Code Blocks panel and its saves, ShareDialog,
//! the public page of a shared chat). Written once, run on both backends here and on the app's
//! own database in `adopt.rs`.

use base64::Engine as _;
use reqwest::Method;
use reqwest::header::AUTHORIZATION;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_error, spawn_app};

/// Someone with a session: their id and cookie.
pub struct Person {
    pub id: i32,
    pub session: String,
}

impl Person {
    pub fn of(app: &TestApp, id: i32) -> Self {
        Self {
            id,
            session: app.session(id),
        }
    }
}

pub async fn ok(res: reqwest::Response) -> Value {
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

fn basic(password: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!(":{password}"));
    format!("Basic {encoded}")
}

/// The public page's read: with a password (Basic, empty user name) and a session, if given.
async fn read_shared(
    app: &TestApp,
    uuid: &str,
    password: Option<&str>,
    session: Option<&str>,
) -> reqwest::Response {
    let mut req = app
        .client
        .get(format!("{}/api/shared/chats/{uuid}", app.address));
    if let Some(password) = password {
        req = req.header(AUTHORIZATION, basic(password));
    }
    if let Some(session) = session {
        req = req.header(reqwest::header::COOKIE, format!("neptun-session={session}"));
    }
    req.send().await.unwrap()
}

/// A refusal of the public page, with the share's state as the page reads it.
async fn refused(res: reqwest::Response, status: u16, message: &str) -> Value {
    assert_eq!(res.status().as_u16(), status);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["statusMessage"], message, "{body}");
    body["data"]["shareInfo"].clone()
}

/// ShareDialog's calls, then the public page's reads under each protection. Returns the share's
/// uuid.
pub async fn a_chat_is_published_and_read_as_the_app_protects_it(
    app: &TestApp,
    owner: &Person,
    chat: i32,
    reader: (&Person, &str),
    stranger: &Person,
) -> String {
    let (reader, reader_email) = reader;
    let shares = format!("/api/users/{}/chats/{chat}/shares", owner.id);
    assert!(
        ok(app.call(Method::GET, &shares, &owner.session, None).await)
            .await
            .is_null()
    );
    crate::sharing_files::two_messages(app, owner, chat).await;

    let open = json!({"is_shared": true, "is_protected": false});
    let created = ok(app
        .call(Method::POST, &shares, &owner.session, Some(&open))
        .await)
    .await;
    let share = created["share"].clone();
    let uuid = share["share_uuid"].as_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&uuid).is_ok(), "{share}");
    assert!(
        share.get("hashed_password").is_none(),
        "the password never goes back"
    );
    assert_eq!(
        ok(app.call(Method::GET, &shares, &owner.session, None).await).await,
        json!(uuid)
    );

    let page = ok(read_shared(app, &uuid, None, None).await).await;
    // The chat's messages, oldest first: the last two are those just posted.
    let messages = page["chatMessages"].as_array().unwrap();
    let last = &messages[messages.len() - 2..];
    assert_eq!(
        (last[0]["message"].as_str(), last[0]["actor"].as_str()),
        (Some("Write main"), Some("user"))
    );
    assert!(last[0]["id"].as_i64() < last[1]["id"].as_i64());
    assert_eq!(page["shareInfo"]["shareIsPrivate"], false);

    // A password: the same share (a chat has one), now private.
    let locked = json!({"is_shared": true, "is_protected": true, "hashed_password": "s3cret"});
    let changed = ok(app
        .call(Method::POST, &shares, &owner.session, Some(&locked))
        .await)
    .await;
    assert_eq!(changed["share"]["id"], share["id"]);
    let info = refused(
        read_shared(app, &uuid, None, None).await,
        401,
        "Unauthorized (incorrect credentials)",
    )
    .await;
    assert_eq!(
        (
            info["shareIsPrivate"].as_bool(),
            info["shareHasPassword"].as_bool()
        ),
        (Some(true), Some(true))
    );
    refused(
        read_shared(app, &uuid, Some("wrong"), None).await,
        401,
        "Unauthorized (incorrect credentials)",
    )
    .await;
    ok(read_shared(app, &uuid, Some("s3cret"), None).await).await;

    // A whitelist: the owner and the reader; an address no one has is skipped silently.
    let list = format!("{shares}/{}/whitelist-entries", share["id"]);
    let emails = json!([reader_email, "nobody@example.com"]);
    let entries = ok(app
        .call(Method::POST, &list, &owner.session, Some(&emails))
        .await)
    .await;
    let mut users: Vec<i64> = entries["shareWhitelistEntries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["whitelisted_neptun_user_id"].as_i64().unwrap())
        .collect();
    users.sort_unstable();
    let mut expected = vec![i64::from(owner.id), i64::from(reader.id)];
    expected.sort_unstable();
    assert_eq!(users, expected);
    let again = ok(app
        .call(Method::POST, &list, &owner.session, Some(&emails))
        .await)
    .await;
    assert_eq!(
        again["shareWhitelistEntries"], entries["shareWhitelistEntries"],
        "none twice"
    );

    let res = read_shared(app, &uuid, Some("s3cret"), None).await;
    assert_error(res, 401, "Unauthorized.").await;
    ok(read_shared(app, &uuid, Some("s3cret"), Some(&reader.session)).await).await;
    let info = refused(
        read_shared(app, &uuid, Some("s3cret"), Some(&stranger.session)).await,
        403,
        "Forbidden (not on whitelist)",
    )
    .await;
    assert_eq!(info["shareHasWhitelist"], true);
    uuid
}

/// What the share routes refuse, and a share taken down.
pub async fn share_refusals(app: &TestApp, owner: &Person, chat: i32, uuid: &str) {
    let shares = format!("/api/users/{}/chats/{chat}/shares", owner.id);
    let res = app
        .call(
            Method::POST,
            &format!("{shares}/999999/whitelist-entries"),
            &owner.session,
            Some(&json!(["a@b.co"])),
        )
        .await;
    assert_error(res, 404, "Not Found. Share not found.").await;
    let share_id = ok(app
        .call(Method::POST, &shares, &owner.session, Some(&json!({})))
        .await)
    .await["share"]["id"]
        .clone();
    let list = format!("{shares}/{share_id}/whitelist-entries");
    for bad in [json!({"emails": []}), json!([]), json!(["x@y"]), json!([5])] {
        let res = app
            .call(Method::POST, &list, &owner.session, Some(&bad))
            .await;
        assert_error(res, 400, "Bad Request. Invalid body(e-mail addresses).").await;
    }
    let res = app
        .call(
            Method::POST,
            &shares,
            &owner.session,
            Some(&json!({"is_shared": "yes"})),
        )
        .await;
    assert_error(res, 400, "Bad Request. Invalid body({ is_shared?(true), is_protected?(false), hashed_password?(null) }).").await;

    let res = read_shared(app, "not-a-uuid", None, None).await;
    assert_error(res, 400, "Bad Request. Invalid route parameters(uuid).").await;
    let missing = uuid::Uuid::new_v4().to_string();
    let info = refused(
        read_shared(app, &missing, None, None).await,
        404,
        "Not Found (share not found)",
    )
    .await;
    assert_eq!(info["shareExists"], false);

    ok(app
        .call(
            Method::POST,
            &shares,
            &owner.session,
            Some(&json!({"is_shared": false})),
        )
        .await)
    .await;
    let info = refused(
        read_shared(app, uuid, None, None).await,
        404,
        "Not Found (share not active)",
    )
    .await;
    assert_eq!(
        (
            info["shareExists"].as_bool(),
            info["shareIsActive"].as_bool()
        ),
        (Some(true), Some(false))
    );
}

pub async fn files_and_shares_work(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = Person::of(&app, app.seed_user("owner@example.com").await);
    let reader = Person::of(&app, app.seed_user("reader@example.com").await);
    let stranger = Person::of(&app, app.seed_user("stranger@example.com").await);
    let chat = app.seed_chat(owner.id, "shared").await;
    let other_chat = app.seed_chat(owner.id, "other").await;
    crate::sharing_files::files_are_saved_and_read_as_the_front_end_does(
        &app, &owner, chat, other_chat,
    )
    .await;
    let uuid = a_chat_is_published_and_read_as_the_app_protects_it(
        &app,
        &owner,
        chat,
        (&reader, "reader@example.com"),
        &stranger,
    )
    .await;
    share_refusals(&app, &owner, chat, &uuid).await;

    // Another user's chat, files and shares are out of reach.
    let theirs = format!("/api/users/{}/chats/{chat}", owner.id);
    for path in ["/files", "/shares"] {
        let res = app
            .call(
                Method::GET,
                &format!("{theirs}{path}"),
                &stranger.session,
                None,
            )
            .await;
        assert_error(res, 403, "Forbidden.").await;
        let mine = format!("/api/users/{}/chats/{chat}{path}", stranger.id);
        let res = app.call(Method::GET, &mine, &stranger.session, None).await;
        assert_error(res, 404, "Not Found. Chat not found.").await;
    }
}

crate::on_both_backends!(files_and_shares_work);
