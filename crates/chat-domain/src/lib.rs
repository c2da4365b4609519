//! The chat-messages domain: value types that cannot hold an invalid value, the rules of the
//! contract, the ports (traits) the domain needs from the outside, and the operations over them.
//!
//! This crate knows nothing of HTTP or SQL: adapters depend on it, never the other way round.

pub mod chat;
pub mod error;
pub mod file;
pub mod idempotency;
pub mod ids;
pub mod message;
pub mod paging;
pub mod ports;
pub mod service;
pub mod share;
pub mod text;
pub mod user;

pub use chat::{Chat, ChatName, ChatSelection, ModelName, NameError, NewChat, TooManyChats};
pub use error::{
    AuthError, ChatError, CreateChatError, CreateUserError, FileError, SessionError, ShareError,
    SharedChatError, StoreFailure,
};
pub use file::{ChatFile, FileTextError, NewChatFile};
pub use idempotency::{
    IdempotencyKey, KeptKey, KeyConflict, KeyError, Once, Record, Recorded, Written,
};
pub use ids::{ChatId, IdError, MessageId, UserId};
pub use message::{
    Actor, BatchSizeError, ChatMessage, MessageBatch, MessageLimits, MessageText, MessageTextError,
    NewMessage, TextViolation, UnknownActor, last_exchange,
};
pub use paging::{
    ChatCursor, ChatListQuery, ChatOrder, ChatPage, ChatSortField, Direction, InvalidOrder,
    MessageListQuery, MessagePage, PageLimit, PageLimitError, ReadBudget, ReadCount, SortBy,
    SortKey, chat_bytes, message_bytes,
};
pub use ports::{ChatStore, FileStore, SessionVerifier, ShareStore};
pub use service::{Caller, ChatService};
pub use share::{
    Share, ShareAccess, ShareCredentials, ShareInfo, SharePassword, ShareSettings, SharedChat,
    SharedMessage, WhitelistEntry,
};
pub use user::{EmailAddress, InvalidEmail};
