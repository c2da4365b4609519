//! The store the binary runs on, chosen by `database.url`: PostgreSQL or SQLite. An enum rather
//! than `dyn`, so that the domain stays generic over one concrete `ChatStore`.

use anyhow::bail;
use chat_domain::{
    Actor, Chat, ChatCursor, ChatError, ChatId, ChatMessage, ChatName, ChatOrder, ChatSelection,
    ChatStore, CreateChatError, CreateUserError, EmailAddress, MessageBatch, MessageId,
    MessageListQuery, NewChat, Once, StoreFailure, UserId, Written,
};
use chat_domain::{
    ChatFile, FileError, FileStore, NewChatFile, ReadBudget, Share, ShareAccess, ShareError,
    ShareSettings, ShareStore, SharedMessage, WhitelistEntry,
};
use secrecy::ExposeSecret;

use crate::DatabaseSettings;
use crate::migrate::Direction;
use crate::postgres::PgStore;
use crate::sqlite::{SqliteStore, SqliteTarget};

/// A snapshot of a store's connection pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    pub max: usize,
    pub open: usize,
    pub in_use: usize,
    pub waiting: usize,
}

/// What a `database.url` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite(SqliteTarget),
}

impl Backend {
    /// `postgres://` or `postgresql://`; `sqlite://PATH` (relative, or absolute as
    /// `sqlite:///abs/path`); `sqlite::memory:`.
    pub fn from_url(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else if url == "sqlite::memory:" {
            Ok(Self::Sqlite(SqliteTarget::Memory))
        } else if let Some(path) = url.strip_prefix("sqlite://").filter(|p| !p.is_empty()) {
            Ok(Self::Sqlite(SqliteTarget::File(path.into())))
        } else {
            bail!(
                "database.url must start with postgres://, postgresql:// or sqlite:// \
                 (or be sqlite::memory:)"
            )
        }
    }
}

pub enum Store {
    Postgres(PgStore),
    Sqlite(SqliteStore),
}

impl Store {
    /// Builds the store `settings.url` names. No connection is opened (but an in-memory SQLite
    /// database is created).
    pub fn new(settings: &DatabaseSettings) -> anyhow::Result<Self> {
        Ok(match Backend::from_url(settings.url.expose_secret())? {
            Backend::Postgres => Self::Postgres(PgStore::new(settings)?),
            Backend::Sqlite(target) => Self::Sqlite(SqliteStore::new(&target, settings)?),
        })
    }
}

/// Forwards a `ChatStore` method to the backend the store runs on, and records how long it
/// took (`db_operation_duration_seconds{operation}`).
macro_rules! forward {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {{
        let started = std::time::Instant::now();
        let result = match $self {
            Store::Postgres(s) => s.$method($($arg),*).await,
            Store::Sqlite(s) => s.$method($($arg),*).await,
        };
        metrics::histogram!("db_operation_duration_seconds", "operation" => stringify!($method))
            .record(started.elapsed().as_secs_f64());
        result
    }};
}

impl Store {
    /// Runs the migrations of the store's backend `direction`; returns the versions applied
    /// or reverted.
    pub async fn migrate(&self, direction: Direction) -> anyhow::Result<Vec<String>> {
        forward!(self.migrate(direction))
    }

    /// The connection pool now: its connections, those in use, and the requests waiting.
    pub fn pool_status(&self) -> PoolStatus {
        let status = match self {
            Self::Postgres(s) => s.pool_status(),
            Self::Sqlite(s) => s.pool_status(),
        };
        PoolStatus {
            max: status.max_size,
            open: status.size,
            in_use: status.size.saturating_sub(status.available),
            waiting: status.waiting,
        }
    }

    /// Where the data is, for logs: `host:port/database` or the SQLite file (never a password).
    pub fn location(&self) -> String {
        match self {
            Self::Postgres(s) => s.location(),
            Self::Sqlite(s) => s.location(),
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Postgres(_) => "postgres",
            Self::Sqlite(_) => "sqlite",
        }
    }
}

impl FileStore for Store {
    async fn chat_files(&self, owner: UserId, chat: ChatId) -> Result<Vec<ChatFile>, ChatError> {
        forward!(self.chat_files(owner, chat))
    }

    async fn save_files(
        &self,
        owner: UserId,
        chat: ChatId,
        message: MessageId,
        files: &[NewChatFile],
    ) -> Result<Vec<ChatFile>, FileError> {
        forward!(self.save_files(owner, chat, message, files))
    }
}

impl ShareStore for Store {
    async fn chat_share(&self, owner: UserId, chat: ChatId) -> Result<Option<Share>, ShareError> {
        forward!(self.chat_share(owner, chat))
    }

    async fn publish(
        &self,
        owner: UserId,
        chat: ChatId,
        settings: &ShareSettings,
    ) -> Result<Share, ShareError> {
        forward!(self.publish(owner, chat, settings))
    }

    async fn whitelist(
        &self,
        owner: UserId,
        chat: ChatId,
        share: i32,
        emails: &[EmailAddress],
    ) -> Result<Vec<WhitelistEntry>, ShareError> {
        forward!(self.whitelist(owner, chat, share, emails))
    }

    async fn share_access(
        &self,
        uuid: &str,
        password: Option<&str>,
    ) -> Result<Option<ShareAccess>, StoreFailure> {
        forward!(self.share_access(uuid, password))
    }

    async fn shared_messages(&self, share: &Share) -> Result<Vec<SharedMessage>, StoreFailure> {
        forward!(self.shared_messages(share))
    }
}

impl ChatStore for Store {
    async fn append_messages(
        &self,
        owner: UserId,
        chat: ChatId,
        batch: &MessageBatch,
        once: Option<&Once<Vec<ChatMessage>>>,
    ) -> Result<Written<Vec<ChatMessage>>, ChatError> {
        forward!(self.append_messages(owner, chat, batch, once))
    }

    async fn create_user(&self, email: &EmailAddress) -> Result<UserId, CreateUserError> {
        forward!(self.create_user(email))
    }

    async fn create_chat(
        &self,
        chat: &NewChat,
        once: Option<&Once<Chat>>,
    ) -> Result<Written<Chat>, CreateChatError> {
        forward!(self.create_chat(chat, once))
    }

    async fn is_empty(&self) -> Result<bool, StoreFailure> {
        forward!(self.is_empty())
    }

    async fn list_chats(
        &self,
        owner: UserId,
        order: &ChatOrder,
        after: Option<&ChatCursor>,
        limit: usize,
        budget: ReadBudget,
    ) -> Result<Vec<Chat>, StoreFailure> {
        forward!(self.list_chats(owner, order, after, limit, budget))
    }

    async fn get_chat(&self, owner: UserId, chat: ChatId) -> Result<Chat, ChatError> {
        forward!(self.get_chat(owner, chat))
    }

    async fn rename_chat(
        &self,
        owner: UserId,
        chat: ChatId,
        name: &ChatName,
    ) -> Result<Chat, ChatError> {
        forward!(self.rename_chat(owner, chat, name))
    }

    async fn delete_chat(&self, owner: UserId, chat: ChatId) -> Result<Chat, ChatError> {
        forward!(self.delete_chat(owner, chat))
    }

    async fn delete_chats(
        &self,
        owner: UserId,
        chats: &ChatSelection,
    ) -> Result<u64, StoreFailure> {
        forward!(self.delete_chats(owner, chats))
    }

    async fn list_messages(
        &self,
        owner: UserId,
        chat: ChatId,
        query: &MessageListQuery,
        limit: usize,
        budget: ReadBudget,
    ) -> Result<Vec<ChatMessage>, ChatError> {
        forward!(self.list_messages(owner, chat, query, limit, budget))
    }

    async fn delete_messages_where(
        &self,
        owner: UserId,
        chat: ChatId,
        choose: fn(&[(MessageId, Actor)]) -> Vec<MessageId>,
        once: Option<&Once<Vec<ChatMessage>>>,
    ) -> Result<Written<Vec<ChatMessage>>, ChatError> {
        forward!(self.delete_messages_where(owner, chat, choose, once))
    }

    async fn purge_expired_keys(&self) -> Result<u64, StoreFailure> {
        forward!(self.purge_expired_keys())
    }

    async fn schema_is_current(&self) -> Result<bool, StoreFailure> {
        forward!(self.schema_is_current())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_chooses_the_backend() {
        assert_eq!(
            Backend::from_url("postgres://u@h/db").unwrap(),
            Backend::Postgres
        );
        assert_eq!(
            Backend::from_url("postgresql://u@h/db").unwrap(),
            Backend::Postgres
        );
        assert_eq!(
            Backend::from_url("sqlite://data/chat.db").unwrap(),
            Backend::Sqlite(SqliteTarget::File("data/chat.db".into()))
        );
        assert_eq!(
            Backend::from_url("sqlite:///var/lib/chat.db").unwrap(),
            Backend::Sqlite(SqliteTarget::File("/var/lib/chat.db".into()))
        );
        assert_eq!(
            Backend::from_url("sqlite::memory:").unwrap(),
            Backend::Sqlite(SqliteTarget::Memory)
        );
        for bad in [
            "",
            "sqlite://",
            "mysql://x",
            "data/chat.db",
            "sqlite:chat.db",
        ] {
            assert!(Backend::from_url(bad).is_err(), "{bad}");
        }
    }
}
