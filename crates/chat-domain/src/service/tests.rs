//! Tests of the parent module.

use std::sync::Mutex;

use chrono::Utc;

use super::*;
use crate::ids::MessageId;
use crate::message::{Actor, MessageText, NewMessage};

/// An in-memory store, enough to test the service's own logic without a database.
#[derive(Default)]
struct MemoryStore {
    chats: Vec<(UserId, ChatId)>,
    messages: Mutex<Vec<ChatMessage>>,
}

impl ChatStore for MemoryStore {
    async fn append_messages(
        &self,
        owner: UserId,
        chat: ChatId,
        batch: &MessageBatch,
        once: Option<&Once<Vec<ChatMessage>>>,
    ) -> Result<Written<Vec<ChatMessage>>, ChatError> {
        assert!(once.is_none(), "keys are the adapters' to test");
        if !self.chats.contains(&(owner, chat)) {
            return Err(ChatError::ChatNotFound { owner, chat });
        }
        let mut stored = self.messages.lock().unwrap();
        let now = Utc::now();
        let new: Vec<ChatMessage> = batch
            .messages()
            .iter()
            .enumerate()
            .map(|(i, m)| ChatMessage {
                id: MessageId::new((stored.len() + i + 1) as i64),
                chat_id: chat,
                user_id: owner,
                text: m.text.as_str().to_owned(),
                actor: m.actor,
                created_at: now,
                updated_at: now,
            })
            .collect();
        stored.extend(new.iter().cloned());
        Ok(Written::Done(new))
    }

    async fn create_user(&self, _: &EmailAddress) -> Result<UserId, CreateUserError> {
        Err(StoreFailure::Unknown(anyhow::anyhow!("not in this test")).into())
    }

    async fn create_chat(
        &self,
        _: &NewChat,
        _: Option<&Once<Chat>>,
    ) -> Result<Written<Chat>, CreateChatError> {
        Err(StoreFailure::Unknown(anyhow::anyhow!("not in this test")).into())
    }

    async fn is_empty(&self) -> Result<bool, StoreFailure> {
        Ok(self.chats.is_empty())
    }

    async fn list_chats(
        &self,
        _: UserId,
        _: &crate::paging::ChatOrder,
        _: Option<&crate::paging::ChatCursor>,
        _: usize,
    ) -> Result<Vec<Chat>, StoreFailure> {
        Err(StoreFailure::Unknown(anyhow::anyhow!("not in this test")))
    }

    async fn get_chat(&self, owner: UserId, chat: ChatId) -> Result<Chat, ChatError> {
        Err(ChatError::ChatNotFound { owner, chat })
    }

    async fn rename_chat(
        &self,
        owner: UserId,
        chat: ChatId,
        _: &ChatName,
    ) -> Result<Chat, ChatError> {
        Err(ChatError::ChatNotFound { owner, chat })
    }

    async fn delete_chat(&self, owner: UserId, chat: ChatId) -> Result<Chat, ChatError> {
        Err(ChatError::ChatNotFound { owner, chat })
    }

    async fn delete_chats(&self, _: UserId, _: &ChatSelection) -> Result<u64, StoreFailure> {
        Ok(0)
    }

    async fn list_messages(
        &self,
        owner: UserId,
        chat: ChatId,
        _: &MessageListQuery,
        _: usize,
    ) -> Result<Vec<ChatMessage>, ChatError> {
        Err(ChatError::ChatNotFound { owner, chat })
    }

    async fn delete_messages_where(
        &self,
        owner: UserId,
        chat: ChatId,
        _: fn(&[(MessageId, Actor)]) -> Vec<MessageId>,
        _: Option<&Once<Vec<ChatMessage>>>,
    ) -> Result<Written<Vec<ChatMessage>>, ChatError> {
        Err(ChatError::ChatNotFound { owner, chat })
    }

    async fn purge_expired_keys(&self) -> Result<u64, StoreFailure> {
        Ok(0)
    }

    async fn schema_is_current(&self) -> Result<bool, StoreFailure> {
        Ok(true)
    }
}

/// Tokens are "user:<id>" here; the real verifier unseals iron cookies.
struct PlainSessions;

impl SessionVerifier for PlainSessions {
    fn verify(&self, token: &str) -> Result<UserId, SessionError> {
        token
            .strip_prefix("user:")
            .and_then(|id| id.parse().ok())
            .and_then(|id| UserId::new(id).ok())
            .ok_or(SessionError::Malformed("test token"))
    }
}

fn uid(n: i64) -> UserId {
    UserId::new(n).unwrap()
}

fn cid(n: i64) -> ChatId {
    ChatId::new(n).unwrap()
}

fn service() -> ChatService<MemoryStore, PlainSessions> {
    let store = MemoryStore {
        chats: vec![(uid(1), cid(10))],
        ..Default::default()
    };
    ChatService::new(store, PlainSessions, MessageLimits::default())
}

#[test]
fn authorization_checks_session_then_owner() {
    let svc = service();
    assert!(matches!(
        svc.authorize(None, uid(1)),
        Err(AuthError::Unauthenticated(SessionError::Missing))
    ));
    assert!(matches!(
        svc.authorize(Some("garbage"), uid(1)),
        Err(AuthError::Unauthenticated(SessionError::Malformed(_)))
    ));
    assert!(matches!(
        svc.authorize(Some("user:2"), uid(1)),
        Err(AuthError::Forbidden { .. })
    ));
    assert_eq!(
        svc.authorize(Some("user:1"), uid(1)).unwrap().owner(),
        uid(1)
    );
}

#[tokio::test]
async fn posting_goes_to_the_callers_chat_only() {
    let svc = service();
    let limits = *svc.limits();
    let batch = MessageBatch::new(
        vec![
            NewMessage {
                text: MessageText::new("q".into(), &limits).unwrap(),
                actor: Actor::User,
            },
            NewMessage {
                text: MessageText::new("a".into(), &limits).unwrap(),
                actor: Actor::Assistant,
            },
        ],
        &limits,
    )
    .unwrap();
    let caller = svc.authorize(Some("user:1"), uid(1)).unwrap();
    let Written::Done(stored) = svc
        .post_messages(&caller, cid(10), &batch, None)
        .await
        .unwrap()
    else {
        panic!("no key, so no kept answer");
    };
    assert_eq!(
        stored.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(),
        ["q", "a"]
    );
    assert!(matches!(
        svc.post_messages(&caller, cid(11), &batch, None).await,
        Err(ChatError::ChatNotFound { .. })
    ));
}
