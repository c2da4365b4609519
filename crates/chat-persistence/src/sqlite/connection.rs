//! Opening the SQLite database: where it lives, and the settings every connection takes.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::Context as _;
use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;

/// A pooled connection: sync diesel behind diesel-async's wrapper.
pub type SqliteConn = SyncConnectionWrapper<SqliteConnection>;

/// Where the database lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqliteTarget {
    /// `sqlite://PATH`: a file (its folder is created if missing).
    File(PathBuf),
    /// `sqlite::memory:`: one in-memory database shared by every connection of the store,
    /// through SQLite's `memdb` VFS (normal locking, unlike shared-cache mode).
    Memory,
}

/// Per-connection settings: foreign keys are off by default in SQLite; the busy timeout makes
/// writers wait for each other instead of failing at once; a page cache of 512 KiB, not 2 MB,
/// as each pooled connection keeps one (the operating system caches the file too).
pub fn connection_pragmas(busy_timeout: Duration) -> String {
    format!(
        "{} PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -512;",
        busy_timeout_pragma(busy_timeout)
    )
}

/// WAL lets readers run beside a writer. It is the database's, kept in the file, so it is set
/// once when the store opens: setting it takes a lock, which made every connection opened
/// while another process wrote fail at once.
const WAL: &str = "PRAGMA journal_mode = WAL;";

pub fn busy_timeout_pragma(wait: Duration) -> String {
    format!("PRAGMA busy_timeout = {};", wait.as_millis())
}

/// What every connection opens (a path, or the `file:` URI of the in-memory database), and
/// for an in-memory one the connection that keeps it alive. Sets the database up once (WAL).
pub fn open(
    target: &SqliteTarget,
    pragmas: &str,
) -> anyhow::Result<(String, Option<Mutex<SqliteConnection>>)> {
    Ok(match target {
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
    })
}
