//! Appending messages on PostgreSQL: the statements, and one append by its own statement.
//! Each stores all of a request's rows or none, in request order, stamped with the
//! transaction's `now()`, and moves the chat's `updated_at`; a chat that is not the caller's
//! gets no rows (404). Appends that arrive together go as a group (see `group`).

use chat_domain::{ChatError, ChatId, ChatMessage, MessageBatch, StoreFailure, UserId};
use diesel::sql_types::{Integer, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use scoped_futures::ScopedFutureExt as _;

use crate::fault::failure;
use crate::postgres::checkout::{Checkout, Retry};
use crate::prepared::prepared;
use crate::rows::{MessageRow, into_messages};

/// The statement that appends one request's rows to the chat that `$chat` (a CTE selecting
/// `id, neptun_user_id`) yields: in request order (`WITH ORDINALITY`), all stamped with the
/// transaction's `now()`. No chat, no rows: the caller tells "not found" from the empty result.
/// The messages come as JSON through `json_populate_recordset` over the table's own row type,
/// so each value takes its column's type: `text` in the service's tables, the app's enum in the
/// app's.
macro_rules! append_to_chat {
    ($chat:literal) => {
        concat!(
            "WITH chat AS (",
            $chat,
            ")
INSERT INTO chat_conversation_message
    (message, actor, neptun_user_id, chat_conversation_id, created_at, updated_at)
SELECT m.message, m.actor, chat.neptun_user_id, chat.id, now(), now()
FROM chat CROSS JOIN
    json_populate_recordset(NULL::chat_conversation_message, $3::json) WITH ORDINALITY AS m
ORDER BY m.ordinality
RETURNING id, message, actor::text AS actor, neptun_user_id, chat_conversation_id,
    created_at, updated_at"
        )
    };
}

/// One statement, so one transaction: it takes the chat row only if it is the owner's (locking
/// it, waiting for any other writer of that chat), moves its `updated_at` and appends.
pub const APPEND_MESSAGES: &str = append_to_chat!(
    "UPDATE chat_conversation SET updated_at = now()
    WHERE id = $1 AND neptun_user_id = $2
    RETURNING id, neptun_user_id"
);

/// [`APPEND_MESSAGES`] without waiting: a chat another transaction holds is skipped, and the
/// append gets no rows, as for a chat not found.
const APPEND_MESSAGES_SKIP_LOCKED: &str = append_to_chat!(
    "UPDATE chat_conversation SET updated_at = now()
    WHERE id = (SELECT id FROM chat_conversation
                WHERE id = $1 AND neptun_user_id = $2 FOR UPDATE SKIP LOCKED)
    RETURNING id, neptun_user_id"
);

/// Whether an append statement waits for its chat's lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lock {
    Wait,
    SkipLocked,
}

/// [`APPEND_MESSAGES`] for one or several requests, without waiting: each row names its chat
/// and owner, and only the chats that no other transaction holds are taken (in id order) and
/// written; the rows of a chat skipped get nothing back, like those of a chat not found.
pub(super) const APPEND_GROUP: &str = "\
WITH m AS (
    SELECT * FROM json_populate_recordset(NULL::chat_conversation_message, $1::json)
        WITH ORDINALITY
),
locked AS (
    SELECT c.id FROM chat_conversation c
    WHERE (c.id, c.neptun_user_id) IN (SELECT chat_conversation_id, neptun_user_id FROM m)
    ORDER BY c.id FOR UPDATE SKIP LOCKED
),
chat AS (
    UPDATE chat_conversation c SET updated_at = now() FROM locked WHERE c.id = locked.id
    RETURNING c.id, c.neptun_user_id
)
INSERT INTO chat_conversation_message
    (message, actor, neptun_user_id, chat_conversation_id, created_at, updated_at)
SELECT m.message, m.actor, chat.neptun_user_id, chat.id, now(), now()
FROM m JOIN chat ON chat.id = m.chat_conversation_id AND chat.neptun_user_id = m.neptun_user_id
ORDER BY m.ordinality
RETURNING id, message, actor::text AS actor, neptun_user_id, chat_conversation_id,
    created_at, updated_at";

/// A batch as the statements take it: JSON rows that name their chat and owner.
pub(super) fn json_rows(owner: UserId, chat: ChatId, batch: &MessageBatch) -> String {
    let rows: Vec<serde_json::Value> = batch
        .messages()
        .iter()
        .map(|m| {
            serde_json::json!({
                "message": m.text.as_str(), "actor": m.actor.as_str(),
                "chat_conversation_id": chat.get(), "neptun_user_id": owner.get(),
            })
        })
        .collect();
    serde_json::Value::Array(rows).to_string()
}

/// Appends the batch alone (see [`APPEND_MESSAGES`]); inside a keyed write's transaction or not.
pub async fn append(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    chat: ChatId,
    batch: &MessageBatch,
) -> Result<Vec<ChatMessage>, ChatError> {
    let json = json_rows(owner, chat, batch);
    let rows = append_rows(conn, owner, chat, json, Lock::Wait).await?;
    found(rows, owner, chat)
}

pub(super) async fn append_rows(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    chat: ChatId,
    json: String,
    lock: Lock,
) -> Result<Vec<MessageRow>, StoreFailure> {
    let statement = match lock {
        Lock::Wait => APPEND_MESSAGES,
        Lock::SkipLocked => APPEND_MESSAGES_SKIP_LOCKED,
    };
    prepared(
        diesel::sql_query(statement)
            .bind::<Integer, _>(chat.get())
            .bind::<Integer, _>(owner.get())
            .bind::<Text, _>(json),
    )
    .load(conn)
    .await
    .map_err(failure)
}

pub(super) fn found(
    rows: Vec<MessageRow>,
    owner: UserId,
    chat: ChatId,
) -> Result<Vec<ChatMessage>, ChatError> {
    if rows.is_empty() {
        return Err(ChatError::ChatNotFound { owner, chat });
    }
    Ok(into_messages(rows).map_err(StoreFailure::Unknown)?)
}

/// One append by its own statement, on the caller's task.
pub(super) async fn append_alone(
    checkout: &Checkout,
    owner: UserId,
    chat: ChatId,
    json: String,
    lock: Lock,
) -> Result<Vec<MessageRow>, StoreFailure> {
    checkout
        .run(Retry::Aborted, |conn| {
            let json = json.clone();
            async move { append_rows(conn, owner, chat, json, lock).await }.scope_boxed()
        })
        .await
}
