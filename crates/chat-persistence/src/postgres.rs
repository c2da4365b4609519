//! The chat store on PostgreSQL: a deadpool of diesel-async connections.

use anyhow::Context as _;
use chat_domain::{
    Chat, ChatId, ChatMessage, ChatStore, CreateChatError, CreateUserError, EmailAddress,
    IsEmptyError, MessageBatch, NewChat, PostMessagesError, UserId,
};
use diesel::prelude::*;
use diesel::sql_types::{Array, Integer, Text};
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use secrecy::{ExposeSecret, SecretString};

use crate::DatabaseSettings;
use crate::fault::{Fault, create_chat_error, create_user_error};
use crate::migrate::run_postgres_migrations;
use crate::rows::{ChatRow, MessageRow, chat_columns, into_messages};
use crate::schema::postgres::{chat_conversation, neptun_user};

#[derive(Clone)]
pub struct PgStore {
    pool: Pool<AsyncPgConnection>,
    url: SecretString,
}

impl PgStore {
    /// Builds the pool. No connection is opened until one is needed, so the service starts (and
    /// answers 503) while the database is away, and heals when it is back.
    pub fn new(settings: &DatabaseSettings) -> anyhow::Result<Self> {
        let statement_timeout_ms = settings.statement_timeout.as_millis();
        let mut config = ManagerConfig::default();
        // Checked on every checkout, so a connection broken by a database restart is replaced
        // instead of failing a request.
        config.recycling_method = RecyclingMethod::Verified;
        config.custom_setup = Box::new(move |url| {
            let setup = format!(
                "SET application_name = 'chat-service'; \
                 SET statement_timeout = {statement_timeout_ms}; \
                 SET TIME ZONE 'UTC';"
            );
            Box::pin(async move {
                let mut conn = AsyncPgConnection::establish(url).await?;
                conn.batch_execute(&setup)
                    .await
                    .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                Ok(conn)
            })
        });
        let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(
            settings.url.expose_secret(),
            config,
        );
        let pool = Pool::builder(manager)
            .max_size(settings.pool_size)
            .wait_timeout(Some(settings.pool_wait))
            .create_timeout(Some(settings.connect_timeout))
            .recycle_timeout(Some(settings.connect_timeout))
            .runtime(deadpool::Runtime::Tokio1)
            .build()
            .context("building the PostgreSQL pool")?;
        Ok(Self {
            pool,
            url: settings.url.clone(),
        })
    }

    /// Applies the pending migrations (on a connection of its own); returns the versions applied.
    pub async fn migrate(&self) -> anyhow::Result<Vec<String>> {
        run_postgres_migrations(&self.url).await
    }

    async fn conn(&self) -> Result<Object<AsyncPgConnection>, Fault> {
        Ok(self.pool.get().await?)
    }
}

/// One statement, so one transaction: it takes the chat row only if it is the owner's (locking
/// it, which orders concurrent writers to one chat), moves its `updated_at`, and inserts the
/// messages in request order (`WITH ORDINALITY`), all stamped with the transaction's `now()`.
/// No chat, no rows: the caller tells "not found" from the empty result.
const APPEND_MESSAGES: &str = "\
WITH chat AS (
    UPDATE chat_conversation SET updated_at = now()
    WHERE id = $1 AND neptun_user_id = $2
    RETURNING id, neptun_user_id
)
INSERT INTO chat_conversation_message
    (message, actor, neptun_user_id, chat_conversation_id, created_at, updated_at)
SELECT m.message, m.actor, chat.neptun_user_id, chat.id, now(), now()
FROM chat CROSS JOIN unnest($3::text[], $4::text[]) WITH ORDINALITY AS m (message, actor, ord)
ORDER BY m.ord
RETURNING id, message, actor, neptun_user_id, chat_conversation_id, created_at, updated_at";

impl ChatStore for PgStore {
    async fn append_messages(
        &self,
        owner: UserId,
        chat: ChatId,
        batch: &MessageBatch,
    ) -> Result<Vec<ChatMessage>, PostMessagesError> {
        let (texts, actors): (Vec<&str>, Vec<&str>) = batch
            .messages()
            .iter()
            .map(|m| (m.text.as_str(), m.actor.as_str()))
            .unzip();
        let mut conn = self.conn().await?;
        let rows: Vec<MessageRow> = diesel::sql_query(APPEND_MESSAGES)
            .bind::<Integer, _>(chat.get())
            .bind::<Integer, _>(owner.get())
            .bind::<Array<Text>, _>(texts)
            .bind::<Array<Text>, _>(actors)
            .load(&mut conn)
            .await
            .map_err(Fault::from)?;
        if rows.is_empty() {
            return Err(PostMessagesError::ChatNotFound { owner, chat });
        }
        into_messages(rows).map_err(PostMessagesError::Unknown)
    }

    async fn create_user(&self, email: &EmailAddress) -> Result<UserId, CreateUserError> {
        let mut conn = self.conn().await?;
        let id: i32 = diesel::insert_into(neptun_user::table)
            .values(neptun_user::primary_email.eq(email.as_str()))
            .returning(neptun_user::id)
            .get_result(&mut conn)
            .await
            .map_err(|e| create_user_error(e, email))?;
        UserId::new(id.into())
            .context("the database gave a user id out of range")
            .map_err(CreateUserError::Unknown)
    }

    async fn create_chat(&self, chat: &NewChat) -> Result<Chat, CreateChatError> {
        let mut conn = self.conn().await?;
        let row: ChatRow = diesel::insert_into(chat_conversation::table)
            .values((
                chat_conversation::name.eq(chat.name.as_str()),
                chat_conversation::model.eq(chat.model.as_str()),
                chat_conversation::neptun_user_id.eq(chat.owner.get()),
            ))
            .returning(chat_columns!(chat_conversation))
            .get_result(&mut conn)
            .await
            .map_err(|e| create_chat_error(e, chat))?;
        Chat::try_from(row).map_err(CreateChatError::Unknown)
    }

    async fn is_empty(&self) -> Result<bool, IsEmptyError> {
        let mut conn = self.conn().await?;
        let any: Option<i32> = neptun_user::table
            .select(neptun_user::id)
            .first(&mut conn)
            .await
            .optional()
            .map_err(Fault::from)?;
        Ok(any.is_none())
    }
}
