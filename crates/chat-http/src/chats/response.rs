//! What the chat routes answer.

use chat_domain::{Chat, ReadBudget, chat_bytes};
use serde::Serialize;
use utoipa::ToSchema;

use crate::wire::{JsIso, js_iso, write_str};

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

/// Appends `c` to `buf` in the bytes `serde_json` writes for [`ChatDto`]: the fields in its
/// order, no text copied into a value first.
fn write_chat(buf: &mut Vec<u8>, c: &Chat) {
    let mut number = itoa::Buffer::new();
    buf.extend_from_slice(b"{\"id\":");
    buf.extend_from_slice(number.format(c.id.get()).as_bytes());
    buf.extend_from_slice(b",\"name\":");
    write_str(buf, &c.name);
    buf.extend_from_slice(b",\"model\":");
    write_str(buf, &c.model);
    buf.extend_from_slice(b",\"neptun_user_id\":");
    buf.extend_from_slice(number.format(c.owner.get()).as_bytes());
    buf.extend_from_slice(b",\"created_at\":");
    JsIso(c.created_at).write(buf);
    buf.extend_from_slice(b",\"updated_at\":");
    JsIso(c.updated_at).write(buf);
    buf.push(b'}');
}

/// The bytes of the [`ChatListResponse`] of `chats`, written from them without copying a text.
pub fn chat_list_json(chats: &[Chat], next_cursor: Option<&str>) -> Vec<u8> {
    let size = chats.iter().map(|c| ReadBudget::cost(chat_bytes(c)));
    let mut buf = Vec::with_capacity(64 + size.sum::<usize>());
    buf.extend_from_slice(b"{\"chats\":[");
    for (i, chat) in chats.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        write_chat(&mut buf, chat);
    }
    buf.extend_from_slice(b"],\"has_more\":");
    buf.extend_from_slice(if next_cursor.is_some() {
        b"true"
    } else {
        b"false"
    });
    buf.extend_from_slice(b",\"next_cursor\":");
    match next_cursor {
        Some(cursor) => write_str(&mut buf, cursor),
        None => buf.extend_from_slice(b"null"),
    }
    buf.push(b'}');
    buf
}

#[cfg(test)]
mod tests {
    use chat_domain::{ChatId, UserId};
    use chrono::{TimeZone as _, Utc};

    use super::*;

    #[test]
    fn a_list_is_written_as_its_dtos_are() {
        let t = Utc.with_ymd_and_hms(2024, 3, 20, 10, 0, 0).unwrap();
        let chats: Vec<Chat> = ["plain", "quote \" and \\ é"]
            .iter()
            .enumerate()
            .map(|(i, name)| Chat {
                id: ChatId::new(i as i64 + 1).unwrap(),
                owner: UserId::new(3).unwrap(),
                name: (*name).to_owned(),
                model: "m".to_owned(),
                created_at: t,
                updated_at: t + chrono::Duration::milliseconds(i as i64),
            })
            .collect();
        for (chats, cursor) in [(&chats[..], None), (&chats[..], Some("abc")), (&[], None)] {
            let expected = serde_json::to_vec(&ChatListResponse {
                chats: chats.iter().map(ChatDto::from).collect(),
                has_more: cursor.is_some(),
                next_cursor: cursor.map(str::to_owned),
            })
            .unwrap();
            assert_eq!(chat_list_json(chats, cursor), expected);
        }
    }
}
