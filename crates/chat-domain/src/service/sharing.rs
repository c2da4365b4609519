//! The operations on a chat's code blocks ("files") and shares.

use crate::error::{ChatError, FileError, SessionError, ShareError, SharedChatError};
use crate::file::{ChatFile, NewChatFile};
use crate::ids::{ChatId, MessageId};
use crate::ports::{ChatStore, SessionVerifier};
use crate::service::{Caller, ChatService};
use crate::share::{Share, ShareCredentials, ShareInfo, ShareSettings, SharedChat, WhitelistEntry};
use crate::user::EmailAddress;

impl<S: ChatStore, V: SessionVerifier> ChatService<S, V> {
    /// The code blocks saved for the caller's chat. Errors: `ChatNotFound`.
    pub async fn chat_files(
        &self,
        caller: &Caller,
        chat: ChatId,
    ) -> Result<Vec<ChatFile>, ChatError> {
        self.store.chat_files(caller.owner(), chat).await
    }

    /// Saves code blocks of a message of the caller's chat, all or none.
    pub async fn save_files(
        &self,
        caller: &Caller,
        chat: ChatId,
        message: MessageId,
        files: &[NewChatFile],
    ) -> Result<Vec<ChatFile>, FileError> {
        self.store
            .save_files(caller.owner(), chat, message, files)
            .await
    }

    /// The share of the caller's chat, if it has one.
    pub async fn chat_share(
        &self,
        caller: &Caller,
        chat: ChatId,
    ) -> Result<Option<Share>, ShareError> {
        self.store.chat_share(caller.owner(), chat).await
    }

    /// Publishes the caller's chat (or changes how it is published).
    pub async fn publish(
        &self,
        caller: &Caller,
        chat: ChatId,
        settings: &ShareSettings,
    ) -> Result<Share, ShareError> {
        self.store.publish(caller.owner(), chat, settings).await
    }

    /// Lets the caller and the users with these e-mail addresses read a share of the caller's.
    pub async fn whitelist(
        &self,
        caller: &Caller,
        chat: ChatId,
        share: i32,
        emails: &[EmailAddress],
    ) -> Result<Vec<WhitelistEntry>, ShareError> {
        self.store
            .whitelist(caller.owner(), chat, share, emails)
            .await
    }

    /// A shared chat, for whoever has its link, as the app protects it: a share that is missing
    /// or not active is not found; a private share with a password needs it (offered with an
    /// empty user name); a share with a whitelist needs the session of a user on it.
    pub async fn read_shared_chat(
        &self,
        uuid: &str,
        credentials: Option<&ShareCredentials>,
        session: Option<&str>,
    ) -> Result<SharedChat, SharedChatError> {
        let password = credentials
            .filter(|c| c.username.is_empty())
            .map(|c| c.password.as_str());
        let access = self
            .store
            .share_access(uuid, password)
            .await?
            .ok_or(SharedChatError::NotFound(ShareInfo::default()))?;
        let info = access.info();
        if !info.active {
            return Err(SharedChatError::NotFound(info));
        }
        if info.private && info.has_password && !access.password_matches {
            return Err(SharedChatError::WrongPassword(info));
        }
        if info.has_whitelist {
            let token = session
                .ok_or(SessionError::Missing)
                .map_err(SharedChatError::NoSession)?;
            let reader = self
                .sessions
                .verify(token)
                .map_err(SharedChatError::NoSession)?;
            if !access.whitelist.contains(&reader) {
                return Err(SharedChatError::NotWhitelisted(info));
            }
        }
        let messages = self.store.shared_messages(&access.share).await?;
        Ok(SharedChat {
            share: access.share,
            info,
            messages,
        })
    }
}
