//! Shares: a chat published read-only at `/shared/chats/{uuid}`, open to anyone with the link,
//! or protected by a password, by a whitelist of users, or both.

use chrono::{DateTime, Utc};

use crate::ids::{ChatId, UserId};
use crate::message::Actor;

/// How a chat is published, as the owner asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareSettings {
    pub shared: bool,
    pub protected: bool,
    pub password: Option<SharePassword>,
}

/// A share's password as the owner typed it. The app stores one only when it has a character
/// other than white space; a blank one means none.
#[derive(Clone, PartialEq, Eq)]
pub struct SharePassword(String);

impl std::fmt::Debug for SharePassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharePassword(..)")
    }
}

impl SharePassword {
    /// `None` for a blank password (no password).
    pub fn new(raw: String) -> Option<Self> {
        (!raw.trim().is_empty()).then_some(Self(raw))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A published chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    pub id: i32,
    pub uuid: String,
    pub shared: bool,
    pub protected: bool,
    pub has_password: bool,
    pub chat: ChatId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A user a protected share lets read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhitelistEntry {
    pub id: i32,
    pub user: UserId,
    pub share: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a reader of a share may learn of it, refused or not: the app's `shareInfo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ShareInfo {
    pub exists: bool,
    pub active: bool,
    pub private: bool,
    pub has_password: bool,
    pub has_whitelist: bool,
}

/// A share as the public route reads it: its state, whether the password offered matched, who
/// is whitelisted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareAccess {
    pub share: Share,
    pub password_matches: bool,
    pub whitelist: Vec<UserId>,
}

impl ShareAccess {
    pub fn info(&self) -> ShareInfo {
        ShareInfo {
            exists: true,
            active: self.share.shared,
            private: self.share.protected,
            has_password: self.share.has_password,
            has_whitelist: !self.whitelist.is_empty(),
        }
    }
}

/// A message of a shared chat, as its readers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedMessage {
    pub id: i64,
    pub text: String,
    pub actor: Actor,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A shared chat, as its readers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedChat {
    pub share: Share,
    pub info: ShareInfo,
    pub messages: Vec<SharedMessage>,
}

/// Credentials a reader offers for a password-protected share (HTTP Basic, as the app's page
/// sends them: an empty user name and the password).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareCredentials {
    pub username: String,
    pub password: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blank_password_is_none() {
        assert!(SharePassword::new("  ".into()).is_none());
        assert_eq!(
            SharePassword::new(" a ".into()).map(|p| p.expose().to_owned()),
            Some(" a ".into())
        );
    }
}
