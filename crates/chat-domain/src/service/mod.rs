//! The operations of the service, generic over the ports.

mod sharing;

use crate::chat::{Chat, ChatName, ChatSelection, ModelName, NewChat};
use crate::error::{
    AuthError, ChatError, CreateChatError, CreateUserError, SessionError, StoreFailure,
};
use crate::idempotency::{Once, Written};
use crate::ids::{ChatId, UserId};
use crate::message::last_exchange;
use crate::message::{ChatMessage, MessageBatch, MessageLimits};
use crate::paging::{ChatListQuery, ChatPage, MessageListQuery, MessagePage, ReadBudget};
use crate::ports::{ChatStore, SessionVerifier};
use crate::user::EmailAddress;

/// Proof that the holder is authenticated and may act for `owner`. Only
/// [`ChatService::authorize`] makes one, so an operation that takes a `Caller` cannot be reached
/// without the session and ownership checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    owner: UserId,
}

impl Caller {
    /// The user whose data the caller may read and write (today: the caller's own).
    pub fn owner(&self) -> UserId {
        self.owner
    }
}

pub struct ChatService<S, V> {
    store: S,
    sessions: V,
    limits: MessageLimits,
}

impl<S: ChatStore, V: SessionVerifier> ChatService<S, V> {
    pub fn new(store: S, sessions: V, limits: MessageLimits) -> Self {
        Self {
            store,
            sessions,
            limits,
        }
    }

    /// The store it runs on, for operations (its pool's state, for metrics).
    pub fn store(&self) -> &S {
        &self.store
    }

    pub fn limits(&self) -> &MessageLimits {
        &self.limits
    }

    /// Checks, in this order, that `token` is a valid session and that its user is `owner`.
    pub fn authorize(&self, token: Option<&str>, owner: UserId) -> Result<Caller, AuthError> {
        let token = token.ok_or(SessionError::Missing)?;
        let caller = self.sessions.verify(token)?;
        if caller != owner {
            return Err(AuthError::Forbidden { caller, owner });
        }
        Ok(Caller { owner })
    }

    /// Appends the batch to the caller's chat, atomically, at most once per key; see
    /// [`ChatStore::append_messages`].
    pub async fn post_messages(
        &self,
        caller: &Caller,
        chat: ChatId,
        batch: &MessageBatch,
        once: Option<&Once<Vec<ChatMessage>>>,
    ) -> Result<Written<Vec<ChatMessage>>, ChatError> {
        self.store
            .append_messages(caller.owner(), chat, batch, once)
            .await
    }

    pub async fn create_user(&self, email: &EmailAddress) -> Result<UserId, CreateUserError> {
        self.store.create_user(email).await
    }

    /// A new chat for anyone (the command line's, which has no caller and no key).
    pub async fn create_chat(&self, chat: &NewChat) -> Result<Chat, CreateChatError> {
        match self.store.create_chat(chat, None).await? {
            Written::Done(chat) => Ok(chat),
            Written::Kept { .. } => Err(StoreFailure::Unknown(anyhow::anyhow!(
                "the store kept an answer for a write without a key"
            ))
            .into()),
        }
    }

    /// Whether the store answers with the schema this build expects.
    pub async fn schema_is_current(&self) -> Result<bool, StoreFailure> {
        self.store.schema_is_current().await
    }

    /// Forgets idempotency keys past their lifetime; see [`ChatStore::purge_expired_keys`].
    pub async fn purge_expired_keys(&self) -> Result<u64, StoreFailure> {
        self.store.purge_expired_keys().await
    }

    pub async fn is_empty(&self) -> Result<bool, StoreFailure> {
        self.store.is_empty().await
    }

    /// A page of the caller's chats.
    pub async fn list_chats(
        &self,
        caller: &Caller,
        query: &ChatListQuery,
        budget: ReadBudget,
    ) -> Result<ChatPage, StoreFailure> {
        // One row more than a page tells whether another page follows; the store stops at the
        // budget.
        let rows = self
            .store
            .list_chats(
                caller.owner(),
                &query.order,
                query.after.as_ref(),
                query.limit.get() + 1,
                budget,
            )
            .await?;
        Ok(ChatPage::within(rows, query.limit, budget, &query.order))
    }

    /// A new chat of the caller's, at most once per key.
    pub async fn start_chat(
        &self,
        caller: &Caller,
        name: ChatName,
        model: ModelName,
        once: Option<&Once<Chat>>,
    ) -> Result<Written<Chat>, CreateChatError> {
        let chat = NewChat {
            owner: caller.owner(),
            name,
            model,
        };
        self.store.create_chat(&chat, once).await
    }

    pub async fn get_chat(&self, caller: &Caller, chat: ChatId) -> Result<Chat, ChatError> {
        self.store.get_chat(caller.owner(), chat).await
    }

    pub async fn rename_chat(
        &self,
        caller: &Caller,
        chat: ChatId,
        name: &ChatName,
    ) -> Result<Chat, ChatError> {
        self.store.rename_chat(caller.owner(), chat, name).await
    }

    pub async fn delete_chat(&self, caller: &Caller, chat: ChatId) -> Result<Chat, ChatError> {
        self.store.delete_chat(caller.owner(), chat).await
    }

    /// Deletes those of `chats` that are the caller's; others' are not touched (the app forgot
    /// this check). Returns how many were deleted.
    pub async fn delete_chats(
        &self,
        caller: &Caller,
        chats: &ChatSelection,
    ) -> Result<u64, StoreFailure> {
        self.store.delete_chats(caller.owner(), chats).await
    }

    /// A page of a chat's messages, by id.
    pub async fn list_messages(
        &self,
        caller: &Caller,
        chat: ChatId,
        query: &MessageListQuery,
        budget: ReadBudget,
    ) -> Result<MessagePage, ChatError> {
        // One more than the page, to learn whether more follow; the store stops at the budget.
        let rows = self
            .store
            .list_messages(caller.owner(), chat, query, query.limit.get() + 1, budget)
            .await?;
        Ok(MessagePage::within(rows, query.limit, budget))
    }

    /// Removes the chat's last exchange (see [`last_exchange`]); returns what was removed.
    pub async fn delete_last_exchange(
        &self,
        caller: &Caller,
        chat: ChatId,
        once: Option<&Once<Vec<ChatMessage>>>,
    ) -> Result<Written<Vec<ChatMessage>>, ChatError> {
        self.store
            .delete_messages_where(caller.owner(), chat, last_exchange, once)
            .await
    }
}

#[cfg(test)]
mod tests;
