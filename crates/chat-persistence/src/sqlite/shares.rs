//! Shares on SQLite (see the PostgreSQL store for what each operation does). The share's uuid
//! is made here, as SQLite has no generator.

use chat_domain::{
    ChatId, EmailAddress, Share, ShareAccess, ShareError, ShareSettings, ShareStore, SharedMessage,
    StoreFailure, UserId, WhitelistEntry,
};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Integer, Nullable, Text, TimestamptzSqlite};

use crate::fault::failure;
use crate::rows::{MessageRow, message_columns};
use crate::schema::sqlite::chat_conversation_message;
use crate::sharing;
use crate::sharing_rows::{SqliteEntryRow, SqliteShareRow};
use crate::sqlite::SqliteStore;
use crate::sqlite::files::Count;
use crate::sqlite::time::now;

const SHARE_COLUMNS: &str = "s.id, s.share_id, s.is_shared, s.is_protected, s.hashed_password, \
                             s.chat_conversation_id, s.created_at, s.updated_at";

const CHAT_IS_OWNED: &str =
    "SELECT count(*) AS n FROM chat_conversation WHERE id = ? AND neptun_user_id = ?";

#[derive(QueryableByName)]
struct AccessRow {
    #[diesel(embed)]
    share: SqliteShareRow,
    #[diesel(sql_type = Nullable<Text>)]
    whitelist: Option<String>,
}

fn chat_share_sql() -> String {
    format!(
        "SELECT {SHARE_COLUMNS} FROM chat_conversation_share s \
         JOIN chat_conversation c ON c.id = s.chat_conversation_id \
         WHERE c.id = ? AND c.neptun_user_id = ?"
    )
}

fn publish_sql() -> String {
    format!(
        "INSERT INTO chat_conversation_share AS s (chat_conversation_id, share_id, is_shared, \
         is_protected, hashed_password, created_at, updated_at) \
         SELECT c.id, ?, ?, ?, ?, ?, ? FROM chat_conversation c \
         WHERE c.id = ? AND c.neptun_user_id = ? \
         ON CONFLICT (chat_conversation_id) DO UPDATE SET is_shared = excluded.is_shared, \
         is_protected = excluded.is_protected, hashed_password = excluded.hashed_password, \
         updated_at = excluded.updated_at RETURNING {}",
        SHARE_COLUMNS.replace("s.", "")
    )
}

const READERS: &str = "\
SELECT ? AS n UNION SELECT id AS n FROM neptun_user
WHERE primary_email IN (SELECT value FROM json_each(?))";

const ADD_ENTRY: &str = "\
INSERT INTO chat_conversation_share_whitelist_entry
    (whitelisted_neptun_user_id, chat_conversation_share_id, created_at, updated_at)
SELECT ?, ?, ?, ? WHERE NOT EXISTS (
    SELECT 1 FROM chat_conversation_share_whitelist_entry
    WHERE whitelisted_neptun_user_id = ? AND chat_conversation_share_id = ?)";

const ENTRIES_OF: &str = "\
SELECT id, whitelisted_neptun_user_id, chat_conversation_share_id, created_at, updated_at
FROM chat_conversation_share_whitelist_entry
WHERE chat_conversation_share_id = ?
  AND whitelisted_neptun_user_id IN (SELECT value FROM json_each(?))
ORDER BY id";

const SHARE_OF_OWNER: &str = "\
SELECT count(*) AS n FROM chat_conversation_share s
JOIN chat_conversation c ON c.id = s.chat_conversation_id
WHERE s.id = ? AND c.id = ? AND c.neptun_user_id = ?";

fn access_sql() -> String {
    format!(
        "SELECT {SHARE_COLUMNS}, (SELECT group_concat(w.whitelisted_neptun_user_id, ',') \
         FROM chat_conversation_share_whitelist_entry w \
         WHERE w.chat_conversation_share_id = s.id) AS whitelist \
         FROM chat_conversation_share s WHERE s.share_id = ?"
    )
}

fn add_readers(
    conn: &mut SqliteConnection,
    (owner, chat, share): (UserId, ChatId, i32),
    emails: &str,
) -> QueryResult<Option<Vec<SqliteEntryRow>>> {
    let owned = diesel::sql_query(SHARE_OF_OWNER)
        .bind::<Integer, _>(share)
        .bind::<Integer, _>(chat.get())
        .bind::<Integer, _>(owner.get())
        .get_result::<Count>(conn)?;
    if owned.n == 0 {
        return Ok(None);
    }
    let readers: Vec<i64> = diesel::sql_query(READERS)
        .bind::<Integer, _>(owner.get())
        .bind::<Text, _>(emails)
        .load::<Count>(conn)?
        .into_iter()
        .map(|c| c.n)
        .collect();
    let at = now();
    for reader in &readers {
        diesel::sql_query(ADD_ENTRY)
            .bind::<diesel::sql_types::BigInt, _>(reader)
            .bind::<Integer, _>(share)
            .bind::<TimestamptzSqlite, _>(at)
            .bind::<TimestamptzSqlite, _>(at)
            .bind::<diesel::sql_types::BigInt, _>(reader)
            .bind::<Integer, _>(share)
            .execute(conn)?;
    }
    diesel::sql_query(ENTRIES_OF)
        .bind::<Integer, _>(share)
        .bind::<Text, _>(serde_json::Value::from(readers).to_string())
        .load::<SqliteEntryRow>(conn)
        .map(Some)
}

impl ShareStore for SqliteStore {
    async fn chat_share(&self, owner: UserId, chat: ChatId) -> Result<Option<Share>, ShareError> {
        let (share, owned) = self
            .run(move |conn| {
                conn.transaction(|conn| {
                    let share = diesel::sql_query(chat_share_sql())
                        .bind::<Integer, _>(chat.get())
                        .bind::<Integer, _>(owner.get())
                        .get_result::<SqliteShareRow>(conn)
                        .optional()?;
                    let owned = diesel::sql_query(CHAT_IS_OWNED)
                        .bind::<Integer, _>(chat.get())
                        .bind::<Integer, _>(owner.get())
                        .get_result::<Count>(conn)?;
                    QueryResult::Ok((share, owned.n > 0))
                })
            })
            .await?
            .map_err(failure)?;
        sharing::chat_share(owner, chat, share.map(|row| row.fields()), owned)
    }

    async fn publish(
        &self,
        owner: UserId,
        chat: ChatId,
        settings: &ShareSettings,
    ) -> Result<Share, ShareError> {
        let password = self.sharing.stored_password(settings)?;
        let (shared, protected) = (settings.shared, settings.protected);
        let uuid = uuid::Uuid::new_v4().to_string();
        let at = now();
        let row = self
            .write(move |conn| {
                diesel::sql_query(publish_sql())
                    .bind::<Text, _>(uuid)
                    .bind::<Bool, _>(shared)
                    .bind::<Bool, _>(protected)
                    .bind::<Nullable<Text>, _>(password)
                    .bind::<TimestamptzSqlite, _>(at)
                    .bind::<TimestamptzSqlite, _>(at)
                    .bind::<Integer, _>(chat.get())
                    .bind::<Integer, _>(owner.get())
                    .get_result::<SqliteShareRow>(conn)
                    .optional()
            })
            .await?
            .map_err(failure)?;
        let row = row.ok_or(ShareError::ChatNotFound { owner, chat })?;
        Ok(row.fields().into_share().map_err(StoreFailure::Unknown)?)
    }

    async fn whitelist(
        &self,
        owner: UserId,
        chat: ChatId,
        share: i32,
        emails: &[EmailAddress],
    ) -> Result<Vec<WhitelistEntry>, ShareError> {
        let stored = self.sharing.stored_emails(emails);
        let rows = self
            .write(move |conn| {
                conn.immediate_transaction(|conn| add_readers(conn, (owner, chat, share), &stored))
            })
            .await?
            .map_err(failure)?;
        let rows = rows.ok_or(ShareError::ShareNotFound { owner, chat, share })?;
        Ok(SqliteEntryRow::into_entries(rows).map_err(StoreFailure::Unknown)?)
    }

    async fn share_access(
        &self,
        uuid: &str,
        password: Option<&str>,
    ) -> Result<Option<ShareAccess>, StoreFailure> {
        let uuid = uuid.to_owned();
        let row = self
            .run(move |conn| {
                diesel::sql_query(access_sql())
                    .bind::<Text, _>(uuid)
                    .get_result::<AccessRow>(conn)
                    .optional()
            })
            .await?
            .map_err(failure)?;
        row.map(|r| {
            self.sharing
                .access(r.share.fields(), r.whitelist.as_deref(), password)
        })
        .transpose()
    }

    async fn shared_messages(&self, share: &Share) -> Result<Vec<SharedMessage>, StoreFailure> {
        let chat = share.chat.get();
        let rows = self
            .run(move |conn| {
                use chat_conversation_message as m;
                m::table
                    .filter(m::chat_conversation_id.eq(chat))
                    .order(m::id)
                    .select(message_columns!(chat_conversation_message))
                    .load::<MessageRow>(conn)
            })
            .await?
            .map_err(failure)?;
        sharing::shared_messages(rows)
    }
}
