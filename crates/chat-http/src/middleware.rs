//! Middleware every response passes through: the request id and the one log line per request,
//! and the contract's error body for errors that actix itself produces (unknown routes, wrong
//! methods, malformed requests), which would otherwise be plain text.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError};
use tracing::Instrument as _;

use crate::error::ApiError;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Gives every request an id (the proxy's `x-request-id` when it is a sane token, else a new
/// UUID), runs it inside a span that carries the id, answers with the id in `x-request-id`, and
/// logs one line: method, route pattern, status, latency.
pub async fn request_telemetry(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let request_id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|id| is_sane_request_id(id))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let span = tracing::info_span!("request", request_id = %request_id);
    // The id was checked above or is a UUID, so it is always a valid header value.
    let header = HeaderValue::from_str(&request_id).ok();
    let method = req.method().clone();
    let started = Instant::now();

    // No clone of the request may be held here: the router needs it to be unshared.
    let mut res = match next.call(req).instrument(span.clone()).await {
        Ok(res) => res,
        Err(e) => {
            // Handlers' errors are already responses; this is one from a middleware. It is
            // answered in the contract's shape, still with the request id.
            let status = e.as_response_error().status_code();
            span.in_scope(|| {
                tracing::warn!(method = %method, status = status.as_u16(), error = %e, "request failed outside a handler");
            });
            return Err(EscapedError {
                error: ApiError::for_status(status),
                request_id: header,
            }
            .into());
        }
    };
    if let Some(value) = header {
        res.headers_mut().insert(REQUEST_ID, value);
    }
    span.in_scope(|| {
        tracing::info!(
            method = %method,
            route = res.request().match_pattern().as_deref().unwrap_or("<none>"),
            status = res.status().as_u16(),
            latency_ms = started.elapsed().as_secs_f64() * 1000.0,
            "request"
        );
    });
    Ok(res.map_into_boxed_body())
}

/// An error that escaped the handlers, answered in the contract's shape with the request id.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
struct EscapedError {
    error: ApiError,
    request_id: Option<HeaderValue>,
}

impl ResponseError for EscapedError {
    fn status_code(&self) -> actix_web::http::StatusCode {
        self.error.status()
    }

    fn error_response(&self) -> actix_web::HttpResponse {
        let mut res = self.error.error_response();
        if let Some(id) = &self.request_id {
            res.headers_mut().insert(REQUEST_ID, id.clone());
        }
        res
    }
}

fn is_sane_request_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Rewrites any error response that is not already JSON into the contract's body for its status.
pub async fn contract_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let res = next.call(req).await?;
    let status = res.status();
    let is_json = res
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return Ok(res.map_into_boxed_body());
    }
    if let Some(e) = res.response().error() {
        tracing::info!(error = %e, status = status.as_u16(), "answering an actix error");
    }
    let (req, old) = res.into_parts();
    let mut new = ApiError::for_status(status).error_response();
    // Keep headers such as `Allow` on a 405.
    for (name, value) in old.headers() {
        if name != CONTENT_TYPE && name != actix_web::http::header::CONTENT_LENGTH {
            new.headers_mut().insert(name.clone(), value.clone());
        }
    }
    Ok(ServiceResponse::new(req, new))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_from_outside_are_checked() {
        assert!(is_sane_request_id("a1b2-c3_d4.e5"));
        assert!(!is_sane_request_id(""));
        assert!(!is_sane_request_id("has space"));
        assert!(!is_sane_request_id("new\nline"));
        assert!(!is_sane_request_id(&"x".repeat(129)));
    }
}
