//! Chats: a named conversation with a model, owned by one user.

use chrono::{DateTime, Utc};

use crate::ids::{ChatId, UserId};
use crate::text;

/// Why a name (of a chat, of a model) is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("needs at least one character other than white space")]
    Blank,
    #[error("holds at most {max} characters")]
    TooLong { max: usize },
    /// U+0000, which PostgreSQL cannot store in `text`; refused on every backend alike.
    #[error("must not contain NUL characters")]
    ContainsNul,
}

/// The rule both names follow: trimmed (see [`text`]), then 1 to `max` characters.
fn trimmed_name(raw: &str, max: usize) -> Result<String, NameError> {
    let name = text::trim(raw);
    if name.contains('\0') {
        Err(NameError::ContainsNul)
    } else if name.is_empty() {
        Err(NameError::Blank)
    } else if name.chars().nth(max).is_some() {
        Err(NameError::TooLong { max })
    } else {
        Ok(name.to_owned())
    }
}

/// A chat's name: trimmed, 1 to 200 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatName(String);

impl ChatName {
    pub const MAX_CHARS: usize = 200;

    pub fn new(raw: &str) -> Result<Self, NameError> {
        trimmed_name(raw, Self::MAX_CHARS).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The model a chat talks to, as the app names it (free text): trimmed, 1 to 100 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelName(String);

impl ModelName {
    pub const MAX_CHARS: usize = 100;

    pub fn new(raw: &str) -> Result<Self, NameError> {
        trimmed_name(raw, Self::MAX_CHARS).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A chat not stored yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewChat {
    pub owner: UserId,
    pub name: ChatName,
    pub model: ModelName,
}

/// The chats one request names at once (a bulk delete): at most [`ChatSelection::MAX`], so
/// that one request cannot hold a transaction over an unbounded list. May be empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatSelection(Vec<ChatId>);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("at most {max} chats at once")]
pub struct TooManyChats {
    pub max: usize,
}

impl ChatSelection {
    pub const MAX: usize = 1000;

    pub fn new(ids: Vec<ChatId>) -> Result<Self, TooManyChats> {
        Self::check_len(ids.len())?;
        Ok(Self(ids))
    }

    /// The size rule alone, so that an adapter can report it beside the rules each id breaks.
    pub fn check_len(len: usize) -> Result<(), TooManyChats> {
        if len > Self::MAX {
            Err(TooManyChats { max: Self::MAX })
        } else {
            Ok(())
        }
    }

    pub fn ids(&self) -> &[ChatId] {
        &self.0
    }
}

/// A stored chat. Name and model are what the store holds (rows may be seeded by plain SQL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chat {
    pub id: ChatId,
    pub owner: UserId,
    pub name: String,
    pub model: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_names_are_trimmed_and_bounded() {
        assert_eq!(ChatName::new("  Plans ").map(|n| n.0), Ok("Plans".into()));
        assert_eq!(ChatName::new(" \t"), Err(NameError::Blank));
        assert_eq!(ChatName::new("\u{feff}"), Err(NameError::Blank));
        assert_eq!(ModelName::new("\u{feff} "), Err(NameError::Blank));
        assert_eq!(
            ChatName::new("\u{feff}Plans").map(|n| n.0),
            Ok("Plans".into())
        );
        assert!(ChatName::new(&"é".repeat(200)).is_ok());
        assert_eq!(
            ChatName::new(&"é".repeat(201)),
            Err(NameError::TooLong { max: 200 })
        );
    }

    #[test]
    fn a_selection_is_bounded() {
        let id = ChatId::new(1).unwrap();
        assert!(ChatSelection::new(vec![]).is_ok());
        assert!(ChatSelection::new(vec![id; ChatSelection::MAX]).is_ok());
        assert_eq!(
            ChatSelection::new(vec![id; ChatSelection::MAX + 1]),
            Err(TooManyChats { max: 1000 })
        );
    }

    #[test]
    fn names_refuse_nul() {
        assert_eq!(ChatName::new("a\0b"), Err(NameError::ContainsNul));
        assert_eq!(ModelName::new("\0"), Err(NameError::ContainsNul));
    }

    #[test]
    fn model_names_are_bounded() {
        assert!(ModelName::new("llama3.2:3b").is_ok());
        assert_eq!(ModelName::new(""), Err(NameError::Blank));
        assert_eq!(
            ModelName::new(&"m".repeat(101)),
            Err(NameError::TooLong { max: 100 })
        );
    }
}
