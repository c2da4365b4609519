//! What the share routes answer: the app's rows, but the password's ciphertext.

use chat_domain::{Share, WhitelistEntry};
use serde::Serialize;
use utoipa::ToSchema;

use crate::wire::js_iso;

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Share)]
pub struct ShareDto {
    pub id: i32,
    pub is_shared: bool,
    /// The share's link is `/shared/chats/{share_uuid}`.
    pub share_uuid: String,
    pub is_protected: bool,
    pub chat_conversation_id: i32,
    #[schema(format = DateTime, example = "2024-03-20T10:00:00.000Z")]
    pub created_at: String,
    #[schema(format = DateTime, example = "2024-03-20T10:00:00.000Z")]
    pub updated_at: String,
}

impl From<&Share> for ShareDto {
    fn from(s: &Share) -> Self {
        Self {
            id: s.id,
            is_shared: s.shared,
            share_uuid: s.uuid.clone(),
            is_protected: s.protected,
            chat_conversation_id: s.chat.get(),
            created_at: js_iso(s.created_at),
            updated_at: js_iso(s.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShareResponse {
    pub share: ShareDto,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ShareWhitelistEntry)]
pub struct WhitelistEntryDto {
    pub id: i32,
    #[schema(format = DateTime, example = "2024-03-20T10:00:00.000Z")]
    pub created_at: String,
    #[schema(format = DateTime, example = "2024-03-20T10:00:00.000Z")]
    pub updated_at: String,
    pub whitelisted_neptun_user_id: i32,
    pub chat_conversation_share_id: i32,
}

impl From<&WhitelistEntry> for WhitelistEntryDto {
    fn from(e: &WhitelistEntry) -> Self {
        Self {
            id: e.id,
            created_at: js_iso(e.created_at),
            updated_at: js_iso(e.updated_at),
            whitelisted_neptun_user_id: e.user.get(),
            chat_conversation_share_id: e.share,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WhitelistResponse {
    pub share_whitelist_entries: Vec<WhitelistEntryDto>,
}
