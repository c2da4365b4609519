//! `POST /api/users/{user_id}/chats/{chat_id}/messages`

use actix_web::http::StatusCode;
use actix_web::http::header::CONTENT_LENGTH;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use chat_domain::{ChatService, ChatStore, SessionVerifier};
use futures_util::StreamExt as _;

use crate::HttpSettings;
use crate::dto::{
    BatchMessagesResponse, ChatMessageDto, Shape, SingleMessageResponse, parse_post_messages,
};
use crate::error::ApiError;
use crate::params::chat_route;
use crate::session::token_of;

/// The path, with segments that may be empty so that an empty id is a 400 rather than no route.
pub const PATH: &str = "/api/users/{user_id:[^/]*}/chats/{chat_id:[^/]*}/messages";

/// Checks run in the contract's order: route ids (400), session (401), owner (403), media type
/// (415), body size (413), JSON (400), body rules (400), then the chat (404) as the messages
/// are stored.
pub async fn post<S: ChatStore, V: SessionVerifier>(
    req: HttpRequest,
    payload: web::Payload,
    service: web::Data<ChatService<S, V>>,
    settings: web::Data<HttpSettings>,
) -> Result<HttpResponse, ApiError> {
    let info = req.match_info();
    let (owner, chat) = chat_route(
        info.get("user_id").unwrap_or_default(),
        info.get("chat_id").unwrap_or_default(),
    )
    .map_err(ApiError::invalid_route)?;
    let caller = service.authorize(token_of(&req).as_deref(), owner)?;
    require_json(&req)?;
    let body = read_body(&req, payload, settings.max_body_bytes).await?;
    let request = parse_post_messages(&body, service.limits())?;
    let stored = service.post_messages(&caller, chat, &request.batch).await?;

    let mut messages = stored.into_iter().map(ChatMessageDto::from);
    Ok(match request.shape {
        Shape::Single => {
            let chat_message = messages.next().ok_or_else(|| {
                tracing::error!("the store returned no message for a single message");
                ApiError::for_status(StatusCode::INTERNAL_SERVER_ERROR)
            })?;
            HttpResponse::Ok().json(SingleMessageResponse { chat_message })
        }
        Shape::Batch => HttpResponse::Ok().json(BatchMessagesResponse {
            chat_messages: messages.collect(),
        }),
    })
}

/// `application/json`, with any parameters (`charset=utf-8`); nothing else, and not nothing.
fn require_json(req: &HttpRequest) -> Result<(), ApiError> {
    match req.mime_type() {
        Ok(Some(m))
            if m.type_() == mime::APPLICATION
                && m.subtype() == mime::JSON
                && m.suffix().is_none() =>
        {
            Ok(())
        }
        _ => Err(ApiError::for_status(StatusCode::UNSUPPORTED_MEDIA_TYPE)),
    }
}

/// Reads the body up to `limit` bytes. A declared length over the limit is refused before any
/// byte is read; a chunked body is refused as soon as it passes the limit.
async fn read_body(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<web::Bytes, ApiError> {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(ApiError::payload_too_large(limit));
    }
    let mut body = web::BytesMut::with_capacity(declared.map_or(0, |len| len as usize));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            tracing::info!(error = %e, "could not read the request body");
            ApiError::for_status(StatusCode::BAD_REQUEST)
        })?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::payload_too_large(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}
