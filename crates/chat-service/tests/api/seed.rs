//! Seeding and inspecting the test's database with plain SQL, as other teams' suites do, and
//! through the service's own commands where the database lives in the app's process.

use chat_domain::{ChatName, EmailAddress, ModelName, NewChat};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::Integer;
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};

use crate::db::{Backend, TestConn, with_schema};
use crate::helpers::TestApp;

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
}
