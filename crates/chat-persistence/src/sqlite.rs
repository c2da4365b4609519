//! The chat store on SQLite: the embedded default, so that the service runs with no database
//! server. A deadpool of diesel-async `SyncConnectionWrapper<SqliteConnection>`s; every
//! operation runs as sync diesel on the wrapped connection (`spawn_blocking`), because
//! diesel-async cannot build a multi-row insert for SQLite (diesel_async issue 277).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use chat_domain::{
    Actor, Chat, ChatCursor, ChatError, ChatId, ChatMessage, ChatName, ChatOrder, ChatSelection,
    ChatStore, CreateChatError, CreateUserError, EmailAddress, MessageBatch, MessageId,
    MessageListQuery, NewChat, Once, StoreFailure, UserId, Written,
};
use chrono::{DateTime, SubsecRound, Utc};
use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;
use diesel::serialize::{IsNull, Output, ToSql};
use diesel::sql_types::TimestamptzSqlite;
use diesel::sqlite::Sqlite;
use diesel_async::AsyncConnection as _;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;

use crate::fault::{create_chat_error, create_user_error, failure, pool_failure};
use crate::keys::sqlite::{once as at_most_once, purge};
use crate::migrate::{
    APPLIED_VERSION, AppliedVersion, Direction, SQLITE_MIGRATIONS, latest_version,
    run_sqlite_migrations,
};
use crate::prepared::prepared;
use crate::queries::{
    any_user, chats_page_query, delete_chat, delete_chats, delete_chosen, get_chat, insert_chat,
    insert_user, messages_page_query, owned_chat, rename_chat,
};
use crate::rows::{ChatRow, MessageRow, convert, into_chat, into_messages, into_user_id};
use crate::schema::sqlite::chat_conversation;
use crate::sqlite_append::{append, new_message_rows};
use crate::{DatabaseSettings, pool};

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
pub(crate) fn now() -> SqliteTime {
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
    key_ttl: std::time::Duration,
    /// Whose turn it is to write (see [`Self::write`]).
    writer: Arc<tokio::sync::Mutex<()>>,
    /// The longest a write waits in all: for its turn, then for the file's lock.
    busy_timeout: std::time::Duration,
}

/// Per-connection settings: foreign keys are off by default in SQLite; the busy timeout makes
/// writers wait for each other instead of failing at once.
fn connection_pragmas(busy_timeout: std::time::Duration) -> String {
    format!(
        "{} PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
        busy_timeout_pragma(busy_timeout)
    )
}

/// WAL lets readers run beside a writer. It is the database's, kept in the file, so it is set
/// once when the store opens: setting it takes a lock, which made every connection opened
/// while another process wrote fail at once.
const WAL: &str = "PRAGMA journal_mode = WAL;";

fn busy_timeout_pragma(wait: std::time::Duration) -> String {
    format!("PRAGMA busy_timeout = {};", wait.as_millis())
}

impl SqliteStore {
    pub fn new(target: &SqliteTarget, settings: &DatabaseSettings) -> anyhow::Result<Self> {
        let pragmas = connection_pragmas(settings.busy_timeout);
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
                SqliteConnection::establish(&open)
                    .with_context(|| format!("opening {open}"))?
                    .batch_execute(&format!("{pragmas} {WAL}"))
                    .with_context(|| format!("setting up {open}"))?;
                (open, None)
            }
            SqliteTarget::Memory => {
                let open = format!("file:/chat-service-{}?vfs=memdb", uuid::Uuid::new_v4());
                let mut keeper = SqliteConnection::establish(&open)
                    .context("opening the in-memory SQLite database")?;
                keeper.batch_execute(&format!("{pragmas} {WAL}"))?;
                (open, Some(Mutex::new(keeper)))
            }
        };
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
            writer: Arc::default(),
            busy_timeout: settings.busy_timeout,
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

    /// [`Self::run`] for a write, after the writes before it in this process: SQLite takes one
    /// writer at a time, and its busy handler polls with sleeps of up to 100 ms, so writers
    /// that queued on it waited far longer than on a FIFO lock of their own. `busy_timeout`
    /// bounds the whole wait, the turn and the file's lock together (other processes' writers
    /// still hold the file): past it the write is refused as unavailable, having stored nothing.
    async fn write<R: Send + 'static>(
        &self,
        op: impl FnOnce(&mut SqliteConnection) -> R + Send + 'static,
    ) -> Result<R, StoreFailure> {
        let deadline = tokio::time::Instant::now() + self.busy_timeout;
        let waited = || {
            StoreFailure::Unavailable(anyhow::anyhow!(
                "a write waited database.busy_timeout ({:?}) for its turn",
                self.busy_timeout
            ))
        };
        let _turn = tokio::time::timeout_at(deadline, self.writer.lock())
            .await
            .map_err(|_| waited())?;
        let mut conn: Object<SqliteConn> = tokio::time::timeout_at(deadline, self.pool.get())
            .await
            .map_err(|_| waited())?
            .map_err(pool_failure)?;
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let full = self.busy_timeout;
        conn.spawn_blocking(move |conn| {
            conn.batch_execute(&busy_timeout_pragma(left))?;
            let result = op(conn);
            if let Err(e) = conn.batch_execute(&busy_timeout_pragma(full)) {
                tracing::warn!(error = %e, "restoring SQLite's busy_timeout");
            }
            Ok(result)
        })
        .await
        .map_err(failure)
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
    ) -> Result<Vec<Chat>, StoreFailure> {
        let (order, after) = (order.clone(), after.cloned());
        let rows: Vec<ChatRow> = self
            .run(move |conn| {
                let after = after.as_ref();
                chats_page_query!(sqlite, Sqlite, SqliteTime, owner, &order, after, limit)
                    .load(conn)
            })
            .await?
            .map_err(failure)?;
        convert(rows).map_err(StoreFailure::Unknown)
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
    ) -> Result<Vec<ChatMessage>, ChatError> {
        let query = *query;
        // One read transaction: the chat check and the page see the same database.
        let rows = self
            .run(move |conn| {
                conn.transaction(|conn| {
                    if !is_owned(conn, owner, chat)? {
                        return Ok(None);
                    }
                    messages_page_query!(sqlite, Sqlite, chat, &query, limit)
                        .load::<MessageRow>(conn)
                        .map(Some)
                })
            })
            .await?
            .map_err(failure)?;
        let rows = rows.ok_or(ChatError::ChatNotFound { owner, chat })?;
        Ok(convert(rows).map_err(StoreFailure::Unknown)?)
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
