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

use crate::postgres::connect::PgTarget;

pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// Any constant shared by every instance: the advisory lock that keeps two instances starting at
/// once from applying the same migration twice.
const MIGRATION_LOCK_KEY: i64 = 0x6e65_7074_756e; // "neptun"

/// Which way to run the migrations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Apply the pending ones.
    Up,
    /// Revert every applied one (on an adopted database, the app's tables and rows stay).
    Down,
}

fn run<C>(
    conn: &mut C,
    migrations: EmbeddedMigrations,
    direction: Direction,
) -> anyhow::Result<Vec<String>>
where
    C: MigrationHarness<C::Backend> + diesel::Connection,
{
    let versions = match direction {
        Direction::Up => conn.run_pending_migrations(migrations),
        Direction::Down => conn.revert_all_migrations(migrations),
    };
    versions
        .map(|versions| versions.iter().map(ToString::to_string).collect())
        .map_err(|e| anyhow::anyhow!(e).context(format!("running migrations {direction:?}")))
}

/// Runs the PostgreSQL migrations `direction`; returns the versions applied or reverted.
pub async fn run_postgres_migrations(
    target: &PgTarget,
    direction: Direction,
) -> anyhow::Result<Vec<String>> {
    let conn = target
        .connect()
        .await
        .context("connecting to PostgreSQL to migrate")?;
    tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<String>> {
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::from(conn);
        diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
            .execute(&mut conn)
            .context("taking the migration lock")?;
        let result = run(&mut conn, POSTGRES_MIGRATIONS, direction);
        // The lock ends with the session anyway; unlocking is a courtesy.
        let _ = diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
            .execute(&mut conn);
        result
    })
    .await
    .context("the migration task failed")?
}

/// Runs the SQLite migrations `direction` on the database `open` names (a path or `file:` URI).
pub async fn run_sqlite_migrations(
    open: &str,
    direction: Direction,
) -> anyhow::Result<Vec<String>> {
    let open = open.to_owned();
    tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<String>> {
        let mut conn = SqliteConnection::establish(&open)
            .with_context(|| format!("opening the SQLite database {open}"))?;
        // Another instance may be writing; wait for it rather than fail.
        conn.batch_execute("PRAGMA busy_timeout = 10000;")?;
        run(&mut conn, SQLITE_MIGRATIONS, direction)
    })
    .await
    .context("the migration task failed")?
}

/// The newest version among `migrations`: what a current schema has applied last.
pub fn latest_version<DB: diesel::backend::Backend>(
    migrations: &EmbeddedMigrations,
) -> Option<String>
where
    EmbeddedMigrations: diesel::migration::MigrationSource<DB>,
{
    let all = diesel::migration::MigrationSource::<DB>::migrations(migrations).ok()?;
    all.iter().map(|m| m.name().version().to_string()).max()
}

/// The newest version a database has applied (diesel's own table), as a query of one row.
pub const APPLIED_VERSION: &str = "SELECT max(version) AS version FROM __diesel_schema_migrations";

#[derive(diesel::QueryableByName)]
pub struct AppliedVersion {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub version: Option<String>,
}
