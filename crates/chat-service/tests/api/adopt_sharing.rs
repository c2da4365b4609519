//! The routes the app's front end uses beyond messages and chats, on the app's own tables:
//! files and shares with the app's secret, and `system`, which the app's AI route refuses.

use diesel_async::SimpleAsyncConnection as _;
use serde_json::json;

use crate::adopt::{adopted_app_database, text};
use crate::helpers::{Backend, body_issues, spawn_app_with};
use crate::sharing::{Person, a_chat_is_published_and_read_as_the_app_protects_it, share_refusals};
use crate::sharing_files::files_are_saved_and_read_as_the_front_end_does;

/// Files and shares on the app's own tables, with its secret: e-mail addresses found by their
/// encryption as the app made it, the share's password kept as pgcrypto keeps it.
#[tokio::test]
async fn files_and_shares_work_on_the_apps_tables_with_its_secret() {
    let (db, mut conn) = adopted_app_database().await;
    conn.batch_execute(
        "INSERT INTO neptun_user (primary_email) \
         VALUES (encode(encrypt('carol@example.com', 'secret', 'aes'), 'hex'))",
    )
    .await
    .unwrap();
    let vars = [
        ("APP__DATABASE__URL", db.url()),
        ("CRYPTO_SECRET", "secret"),
    ];
    let app = spawn_app_with(Backend::Postgres, &vars).await;
    let (owner, bob, carol) = (
        Person::of(&app, 1),
        Person::of(&app, 2),
        Person::of(&app, 3),
    );
    files_are_saved_and_read_as_the_front_end_does(&app, &owner, 1, 2).await;
    let uuid = a_chat_is_published_and_read_as_the_app_protects_it(
        &app,
        &owner,
        5,
        (&bob, "bob@example.com"),
        &carol,
    )
    .await;
    let kept = text(
        &mut conn,
        &format!(
            "SELECT (hashed_password = encode(encrypt('s3cret', 'secret', 'aes'), 'hex'))::text \
             AS v FROM chat_conversation_share WHERE share_id = '{uuid}'"
        ),
    )
    .await;
    assert_eq!(kept, "true", "the password is kept as the app keeps it");
    share_refusals(&app, &owner, 5, &uuid).await;
}

/// `system` breaks the app's AI route on a chat that holds it: refused on the app's tables,
/// with the app's actors as the options, unless `database.app_system_actor` allows it.
#[tokio::test]
async fn system_is_refused_on_the_apps_tables_unless_allowed() {
    let (db, _conn) = adopted_app_database().await;
    let app = spawn_app_with(Backend::Postgres, &[("APP__DATABASE__URL", db.url())]).await;
    let session = app.session(1);
    let single = json!({"message": "be brief", "actor": "system"});
    let issues = body_issues(app.post_messages(1, 1, &session, &single).await).await;
    assert_eq!(issues[0]["code"], "invalid_enum_value");
    assert_eq!(issues[0]["options"], json!(["user", "assistant"]));
    assert_eq!(issues[0]["path"], json!(["actor"]));
    let batch = json!({"messages": [{"content": "hi", "role": "user"},
                                    {"content": "be brief", "role": "system"}]});
    let issues = body_issues(app.post_messages(1, 1, &session, &batch).await).await;
    assert_eq!(issues[0]["path"], json!(["messages", 1, "role"]));
    let user = json!({"message": "hi", "actor": "user"});
    assert_eq!(app.post_messages(1, 1, &session, &user).await.status(), 200);

    let allowed = [
        ("APP__DATABASE__URL", db.url()),
        ("APP__DATABASE__APP_SYSTEM_ACTOR", "true"),
    ];
    let app = spawn_app_with(Backend::Postgres, &allowed).await;
    assert_eq!(
        app.post_messages(1, 1, &session, &single).await.status(),
        200
    );
}
