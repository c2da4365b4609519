//! Answers for requests no route takes, in the contract's shape.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError as _, web};

use crate::error::ApiError;

/// An unknown path.
pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::for_status(StatusCode::NOT_FOUND))
}

/// The answer for a known path and an unknown method, naming the methods the path has.
pub fn method_not_allowed(allow: &[&str]) -> actix_web::Route {
    let mut allow = allow.to_vec();
    // HEAD is served wherever GET is (see `middleware::head_as_get`).
    if let Some(get) = allow.iter().position(|m| *m == "GET") {
        allow.insert(get + 1, "HEAD");
    }
    let allow = allow.join(", ");
    web::to(move || {
        let allow = allow.clone();
        async move {
            let mut res = ApiError::for_status(StatusCode::METHOD_NOT_ALLOWED).error_response();
            if let Ok(value) = header::HeaderValue::from_str(&allow) {
                res.headers_mut().insert(header::ALLOW, value);
            }
            res
        }
    })
}
