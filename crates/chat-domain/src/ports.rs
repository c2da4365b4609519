//! Ports: what the domain needs from the outside world, as traits. Adapters implement them.

use std::future::Future;

use crate::chat::{Chat, NewChat};
use crate::error::{
    CreateChatError, CreateUserError, IsEmptyError, PostMessagesError, SessionError,
};
use crate::ids::{ChatId, UserId};
use crate::message::{ChatMessage, MessageBatch};
use crate::user::EmailAddress;

/// Where chats and their messages live.
pub trait ChatStore: Send + Sync + 'static {
    /// Stores every message of `batch` in chat `chat` of user `owner`, all or none, and sets the
    /// chat's `updated_at` to the messages' `created_at` (one instant for the whole batch).
    /// Returns the stored messages in batch order, their ids increasing in that order.
    ///
    /// Errors: `ChatNotFound` when no chat `chat` belongs to `owner` (nothing is stored);
    /// `Unavailable` when the store cannot be reached or gives no connection in time;
    /// `Unknown` for anything else. No error leaves anything stored.
    fn append_messages(
        &self,
        owner: UserId,
        chat: ChatId,
        batch: &MessageBatch,
    ) -> impl Future<Output = Result<Vec<ChatMessage>, PostMessagesError>> + Send;

    /// Creates a user. Errors: `DuplicateEmail`, `Unavailable`, `Unknown`.
    fn create_user(
        &self,
        email: &EmailAddress,
    ) -> impl Future<Output = Result<UserId, CreateUserError>> + Send;

    /// Creates a chat. Errors: `OwnerNotFound`, `Unavailable`, `Unknown`.
    fn create_chat(
        &self,
        chat: &NewChat,
    ) -> impl Future<Output = Result<Chat, CreateChatError>> + Send;

    /// Whether the store holds no user (a fresh database). Errors: `Unavailable`, `Unknown`.
    fn is_empty(&self) -> impl Future<Output = Result<bool, IsEmptyError>> + Send;
}

/// Turns a session token (as the client sent it) into the id of the user it was issued to.
pub trait SessionVerifier: Send + Sync + 'static {
    fn verify(&self, token: &str) -> Result<UserId, SessionError>;
}
