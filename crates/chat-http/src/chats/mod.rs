//! `/api/users/{user_id}/chats` and `/api/users/{user_id}/chats/{chat_id}`.

mod list;
mod request;
mod response;

use actix_web::http::header::LINK;
use actix_web::{HttpRequest, HttpResponse, web};
use chat_domain::{Chat, ChatService, ChatStore, SessionVerifier};

pub use list::{ChatListParams, INVALID_CHAT_QUERY, decode_cursor, encode_cursor};
pub use request::{ChatIdsRequest, NewChatRequest, RenameChatRequest};
pub use response::{ChatDto, ChatListResponse, ChatResponse, DeletedResponse};

use crate::body::JsonBody;
use crate::error::{ApiError, ReadErrors, WriteErrors};
use crate::extract::{Authorized, AuthorizedChat};
use crate::idempotency::{KeyHeader, KeyParam, KeyedWriteErrors, record_with, reply};
use crate::path::{ChatPath, UserPath};
use crate::query::next_link;

type Service<S, V> = web::Data<ChatService<S, V>>;

/// `GET`: the caller's chats, newest activity first unless `order_by` says otherwise, a page at
/// a time (`limit`, `cursor`); the next page's cursor in the body and in a `Link` header.
#[utoipa::path(
    get,
    path = "/api/users/{user_id}/chats",
    operation_id = "list_chats",
    tag = "chats",
    params(UserPath, ChatListParams),
    responses(
        (status = 200, description = "A page of the caller's chats", body = ChatListResponse,
         headers(("link" = String, description = "The next page, when there is one"))),
        ReadErrors,
    ),
)]
pub async fn list<S: ChatStore, V: SessionVerifier>(
    Authorized { caller, .. }: Authorized<S, V>,
    req: HttpRequest,
    service: Service<S, V>,
) -> Result<HttpResponse, ApiError> {
    let params = ChatListParams::of(&req)?;
    let budget = crate::HttpSettings::of(&req).read_budget;
    let page = service.list_chats(&caller, &params.query, budget).await?;
    let next_cursor = page.next.as_ref().map(encode_cursor);
    let mut res = HttpResponse::Ok();
    if let Some(cursor) = &next_cursor {
        let link = next_link(&req, &params.next_query(cursor.clone()));
        res.insert_header((LINK, link));
    }
    let body = response::chat_list_json(&page.chats, next_cursor.as_deref());
    Ok(res.content_type(mime::APPLICATION_JSON).body(body))
}

/// `POST` `{"name", "model"}`: a new chat of the caller's.
#[utoipa::path(
    post,
    path = "/api/users/{user_id}/chats",
    operation_id = "create_chat",
    tag = "chats",
    params(UserPath, KeyParam),
    request_body(content = NewChatRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The new chat", body = ChatResponse,
         headers(("idempotent-replayed" = String, description = "`true` on a replayed answer"))),
        KeyedWriteErrors,
    ),
)]
pub async fn create<S: ChatStore, V: SessionVerifier>(
    Authorized { caller, .. }: Authorized<S, V>,
    key: KeyHeader,
    JsonBody(body): JsonBody,
    req: HttpRequest,
    service: Service<S, V>,
) -> Result<HttpResponse, ApiError> {
    let keyed = key.fingerprint(&req, Some(&body));
    let NewChatRequest { name, model } = NewChatRequest::parse(body)?;
    let record = record_with(|chat: &Chat| Ok(ChatResponse::from(chat)));
    let once = keyed.once("create_chat", &record);
    let written = service
        .start_chat(&caller, name, model, once.as_ref())
        .await?;
    reply(written, &record)
}

/// `DELETE` `{"chat_ids": [...]}`: deletes those of the chats that are the caller's.
#[utoipa::path(
    delete,
    path = "/api/users/{user_id}/chats",
    operation_id = "delete_chats",
    tag = "chats",
    params(UserPath),
    request_body(content = ChatIdsRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "How many of the caller's chats were deleted", body = DeletedResponse),
        WriteErrors,
    ),
)]
pub async fn delete_many<S: ChatStore, V: SessionVerifier>(
    Authorized { caller, .. }: Authorized<S, V>,
    JsonBody(body): JsonBody,
    service: Service<S, V>,
) -> Result<HttpResponse, ApiError> {
    let ChatIdsRequest(selection) = ChatIdsRequest::parse(body)?;
    let deleted = service.delete_chats(&caller, &selection).await?;
    Ok(HttpResponse::Ok().json(DeletedResponse { deleted }))
}

/// `GET`: one of the caller's chats.
#[utoipa::path(
    get,
    path = "/api/users/{user_id}/chats/{chat_id}",
    operation_id = "get_chat",
    tag = "chats",
    params(ChatPath),
    responses(
        (status = 200, description = "The chat", body = ChatResponse),
        ReadErrors,
    ),
)]
pub async fn get<S: ChatStore, V: SessionVerifier>(
    AuthorizedChat { caller, chat, .. }: AuthorizedChat<S, V>,
    service: Service<S, V>,
) -> Result<HttpResponse, ApiError> {
    let chat = service.get_chat(&caller, chat).await?;
    Ok(HttpResponse::Ok().json(ChatResponse::from(&chat)))
}

/// `PATCH` `{"name"}`: renames one of the caller's chats.
#[utoipa::path(
    patch,
    path = "/api/users/{user_id}/chats/{chat_id}",
    operation_id = "rename_chat",
    tag = "chats",
    params(ChatPath),
    request_body(content = RenameChatRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The renamed chat", body = ChatResponse),
        WriteErrors,
    ),
)]
pub async fn rename<S: ChatStore, V: SessionVerifier>(
    AuthorizedChat { caller, chat, .. }: AuthorizedChat<S, V>,
    JsonBody(body): JsonBody,
    service: Service<S, V>,
) -> Result<HttpResponse, ApiError> {
    let RenameChatRequest { name } = RenameChatRequest::parse(body)?;
    let chat = service.rename_chat(&caller, chat, &name).await?;
    Ok(HttpResponse::Ok().json(ChatResponse::from(&chat)))
}

/// `DELETE`: one of the caller's chats, with its messages; answers with the chat as it was.
#[utoipa::path(
    delete,
    path = "/api/users/{user_id}/chats/{chat_id}",
    operation_id = "delete_chat",
    tag = "chats",
    params(ChatPath),
    responses(
        (status = 200, description = "The deleted chat, as it was; its messages went with it", body = ChatResponse),
        ReadErrors,
    ),
)]
pub async fn delete<S: ChatStore, V: SessionVerifier>(
    AuthorizedChat { caller, chat, .. }: AuthorizedChat<S, V>,
    service: Service<S, V>,
) -> Result<HttpResponse, ApiError> {
    let chat = service.delete_chat(&caller, chat).await?;
    Ok(HttpResponse::Ok().json(ChatResponse::from(&chat)))
}
