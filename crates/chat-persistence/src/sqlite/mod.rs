//! The chat store on SQLite: the embedded default, so that the service runs with no database
//! server. A deadpool of diesel-async `SyncConnectionWrapper<SqliteConnection>`s; every
//! operation runs as sync diesel on the wrapped connection (`spawn_blocking`), because
//! diesel-async cannot build a multi-row insert for SQLite (diesel_async issue 277).

mod append;
pub(crate) mod connection;
mod files;
mod keys;
mod shares;
mod time;
mod writer;

use std::sync::{Arc, Mutex};

use chat_domain::{
    Actor, Chat, ChatCursor, ChatError, ChatId, ChatMessage, ChatName, ChatOrder, ChatSelection,
    ChatStore, CreateChatError, CreateUserError, EmailAddress, MessageBatch, MessageId,
    MessageListQuery, NewChat, Once, ReadBudget, ReadCount, StoreFailure, UserId, Written,
    chat_bytes, message_bytes,
};
use diesel::connection::DefaultLoadingMode;
use diesel::prelude::*;
use diesel::sqlite::Sqlite;
use diesel_async::AsyncConnection as _;
use diesel_async::pooled_connection::deadpool::{Object, Pool};

use self::append::{append, new_message_rows};
pub use self::connection::SqliteTarget;
use self::connection::{SqliteConn, connection_pragmas};
use self::keys::{once as at_most_once, purge};
pub(crate) use self::time::SqliteTime;
use self::time::now;
use self::writer::Writers;
use crate::app_secret::AppSecret;
use crate::fault::{create_chat_error, create_user_error, failure, pool_failure};
use crate::migrate::{
    APPLIED_VERSION, AppliedVersion, Direction, SQLITE_MIGRATIONS, latest_version,
    run_sqlite_migrations,
};
use crate::prepared::prepared;
use crate::queries::{
    any_user, chats_page_query, delete_chat, delete_chats, delete_chosen, get_chat, insert_chat,
    insert_user, messages_page_query, owned_chat, rename_chat,
};
use crate::rows::{ChatRow, MessageRow, into_chat, into_messages, into_user_id};
use crate::schema::sqlite::chat_conversation;
use crate::sharing::Sharing;
use crate::{DatabaseSettings, pool};

pub struct SqliteStore {
    pool: Pool<SqliteConn>,
    /// What every connection opens: a path, or the `file:` URI of the in-memory database.
    open: String,
    /// Keeps an in-memory database alive while the store lives, even with no pooled connection.
    _keeper: Option<Mutex<SqliteConnection>>,
    key_ttl: std::time::Duration,
    writers: Writers,
    sharing: Sharing,
}

impl SqliteStore {
    pub fn new(target: &SqliteTarget, settings: &DatabaseSettings) -> anyhow::Result<Self> {
        let pragmas = connection_pragmas(settings.busy_timeout);
        let (open, keeper) = connection::open(target, &pragmas)?;
        let url = open.clone();
        let connect: pool::Connect<SqliteConn> = Arc::new(move || {
            let url = url.clone();
            Box::pin(async move { SqliteConn::establish(&url).await })
        });
        let pool = pool::build(&open, connect, pragmas, settings)?;
        Ok(Self {
            pool,
            open,
            _keeper: keeper,
            key_ttl: settings.key_ttl,
            writers: Writers::new(settings.busy_timeout),
            sharing: Sharing::new(AppSecret::new(settings.app_secret.clone())),
        })
    }

    pub async fn migrate(&self, direction: Direction) -> anyhow::Result<Vec<String>> {
        run_sqlite_migrations(&self.open, direction).await
    }

    pub(crate) fn location(&self) -> String {
        if self._keeper.is_some() {
            "in memory".to_owned()
        } else {
            self.open.clone()
        }
    }

    pub(crate) fn pool_status(&self) -> deadpool::Status {
        self.pool.status()
    }

    /// [`Self::run`] for a write, after the writes before it in this process (see
    /// [`Writers`]).
    async fn write<R: Send + 'static>(
        &self,
        op: impl FnOnce(&mut SqliteConnection) -> R + Send + 'static,
    ) -> Result<R, StoreFailure> {
        self.writers.write(&self.pool, op).await
    }

    /// Runs `op` on a pooled connection, on a blocking thread: a failure to get the connection
    /// is the store's; the query's own result is the caller's to judge.
    async fn run<R: Send + 'static>(
        &self,
        op: impl FnOnce(&mut SqliteConnection) -> R + Send + 'static,
    ) -> Result<R, StoreFailure> {
        let mut conn: Object<SqliteConn> = self.pool.get().await.map_err(pool_failure)?;
        // The only error of its own is a blocking task that did not finish (it panicked).
        conn.spawn_blocking(move |conn| Ok(op(conn)))
            .await
            .map_err(failure)
    }
}

/// A row read from a cursor as the domain's value; a row the domain refuses fails the read.
fn decoded<R, T: TryFrom<R, Error = anyhow::Error>>(
    row: diesel::QueryResult<R>,
) -> diesel::QueryResult<T> {
    T::try_from(row?).map_err(|e| diesel::result::Error::DeserializationError(e.into()))
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
        once: Option<&Once<Vec<ChatMessage>>>,
    ) -> Result<Written<Vec<ChatMessage>>, ChatError> {
        // One instant for the whole request.
        let now = now();
        let rows = new_message_rows(owner, chat, now, batch);
        let (once, ttl) = (once.cloned(), self.key_ttl);
        self.write(move |conn| {
            at_most_once(conn, owner, once.as_ref(), ttl, |conn| {
                let stored = append(conn, owner, chat, now, &rows).map_err(failure)?;
                let stored = stored.ok_or(ChatError::ChatNotFound { owner, chat })?;
                Ok(into_messages(stored).map_err(StoreFailure::Unknown)?)
            })
        })
        .await?
    }

    async fn create_user(&self, email: &EmailAddress) -> Result<UserId, CreateUserError> {
        let address = email.as_str().to_owned();
        let id: i32 = self
            .write(move |conn| insert_user!(sqlite, address).get_result(conn))
            .await?
            .map_err(|e| create_user_error(e, email))?;
        Ok(into_user_id(id)?)
    }

    async fn create_chat(
        &self,
        chat: &NewChat,
        once: Option<&Once<Chat>>,
    ) -> Result<Written<Chat>, CreateChatError> {
        let (new, once, ttl) = (chat.clone(), once.cloned(), self.key_ttl);
        self.write(move |conn| {
            at_most_once(conn, new.owner, once.as_ref(), ttl, |conn| {
                let row: ChatRow = insert_chat!(sqlite, &new, now())
                    .get_result(conn)
                    .map_err(|e| create_chat_error(e, &new))?;
                Ok(Chat::try_from(row).map_err(StoreFailure::Unknown)?)
            })
        })
        .await?
    }

    async fn is_empty(&self) -> Result<bool, StoreFailure> {
        let any: Option<i32> = self
            .run(|conn| any_user!(sqlite).first(conn).optional())
            .await?
            .map_err(failure)?;
        Ok(any.is_none())
    }

    async fn list_chats(
        &self,
        owner: UserId,
        order: &ChatOrder,
        after: Option<&ChatCursor>,
        limit: usize,
        budget: ReadBudget,
    ) -> Result<Vec<Chat>, StoreFailure> {
        let (order, after) = (order.clone(), after.cloned());
        self.run(move |conn| {
            let after = after.as_ref();
            let rows = chats_page_query!(sqlite, Sqlite, SqliteTime, owner, &order, after, limit)
                .load_iter::<ChatRow, DefaultLoadingMode>(conn)?;
            // Read from the cursor while the budget wants more, as on PostgreSQL.
            ReadCount::read(budget, rows.map(decoded::<_, Chat>), chat_bytes)
        })
        .await?
        .map_err(failure)
    }

    async fn get_chat(&self, owner: UserId, chat: ChatId) -> Result<Chat, ChatError> {
        let row = self
            .run(move |conn| get_chat!(sqlite, owner, chat).first(conn).optional())
            .await?
            .map_err(failure)?;
        into_chat(row, owner, chat)
    }

    async fn rename_chat(
        &self,
        owner: UserId,
        chat: ChatId,
        name: &ChatName,
    ) -> Result<Chat, ChatError> {
        let name = name.as_str().to_owned();
        let row = self
            .write(move |conn| {
                rename_chat!(sqlite, owner, chat, name, now())
                    .get_result(conn)
                    .optional()
            })
            .await?
            .map_err(failure)?;
        into_chat(row, owner, chat)
    }

    async fn delete_chat(&self, owner: UserId, chat: ChatId) -> Result<Chat, ChatError> {
        let row = self
            .write(move |conn| {
                delete_chat!(sqlite, owner, chat)
                    .get_result(conn)
                    .optional()
            })
            .await?
            .map_err(failure)?;
        into_chat(row, owner, chat)
    }

    async fn delete_chats(
        &self,
        owner: UserId,
        chats: &ChatSelection,
    ) -> Result<u64, StoreFailure> {
        let ids: Vec<i32> = chats.ids().iter().map(|c| c.get()).collect();
        let deleted = self
            .write(move |conn| delete_chats!(sqlite, owner, ids).execute(conn))
            .await?
            .map_err(failure)?;
        Ok(deleted as u64)
    }

    async fn list_messages(
        &self,
        owner: UserId,
        chat: ChatId,
        query: &MessageListQuery,
        limit: usize,
        budget: ReadBudget,
    ) -> Result<Vec<ChatMessage>, ChatError> {
        let query = *query;
        // One read transaction: the chat check and the page see the same database. The rows
        // are read from SQLite's cursor one at a time while the budget wants more, so no more
        // are loaded.
        let messages = self
            .run(move |conn| {
                conn.transaction(|conn| {
                    if !is_owned(conn, owner, chat)? {
                        return Ok(None);
                    }
                    let page = messages_page_query!(sqlite, Sqlite, chat, &query, limit)
                        .load_iter::<MessageRow, DefaultLoadingMode>(conn)?;
                    let messages = page.map(decoded::<_, ChatMessage>);
                    ReadCount::read(budget, messages, message_bytes).map(Some)
                })
            })
            .await?
            .map_err(failure)?;
        messages.ok_or(ChatError::ChatNotFound { owner, chat })
    }

    async fn delete_messages_where(
        &self,
        owner: UserId,
        chat: ChatId,
        choose: fn(&[(MessageId, Actor)]) -> Vec<MessageId>,
        once: Option<&Once<Vec<ChatMessage>>>,
    ) -> Result<Written<Vec<ChatMessage>>, ChatError> {
        let (once, ttl) = (once.cloned(), self.key_ttl);
        self.write(move |conn| {
            // In the write lock, so no writer slips in between read and delete.
            at_most_once(conn, owner, once.as_ref(), ttl, |conn| {
                if !is_owned(conn, owner, chat).map_err(failure)? {
                    return Err(ChatError::ChatNotFound { owner, chat });
                }
                let delete = |conn: &mut SqliteConnection| -> QueryResult<Vec<MessageRow>> {
                    delete_chosen!(sqlite, conn, chat, choose, now())
                };
                let rows = delete(conn).map_err(failure)?;
                Ok(into_messages(rows).map_err(StoreFailure::Unknown)?)
            })
        })
        .await?
    }

    async fn schema_is_current(&self) -> Result<bool, StoreFailure> {
        let applied: AppliedVersion = self
            .run(|conn| prepared(diesel::sql_query(APPLIED_VERSION)).get_result(conn))
            .await?
            .map_err(failure)?;
        Ok(applied.version == latest_version::<Sqlite>(&SQLITE_MIGRATIONS))
    }

    async fn purge_expired_keys(&self) -> Result<u64, StoreFailure> {
        let ttl = self.key_ttl;
        self.write(move |conn| purge(conn, ttl))
            .await?
            .map_err(failure)
    }
}
