//! The chat store on PostgreSQL: a deadpool of diesel-async connections.

use anyhow::Context as _;
use chat_domain::{
    Actor, Chat, ChatCursor, ChatError, ChatId, ChatMessage, ChatName, ChatOrder, ChatStore,
    CreateChatError, CreateUserError, EmailAddress, MessageBatch, MessageId, MessageListQuery,
    NewChat, PostMessagesError, StoreError, UserId,
};
use chrono::{DateTime, Utc};
use diesel::pg::Pg;
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
use crate::queries::{chats_page_query, messages_page_query, owned_chat};
use crate::rows::{
    ChatRow, MessageRow, chat_columns, convert, id_actor_pairs, into_chat, into_messages,
    message_columns,
};
use crate::schema::postgres::{chat_conversation, chat_conversation_message, neptun_user};
use diesel::result::Error as DieselError;

/// Timestamps bind as themselves on PostgreSQL (see the SQLite adapter for why it differs).
fn pg_time(t: DateTime<Utc>) -> DateTime<Utc> {
    t
}

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

    async fn is_empty(&self) -> Result<bool, StoreError> {
        let mut conn = self.conn().await?;
        let any: Option<i32> = neptun_user::table
            .select(neptun_user::id)
            .first(&mut conn)
            .await
            .optional()
            .map_err(Fault::from)?;
        Ok(any.is_none())
    }

    async fn list_chats(
        &self,
        owner: UserId,
        order: ChatOrder,
        after: Option<&ChatCursor>,
        limit: usize,
    ) -> Result<Vec<Chat>, StoreError> {
        let mut conn = self.conn().await?;
        let rows: Vec<ChatRow> =
            chats_page_query!(postgres, Pg, pg_time, owner, order, after, limit)
                .load(&mut conn)
                .await
                .map_err(Fault::from)?;
        convert(rows).map_err(StoreError::Unknown)
    }

    async fn get_chat(&self, owner: UserId, chat: ChatId) -> Result<Chat, ChatError> {
        let mut conn = self.conn().await?;
        let row = owned_chat!(postgres, owner, chat)
            .select(chat_columns!(chat_conversation))
            .first::<ChatRow>(&mut conn)
            .await
            .optional()
            .map_err(Fault::from)?;
        into_chat(row, owner, chat)
    }

    async fn rename_chat(
        &self,
        owner: UserId,
        chat: ChatId,
        name: &ChatName,
    ) -> Result<Chat, ChatError> {
        let mut conn = self.conn().await?;
        let row = diesel::update(owned_chat!(postgres, owner, chat))
            .set((
                chat_conversation::name.eq(name.as_str()),
                chat_conversation::updated_at.eq(diesel::dsl::now),
            ))
            .returning(chat_columns!(chat_conversation))
            .get_result::<ChatRow>(&mut conn)
            .await
            .optional()
            .map_err(Fault::from)?;
        into_chat(row, owner, chat)
    }

    async fn delete_chat(&self, owner: UserId, chat: ChatId) -> Result<Chat, ChatError> {
        let mut conn = self.conn().await?;
        // The messages go with it: the foreign key cascades.
        let row = diesel::delete(owned_chat!(postgres, owner, chat))
            .returning(chat_columns!(chat_conversation))
            .get_result::<ChatRow>(&mut conn)
            .await
            .optional()
            .map_err(Fault::from)?;
        into_chat(row, owner, chat)
    }

    async fn delete_chats(&self, owner: UserId, chats: &[ChatId]) -> Result<u64, StoreError> {
        let ids: Vec<i32> = chats.iter().map(|c| c.get()).collect();
        let mut conn = self.conn().await?;
        let deleted = diesel::delete(
            chat_conversation::table
                .filter(chat_conversation::neptun_user_id.eq(owner.get()))
                .filter(chat_conversation::id.eq_any(ids)),
        )
        .execute(&mut conn)
        .await
        .map_err(Fault::from)?;
        Ok(deleted as u64)
    }

    async fn list_messages(
        &self,
        owner: UserId,
        chat: ChatId,
        query: &MessageListQuery,
        limit: usize,
    ) -> Result<Vec<ChatMessage>, ChatError> {
        let mut conn = self.conn().await?;
        let exists = owned_chat!(postgres, owner, chat)
            .select(chat_conversation::id)
            .first::<i32>(&mut conn)
            .await
            .optional()
            .map_err(Fault::from)?;
        if exists.is_none() {
            return Err(ChatError::ChatNotFound { owner, chat });
        }
        let rows: Vec<MessageRow> = messages_page_query!(postgres, Pg, chat, query, limit)
            .load(&mut conn)
            .await
            .map_err(Fault::from)?;
        convert(rows).map_err(ChatError::Unknown)
    }

    async fn delete_messages_where(
        &self,
        owner: UserId,
        chat: ChatId,
        choose: fn(&[(MessageId, Actor)]) -> Vec<MessageId>,
    ) -> Result<Vec<ChatMessage>, ChatError> {
        use chat_conversation_message as m;
        let mut conn = self.conn().await?;
        let deleted = conn
            .transaction(
                async |conn| -> Result<Option<Vec<MessageRow>>, DieselError> {
                    // Locks the chat: writers to it wait until this is done.
                    let locked = owned_chat!(postgres, owner, chat)
                        .select(chat_conversation::id)
                        .for_update()
                        .first::<i32>(conn)
                        .await
                        .optional()?;
                    if locked.is_none() {
                        return Ok(None);
                    }
                    let pairs: Vec<(i64, String)> = m::table
                        .filter(m::chat_conversation_id.eq(chat.get()))
                        .select((m::id, m::actor))
                        .order(m::id.asc())
                        .load(conn)
                        .await?;
                    let ids: Vec<i64> = choose(&id_actor_pairs(pairs)?)
                        .into_iter()
                        .map(MessageId::get)
                        .collect();
                    if ids.is_empty() {
                        return Ok(Some(Vec::new()));
                    }
                    let rows = diesel::delete(m::table.filter(m::id.eq_any(ids)))
                        .returning(message_columns!(m))
                        .get_results(conn)
                        .await?;
                    diesel::update(chat_conversation::table.find(chat.get()))
                        .set(chat_conversation::updated_at.eq(diesel::dsl::now))
                        .execute(conn)
                        .await?;
                    Ok(Some(rows))
                },
            )
            .await
            .map_err(Fault::from)?;
        let rows = deleted.ok_or(ChatError::ChatNotFound { owner, chat })?;
        into_messages(rows).map_err(ChatError::Unknown)
    }
}
