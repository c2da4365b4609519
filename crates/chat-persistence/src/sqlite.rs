//! The chat store on SQLite: the embedded default, so that the service runs with no database
//! server. A deadpool of diesel-async `SyncConnectionWrapper<SqliteConnection>`s; every
//! operation runs as sync diesel on the wrapped connection (`spawn_blocking`), because
//! diesel-async cannot build a multi-row insert for SQLite (diesel_async issue 277).

use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::Context as _;
use chat_domain::{
    Actor, Chat, ChatCursor, ChatError, ChatId, ChatMessage, ChatName, ChatOrder, ChatStore,
    CreateChatError, CreateUserError, EmailAddress, MessageBatch, MessageId, MessageListQuery,
    NewChat, PostMessagesError, StoreError, UserId,
};
use chrono::{DateTime, SubsecRound, Utc};
use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;
use diesel::serialize::{IsNull, Output, ToSql};
use diesel::sql_types::TimestamptzSqlite;
use diesel::sqlite::Sqlite;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, SimpleAsyncConnection};

use crate::DatabaseSettings;
use crate::fault::{Fault, create_chat_error, create_user_error};
use crate::migrate::run_sqlite_migrations;
use crate::queries::{chats_page_query, messages_page_query, owned_chat};
use crate::rows::{
    ChatRow, MessageRow, chat_columns, convert, id_actor_pairs, into_chat, into_messages,
    message_columns,
};
use crate::schema::sqlite::{chat_conversation, chat_conversation_message, neptun_user};

type SqliteConn = SyncConnectionWrapper<SqliteConnection>;

/// A timestamp as this adapter writes and compares it: UTC text with exactly three fraction
/// digits (`2024-03-20 10:00:00.120+00:00`), the format of the schema's defaults too. One fixed
/// format makes text order time order, which keyset paging relies on; diesel's own encoding
/// drops trailing zeros (`10:00:00.12`), which would not compare right.
#[derive(Debug, Clone, Copy, diesel::expression::AsExpression)]
#[diesel(sql_type = TimestamptzSqlite)]
pub struct SqliteTime(pub DateTime<Utc>);

impl ToSql<TimestamptzSqlite, Sqlite> for SqliteTime {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> diesel::serialize::Result {
        out.set_value(self.0.format("%Y-%m-%d %H:%M:%S%.3f+00:00").to_string());
        Ok(IsNull::No)
    }
}

/// Now, in the millisecond precision both backends answer with.
fn now() -> SqliteTime {
    SqliteTime(Utc::now().trunc_subsecs(3))
}

/// Where the database lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqliteTarget {
    /// `sqlite://PATH`: a file (its folder is created if missing).
    File(PathBuf),
    /// `sqlite::memory:`: one in-memory database shared by every connection of the store,
    /// through SQLite's `memdb` VFS (normal locking, unlike shared-cache mode).
    Memory,
}

pub struct SqliteStore {
    pool: Pool<SqliteConn>,
    /// What every connection opens: a path, or the `file:` URI of the in-memory database.
    open: String,
    /// Keeps an in-memory database alive while the store lives, even with no pooled connection.
    _keeper: Option<Mutex<SqliteConnection>>,
}

/// Per-connection settings: foreign keys are off by default in SQLite; the busy timeout makes
/// writers wait for each other instead of failing at once; WAL lets readers run beside a writer.
fn connection_pragmas(busy_timeout_ms: u128) -> String {
    format!(
        "PRAGMA busy_timeout = {busy_timeout_ms}; \
         PRAGMA foreign_keys = ON; \
         PRAGMA journal_mode = WAL; \
         PRAGMA synchronous = NORMAL;"
    )
}

impl SqliteStore {
    pub fn new(target: &SqliteTarget, settings: &DatabaseSettings) -> anyhow::Result<Self> {
        let busy_timeout_ms = settings.busy_timeout.as_millis();
        let (open, keeper) = match target {
            SqliteTarget::File(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("creating {}", dir.display()))?;
                }
                let open = path
                    .to_str()
                    .context("the SQLite path is not valid UTF-8")?
                    .to_owned();
                (open, None)
            }
            SqliteTarget::Memory => {
                let open = format!("file:/chat-service-{}?vfs=memdb", uuid::Uuid::new_v4());
                let mut keeper = SqliteConnection::establish(&open)
                    .context("opening the in-memory SQLite database")?;
                keeper.batch_execute(&connection_pragmas(busy_timeout_ms))?;
                (open, Some(Mutex::new(keeper)))
            }
        };
        let mut config = ManagerConfig::default();
        config.recycling_method = RecyclingMethod::Verified;
        config.custom_setup = Box::new(move |url| {
            let pragmas = connection_pragmas(busy_timeout_ms);
            Box::pin(async move {
                let mut conn = SqliteConn::establish(url).await?;
                conn.batch_execute(&pragmas)
                    .await
                    .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                Ok(conn)
            })
        });
        let manager = AsyncDieselConnectionManager::<SqliteConn>::new_with_config(&open, config);
        let pool = Pool::builder(manager)
            .max_size(settings.pool_size)
            .wait_timeout(Some(settings.pool_wait))
            .create_timeout(Some(settings.connect_timeout))
            .recycle_timeout(Some(settings.connect_timeout))
            .runtime(deadpool::Runtime::Tokio1)
            .build()
            .context("building the SQLite pool")?;
        Ok(Self {
            pool,
            open,
            _keeper: keeper,
        })
    }

    pub async fn migrate(&self) -> anyhow::Result<Vec<String>> {
        run_sqlite_migrations(&self.open).await
    }

    async fn conn(&self) -> Result<Object<SqliteConn>, Fault> {
        Ok(self.pool.get().await?)
    }
}

/// One message row as SQLite gets it. No `Option` field and `treat_none_as_default_value =
/// false`, so that diesel writes a batch as one multi-row INSERT rather than one per row.
#[derive(Debug, Insertable)]
#[diesel(table_name = chat_conversation_message, treat_none_as_default_value = false)]
struct NewMessageRow {
    message: String,
    actor: &'static str,
    neptun_user_id: i32,
    chat_conversation_id: i32,
    created_at: SqliteTime,
    updated_at: SqliteTime,
}

fn new_message_rows(
    owner: UserId,
    chat: ChatId,
    now: SqliteTime,
    batch: &MessageBatch,
) -> Vec<NewMessageRow> {
    batch
        .messages()
        .iter()
        .map(|m| NewMessageRow {
            message: m.text.as_str().to_owned(),
            actor: m.actor.as_str(),
            neptun_user_id: owner.get(),
            chat_conversation_id: chat.get(),
            created_at: now,
            updated_at: now,
        })
        .collect()
}

/// Moves the chat's `updated_at` to `now` if the chat is the owner's, then inserts the rows;
/// `None` when there is no such chat. Runs inside the caller's transaction.
fn append(
    conn: &mut SqliteConnection,
    owner: UserId,
    chat: ChatId,
    now: SqliteTime,
    rows: &[NewMessageRow],
) -> QueryResult<Option<Vec<MessageRow>>> {
    let updated = diesel::update(
        chat_conversation::table
            .filter(chat_conversation::id.eq(chat.get()))
            .filter(chat_conversation::neptun_user_id.eq(owner.get())),
    )
    .set(chat_conversation::updated_at.eq(now))
    .execute(conn)?;
    if updated == 0 {
        return Ok(None);
    }
    diesel::insert_into(chat_conversation_message::table)
        .values(rows)
        .returning(message_columns!(chat_conversation_message))
        .get_results(conn)
        .map(Some)
}

/// Whether `chat` exists and is `owner`'s (inside the caller's transaction).
fn is_owned(conn: &mut SqliteConnection, owner: UserId, chat: ChatId) -> QueryResult<bool> {
    owned_chat!(sqlite, owner, chat)
        .select(chat_conversation::id)
        .first::<i32>(conn)
        .optional()
        .map(|found| found.is_some())
}

impl ChatStore for SqliteStore {
    async fn append_messages(
        &self,
        owner: UserId,
        chat: ChatId,
        batch: &MessageBatch,
    ) -> Result<Vec<ChatMessage>, PostMessagesError> {
        // One instant for the whole request.
        let now = now();
        let rows = new_message_rows(owner, chat, now, batch);
        let mut conn = self.conn().await?;
        // IMMEDIATE takes the write lock first, so two writers wait for each other (busy
        // timeout) instead of deadlocking on a read lock each wants to upgrade.
        let stored = conn
            .spawn_blocking(move |conn| {
                conn.immediate_transaction(|conn| append(conn, owner, chat, now, &rows))
            })
            .await
            .map_err(Fault::from)?;
        let stored = stored.ok_or(PostMessagesError::ChatNotFound { owner, chat })?;
        into_messages(stored).map_err(PostMessagesError::Unknown)
    }

    async fn create_user(&self, email: &EmailAddress) -> Result<UserId, CreateUserError> {
        let address = email.as_str().to_owned();
        let mut conn = self.conn().await?;
        let id: i32 = conn
            .spawn_blocking(move |conn| {
                diesel::insert_into(neptun_user::table)
                    .values(neptun_user::primary_email.eq(address))
                    .returning(neptun_user::id)
                    .get_result(conn)
            })
            .await
            .map_err(|e| create_user_error(e, email))?;
        UserId::new(id.into())
            .context("the database gave a user id out of range")
            .map_err(CreateUserError::Unknown)
    }

    async fn create_chat(&self, chat: &NewChat) -> Result<Chat, CreateChatError> {
        let (name, model) = (
            chat.name.as_str().to_owned(),
            chat.model.as_str().to_owned(),
        );
        let (owner, now) = (chat.owner.get(), now());
        let mut conn = self.conn().await?;
        let row: ChatRow = conn
            .spawn_blocking(move |conn| {
                diesel::insert_into(chat_conversation::table)
                    .values((
                        chat_conversation::name.eq(name),
                        chat_conversation::model.eq(model),
                        chat_conversation::neptun_user_id.eq(owner),
                        chat_conversation::created_at.eq(now),
                        chat_conversation::updated_at.eq(now),
                    ))
                    .returning(chat_columns!(chat_conversation))
                    .get_result(conn)
            })
            .await
            .map_err(|e| create_chat_error(e, chat))?;
        Chat::try_from(row).map_err(CreateChatError::Unknown)
    }

    async fn is_empty(&self) -> Result<bool, StoreError> {
        let mut conn = self.conn().await?;
        let any: Option<i32> = conn
            .spawn_blocking(|conn| {
                neptun_user::table
                    .select(neptun_user::id)
                    .first(conn)
                    .optional()
            })
            .await
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
        let after = after.cloned();
        let mut conn = self.conn().await?;
        let rows: Vec<ChatRow> = conn
            .spawn_blocking(move |conn| {
                chats_page_query!(
                    sqlite,
                    Sqlite,
                    SqliteTime,
                    owner,
                    order,
                    after.as_ref(),
                    limit
                )
                .load(conn)
            })
            .await
            .map_err(Fault::from)?;
        convert(rows).map_err(StoreError::Unknown)
    }

    async fn get_chat(&self, owner: UserId, chat: ChatId) -> Result<Chat, ChatError> {
        let mut conn = self.conn().await?;
        let row = conn
            .spawn_blocking(move |conn| {
                owned_chat!(sqlite, owner, chat)
                    .select(chat_columns!(chat_conversation))
                    .first::<ChatRow>(conn)
                    .optional()
            })
            .await
            .map_err(Fault::from)?;
        into_chat(row, owner, chat)
    }

    async fn rename_chat(
        &self,
        owner: UserId,
        chat: ChatId,
        name: &ChatName,
    ) -> Result<Chat, ChatError> {
        let name = name.as_str().to_owned();
        let mut conn = self.conn().await?;
        let row = conn
            .spawn_blocking(move |conn| {
                diesel::update(owned_chat!(sqlite, owner, chat))
                    .set((
                        chat_conversation::name.eq(name),
                        chat_conversation::updated_at.eq(now()),
                    ))
                    .returning(chat_columns!(chat_conversation))
                    .get_result::<ChatRow>(conn)
                    .optional()
            })
            .await
            .map_err(Fault::from)?;
        into_chat(row, owner, chat)
    }

    async fn delete_chat(&self, owner: UserId, chat: ChatId) -> Result<Chat, ChatError> {
        let mut conn = self.conn().await?;
        // The messages go with it: the foreign key cascades (foreign_keys is on).
        let row = conn
            .spawn_blocking(move |conn| {
                diesel::delete(owned_chat!(sqlite, owner, chat))
                    .returning(chat_columns!(chat_conversation))
                    .get_result::<ChatRow>(conn)
                    .optional()
            })
            .await
            .map_err(Fault::from)?;
        into_chat(row, owner, chat)
    }

    async fn delete_chats(&self, owner: UserId, chats: &[ChatId]) -> Result<u64, StoreError> {
        let ids: Vec<i32> = chats.iter().map(|c| c.get()).collect();
        let mut conn = self.conn().await?;
        let deleted = conn
            .spawn_blocking(move |conn| {
                diesel::delete(
                    chat_conversation::table
                        .filter(chat_conversation::neptun_user_id.eq(owner.get()))
                        .filter(chat_conversation::id.eq_any(ids)),
                )
                .execute(conn)
            })
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
        let query = *query;
        let mut conn = self.conn().await?;
        // One read transaction: the chat check and the page see the same database.
        let rows = conn
            .spawn_blocking(move |conn| {
                conn.transaction(|conn| {
                    if !is_owned(conn, owner, chat)? {
                        return Ok(None);
                    }
                    messages_page_query!(sqlite, Sqlite, chat, &query, limit)
                        .load::<MessageRow>(conn)
                        .map(Some)
                })
            })
            .await
            .map_err(Fault::from)?;
        let rows = rows.ok_or(ChatError::ChatNotFound { owner, chat })?;
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
            .spawn_blocking(move |conn| {
                // IMMEDIATE: the write lock first, so no writer slips in between read and delete.
                conn.immediate_transaction(|conn| {
                    if !is_owned(conn, owner, chat)? {
                        return Ok(None);
                    }
                    let pairs: Vec<(i64, String)> = m::table
                        .filter(m::chat_conversation_id.eq(chat.get()))
                        .select((m::id, m::actor))
                        .order(m::id.asc())
                        .load(conn)?;
                    let ids: Vec<i64> = choose(&id_actor_pairs(pairs)?)
                        .into_iter()
                        .map(MessageId::get)
                        .collect();
                    if ids.is_empty() {
                        return Ok(Some(Vec::new()));
                    }
                    let rows = diesel::delete(m::table.filter(m::id.eq_any(ids)))
                        .returning(message_columns!(m))
                        .get_results(conn)?;
                    diesel::update(chat_conversation::table.find(chat.get()))
                        .set(chat_conversation::updated_at.eq(now()))
                        .execute(conn)?;
                    Ok(Some(rows))
                })
            })
            .await
            .map_err(Fault::from)?;
        let rows = deleted.ok_or(ChatError::ChatNotFound { owner, chat })?;
        into_messages(rows).map_err(ChatError::Unknown)
    }
}

#[cfg(test)]
mod tests {
    use chat_domain::{Actor, MessageLimits, MessageText, NewMessage};
    use diesel::sqlite::Sqlite;

    use super::*;

    #[test]
    fn a_batch_is_one_multi_row_insert() {
        let limits = MessageLimits::default();
        let message = |t: &str| NewMessage {
            text: MessageText::new(t.into(), &limits).unwrap(),
            actor: Actor::User,
        };
        let batch =
            MessageBatch::new(vec![message("a"), message("b"), message("c")], &limits).unwrap();
        let (user, chat) = (UserId::new(1).unwrap(), ChatId::new(2).unwrap());
        let rows = new_message_rows(user, chat, now(), &batch);
        let insert = diesel::insert_into(chat_conversation_message::table).values(&rows);
        let sql = diesel::debug_query::<Sqlite, _>(&insert).to_string();
        assert_eq!(sql.matches("INSERT INTO").count(), 1, "{sql}");
        assert_eq!(sql.matches("(?, ?, ?, ?, ?, ?)").count(), 3, "{sql}");
    }
}
