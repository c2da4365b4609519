//! The actix-web adapter: routes, request and response bodies, the contract's errors, and the
//! iron sessions the app's cookies carry. The binary calls [`configure`] and [`middleware`];
//! nothing else knows a route string.

pub mod body;
pub mod dto;
pub mod error;
pub mod iron;
pub mod issue;
pub mod middleware;
pub mod openapi;
pub mod params;
pub mod query;
pub mod routes;
pub mod session;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError as _, web};
use chat_domain::{ChatService, ChatStore, SessionVerifier};
use utoipa::OpenApi as _;
use utoipa_swagger_ui::SwaggerUi;

pub use error::ApiError;

/// Settings of the HTTP layer itself.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// The largest request body accepted; larger ones are answered 413.
    pub max_body_bytes: usize,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            max_body_bytes: 2 * 1024 * 1024,
        }
    }
}

/// Registers every route of the service (see [`openapi`]'s route table), the OpenAPI document
/// at `/api/openapi.json` and its interactive page at `/api/docs/`, with the service they call.
pub fn configure<S: ChatStore, V: SessionVerifier>(
    service: web::Data<ChatService<S, V>>,
    settings: HttpSettings,
) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.app_data(service).app_data(web::Data::new(settings));
        openapi::register::<S, V>(cfg);
        cfg.service(
            SwaggerUi::new("/api/docs/{_:.*}").url("/api/openapi.json", openapi::ApiDoc::openapi()),
        )
        .route(
            "/api/docs",
            web::get().to(|| async {
                HttpResponse::PermanentRedirect()
                    .insert_header((header::LOCATION, "/api/docs/"))
                    .finish()
            }),
        )
        .default_service(web::to(not_found));
    }
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::for_status(StatusCode::NOT_FOUND))
}

/// The answer for a known path and an unknown method, naming the methods the path has.
fn method_not_allowed(allow: &[&str]) -> actix_web::Route {
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
