//! The harness: the real application, started on port 0 against a fresh PostgreSQL database per
//! test (dropped again when the test ends, even when it fails). Data is seeded with plain SQL,
//! as other teams' suites do. Logs are off unless `TEST_LOG` is set.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Once;

use actix_web::dev::ServerHandle;
use chat_domain::UserId;
use chat_service::settings::{AppEnv, Settings};
use chat_service::startup::{Application, sessions};
use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Integer, Text, Timestamptz};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use reqwest::header::{CONTENT_TYPE, COOKIE};
use serde_json::Value;

/// The test role's URL, set by `scripts/test`.
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .expect("TEST_DATABASE_URL is not set: run the tests with ./scripts/test")
}

pub struct TestDb {
    pub name: String,
    pub url: String,
    admin_url: String,
}

impl TestDb {
    pub async fn create() -> Self {
        let admin_url = admin_url();
        let name = format!("chat_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = AsyncPgConnection::establish(&admin_url)
            .await
            .expect("connecting to TEST_DATABASE_URL");
        // UTF8 whatever the cluster's default; C collation is valid with any cluster locale.
        diesel::sql_query(format!(
            r#"CREATE DATABASE "{name}" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"#
        ))
            .execute(&mut conn)
            .await
            .expect("creating the test database");
        let mut url = reqwest::Url::parse(&admin_url).expect("TEST_DATABASE_URL is a URL");
        url.set_path(&name);
        Self {
            name,
            url: url.to_string(),
            admin_url,
        }
    }

    pub async fn conn(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(&self.url)
            .await
            .expect("connecting to the test database")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop cannot await; a thread with its own runtime can, even while the test's runtime
        // is shutting down or unwinding.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                let mut conn = AsyncPgConnection::establish(&admin_url).await?;
                diesel::sql_query(format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#))
                    .execute(&mut conn)
                    .await?;
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test database {}", self.name);
        }
    }
}

pub struct TestApp {
    pub address: String,
    pub settings: Settings,
    pub client: reqwest::Client,
    handle: ServerHandle,
    // Dropped last: the server's connections go first.
    pub db: TestDb,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // The stop command is sent at once; the future only waits for it to complete.
        drop(self.handle.stop(false));
    }
}

static LOGS: Once = Once::new();

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts the app with configuration variables on top of `config/test.toml` (`APP__...`,
/// `DATABASE_URL`, `NUXT_SESSION_PASSWORD`).
pub async fn spawn_app_with(vars: &[(&str, &str)]) -> TestApp {
    LOGS.call_once(|| {
        if std::env::var("TEST_LOG").is_ok() {
            chat_service::telemetry::init(chat_service::settings::LogFormat::Text);
        }
    });
    let db = TestDb::create().await;
    let mut env: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    env.entry("APP__DATABASE__URL".into())
        .or_insert_with(|| db.url.clone());
    let config_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config");
    let settings = Settings::load(&config_dir, AppEnv::Test, &env).expect("test settings");
    let app = Application::build(&settings)
        .await
        .expect("building the app");
    let address = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        settings,
        client: reqwest::Client::new(),
        handle,
        db,
    }
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = Integer)]
    id: i32,
}

#[derive(Debug, Clone, PartialEq, QueryableByName)]
pub struct StoredMessage {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub message: String,
    #[diesel(sql_type = Text)]
    pub actor: String,
    #[diesel(sql_type = Integer)]
    pub neptun_user_id: i32,
    #[diesel(sql_type = Integer)]
    pub chat_conversation_id: i32,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub updated_at: DateTime<Utc>,
}

#[derive(QueryableByName)]
struct TimeRow {
    #[diesel(sql_type = Timestamptz)]
    t: DateTime<Utc>,
}

impl TestApp {
    pub async fn sql(&self, sql: &str) {
        diesel::sql_query(sql)
            .execute(&mut self.db.conn().await)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    pub async fn seed_user(&self, email: &str) -> i32 {
        diesel::sql_query("INSERT INTO neptun_user (primary_email) VALUES ($1) RETURNING id")
            .bind::<Text, _>(email)
            .get_result::<IdRow>(&mut self.db.conn().await)
            .await
            .expect("seeding a user")
            .id
    }

    /// A user with a given id, as suites that seed fixed ids do.
    pub async fn seed_user_with_id(&self, id: i32) {
        diesel::sql_query("INSERT INTO neptun_user (id, primary_email) VALUES ($1, $2)")
            .bind::<Integer, _>(id)
            .bind::<Text, _>(format!("user{id}@example.com"))
            .execute(&mut self.db.conn().await)
            .await
            .expect("seeding a user");
    }

    pub async fn seed_chat(&self, user: i32, name: &str) -> i32 {
        diesel::sql_query(
            "INSERT INTO chat_conversation (name, model, neptun_user_id) VALUES ($1, 'm', $2) \
             RETURNING id",
        )
        .bind::<Text, _>(name)
        .bind::<Integer, _>(user)
        .get_result::<IdRow>(&mut self.db.conn().await)
        .await
        .expect("seeding a chat")
        .id
    }

    /// A user with one chat: (user id, chat id).
    pub async fn seed_user_and_chat(&self) -> (i32, i32) {
        let user = self
            .seed_user(&format!("{}@example.com", uuid::Uuid::new_v4().simple()))
            .await;
        (user, self.seed_chat(user, "chat").await)
    }

    pub async fn messages(&self, chat: i32) -> Vec<StoredMessage> {
        diesel::sql_query(
            "SELECT id, message, actor, neptun_user_id, chat_conversation_id, created_at, \
             updated_at FROM chat_conversation_message WHERE chat_conversation_id = $1 ORDER BY id",
        )
        .bind::<Integer, _>(chat)
        .load(&mut self.db.conn().await)
        .await
        .expect("reading messages")
    }

    pub async fn all_messages_count(&self) -> usize {
        diesel::sql_query("SELECT id FROM chat_conversation_message")
            .load::<IdRowBig>(&mut self.db.conn().await)
            .await
            .expect("counting messages")
            .len()
    }

    pub async fn chat_updated_at(&self, chat: i32) -> DateTime<Utc> {
        diesel::sql_query("SELECT updated_at AS t FROM chat_conversation WHERE id = $1")
            .bind::<Integer, _>(chat)
            .get_result::<TimeRow>(&mut self.db.conn().await)
            .await
            .expect("reading a chat")
            .t
    }

    /// A session cookie value for `user`, sealed with the app's configured password.
    pub fn session(&self, user: i32) -> String {
        sessions(&self.settings)
            .mint(UserId::new(user.into()).expect("a valid user id"), None)
            .expect("minting a session")
    }

    pub fn messages_url(
        &self,
        user: impl std::fmt::Display,
        chat: impl std::fmt::Display,
    ) -> String {
        format!("{}/api/users/{user}/chats/{chat}/messages", self.address)
    }

    /// POSTs raw bytes with the given content type (none if `None`) and session cookie.
    pub async fn post_raw(
        &self,
        url: String,
        session: Option<&str>,
        content_type: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        let mut req = self.client.post(url).body(body);
        if let Some(session) = session {
            req = req.header(COOKIE, format!("neptun-session={session}"));
        }
        if let Some(content_type) = content_type {
            req = req.header(CONTENT_TYPE, content_type);
        }
        req.send().await.expect("sending the request")
    }

    /// POSTs `body` as JSON with the session in the cookie.
    pub async fn post_messages(
        &self,
        user: impl std::fmt::Display,
        chat: impl std::fmt::Display,
        session: &str,
        body: &Value,
    ) -> reqwest::Response {
        self.post_raw(
            self.messages_url(user, chat),
            Some(session),
            Some("application/json"),
            body.to_string(),
        )
        .await
    }
}

#[derive(QueryableByName)]
struct IdRowBig {
    #[diesel(sql_type = BigInt)]
    #[expect(dead_code, reason = "only counted")]
    id: i64,
}

/// Asserts the contract's error shape and status; returns the body. Every response carries a
/// request id.
pub async fn assert_error(res: reqwest::Response, status: u16, message: &str) -> Value {
    assert_eq!(res.status().as_u16(), status, "status");
    assert!(res.headers().contains_key("x-request-id"), "x-request-id");
    let body: Value = res.json().await.expect("a JSON body");
    assert_eq!(body["statusCode"], status, "{body}");
    assert_eq!(body["statusMessage"], message, "{body}");
    body
}

/// The issues of a 400 for an invalid body.
pub async fn body_issues(res: reqwest::Response) -> Vec<Value> {
    let body = assert_error(res, 400, "Bad Request. Invalid body(message | messages).").await;
    body["data"]["issues"].as_array().expect("issues").clone()
}
