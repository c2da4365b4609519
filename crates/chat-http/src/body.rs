//! Reading a JSON request body, for every route that takes one, in the contract's order:
//! media type (415), size (413), syntax (400 `invalid_json`); then the helpers every body's
//! parser shares.

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::CONTENT_LENGTH;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::StreamExt as _;
use futures_util::future::LocalBoxFuture;
use serde_json::{Map, Value};

use crate::HttpSettings;
use crate::error::ApiError;
use crate::issue::Issue;

/// A request's body as JSON. As a handler's argument after the authorization extractor, it
/// is read only for an authorized caller, in the contract's order of checks.
pub struct JsonBody(pub Value);

impl FromRequest for JsonBody {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move {
            let (limit, deadline) = req.app_data::<web::Data<HttpSettings>>().map_or_else(
                || {
                    let defaults = HttpSettings::default();
                    (defaults.max_body_bytes, defaults.body_timeout)
                },
                |s| (s.max_body_bytes, s.body_timeout),
            );
            match tokio::time::timeout(deadline, read_json(&req, payload, limit)).await {
                Ok(read) => read.map(Self),
                Err(_) => {
                    tracing::info!(?deadline, "the request body did not arrive in time");
                    Err(ApiError::for_status(StatusCode::REQUEST_TIMEOUT))
                }
            }
        })
    }
}

/// The body as JSON, or the error that says why not.
pub async fn read_json(
    req: &HttpRequest,
    payload: Payload,
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
    mut payload: Payload,
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

/// The body as an object, or a 400 (`invalid` names the body) with zod's issue.
pub fn object(value: Value, invalid: &str) -> Result<Map<String, Value>, ApiError> {
    match value {
        Value::Object(obj) => Ok(obj),
        other => Err(ApiError::bad_request(
            invalid,
            vec![Issue::invalid_type(vec![], "object", &other)],
        )),
    }
}
