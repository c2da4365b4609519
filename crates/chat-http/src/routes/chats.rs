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

pub const LIST_PATH: &str = "/api/users/{user_id:[^/]*}/chats";
pub const ITEM_PATH: &str = "/api/users/{user_id:[^/]*}/chats/{chat_id:[^/]*}";

type Service<S, V> = web::Data<ChatService<S, V>>;

/// `GET`: the caller's chats, newest activity first unless `order_by` says otherwise, a page at
/// a time (`limit`, `cursor`); the next page's cursor in the body and in a `Link` header.
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
pub async fn get<S: ChatStore, V: SessionVerifier>(
    req: HttpRequest,
    service: Service<S, V>,
) -> Result<HttpResponse, ApiError> {
    let (caller, chat) = authorize_chat(&req, &service)?;
    let chat = service.get_chat(&caller, chat).await?;
    Ok(HttpResponse::Ok().json(ChatResponse { chat: chat.into() }))
}

/// `PATCH` `{"name"}`: renames one of the caller's chats.
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
pub async fn delete<S: ChatStore, V: SessionVerifier>(
    req: HttpRequest,
    service: Service<S, V>,
) -> Result<HttpResponse, ApiError> {
    let (caller, chat) = authorize_chat(&req, &service)?;
    let chat = service.delete_chat(&caller, chat).await?;
    Ok(HttpResponse::Ok().json(ChatResponse { chat: chat.into() }))
}
