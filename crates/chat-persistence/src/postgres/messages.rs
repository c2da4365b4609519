//! Reading and deleting a chat's messages on PostgreSQL.

use chat_domain::{
    Actor, ChatError, ChatId, ChatMessage, MessageId, MessageListQuery, StoreFailure, UserId,
};
use diesel::dsl::now;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};

use crate::fault::failure;
use crate::queries::{delete_chosen, messages_page_query, owned_chat};
use crate::rows::{MessageRow, into_messages};
use crate::schema::postgres::chat_conversation;

/// A page of the owner's chat's messages: the owner check and the page pipelined on the one
/// connection, one round trip (the page is read even when the chat is not the owner's, and
/// then discarded).
pub async fn messages_page(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    chat: ChatId,
    query: &MessageListQuery,
    limit: usize,
) -> Result<Vec<MessageRow>, ChatError> {
    let conn: &AsyncPgConnection = conn;
    let (exists, rows) = futures_util::future::join(
        owned_chat!(postgres, owner, chat)
            .select(chat_conversation::id)
            .first::<i32>(&mut &*conn),
        messages_page_query!(postgres, Pg, chat, query, limit).load::<MessageRow>(&mut &*conn),
    )
    .await;
    if exists.optional().map_err(failure)?.is_none() {
        return Err(ChatError::ChatNotFound { owner, chat });
    }
    Ok(rows.map_err(failure)?)
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
