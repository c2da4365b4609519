//! `Expect`: a client that asks before it sends a body (`Expect: 100-continue`) is told at
//! once what it would be told after sending it, where the head alone decides: no or a bad
//! session (401), another user's route (403), a declared length over the limit (413). Only
//! then does it get `100 Continue`. Any other expectation is refused (417), as RFC 9110 asks.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_LENGTH, EXPECT};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage as _, ResponseError as _};
use chat_domain::{ChatService, ChatStore, SessionVerifier, UserId};

use crate::error::ApiError;
use crate::middleware::{EscapedError, record_request};
use crate::path::parse_positive;
use crate::session::token_in;

/// actix-http's expectation service: the request if it may send its body, else the answer.
pub fn decide_continue<S: ChatStore, V: SessionVerifier>(
    service: &ChatService<S, V>,
    max_body_bytes: usize,
    req: actix_http::Request,
) -> Result<actix_http::Request, Error> {
    let started = Instant::now();
    match refusal(service, max_body_bytes, &req) {
        None => Ok(req),
        Some(error) => {
            let status = error.status().as_u16();
            let (method, path) = (req.method(), req.path());
            record_request(method, None, status, started);
            tracing::info!(%method, path, status, "refused before its body (Expect: 100-continue)");
            Err(EscapedError::with_new_id(error).into())
        }
    }
}

fn refusal<S: ChatStore, V: SessionVerifier>(
    service: &ChatService<S, V>,
    max_body_bytes: usize,
    req: &actix_http::Request,
) -> Option<ApiError> {
    if let Some(owner) = route_owner(req.path()) {
        let token = token_in(req.headers());
        if let Err(e) = service.authorize(token.as_deref(), owner) {
            return Some(e.into());
        }
    }
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    declared
        .is_some_and(|len| len > max_body_bytes as u64)
        .then(|| ApiError::payload_too_large(max_body_bytes))
}

/// The `{user_id}` of a route under `/api/users/`, if it is a valid one (else the route
/// itself answers 400 without reading the body).
fn route_owner(path: &str) -> Option<UserId> {
    let rest = path.strip_prefix("/api/users/")?;
    let raw = rest.split('/').next()?;
    let id = parse_positive(raw, "user_id", UserId::MAX).ok()?;
    UserId::new(id).ok()
}

/// Refuses an `Expect` other than `100-continue` (actix-http handles that one) with 417.
pub async fn refuse_unknown_expectations(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let unknown = req.headers().get(EXPECT).is_some_and(|v| {
        !v.to_str()
            .is_ok_and(|v| v.trim().eq_ignore_ascii_case("100-continue"))
    });
    if unknown {
        let res = ApiError::for_status(StatusCode::EXPECTATION_FAILED).error_response();
        return Ok(req.into_response(res));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_owner_is_read_from_user_routes_only() {
        assert_eq!(
            route_owner("/api/users/42/chats/1/messages").map(UserId::get),
            Some(42)
        );
        assert_eq!(route_owner("/api/users/42").map(UserId::get), Some(42));
        assert_eq!(route_owner("/api/users/0/chats"), None);
        assert_eq!(route_owner("/api/users/abc/chats"), None);
        assert_eq!(route_owner("/api/shared/chats/x"), None);
    }
}
