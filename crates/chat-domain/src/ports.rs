//! Ports: what the domain needs from the outside world, as traits. Adapters implement them.

use std::future::Future;

use crate::chat::ChatSelection;
use crate::chat::{Chat, ChatName, NewChat};
use crate::error::{
    ChatError, CreateChatError, CreateUserError, FileError, SessionError, ShareError, StoreFailure,
};
use crate::file::{ChatFile, NewChatFile};
use crate::idempotency::{Once, Written};
use crate::ids::{ChatId, MessageId, UserId};
use crate::message::{ChatMessage, MessageBatch};
use crate::paging::{ChatCursor, ChatOrder, MessageListQuery, ReadBudget};
use crate::share::{Share, ShareAccess, ShareSettings, SharedMessage, WhitelistEntry};
use crate::user::EmailAddress;

/// Where chats and their messages live. Every operation may also fail with a
/// [`StoreFailure`] (on its own, or inside its error enum as `Store`), and stores nothing then.
///
/// The writes a client may retry take an optional [`Once`]. With one, the store, in the
/// write's own transaction: answers `Key(InProgress)` while another request with the owner's
/// key runs; replays the answer kept with the key (or answers `Key(Mismatch)` for another
/// fingerprint) when the key is known and younger than the store's key lifetime; otherwise
/// makes the write and keeps its recorded answer with the key. A failed write keeps no key.
pub trait ChatStore: FileStore + ShareStore + Send + Sync + 'static {
    /// Stores every message of `batch` in chat `chat` of user `owner`, all or none, and sets the
    /// chat's `updated_at` to the messages' `created_at` (one instant for the whole batch).
    /// Returns the stored messages in batch order, their ids increasing in that order.
    ///
    /// Errors: `ChatNotFound` when no chat `chat` belongs to `owner`.
    fn append_messages(
        &self,
        owner: UserId,
        chat: ChatId,
        batch: &MessageBatch,
        once: Option<&Once<Vec<ChatMessage>>>,
    ) -> impl Future<Output = Result<Written<Vec<ChatMessage>>, ChatError>> + Send;

    /// Creates a user. Errors: `DuplicateEmail`.
    fn create_user(
        &self,
        email: &EmailAddress,
    ) -> impl Future<Output = Result<UserId, CreateUserError>> + Send;

    /// Creates a chat. Errors: `OwnerNotFound`.
    fn create_chat(
        &self,
        chat: &NewChat,
        once: Option<&Once<Chat>>,
    ) -> impl Future<Output = Result<Written<Chat>, CreateChatError>> + Send;

    /// Whether the store holds no user (a fresh database).
    fn is_empty(&self) -> impl Future<Output = Result<bool, StoreFailure>> + Send;

    /// Up to `limit` of `owner`'s chats in `order`, starting after `after` when given; of
    /// those, as many as a [`crate::paging::ReadCount`] of their [`crate::paging::chat_bytes`] wants, so the rows past the
    /// budget are never loaded.
    fn list_chats(
        &self,
        owner: UserId,
        order: &ChatOrder,
        after: Option<&ChatCursor>,
        limit: usize,
        budget: ReadBudget,
    ) -> impl Future<Output = Result<Vec<Chat>, StoreFailure>> + Send;

    /// `owner`'s chat `chat`. Errors: `ChatNotFound` for a missing chat or someone else's.
    fn get_chat(
        &self,
        owner: UserId,
        chat: ChatId,
    ) -> impl Future<Output = Result<Chat, ChatError>> + Send;

    /// Renames `owner`'s chat and moves its `updated_at` to now. Errors: `ChatNotFound`.
    fn rename_chat(
        &self,
        owner: UserId,
        chat: ChatId,
        name: &ChatName,
    ) -> impl Future<Output = Result<Chat, ChatError>> + Send;

    /// Deletes `owner`'s chat with its messages; returns it as it was. Errors: `ChatNotFound`.
    fn delete_chat(
        &self,
        owner: UserId,
        chat: ChatId,
    ) -> impl Future<Output = Result<Chat, ChatError>> + Send;

    /// Deletes those of `chats` that are `owner`'s (others' are left alone); returns how many.
    fn delete_chats(
        &self,
        owner: UserId,
        chats: &ChatSelection,
    ) -> impl Future<Output = Result<u64, StoreFailure>> + Send;

    /// Up to `limit` messages of `owner`'s chat within `query`'s bounds, in its direction; of
    /// those, each while the total [`ReadBudget::cost`] of the messages before the one ahead of
    /// it is at most `budget`, so one message past the budget comes too (it tells that more
    /// follow) and the rows past it are never loaded. Errors: `ChatNotFound`.
    fn list_messages(
        &self,
        owner: UserId,
        chat: ChatId,
        query: &MessageListQuery,
        limit: usize,
        budget: ReadBudget,
    ) -> impl Future<Output = Result<Vec<ChatMessage>, ChatError>> + Send;

    /// In one transaction: reads the ids and actors of the chat's messages (oldest first),
    /// deletes those `choose` picks, moves the chat's `updated_at` to now if any went, and
    /// returns the deleted messages oldest first. Errors: `ChatNotFound`.
    fn delete_messages_where(
        &self,
        owner: UserId,
        chat: ChatId,
        choose: fn(&[(MessageId, crate::message::Actor)]) -> Vec<MessageId>,
        once: Option<&Once<Vec<ChatMessage>>>,
    ) -> impl Future<Output = Result<Written<Vec<ChatMessage>>, ChatError>> + Send;

    /// Whether the store answers and its schema is the one this build expects (readiness).
    fn schema_is_current(&self) -> impl Future<Output = Result<bool, StoreFailure>> + Send;

    /// Forgets the idempotency keys older than the store's key lifetime; returns how many.
    fn purge_expired_keys(&self) -> impl Future<Output = Result<u64, StoreFailure>> + Send;
}

/// Where a message's code blocks ("files") live.
pub trait FileStore: Send + Sync + 'static {
    /// The files of `owner`'s chat, oldest first. Errors: `ChatNotFound`.
    fn chat_files(
        &self,
        owner: UserId,
        chat: ChatId,
    ) -> impl Future<Output = Result<Vec<ChatFile>, ChatError>> + Send;

    /// Saves `files` for message `message` of `owner`'s chat `chat`, all or none, in order.
    /// Errors: `MessageNotFound` when the message is not in that chat of the owner's.
    fn save_files(
        &self,
        owner: UserId,
        chat: ChatId,
        message: MessageId,
        files: &[NewChatFile],
    ) -> impl Future<Output = Result<Vec<ChatFile>, FileError>> + Send;
}

/// Where shares live. Passwords and e-mail addresses are compared the app's way (its
/// encryption with its secret), which is the store's to know.
pub trait ShareStore: Send + Sync + 'static {
    /// The share of `owner`'s chat, if it has one. Errors: `ChatNotFound`.
    fn chat_share(
        &self,
        owner: UserId,
        chat: ChatId,
    ) -> impl Future<Output = Result<Option<Share>, ShareError>> + Send;

    /// Publishes `owner`'s chat as `settings` say: the chat's share is made, or, if it has one,
    /// updated. Errors: `ChatNotFound`, `UnstorablePassword`.
    fn publish(
        &self,
        owner: UserId,
        chat: ChatId,
        settings: &ShareSettings,
    ) -> impl Future<Output = Result<Share, ShareError>> + Send;

    /// Whitelists, on share `share` of `owner`'s chat, the owner and the users whose e-mail
    /// address is one of `emails` (addresses no user has are skipped without a word, so the
    /// route cannot tell who has an account). Returns the owner's and those users' entries,
    /// none twice. Errors: `ShareNotFound`.
    fn whitelist(
        &self,
        owner: UserId,
        chat: ChatId,
        share: i32,
        emails: &[EmailAddress],
    ) -> impl Future<Output = Result<Vec<WhitelistEntry>, ShareError>> + Send;

    /// The share named `uuid`, with whether `password` matches its password and who is on its
    /// whitelist; `None` when there is no such share.
    fn share_access(
        &self,
        uuid: &str,
        password: Option<&str>,
    ) -> impl Future<Output = Result<Option<ShareAccess>, StoreFailure>> + Send;

    /// The messages of the shared chat of share `share`, oldest first.
    fn shared_messages(
        &self,
        share: &Share,
    ) -> impl Future<Output = Result<Vec<SharedMessage>, StoreFailure>> + Send;
}

/// Turns a session token (as the client sent it) into the id of the user it was issued to.
pub trait SessionVerifier: Send + Sync + 'static {
    fn verify(&self, token: &str) -> Result<UserId, SessionError>;
}
