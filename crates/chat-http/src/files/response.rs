//! What the file routes answer: a code block as the app's `ReadChatConversationFile`.

use chat_domain::ChatFile;
use serde::Serialize;
use utoipa::ToSchema;

use crate::wire::js_iso;

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ChatFile)]
pub struct ChatFileDto {
    pub id: i32,
    pub neptun_user_id: i32,
    pub chat_conversation_id: i32,
    pub chat_conversation_message_id: i64,
    #[schema(format = DateTime, example = "2024-03-20T10:00:00.000Z")]
    pub created_at: String,
    #[schema(format = DateTime, example = "2024-03-20T10:00:00.000Z")]
    pub updated_at: String,
    pub title: Option<String>,
    pub text: String,
    pub language: String,
    pub extension: String,
}

impl From<&ChatFile> for ChatFileDto {
    fn from(f: &ChatFile) -> Self {
        Self {
            id: f.id,
            neptun_user_id: f.owner.get(),
            chat_conversation_id: f.chat.get(),
            chat_conversation_message_id: f.message.get(),
            created_at: js_iso(f.created_at),
            updated_at: js_iso(f.updated_at),
            title: f.title.clone(),
            text: f.text.clone(),
            language: f.language.clone(),
            extension: f.extension.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatFilesResponse {
    pub chat_files: Vec<ChatFileDto>,
}

/// As the app answers a save: `chatFile` (a list, as the app's) for one block sent alone,
/// `chatFiles` for several.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum SavedFilesResponse {
    #[serde(rename_all = "camelCase")]
    One { chat_file: Vec<ChatFileDto> },
    #[serde(rename_all = "camelCase")]
    Many { chat_files: Vec<ChatFileDto> },
}
