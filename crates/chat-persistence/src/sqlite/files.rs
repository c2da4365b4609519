//! A message's code blocks ("files") on SQLite (see the PostgreSQL store for what each does;
//! the SQL differs only where SQLite does). Writes take the writers' turn.

use chat_domain::{
    ChatError, ChatFile, ChatId, FileError, FileStore, MessageId, NewChatFile, StoreFailure, UserId,
};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text, TimestamptzSqlite};

use crate::fault::failure;
use crate::sharing_rows::SqliteFileRow;
use crate::sqlite::SqliteStore;
use crate::sqlite::time::{SqliteTime, now};

const CHAT_FILES: &str = "\
SELECT f.id, c.neptun_user_id, c.id AS chat_conversation_id, f.chat_conversation_message_id,
    u.title, u.text, u.language, u.file_extension, f.created_at, f.updated_at
FROM chat_conversation c
LEFT JOIN chat_conversation_file f ON f.chat_conversation_id = c.id
LEFT JOIN neptun_user_file u ON u.id = f.neptun_user_file_id
WHERE c.id = ? AND c.neptun_user_id = ?
ORDER BY f.id";

const MESSAGE_IS_OWNED: &str = "\
SELECT count(*) AS n FROM chat_conversation_message m
JOIN chat_conversation c ON c.id = m.chat_conversation_id
WHERE m.id = ? AND c.id = ? AND c.neptun_user_id = ?";

const INSERT_USER_FILE: &str = "\
INSERT INTO neptun_user_file
    (title, text, language, file_extension, neptun_user_id, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id AS n";

const INSERT_CHAT_FILE: &str = "\
INSERT INTO chat_conversation_file (neptun_user_id, chat_conversation_id,
    chat_conversation_message_id, neptun_user_file_id, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?) RETURNING id AS n";

#[derive(QueryableByName)]
pub(super) struct Count {
    #[diesel(sql_type = BigInt)]
    pub(super) n: i64,
}

fn saved_file(
    conn: &mut SqliteConnection,
    (owner, chat, message): (UserId, ChatId, MessageId),
    file: &NewChatFile,
    at: SqliteTime,
) -> QueryResult<ChatFile> {
    let user_file = diesel::sql_query(INSERT_USER_FILE)
        .bind::<Nullable<Text>, _>(file.title())
        .bind::<Text, _>(file.text())
        .bind::<Text, _>(file.language())
        .bind::<Text, _>(file.extension())
        .bind::<Integer, _>(owner.get())
        .bind::<TimestamptzSqlite, _>(at)
        .bind::<TimestamptzSqlite, _>(at)
        .get_result::<Count>(conn)?;
    let chat_file = diesel::sql_query(INSERT_CHAT_FILE)
        .bind::<Integer, _>(owner.get())
        .bind::<Integer, _>(chat.get())
        .bind::<BigInt, _>(message.get())
        .bind::<BigInt, _>(user_file.n)
        .bind::<TimestamptzSqlite, _>(at)
        .bind::<TimestamptzSqlite, _>(at)
        .get_result::<Count>(conn)?;
    let id = i32::try_from(chat_file.n)
        .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?;
    Ok(ChatFile {
        id,
        owner,
        chat,
        message,
        title: file.title().map(str::to_owned),
        text: file.text().to_owned(),
        language: file.language().to_owned(),
        extension: file.extension().to_owned(),
        created_at: at.0,
        updated_at: at.0,
    })
}

impl FileStore for SqliteStore {
    async fn chat_files(&self, owner: UserId, chat: ChatId) -> Result<Vec<ChatFile>, ChatError> {
        let rows = self
            .run(move |conn| {
                diesel::sql_query(CHAT_FILES)
                    .bind::<Integer, _>(chat.get())
                    .bind::<Integer, _>(owner.get())
                    .load::<SqliteFileRow>(conn)
            })
            .await?
            .map_err(failure)?;
        if rows.is_empty() {
            return Err(ChatError::ChatNotFound { owner, chat });
        }
        Ok(SqliteFileRow::into_files(rows).map_err(StoreFailure::Unknown)?)
    }

    async fn save_files(
        &self,
        owner: UserId,
        chat: ChatId,
        message: MessageId,
        files: &[NewChatFile],
    ) -> Result<Vec<ChatFile>, FileError> {
        let files = files.to_vec();
        let at = now();
        let saved = self
            .write(move |conn| {
                conn.immediate_transaction(|conn| {
                    let owned = diesel::sql_query(MESSAGE_IS_OWNED)
                        .bind::<BigInt, _>(message.get())
                        .bind::<Integer, _>(chat.get())
                        .bind::<Integer, _>(owner.get())
                        .get_result::<Count>(conn)?;
                    if owned.n == 0 {
                        return Ok(None);
                    }
                    files
                        .iter()
                        .map(|file| saved_file(conn, (owner, chat, message), file, at))
                        .collect::<QueryResult<Vec<_>>>()
                        .map(Some)
                })
            })
            .await?
            .map_err(failure)?;
        saved.ok_or(FileError::MessageNotFound {
            owner,
            chat,
            message,
        })
    }
}
