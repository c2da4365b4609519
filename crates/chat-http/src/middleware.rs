//! Middleware every response passes through: the request id and the one log line per request,
//! and the contract's error body for errors that actix itself produces (unknown routes, wrong
//! methods, malformed requests), which would otherwise be plain text.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
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
    let route = res.request().match_pattern().map(|p| display_pattern(&p));
    let path = res.request().path().to_owned();
    let status = res.status().as_u16();
    record_request(&method, route.as_deref(), status, started);
    span.in_scope(|| log_request(&method, route.as_deref(), &path, status, started));
    Ok(res.map_into_boxed_body())
}

/// `http_requests_total` and `http_request_duration_seconds`, by method, route pattern and
/// status. Every label has a bounded set of values, so no client can grow the metrics: a
/// request no route took counts under `<unmatched>`, a method HTTP does not define as `OTHER`.
pub(crate) fn record_request(method: &Method, route: Option<&str>, status: u16, started: Instant) {
    let labels = [
        ("method", method_label(method).to_owned()),
        ("route", route.unwrap_or("<unmatched>").to_owned()),
        ("status", status.to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
}

/// The method as a metric label: one of the methods HTTP defines, else `OTHER`.
pub fn method_label(method: &Method) -> &'static str {
    const KNOWN: [Method; 9] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
        Method::CONNECT,
        Method::TRACE,
    ];
    KNOWN
        .iter()
        .find(|known| *known == method)
        .map_or("OTHER", Method::as_str)
}

/// The request's log line: at `debug` for probes, metrics and documentation assets (a platform
/// asks for them all the time), else `info`. A request no route took logs its path instead.
fn log_request(method: &Method, route: Option<&str>, path: &str, status: u16, started: Instant) {
    let latency_ms = format!("{:.3}", started.elapsed().as_secs_f64() * 1000.0);
    let quiet = matches!(route, Some("/healthz" | "/readyz" | "/metrics"))
        || route.is_some_and(|r| r.starts_with("/api/docs/"));
    macro_rules! line {
        ($level:ident) => {
            match route {
                Some(route) => tracing::$level!(%method, route, status, latency_ms, "request"),
                None => tracing::$level!(%method, path, status, latency_ms, "request"),
            }
        };
    }
    if quiet {
        line!(debug);
    } else {
        line!(info);
    }
}

/// A route pattern as the route table writes it: `{user_id:[^/]*}` → `{user_id}`.
pub fn display_pattern(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let (mut in_braces, mut in_regex) = (false, false);
    for c in pattern.chars() {
        match c {
            '{' => in_braces = true,
            '}' => (in_braces, in_regex) = (false, false),
            ':' if in_braces => in_regex = true,
            _ => {}
        }
        if !in_regex {
            out.push(c);
        }
    }
    out
}

/// An error that escaped the handlers, answered in the contract's shape with the request id.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub(crate) struct EscapedError {
    error: ApiError,
    request_id: Option<HeaderValue>,
}

impl EscapedError {
    /// For an answer given before any request exists, so before an id was given to it.
    pub(crate) fn with_new_id(error: ApiError) -> Self {
        let id = uuid::Uuid::new_v4().to_string();
        Self {
            error,
            request_id: HeaderValue::from_str(&id).ok(),
        }
    }
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

/// HEAD wherever GET is served: the request is routed as a GET, and actix's HTTP codec, which
/// read the method as HEAD, sends GET's status and headers (its length too) without the body.
pub async fn head_as_get(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    next.call(req).await
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

    #[test]
    fn method_labels_are_bounded() {
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        let invented = Method::from_bytes(b"MXYZ").unwrap();
        assert_eq!(method_label(&invented), "OTHER");
    }

    #[test]
    fn patterns_are_logged_as_the_route_table_writes_them() {
        assert_eq!(
            display_pattern("/api/users/{user_id:[^/]*}/chats/{chat_id:[^/]*}"),
            "/api/users/{user_id}/chats/{chat_id}"
        );
        assert_eq!(display_pattern("/api/docs/{_:.*}"), "/api/docs/{_}");
        assert_eq!(display_pattern("/healthz"), "/healthz");
        assert_eq!(display_pattern("/a:b/{x}"), "/a:b/{x}");
    }
}
