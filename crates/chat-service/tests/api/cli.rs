//! The binary's commands, run as a user would run them.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};

use crate::helpers::{Backend, TestDb, spawn_app};

pub fn chat_service(db_url: &str, args: &[&str]) -> Output {
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

pub fn stdout_of(out: &Output) -> String {
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

/// Starts `chat-service serve` on port 0 and the database `db_url`; returns the process and what
/// it printed on stdout once it listens (stdout is read to its first blank line after a curl
/// command, or until the log says it listens).
/// A server process, killed (by its pid) when dropped, also when a test fails.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(env: &str, db_url: &str, extra: &[(&str, &str)]) -> (Running, String) {
    use std::io::BufRead as _;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_chat-service"));
    cmd.args(["serve"])
        .env_clear()
        .env("APP_ENV", env)
        .env(
            "APP_CONFIG_DIR",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config"),
        )
        .env("APP__DATABASE__URL", db_url)
        .env("APP__SERVER__PORT", "0")
        .env("APP__LOG__FORMAT", "json")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let mut child = Running(cmd.spawn().expect("starting chat-service"));
    let stderr = child.0.stderr.take().unwrap();
    // The "serving" log line comes before the demo (if any) is printed. The log pipe is closed
    // after it: the service must keep serving all the same.
    for line in std::io::BufReader::new(stderr).lines() {
        if line.expect("reading the log").contains("\"serving\"") {
            break;
        }
    }
    let mut printed = String::new();
    if env == "development" {
        let stdout = child.0.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut text = String::new();
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                let done = line.contains("-d '");
                text.push_str(&line);
                text.push('\n');
                if done {
                    break;
                }
            }
            let _ = tx.send(text);
        });
        printed = rx
            .recv_timeout(std::time::Duration::from_secs(5))
            .unwrap_or_default();
    }
    (child, printed)
}

#[tokio::test]
async fn the_first_run_in_development_seeds_a_demo_once_and_its_curl_works() {
    let db = TestDb::create(Backend::Sqlite).await;

    let (first, printed) = serve("development", db.url(), &[]);
    let url = printed
        .split('\'')
        .find(|part| part.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in: {printed}"))
        .to_owned();
    let cookie = printed
        .split('\'')
        .find_map(|part| part.strip_prefix("cookie: "))
        .unwrap_or_else(|| panic!("no cookie in: {printed}"))
        .to_owned();
    let res = reqwest::Client::new()
        .post(&url)
        .header("content-type", "application/json")
        .header("cookie", cookie)
        .body(r#"{"message": "Hello!", "actor": "user"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{printed}");
    drop(first);

    // The database is no longer empty: no second demo.
    let (_second, printed) = serve("development", db.url(), &[]);
    assert!(!printed.contains("curl"), "{printed}");
}

#[tokio::test]
async fn production_seeds_nothing() {
    let db = TestDb::create(Backend::Sqlite).await;
    let password = "a-production-password-of-32-characters";
    let extra = [
        ("NUXT_SESSION_PASSWORD", password),
        ("CRYPTO_SECRET", "a-production-secret"),
        ("APP__SERVER__HOST", "127.0.0.1"),
    ];
    drop(serve("production", db.url(), &extra));
    let out = chat_service(
        db.url(),
        &["users", "create", "--email", "first@example.com"],
    );
    assert_eq!(
        stdout_of(&out),
        "1",
        "the first user is the first row: nothing was seeded"
    );
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
    let secrets = [
        ("NUXT_SESSION_PASSWORD", &*"p".repeat(32)),
        ("CRYPTO_SECRET", "s"),
    ];
    assert!(run(&secrets).contains("DATABASE_URL"));
    // Everything missing is named at once.
    let both = run(&[]);
    assert!(
        ["NUXT_SESSION_PASSWORD", "DATABASE_URL", "CRYPTO_SECRET"]
            .iter()
            .all(|name| both.contains(name)),
        "{both}"
    );
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
