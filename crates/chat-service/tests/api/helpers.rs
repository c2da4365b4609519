//! The harness: the real application, started on port 0 against a fresh database per test, on
//! PostgreSQL or SQLite (dropped again when the test ends, even when it fails). Data is seeded
//! with plain SQL, as other teams' suites do. Logs are off unless `TEST_LOG` is set.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Once;

use actix_web::dev::ServerHandle;
use chat_domain::UserId;
use chat_domain::{ChatName, EmailAddress, ModelName, NewChat};
use chat_service::settings::{AppEnv, Settings};
use chat_service::startup::{Application, Service, sessions};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::Integer;
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use reqwest::header::{CONTENT_TYPE, COOKIE};
use serde_json::Value;

/// The backends every API test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// Runs each listed test (an `async fn(Backend)` of the calling module) once per backend, as
/// `<module>::postgres::<test>` and `<module>::sqlite::<test>`.
#[macro_export]
macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {
        mod postgres {
            $(
                #[tokio::test]
                async fn $test() {
                    super::$test($crate::helpers::Backend::Postgres).await
                }
            )*
        }
        mod sqlite {
            $(
                #[tokio::test]
                async fn $test() {
                    super::$test($crate::helpers::Backend::Sqlite).await
                }
            )*
        }
    };
}

/// The test role's URL, set by `scripts/test`.
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .expect("TEST_DATABASE_URL is not set: run the tests with ./scripts/test")
}

/// A fresh database for one test: a PostgreSQL database, or an SQLite file in a folder of its
/// own. Dropped when the test ends, even when it fails.
pub enum TestDb {
    Postgres {
        name: String,
        url: String,
        admin_url: String,
    },
    Sqlite {
        dir: PathBuf,
        url: String,
    },
}

/// A connection of the test's own, to seed and inspect the database as other suites do.
#[expect(
    clippy::large_enum_variant,
    reason = "a few short-lived connections per test; boxing would only add noise"
)]
pub enum TestConn {
    Postgres(AsyncPgConnection),
    Sqlite(SyncConnectionWrapper<SqliteConnection>),
}

/// Runs `$body` with `$c` bound to the connection and `$s` to that backend's diesel schema.
macro_rules! with_schema {
    ($conn:expr, |$c:ident, $s:ident| $body:expr) => {
        match $conn {
            TestConn::Postgres($c) => {
                use chat_persistence::schema::postgres as $s;
                $body
            }
            TestConn::Sqlite($c) => {
                use chat_persistence::schema::sqlite as $s;
                $body
            }
        }
    };
}

impl TestDb {
    pub async fn create(backend: Backend) -> Self {
        let id = uuid::Uuid::new_v4().simple();
        match backend {
            Backend::Postgres => {
                let admin_url = admin_url();
                let name = format!("chat_test_{id}");
                let mut conn = AsyncPgConnection::establish(&admin_url)
                    .await
                    .expect("connecting to TEST_DATABASE_URL");
                // UTF8 whatever the cluster's default; C collation is valid with any locale.
                diesel::sql_query(format!(
                    r#"CREATE DATABASE "{name}" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"#
                ))
                .execute(&mut conn)
                .await
                .expect("creating the test database");
                let mut url = reqwest::Url::parse(&admin_url).expect("TEST_DATABASE_URL is a URL");
                url.set_path(&name);
                Self::Postgres {
                    name,
                    url: url.to_string(),
                    admin_url,
                }
            }
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(format!("chat-service-test-{id}"));
                std::fs::create_dir_all(&dir).expect("creating the test folder");
                let url = format!("sqlite://{}", dir.join("chat.db").display());
                Self::Sqlite { dir, url }
            }
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Self::Postgres { .. } => Backend::Postgres,
            Self::Sqlite { .. } => Backend::Sqlite,
        }
    }

    /// The PostgreSQL database's name (for `pg_stat_activity` and the like).
    pub fn postgres_name(&self) -> &str {
        match self {
            Self::Postgres { name, .. } => name,
            Self::Sqlite { .. } => panic!("an SQLite test has no PostgreSQL database"),
        }
    }

    pub fn url(&self) -> &str {
        match self {
            Self::Postgres { url, .. } | Self::Sqlite { url, .. } => url,
        }
    }

    pub async fn conn(&self) -> TestConn {
        match self {
            Self::Postgres { url, .. } => TestConn::Postgres(
                AsyncPgConnection::establish(url)
                    .await
                    .expect("connecting to the test database"),
            ),
            Self::Sqlite { url, .. } => {
                let path = url.trim_start_matches("sqlite://");
                let mut conn = SyncConnectionWrapper::<SqliteConnection>::establish(path)
                    .await
                    .expect("opening the test database");
                conn.batch_execute("PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;")
                    .await
                    .expect("configuring the test connection");
                TestConn::Sqlite(conn)
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match self {
            Self::Sqlite { dir, .. } => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Self::Postgres {
                name, admin_url, ..
            } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop cannot await; a thread with its own runtime can, even while the test's
                // runtime is shutting down or unwinding.
                let dropped = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()?;
                    rt.block_on(async {
                        let mut conn = AsyncPgConnection::establish(&admin_url).await?;
                        diesel::sql_query(format!(
                            r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#
                        ))
                        .execute(&mut conn)
                        .await?;
                        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
                    })
                })
                .join();
                if !matches!(dropped, Ok(Ok(()))) {
                    eprintln!("could not drop a test database");
                }
            }
        }
    }
}

pub struct TestApp {
    pub address: String,
    /// `http://...` of `metrics.address`, when the test set one.
    pub metrics_address: Option<String>,
    pub backend: Backend,
    pub service: actix_web::web::Data<Service>,
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

/// The service's logs on stderr, once per test binary, if `TEST_LOG` is set.
pub fn init_logs() {
    LOGS.call_once(|| {
        if std::env::var("TEST_LOG").is_ok() {
            chat_service::telemetry::init(chat_service::settings::LogFormat::Text);
        }
    });
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, &[]).await
}

/// Starts the app on `backend` with configuration variables on top of `config/test.toml`
/// (`APP__...`, `DATABASE_URL`, `NUXT_SESSION_PASSWORD`).
pub async fn spawn_app_with(backend: Backend, vars: &[(&str, &str)]) -> TestApp {
    spawn_app_on(TestDb::create(backend).await, vars).await
}

/// [`spawn_app_with`] on a database the test made (to reach it some other way than its URL).
pub async fn spawn_app_on(db: TestDb, vars: &[(&str, &str)]) -> TestApp {
    init_logs();
    let backend = db.backend();
    let mut env: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    env.entry("APP__DATABASE__URL".into())
        .or_insert_with(|| db.url().to_owned());
    let config_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config");
    let settings = Settings::load(&config_dir, AppEnv::Test, &env).expect("test settings");
    let app = Application::build(&settings)
        .await
        .expect("building the app");
    let address = format!("http://127.0.0.1:{}", app.port());
    let metrics_address = app.metrics_address().map(|a| format!("http://{a}"));
    let handle = app.handle();
    let service = app.service();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        metrics_address,
        backend,
        service,
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

/// A stored message, read positionally from either backend.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct StoredMessage {
    pub id: i64,
    pub message: String,
    pub actor: String,
    pub neptun_user_id: i32,
    pub chat_conversation_id: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// SQL text as a literal, for seeding statements that both backends accept verbatim.
fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

impl TestApp {
    /// Runs SQL on the test database (the caller writes it for `self.backend`).
    pub async fn sql(&self, sql: &str) {
        let result = match &mut self.db.conn().await {
            TestConn::Postgres(c) => diesel::sql_query(sql).execute(c).await,
            TestConn::Sqlite(c) => diesel::sql_query(sql).execute(c).await,
        };
        result.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    async fn insert_returning_id(&self, sql: &str) -> i32 {
        let row: Result<IdRow, _> = match &mut self.db.conn().await {
            TestConn::Postgres(c) => diesel::sql_query(sql).get_result(c).await,
            TestConn::Sqlite(c) => diesel::sql_query(sql).get_result(c).await,
        };
        row.unwrap_or_else(|e| panic!("{sql}: {e}")).id
    }

    pub async fn seed_user(&self, email: &str) -> i32 {
        let email = quoted(email);
        self.insert_returning_id(&format!(
            "INSERT INTO neptun_user (primary_email) VALUES ({email}) RETURNING id"
        ))
        .await
    }

    /// A user with a given id, as suites that seed fixed ids do.
    pub async fn seed_user_with_id(&self, id: i32) {
        self.sql(&format!(
            "INSERT INTO neptun_user (id, primary_email) VALUES ({id}, 'user{id}@example.com')"
        ))
        .await;
    }

    pub async fn seed_chat(&self, user: i32, name: &str) -> i32 {
        let name = quoted(name);
        self.insert_returning_id(&format!(
            "INSERT INTO chat_conversation (name, model, neptun_user_id) \
             VALUES ({name}, 'm', {user}) RETURNING id"
        ))
        .await
    }

    /// A user with one chat: (user id, chat id).
    pub async fn seed_user_and_chat(&self) -> (i32, i32) {
        let user = self
            .seed_user(&format!("{}@example.com", uuid::Uuid::new_v4().simple()))
            .await;
        (user, self.seed_chat(user, "chat").await)
    }

    pub async fn messages(&self, chat: i32) -> Vec<StoredMessage> {
        with_schema!(&mut self.db.conn().await, |c, s| {
            use s::chat_conversation_message as m;
            m::table
                .filter(m::chat_conversation_id.eq(chat))
                .order(m::id)
                .select((
                    m::id,
                    m::message,
                    m::actor,
                    m::neptun_user_id,
                    m::chat_conversation_id,
                    m::created_at,
                    m::updated_at,
                ))
                .load(c)
                .await
        })
        .expect("reading messages")
    }

    pub async fn all_messages_count(&self) -> i64 {
        with_schema!(&mut self.db.conn().await, |c, s| {
            s::chat_conversation_message::table
                .count()
                .get_result(c)
                .await
        })
        .expect("counting messages")
    }

    pub async fn chat_updated_at(&self, chat: i32) -> DateTime<Utc> {
        with_schema!(&mut self.db.conn().await, |c, s| {
            use s::chat_conversation as cc;
            cc::table.find(chat).select(cc::updated_at).first(c).await
        })
        .expect("reading a chat")
    }

    /// Waits (up to 10 s) until `count_sql`, a PostgreSQL query of one `bigint` column `n`,
    /// satisfies `done`: for tests that must see the database reach a state, not guess a delay.
    pub async fn wait_for_postgres(&self, count_sql: &str, done: impl Fn(i64) -> bool) {
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let TestConn::Postgres(mut conn) = self.db.conn().await else {
            panic!("a PostgreSQL test")
        };
        for _ in 0..200 {
            let count: Count = diesel::sql_query(count_sql)
                .get_result(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("{count_sql}: {e}"));
            if done(count.n) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the database never reached the state: {count_sql}");
    }

    /// A connection of the test's that holds `chat`'s row lock until it commits.
    pub async fn lock_chat(&self, chat: i32) -> diesel_async::AsyncPgConnection {
        let TestConn::Postgres(mut locker) = self.db.conn().await else {
            panic!("a PostgreSQL test")
        };
        locker
            .batch_execute(&format!(
                "BEGIN; SELECT id FROM chat_conversation WHERE id = {chat} FOR UPDATE"
            ))
            .await
            .unwrap();
        locker
    }

    /// `pg_stat_activity` of the service's connections, filtered by `condition`.
    pub fn service_backends(&self, condition: &str) -> String {
        format!(
            "FROM pg_stat_activity WHERE datname = '{}' AND application_name = 'chat-service' \
             AND {condition}",
            self.db.postgres_name()
        )
    }

    /// Until a request of the service's waits for a row lock.
    pub async fn wait_for_a_lock_wait(&self) {
        let waiting = self.service_backends("wait_event_type = 'Lock'");
        self.wait_for_postgres(&format!("SELECT count(*) AS n {waiting}"), |n| n >= 1)
            .await;
    }

    /// Makes the database fail any insert of a message whose text is `text`, as a fault would.
    pub async fn fail_inserts_of(&self, text: &str) {
        let text = quoted(text);
        match self.backend {
            Backend::Postgres => {
                self.sql(&format!(
                    "CREATE FUNCTION fail_on_text() RETURNS trigger LANGUAGE plpgsql AS $$ \
                     BEGIN IF NEW.message = {text} THEN \
                     RAISE EXCEPTION 'injected failure: secret detail'; \
                     END IF; RETURN NEW; END $$"
                ))
                .await;
                self.sql(
                    "CREATE TRIGGER fail_on_text BEFORE INSERT ON chat_conversation_message \
                     FOR EACH ROW EXECUTE FUNCTION fail_on_text()",
                )
                .await;
            }
            Backend::Sqlite => {
                self.sql(&format!(
                    "CREATE TRIGGER fail_on_text BEFORE INSERT ON chat_conversation_message \
                     FOR EACH ROW WHEN NEW.message = {text} \
                     BEGIN SELECT RAISE(ABORT, 'injected failure: secret detail'); END"
                ))
                .await;
            }
        }
    }

    /// A user created through the app's own service (for databases only the app can reach).
    pub async fn service_create_user(&self, email: &str) -> i32 {
        let email = EmailAddress::new(email).expect("a valid e-mail");
        self.service
            .create_user(&email)
            .await
            .expect("creating a user")
            .get()
    }

    pub async fn service_create_chat(&self, user: i32) -> i32 {
        let chat = NewChat {
            owner: chat_domain::UserId::new(user.into()).expect("a valid user id"),
            name: ChatName::new("chat").expect("a valid name"),
            model: ModelName::new("m").expect("a valid model"),
        };
        self.service
            .create_chat(&chat)
            .await
            .expect("creating a chat")
            .id
            .get()
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

    /// Posts `body` to `chat`'s messages on a task of its own, for a request that will wait (on
    /// a lock, say) while the test goes on; the task ends with its status.
    pub fn spawn_post_messages(
        &self,
        user: i32,
        chat: i32,
        session: &str,
        body: &Value,
    ) -> tokio::task::JoinHandle<u16> {
        let request = self
            .client
            .post(self.messages_url(user, chat))
            .header(CONTENT_TYPE, "application/json")
            .header(COOKIE, format!("neptun-session={session}"))
            .body(body.to_string());
        tokio::spawn(async move {
            let res = request.send().await.expect("sending the request");
            res.status().as_u16()
        })
    }

    /// Sends `method` to `path` (under the app's address) with the session cookie and, if
    /// given, a JSON body.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        session: &str,
        body: Option<&Value>,
    ) -> reqwest::Response {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.address))
            .header(COOKIE, format!("neptun-session={session}"));
        if let Some(body) = body {
            req = req
                .header(CONTENT_TYPE, "application/json")
                .body(body.to_string());
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
