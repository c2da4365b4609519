//! Chats: a named conversation with a model, owned by one user.

use chrono::{DateTime, Utc};

use crate::ids::{ChatId, UserId};

/// A chat's name: trimmed, 1 to 200 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatName(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ChatNameError {
    #[error("a chat name needs at least one character other than white space")]
    Blank,
    #[error("a chat name holds at most {max} characters")]
    TooLong { max: usize },
}

impl ChatName {
    pub const MAX_CHARS: usize = 200;

    pub fn new(raw: &str) -> Result<Self, ChatNameError> {
        let name = raw.trim();
        if name.is_empty() {
            Err(ChatNameError::Blank)
        } else if name.chars().nth(Self::MAX_CHARS).is_some() {
            Err(ChatNameError::TooLong {
                max: Self::MAX_CHARS,
            })
        } else {
            Ok(Self(name.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The model a chat talks to, as the app names it (free text): 1 to 100 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelName(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ModelNameError {
    #[error("a model name needs at least one character other than white space")]
    Blank,
    #[error("a model name holds at most {max} characters")]
    TooLong { max: usize },
}

impl ModelName {
    pub const MAX_CHARS: usize = 100;

    pub fn new(raw: &str) -> Result<Self, ModelNameError> {
        let model = raw.trim();
        if model.is_empty() {
            Err(ModelNameError::Blank)
        } else if model.chars().nth(Self::MAX_CHARS).is_some() {
            Err(ModelNameError::TooLong {
                max: Self::MAX_CHARS,
            })
        } else {
            Ok(Self(model.to_owned()))
        }
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
        assert_eq!(ChatName::new(" \t"), Err(ChatNameError::Blank));
        assert!(ChatName::new(&"é".repeat(200)).is_ok());
        assert_eq!(
            ChatName::new(&"é".repeat(201)),
            Err(ChatNameError::TooLong { max: 200 })
        );
    }

    #[test]
    fn model_names_are_bounded() {
        assert!(ModelName::new("llama3.2:3b").is_ok());
        assert_eq!(ModelName::new(""), Err(ModelNameError::Blank));
        assert_eq!(
            ModelName::new(&"m".repeat(101)),
            Err(ModelNameError::TooLong { max: 100 })
        );
    }
}
