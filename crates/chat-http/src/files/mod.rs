//! `/api/users/{user_id}/chats/{chat_id}/files` (read) and `.../files/{message_id}` (save):
//! a message's code blocks, as the app's Code Blocks panel reads them and its AI routes and
//! playground save them.

mod request;
mod response;

use actix_web::{HttpResponse, web};
use chat_domain::{ChatService, ChatStore, FileError, MessageId, SessionVerifier};

pub use request::{FilesRequest, INVALID_FILES};
pub use response::{ChatFileDto, ChatFilesResponse, SavedFilesResponse};

use crate::body::JsonBody;
use crate::error::{ApiError, ReadErrors, WriteErrors};
use crate::extract::{AuthorizedChat, AuthorizedItem};
use crate::path::{ChatItemPath, ChatPath};

type Service<S, V> = web::Data<ChatService<S, V>>;

/// `GET`: every code block saved for the caller's chat, oldest first.
#[utoipa::path(
    get,
    path = "/api/users/{user_id}/chats/{chat_id}/files",
    operation_id = "list_chat_files",
    tag = "files",
    params(ChatPath),
    responses(
        (status = 200, description = "The chat's code blocks", body = ChatFilesResponse),
        ReadErrors,
    ),
)]
pub async fn list<S: ChatStore, V: SessionVerifier>(
    AuthorizedChat { caller, chat, .. }: AuthorizedChat<S, V>,
    service: Service<S, V>,
) -> Result<HttpResponse, ApiError> {
    let files = service.chat_files(&caller, chat).await?;
    Ok(HttpResponse::Ok().json(ChatFilesResponse {
        chat_files: files.iter().map(ChatFileDto::from).collect(),
    }))
}

/// `POST` one code block `{"text", "title", "language", "extension"}` or several
/// `{"files": [...]}` of a message of the caller's chat, all or none.
#[utoipa::path(
    post,
    path = "/api/users/{user_id}/chats/{chat_id}/files/{message_id}",
    operation_id = "save_chat_files",
    tag = "files",
    params(ChatItemPath<chat_domain::MessageId>),
    request_body(content = FilesRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The saved code blocks (`chatFile` for one, `chatFiles` for several)", body = SavedFilesResponse),
        WriteErrors,
    ),
)]
pub async fn save<S: ChatStore, V: SessionVerifier>(
    AuthorizedItem {
        caller,
        chat,
        item: message,
        ..
    }: AuthorizedItem<S, V, MessageId>,
    JsonBody(body): JsonBody,
    service: Service<S, V>,
) -> Result<HttpResponse, ApiError> {
    let request = FilesRequest::parse(body)?;
    let saved = service
        .save_files(&caller, chat, message, &request.files)
        .await
        .map_err(refusal)?;
    let saved = saved.iter().map(ChatFileDto::from).collect();
    Ok(HttpResponse::Ok().json(match request.single {
        true => SavedFilesResponse::One { chat_file: saved },
        false => SavedFilesResponse::Many { chat_files: saved },
    }))
}

fn refusal(e: FileError) -> ApiError {
    match e {
        FileError::MessageNotFound { .. } => {
            tracing::info!(reason = %e, "request refused");
            ApiError::new(
                actix_web::http::StatusCode::NOT_FOUND,
                "Not Found. Message not found.",
            )
        }
        FileError::Store(failure) => failure.into(),
    }
}
