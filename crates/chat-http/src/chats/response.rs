//! What the chat routes answer.

use chat_domain::Chat;
use serde::Serialize;
use utoipa::ToSchema;

use crate::wire::js_iso;

/// A chat as the app returns it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Chat)]
pub struct ChatDto {
    pub id: i32,
    pub name: String,
    pub model: String,
    pub neptun_user_id: i32,
    /// UTC, as JavaScript's `toISOString` writes it.
    #[schema(format = DateTime, example = "2024-03-20T10:00:00.000Z")]
    pub created_at: String,
    #[schema(format = DateTime, example = "2024-03-20T10:00:00.000Z")]
    pub updated_at: String,
}

impl From<&Chat> for ChatDto {
    fn from(c: &Chat) -> Self {
        Self {
            id: c.id.get(),
            name: c.name.clone(),
            model: c.model.clone(),
            neptun_user_id: c.owner.get(),
            created_at: js_iso(c.created_at),
            updated_at: js_iso(c.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChatResponse {
    pub chat: ChatDto,
}

impl From<&Chat> for ChatResponse {
    fn from(chat: &Chat) -> Self {
        Self { chat: chat.into() }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChatListResponse {
    pub chats: Vec<ChatDto>,
    pub has_more: bool,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeletedResponse {
    pub deleted: u64,
}
