//! The chat store on PostgreSQL: a deadpool of diesel-async connections.

mod actors;
mod append;
mod chats;
mod checkout;
pub mod connect;
mod files;
mod group;
mod keys;
mod messages;
mod shares;

use std::sync::Arc;

use std::time::Duration;

use chat_domain::{
    Actor, Chat, ChatCursor, ChatError, ChatId, ChatMessage, ChatName, ChatOrder, ChatSelection,
    ChatStore, CreateChatError, CreateUserError, EmailAddress, MessageBatch, MessageId,
    MessageListQuery, NewChat, Once, ReadBudget, StoreFailure, UserId, Written,
};
use chrono::{DateTime, Utc};
use diesel::connection::CacheSize;
use diesel::dsl::now;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use scoped_futures::ScopedFutureExt as _;
use secrecy::ExposeSecret;

use self::connect::PgTarget;

use self::append::append;
use self::chats::{InsertChatError, chats_within, insert_chat, unknown_model};
use self::checkout::{Checkout, Retry, settings_sql};
use self::group::Grouper;
use self::keys::{claim, keep, purge};
use self::messages::{delete_where, messages_page};
use crate::app_secret::AppSecret;
use crate::fault::{create_user_error, failure};
use crate::migrate::{
    APPLIED_VERSION, AppliedVersion, Direction, POSTGRES_MIGRATIONS, latest_version,
    run_postgres_migrations,
};
use crate::prepared::prepared;
use crate::queries::{
    any_user, chats_page_query, delete_chat, delete_chats, get_chat, insert_user, rename_chat,
};
use crate::rows::{ChatRow, convert, into_chat, into_user_id};
use crate::sharing::Sharing;
use crate::{DatabaseSettings, pool};

/// Timestamps bind as themselves on PostgreSQL (see the SQLite adapter for why it differs).
fn pg_time(t: DateTime<Utc>) -> DateTime<Utc> {
    t
}

#[derive(Clone)]
pub struct PgStore {
    checkout: Checkout,
    grouper: Grouper,
    /// Where migrations run: `database.migration_url`, else the service's own database.
    migration_target: Arc<PgTarget>,
    location: String,
    key_ttl: Duration,
    sharing: Sharing,
    /// Whether `system` messages may go to the app's actor enum (`database.app_system_actor`).
    app_system_actor: bool,
    /// Whether the tables are the app's, once asked (a fact of the database, which no
    /// instance changes while it runs).
    adopted: tokio::sync::OnceCell<bool>,
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
        // With the cache off, the settings are the transaction's (see `checkout`).
        let setup = match cache {
            true => settings_sql(settings.statement_timeout, false),
            false => String::new(),
        };
        let pools = pool::build_per_thread(&target.describe(), connect, setup, settings)?;
        let checkout = Checkout::new(pools, cache, settings.statement_timeout);
        Ok(Self {
            grouper: Grouper::new(checkout.clone(), settings.append_queue),
            checkout,
            migration_target,
            location: target.describe(),
            key_ttl: settings.key_ttl,
            sharing: Sharing::new(AppSecret::new(settings.app_secret.clone())),
            app_system_actor: settings.app_system_actor,
            adopted: tokio::sync::OnceCell::new(),
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
        self.checkout.pool_status()
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
        self.refuse_system_on_app_tables(batch).await?;
        let Some(once) = once else {
            // Without a key, with whatever other appends are waiting (group commit).
            return self
                .grouper
                .append(owner, chat, batch)
                .await
                .map(Written::Done);
        };
        let ttl = self.key_ttl;
        self.checkout
            .run(Retry::Aborted, |conn| {
                async move {
                    if let Some(answer) =
                        claim::<_, ChatError>(conn, owner, Some(once), ttl).await?
                    {
                        return Ok(answer);
                    }
                    let appended = append(conn, owner, chat, batch).await;
                    keep(conn, owner, Some(once), appended).await
                }
                .scope_boxed()
            })
            .await
    }

    async fn create_user(&self, email: &EmailAddress) -> Result<UserId, CreateUserError> {
        if self.is_adopted().await? {
            return Err(CreateUserError::ManagedByApp);
        }
        let id: i32 = self
            .checkout
            .run(Retry::Never, |conn| {
                async move {
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
            Err(refused) => Err(unknown_model(&self.checkout, refused, chat).await),
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
        budget: ReadBudget,
    ) -> Result<Vec<Chat>, StoreFailure> {
        self.checkout
            .run(Retry::Read, |conn| {
                async move {
                    let rows = chats_page_query!(postgres, Pg, pg_time, owner, order, after, limit)
                        .load_stream::<ChatRow>(conn)
                        .await
                        .map_err(failure)?;
                    chats_within(rows, budget).await
                }
                .scope_boxed()
            })
            .await
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
        budget: ReadBudget,
    ) -> Result<Vec<ChatMessage>, ChatError> {
        let rows = self
            .checkout
            .run(Retry::Read, |conn| {
                async move { messages_page(conn, owner, chat, query, limit, budget).await }
                    .scope_boxed()
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
