//! One error enum per kind of operation, each carrying the one way a store can fail,
//! [`StoreFailure`]: unavailable (the client may retry) or unknown (a bug or a broken
//! database). Causes are for the log, never for the client.

use crate::idempotency::KeyConflict;
use crate::ids::{ChatId, MessageId, UserId};

/// Why a store could not do what was asked. Every store operation can fail so; nothing was
/// stored when it does.
#[derive(Debug, thiserror::Error)]
pub enum StoreFailure {
    /// The store could not be reached, or gave no connection or lock in time: retrying may work.
    #[error("the store is unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// Anything else.
    #[error(transparent)]
    Unknown(anyhow::Error),
}

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

/// Outcomes of the operations on one of the caller's chats (post messages, read, rename,
/// delete, read its messages, delete its last exchange), other than success.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    /// The chat does not exist or belongs to someone else: the same answer for both.
    #[error("chat {chat} not found for user {owner}")]
    ChatNotFound { owner: UserId, chat: ChatId },
    /// A write with an idempotency key that cannot be used for it (writes only).
    #[error(transparent)]
    Key(#[from] KeyConflict),
    /// The store keeps actors in the app's enum and does not take this one there (`system`
    /// on the app's database, unless allowed): the app's AI route refuses chats holding one.
    #[error("the store does not accept the actor {actor:?} here; it accepts {options:?}")]
    ActorRefused { actor: String, options: Vec<String> },
    #[error(transparent)]
    Store(#[from] StoreFailure),
}

/// Why saving a message's code blocks failed.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The message is not in that chat of the owner's (or the chat is not the owner's).
    #[error("message {message} not found in chat {chat} of user {owner}")]
    MessageNotFound {
        owner: UserId,
        chat: ChatId,
        message: MessageId,
    },
    #[error(transparent)]
    Store(#[from] StoreFailure),
}

/// Why an owner's operation on a share failed.
#[derive(Debug, thiserror::Error)]
pub enum ShareError {
    #[error("chat {chat} not found for user {owner}")]
    ChatNotFound { owner: UserId, chat: ChatId },
    /// The share is not that chat's, or the chat not the owner's.
    #[error("share {share} of chat {chat} not found for user {owner}")]
    ShareNotFound {
        owner: UserId,
        chat: ChatId,
        share: i32,
    },
    /// The password cannot be stored the app's way (see the store).
    #[error("the share's password cannot be encrypted the app's way")]
    UnstorablePassword,
    #[error(transparent)]
    Store(#[from] StoreFailure),
}

/// Why a reader may not read a shared chat. Each but `NoSession` says what the reader may
/// learn of the share (the app's `shareInfo`).
#[derive(Debug, thiserror::Error)]
pub enum SharedChatError {
    #[error("no such share, or it is not active")]
    NotFound(crate::share::ShareInfo),
    #[error("the share's password was not given or is wrong")]
    WrongPassword(crate::share::ShareInfo),
    #[error("the share has a whitelist, and the reader has no session")]
    NoSession(#[source] SessionError),
    #[error("the reader is not on the share's whitelist")]
    NotWhitelisted(crate::share::ShareInfo),
    #[error(transparent)]
    Store(#[from] StoreFailure),
}

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("a user with e-mail {email:?} exists already")]
    DuplicateEmail { email: String },
    /// The users are the app's (an adopted database): it signs them up and keeps their e-mail
    /// encrypted, which this service cannot do.
    #[error(
        "users are the app's on this database (adopted from neptun.web): it keeps e-mails \
         encrypted with its own secret, so a user must sign up through the app"
    )]
    ManagedByApp,
    #[error(transparent)]
    Store(#[from] StoreFailure),
}

#[derive(Debug, thiserror::Error)]
pub enum CreateChatError {
    #[error("user {owner} not found")]
    OwnerNotFound { owner: UserId },
    /// The store accepts only these models (the app's database keeps them as an enum).
    #[error("the store does not accept the model {model:?}; it accepts {options:?}")]
    UnknownModel { model: String, options: Vec<String> },
    #[error(transparent)]
    Key(#[from] KeyConflict),
    #[error(transparent)]
    Store(#[from] StoreFailure),
}
