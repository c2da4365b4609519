//! Reading a JSON request body, for every route that takes one, in the contract's order:
//! media type (415), size (413), syntax (400 `invalid_json`).

use actix_web::http::StatusCode;
use actix_web::http::header::CONTENT_LENGTH;
use actix_web::{HttpMessage, HttpRequest, web};
use futures_util::StreamExt as _;
use serde_json::Value;

use crate::error::ApiError;

/// The body as JSON, or the error that says why not.
pub async fn read_json(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<Value, ApiError> {
    require_json(req)?;
    let body = read_body(req, payload, limit).await?;
    serde_json::from_slice(&body).map_err(|e| ApiError::invalid_json(e.to_string()))
}

/// `application/json`, with any parameters (`charset=utf-8`); nothing else, and not nothing.
fn require_json(req: &HttpRequest) -> Result<(), ApiError> {
    match req.mime_type() {
        Ok(Some(m))
            if m.type_() == mime::APPLICATION
                && m.subtype() == mime::JSON
                && m.suffix().is_none() =>
        {
            Ok(())
        }
        _ => Err(ApiError::for_status(StatusCode::UNSUPPORTED_MEDIA_TYPE)),
    }
}

/// Reads the body up to `limit` bytes. A declared length over the limit is refused before any
/// byte is read; a chunked body is refused as soon as it passes the limit.
async fn read_body(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<web::Bytes, ApiError> {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(ApiError::payload_too_large(limit));
    }
    let mut body = web::BytesMut::with_capacity(declared.map_or(0, |len| len as usize));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            tracing::info!(error = %e, "could not read the request body");
            ApiError::for_status(StatusCode::BAD_REQUEST)
        })?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::payload_too_large(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}
