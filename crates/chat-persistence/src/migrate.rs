//! Migrations, embedded in the binary.
//!
//! diesel's migration harness is synchronous; it runs on an `AsyncConnectionWrapper` inside
//! `spawn_blocking`, because the wrapper blocks on the async connection (which panics on a
//! thread that is driving a single-threaded runtime, such as actix's).

use anyhow::Context as _;
use diesel::RunQueryDsl as _;
use diesel::connection::Connection as _;
use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use secrecy::{ExposeSecret, SecretString};

pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// Any constant shared by every instance: the advisory lock that keeps two instances starting at
/// once from applying the same migration twice.
const MIGRATION_LOCK_KEY: i64 = 0x6e65_7074_756e; // "neptun"

/// Applies the pending migrations; returns the versions applied.
pub async fn run_postgres_migrations(url: &SecretString) -> anyhow::Result<Vec<String>> {
    let url = url.expose_secret().to_owned();
    tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<String>> {
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url)
            .context("connecting to PostgreSQL to migrate")?;
        diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
            .execute(&mut conn)
            .context("taking the migration lock")?;
        let applied = conn
            .run_pending_migrations(POSTGRES_MIGRATIONS)
            .map(|versions| versions.iter().map(ToString::to_string).collect())
            .map_err(|e| anyhow::anyhow!(e).context("applying migrations"));
        // The lock ends with the session anyway; unlocking is a courtesy.
        let _ = diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
            .execute(&mut conn);
        applied
    })
    .await
    .context("the migration task failed")?
}
