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

use chat_domain::{KeptKey, KeyConflict, Once, Recorded, StoreFailure, UserId, Written};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Binary, Integer, Text};

use crate::fault::failure;
use crate::prepared::prepared;

/// The table, and the row a lookup reads.
const TABLE: &str = "chat_service_idempotency_key";

#[derive(QueryableByName)]
struct KeyRow {
    #[diesel(sql_type = Binary)]
    fingerprint: Vec<u8>,
    #[diesel(sql_type = Integer)]
    status: i32,
    #[diesel(sql_type = Binary)]
    body: Vec<u8>,
}

impl KeyRow {
    fn into_kept(self) -> Result<KeptKey, StoreFailure> {
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
fn record<T>(once: &Once<T>, result: &T) -> Result<Recorded, StoreFailure> {
    (once.record)(result).map_err(StoreFailure::Unknown)
}

fn millis(ttl: Duration) -> i64 {
    i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX)
}

pub mod postgres {
    use diesel_async::{
        AnsiTransactionManager, AsyncPgConnection, RunQueryDsl, TransactionManager,
    };

    use super::*;

    type Tm = AnsiTransactionManager;

    /// Begins a keyed write: without a key, nothing. With one: a transaction is open and the
    /// key claimed (`Ok(None)`: make the write, then [`keep`]), or the key's answer is known
    /// and the transaction closed again (`Ok(Some)`: the replay, or a conflict).
    pub async fn claim<T, E>(
        conn: &mut AsyncPgConnection,
        owner: UserId,
        once: Option<&Once<T>>,
        ttl: Duration,
    ) -> Result<Option<Written<T>>, E>
    where
        E: From<KeyConflict> + From<StoreFailure>,
    {
        let Some(once) = once else { return Ok(None) };
        Tm::begin_transaction(conn).await.map_err(failure)?;
        let found = match lookup::<T, E>(conn, owner, once, ttl).await {
            Ok(None) => return Ok(None),
            other => other,
        };
        // Nothing was written: the rollback only ends the transaction (and frees the lock).
        Tm::rollback_transaction(conn).await.map_err(failure)?;
        Ok(found?
            .map(|kept| kept.replay(&once.fingerprint))
            .transpose()?)
    }

    /// Locks the key (or answers `InProgress`) and reads what it holds, if it is current.
    async fn lookup<T, E>(
        conn: &mut AsyncPgConnection,
        owner: UserId,
        once: &Once<T>,
        ttl: Duration,
    ) -> Result<Option<KeptKey>, E>
    where
        E: From<KeyConflict> + From<StoreFailure>,
    {
        #[derive(QueryableByName)]
        struct Locked {
            #[diesel(sql_type = diesel::sql_types::Bool)]
            locked: bool,
        }
        let lock = prepared(
            diesel::sql_query(
                "SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS locked",
            )
            .bind::<Text, _>(format!("{TABLE}:{}:{}", owner.get(), once.key.as_str())),
        )
        .get_result::<Locked>(conn)
        .await
        .map_err(failure)?;
        if !lock.locked {
            return Err(KeyConflict::InProgress.into());
        }
        // A statement of its own, after the lock: its snapshot sees the answer of a request
        // that held the lock before.
        let found = prepared(
            diesel::sql_query(format!(
                "SELECT fingerprint, status::int AS status, body FROM {TABLE} \
             WHERE neptun_user_id = $1 AND key = $2 \
               AND created_at > now() - $3 * interval '1 millisecond'"
            ))
            .bind::<BigInt, _>(i64::from(owner.get()))
            .bind::<Text, _>(once.key.as_str())
            .bind::<BigInt, _>(millis(ttl)),
        )
        .get_results::<KeyRow>(conn)
        .await
        .map_err(failure)?;
        Ok(found
            .into_iter()
            .next()
            .map(KeyRow::into_kept)
            .transpose()?)
    }

    /// Ends a keyed write begun by [`claim`]: a success keeps its answer with the key and
    /// commits; a failure rolls back. Without a key, the result as it is.
    pub async fn keep<T, E>(
        conn: &mut AsyncPgConnection,
        owner: UserId,
        once: Option<&Once<T>>,
        result: Result<T, E>,
    ) -> Result<Written<T>, E>
    where
        E: From<StoreFailure>,
    {
        let Some(once) = once else {
            return result.map(Written::Done);
        };
        let kept = match result {
            Ok(value) => insert(conn, owner, once, &value).await,
            Err(e) => Err(e),
        };
        match kept {
            Ok(answer) => {
                Tm::commit_transaction(conn).await.map_err(failure)?;
                Ok(Written::Kept {
                    answer,
                    replayed: false,
                })
            }
            Err(e) => {
                // A failed rollback leaves the connection marked broken: the pool drops it.
                let _ = Tm::rollback_transaction(conn).await;
                Err(e)
            }
        }
    }

    async fn insert<T, E: From<StoreFailure>>(
        conn: &mut AsyncPgConnection,
        owner: UserId,
        once: &Once<T>,
        value: &T,
    ) -> Result<Recorded, E> {
        let answer = record(once, value)?;
        prepared(
            diesel::sql_query(format!(
                "INSERT INTO {TABLE} AS k \
                 (neptun_user_id, key, operation, fingerprint, status, body, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, now()) \
             ON CONFLICT (neptun_user_id, key) DO UPDATE SET operation = excluded.operation, \
                 fingerprint = excluded.fingerprint, status = excluded.status, \
                 body = excluded.body, created_at = excluded.created_at"
            ))
            .bind::<BigInt, _>(i64::from(owner.get()))
            .bind::<Text, _>(once.key.as_str())
            .bind::<Text, _>(once.operation)
            .bind::<Binary, _>(&once.fingerprint)
            .bind::<Integer, _>(i32::from(answer.status))
            .bind::<Binary, _>(&answer.body),
        )
        .execute(conn)
        .await
        .map_err(failure)?;
        Ok(answer)
    }

    /// Deletes the keys older than `ttl`; returns how many.
    pub async fn purge(conn: &mut AsyncPgConnection, ttl: Duration) -> Result<u64, StoreFailure> {
        let deleted = prepared(
            diesel::sql_query(format!(
                "DELETE FROM {TABLE} WHERE created_at <= now() - $1 * interval '1 millisecond'"
            ))
            .bind::<BigInt, _>(millis(ttl)),
        )
        .execute(conn)
        .await
        .map_err(failure)?;
        Ok(deleted as u64)
    }
}

pub mod sqlite {
    use chrono::Utc;
    use diesel::prelude::*;
    use diesel::sql_types::TimestamptzSqlite;

    use super::*;
    use crate::sqlite::SqliteTime;

    /// A failure inside the transaction: the database's, or the write's own.
    enum Tx<E> {
        Db(diesel::result::Error),
        Op(E),
    }

    impl<E> From<diesel::result::Error> for Tx<E> {
        fn from(e: diesel::result::Error) -> Self {
            Self::Db(e)
        }
    }

    /// Runs `write` in an IMMEDIATE transaction (the write lock first, so writers queue instead
    /// of deadlocking), at most once per key when there is one: a current key's answer is
    /// replayed instead, and a write's answer is kept with its key before the commit.
    pub fn once<T, E>(
        conn: &mut SqliteConnection,
        owner: UserId,
        once: Option<&Once<T>>,
        ttl: Duration,
        write: impl FnOnce(&mut SqliteConnection) -> Result<T, E>,
    ) -> Result<Written<T>, E>
    where
        E: From<KeyConflict> + From<StoreFailure>,
    {
        let outcome = conn.immediate_transaction(|conn| -> Result<Written<T>, Tx<E>> {
            if let Some(once) = once
                && let Some(kept) = find(conn, owner, once, ttl)?
            {
                return kept.replay(&once.fingerprint).map_err(|c| Tx::Op(c.into()));
            }
            let value = write(conn).map_err(Tx::Op)?;
            let Some(once) = once else {
                return Ok(Written::Done(value));
            };
            let answer = record(once, &value).map_err(|f| Tx::Op(f.into()))?;
            insert(conn, owner, once, &answer)?;
            Ok(Written::Kept {
                answer,
                replayed: false,
            })
        });
        outcome.map_err(|e| match e {
            Tx::Db(e) => failure(e).into(),
            Tx::Op(e) => e,
        })
    }

    fn cutoff(ttl: Duration) -> SqliteTime {
        let ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX);
        SqliteTime(Utc::now().checked_sub_signed(ttl).unwrap_or_default())
    }

    fn find<T>(
        conn: &mut SqliteConnection,
        owner: UserId,
        once: &Once<T>,
        ttl: Duration,
    ) -> QueryResult<Option<KeptKey>> {
        let found = prepared(
            diesel::sql_query(format!(
                "SELECT fingerprint, status, body FROM {TABLE} \
             WHERE neptun_user_id = ? AND key = ? AND created_at > ?"
            ))
            .bind::<BigInt, _>(i64::from(owner.get()))
            .bind::<Text, _>(once.key.as_str())
            .bind::<TimestamptzSqlite, _>(cutoff(ttl)),
        )
        .get_results::<KeyRow>(conn)?;
        found
            .into_iter()
            .next()
            .map(KeyRow::into_kept)
            .transpose()
            .map_err(|f| diesel::result::Error::DeserializationError(f.into()))
    }

    fn insert<T>(
        conn: &mut SqliteConnection,
        owner: UserId,
        once: &Once<T>,
        answer: &Recorded,
    ) -> QueryResult<()> {
        prepared(
            diesel::sql_query(format!(
                "INSERT INTO {TABLE} \
                 (neptun_user_id, key, operation, fingerprint, status, body, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (neptun_user_id, key) DO UPDATE SET operation = excluded.operation, \
                 fingerprint = excluded.fingerprint, status = excluded.status, \
                 body = excluded.body, created_at = excluded.created_at"
            ))
            .bind::<BigInt, _>(i64::from(owner.get()))
            .bind::<Text, _>(once.key.as_str())
            .bind::<Text, _>(once.operation)
            .bind::<Binary, _>(&once.fingerprint)
            .bind::<Integer, _>(i32::from(answer.status))
            .bind::<Binary, _>(&answer.body)
            .bind::<TimestamptzSqlite, _>(crate::sqlite::now()),
        )
        .execute(conn)
        .map(|_| ())
    }

    /// Deletes the keys older than `ttl`; returns how many.
    pub fn purge(conn: &mut SqliteConnection, ttl: Duration) -> QueryResult<u64> {
        prepared(
            diesel::sql_query(format!("DELETE FROM {TABLE} WHERE created_at <= ?"))
                .bind::<TimestamptzSqlite, _>(cutoff(ttl)),
        )
        .execute(conn)
        .map(|n| n as u64)
    }
}
