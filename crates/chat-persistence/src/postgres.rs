//! The chat store on PostgreSQL: a deadpool of diesel-async connections.

use std::sync::Arc;

use std::time::Duration;

use chat_domain::{
    Actor, Chat, ChatCursor, ChatError, ChatId, ChatMessage, ChatName, ChatOrder, ChatSelection,
    ChatStore, CreateChatError, CreateUserError, EmailAddress, MessageBatch, MessageId,
    MessageListQuery, NewChat, Once, StoreFailure, UserId, Written,
};
use chrono::{DateTime, Utc};
use diesel::connection::CacheSize;
use diesel::dsl::now;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel::sql_types::{Integer, Text};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use scoped_futures::ScopedFutureExt as _;
use secrecy::ExposeSecret;

use crate::pg_connect::PgTarget;

use crate::fault::{create_chat_error, create_user_error, failure};
use crate::keys::postgres::{claim, keep, purge};
use crate::migrate::{
    APPLIED_VERSION, AppliedVersion, Direction, POSTGRES_MIGRATIONS, latest_version,
    run_postgres_migrations,
};
use crate::pg_checkout::{Checkout, Retry, settings_sql};
use crate::prepared::prepared;
use crate::queries::{
    any_user, chats_page_query, delete_chat, delete_chats, delete_chosen, get_chat, insert_user,
    messages_page_query, owned_chat, rename_chat,
};
use crate::rows::{ChatRow, MessageRow, convert, into_chat, into_messages, into_user_id};
use crate::schema::postgres::chat_conversation;
use crate::{DatabaseSettings, pool};

/// Timestamps bind as themselves on PostgreSQL (see the SQLite adapter for why it differs).
fn pg_time(t: DateTime<Utc>) -> DateTime<Utc> {
    t
}

#[derive(Clone)]
pub struct PgStore {
    checkout: Checkout,
    /// Where migrations run: `database.migration_url`, else the service's own database.
    migration_target: Arc<PgTarget>,
    location: String,
    key_ttl: Duration,
}

impl PgStore {
    /// Builds the pool (no connection is opened yet).
    pub fn new(settings: &DatabaseSettings) -> anyhow::Result<Self> {
        let target = Arc::new(PgTarget::parse(settings.url.expose_secret())?);
        let migration_target = match &settings.migration_url {
            Some(url) => Arc::new(PgTarget::parse(url.expose_secret())?),
            None => target.clone(),
        };
        let cache = settings.statement_cache;
        let for_pool = target.clone();
        let connect: pool::Connect<AsyncPgConnection> = Arc::new(move || {
            let target = for_pool.clone();
            Box::pin(async move {
                let mut conn = target.connect_pinned(!cache).await?;
                if !cache {
                    conn.set_prepared_statement_cache_size(CacheSize::Disabled);
                }
                Ok(conn)
            })
        });
        // With the cache off, the settings are the transaction's (see `pg_checkout`).
        let setup = match cache {
            true => settings_sql(settings.statement_timeout, false),
            false => String::new(),
        };
        let pool = pool::build(&target.describe(), connect, setup, settings)?;
        Ok(Self {
            checkout: Checkout::new(pool, cache, settings.statement_timeout),
            migration_target,
            location: target.describe(),
            key_ttl: settings.key_ttl,
        })
    }

    /// Runs the migrations (on a connection of its own); returns the versions run.
    pub async fn migrate(&self, direction: Direction) -> anyhow::Result<Vec<String>> {
        run_postgres_migrations(&self.migration_target, direction).await
    }

    pub(crate) fn location(&self) -> String {
        self.location.clone()
    }

    pub(crate) fn pool_status(&self) -> deadpool::Status {
        self.checkout.pool().status()
    }
}

/// One statement, so one transaction: it takes the chat row only if it is the owner's (locking
/// it, which orders concurrent writers to one chat), moves its `updated_at`, and inserts the
/// messages in request order (`WITH ORDINALITY`), all stamped with the transaction's `now()`.
/// No chat, no rows: the caller tells "not found" from the empty result. The messages come as
/// JSON through `json_populate_recordset` over the table's own row type, so each value takes
/// its column's type: `text` in the service's tables, the app's enum in the app's.
const APPEND_MESSAGES: &str = "\
WITH chat AS (
    UPDATE chat_conversation SET updated_at = now()
    WHERE id = $1 AND neptun_user_id = $2
    RETURNING id, neptun_user_id
)
INSERT INTO chat_conversation_message
    (message, actor, neptun_user_id, chat_conversation_id, created_at, updated_at)
SELECT m.message, m.actor, chat.neptun_user_id, chat.id, now(), now()
FROM chat CROSS JOIN
    json_populate_recordset(NULL::chat_conversation_message, $3::json) WITH ORDINALITY AS m
ORDER BY m.ordinality
RETURNING id, message, actor::text AS actor, neptun_user_id, chat_conversation_id,
    created_at, updated_at";

/// A new chat, its model taking the column's type (text, or the app's enum) as above.
const INSERT_CHAT: &str = "\
INSERT INTO chat_conversation (name, model, neptun_user_id, created_at, updated_at)
SELECT c.name, c.model, $2, now(), now()
FROM json_populate_record(NULL::chat_conversation, $1::json) AS c
RETURNING id, name, model::text AS model, neptun_user_id, created_at, updated_at";

/// The values the `model` column accepts, when it is an enum (the app's tables): none else.
const MODEL_OPTIONS: &str = "\
SELECT e.enumlabel AS label FROM pg_attribute a JOIN pg_enum e ON e.enumtypid = a.atttypid
WHERE a.attrelid = 'chat_conversation'::regclass AND a.attname = 'model'
ORDER BY e.enumsortorder";

/// Whether the tables were the app's before the service's migrations (see the first one).
const ADOPTED: &str =
    "SELECT coalesce((SELECT bool_or(adopted) FROM chat_service_schema), false) AS adopted";

#[derive(diesel::QueryableByName)]
struct Adopted {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    adopted: bool,
}

#[derive(diesel::QueryableByName)]
struct Label {
    #[diesel(sql_type = Text)]
    label: String,
}

impl PgStore {
    /// A model the enum column refused: the values it accepts, for the client.
    async fn unknown_model(&self, e: DieselError, chat: &NewChat) -> CreateChatError {
        let refused = matches!(&e, DieselError::DatabaseError(_, info)
            if info.message().starts_with("invalid input value for enum"));
        if !refused {
            return create_chat_error(e, chat);
        }
        let options = self
            .checkout
            .run(Retry::Read, |conn| {
                async move {
                    prepared(diesel::sql_query(MODEL_OPTIONS))
                        .load::<Label>(conn)
                        .await
                        .map_err(failure)
                }
                .scope_boxed()
            })
            .await;
        match options {
            Ok(labels) => CreateChatError::UnknownModel {
                model: chat.model.as_str().to_owned(),
                options: labels.into_iter().map(|l| l.label).collect(),
            },
            Err(failure) => failure.into(),
        }
    }
}

impl ChatStore for PgStore {
    async fn append_messages(
        &self,
        owner: UserId,
        chat: ChatId,
        batch: &MessageBatch,
        once: Option<&Once<Vec<ChatMessage>>>,
    ) -> Result<Written<Vec<ChatMessage>>, ChatError> {
        let ttl = self.key_ttl;
        self.checkout
            .run(Retry::Aborted, |conn| {
                async move {
                    if let Some(answer) = claim::<_, ChatError>(conn, owner, once, ttl).await? {
                        return Ok(answer);
                    }
                    let appended = append(conn, owner, chat, batch).await;
                    keep(conn, owner, once, appended).await
                }
                .scope_boxed()
            })
            .await
    }

    async fn create_user(&self, email: &EmailAddress) -> Result<UserId, CreateUserError> {
        let id: i32 = self
            .checkout
            .run(Retry::Never, |conn| {
                async move {
                    let adopted = prepared(diesel::sql_query(ADOPTED))
                        .get_result::<Adopted>(conn)
                        .await
                        .map_err(failure)?;
                    if adopted.adopted {
                        return Err(CreateUserError::ManagedByApp);
                    }
                    insert_user!(postgres, email.as_str())
                        .get_result(conn)
                        .await
                        .map_err(|e| create_user_error(e, email))
                }
                .scope_boxed()
            })
            .await?;
        Ok(into_user_id(id)?)
    }

    async fn create_chat(
        &self,
        chat: &NewChat,
        once: Option<&Once<Chat>>,
    ) -> Result<Written<Chat>, CreateChatError> {
        let ttl = self.key_ttl;
        let kept = self
            .checkout
            .run(Retry::Aborted, |conn| {
                async move {
                    if let Some(answer) =
                        claim::<_, CreateChatError>(conn, chat.owner, once, ttl).await?
                    {
                        return Ok(Ok(answer));
                    }
                    let created = insert_chat(conn, chat).await;
                    match keep(conn, chat.owner, once, created).await {
                        // Rolled back: the refusal is explained after the connection is back.
                        Err(InsertChatError::Refused(e)) => Ok(Err(e)),
                        Err(InsertChatError::Other(e)) => Err(e),
                        Ok(written) => Ok(Ok(written)),
                    }
                }
                .scope_boxed()
            })
            .await?;
        match kept {
            Ok(written) => Ok(written),
            Err(refused) => Err(self.unknown_model(refused, chat).await),
        }
    }

    async fn is_empty(&self) -> Result<bool, StoreFailure> {
        let any: Option<i32> = self
            .checkout
            .run(Retry::Read, |conn| {
                async move {
                    any_user!(postgres)
                        .first(conn)
                        .await
                        .optional()
                        .map_err(failure)
                }
                .scope_boxed()
            })
            .await?;
        Ok(any.is_none())
    }

    async fn list_chats(
        &self,
        owner: UserId,
        order: &ChatOrder,
        after: Option<&ChatCursor>,
        limit: usize,
    ) -> Result<Vec<Chat>, StoreFailure> {
        let rows: Vec<ChatRow> = self
            .checkout
            .run(Retry::Read, |conn| {
                async move {
                    chats_page_query!(postgres, Pg, pg_time, owner, order, after, limit)
                        .load(conn)
                        .await
                        .map_err(failure)
                }
                .scope_boxed()
            })
            .await?;
        convert(rows).map_err(StoreFailure::Unknown)
    }

    async fn get_chat(&self, owner: UserId, chat: ChatId) -> Result<Chat, ChatError> {
        let row = self
            .checkout
            .run(Retry::Read, |conn| {
                async move {
                    get_chat!(postgres, owner, chat)
                        .first::<ChatRow>(conn)
                        .await
                        .optional()
                        .map_err(failure)
                }
                .scope_boxed()
            })
            .await?;
        into_chat(row, owner, chat)
    }

    async fn rename_chat(
        &self,
        owner: UserId,
        chat: ChatId,
        name: &ChatName,
    ) -> Result<Chat, ChatError> {
        let row = self
            .checkout
            .run(Retry::Aborted, |conn| {
                async move {
                    rename_chat!(postgres, owner, chat, name.as_str(), now)
                        .get_result::<ChatRow>(conn)
                        .await
                        .optional()
                        .map_err(failure)
                }
                .scope_boxed()
            })
            .await?;
        into_chat(row, owner, chat)
    }

    async fn delete_chat(&self, owner: UserId, chat: ChatId) -> Result<Chat, ChatError> {
        let row = self
            .checkout
            .run(Retry::Aborted, |conn| {
                async move {
                    delete_chat!(postgres, owner, chat)
                        .get_result::<ChatRow>(conn)
                        .await
                        .optional()
                        .map_err(failure)
                }
                .scope_boxed()
            })
            .await?;
        into_chat(row, owner, chat)
    }

    async fn delete_chats(
        &self,
        owner: UserId,
        chats: &ChatSelection,
    ) -> Result<u64, StoreFailure> {
        let ids: Vec<i32> = chats.ids().iter().map(|c| c.get()).collect();
        let ids = &ids;
        let deleted = self
            .checkout
            .run(Retry::Aborted, |conn| {
                async move {
                    delete_chats!(postgres, owner, ids.clone())
                        .execute(conn)
                        .await
                        .map_err(failure)
                }
                .scope_boxed()
            })
            .await?;
        Ok(deleted as u64)
    }

    async fn list_messages(
        &self,
        owner: UserId,
        chat: ChatId,
        query: &MessageListQuery,
        limit: usize,
    ) -> Result<Vec<ChatMessage>, ChatError> {
        let rows = self
            .checkout
            .run(Retry::Read, |conn| {
                async move { messages_page(conn, owner, chat, query, limit).await }.scope_boxed()
            })
            .await?;
        Ok(convert(rows).map_err(StoreFailure::Unknown)?)
    }

    async fn delete_messages_where(
        &self,
        owner: UserId,
        chat: ChatId,
        choose: fn(&[(MessageId, Actor)]) -> Vec<MessageId>,
        once: Option<&Once<Vec<ChatMessage>>>,
    ) -> Result<Written<Vec<ChatMessage>>, ChatError> {
        let ttl = self.key_ttl;
        // Several statements: a retry could delete a second exchange. With a key, it replays.
        let retry = match once {
            Some(_) => Retry::Aborted,
            None => Retry::Never,
        };
        self.checkout
            .run(retry, |conn| {
                async move {
                    if let Some(answer) = claim::<_, ChatError>(conn, owner, once, ttl).await? {
                        return Ok(answer);
                    }
                    let deleted = delete_where(conn, owner, chat, choose).await;
                    keep(conn, owner, once, deleted).await
                }
                .scope_boxed()
            })
            .await
    }

    async fn purge_expired_keys(&self) -> Result<u64, StoreFailure> {
        let ttl = self.key_ttl;
        self.checkout
            .run(Retry::Never, |conn| {
                async move { purge(conn, ttl).await }.scope_boxed()
            })
            .await
    }

    async fn schema_is_current(&self) -> Result<bool, StoreFailure> {
        let applied: AppliedVersion = self
            .checkout
            .run(Retry::Read, |conn| {
                async move {
                    prepared(diesel::sql_query(APPLIED_VERSION))
                        .get_result(conn)
                        .await
                        .map_err(failure)
                }
                .scope_boxed()
            })
            .await?;
        Ok(applied.version == latest_version::<Pg>(&POSTGRES_MIGRATIONS))
    }
}

/// A page of the owner's chat's messages: the owner check and the page pipelined on the one
/// connection, one round trip (the page is read even when the chat is not the owner's, and
/// then discarded).
async fn messages_page(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    chat: ChatId,
    query: &MessageListQuery,
    limit: usize,
) -> Result<Vec<MessageRow>, ChatError> {
    let conn: &AsyncPgConnection = conn;
    let (exists, rows) = futures_util::future::join(
        owned_chat!(postgres, owner, chat)
            .select(chat_conversation::id)
            .first::<i32>(&mut &*conn),
        messages_page_query!(postgres, Pg, chat, query, limit).load::<MessageRow>(&mut &*conn),
    )
    .await;
    if exists.optional().map_err(failure)?.is_none() {
        return Err(ChatError::ChatNotFound { owner, chat });
    }
    Ok(rows.map_err(failure)?)
}

/// Appends the batch (see [`APPEND_MESSAGES`]); inside a keyed write's transaction or alone.
async fn append(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    chat: ChatId,
    batch: &MessageBatch,
) -> Result<Vec<ChatMessage>, ChatError> {
    let messages: Vec<serde_json::Value> = batch
        .messages()
        .iter()
        .map(|m| serde_json::json!({"message": m.text.as_str(), "actor": m.actor.as_str()}))
        .collect();
    let rows: Vec<MessageRow> = prepared(
        diesel::sql_query(APPEND_MESSAGES)
            .bind::<Integer, _>(chat.get())
            .bind::<Integer, _>(owner.get())
            .bind::<Text, _>(serde_json::Value::Array(messages).to_string()),
    )
    .load(conn)
    .await
    .map_err(failure)?;
    if rows.is_empty() {
        return Err(ChatError::ChatNotFound { owner, chat });
    }
    Ok(into_messages(rows).map_err(StoreFailure::Unknown)?)
}

/// Why [`insert_chat`] failed: a value the table refused (maybe a model its enum lacks), or
/// anything else.
enum InsertChatError {
    Refused(DieselError),
    Other(CreateChatError),
}

impl From<StoreFailure> for InsertChatError {
    fn from(e: StoreFailure) -> Self {
        Self::Other(e.into())
    }
}

async fn insert_chat(
    conn: &mut AsyncPgConnection,
    chat: &NewChat,
) -> Result<Chat, InsertChatError> {
    let fields = serde_json::json!({"name": chat.name.as_str(), "model": chat.model.as_str()});
    let row = prepared(
        diesel::sql_query(INSERT_CHAT)
            .bind::<Text, _>(fields.to_string())
            .bind::<Integer, _>(chat.owner.get()),
    )
    .get_result::<ChatRow>(conn)
    .await
    .map_err(InsertChatError::Refused)?;
    Chat::try_from(row).map_err(|e| InsertChatError::Other(StoreFailure::Unknown(e).into()))
}

/// Deletes the messages `choose` picks, in a transaction (a savepoint inside a keyed write's)
/// that locks the chat first, so writers to it wait until this is done.
async fn delete_where(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    chat: ChatId,
    choose: fn(&[(MessageId, Actor)]) -> Vec<MessageId>,
) -> Result<Vec<ChatMessage>, ChatError> {
    let deleted = conn
        .transaction(
            async |conn| -> Result<Option<Vec<MessageRow>>, DieselError> {
                let locked = owned_chat!(postgres, owner, chat)
                    .select(chat_conversation::id)
                    .for_update()
                    .first::<i32>(conn)
                    .await
                    .optional()?;
                if locked.is_none() {
                    return Ok(None);
                }
                delete_chosen!(postgres, conn, chat, choose, now, await).map(Some)
            },
        )
        .await
        .map_err(failure)?;
    let rows = deleted.ok_or(ChatError::ChatNotFound { owner, chat })?;
    Ok(into_messages(rows).map_err(StoreFailure::Unknown)?)
}
