//! The rows of files and shares as both backends read them (by name, with each backend's
//! timestamp type), and their conversion into domain types.

use anyhow::Context as _;
use chat_domain::{ChatFile, ChatId, MessageId, Share, UserId, WhitelistEntry};
use chrono::{DateTime, Utc};

/// A file row of a chat's files; every column NULL for a chat that has none.
pub struct FileFields {
    pub id: Option<i32>,
    pub neptun_user_id: i32,
    pub chat_conversation_id: i32,
    pub chat_conversation_message_id: Option<i64>,
    pub title: Option<String>,
    pub text: Option<String>,
    pub language: Option<String>,
    pub file_extension: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl FileFields {
    fn into_file(self) -> anyhow::Result<Option<ChatFile>> {
        let Some(id) = self.id else { return Ok(None) };
        let message = self
            .chat_conversation_message_id
            .context("a file without a message")?;
        Ok(Some(ChatFile {
            id,
            owner: UserId::new(self.neptun_user_id.into())?,
            chat: ChatId::new(self.chat_conversation_id.into())?,
            message: MessageId::new(message),
            title: self.title,
            text: self.text.unwrap_or_default(),
            language: self.language.unwrap_or_default(),
            extension: self.file_extension.unwrap_or_default(),
            created_at: self.created_at.unwrap_or_default(),
            updated_at: self.updated_at.unwrap_or_default(),
        }))
    }
}

/// A share row.
pub struct ShareFields {
    pub id: i32,
    pub share_id: String,
    pub is_shared: bool,
    pub is_protected: bool,
    pub hashed_password: Option<String>,
    pub chat_conversation_id: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ShareFields {
    pub fn into_share(self) -> anyhow::Result<Share> {
        Ok(Share {
            id: self.id,
            uuid: self.share_id,
            shared: self.is_shared,
            protected: self.is_protected,
            has_password: self.hashed_password.is_some(),
            chat: ChatId::new(self.chat_conversation_id.into())?,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// A whitelist entry row.
pub struct EntryFields {
    pub id: i32,
    pub whitelisted_neptun_user_id: i32,
    pub chat_conversation_share_id: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl EntryFields {
    pub fn into_entry(self) -> anyhow::Result<WhitelistEntry> {
        Ok(WhitelistEntry {
            id: self.id,
            user: UserId::new(self.whitelisted_neptun_user_id.into())?,
            share: self.chat_conversation_share_id,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// The row types of one backend, named by `$prefix`, timestamps of `$Ts`.
macro_rules! rows_for {
    ($File:ident, $Share:ident, $Entry:ident, $Ts:ty) => {
        #[derive(diesel::QueryableByName)]
        pub struct $File {
            #[diesel(sql_type = Nullable<Integer>)]
            id: Option<i32>,
            #[diesel(sql_type = Integer)]
            neptun_user_id: i32,
            #[diesel(sql_type = Integer)]
            chat_conversation_id: i32,
            #[diesel(sql_type = Nullable<BigInt>)]
            chat_conversation_message_id: Option<i64>,
            #[diesel(sql_type = Nullable<Text>)]
            title: Option<String>,
            #[diesel(sql_type = Nullable<Text>)]
            text: Option<String>,
            #[diesel(sql_type = Nullable<Text>)]
            language: Option<String>,
            #[diesel(sql_type = Nullable<Text>)]
            file_extension: Option<String>,
            #[diesel(sql_type = Nullable<$Ts>)]
            created_at: Option<DateTime<Utc>>,
            #[diesel(sql_type = Nullable<$Ts>)]
            updated_at: Option<DateTime<Utc>>,
        }

        impl $File {
            /// The files of the rows (a chat without any has one row of NULLs).
            pub fn into_files(rows: Vec<Self>) -> anyhow::Result<Vec<ChatFile>> {
                let mut files = Vec::with_capacity(rows.len());
                for row in rows {
                    let fields = FileFields {
                        id: row.id,
                        neptun_user_id: row.neptun_user_id,
                        chat_conversation_id: row.chat_conversation_id,
                        chat_conversation_message_id: row.chat_conversation_message_id,
                        title: row.title,
                        text: row.text,
                        language: row.language,
                        file_extension: row.file_extension,
                        created_at: row.created_at,
                        updated_at: row.updated_at,
                    };
                    files.extend(fields.into_file()?);
                }
                Ok(files)
            }
        }

        #[derive(diesel::QueryableByName)]
        pub struct $Share {
            #[diesel(sql_type = Integer)]
            pub id: i32,
            #[diesel(sql_type = Text)]
            pub share_id: String,
            #[diesel(sql_type = Bool)]
            pub is_shared: bool,
            #[diesel(sql_type = Bool)]
            pub is_protected: bool,
            #[diesel(sql_type = Nullable<Text>)]
            pub hashed_password: Option<String>,
            #[diesel(sql_type = Integer)]
            pub chat_conversation_id: i32,
            #[diesel(sql_type = $Ts)]
            pub created_at: DateTime<Utc>,
            #[diesel(sql_type = $Ts)]
            pub updated_at: DateTime<Utc>,
        }

        impl $Share {
            pub fn fields(self) -> ShareFields {
                ShareFields {
                    id: self.id,
                    share_id: self.share_id,
                    is_shared: self.is_shared,
                    is_protected: self.is_protected,
                    hashed_password: self.hashed_password,
                    chat_conversation_id: self.chat_conversation_id,
                    created_at: self.created_at,
                    updated_at: self.updated_at,
                }
            }
        }

        #[derive(diesel::QueryableByName)]
        pub struct $Entry {
            #[diesel(sql_type = Integer)]
            id: i32,
            #[diesel(sql_type = Integer)]
            whitelisted_neptun_user_id: i32,
            #[diesel(sql_type = Integer)]
            chat_conversation_share_id: i32,
            #[diesel(sql_type = $Ts)]
            created_at: DateTime<Utc>,
            #[diesel(sql_type = $Ts)]
            updated_at: DateTime<Utc>,
        }

        impl $Entry {
            pub fn into_entries(rows: Vec<Self>) -> anyhow::Result<Vec<WhitelistEntry>> {
                rows.into_iter()
                    .map(|r| {
                        EntryFields {
                            id: r.id,
                            whitelisted_neptun_user_id: r.whitelisted_neptun_user_id,
                            chat_conversation_share_id: r.chat_conversation_share_id,
                            created_at: r.created_at,
                            updated_at: r.updated_at,
                        }
                        .into_entry()
                    })
                    .collect()
            }
        }
    };
}

mod pg {
    use diesel::sql_types::{BigInt, Bool, Integer, Nullable, Text, Timestamptz};

    use super::*;
    rows_for!(PgFileRow, PgShareRow, PgEntryRow, Timestamptz);
}

mod sqlite {
    use diesel::sql_types::{BigInt, Bool, Integer, Nullable, Text, TimestamptzSqlite};

    use super::*;
    rows_for!(
        SqliteFileRow,
        SqliteShareRow,
        SqliteEntryRow,
        TimestamptzSqlite
    );
}

pub use pg::{PgEntryRow, PgFileRow, PgShareRow};
pub use sqlite::{SqliteEntryRow, SqliteFileRow, SqliteShareRow};
