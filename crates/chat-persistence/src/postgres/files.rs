//! A message's code blocks ("files") on PostgreSQL: each is a row of `neptun_user_file` (its
//! text) and one of `chat_conversation_file` (which message, chat and owner it belongs to).

use chat_domain::{
    ChatError, ChatFile, ChatId, FileError, FileStore, MessageId, NewChatFile, StoreFailure, UserId,
};
use diesel::sql_types::{BigInt, Integer, Text};
use diesel_async::RunQueryDsl;
use scoped_futures::ScopedFutureExt as _;

use crate::fault::failure;
use crate::postgres::PgStore;
use crate::postgres::checkout::Retry;
use crate::prepared::prepared;
use crate::sharing_rows::PgFileRow as FileRow;

/// The owner's chat and its files, oldest first: one row with NULL files for a chat without
/// any, none for a chat that is not the owner's.
const CHAT_FILES: &str = "\
SELECT f.id, c.neptun_user_id, c.id AS chat_conversation_id,
    f.chat_conversation_message_id::bigint AS chat_conversation_message_id,
    u.title, u.text, u.language, u.file_extension,
    COALESCE(f.created_at, '1970-01-01 00:00:00.000+00:00') AS created_at,
    COALESCE(f.updated_at, '1970-01-01 00:00:00.000+00:00') AS updated_at
FROM chat_conversation c
LEFT JOIN chat_conversation_file f ON f.chat_conversation_id = c.id
LEFT JOIN neptun_user_file u ON u.id = f.neptun_user_file_id
WHERE c.id = $1 AND c.neptun_user_id = $2
ORDER BY f.id";

/// One statement, so one transaction: the message only if it is in the owner's chat, then a
/// user file and a chat file for each code block, in order (ids drawn in that order).
const SAVE_FILES: &str = "\
WITH msg AS (
    SELECT m.id FROM chat_conversation_message m
    JOIN chat_conversation c ON c.id = m.chat_conversation_id
    WHERE m.id = $3 AND c.id = $1 AND c.neptun_user_id = $2
),
block AS (
    SELECT * FROM json_to_recordset($4::json)
        AS b(ord integer, title text, text text, language text, extension text)
),
saved AS (
    INSERT INTO neptun_user_file (title, text, language, file_extension, neptun_user_id)
    SELECT b.title, b.text, b.language, b.extension, $2 FROM block b, msg ORDER BY b.ord
    RETURNING id, title, text, language, file_extension
),
tied AS (
    INSERT INTO chat_conversation_file
        (neptun_user_id, chat_conversation_id, chat_conversation_message_id, neptun_user_file_id)
    SELECT $2, $1, msg.id, saved.id FROM saved, msg ORDER BY saved.id
    RETURNING id, neptun_user_id, chat_conversation_id,
        chat_conversation_message_id::bigint AS chat_conversation_message_id,
        neptun_user_file_id, created_at, updated_at
)
SELECT t.id, t.neptun_user_id, t.chat_conversation_id, t.chat_conversation_message_id,
    s.title, s.text, s.language, s.file_extension, t.created_at, t.updated_at
FROM tied t JOIN saved s ON s.id = t.neptun_user_file_id
ORDER BY t.id";

/// Whether the message is in the owner's chat (for a save of no code blocks).
const MESSAGE_IS_OWNED: &str = "\
SELECT count(*) AS n FROM chat_conversation_message m
JOIN chat_conversation c ON c.id = m.chat_conversation_id
WHERE m.id = $3 AND c.id = $1 AND c.neptun_user_id = $2";

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The code blocks as the statement takes them.
pub(crate) fn blocks_json(files: &[NewChatFile]) -> String {
    let blocks: Vec<serde_json::Value> = files
        .iter()
        .enumerate()
        .map(|(ord, f)| {
            serde_json::json!({"ord": ord, "title": f.title(), "text": f.text(),
                "language": f.language(), "extension": f.extension()})
        })
        .collect();
    serde_json::Value::Array(blocks).to_string()
}

impl FileStore for PgStore {
    async fn chat_files(&self, owner: UserId, chat: ChatId) -> Result<Vec<ChatFile>, ChatError> {
        let rows: Vec<FileRow> = self
            .checkout
            .run(Retry::Read, |conn| {
                async move {
                    prepared(
                        diesel::sql_query(CHAT_FILES)
                            .bind::<Integer, _>(chat.get())
                            .bind::<Integer, _>(owner.get()),
                    )
                    .load::<FileRow>(conn)
                    .await
                    .map_err(failure)
                }
                .scope_boxed()
            })
            .await?;
        if rows.is_empty() {
            return Err(ChatError::ChatNotFound { owner, chat });
        }
        Ok(FileRow::into_files(rows).map_err(StoreFailure::Unknown)?)
    }

    async fn save_files(
        &self,
        owner: UserId,
        chat: ChatId,
        message: MessageId,
        files: &[NewChatFile],
    ) -> Result<Vec<ChatFile>, FileError> {
        let json = blocks_json(files);
        let (rows, owned) = self
            .checkout
            .run(Retry::Aborted, |conn| {
                let json = json.clone();
                async move {
                    let bound = |sql| {
                        diesel::sql_query(sql)
                            .bind::<Integer, _>(chat.get())
                            .bind::<Integer, _>(owner.get())
                            .bind::<BigInt, _>(message.get())
                    };
                    if files.is_empty() {
                        let found = prepared(bound(MESSAGE_IS_OWNED))
                            .get_result::<Count>(conn)
                            .await;
                        return Ok((Vec::new(), found.map_err(failure)?.n > 0));
                    }
                    let rows = prepared(bound(SAVE_FILES).bind::<Text, _>(json))
                        .load::<FileRow>(conn)
                        .await
                        .map_err(failure)?;
                    let saved = !rows.is_empty();
                    Ok::<_, StoreFailure>((rows, saved))
                }
                .scope_boxed()
            })
            .await?;
        if !owned {
            return Err(FileError::MessageNotFound {
                owner,
                chat,
                message,
            });
        }
        Ok(FileRow::into_files(rows).map_err(StoreFailure::Unknown)?)
    }
}
