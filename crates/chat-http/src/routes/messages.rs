//! `/api/users/{user_id}/chats/{chat_id}/messages` (post, read) and `.../messages/last`.

use actix_web::http::StatusCode;
use actix_web::http::header::LINK;
use actix_web::{HttpRequest, HttpResponse, web};
use chat_domain::{ChatService, ChatStore, Direction, SessionVerifier};

use crate::HttpSettings;
use crate::body::read_json;
use crate::dto::{
    BatchMessagesResponse, ChatMessageDto, MessageListResponse, Shape, SingleMessageResponse,
    parse_post_messages,
};
use crate::error::ApiError;
use crate::query::message_list_query;
use crate::routes::{authorize_chat, next_link};

/// Checks run in the contract's order: route ids (400), session (401), owner (403), media type
/// (415), body size (413), JSON (400), body rules (400), then the chat (404) as the messages
/// are stored.
#[utoipa::path(
    post,
    path = "/api/users/{user_id}/chats/{chat_id}/messages",
    operation_id = "post_messages",
    tag = "messages",
    params(("user_id" = i32, Path, minimum = 1, maximum = 2147483647, description = "The caller's user id"), ("chat_id" = i32, Path, minimum = 1, maximum = 2147483647, description = "One of the caller's chats")),
    request_body(content = crate::openapi::PostMessagesRequest, content_type = "application/json"),
    responses((status = 200, description = "The stored messages, in request order", body = crate::openapi::PostMessagesResponse), crate::openapi::WriteErrors),
)]
pub async fn post<S: ChatStore, V: SessionVerifier>(
    req: HttpRequest,
    payload: web::Payload,
    service: web::Data<ChatService<S, V>>,
    settings: web::Data<HttpSettings>,
) -> Result<HttpResponse, ApiError> {
    let (caller, chat) = authorize_chat(&req, &service)?;
    let body = read_json(&req, payload, settings.max_body_bytes).await?;
    let request = parse_post_messages(body, service.limits())?;
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

/// `GET`: a page of the chat's messages by id (`limit`, `after`, `before`, `order`); whether
/// more follow, and from where, in the body and in a `Link` header.
#[utoipa::path(
    get,
    path = "/api/users/{user_id}/chats/{chat_id}/messages",
    operation_id = "list_messages",
    tag = "messages",
    params(("user_id" = i32, Path, minimum = 1, maximum = 2147483647, description = "The caller's user id"), ("chat_id" = i32, Path, minimum = 1, maximum = 2147483647, description = "One of the caller's chats"), ("limit" = Option<u32>, Query, minimum = 1, maximum = 1000, description = "Page size; default 100"), ("after" = Option<i64>, Query, minimum = 1, description = "Only messages with a greater id"), ("before" = Option<i64>, Query, minimum = 1, description = "Only messages with a smaller id"), ("order" = Option<String>, Query, pattern = "^(asc|desc)$", description = "asc (default): oldest first")),
    responses((status = 200, description = "A page of the chat's messages", body = crate::dto::MessageListResponse, headers(("link" = String, description = "The next page, when there is one"))), crate::openapi::ReadErrors),
)]
pub async fn list<S: ChatStore, V: SessionVerifier>(
    req: HttpRequest,
    service: web::Data<ChatService<S, V>>,
) -> Result<HttpResponse, ApiError> {
    let (caller, chat) = authorize_chat(&req, &service)?;
    let query = message_list_query(&req)?;
    let page = service.list_messages(&caller, chat, &query).await?;
    let next_cursor = page.next_cursor().map(|id| id.get());
    let mut res = HttpResponse::Ok();
    if let Some(next) = next_cursor {
        let mut params = vec![
            ("limit", query.limit.get().to_string()),
            ("order", query.direction.as_str().to_owned()),
        ];
        // The next page continues past the last id; the other bound, if any, stays.
        match query.direction {
            Direction::Asc => {
                params.push(("after", next.to_string()));
                params.extend(query.before.map(|b| ("before", b.get().to_string())));
            }
            Direction::Desc => {
                params.push(("before", next.to_string()));
                params.extend(query.after.map(|a| ("after", a.get().to_string())));
            }
        }
        res.insert_header((LINK, next_link(&req, &params)));
    }
    Ok(res.json(MessageListResponse {
        chat_messages: page
            .messages
            .into_iter()
            .map(ChatMessageDto::from)
            .collect(),
        has_more: page.has_more,
        next_cursor,
    }))
}

/// `DELETE .../messages/last`: removes the last exchange, as the app does; answers with the
/// removed messages, oldest first (none for a chat without messages).
#[utoipa::path(
    delete,
    path = "/api/users/{user_id}/chats/{chat_id}/messages/last",
    operation_id = "delete_last_exchange",
    tag = "messages",
    params(("user_id" = i32, Path, minimum = 1, maximum = 2147483647, description = "The caller's user id"), ("chat_id" = i32, Path, minimum = 1, maximum = 2147483647, description = "One of the caller's chats")),
    responses((status = 200, description = "The removed messages, oldest first", body = crate::dto::BatchMessagesResponse), crate::openapi::ReadErrors),
)]
pub async fn delete_last<S: ChatStore, V: SessionVerifier>(
    req: HttpRequest,
    service: web::Data<ChatService<S, V>>,
) -> Result<HttpResponse, ApiError> {
    let (caller, chat) = authorize_chat(&req, &service)?;
    let removed = service.delete_last_exchange(&caller, chat).await?;
    Ok(HttpResponse::Ok().json(BatchMessagesResponse {
        chat_messages: removed.into_iter().map(ChatMessageDto::from).collect(),
    }))
}
