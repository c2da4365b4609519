//! Idempotency keys on SQLite (see the shared `keys` module for the rules).

use chrono::Utc;
use diesel::prelude::*;
use diesel::sql_types::TimestamptzSqlite;

use std::time::Duration;

use chat_domain::{KeptKey, KeyConflict, Once, Recorded, StoreFailure, UserId, Written};
use diesel::sql_types::{BigInt, Binary, Integer, Text};

use crate::fault::failure;
use crate::keys::{KeyRow, TABLE, record};
use crate::prepared::prepared;
use crate::sqlite::time::SqliteTime;

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
        .bind::<TimestamptzSqlite, _>(crate::sqlite::time::now()),
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
