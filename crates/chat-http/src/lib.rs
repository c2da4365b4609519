//! The actix-web adapter: one module per resource ([`chats`], [`messages`]) with its handlers,
//! its requests (parsed and documented side by side) and its responses; authorization as
//! extractors ([`extract`]); the contract's errors ([`error`], [`issue`]); the route table and
//! the OpenAPI document ([`openapi`]). The binary calls [`configure`] and the [`middleware`];
//! nothing else knows a route string.

pub mod body;
pub mod chats;
pub mod codec_errors;
pub mod error;
pub mod expect;
pub mod extract;
mod fallback;
pub mod files;
pub mod idempotency;
pub mod issue;
pub mod messages;
pub mod middleware;
pub mod openapi;
pub mod path;
pub mod probes;
pub mod query;
mod schema;
pub mod session;
pub mod shared;
pub mod shares;
pub mod unread_body;
pub mod wire;
pub mod write_deadline;

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use chat_domain::{ChatService, ChatStore, PageLimit, ReadBudget, SessionVerifier};
use utoipa::OpenApi as _;
use utoipa_swagger_ui::SwaggerUi;

pub use error::ApiError;

/// Settings of the HTTP layer itself.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// The largest request body accepted; larger ones are answered 413.
    pub max_body_bytes: usize,
    /// How many rows a list read without `limit` answers at most before it pages.
    pub read_ceiling: PageLimit,
    /// How many bytes of messages one read answers at most before it pages.
    pub read_budget: ReadBudget,
    /// How long a request body may take to arrive, from the end of the head; then 408.
    pub body_timeout: std::time::Duration,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            max_body_bytes: 16 * 1024 * 1024,
            read_ceiling: PageLimit::DEFAULT_CEILING,
            read_budget: ReadBudget::DEFAULT,
            body_timeout: std::time::Duration::from_secs(15),
        }
    }
}

impl HttpSettings {
    /// The settings the routes were registered with.
    pub fn of(req: &actix_web::HttpRequest) -> Self {
        req.app_data::<web::Data<HttpSettings>>()
            .map_or_else(Self::default, |s| s.get_ref().clone())
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
        .default_service(web::to(fallback::not_found));
    }
}
