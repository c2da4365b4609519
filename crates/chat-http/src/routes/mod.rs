//! One module per resource; what every handler starts with is here.

pub mod chats;
pub mod messages;

use actix_web::HttpRequest;
use chat_domain::{Caller, ChatId, ChatService, ChatStore, SessionVerifier, UserId};

use crate::error::ApiError;
use crate::issue::Issue;
use crate::params;
use crate::session::token_of;

const INVALID_USER_ROUTE: &str = "Bad Request. Invalid route parameters(user_id).";

fn segment<'a>(req: &'a HttpRequest, name: &str) -> &'a str {
    req.match_info().get(name).unwrap_or_default()
}

/// The route's user, then the session that must be that user's: 400, 401, 403 in that order.
pub fn authorize_user<S: ChatStore, V: SessionVerifier>(
    req: &HttpRequest,
    service: &ChatService<S, V>,
) -> Result<Caller, ApiError> {
    let owner = params::user_route(segment(req, "user_id")).map_err(invalid_user_route)?;
    Ok(service.authorize(token_of(req).as_deref(), owner)?)
}

/// The route's user and chat, then the session: 400, 401, 403 in that order. Whether the chat
/// is the caller's is the store's answer (404), when the operation runs.
pub fn authorize_chat<S: ChatStore, V: SessionVerifier>(
    req: &HttpRequest,
    service: &ChatService<S, V>,
) -> Result<(Caller, ChatId), ApiError> {
    let (owner, chat): (UserId, ChatId) =
        params::chat_route(segment(req, "user_id"), segment(req, "chat_id"))
            .map_err(ApiError::invalid_route)?;
    Ok((service.authorize(token_of(req).as_deref(), owner)?, chat))
}

fn invalid_user_route(issues: Vec<Issue>) -> ApiError {
    ApiError::with_issues(
        actix_web::http::StatusCode::BAD_REQUEST,
        INVALID_USER_ROUTE,
        issues,
    )
}

/// A `Link` header value for the next page: this request's path with `query`.
pub fn next_link(req: &HttpRequest, query: &[(&str, String)]) -> String {
    let query = serde_urlencoded::to_string(query).unwrap_or_default();
    format!("<{}?{query}>; rel=\"next\"", req.path())
}
