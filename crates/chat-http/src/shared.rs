//! `GET /api/shared/chats/{uuid}`: a shared chat, read by whoever has its link, behind the
//! protection its owner chose (a password as HTTP Basic with an empty user name, a whitelist of
//! users, or both), exactly as the app's public page expects. Its refusals carry the app's
//! `shareInfo`, from which the page says why (missing, not active, password, whitelist).

use actix_web::http::StatusCode;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine as _;
use chat_domain::{
    ChatService, ChatStore, SessionVerifier, ShareCredentials, ShareInfo, SharedChat,
    SharedChatError,
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorBody};
use crate::issue::{Issue, at};
use crate::session::token_of;
use crate::wire::{ActorName, js_iso};

type Service<S, V> = web::Data<ChatService<S, V>>;

const INVALID_UUID: &str = "Bad Request. Invalid route parameters(uuid).";

/// The share's state, as the app's page reads it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShareInfoDto {
    share_exists: bool,
    share_is_active: bool,
    share_is_private: bool,
    share_has_password: bool,
    share_has_whitelist: bool,
}

impl From<ShareInfo> for ShareInfoDto {
    fn from(i: ShareInfo) -> Self {
        Self {
            share_exists: i.exists,
            share_is_active: i.active,
            share_is_private: i.private,
            share_has_password: i.has_password,
            share_has_whitelist: i.has_whitelist,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SharedShareDto {
    id: i32,
    is_shared: bool,
    is_protected: bool,
    created_at: String,
    updated_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SharedChatDto {
    id: i32,
    chat_conversation_shares: Vec<SharedShareDto>,
}

/// A message of the shared chat, as the app answers it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SharedMessageDto {
    id: i64,
    message: String,
    #[schema(value_type = ActorName)]
    actor: &'static str,
    created_at: String,
    updated_at: String,
    chat_conversation: SharedChatDto,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SharedChatResponse {
    chat_messages: Vec<SharedMessageDto>,
    share_info: ShareInfoDto,
}

impl From<SharedChat> for SharedChatResponse {
    fn from(shared: SharedChat) -> Self {
        let share = &shared.share;
        let chat = || SharedChatDto {
            id: share.chat.get(),
            chat_conversation_shares: vec![SharedShareDto {
                id: share.id,
                is_shared: share.shared,
                is_protected: share.protected,
                created_at: js_iso(share.created_at),
                updated_at: js_iso(share.updated_at),
            }],
        };
        Self {
            chat_messages: shared
                .messages
                .iter()
                .map(|m| SharedMessageDto {
                    id: m.id,
                    message: m.text.clone(),
                    actor: m.actor.as_str(),
                    created_at: js_iso(m.created_at),
                    updated_at: js_iso(m.updated_at),
                    chat_conversation: chat(),
                })
                .collect(),
            share_info: shared.info.into(),
        }
    }
}

/// A refusal the page explains from its `shareInfo`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShareRefusal {
    status_code: u16,
    status_message: &'static str,
    /// Absent on a plain 401 (a whitelist and no session).
    message: Option<&'static str>,
    /// Absent on a plain 401 (a whitelist and no session).
    data: Option<ShareRefusalData>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShareRefusalData {
    share_info: ShareInfoDto,
}

/// `GET`: the shared chat's messages, oldest first, and the share's state.
#[utoipa::path(
    get,
    path = "/api/shared/chats/{uuid}",
    operation_id = "read_shared_chat",
    tag = "shares",
    params(("uuid" = String, Path, description = "The share's uuid")),
    security((), ("session_cookie" = []), ("session_header" = [])),
    responses(
        (status = 200, description = "The shared chat", body = SharedChatResponse),
        (status = 400, description = "The uuid is not one", body = ErrorBody),
        (status = 401, description = "The share's password is missing or wrong, or its whitelist needs a session", body = ShareRefusal),
        (status = 403, description = "The reader is not on the share's whitelist", body = ShareRefusal),
        (status = 404, description = "No such share, or it is not active", body = ShareRefusal),
        (status = 405, description = "The method is not one the path has", body = ErrorBody),
        (status = 500, description = "An internal failure; the log has its cause", body = ErrorBody),
        (status = 503, description = "The database cannot be reached in time; retry", body = ErrorBody),
    ),
)]
pub async fn read<S: ChatStore, V: SessionVerifier>(
    req: HttpRequest,
    service: Service<S, V>,
) -> Result<HttpResponse, ApiError> {
    let raw = req.match_info().get("uuid").unwrap_or_default();
    let uuid = uuid::Uuid::parse_str(raw).map_err(|_| {
        let issue = Issue::invalid_string(at("uuid"), "Invalid uuid");
        ApiError::bad_request(INVALID_UUID, vec![issue])
    })?;
    let credentials = basic_credentials(&req);
    let session = token_of(&req);
    let read = service
        .read_shared_chat(&uuid.to_string(), credentials.as_ref(), session.as_deref())
        .await;
    match read {
        Ok(shared) => Ok(HttpResponse::Ok().json(SharedChatResponse::from(shared))),
        Err(e) => refusal(e),
    }
}

fn refusal(e: SharedChatError) -> Result<HttpResponse, ApiError> {
    tracing::info!(reason = %e, "shared chat refused");
    let (status, status_message, message, info) = match e {
        SharedChatError::Store(failure) => return Err(failure.into()),
        SharedChatError::NoSession(_) => {
            return Err(ApiError::for_status(StatusCode::UNAUTHORIZED));
        }
        SharedChatError::NotFound(info) if info.exists => (
            StatusCode::NOT_FOUND,
            "Not Found (share not active)",
            "The share is not active.",
            info,
        ),
        SharedChatError::NotFound(info) => (
            StatusCode::NOT_FOUND,
            "Not Found (share not found)",
            "The share does not exist.",
            info,
        ),
        SharedChatError::WrongPassword(info) => (
            StatusCode::UNAUTHORIZED,
            "Unauthorized (incorrect credentials)",
            "You are not authorized to view this chat.",
            info,
        ),
        SharedChatError::NotWhitelisted(info) => (
            StatusCode::FORBIDDEN,
            "Forbidden (not on whitelist)",
            "You are not on the whitelist.",
            info,
        ),
    };
    Ok(HttpResponse::build(status).json(ShareRefusal {
        status_code: status.as_u16(),
        status_message,
        message: Some(message),
        data: Some(ShareRefusalData {
            share_info: info.into(),
        }),
    }))
}

/// HTTP Basic credentials, read as the app reads them: the parts of the decoded text before
/// the first and the second `:` (`":pw"` is an empty user name and the password `pw`).
fn basic_credentials(req: &HttpRequest) -> Option<ShareCredentials> {
    let header = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let encoded = header.strip_prefix("Basic ")?.split(' ').next()?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8_lossy(&decoded);
    let mut parts = text.split(':');
    Some(ShareCredentials {
        username: parts.next().unwrap_or_default().to_owned(),
        password: parts.next().unwrap_or_default().to_owned(),
    })
}
