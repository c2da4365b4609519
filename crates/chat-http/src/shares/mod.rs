//! `/api/users/{user_id}/chats/{chat_id}/shares` and `.../shares/{share_id}/whitelist-entries`:
//! the owner publishes a chat (the app's ShareDialog), and says who may read a protected one.

mod request;
mod response;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chat_domain::{ChatService, ChatStore, SessionVerifier, ShareError};

pub use request::{EmailListRequest, INVALID_SHARE, INVALID_WHITELIST, ShareRequest};
pub use response::{ShareDto, ShareResponse, WhitelistEntryDto, WhitelistResponse};

use crate::body::JsonBody;
use crate::error::{ApiError, ReadErrors, WriteErrors};
use crate::extract::{AuthorizedChat, AuthorizedItem};
use crate::issue::Issue;
use crate::path::{ChatItemPath, ChatPath};

type Service<S, V> = web::Data<ChatService<S, V>>;

/// `GET`: the uuid of the chat's share (the link is `/shared/chats/{uuid}`), or null when the
/// chat is not published.
#[utoipa::path(
    get,
    path = "/api/users/{user_id}/chats/{chat_id}/shares",
    operation_id = "get_chat_share",
    tag = "shares",
    params(ChatPath),
    responses(
        (status = 200, description = "The share's uuid, or null", body = Option<String>),
        ReadErrors,
    ),
)]
pub async fn get<S: ChatStore, V: SessionVerifier>(
    AuthorizedChat { caller, chat, .. }: AuthorizedChat<S, V>,
    service: Service<S, V>,
) -> Result<HttpResponse, ApiError> {
    let share = service.chat_share(&caller, chat).await.map_err(refusal)?;
    Ok(HttpResponse::Ok().json(share.map(|s| s.uuid)))
}

/// `POST` `{"is_shared", "is_protected", "hashed_password"}` (all optional): publishes the
/// chat, or changes how it is published (a chat has one share). The password, if any, is kept
/// encrypted the app's way and never sent back.
#[utoipa::path(
    post,
    path = "/api/users/{user_id}/chats/{chat_id}/shares",
    operation_id = "publish_chat",
    tag = "shares",
    params(ChatPath),
    request_body(content = ShareRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The share", body = ShareResponse),
        WriteErrors,
    ),
)]
pub async fn publish<S: ChatStore, V: SessionVerifier>(
    AuthorizedChat { caller, chat, .. }: AuthorizedChat<S, V>,
    JsonBody(body): JsonBody,
    service: Service<S, V>,
) -> Result<HttpResponse, ApiError> {
    let ShareRequest(settings) = ShareRequest::parse(body)?;
    let share = service
        .publish(&caller, chat, &settings)
        .await
        .map_err(refusal)?;
    Ok(HttpResponse::Ok().json(ShareResponse {
        share: (&share).into(),
    }))
}

/// `POST` `["e-mail", ...]`: lets the caller and the users with these addresses read the
/// share. Addresses that no user has are skipped without a word, as the app does, so the
/// route tells no one who has an account.
#[utoipa::path(
    post,
    path = "/api/users/{user_id}/chats/{chat_id}/shares/{share_id}/whitelist-entries",
    operation_id = "whitelist_share_readers",
    tag = "shares",
    params(ChatItemPath<i32>),
    request_body(content = EmailListRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The whitelist entries of the caller and those users", body = WhitelistResponse),
        WriteErrors,
    ),
)]
pub async fn whitelist<S: ChatStore, V: SessionVerifier>(
    AuthorizedItem {
        caller,
        chat,
        item: share,
        ..
    }: AuthorizedItem<S, V, i32>,
    JsonBody(body): JsonBody,
    service: Service<S, V>,
) -> Result<HttpResponse, ApiError> {
    let EmailListRequest(emails) = EmailListRequest::parse(body)?;
    let entries = service
        .whitelist(&caller, chat, share, &emails)
        .await
        .map_err(refusal)?;
    Ok(HttpResponse::Ok().json(WhitelistResponse {
        share_whitelist_entries: entries.iter().map(WhitelistEntryDto::from).collect(),
    }))
}

fn refusal(e: ShareError) -> ApiError {
    if !matches!(e, ShareError::Store(_)) {
        tracing::info!(reason = %e, "request refused");
    }
    match e {
        ShareError::Store(failure) => failure.into(),
        ShareError::ChatNotFound { .. } => {
            ApiError::new(StatusCode::NOT_FOUND, "Not Found. Chat not found.")
        }
        ShareError::ShareNotFound { .. } => {
            ApiError::new(StatusCode::NOT_FOUND, "Not Found. Share not found.")
        }
        ShareError::UnstorablePassword => {
            let issue = Issue::invalid_string(
                crate::issue::at("hashed_password"),
                "A backslash must start \\\\ or a three-digit octal escape",
            );
            ApiError::bad_request(INVALID_SHARE, vec![issue])
        }
    }
}
