//! What a platform asks of the service: is the process serving (`/healthz`), can it serve
//! requests (`/readyz`: the database answers in time with the schema this build expects), and
//! where are the docs (`GET /`). No session; cheap; logged per request at `debug` only.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chat_domain::{ChatService, ChatStore, SessionVerifier};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;

/// How long readiness waits for the database: a probe must answer well inside its own timeout.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Serialize, ToSchema)]
pub struct ProbeResponse {
    /// `ok` (live) or `ready`.
    pub status: &'static str,
}

/// Where the service documents itself.
#[derive(Serialize, ToSchema)]
pub struct IndexResponse {
    pub name: &'static str,
    pub version: &'static str,
    /// The interactive documentation.
    pub docs: &'static str,
    /// The OpenAPI document.
    pub openapi: &'static str,
}

/// Liveness: the process serves. It never touches the database.
#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "healthz",
    tag = "operations",
    security(()),
    responses((status = 200, description = "The process serves", body = ProbeResponse)),
)]
pub async fn healthz<S, V>() -> HttpResponse {
    HttpResponse::Ok().json(ProbeResponse { status: "ok" })
}

/// Readiness: the database answers within 2 s and its schema is current.
#[utoipa::path(
    get,
    path = "/readyz",
    operation_id = "readyz",
    tag = "operations",
    security(()),
    responses(
        (status = 200, description = "Ready to serve", body = ProbeResponse),
        (status = 503, description = "The database does not answer in time, or its schema is not this build's", body = crate::error::ErrorBody),
    ),
)]
pub async fn readyz<S: ChatStore, V: SessionVerifier>(
    service: web::Data<ChatService<S, V>>,
) -> Result<HttpResponse, ApiError> {
    let unavailable = |reason: &str| {
        tracing::warn!(reason, "not ready");
        ApiError::for_status(StatusCode::SERVICE_UNAVAILABLE)
    };
    match tokio::time::timeout(READY_TIMEOUT, service.schema_is_current()).await {
        Ok(Ok(true)) => Ok(HttpResponse::Ok().json(ProbeResponse { status: "ready" })),
        Ok(Ok(false)) => Err(unavailable("the database schema is not this build's")),
        Ok(Err(e)) => Err(e.into()),
        Err(_) => Err(unavailable("the database did not answer in time")),
    }
}

/// `GET /`: where the documentation is.
#[utoipa::path(
    get,
    path = "/",
    operation_id = "index",
    tag = "operations",
    security(()),
    responses((status = 200, description = "Where the documentation is", body = IndexResponse)),
)]
pub async fn index<S, V>() -> HttpResponse {
    HttpResponse::Ok().json(IndexResponse {
        name: "chat-service",
        version: env!("CARGO_PKG_VERSION"),
        docs: "/api/docs/",
        openapi: "/api/openapi.json",
    })
}
