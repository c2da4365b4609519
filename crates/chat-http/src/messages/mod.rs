//! `/api/users/{user_id}/chats/{chat_id}/messages` (post, read) and `.../messages/last`.

mod list;
mod request;
mod response;
mod stream;

use actix_web::http::header::LINK;
use actix_web::{HttpRequest, HttpResponse, web};
use chat_domain::{ChatError, ChatMessage, ChatService, ChatStore, SessionVerifier};

pub use list::{INVALID_MESSAGE_QUERY, MessageListParams};
pub use request::{INVALID_BODY, PostMessagesRequest, Shape};
pub use response::{
    BatchMessagesResponse, ChatMessageDto, MessageListResponse, PostMessagesResponse,
    SingleMessageResponse,
};

use crate::body::JsonBody;
use crate::error::{ApiError, ReadErrors};
use crate::extract::AuthorizedChat;
use crate::idempotency::{KeyHeader, KeyParam, KeyedErrors, KeyedWriteErrors, record_with, reply};
use crate::issue::{Issue, PathSegment, at};
use crate::path::ChatPath;
use crate::query::next_link;

type Service<S, V> = web::Data<ChatService<S, V>>;

/// Checks run in the contract's order: route ids (400), session (401), owner (403),
/// `Idempotency-Key` (400), media type (415), body size (413), JSON (400), body rules (400),
/// then the key's state (409, 422) and the chat (404) as the messages are stored.
#[utoipa::path(
    post,
    path = "/api/users/{user_id}/chats/{chat_id}/messages",
    operation_id = "post_messages",
    tag = "messages",
    params(ChatPath, KeyParam),
    request_body(content = PostMessagesRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The stored messages, in request order", body = PostMessagesResponse,
         headers(("idempotent-replayed" = String, description = "`true` on a replayed answer"))),
        KeyedWriteErrors,
    ),
)]
pub async fn post<S: ChatStore, V: SessionVerifier>(
    AuthorizedChat { caller, chat, .. }: AuthorizedChat<S, V>,
    key: KeyHeader,
    JsonBody(body): JsonBody,
    req: HttpRequest,
    service: Service<S, V>,
) -> Result<HttpResponse, ApiError> {
    let keyed = key.fingerprint(&req, Some(&body));
    let request = PostMessagesRequest::parse(body, service.limits())?;
    let shape = request.shape;
    let record = record_with(move |stored: &Vec<ChatMessage>| posted(shape, stored));
    let once = keyed.once("post_messages", &record);
    let written = service
        .post_messages(&caller, chat, &request.batch, once.as_ref())
        .await
        .map_err(|e| refused_actors(e, &request))?;
    reply(written, &record)
}

/// An actor the store does not take there (`system` on the app's database) is the body's
/// fault: an `invalid_enum_value` issue for each message that has it, at its path.
fn refused_actors(e: ChatError, request: &PostMessagesRequest) -> ApiError {
    let ChatError::ActorRefused { actor, options } = &e else {
        return e.into();
    };
    let issues = request
        .batch
        .messages()
        .iter()
        .enumerate()
        .filter(|(_, m)| m.actor.as_str() == actor)
        .map(|(i, _)| {
            let path = match request.shape {
                Shape::Single => at("actor"),
                Shape::Batch => vec![
                    PathSegment::Key("messages"),
                    PathSegment::Index(i),
                    PathSegment::Key("role"),
                ],
            };
            Issue::invalid_enum_value(path, options, actor)
        })
        .collect();
    tracing::info!(reason = %e, "request refused");
    ApiError::bad_request(INVALID_BODY, issues)
}

/// The stored messages in the shape of the request.
fn posted(shape: Shape, stored: &[ChatMessage]) -> anyhow::Result<PostMessagesResponse> {
    let messages = response::dtos(stored);
    Ok(match shape {
        Shape::Single => PostMessagesResponse::Single(SingleMessageResponse {
            chat_message: messages
                .into_iter()
                .next()
                .ok_or_else(|| anyhow::anyhow!("the store returned no message for one"))?,
        }),
        Shape::Batch => PostMessagesResponse::Batch(BatchMessagesResponse {
            chat_messages: messages,
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
    let budget = crate::HttpSettings::of(&req).read_budget;
    let page = service
        .list_messages(&caller, chat, &params.query, budget)
        .await?;
    let mut res = HttpResponse::Ok();
    if let Some(next) = page.next_query(&params.query) {
        let link = next_link(&req, &params.to_query(&next));
        res.insert_header((LINK, link));
    }
    let next_cursor = page.next_cursor().map(|id| id.get());
    let body = stream::MessageListBody::new(page.messages, page.has_more, next_cursor);
    res.content_type(mime::APPLICATION_JSON);
    // A small answer goes whole, with its length; a larger one as the socket takes it.
    match body.start().map_err(|e| ApiError::internal(&e))? {
        Ok(whole) => Ok(res.body(whole)),
        Err(streamed) => Ok(res.body(streamed)),
    }
}

/// `DELETE .../messages/last`: removes the last exchange, as the app does; answers with the
/// removed messages, oldest first (none for a chat without messages). With an
/// `Idempotency-Key`, a retry removes nothing more.
#[utoipa::path(
    delete,
    path = "/api/users/{user_id}/chats/{chat_id}/messages/last",
    operation_id = "delete_last_exchange",
    tag = "messages",
    params(ChatPath, KeyParam),
    responses(
        (status = 200, description = "The removed messages, oldest first", body = BatchMessagesResponse,
         headers(("idempotent-replayed" = String, description = "`true` on a replayed answer"))),
        KeyedErrors,
    ),
)]
pub async fn delete_last<S: ChatStore, V: SessionVerifier>(
    AuthorizedChat { caller, chat, .. }: AuthorizedChat<S, V>,
    key: KeyHeader,
    req: HttpRequest,
    service: Service<S, V>,
) -> Result<HttpResponse, ApiError> {
    let record = record_with(|removed: &Vec<ChatMessage>| {
        Ok(BatchMessagesResponse {
            chat_messages: response::dtos(removed),
        })
    });
    let once = key
        .fingerprint(&req, None)
        .once("delete_last_exchange", &record);
    let written = service
        .delete_last_exchange(&caller, chat, once.as_ref())
        .await?;
    reply(written, &record)
}
