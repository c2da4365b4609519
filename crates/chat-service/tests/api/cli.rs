//! The binary's commands, run as a user would run them.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};

use crate::helpers::{Backend, spawn_app};

fn chat_service(db_url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chat-service"))
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("NUXT_SESSION_PASSWORD")
        .env("APP_ENV", "test")
        .env(
            "APP_CONFIG_DIR",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config"),
        )
        .env("APP__DATABASE__URL", db_url)
        .output()
        .expect("running chat-service")
}

fn stdout_of(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .trim()
        .to_owned()
}

pub async fn users_chats_and_minted_sessions_work_with_the_api(backend: Backend) {
    let app = spawn_app(backend).await;
    let url = app.db.url().to_owned();

    let user = stdout_of(&chat_service(
        &url,
        &["users", "create", "--email", "cli@example.com"],
    ));
    let user: i32 = user.parse().expect("an id");
    let chat = stdout_of(&chat_service(
        &url,
        &[
            "chats",
            "create",
            "--user",
            &user.to_string(),
            "--name",
            "From the CLI",
            "--model",
            "llama3",
        ],
    ));
    let chat: i32 = chat.parse().expect("an id");
    let session = stdout_of(&chat_service(
        &url,
        &["sessions", "mint", "--user", &user.to_string()],
    ));
    assert!(session.starts_with("Fe26.2**"));

    let res = app
        .post_messages(
            user,
            chat,
            &session,
            &json!({"message": "from curl", "actor": "user"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["chatMessage"]["chat_conversation_id"], chat);
}

pub async fn cli_errors_are_reported_not_panicked(backend: Backend) {
    let app = spawn_app(backend).await;
    let url = app.db.url().to_owned();
    stdout_of(&chat_service(
        &url,
        &["users", "create", "--email", "twice@example.com"],
    ));

    for args in [
        &["users", "create", "--email", "twice@example.com"][..],
        &["users", "create", "--email", "not-an-email"],
        &["chats", "create", "--user", "999999", "--name", "x"],
        &["chats", "create", "--user", "0", "--name", "x"],
        &["chats", "create", "--user", "1", "--name", "   "],
        &["sessions", "mint", "--user=-3"],
    ] {
        let out = chat_service(&url, args);
        assert!(!out.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("chat-service:"), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

pub async fn migrate_is_idempotent(backend: Backend) {
    let app = spawn_app(backend).await;
    let out = chat_service(app.db.url(), &["migrate"]);
    stdout_of(&out);
    assert!(String::from_utf8_lossy(&out.stderr).contains("up to date"));
}

#[tokio::test]
async fn migrate_refuses_a_database_that_is_not_utf8() {
    let app = spawn_app(Backend::Postgres).await;
    let name = format!("{}_ascii", app.db.postgres_name());
    app.sql(&format!(
        r#"CREATE DATABASE "{name}" TEMPLATE template0 ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C'"#
    ))
    .await;
    let mut url = reqwest::Url::parse(app.db.url()).unwrap();
    url.set_path(&name);

    let out = chat_service(url.as_str(), &["migrate"]);

    app.sql(&format!(r#"DROP DATABASE "{name}" WITH (FORCE)"#))
        .await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs a UTF8 database"));
}

#[test]
fn minting_a_session_needs_no_database() {
    let out = Command::new(env!("CARGO_BIN_EXE_chat-service"))
        .args(["sessions", "mint", "--user", "5"])
        .env_clear()
        .env("APP_ENV", "test")
        .env(
            "APP_CONFIG_DIR",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config"),
        )
        .output()
        .unwrap();
    assert!(stdout_of(&out).starts_with("Fe26.2**"));
}

#[test]
fn production_refuses_to_start_without_its_secrets() {
    let run = |vars: &[(&str, &str)]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_chat-service"));
        cmd.args(["serve"])
            .env_clear()
            .env("APP_ENV", "production")
            .env(
                "APP_CONFIG_DIR",
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config"),
            );
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    assert!(run(&[("NUXT_SESSION_PASSWORD", &"p".repeat(32))]).contains("DATABASE_URL"));
    assert!(run(&[]).contains("NUXT_SESSION_PASSWORD"));
    assert!(
        run(&[("DATABASE_URL", "postgres://a@127.0.0.1:1/x")]).contains("NUXT_SESSION_PASSWORD")
    );
    assert!(
        run(&[
            ("DATABASE_URL", "postgres://a@127.0.0.1:1/x"),
            ("NUXT_SESSION_PASSWORD", "short")
        ])
        .contains("at least 32")
    );
}

crate::on_both_backends!(
    users_chats_and_minted_sessions_work_with_the_api,
    cli_errors_are_reported_not_panicked,
    migrate_is_idempotent,
);
