//! Rows as diesel reads them, and their conversion into domain types. A row that breaks a
//! domain rule (possible only for rows seeded by hand) is an error, not a panic.

use anyhow::Context as _;
use chat_domain::{Chat, ChatId, ChatMessage, MessageId, UserId};
use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::schema::{chat_conversation, chat_conversation_message};

#[derive(Debug, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = chat_conversation_message)]
pub struct MessageRow {
    pub id: i64,
    pub message: String,
    pub actor: String,
    pub neptun_user_id: i32,
    pub chat_conversation_id: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<MessageRow> for ChatMessage {
    type Error = anyhow::Error;

    fn try_from(row: MessageRow) -> anyhow::Result<Self> {
        Ok(ChatMessage {
            id: MessageId::new(row.id),
            chat_id: ChatId::new(row.chat_conversation_id.into())
                .with_context(|| format!("message {}: chat id", row.id))?,
            user_id: UserId::new(row.neptun_user_id.into())
                .with_context(|| format!("message {}: user id", row.id))?,
            actor: row
                .actor
                .parse()
                .with_context(|| format!("message {}: actor", row.id))?,
            text: row.message,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = chat_conversation)]
pub struct ChatRow {
    pub id: i32,
    pub name: String,
    pub model: String,
    pub neptun_user_id: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<ChatRow> for Chat {
    type Error = anyhow::Error;

    fn try_from(row: ChatRow) -> anyhow::Result<Self> {
        Ok(Chat {
            id: ChatId::new(row.id.into()).with_context(|| format!("chat {}: id", row.id))?,
            owner: UserId::new(row.neptun_user_id.into())
                .with_context(|| format!("chat {}: owner", row.id))?,
            name: row.name,
            model: row.model,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}
