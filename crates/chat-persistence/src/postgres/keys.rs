//! Idempotency keys on PostgreSQL (see the shared `keys` module for the rules).

use diesel_async::{AnsiTransactionManager, AsyncPgConnection, RunQueryDsl, TransactionManager};

use std::time::Duration;

use chat_domain::{KeptKey, KeyConflict, Once, Recorded, StoreFailure, UserId, Written};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Binary, Integer, Text};

use crate::fault::failure;
use crate::keys::{KeyRow, TABLE, millis, record};
use crate::prepared::prepared;

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
        diesel::sql_query("SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS locked")
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
