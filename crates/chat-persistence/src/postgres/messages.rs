//! Reading and deleting a chat's messages on PostgreSQL.

use chat_domain::{
    Actor, ChatError, ChatId, ChatMessage, Direction, MessageId, MessageListQuery, ReadBudget,
    StoreFailure, UserId,
};
use diesel::dsl::now;
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel::sql_types::{BigInt, Integer};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};

use crate::fault::failure;
use crate::prepared::prepared;
use crate::queries::{delete_chosen, owned_chat};
use crate::rows::{MessageRow, into_messages};
use crate::schema::postgres::chat_conversation;

/// A page of the owner's chat's messages within the read budget, in one direction: the running
/// total of the messages' costs (their bytes, plus `ReadBudget::ROW_COST` each) in the page's
/// order; a message is sent while the total before the message ahead of it is within the
/// budget, so one message past the budget comes too and tells that more follow. PostgreSQL runs
/// the window over the limited scan and reads `octet_length` from the value's header, so the
/// rows past the budget are neither sent nor detoasted. Someone else's chat reads as empty.
macro_rules! budgeted_page {
    ($direction:literal) => {
        concat!(
            "SELECT id, message, actor::text AS actor, neptun_user_id, chat_conversation_id,
    COALESCE(created_at, '1970-01-01 00:00:00.000+00:00') AS created_at,
    COALESCE(updated_at, '1970-01-01 00:00:00.000+00:00') AS updated_at
FROM (
    SELECT m.*, COALESCE(sum(octet_length(m.message) + $5) OVER (ORDER BY m.id ",
            $direction,
            "
        ROWS BETWEEN UNBOUNDED PRECEDING AND 2 PRECEDING), 0) AS ahead
    FROM chat_conversation_message m
    WHERE m.chat_conversation_id =
            (SELECT c.id FROM chat_conversation c WHERE c.id = $1 AND c.neptun_user_id = $7)
      AND m.id > $2 AND m.id < $3
    ORDER BY m.id ",
            $direction,
            " LIMIT $4
) page
WHERE ahead <= $6
ORDER BY id ",
            $direction
        )
    };
}

const PAGE_ASC: &str = budgeted_page!("ASC");
const PAGE_DESC: &str = budgeted_page!("DESC");

/// A page of the owner's chat's messages, the owner checked in the page's statement: one
/// statement, one round trip. Only an empty page asks whether the chat is the owner's (a
/// second statement in one more round trip costs PostgreSQL more than the page itself).
pub async fn messages_page(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    chat: ChatId,
    query: &MessageListQuery,
    limit: usize,
    budget: ReadBudget,
) -> Result<Vec<MessageRow>, ChatError> {
    let text = match query.direction {
        Direction::Asc => PAGE_ASC,
        Direction::Desc => PAGE_DESC,
    };
    let whole = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    let page = prepared(
        diesel::sql_query(text)
            .bind::<Integer, _>(chat.get())
            // No bound is the widest: ids are positive. A range, not `IS NULL OR`, so that the
            // chat's index serves it.
            .bind::<BigInt, _>(query.after.map_or(0, MessageId::get))
            .bind::<BigInt, _>(query.before.map_or(i64::MAX, MessageId::get))
            .bind::<BigInt, _>(whole(limit))
            .bind::<BigInt, _>(whole(ReadBudget::ROW_COST))
            .bind::<BigInt, _>(whole(budget.get()))
            .bind::<Integer, _>(owner.get()),
    );
    let rows = page.load::<MessageRow>(conn).await.map_err(failure)?;
    if rows.is_empty() {
        let owned = owned_chat!(postgres, owner, chat)
            .select(chat_conversation::id)
            .first::<i32>(conn)
            .await
            .optional()
            .map_err(failure)?;
        if owned.is_none() {
            return Err(ChatError::ChatNotFound { owner, chat });
        }
    }
    Ok(rows)
}

/// Deletes the messages `choose` picks, in a transaction (a savepoint inside a keyed write's)
/// that locks the chat first, so writers to it wait until this is done.
pub async fn delete_where(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    chat: ChatId,
    choose: fn(&[(MessageId, Actor)]) -> Vec<MessageId>,
) -> Result<Vec<ChatMessage>, ChatError> {
    let deleted = conn
        .transaction(
            async |conn| -> Result<Option<Vec<MessageRow>>, DieselError> {
                let locked = owned_chat!(postgres, owner, chat)
                    .select(chat_conversation::id)
                    .for_update()
                    .first::<i32>(conn)
                    .await
                    .optional()?;
                if locked.is_none() {
                    return Ok(None);
                }
                delete_chosen!(postgres, conn, chat, choose, now, await).map(Some)
            },
        )
        .await
        .map_err(failure)?;
    let rows = deleted.ok_or(ChatError::ChatNotFound { owner, chat })?;
    Ok(into_messages(rows).map_err(StoreFailure::Unknown)?)
}
