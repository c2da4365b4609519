//! What both backends do alike for shares: keep a password and look up e-mail addresses the
//! app's way (its encryption, see `app_secret`), and judge what a reader offered.

use chat_domain::{
    Actor, ChatId, EmailAddress, Share, ShareAccess, ShareError, ShareSettings, SharedMessage,
    StoreFailure, UserId,
};

use crate::app_secret::AppSecret;
use crate::rows::MessageRow;
use crate::sharing_rows::ShareFields;

#[derive(Debug, Clone)]
pub struct Sharing {
    secret: AppSecret,
}

impl Sharing {
    pub fn new(secret: AppSecret) -> Self {
        Self { secret }
    }

    /// The password as the share keeps it: its encryption, or none.
    pub fn stored_password(&self, settings: &ShareSettings) -> Result<Option<String>, ShareError> {
        settings
            .password
            .as_ref()
            .map(|p| {
                self.secret
                    .encrypt_hex(p.expose())
                    .ok_or(ShareError::UnstorablePassword)
            })
            .transpose()
    }

    /// The addresses as `primary_email` may hold them, as one JSON array: encrypted (the app's
    /// users) and as given (users made by `chat-service users create` on the service's own
    /// database). An encryption is hex, never an address, so the two cannot meet by mistake.
    pub fn stored_emails(&self, emails: &[EmailAddress]) -> String {
        let plain = emails.iter().map(|e| e.as_str().to_owned());
        let encrypted = emails
            .iter()
            .filter_map(|e| self.secret.encrypt_hex(e.as_str()));
        let all: Vec<String> = plain.chain(encrypted).collect();
        serde_json::Value::from(all).to_string()
    }

    /// The share, whether `password` is its password, and its whitelist (`"1,7"`).
    pub fn access(
        &self,
        share: ShareFields,
        whitelist: Option<&str>,
        password: Option<&str>,
    ) -> Result<ShareAccess, StoreFailure> {
        let offered = password.and_then(|p| self.secret.encrypt_hex(p));
        let password_matches = matches!(
            (&share.hashed_password, &offered),
            (Some(kept), Some(offered)) if kept == offered
        );
        let whitelist = whitelist
            .unwrap_or_default()
            .split(',')
            .filter(|id| !id.is_empty())
            .map(|id| {
                let id: i64 = id
                    .parse()
                    .map_err(|_| anyhow::anyhow!("whitelisted id {id:?}"))?;
                Ok(UserId::new(id)?)
            })
            .collect::<anyhow::Result<Vec<_>>>()
            .map_err(StoreFailure::Unknown)?;
        Ok(ShareAccess {
            share: share.into_share().map_err(StoreFailure::Unknown)?,
            password_matches,
            whitelist,
        })
    }
}

/// The share of the owner's chat as a store read it: the share, if any, and whether the chat
/// is the owner's at all.
pub fn chat_share(
    owner: UserId,
    chat: ChatId,
    share: Option<ShareFields>,
    owned: bool,
) -> Result<Option<Share>, ShareError> {
    if !owned {
        return Err(ShareError::ChatNotFound { owner, chat });
    }
    share
        .map(ShareFields::into_share)
        .transpose()
        .map_err(|e| StoreFailure::Unknown(e).into())
}

/// A shared chat's messages, as its readers see them.
pub fn shared_messages(rows: Vec<MessageRow>) -> Result<Vec<SharedMessage>, StoreFailure> {
    rows.into_iter()
        .map(|row| {
            let actor: Actor = row
                .actor
                .parse()
                .map_err(|e| StoreFailure::Unknown(anyhow::anyhow!("{e}")))?;
            Ok(SharedMessage {
                id: row.id,
                text: row.message,
                actor,
                created_at: row.created_at,
                updated_at: row.updated_at,
            })
        })
        .collect()
}
