//! What a platform needs: probes, `GET /`, HEAD, and stopping by signal with the requests in
//! flight finished.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use reqwest::Method;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::helpers::{Backend, assert_error, spawn_app, spawn_app_with};

pub async fn probes_say_live_and_ready(backend: Backend) {
    let app = spawn_app(backend).await;
    for (path, status) in [("/healthz", "ok"), ("/readyz", "ready")] {
        let res = app
            .client
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["status"], status);
    }
    // A schema this build does not expect (a migration missing) is not ready.
    app.sql(
        "DELETE FROM __diesel_schema_migrations WHERE version = \
         (SELECT max(version) FROM __diesel_schema_migrations)",
    )
    .await;
    let res = app
        .client
        .get(format!("{}/readyz", app.address))
        .send()
        .await
        .unwrap();
    assert_error(res, 503, "Service Unavailable.").await;
}

pub async fn head_works_wherever_get_does(backend: Backend) {
    let app = spawn_app(backend).await;
    let (user, chat) = app.seed_user_and_chat().await;
    for path in [
        "/".to_owned(),
        "/api/openapi.json".to_owned(),
        "/api/docs/".to_owned(),
        "/healthz".to_owned(),
        format!("/api/users/{user}/chats/{chat}/messages"),
    ] {
        let url = format!("{}{path}", app.address);
        let cookie = format!("neptun-session={}", app.session(user));
        let get = app
            .client
            .get(&url)
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        let head = app
            .client
            .head(&url)
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(head.status(), get.status(), "{path}");
        assert_eq!(
            head.headers()["content-length"],
            get.headers()["content-length"],
            "{path}"
        );
        assert!(head.bytes().await.unwrap().is_empty(), "{path}");
    }
    let res = app
        .call(
            Method::PUT,
            &format!("/api/users/{user}/chats/{chat}/messages"),
            "",
            None,
        )
        .await;
    assert_eq!(res.headers()["allow"], "GET, HEAD, POST");
}

pub async fn the_root_points_to_the_documentation(backend: Backend) {
    let app = spawn_app(backend).await;
    let body: serde_json::Value = reqwest::get(format!("{}/", app.address))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["docs"], "/api/docs/");
    assert_eq!(body["openapi"], "/api/openapi.json");
}

crate::on_both_backends!(
    probes_say_live_and_ready,
    head_works_wherever_get_does,
    the_root_points_to_the_documentation,
);

#[tokio::test]
async fn liveness_needs_no_database_and_readiness_does() {
    let app = spawn_app_with(
        Backend::Sqlite,
        &[
            (
                "APP__DATABASE__URL",
                "postgres://nobody:nothing@127.0.0.1:1/none",
            ),
            ("APP__DATABASE__MIGRATE_ON_START", "false"),
            ("APP__DATABASE__POOL_WAIT_MS", "300"),
            ("APP__DATABASE__CONNECT_TIMEOUT_MS", "300"),
        ],
    )
    .await;
    let live = reqwest::get(format!("{}/healthz", app.address))
        .await
        .unwrap();
    assert_eq!(live.status(), 200);
    let ready = reqwest::get(format!("{}/readyz", app.address))
        .await
        .unwrap();
    assert_eq!(ready.headers()["retry-after"], "1");
    assert_error(ready, 503, "Service Unavailable.").await;
}

/// SIGINT and SIGTERM both drain: a request whose body is still arriving when the signal
/// comes is finished and answered; then the process logs its last line and exits 0.
#[tokio::test]
async fn both_signals_drain_requests_in_flight() {
    for signal in ["INT", "TERM"] {
        drains_on(signal).await;
    }
}

async fn drains_on(signal: &str) {
    let dir = std::env::temp_dir().join(format!("chat-drain-{}", uuid::Uuid::new_v4()));
    let url = format!("sqlite://{}/chat.db", dir.display());
    let (user, chat, session) = seed_with_cli(&url);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = spawn_service(&url, port);
    let mut stream = connect(port).await;
    let body = r#"{"message": "in flight", "actor": "user"}"#;
    let head = format!(
        "POST /api/users/{user}/chats/{chat}/messages HTTP/1.1\r\nHost: t\r\n\
         Cookie: neptun-session={session}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body.as_bytes()[..5]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let kill = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status();
    assert!(kill.unwrap().success());
    tokio::time::sleep(Duration::from_millis(300)).await;
    stream.write_all(&body.as_bytes()[5..]).await.unwrap();

    let mut answer = vec![0; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut answer))
        .await
        .unwrap()
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 200"), "SIG{signal}: {answer}");
    let status = child.wait().unwrap();
    assert!(status.success(), "SIG{signal}: {status:?}");
    let logs: Vec<String> = BufReader::new(child.stderr.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .collect();
    assert!(
        logs.last().is_some_and(|l| l.contains("\"stopped\"")),
        "SIG{signal}: {logs:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A user, a chat of theirs and a session for them, made by the CLI on `url`.
fn seed_with_cli(url: &str) -> (String, String, String) {
    use crate::cli::{chat_service, stdout_of};
    let user = stdout_of(&chat_service(
        url,
        &["users", "create", "--email", "d@example.com"],
    ));
    let chat = stdout_of(&chat_service(
        url,
        &["chats", "create", "--user", &user, "--name", "drain"],
    ));
    let session = stdout_of(&chat_service(url, &["sessions", "mint", "--user", &user]));
    (user, chat, session)
}

/// The service's binary serving `url` on `port`, its JSON logs on a pipe.
fn spawn_service(url: &str, port: u16) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_chat-service"))
        .env("APP_ENV", "test")
        .env(
            "APP_CONFIG_DIR",
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config"),
        )
        .env("APP__DATABASE__URL", url)
        .env("APP__SERVER__PORT", port.to_string())
        .env("APP__LOG__FORMAT", "json")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// A connection to `port`, once something listens there (within 5 s).
async fn connect(port: u16) -> tokio::net::TcpStream {
    for _ in 0..100 {
        if let Ok(stream) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
            return stream;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the service did not listen on {port}");
}

async fn text(url: String) -> (u16, String) {
    let res = reqwest::get(url).await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test]
async fn metrics_are_served_in_prometheus_text() {
    let app = spawn_app(Backend::Sqlite).await;
    let (user, chat) = app.seed_user_and_chat().await;
    let hi = serde_json::json!({"message": "hi", "actor": "user"});
    app.post_messages(user, chat, &app.session(user), &hi).await;

    let (status, body) = text(format!("{}/metrics", app.address)).await;
    assert_eq!(status, 200);
    for expected in [
        "http_requests_total{method=\"POST\",route=\"/api/users/{user_id}/chats/{chat_id}/messages\",status=\"200\"}",
        "http_request_duration_seconds_bucket{",
        "db_operation_duration_seconds_count{operation=\"append_messages\"}",
        "db_pool_connections{state=\"in_use\"}",
        "db_pool_waiting_requests",
        "chat_service_build_info{version=\"",
    ] {
        assert!(body.contains(expected), "{expected} in:\n{body}");
    }
}

/// The value of the metric line that starts with `name ` in a Prometheus text body.
fn gauge(body: &str, name: &str) -> f64 {
    let line = body.lines().find(|l| l.starts_with(&format!("{name} ")));
    let value = line.and_then(|l| l.rsplit(' ').next()?.parse().ok());
    value.unwrap_or_else(|| panic!("{name} in:\n{body}"))
}

/// Split among two HTTP workers (a pool each), the pool opens no more than
/// `database.pool_size` connections, and reads that reach both workers at once are answered.
#[tokio::test]
async fn a_pool_split_among_workers_stays_within_its_size() {
    let vars = [
        ("APP__SERVER__WORKERS", "2"),
        ("APP__DATABASE__POOL_SIZE", "3"),
    ];
    let app = spawn_app_with(Backend::Postgres, &vars).await;
    let (user, chat) = app.seed_user_and_chat().await;
    let session = app.session(user);
    let hi = serde_json::json!({"message": "hi", "actor": "user"});
    app.post_messages(user, chat, &session, &hi).await;
    // A client each: a connection each, which actix spreads over its workers.
    let reads: Vec<_> = (0..24)
        .map(|_| {
            let request = reqwest::Client::new()
                .get(app.messages_url(user, chat))
                .header("cookie", format!("neptun-session={session}"));
            tokio::spawn(async move { request.send().await.map(|r| r.status().as_u16()) })
        })
        .collect();
    for read in reads {
        assert_eq!(read.await.unwrap().unwrap(), 200);
    }
    let (_, body) = text(format!("{}/metrics", app.address)).await;
    assert_eq!(gauge(&body, "db_pool_max_connections"), 3.0);
    let open = gauge(&body, "db_pool_connections{state=\"open\"}");
    assert!((1.0..=3.0).contains(&open), "{open} open");
}

/// Invented methods count as one label value, so no client can grow /metrics.
#[tokio::test]
async fn unknown_methods_do_not_grow_the_metrics() {
    let app = spawn_app(Backend::Sqlite).await;
    let client = reqwest::Client::new();
    for i in 0..50 {
        let method = reqwest::Method::from_bytes(format!("MXYZ{i}").as_bytes()).unwrap();
        let res = client
            .request(method, format!("{}/api/users/1/chats", app.address))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_client_error(), "{}", res.status());
    }
    let (_, body) = text(format!("{}/metrics", app.address)).await;
    assert!(!body.contains("MXYZ"), "{body}");
    assert!(body.contains("method=\"OTHER\""), "{body}");
}

#[tokio::test]
async fn metrics_can_have_an_address_of_their_own() {
    let app = spawn_app_with(Backend::Sqlite, &[("APP__METRICS__ADDRESS", "127.0.0.1:0")]).await;
    let metrics = app.metrics_address.clone().expect("a metrics address");
    let (status, body) = text(format!("{metrics}/metrics")).await;
    assert_eq!(status, 200);
    assert!(body.contains("db_pool_max_connections"), "{body}");
    let (status, _) = text(format!("{}/metrics", app.address)).await;
    assert_eq!(status, 404, "not on the API's address then");
}

/// The development defaults work from any folder, and a variable that names no setting is
/// warned about.
#[test]
fn the_binary_runs_from_any_folder_and_warns_of_unknown_variables() {
    let elsewhere = std::env::temp_dir();
    let out = Command::new(env!("CARGO_BIN_EXE_chat-service"))
        .args(["sessions", "mint", "--user", "1"])
        .current_dir(&elsewhere)
        .env_remove("APP_CONFIG_DIR")
        .env_remove("APP_ENV")
        .env_remove("NUXT_SESSION_PASSWORD")
        .env("APP__SERVER__PORTT", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("Fe26.2**"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("APP__SERVER__PORTT"), "{stderr}");
}

/// `chat-service healthcheck`, the container's health check: 0 while the service serves. It
/// needs only the port: in production without the session password or database it still runs.
#[tokio::test]
async fn the_healthcheck_command_asks_the_local_service() {
    let app = spawn_app(Backend::Sqlite).await;
    let run = |port: u16| {
        Command::new(env!("CARGO_BIN_EXE_chat-service"))
            .arg("healthcheck")
            .env_clear()
            .env("APP_ENV", "production")
            .env(
                "APP_CONFIG_DIR",
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config"),
            )
            .env("APP__SERVER__PORT", port.to_string())
            .output()
            .unwrap()
    };
    let port = app.address.rsplit_once(':').unwrap().1.parse().unwrap();
    let up = tokio::task::spawn_blocking(move || run(port))
        .await
        .unwrap();
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let down = tokio::task::spawn_blocking(move || run(free))
        .await
        .unwrap();
    assert!(!down.status.success());
}
