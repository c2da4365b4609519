//! Shares on PostgreSQL: a chat published at its uuid, its password kept the app's way (see
//! `app_secret`), and the users its whitelist lets read it.

use chat_domain::EmailAddress;
use chat_domain::{
    ChatId, Share, ShareAccess, ShareError, ShareSettings, ShareStore, SharedMessage, StoreFailure,
    UserId, WhitelistEntry,
};
use diesel::sql_types::{Bool, Integer, Nullable, Text};
use diesel::{OptionalExtension as _, QueryableByName};
use diesel_async::RunQueryDsl;
use scoped_futures::ScopedFutureExt as _;

use crate::fault::failure;
use crate::postgres::PgStore;
use crate::postgres::checkout::Retry;
use crate::prepared::prepared;
use crate::rows::MessageRow;
use crate::sharing;
use crate::sharing_rows::{PgEntryRow, PgShareRow};

/// A share's columns, as [`PgShareRow`] reads them.
macro_rules! share_columns {
    ($s:literal) => {
        concat!(
            $s,
            ".id, ",
            $s,
            ".share_id::text AS share_id, ",
            $s,
            ".is_shared, ",
            $s,
            ".is_protected, ",
            $s,
            ".hashed_password, ",
            $s,
            ".chat_conversation_id, ",
            "COALESCE(",
            $s,
            ".created_at, '1970-01-01 00:00:00.000+00:00') AS created_at, ",
            "COALESCE(",
            $s,
            ".updated_at, '1970-01-01 00:00:00.000+00:00') AS updated_at"
        )
    };
}

/// The share of the owner's chat; no row if it has none, or is not the owner's.
const CHAT_SHARE: &str = concat!(
    "SELECT ",
    share_columns!("s"),
    " FROM chat_conversation_share s JOIN chat_conversation c ON c.id = s.chat_conversation_id",
    " WHERE c.id = $1 AND c.neptun_user_id = $2"
);

/// Whether the chat is the owner's.
const CHAT_IS_OWNED: &str =
    "SELECT count(*) AS n FROM chat_conversation WHERE id = $1 AND neptun_user_id = $2";

/// Publishes the owner's chat, or updates how it is published: a chat has one share.
const PUBLISH: &str = concat!(
    "INSERT INTO chat_conversation_share AS s",
    " (chat_conversation_id, is_shared, is_protected, hashed_password)",
    " SELECT c.id, $3, $4, $5 FROM chat_conversation c WHERE c.id = $1 AND c.neptun_user_id = $2",
    " ON CONFLICT (chat_conversation_id) DO UPDATE SET is_shared = EXCLUDED.is_shared,",
    " is_protected = EXCLUDED.is_protected, hashed_password = EXCLUDED.hashed_password,",
    " updated_at = now() RETURNING ",
    share_columns!("s")
);

/// Whitelists the owner and the users with these addresses on the owner's share; answers their
/// entries (those there already, and the new ones). No row: no such share of the owner's.
const WHITELIST: &str = "\
WITH share AS (
    SELECT s.id FROM chat_conversation_share s
    JOIN chat_conversation c ON c.id = s.chat_conversation_id
    WHERE s.id = $3 AND c.id = $1 AND c.neptun_user_id = $2
),
reader AS (
    SELECT $2 AS id
    UNION SELECT u.id FROM neptun_user u
    WHERE u.primary_email IN (SELECT json_array_elements_text($4::json))
),
added AS (
    INSERT INTO chat_conversation_share_whitelist_entry
        (whitelisted_neptun_user_id, chat_conversation_share_id)
    SELECT reader.id, share.id FROM reader, share
    WHERE NOT EXISTS (
        SELECT 1 FROM chat_conversation_share_whitelist_entry w
        WHERE w.chat_conversation_share_id = share.id AND w.whitelisted_neptun_user_id = reader.id)
    RETURNING id, whitelisted_neptun_user_id, chat_conversation_share_id, created_at, updated_at
)
SELECT w.id, w.whitelisted_neptun_user_id, w.chat_conversation_share_id,
    COALESCE(w.created_at, '1970-01-01 00:00:00.000+00:00') AS created_at,
    COALESCE(w.updated_at, '1970-01-01 00:00:00.000+00:00') AS updated_at
FROM chat_conversation_share_whitelist_entry w, share
WHERE w.chat_conversation_share_id = share.id
  AND w.whitelisted_neptun_user_id IN (SELECT id FROM reader)
UNION ALL SELECT * FROM added
ORDER BY id";

/// A share by its uuid, and who is on its whitelist (`"1,7"`).
const SHARE_ACCESS: &str = concat!(
    "SELECT ",
    share_columns!("s"),
    ", (SELECT string_agg(w.whitelisted_neptun_user_id::text, ',')",
    " FROM chat_conversation_share_whitelist_entry w WHERE w.chat_conversation_share_id = s.id)",
    " AS whitelist FROM chat_conversation_share s WHERE s.share_id = $1::uuid"
);

/// The messages of a shared chat, oldest first.
const SHARED_MESSAGES: &str = "\
SELECT id, message, actor::text AS actor, neptun_user_id, chat_conversation_id,
    COALESCE(created_at, '1970-01-01 00:00:00.000+00:00') AS created_at,
    COALESCE(updated_at, '1970-01-01 00:00:00.000+00:00') AS updated_at
FROM chat_conversation_message WHERE chat_conversation_id = $1 ORDER BY id";

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[derive(diesel::QueryableByName)]
struct AccessRow {
    #[diesel(embed)]
    share: PgShareRow,
    #[diesel(sql_type = Nullable<Text>)]
    whitelist: Option<String>,
}

impl ShareStore for PgStore {
    async fn chat_share(&self, owner: UserId, chat: ChatId) -> Result<Option<Share>, ShareError> {
        let (share, owned) = self
            .checkout
            .run(Retry::Read, |conn| {
                async move {
                    let by_owner = |sql| {
                        diesel::sql_query(sql)
                            .bind::<Integer, _>(chat.get())
                            .bind::<Integer, _>(owner.get())
                    };
                    let share = prepared(by_owner(CHAT_SHARE))
                        .get_result::<PgShareRow>(conn)
                        .await
                        .optional()
                        .map_err(failure)?;
                    if share.is_some() {
                        return Ok((share, true));
                    }
                    let owned = prepared(by_owner(CHAT_IS_OWNED))
                        .get_result::<Count>(conn)
                        .await
                        .map_err(failure)?;
                    Ok::<_, StoreFailure>((None, owned.n > 0))
                }
                .scope_boxed()
            })
            .await?;
        sharing::chat_share(owner, chat, share.map(|row| row.fields()), owned)
    }

    async fn publish(
        &self,
        owner: UserId,
        chat: ChatId,
        settings: &ShareSettings,
    ) -> Result<Share, ShareError> {
        let password = self.sharing.stored_password(settings)?;
        let row = self
            .checkout
            .run(Retry::Aborted, |conn| {
                let password = password.clone();
                async move {
                    prepared(
                        diesel::sql_query(PUBLISH)
                            .bind::<Integer, _>(chat.get())
                            .bind::<Integer, _>(owner.get())
                            .bind::<Bool, _>(settings.shared)
                            .bind::<Bool, _>(settings.protected)
                            .bind::<Nullable<Text>, _>(password),
                    )
                    .get_result::<PgShareRow>(conn)
                    .await
                    .optional()
                    .map_err(failure)
                }
                .scope_boxed()
            })
            .await?;
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
            .checkout
            .run(Retry::Aborted, |conn| {
                let stored = stored.clone();
                async move {
                    prepared(
                        diesel::sql_query(WHITELIST)
                            .bind::<Integer, _>(chat.get())
                            .bind::<Integer, _>(owner.get())
                            .bind::<Integer, _>(share)
                            .bind::<Text, _>(stored),
                    )
                    .load::<PgEntryRow>(conn)
                    .await
                    .map_err(failure)
                }
                .scope_boxed()
            })
            .await?;
        if rows.is_empty() {
            return Err(ShareError::ShareNotFound { owner, chat, share });
        }
        Ok(PgEntryRow::into_entries(rows).map_err(StoreFailure::Unknown)?)
    }

    async fn share_access(
        &self,
        uuid: &str,
        password: Option<&str>,
    ) -> Result<Option<ShareAccess>, StoreFailure> {
        let uuid = uuid.to_owned();
        let row = self
            .checkout
            .run(Retry::Read, |conn| {
                let uuid = uuid.clone();
                async move {
                    prepared(diesel::sql_query(SHARE_ACCESS).bind::<Text, _>(uuid))
                        .get_result::<AccessRow>(conn)
                        .await
                        .optional()
                        .map_err(failure)
                }
                .scope_boxed()
            })
            .await?;
        row.map(|r| {
            self.sharing
                .access(r.share.fields(), r.whitelist.as_deref(), password)
        })
        .transpose()
    }

    async fn shared_messages(&self, share: &Share) -> Result<Vec<SharedMessage>, StoreFailure> {
        let chat = share.chat;
        let rows = self
            .checkout
            .run(Retry::Read, |conn| {
                async move {
                    prepared(diesel::sql_query(SHARED_MESSAGES).bind::<Integer, _>(chat.get()))
                        .load::<MessageRow>(conn)
                        .await
                        .map_err(failure)
                }
                .scope_boxed()
            })
            .await?;
        sharing::shared_messages(rows)
    }
}
