//! Idempotency keys on both backends (see [`chat_domain::ChatStore`] for the rules): a write
//! with a key runs in a transaction that first claims the key, and keeps the write's recorded
//! answer with it before it commits. A failed write rolls back, so no key is kept for it.
//!
//! PostgreSQL: the claim is a transaction-scoped advisory lock on the owner's key, taken
//! without waiting, so a retry while the first request runs is told so (409) on any instance;
//! it is released by the commit that keeps the answer, or by the rollback, or by the server
//! when the connection dies. SQLite: writes are serialized by its IMMEDIATE transactions, so
//! a retry waits for the first request and then replays its answer.

use std::time::Duration;

use chat_domain::{KeptKey, Once, Recorded, StoreFailure};
use diesel::QueryableByName;
use diesel::sql_types::{Binary, Integer};

/// The table, and the row a lookup reads.
pub(crate) const TABLE: &str = "chat_service_idempotency_key";

#[derive(QueryableByName)]
pub(crate) struct KeyRow {
    #[diesel(sql_type = Binary)]
    fingerprint: Vec<u8>,
    #[diesel(sql_type = Integer)]
    status: i32,
    #[diesel(sql_type = Binary)]
    body: Vec<u8>,
}

impl KeyRow {
    pub(crate) fn into_kept(self) -> Result<KeptKey, StoreFailure> {
        let status = u16::try_from(self.status)
            .map_err(|_| StoreFailure::Unknown(anyhow::anyhow!("kept status {}", self.status)))?;
        Ok(KeptKey {
            fingerprint: self.fingerprint,
            answer: Recorded {
                status,
                body: self.body,
            },
        })
    }
}

/// The answer a write keeps with its key: its result, recorded.
pub(crate) fn record<T>(once: &Once<T>, result: &T) -> Result<Recorded, StoreFailure> {
    (once.record)(result).map_err(StoreFailure::Unknown)
}

pub(crate) fn millis(ttl: Duration) -> i64 {
    i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX)
}
