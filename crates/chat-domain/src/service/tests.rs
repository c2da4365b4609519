//! Tests of the parent module.

use std::sync::Mutex;

use chrono::Utc;

use super::*;
use crate::error::{FileError, ShareError};
use crate::file::{ChatFile, NewChatFile};
use crate::ids::MessageId;
use crate::message::{Actor, MessageText, NewMessage};
use crate::ports::{FileStore, ShareStore};
use crate::share::{
    Share, ShareAccess, ShareCredentials, ShareSettings, SharedMessage, WhitelistEntry,
};

/// An in-memory store, enough to test the service's own logic without a database.
#[derive(Default)]
struct MemoryStore {
    chats: Vec<(UserId, ChatId)>,
    messages: Mutex<Vec<ChatMessage>>,
    /// The one share there is, and its password.
    share: Option<(ShareAccess, &'static str)>,
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
        _: crate::paging::ReadBudget,
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
        _: crate::paging::ReadBudget,
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

impl FileStore for MemoryStore {
    async fn chat_files(&self, _: UserId, _: ChatId) -> Result<Vec<ChatFile>, ChatError> {
        Ok(Vec::new())
    }

    async fn save_files(
        &self,
        owner: UserId,
        chat: ChatId,
        message: MessageId,
        _: &[NewChatFile],
    ) -> Result<Vec<ChatFile>, FileError> {
        Err(FileError::MessageNotFound {
            owner,
            chat,
            message,
        })
    }
}

impl ShareStore for MemoryStore {
    async fn chat_share(&self, _: UserId, _: ChatId) -> Result<Option<Share>, ShareError> {
        Ok(self.share.as_ref().map(|(a, _)| a.share.clone()))
    }

    async fn publish(
        &self,
        owner: UserId,
        chat: ChatId,
        _: &ShareSettings,
    ) -> Result<Share, ShareError> {
        Err(ShareError::ChatNotFound { owner, chat })
    }

    async fn whitelist(
        &self,
        owner: UserId,
        chat: ChatId,
        share: i32,
        _: &[EmailAddress],
    ) -> Result<Vec<WhitelistEntry>, ShareError> {
        Err(ShareError::ShareNotFound { owner, chat, share })
    }

    async fn share_access(
        &self,
        uuid: &str,
        password: Option<&str>,
    ) -> Result<Option<ShareAccess>, StoreFailure> {
        Ok(self
            .share
            .as_ref()
            .filter(|(a, _)| a.share.uuid == uuid)
            .map(|(a, kept)| ShareAccess {
                password_matches: password == Some(*kept),
                ..a.clone()
            }))
    }

    async fn shared_messages(&self, _: &Share) -> Result<Vec<SharedMessage>, StoreFailure> {
        Ok(Vec::new())
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

/// A service whose one share (uuid "s") is as given, with the password "pw".
fn sharing(
    shared: bool,
    protected: bool,
    has_password: bool,
    whitelist: &[i64],
) -> ChatService<MemoryStore, PlainSessions> {
    let share = Share {
        id: 1,
        uuid: "s".into(),
        shared,
        protected,
        has_password,
        chat: cid(10),
        created_at: Utc::now(),
        updated_at: Utc::now(),
    };
    let access = ShareAccess {
        share,
        password_matches: false,
        whitelist: whitelist.iter().map(|id| uid(*id)).collect(),
    };
    let store = MemoryStore {
        chats: vec![(uid(1), cid(10))],
        share: Some((access, "pw")),
        ..Default::default()
    };
    ChatService::new(store, PlainSessions, MessageLimits::default())
}

fn basic(username: &str, password: &str) -> Option<ShareCredentials> {
    Some(ShareCredentials {
        username: username.into(),
        password: password.into(),
    })
}

#[tokio::test]
async fn a_shared_chat_is_protected_as_the_app_protects_it() {
    use crate::error::SharedChatError as E;
    let open = sharing(true, false, false, &[]);
    assert!(open.read_shared_chat("s", None, None).await.is_ok());
    assert!(
        matches!(open.read_shared_chat("t", None, None).await, Err(E::NotFound(i)) if !i.exists)
    );

    let inactive = sharing(false, false, false, &[]);
    assert!(
        matches!(inactive.read_shared_chat("s", None, None).await, Err(E::NotFound(i)) if i.exists && !i.active)
    );

    let locked = sharing(true, true, true, &[]);
    assert!(matches!(
        locked.read_shared_chat("s", None, None).await,
        Err(E::WrongPassword(_))
    ));
    assert!(matches!(
        locked
            .read_shared_chat("s", basic("", "no").as_ref(), None)
            .await,
        Err(E::WrongPassword(_))
    ));
    assert!(matches!(
        locked
            .read_shared_chat("s", basic("a", "pw").as_ref(), None)
            .await,
        Err(E::WrongPassword(_))
    ));
    assert!(
        locked
            .read_shared_chat("s", basic("", "pw").as_ref(), None)
            .await
            .is_ok()
    );

    // A password set on a share that is not private is not asked for, as in the app.
    let public_with_password = sharing(true, false, true, &[]);
    assert!(
        public_with_password
            .read_shared_chat("s", None, None)
            .await
            .is_ok()
    );

    let listed = sharing(true, true, false, &[1, 7]);
    assert!(matches!(
        listed.read_shared_chat("s", None, None).await,
        Err(E::NoSession(_))
    ));
    assert!(
        matches!(listed.read_shared_chat("s", None, Some("user:2")).await, Err(E::NotWhitelisted(i)) if i.has_whitelist)
    );
    assert!(
        listed
            .read_shared_chat("s", None, Some("user:7"))
            .await
            .is_ok()
    );

    let both = sharing(true, true, true, &[7]);
    assert!(matches!(
        both.read_shared_chat("s", None, Some("user:7")).await,
        Err(E::WrongPassword(_))
    ));
    assert!(
        both.read_shared_chat("s", basic("", "pw").as_ref(), Some("user:7"))
            .await
            .is_ok()
    );
}
