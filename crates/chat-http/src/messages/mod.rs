//! `/api/users/{user_id}/chats/{chat_id}/messages` (post, read) and `.../messages/last`.

mod list;
mod request;
mod response;

use actix_web::http::header::LINK;
use actix_web::{HttpRequest, HttpResponse, web};
use chat_domain::{ChatService, ChatStore, SessionVerifier};

pub use list::{INVALID_MESSAGE_QUERY, MessageListParams};
pub use request::{INVALID_BODY, PostMessagesRequest, Shape};
pub use response::{
    BatchMessagesResponse, ChatMessageDto, MessageListResponse, PostMessagesResponse,
    SingleMessageResponse,
};

use crate::body::JsonBody;
use crate::error::{ApiError, ReadErrors, WriteErrors};
use crate::extract::AuthorizedChat;
use crate::path::ChatPath;
use crate::query::next_link;

type Service<S, V> = web::Data<ChatService<S, V>>;

/// Checks run in the contract's order: route ids (400), session (401), owner (403), media type
/// (415), body size (413), JSON (400), body rules (400), then the chat (404) as the messages
/// are stored.
#[utoipa::path(
    post,
    path = "/api/users/{user_id}/chats/{chat_id}/messages",
    operation_id = "post_messages",
    tag = "messages",
    params(ChatPath),
    request_body(content = PostMessagesRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The stored messages, in request order", body = PostMessagesResponse),
        WriteErrors,
    ),
)]
pub async fn post<S: ChatStore, V: SessionVerifier>(
    AuthorizedChat { caller, chat, .. }: AuthorizedChat<S, V>,
    JsonBody(body): JsonBody,
    service: Service<S, V>,
) -> Result<HttpResponse, ApiError> {
    let request = PostMessagesRequest::parse(body, service.limits())?;
    let stored = service.post_messages(&caller, chat, &request.batch).await?;
    let messages = response::dtos(stored);
    let answer = match request.shape {
        Shape::Single => PostMessagesResponse::Single(SingleMessageResponse {
            chat_message: messages.into_iter().next().ok_or_else(|| {
                ApiError::internal(&"the store returned no message for a single message")
            })?,
        }),
        Shape::Batch => PostMessagesResponse::Batch(BatchMessagesResponse {
            chat_messages: messages,
        }),
    };
    Ok(HttpResponse::Ok().json(answer))
}

/// `GET`: a page of the chat's messages by id (`limit`, `after`, `before`, `order`); whether
/// more follow, and from where, in the body and in a `Link` header.
#[utoipa::path(
    get,
    path = "/api/users/{user_id}/chats/{chat_id}/messages",
    operation_id = "list_messages",
    tag = "messages",
    params(ChatPath, MessageListParams),
    responses(
        (status = 200, description = "A page of the chat's messages", body = MessageListResponse,
         headers(("link" = String, description = "The next page, when there is one"))),
        ReadErrors,
    ),
)]
pub async fn list<S: ChatStore, V: SessionVerifier>(
    AuthorizedChat { caller, chat, .. }: AuthorizedChat<S, V>,
    req: HttpRequest,
    service: Service<S, V>,
) -> Result<HttpResponse, ApiError> {
    let params = MessageListParams::of(&req)?;
    let page = service.list_messages(&caller, chat, &params.query).await?;
    let mut res = HttpResponse::Ok();
    if let Some(next) = page.next_query(&params.query) {
        let link = next_link(&req, &params.to_query(&next));
        res.insert_header((LINK, link));
    }
    Ok(res.json(MessageListResponse {
        next_cursor: page.next_cursor().map(|id| id.get()),
        has_more: page.has_more,
        chat_messages: response::dtos(page.messages),
    }))
}

/// `DELETE .../messages/last`: removes the last exchange, as the app does; answers with the
/// removed messages, oldest first (none for a chat without messages).
#[utoipa::path(
    delete,
    path = "/api/users/{user_id}/chats/{chat_id}/messages/last",
    operation_id = "delete_last_exchange",
    tag = "messages",
    params(ChatPath),
    responses(
        (status = 200, description = "The removed messages, oldest first", body = BatchMessagesResponse),
        ReadErrors,
    ),
)]
pub async fn delete_last<S: ChatStore, V: SessionVerifier>(
    AuthorizedChat { caller, chat, .. }: AuthorizedChat<S, V>,
    service: Service<S, V>,
) -> Result<HttpResponse, ApiError> {
    let removed = service.delete_last_exchange(&caller, chat).await?;
    Ok(HttpResponse::Ok().json(BatchMessagesResponse {
        chat_messages: response::dtos(removed),
    }))
}
