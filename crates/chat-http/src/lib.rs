//! The actix-web adapter: routes, request and response bodies, the contract's errors, and the
//! iron sessions the app's cookies carry. The binary calls [`configure`] and [`middleware`];
//! nothing else knows a route string.

pub mod body;
pub mod dto;
pub mod error;
pub mod iron;
pub mod issue;
pub mod middleware;
pub mod params;
pub mod query;
pub mod routes;
pub mod session;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError as _, web};
use chat_domain::{ChatService, ChatStore, SessionVerifier};

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

/// Registers every route of the service, with the service they call.
pub fn configure<S: ChatStore, V: SessionVerifier>(
    service: web::Data<ChatService<S, V>>,
    settings: HttpSettings,
) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        use routes::{chats, messages};
        cfg.app_data(service)
            .app_data(web::Data::new(settings))
            .service(
                web::resource(chats::LIST_PATH)
                    .route(web::get().to(chats::list::<S, V>))
                    .route(web::post().to(chats::create::<S, V>))
                    .route(web::delete().to(chats::delete_many::<S, V>))
                    .default_service(method_not_allowed("GET, POST, DELETE")),
            )
            .service(
                web::resource(chats::ITEM_PATH)
                    .route(web::get().to(chats::get::<S, V>))
                    .route(web::patch().to(chats::rename::<S, V>))
                    .route(web::delete().to(chats::delete::<S, V>))
                    .default_service(method_not_allowed("GET, PATCH, DELETE")),
            )
            .service(
                web::resource(messages::PATH)
                    .route(web::get().to(messages::list::<S, V>))
                    .route(web::post().to(messages::post::<S, V>))
                    .default_service(method_not_allowed("GET, POST")),
            )
            .service(
                web::resource(messages::LAST_PATH)
                    .route(web::delete().to(messages::delete_last::<S, V>))
                    .default_service(method_not_allowed("DELETE")),
            )
            .default_service(web::to(not_found));
    }
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::for_status(StatusCode::NOT_FOUND))
}

/// The answer for a known path and an unknown method, naming the methods the path has.
fn method_not_allowed(allow: &'static str) -> actix_web::Route {
    web::to(move || async move {
        let mut res = ApiError::for_status(StatusCode::METHOD_NOT_ALLOWED).error_response();
        res.headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static(allow));
        res
    })
}
