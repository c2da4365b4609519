//! The harness: the real application, started on port 0 against a fresh database per test
//! (see `db`), and the requests tests send it. Logs are off unless `TEST_LOG` is set.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Once;

use actix_web::dev::ServerHandle;
use chat_domain::UserId;
use chat_service::service::{Service, sessions};
use chat_service::settings::{AppEnv, Settings};
use chat_service::startup::Application;
use reqwest::header::{CONTENT_TYPE, COOKIE};
use serde_json::Value;

pub use crate::db::{Backend, TestConn, TestDb};

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
            // The log thread runs as long as the test binary.
            std::mem::forget(chat_service::telemetry::init(
                chat_service::settings::LogFormat::Text,
            ));
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

impl TestApp {
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
