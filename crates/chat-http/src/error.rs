//! The contract's error body, for every status:
//! `{"statusCode": 400, "statusMessage": "...", "data": {"issues": [...]}}`, `data` only where
//! there are issues. Domain errors become answers here, and only here: [`StoreFailure`] is the
//! one place that tells 503 from 500. A 500 never carries its cause: the log has it, under the
//! request id.

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use actix_web::{HttpResponse, ResponseError};
use chat_domain::{AuthError, ChatError, CreateChatError, KeyConflict, StoreFailure};
use serde::Serialize;
use std::collections::BTreeMap;

use utoipa::openapi::{RefOr, Response};
use utoipa::{IntoResponses, ToSchema};

use crate::issue::Issue;

/// Seconds a client is asked to wait after a 503.
const RETRY_AFTER_SECS: u32 = 1;

pub const INVALID_ROUTE: &str = "Bad Request. Invalid route parameters(user_id | chat_id).";
pub const INVALID_JSON: &str = "Bad Request. Invalid JSON body.";
pub const INVALID_NEW_CHAT: &str = "Bad Request. Invalid body(model, name).";

/// Every error, whatever its status.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    status_code: u16,
    status_message: String,
    /// Present where there are issues (400, 413).
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<ErrorData>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorData {
    issues: Vec<Issue>,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{} {}", .0.status_code, .0.status_message)]
pub struct ApiError(ErrorBody);

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self(ErrorBody {
            status_code: status.as_u16(),
            status_message: message.into(),
            data: None,
        })
    }

    pub fn with_issues(status: StatusCode, message: &str, issues: Vec<Issue>) -> Self {
        let mut error = Self::new(status, message);
        error.0.data = Some(ErrorData { issues });
        error
    }

    /// A 400 with the issues of the request part `message` names.
    pub fn bad_request(message: &str, issues: Vec<Issue>) -> Self {
        Self::with_issues(StatusCode::BAD_REQUEST, message, issues)
    }

    /// The plain answer for a status, e.g. `"Not Found."`: for errors that carry no detail.
    pub fn for_status(status: StatusCode) -> Self {
        let reason = status.canonical_reason().unwrap_or("Error");
        Self::new(status, format!("{reason}."))
    }

    pub fn invalid_route(issues: Vec<Issue>) -> Self {
        Self::bad_request(INVALID_ROUTE, issues)
    }

    pub fn invalid_json(parser_message: String) -> Self {
        Self::bad_request(INVALID_JSON, vec![Issue::invalid_json(parser_message)])
    }

    pub fn payload_too_large(limit: usize) -> Self {
        let limit = u64::try_from(limit).unwrap_or(u64::MAX);
        let message = format!("Body must contain at most {limit} byte(s)");
        let issue = Issue::too_big(vec![], "body", limit, message);
        Self::with_issues(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Payload Too Large.",
            vec![issue],
        )
    }

    /// Something the server got wrong, with its cause for the log only.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "request failed");
        ApiError::for_status(StatusCode::INTERNAL_SERVER_ERROR)
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.0.status_code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// A refusal the client caused; the log says why, the client learns only the answer.
    fn refused(reason: &dyn std::fmt::Display, answer: Self) -> Self {
        tracing::info!(reason = %reason, "request refused");
        answer
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status());
        // Both end by themselves: the database comes back, the first request finishes.
        if matches!(
            self.status(),
            StatusCode::SERVICE_UNAVAILABLE | StatusCode::CONFLICT
        ) {
            res.insert_header((RETRY_AFTER, RETRY_AFTER_SECS));
        }
        res.insert_header((CONTENT_TYPE, HeaderValue::from_static("application/json")))
            .json(&self.0)
    }
}

/// The one place where a store's failure becomes an answer: unavailable is 503 (the client may
/// retry), anything else 500.
impl From<StoreFailure> for ApiError {
    fn from(e: StoreFailure) -> Self {
        match &e {
            StoreFailure::Unavailable(cause) => {
                tracing::warn!(error = %format_args!("{cause:#}"), "database unavailable");
                ApiError::for_status(StatusCode::SERVICE_UNAVAILABLE)
            }
            StoreFailure::Unknown(cause) => Self::internal(&format_args!("{cause:#}")),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        let status = match e {
            AuthError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            AuthError::Forbidden { .. } => StatusCode::FORBIDDEN,
        };
        Self::refused(&e, ApiError::for_status(status))
    }
}

impl From<ChatError> for ApiError {
    fn from(e: ChatError) -> Self {
        match e {
            ChatError::ChatNotFound { .. } => Self::refused(
                &e,
                ApiError::new(StatusCode::NOT_FOUND, "Not Found. Chat not found."),
            ),
            ChatError::Key(conflict) => conflict.into(),
            // Only appends meet it, and their handler says which messages had the actor.
            ChatError::ActorRefused { .. } => {
                Self::refused(&e, ApiError::for_status(StatusCode::BAD_REQUEST))
            }
            ChatError::Store(failure) => failure.into(),
        }
    }
}

impl From<KeyConflict> for ApiError {
    fn from(e: KeyConflict) -> Self {
        let answer = match e {
            KeyConflict::InProgress => ApiError::new(
                StatusCode::CONFLICT,
                "Conflict. A request with this Idempotency-Key is in progress.",
            ),
            KeyConflict::Mismatch => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Unprocessable Entity. This Idempotency-Key was used for a different request.",
            ),
        };
        Self::refused(&e, answer)
    }
}

impl From<CreateChatError> for ApiError {
    fn from(e: CreateChatError) -> Self {
        match e {
            CreateChatError::OwnerNotFound { .. } => Self::refused(
                &e,
                ApiError::new(StatusCode::NOT_FOUND, "Not Found. User not found."),
            ),
            CreateChatError::UnknownModel {
                ref model,
                ref options,
            } => {
                let issue = Issue::invalid_enum_value(crate::issue::at("model"), options, model);
                Self::refused(&e, ApiError::bad_request(INVALID_NEW_CHAT, vec![issue]))
            }
            CreateChatError::Key(conflict) => conflict.into(),
            CreateChatError::Store(failure) => failure.into(),
        }
    }
}

/// The errors of a route without a body, for the document.
#[derive(IntoResponses)]
pub enum ReadErrors {
    /// Invalid route or query parameters (or `Idempotency-Key`).
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// No session, or one that does not open (tampered, expired, another password).
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// The session's user is not the route's.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// No such chat of the caller's (or no such route).
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// The method is not one the path has.
    #[response(status = 405)]
    MethodNotAllowed(ErrorBody),
    /// An internal failure; the log has its cause under the response's request id.
    #[response(status = 500)]
    Internal(ErrorBody),
    /// The database cannot be reached in time; retry after `Retry-After` seconds.
    #[response(status = 503)]
    Unavailable(ErrorBody),
}

/// The errors a JSON body adds to a route's: its own 400, 413 and 415.
#[derive(IntoResponses)]
#[expect(
    dead_code,
    reason = "a description for the document: errors are ApiError values"
)]
enum BodyErrors {
    /// Invalid route parameters, invalid JSON, or a body that breaks its rules (every issue).
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// The body is larger than `limits.max_body_bytes`.
    #[response(status = 413)]
    PayloadTooLarge(ErrorBody),
    /// The body is not `application/json`.
    #[response(status = 415)]
    UnsupportedMediaType(ErrorBody),
}

/// The errors of a route with a JSON body: the read errors, and the body's own.
pub struct WriteErrors;

impl IntoResponses for WriteErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let mut responses = ReadErrors::responses();
        responses.extend(BodyErrors::responses());
        responses
    }
}
