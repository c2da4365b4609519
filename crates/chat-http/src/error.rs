//! The contract's error body, for every status:
//! `{"statusCode": 400, "statusMessage": "...", "data": {"issues": [...]}}`, `data` only where
//! there are issues. A 500 never carries its cause: the log has it, under the request id.

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use actix_web::{HttpResponse, ResponseError};
use chat_domain::{AuthError, ChatError, CreateChatError, PostMessagesError, StoreError};
use serde::Serialize;

use crate::issue::Issue;

/// Seconds a client is asked to wait after a 503.
const RETRY_AFTER_SECS: u32 = 1;

pub const INVALID_ROUTE: &str = "Bad Request. Invalid route parameters(user_id | chat_id).";
pub const INVALID_BODY: &str = "Bad Request. Invalid body(message | messages).";
pub const INVALID_JSON: &str = "Bad Request. Invalid JSON body.";

#[derive(Debug, Clone, thiserror::Error)]
#[error("{status} {message}")]
pub struct ApiError {
    status: StatusCode,
    message: String,
    issues: Option<Vec<Issue>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Body<'a> {
    status_code: u16,
    status_message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<Data<'a>>,
}

#[derive(Serialize)]
struct Data<'a> {
    issues: &'a [Issue],
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            issues: None,
        }
    }

    pub fn with_issues(status: StatusCode, message: &str, issues: Vec<Issue>) -> Self {
        Self {
            issues: Some(issues),
            ..Self::new(status, message)
        }
    }

    /// The plain answer for a status, e.g. `"Not Found."`: for errors that carry no detail.
    pub fn for_status(status: StatusCode) -> Self {
        let reason = status.canonical_reason().unwrap_or("Error");
        Self::new(status, format!("{reason}."))
    }

    pub fn invalid_route(issues: Vec<Issue>) -> Self {
        Self::with_issues(StatusCode::BAD_REQUEST, INVALID_ROUTE, issues)
    }

    pub fn invalid_body(issues: Vec<Issue>) -> Self {
        Self::with_issues(StatusCode::BAD_REQUEST, INVALID_BODY, issues)
    }

    pub fn invalid_json(parser_message: String) -> Self {
        Self::with_issues(
            StatusCode::BAD_REQUEST,
            INVALID_JSON,
            vec![Issue::invalid_json(parser_message)],
        )
    }

    pub fn payload_too_large(limit: usize) -> Self {
        let limit = u64::try_from(limit).unwrap_or(u64::MAX);
        Self::with_issues(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Payload Too Large.",
            vec![Issue::too_big(
                vec![],
                "body",
                limit,
                format!("Body must contain at most {limit} byte(s)"),
            )],
        )
    }

    pub fn chat_not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "Not Found. Chat not found.")
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status);
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            res.insert_header((RETRY_AFTER, RETRY_AFTER_SECS));
        }
        res.insert_header((CONTENT_TYPE, HeaderValue::from_static("application/json")))
            .json(Body {
                status_code: self.status.as_u16(),
                status_message: &self.message,
                data: self.issues.as_deref().map(|issues| Data { issues }),
            })
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        // The client learns only the status; the log says why.
        tracing::info!(reason = %e, "request refused");
        match e {
            AuthError::Unauthenticated(_) => ApiError::for_status(StatusCode::UNAUTHORIZED),
            AuthError::Forbidden { .. } => ApiError::for_status(StatusCode::FORBIDDEN),
        }
    }
}

impl ApiError {
    /// The store could not be reached in time: 503, the cause in the log only.
    fn unavailable(cause: &anyhow::Error) -> Self {
        tracing::warn!(error = %format_args!("{cause:#}"), "database unavailable");
        ApiError::for_status(StatusCode::SERVICE_UNAVAILABLE)
    }

    /// Anything else that failed: 500, the cause in the log only.
    fn internal(cause: &anyhow::Error) -> Self {
        tracing::error!(error = %format_args!("{cause:#}"), "request failed");
        ApiError::for_status(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn refused(reason: &dyn std::fmt::Display, answer: Self) -> Self {
        tracing::info!(reason = %reason, "request refused");
        answer
    }
}

impl From<PostMessagesError> for ApiError {
    fn from(e: PostMessagesError) -> Self {
        match &e {
            PostMessagesError::ChatNotFound { .. } => Self::refused(&e, Self::chat_not_found()),
            PostMessagesError::Unavailable(cause) => Self::unavailable(cause),
            PostMessagesError::Unknown(cause) => Self::internal(cause),
        }
    }
}

impl From<ChatError> for ApiError {
    fn from(e: ChatError) -> Self {
        match &e {
            ChatError::ChatNotFound { .. } => Self::refused(&e, Self::chat_not_found()),
            ChatError::Unavailable(cause) => Self::unavailable(cause),
            ChatError::Unknown(cause) => Self::internal(cause),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match &e {
            StoreError::Unavailable(cause) => Self::unavailable(cause),
            StoreError::Unknown(cause) => Self::internal(cause),
        }
    }
}

impl From<CreateChatError> for ApiError {
    fn from(e: CreateChatError) -> Self {
        match &e {
            CreateChatError::OwnerNotFound { .. } => Self::refused(
                &e,
                ApiError::new(StatusCode::NOT_FOUND, "Not Found. User not found."),
            ),
            CreateChatError::Unavailable(cause) => Self::unavailable(cause),
            CreateChatError::Unknown(cause) => Self::internal(cause),
        }
    }
}
