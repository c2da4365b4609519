//! `/api/users/{user_id}/chats` and `/api/users/{user_id}/chats/{chat_id}`.

use actix_web::http::header::LINK;
use actix_web::{HttpRequest, HttpResponse, web};
use chat_domain::{ChatService, ChatStore, SessionVerifier};

use crate::HttpSettings;
use crate::body::read_json;
use crate::dto::{
    ChatDto, ChatListResponse, ChatResponse, DeletedResponse, parse_chat_ids, parse_new_chat,
    parse_rename,
};
use crate::error::ApiError;
use crate::query::{chat_list_query, encode_cursor};
use crate::routes::{authorize_chat, authorize_user, next_link};

type Service<S, V> = web::Data<ChatService<S, V>>;

/// `GET`: the caller's chats, newest activity first unless `order_by` says otherwise, a page at
/// a time (`limit`, `cursor`); the next page's cursor in the body and in a `Link` header.
#[utoipa::path(
    get,
    path = "/api/users/{user_id}/chats",
    operation_id = "list_chats",
    tag = "chats",
    params(("user_id" = i32, Path, minimum = 1, maximum = 2147483647, description = "The caller's user id"), ("order_by" = Option<String>, Query, pattern = "^(id|name|model|created_at|updated_at):(asc|desc)$", description = "One column:direction pair; default updated_at:desc"), ("limit" = Option<u32>, Query, minimum = 1, maximum = 200, description = "Page size; default 50"), ("cursor" = Option<String>, Query, description = "next_cursor of the previous page")),
    responses((status = 200, description = "A page of the caller's chats", body = crate::dto::ChatListResponse, headers(("link" = String, description = "The next page, when there is one"))), crate::openapi::ReadErrors),
)]
pub async fn list<S: ChatStore, V: SessionVerifier>(
    req: HttpRequest,
    service: Service<S, V>,
) -> Result<HttpResponse, ApiError> {
    let caller = authorize_user(&req, &service)?;
    let query = chat_list_query(&req)?;
    let page = service.list_chats(&caller, &query).await?;
    let next_cursor = page.next.as_ref().map(encode_cursor);
    let mut res = HttpResponse::Ok();
    if let Some(cursor) = &next_cursor {
        res.insert_header((
            LINK,
            next_link(
                &req,
                &[
                    ("order_by", query.order.to_string()),
                    ("limit", query.limit.get().to_string()),
                    ("cursor", cursor.clone()),
                ],
            ),
        ));
    }
    Ok(res.json(ChatListResponse {
        chats: page.chats.into_iter().map(ChatDto::from).collect(),
        has_more: next_cursor.is_some(),
        next_cursor,
    }))
}

/// `POST` `{"name", "model"}`: a new chat of the caller's.
#[utoipa::path(
    post,
    path = "/api/users/{user_id}/chats",
    operation_id = "create_chat",
    tag = "chats",
    params(("user_id" = i32, Path, minimum = 1, maximum = 2147483647, description = "The caller's user id")),
    request_body(content = crate::openapi::NewChatRequest, content_type = "application/json"),
    responses((status = 200, description = "The new chat", body = crate::dto::ChatResponse), crate::openapi::WriteErrors),
)]
pub async fn create<S: ChatStore, V: SessionVerifier>(
    req: HttpRequest,
    payload: web::Payload,
    service: Service<S, V>,
    settings: web::Data<HttpSettings>,
) -> Result<HttpResponse, ApiError> {
    let caller = authorize_user(&req, &service)?;
    let (name, model) = parse_new_chat(read_json(&req, payload, settings.max_body_bytes).await?)?;
    let chat = service.start_chat(&caller, name, model).await?;
    Ok(HttpResponse::Ok().json(ChatResponse { chat: chat.into() }))
}

/// `DELETE` `{"chat_ids": [...]}`: deletes those of the chats that are the caller's.
#[utoipa::path(
    delete,
    path = "/api/users/{user_id}/chats",
    operation_id = "delete_chats",
    tag = "chats",
    params(("user_id" = i32, Path, minimum = 1, maximum = 2147483647, description = "The caller's user id")),
    request_body(content = crate::openapi::ChatIdsRequest, content_type = "application/json"),
    responses((status = 200, description = "How many of the caller's chats were deleted", body = crate::dto::DeletedResponse), crate::openapi::WriteErrors),
)]
pub async fn delete_many<S: ChatStore, V: SessionVerifier>(
    req: HttpRequest,
    payload: web::Payload,
    service: Service<S, V>,
    settings: web::Data<HttpSettings>,
) -> Result<HttpResponse, ApiError> {
    let caller = authorize_user(&req, &service)?;
    let ids = parse_chat_ids(read_json(&req, payload, settings.max_body_bytes).await?)?;
    let deleted = service.delete_chats(&caller, &ids).await?;
    Ok(HttpResponse::Ok().json(DeletedResponse { deleted }))
}

/// `GET`: one of the caller's chats.
#[utoipa::path(
    get,
    path = "/api/users/{user_id}/chats/{chat_id}",
    operation_id = "get_chat",
    tag = "chats",
    params(("user_id" = i32, Path, minimum = 1, maximum = 2147483647, description = "The caller's user id"), ("chat_id" = i32, Path, minimum = 1, maximum = 2147483647, description = "One of the caller's chats")),
    responses((status = 200, description = "The chat", body = crate::dto::ChatResponse), crate::openapi::ReadErrors),
)]
pub async fn get<S: ChatStore, V: SessionVerifier>(
    req: HttpRequest,
    service: Service<S, V>,
) -> Result<HttpResponse, ApiError> {
    let (caller, chat) = authorize_chat(&req, &service)?;
    let chat = service.get_chat(&caller, chat).await?;
    Ok(HttpResponse::Ok().json(ChatResponse { chat: chat.into() }))
}

/// `PATCH` `{"name"}`: renames one of the caller's chats.
#[utoipa::path(
    patch,
    path = "/api/users/{user_id}/chats/{chat_id}",
    operation_id = "rename_chat",
    tag = "chats",
    params(("user_id" = i32, Path, minimum = 1, maximum = 2147483647, description = "The caller's user id"), ("chat_id" = i32, Path, minimum = 1, maximum = 2147483647, description = "One of the caller's chats")),
    request_body(content = crate::openapi::RenameChatRequest, content_type = "application/json"),
    responses((status = 200, description = "The renamed chat", body = crate::dto::ChatResponse), crate::openapi::WriteErrors),
)]
pub async fn rename<S: ChatStore, V: SessionVerifier>(
    req: HttpRequest,
    payload: web::Payload,
    service: Service<S, V>,
    settings: web::Data<HttpSettings>,
) -> Result<HttpResponse, ApiError> {
    let (caller, chat) = authorize_chat(&req, &service)?;
    let name = parse_rename(read_json(&req, payload, settings.max_body_bytes).await?)?;
    let chat = service.rename_chat(&caller, chat, &name).await?;
    Ok(HttpResponse::Ok().json(ChatResponse { chat: chat.into() }))
}

/// `DELETE`: one of the caller's chats, with its messages; answers with the chat as it was.
#[utoipa::path(
    delete,
    path = "/api/users/{user_id}/chats/{chat_id}",
    operation_id = "delete_chat",
    tag = "chats",
    params(("user_id" = i32, Path, minimum = 1, maximum = 2147483647, description = "The caller's user id"), ("chat_id" = i32, Path, minimum = 1, maximum = 2147483647, description = "One of the caller's chats")),
    responses((status = 200, description = "The deleted chat, as it was; its messages went with it", body = crate::dto::ChatResponse), crate::openapi::ReadErrors),
)]
pub async fn delete<S: ChatStore, V: SessionVerifier>(
    req: HttpRequest,
    service: Service<S, V>,
) -> Result<HttpResponse, ApiError> {
    let (caller, chat) = authorize_chat(&req, &service)?;
    let chat = service.delete_chat(&caller, chat).await?;
    Ok(HttpResponse::Ok().json(ChatResponse { chat: chat.into() }))
}
