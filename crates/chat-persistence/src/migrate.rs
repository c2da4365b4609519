//! Migrations, embedded in the binary: one folder per backend.
//!
//! diesel's migration harness is synchronous. PostgreSQL's runs on an `AsyncConnectionWrapper`
//! inside `spawn_blocking`, because the wrapper blocks on the async connection (which panics on
//! a thread that drives a single-threaded runtime, such as actix's); SQLite's connection is
//! synchronous already.

use anyhow::Context as _;
use diesel::RunQueryDsl as _;
use diesel::SqliteConnection;
use diesel::connection::{Connection as _, SimpleConnection as _};
use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::pg_connect::PgTarget;

pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// Any constant shared by every instance: the advisory lock that keeps two instances starting at
/// once from applying the same migration twice.
const MIGRATION_LOCK_KEY: i64 = 0x6e65_7074_756e; // "neptun"

fn applied<C>(conn: &mut C, migrations: EmbeddedMigrations) -> anyhow::Result<Vec<String>>
where
    C: MigrationHarness<C::Backend> + diesel::Connection,
{
    conn.run_pending_migrations(migrations)
        .map(|versions| versions.iter().map(ToString::to_string).collect())
        .map_err(|e| anyhow::anyhow!(e).context("applying migrations"))
}

/// Applies the pending PostgreSQL migrations; returns the versions applied.
pub async fn run_postgres_migrations(target: &PgTarget) -> anyhow::Result<Vec<String>> {
    let conn = target
        .connect()
        .await
        .context("connecting to PostgreSQL to migrate")?;
    tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<String>> {
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::from(conn);
        diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
            .execute(&mut conn)
            .context("taking the migration lock")?;
        let result = applied(&mut conn, POSTGRES_MIGRATIONS);
        // The lock ends with the session anyway; unlocking is a courtesy.
        let _ = diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
            .execute(&mut conn);
        result
    })
    .await
    .context("the migration task failed")?
}

/// Applies the pending SQLite migrations to the database `open` names (a path or `file:` URI).
pub async fn run_sqlite_migrations(open: &str) -> anyhow::Result<Vec<String>> {
    let open = open.to_owned();
    tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<String>> {
        let mut conn = SqliteConnection::establish(&open)
            .with_context(|| format!("opening the SQLite database {open}"))?;
        // Another instance may be writing; wait for it rather than fail.
        conn.batch_execute("PRAGMA busy_timeout = 10000;")?;
        applied(&mut conn, SQLITE_MIGRATIONS)
    })
    .await
    .context("the migration task failed")?
}
