//! What the messages routes answer.

use chat_domain::ChatMessage;
use serde::Serialize;
use utoipa::ToSchema;

use crate::wire::{ActorName, js_iso};

/// A stored message as the app returns it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ChatMessage)]
pub struct ChatMessageDto {
    pub id: i64,
    pub chat_conversation_id: i32,
    pub neptun_user_id: i32,
    pub message: String,
    #[schema(value_type = ActorName)]
    pub actor: &'static str,
    /// UTC, as JavaScript's `toISOString` writes it; the same for every message of one request.
    #[schema(format = DateTime, example = "2024-03-20T10:00:00.000Z")]
    pub created_at: String,
    #[schema(format = DateTime, example = "2024-03-20T10:00:00.000Z")]
    pub updated_at: String,
}

impl From<&ChatMessage> for ChatMessageDto {
    fn from(m: &ChatMessage) -> Self {
        Self {
            id: m.id.get(),
            chat_conversation_id: m.chat_id.get(),
            neptun_user_id: m.user_id.get(),
            message: m.text.clone(),
            actor: m.actor.as_str(),
            created_at: js_iso(m.created_at),
            updated_at: js_iso(m.updated_at),
        }
    }
}

/// Stored messages as the app returns them, in order.
pub fn dtos(messages: &[ChatMessage]) -> Vec<ChatMessageDto> {
    messages.iter().map(ChatMessageDto::from).collect()
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SingleMessageResponse {
    pub chat_message: ChatMessageDto,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BatchMessagesResponse {
    pub chat_messages: Vec<ChatMessageDto>,
}

/// What `POST .../messages` answers: the shape of the request's.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum PostMessagesResponse {
    Single(SingleMessageResponse),
    Batch(BatchMessagesResponse),
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageListResponse {
    pub chat_messages: Vec<ChatMessageDto>,
    #[serde(rename = "has_more")]
    pub has_more: bool,
    /// Pass as `after` (ascending) or `before` (descending) for the next page.
    #[serde(rename = "next_cursor")]
    pub next_cursor: Option<i64>,
}
