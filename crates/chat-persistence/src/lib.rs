//! The persistence adapter: the domain's `ChatStore` port on PostgreSQL (production) or SQLite
//! (the embedded default), with diesel + diesel-async, and the embedded migrations of each.

use std::time::Duration;

use secrecy::SecretString;

mod app_secret;
mod fault;
mod keys;
pub mod migrate;
mod pool;
pub mod postgres;
mod prepared;
mod queries;
mod rows;
pub mod schema;
mod sharing;
mod sharing_rows;
pub mod sqlite;
pub mod store;

pub use migrate::Direction as MigrationDirection;
pub use postgres::PgStore;
pub use sqlite::{SqliteStore, SqliteTarget};
pub use store::{Backend, PoolStatus, Store};

/// How to reach the database and how long to wait for it.
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    /// `postgres://...`, `sqlite://PATH` or `sqlite::memory:`.
    pub url: SecretString,
    pub pool_size: usize,
    /// PostgreSQL: how many HTTP workers run requests; `pool_size` is split among them, each
    /// with a pool of its own.
    pub pool_threads: usize,
    /// How long a request waits for a free connection before it is answered 503.
    pub pool_wait: Duration,
    /// How long opening a new connection may take.
    pub connect_timeout: Duration,
    /// PostgreSQL: the server-side limit on one statement, so that a stuck query frees its
    /// connection.
    pub statement_timeout: Duration,
    /// SQLite: how long a writer waits for another's lock before it is answered 503.
    pub busy_timeout: Duration,
    /// PostgreSQL: how many appends may wait for an append statement's turn; past that, 503.
    pub append_queue: usize,
    /// How long an idempotency key and its answer are kept (and replayed).
    pub key_ttl: Duration,
    /// PostgreSQL: prepare each statement once per connection. Off: nothing is prepared
    /// beyond one use, and every operation is a transaction (see `pg_checkout`), for a
    /// transaction-pooling PgBouncer before 1.21.
    pub statement_cache: bool,
    /// The app's `CRYPTO_SECRET`: share passwords and e-mail addresses are kept encrypted with
    /// it, as the app keeps them.
    pub app_secret: SecretString,
    /// On the app's database (adopted), whether `system` messages may be stored: the app's AI
    /// route refuses a chat that holds one.
    pub app_system_actor: bool,
    /// PostgreSQL: where migrations run, when not at `url` (they need a session of their own:
    /// an advisory lock, `CREATE INDEX CONCURRENTLY`; a transaction-pooling PgBouncer has none).
    pub migration_url: Option<SecretString>,
}
