//! Appending messages on SQLite: one `UPDATE` of the chat (the owner check) and one multi-row
//! `INSERT ... RETURNING`, inside the caller's write transaction.

use chat_domain::{ChatId, MessageBatch, UserId};
use diesel::prelude::*;

use crate::rows::{MessageRow, message_columns};
use crate::schema::sqlite::{chat_conversation, chat_conversation_message};
use crate::sqlite::time::SqliteTime;

/// One message row as SQLite gets it. No `Option` field and `treat_none_as_default_value =
/// false`, so that diesel writes a batch as one multi-row INSERT rather than one per row.
#[derive(Debug, Insertable)]
#[diesel(table_name = chat_conversation_message, treat_none_as_default_value = false)]
pub struct NewMessageRow {
    message: String,
    actor: &'static str,
    neptun_user_id: i32,
    chat_conversation_id: i32,
    created_at: SqliteTime,
    updated_at: SqliteTime,
}

pub fn new_message_rows(
    owner: UserId,
    chat: ChatId,
    now: SqliteTime,
    batch: &MessageBatch,
) -> Vec<NewMessageRow> {
    batch
        .messages()
        .iter()
        .map(|m| NewMessageRow {
            message: m.text.as_str().to_owned(),
            actor: m.actor.as_str(),
            neptun_user_id: owner.get(),
            chat_conversation_id: chat.get(),
            created_at: now,
            updated_at: now,
        })
        .collect()
}

/// Moves the chat's `updated_at` to `now` if the chat is the owner's, then inserts the rows;
/// `None` when there is no such chat. Runs inside the caller's transaction.
pub fn append(
    conn: &mut SqliteConnection,
    owner: UserId,
    chat: ChatId,
    now: SqliteTime,
    rows: &[NewMessageRow],
) -> QueryResult<Option<Vec<MessageRow>>> {
    let updated = diesel::update(
        chat_conversation::table
            .filter(chat_conversation::id.eq(chat.get()))
            .filter(chat_conversation::neptun_user_id.eq(owner.get())),
    )
    .set(chat_conversation::updated_at.eq(now))
    .execute(conn)?;
    if updated == 0 {
        return Ok(None);
    }
    // SQLite takes at most 32,766 bound values a statement: a large batch goes in chunks,
    // in order, in the same transaction.
    let mut stored = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(ROWS_A_STATEMENT) {
        stored.extend(
            diesel::insert_into(chat_conversation_message::table)
                .values(chunk)
                .returning(message_columns!(chat_conversation_message))
                .get_results::<MessageRow>(conn)?,
        );
    }
    Ok(Some(stored))
}

/// Rows of six values each, well within SQLite's 32,766 bound values a statement.
const ROWS_A_STATEMENT: usize = 5000;

#[cfg(test)]
mod tests {
    use chat_domain::{Actor, MessageLimits, MessageText, NewMessage};
    use diesel::sqlite::Sqlite;

    use super::*;
    use crate::sqlite::time::now;

    #[test]
    fn a_batch_is_one_multi_row_insert() {
        let limits = MessageLimits::default();
        let message = |t: &str| NewMessage {
            text: MessageText::new(t.into(), &limits).unwrap(),
            actor: Actor::User,
        };
        let batch =
            MessageBatch::new(vec![message("a"), message("b"), message("c")], &limits).unwrap();
        let (user, chat) = (UserId::new(1).unwrap(), ChatId::new(2).unwrap());
        let rows = new_message_rows(user, chat, now(), &batch);
        let insert = diesel::insert_into(chat_conversation_message::table).values(&rows);
        let sql = diesel::debug_query::<Sqlite, _>(&insert).to_string();
        assert_eq!(sql.matches("INSERT INTO").count(), 1, "{sql}");
        assert_eq!(sql.matches("(?, ?, ?, ?, ?, ?)").count(), 3, "{sql}");
    }
}
