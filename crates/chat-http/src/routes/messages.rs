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

/// The path, with segments that may be empty so that an empty id is a 400 rather than no route.
pub const PATH: &str = "/api/users/{user_id:[^/]*}/chats/{chat_id:[^/]*}/messages";
pub const LAST_PATH: &str = "/api/users/{user_id:[^/]*}/chats/{chat_id:[^/]*}/messages/last";

/// Checks run in the contract's order: route ids (400), session (401), owner (403), media type
/// (415), body size (413), JSON (400), body rules (400), then the chat (404) as the messages
/// are stored.
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
