//! The writers' queue. SQLite takes one writer at a time, and its busy handler polls with
//! sleeps of up to 100 ms, so writers that queued on it waited far longer than on a FIFO lock
//! of the process's own: writes take turns here first. `database.busy_timeout_ms` bounds a
//! write's whole wait: its turn, a connection, and the file's lock, which other processes may
//! hold (SQLite's own busy timeout gets what is left). Past it the write is refused as
//! unavailable, having stored nothing.

use std::time::Duration;

use chat_domain::StoreFailure;
use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use tokio::time::{Instant, timeout_at};

use crate::fault::{failure, pool_failure};
use crate::sqlite::connection::{SqliteConn, busy_timeout_pragma};

pub struct Writers {
    turn: tokio::sync::Mutex<()>,
    /// The longest a write waits in all.
    bound: Duration,
}

impl Writers {
    pub fn new(bound: Duration) -> Self {
        Self {
            turn: tokio::sync::Mutex::new(()),
            bound,
        }
    }

    /// Runs `op` on a pooled connection, on a blocking thread, on this write's turn.
    pub async fn write<R: Send + 'static>(
        &self,
        pool: &Pool<SqliteConn>,
        op: impl FnOnce(&mut SqliteConnection) -> R + Send + 'static,
    ) -> Result<R, StoreFailure> {
        let deadline = Instant::now() + self.bound;
        let waited = || {
            StoreFailure::Unavailable(anyhow::anyhow!(
                "a write waited database.busy_timeout ({:?}) for its turn",
                self.bound
            ))
        };
        let _turn = timeout_at(deadline, self.turn.lock())
            .await
            .map_err(|_| waited())?;
        let mut conn: Object<SqliteConn> = timeout_at(deadline, pool.get())
            .await
            .map_err(|_| waited())?
            .map_err(pool_failure)?;
        let left = deadline.saturating_duration_since(Instant::now());
        let full = self.bound;
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
}
