//! The app's own database (`docs/neptun-web.md`), adopted in place by `migrate`:
//! the app's tables, types and rows stay as they are, the app's queries keep working, and
//! rolling back leaves them in place.

use diesel::QueryableByName;
use diesel::sql_types::Text;
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};

use reqwest::Method;
use serde_json::{Value, json};

use crate::cli::{chat_service, stdout_of};
use crate::helpers::{Backend, TestApp, TestConn, TestDb, assert_error, spawn_app_with};

/// The app's schema, as docs/neptun-web.md describes it: integer ids from sequences, enum
/// types, timestamps without time zone that may be NULL, primary keys only, and the app's
/// tables of files and shares pointing at them.
const APP_SCHEMA: &str = "
CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE TYPE chat_conversation_message_actor_enum AS ENUM ('user', 'assistant');
CREATE TYPE ai_model_enum AS ENUM ('google/gemma-2-27b-it', 'qwen/Qwen2.5-72B-Instruct',
  'qwen/Qwen2.5-Coder-32B-Instruct', 'deepseek-ai/DeepSeek-R1-Distill-Qwen-32B',
  'mistralai/Mistral-Nemo-Instruct-2407', 'mistralai/Mistral-7B-Instruct-v0.3',
  'microsoft/Phi-3-mini-4k-instruct', 'cloudflare/llama-3.3-70b-instruct-fp8-fast',
  'openrouter/gemini-2.0-pro-exp-02-05', 'openrouter/deepseek-chat',
  'openrouter/llama-3.3-70b-instruct', 'ollama/rwkv-6-world');
CREATE SEQUENCE chat_user_id_seq AS integer;
CREATE TABLE neptun_user (
  id integer NOT NULL DEFAULT nextval('chat_user_id_seq') PRIMARY KEY,
  primary_email text NOT NULL UNIQUE,
  hashed_password text,
  created_at timestamp without time zone DEFAULT now(),
  updated_at timestamp without time zone DEFAULT now());
CREATE SEQUENCE chat_conversation_id_seq AS integer;
CREATE TABLE chat_conversation (
  id integer NOT NULL DEFAULT nextval('chat_conversation_id_seq') PRIMARY KEY,
  name text NOT NULL,
  model ai_model_enum NOT NULL,
  created_at timestamp without time zone DEFAULT now(),
  updated_at timestamp without time zone DEFAULT now(),
  neptun_user_id integer NOT NULL REFERENCES neptun_user (id) ON DELETE CASCADE);
CREATE SEQUENCE chat_conversation_message_id_seq AS integer;
CREATE TABLE chat_conversation_message (
  id integer NOT NULL DEFAULT nextval('chat_conversation_message_id_seq') PRIMARY KEY,
  message text NOT NULL,
  actor chat_conversation_message_actor_enum NOT NULL DEFAULT 'user',
  created_at timestamp without time zone DEFAULT now(),
  updated_at timestamp without time zone DEFAULT now(),
  neptun_user_id integer NOT NULL REFERENCES neptun_user (id) ON DELETE CASCADE,
  chat_conversation_id integer NOT NULL REFERENCES chat_conversation (id) ON DELETE CASCADE);
CREATE TABLE neptun_user_file (
  id serial PRIMARY KEY,
  title text,
  text text NOT NULL,
  language text DEFAULT 'text' NOT NULL,
  file_extension text DEFAULT 'txt' NOT NULL,
  created_at timestamp without time zone DEFAULT now(),
  updated_at timestamp without time zone DEFAULT now(),
  neptun_user_id integer NOT NULL REFERENCES neptun_user (id) ON DELETE CASCADE);
CREATE TABLE chat_conversation_file (
  id serial PRIMARY KEY,
  created_at timestamp without time zone DEFAULT now(),
  updated_at timestamp without time zone DEFAULT now(),
  neptun_user_id integer NOT NULL REFERENCES neptun_user (id) ON DELETE CASCADE,
  chat_conversation_id integer NOT NULL REFERENCES chat_conversation (id) ON DELETE CASCADE,
  chat_conversation_message_id integer NOT NULL
    REFERENCES chat_conversation_message (id) ON DELETE CASCADE,
  neptun_user_file_id integer NOT NULL REFERENCES neptun_user_file (id) ON DELETE CASCADE);
CREATE TABLE chat_conversation_share (
  id serial PRIMARY KEY,
  is_shared boolean DEFAULT true NOT NULL,
  share_id uuid DEFAULT gen_random_uuid() NOT NULL UNIQUE,
  is_protected boolean DEFAULT false NOT NULL,
  hashed_password text,
  created_at timestamp without time zone DEFAULT now(),
  updated_at timestamp without time zone DEFAULT now(),
  chat_conversation_id integer NOT NULL UNIQUE
    REFERENCES chat_conversation (id) ON DELETE CASCADE);
CREATE TABLE chat_conversation_share_whitelist_entry (
  id serial PRIMARY KEY,
  created_at timestamp without time zone DEFAULT now(),
  updated_at timestamp without time zone DEFAULT now(),
  whitelisted_neptun_user_id integer NOT NULL REFERENCES neptun_user (id) ON DELETE CASCADE,
  chat_conversation_share_id integer NOT NULL
    REFERENCES chat_conversation_share (id) ON DELETE CASCADE);
";

/// Rows as the app writes them: encrypted e-mails, enum values cast from untyped strings,
/// NULL timestamps on old rows, 60 chats, one of 150 messages.
const APP_ROWS: &str = "
INSERT INTO neptun_user (primary_email, hashed_password)
  SELECT encode(encrypt(convert_to(e, 'UTF8'), 'secret', 'aes'), 'hex'), crypt('pw', gen_salt('bf', 4))
  FROM (VALUES ('ada@example.com'), ('bob@example.com')) AS v (e);
INSERT INTO chat_conversation (name, model, neptun_user_id)
  SELECT 'chat ' || i, (enum_range(NULL::ai_model_enum))[1 + i % 12], 1
  FROM generate_series(1, 60) AS i;
UPDATE chat_conversation SET created_at = NULL, updated_at = NULL WHERE id % 7 = 0;
INSERT INTO chat_conversation_message (message, actor, neptun_user_id, chat_conversation_id)
  SELECT 'message ' || i, CASE WHEN i % 2 = 0 THEN 'assistant' ELSE 'user' END::text::chat_conversation_message_actor_enum, 1, 1
  FROM generate_series(1, 150) AS i;
UPDATE chat_conversation_message SET created_at = NULL WHERE id % 10 = 0;
INSERT INTO neptun_user_file (title, text, language, file_extension, neptun_user_id)
  VALUES ('main.rs', 'fn main() {}', 'rust', 'rs', 1);
INSERT INTO chat_conversation_file
  (neptun_user_id, chat_conversation_id, chat_conversation_message_id, neptun_user_file_id)
  VALUES (1, 1, 2, 1);
";

#[derive(QueryableByName)]
struct One {
    #[diesel(sql_type = Text)]
    v: String,
}

pub async fn text(conn: &mut AsyncPgConnection, sql: &str) -> String {
    diesel::sql_query(sql)
        .get_result::<One>(conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .v
}

/// A fingerprint of every row and every column type of the app's tables.
async fn fingerprint(conn: &mut AsyncPgConnection) -> String {
    let mut all = String::new();
    for table in [
        "neptun_user",
        "chat_conversation",
        "chat_conversation_message",
        "neptun_user_file",
        "chat_conversation_file",
        "chat_conversation_share",
        "chat_conversation_share_whitelist_entry",
    ] {
        all += &text(
            conn,
            &format!(
                "SELECT coalesce(md5(string_agg(t::text, '|' ORDER BY t.id)), '') AS v \
                 FROM {table} t"
            ),
        )
        .await;
    }
    all + &text(
        conn,
        "SELECT string_agg(table_name || '.' || column_name || ':' || data_type || ':' || \
         is_nullable, ',' ORDER BY table_name, column_name) AS v \
         FROM information_schema.columns WHERE table_schema = 'public' \
         AND table_name NOT LIKE 'chat_service_%' AND table_name NOT LIKE '%diesel%'",
    )
    .await
}

const SERVICE_INDEXES: &str = "SELECT count(*)::text AS v FROM pg_index i \
    JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indisvalid AND c.relname IN \
    ('chat_conversation_user_activity_idx', 'chat_conversation_message_chat_idx', \
     'chat_conversation_message_user_idx')";

/// What the app does on its database (APP-DATABASE.md, last section), which must still work.
const APP_QUERIES: &str = "
SELECT * FROM chat_conversation_message WHERE chat_conversation_id = 1 ORDER BY updated_at ASC;
SELECT * FROM chat_conversation WHERE neptun_user_id = 1 ORDER BY updated_at DESC, name DESC;
SELECT * FROM chat_conversation WHERE neptun_user_id = 1 ORDER BY name ASC, updated_at DESC;
INSERT INTO chat_conversation_message (message, actor, neptun_user_id, chat_conversation_id)
  VALUES ('q', 'user', 1, 1), ('a', 'assistant', 1, 1) RETURNING *;
UPDATE chat_conversation SET name = 'renamed', updated_at = '2024-03-20T10:00:00.000Z'
  WHERE id = 2 AND neptun_user_id = 1;
";

/// The app's database, built and seeded as the app has it, and a connection to it.
async fn app_database() -> (TestDb, AsyncPgConnection) {
    let db = TestDb::create(Backend::Postgres).await;
    let TestConn::Postgres(mut conn) = db.conn().await else {
        unreachable!("a PostgreSQL database")
    };
    conn.batch_execute(APP_SCHEMA)
        .await
        .expect("the app's schema");
    conn.batch_execute(APP_ROWS).await.expect("the app's rows");
    (db, conn)
}

#[tokio::test]
async fn the_apps_database_is_adopted_in_place_and_rolled_back_without_loss() {
    let (db, mut conn) = app_database().await;
    let before = fingerprint(&mut conn).await;

    // Adopted, then a no-op.
    stdout_of(&chat_service(db.url(), &["migrate"]));
    let again = chat_service(db.url(), &["migrate"]);
    stdout_of(&again);
    assert!(String::from_utf8_lossy(&again.stderr).contains("up to date"));

    assert_eq!(
        fingerprint(&mut conn).await,
        before,
        "rows and types unchanged"
    );
    assert_eq!(
        text(
            &mut conn,
            "SELECT enum_range(NULL::chat_conversation_message_actor_enum)::text AS v"
        )
        .await,
        "{user,assistant,system}"
    );
    assert_eq!(text(&mut conn, SERVICE_INDEXES).await, "3");
    conn.batch_execute(APP_QUERIES)
        .await
        .expect("the app's queries");
    conn.batch_execute(
        "INSERT INTO chat_conversation_message (message, actor, neptun_user_id, \
         chat_conversation_id) VALUES ('be brief', 'system', 1, 1)",
    )
    .await
    .expect("the new actor is accepted");

    // Rolled back: the service's indexes go, the app's tables and rows stay.
    let adopted = fingerprint(&mut conn).await;
    stdout_of(&chat_service(db.url(), &["migrate", "--revert"]));
    assert_eq!(fingerprint(&mut conn).await, adopted);
    assert_eq!(text(&mut conn, SERVICE_INDEXES).await, "0");
    conn.batch_execute(APP_QUERIES)
        .await
        .expect("the app's queries after rollback");
}

#[tokio::test]
async fn reverting_a_database_the_service_created_drops_its_tables() {
    let db = TestDb::create(Backend::Postgres).await;
    stdout_of(&chat_service(db.url(), &["migrate"]));
    stdout_of(&chat_service(db.url(), &["migrate", "--revert"]));
    let TestConn::Postgres(mut conn) = db.conn().await else {
        unreachable!("a PostgreSQL database")
    };
    assert_eq!(
        text(
            &mut conn,
            "SELECT coalesce(to_regclass('neptun_user')::text, 'gone') AS v"
        )
        .await,
        "gone"
    );
    stdout_of(&chat_service(db.url(), &["migrate"]));
}

/// The app's database, built and seeded as the app has it, then adopted.
pub async fn adopted_app_database() -> (TestDb, AsyncPgConnection) {
    let (db, conn) = app_database().await;
    stdout_of(&chat_service(db.url(), &["migrate"]));
    (db, conn)
}

async fn call(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> Value {
    let res = app
        .call(method.clone(), path, &app.session(1), body.as_ref())
        .await;
    assert_eq!(res.status(), 200, "{method} {path}");
    res.json().await.unwrap()
}

/// Every chat of user 1 in `order_by`, read 7 a page.
async fn all_chats(app: &TestApp, order_by: &str) -> Vec<i64> {
    let (mut ids, mut cursor) = (Vec::new(), String::new());
    for _ in 0..20 {
        let path = format!("/api/users/1/chats?order_by={order_by}&limit=7{cursor}");
        let page = call(app, Method::GET, &path, None).await;
        ids.extend(
            page["chats"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_i64().unwrap()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => return ids,
        }
    }
    panic!("{order_by}: more than 20 pages of 7 for 60 chats: {ids:?}");
}

#[tokio::test]
async fn every_route_works_on_the_apps_column_shapes() {
    let (db, _conn) = adopted_app_database().await;
    // `system` is allowed here: the columns' shapes are under test, not the app's AI route.
    let vars = [
        ("APP__DATABASE__URL", db.url()),
        ("APP__DATABASE__APP_SYSTEM_ACTOR", "true"),
    ];
    let app = spawn_app_with(Backend::Postgres, &vars).await;
    messages_work_on_the_apps_columns(&app).await;
    chats_work_on_the_apps_columns(&app).await;
    users_and_models_are_the_apps(&app, db.url()).await;
}

/// Integer ids, enum actors, NULL timestamps (read as the Unix epoch), the whole chat.
async fn messages_work_on_the_apps_columns(app: &TestApp) {
    let messages = "/api/users/1/chats/1/messages";
    let chat = call(app, Method::GET, messages, None).await;
    let all = chat["chatMessages"].as_array().unwrap();
    assert_eq!(all.len(), 150);
    assert_eq!(all[9]["created_at"], "1970-01-01T00:00:00.000Z");
    assert_eq!(all[1]["actor"], "assistant");

    let batch = json!({"messages": [{"content": "be brief", "role": "system"},
                                    {"content": "hi", "role": "user"}]});
    let posted = call(app, Method::POST, messages, Some(batch)).await;
    assert_eq!(posted["chatMessages"][0]["actor"], "system");
    let removed = call(app, Method::DELETE, &format!("{messages}/last"), None).await;
    assert_eq!(removed["chatMessages"].as_array().unwrap().len(), 3);
}

/// Chats with enum models and NULL timestamps, in any order, paged without loss; and written.
async fn chats_work_on_the_apps_columns(app: &TestApp) {
    let listed = call(app, Method::GET, "/api/users/1/chats", None).await;
    assert_eq!(listed["chats"].as_array().unwrap().len(), 60);
    for order_by in [
        "updated_at:asc,name:desc",
        "model:asc,created_at:desc",
        "name:asc",
    ] {
        let mut ids = all_chats(app, order_by).await;
        ids.sort_unstable();
        assert_eq!(ids, (1..=60).collect::<Vec<_>>(), "{order_by}");
    }

    let model = "openrouter/deepseek-chat";
    let new_chat = json!({"name": "new", "model": model});
    let created = call(app, Method::POST, "/api/users/1/chats", Some(new_chat)).await;
    assert_eq!(created["chat"]["model"], model);
    let chat = format!(
        "/api/users/1/chats/{}",
        created["chat"]["id"].as_i64().unwrap()
    );
    let renamed = call(app, Method::PATCH, &chat, Some(json!({"name": "renamed"}))).await;
    assert_eq!(renamed["chat"]["name"], "renamed");
    call(app, Method::DELETE, &chat, None).await;
    let two = json!({"chat_ids": [59, 60]});
    let deleted = call(app, Method::DELETE, "/api/users/1/chats", Some(two)).await;
    assert_eq!(deleted["deleted"], 2);
}

/// The CLI refuses to write a plain e-mail among the app's encrypted ones, and a model the
/// app's enum does not have is a 400 that lists the values it has.
async fn users_and_models_are_the_apps(app: &TestApp, url: &str) {
    let out = chat_service(url, &["users", "create", "--email", "new@example.com"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("encrypted") && stderr.contains("sign up through the app"),
        "{stderr}"
    );

    let res = app
        .call(
            Method::POST,
            "/api/users/1/chats",
            &app.session(1),
            Some(&json!({"name": "x", "model": "llama3"})),
        )
        .await;
    let body = assert_error(res, 400, "Bad Request. Invalid body(model, name).").await;
    let issue = &body["data"]["issues"][0];
    assert_eq!(issue["code"], "invalid_enum_value");
    assert_eq!(issue["path"], json!(["model"]));
    assert_eq!(issue["received"], "llama3");
    assert_eq!(issue["options"].as_array().unwrap().len(), 12);
}
