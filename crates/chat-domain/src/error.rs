//! One error enum per operation. Ports return the same enums, so that an adapter says exactly
//! which of the operation's outcomes happened; `Unavailable` and `Unknown` carry the cause for
//! the log, never for the client.

use crate::ids::{ChatId, UserId};

/// Why a session token does not identify a user. The client learns none of this (always 401);
/// the log does.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("no session token")]
    Missing,
    #[error("the token is not a well-formed seal: {0}")]
    Malformed(&'static str),
    #[error("the seal's integrity check failed under every configured password")]
    BadSeal,
    #[error("the seal has expired")]
    Expired,
    #[error("the session was created longer ago than session.max_age allows")]
    TooOld,
    #[error("the session carries no valid user id: {0}")]
    NoUser(&'static str),
}

/// Why a caller may not act for the user named in a request.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("not authenticated: {0}")]
    Unauthenticated(#[from] SessionError),
    #[error("user {caller} may not act for user {owner}")]
    Forbidden { caller: UserId, owner: UserId },
}

/// Outcomes of posting messages to a chat, other than success.
#[derive(Debug, thiserror::Error)]
pub enum PostMessagesError {
    /// The chat does not exist or belongs to someone else: the same answer for both.
    #[error("chat {chat} not found for user {owner}")]
    ChatNotFound { owner: UserId, chat: ChatId },
    /// The store could not be reached in time; the client may retry.
    #[error("the store is unavailable")]
    Unavailable(#[source] anyhow::Error),
    #[error(transparent)]
    Unknown(anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("a user with e-mail {email:?} exists already")]
    DuplicateEmail { email: String },
    #[error("the store is unavailable")]
    Unavailable(#[source] anyhow::Error),
    #[error(transparent)]
    Unknown(anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum CreateChatError {
    #[error("user {owner} not found")]
    OwnerNotFound { owner: UserId },
    #[error("the store is unavailable")]
    Unavailable(#[source] anyhow::Error),
    #[error(transparent)]
    Unknown(anyhow::Error),
}

/// Outcomes of the operations on one of the caller's chats (read, rename, delete, read its
/// messages, delete its last exchange), other than success: they can fail in the same ways.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    /// The chat does not exist or belongs to someone else: the same answer for both.
    #[error("chat {chat} not found for user {owner}")]
    ChatNotFound { owner: UserId, chat: ChatId },
    #[error("the store is unavailable")]
    Unavailable(#[source] anyhow::Error),
    #[error(transparent)]
    Unknown(anyhow::Error),
}

/// Outcomes of the operations over all of the caller's chats (list, delete many, whether the
/// store is empty), other than success: only the store itself can fail them.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the store is unavailable")]
    Unavailable(#[source] anyhow::Error),
    #[error(transparent)]
    Unknown(anyhow::Error),
}
