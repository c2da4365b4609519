//! A message's code blocks, as the app saves them ("files"): each is a user file (title, text,
//! language, extension) tied to the message, its chat and its owner.

use chrono::{DateTime, Utc};

use crate::ids::{ChatId, MessageId, UserId};

/// A code block to save. The app's rules: the text is required (it may be empty), the title
/// may be missing, the language and extension default to `text` and `txt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewChatFile {
    title: Option<String>,
    text: String,
    language: String,
    extension: String,
}

/// Why a code block is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FileTextError {
    /// U+0000, which PostgreSQL cannot store in `text`; refused on every backend alike.
    #[error("must not contain NUL characters")]
    ContainsNul,
}

impl NewChatFile {
    pub const DEFAULT_LANGUAGE: &str = "text";
    pub const DEFAULT_EXTENSION: &str = "txt";

    /// A code block; an empty or missing language or extension takes its default (the app's
    /// `language || 'text'`). Errors name the field that holds a NUL.
    pub fn new(
        title: Option<String>,
        text: String,
        language: Option<String>,
        extension: Option<String>,
    ) -> Result<Self, Vec<(&'static str, FileTextError)>> {
        let fields = [
            ("title", title.as_deref()),
            ("text", Some(text.as_str())),
            ("language", language.as_deref()),
            ("extension", extension.as_deref()),
        ];
        let refused: Vec<_> = fields
            .iter()
            .filter(|(_, value)| value.is_some_and(|v| v.contains('\0')))
            .map(|(name, _)| (*name, FileTextError::ContainsNul))
            .collect();
        if !refused.is_empty() {
            return Err(refused);
        }
        let or = |value: Option<String>, default: &str| {
            value
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| default.to_owned())
        };
        Ok(Self {
            title,
            text,
            language: or(language, Self::DEFAULT_LANGUAGE),
            extension: or(extension, Self::DEFAULT_EXTENSION),
        })
    }

    pub fn title(&self) -> Option<&str> {
        self.title.as_deref()
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn language(&self) -> &str {
        &self.language
    }

    pub fn extension(&self) -> &str {
        &self.extension
    }
}

/// A saved code block of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatFile {
    pub id: i32,
    pub owner: UserId,
    pub chat: ChatId,
    pub message: MessageId,
    pub title: Option<String>,
    pub text: String,
    pub language: String,
    pub extension: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_and_extension_default_as_the_app_defaults_them() {
        let file = NewChatFile::new(None, String::new(), Some(String::new()), None).unwrap();
        assert_eq!((file.language(), file.extension()), ("text", "txt"));
        let file = NewChatFile::new(
            Some("a.rs".into()),
            "fn main() {}".into(),
            Some("rust".into()),
            Some("rs".into()),
        )
        .unwrap();
        assert_eq!(
            (file.title(), file.language(), file.extension()),
            (Some("a.rs"), "rust", "rs")
        );
    }

    #[test]
    fn nul_is_refused_in_every_field() {
        let refused =
            NewChatFile::new(Some("\0".into()), "a\0".into(), None, Some("\0".into())).unwrap_err();
        let fields: Vec<_> = refused.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, ["title", "text", "extension"]);
    }
}
