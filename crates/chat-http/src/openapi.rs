//! The OpenAPI 3.1 document, made from the code: the route table below registers every route
//! with actix and lists the same handlers' `#[utoipa::path]` in the document, so a route cannot
//! be served undocumented (a test checks the table against the document too).

use serde::Serialize;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{IntoResponses, Modify, OpenApi, ToSchema};

use crate::session::{COOKIE_NAME, HEADER_NAME};

/// Who wrote a message.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum ActorName {
    User,
    Assistant,
    System,
}

/// One message: `{"message", "actor"}`, answered with `chatMessage`.
#[derive(ToSchema)]
#[expect(
    dead_code,
    reason = "a schema only: bodies are read as JSON and checked rule by rule"
)]
pub struct SingleMessageRequest {
    /// Stored exactly as sent: at least one character other than white space, no NUL, at most
    /// `limits.max_message_chars` characters.
    #[schema(min_length = 1)]
    message: String,
    actor: ActorName,
}

/// An ordered batch, stored atomically and answered with `chatMessages` in the same order.
#[derive(ToSchema)]
#[expect(dead_code, reason = "a schema only")]
pub struct BatchMessagesRequest {
    /// 1 to `limits.max_batch` messages.
    #[schema(min_items = 1)]
    messages: Vec<MessageInput>,
}

#[derive(ToSchema)]
#[expect(dead_code, reason = "a schema only")]
pub struct MessageInput {
    #[schema(min_length = 1)]
    content: String,
    role: ActorName,
}

/// The body of `POST .../messages`: one message, or a batch (the key `messages` decides).
#[derive(ToSchema)]
#[serde(untagged)]
pub enum PostMessagesRequest {
    Single(SingleMessageRequest),
    Batch(BatchMessagesRequest),
}

/// What `POST .../messages` answers: the shape of the request's.
#[derive(ToSchema)]
#[serde(untagged)]
pub enum PostMessagesResponse {
    Single(crate::dto::SingleMessageResponse),
    Batch(crate::dto::BatchMessagesResponse),
}

#[derive(ToSchema)]
#[expect(dead_code, reason = "a schema only")]
pub struct NewChatRequest {
    /// Trimmed; 1 to 200 characters.
    #[schema(min_length = 1, max_length = 200)]
    name: String,
    /// Trimmed; 1 to 100 characters.
    #[schema(min_length = 1, max_length = 100)]
    model: String,
}

#[derive(ToSchema)]
#[expect(dead_code, reason = "a schema only")]
pub struct RenameChatRequest {
    #[schema(min_length = 1, max_length = 200)]
    name: String,
}

#[derive(ToSchema)]
#[expect(dead_code, reason = "a schema only")]
pub struct ChatIdsRequest {
    /// At most 1000 ids; chats that are not the caller's are left alone.
    #[schema(max_items = 1000)]
    chat_ids: Vec<i32>,
}

/// Every error, whatever its status.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    status_code: u16,
    status_message: String,
    /// Present where there are issues (400, 413).
    data: Option<ErrorData>,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorData {
    issues: Vec<IssueDoc>,
}

/// One broken rule, as zod reports it: `code`, `path`, `message`, and the fields of its code.
#[derive(Serialize, ToSchema)]
#[schema(as = Issue)]
pub struct IssueDoc {
    code: String,
    #[schema(value_type = Vec<PathSegmentDoc>)]
    path: Vec<serde_json::Value>,
    message: String,
    expected: Option<String>,
    received: Option<String>,
    options: Option<Vec<String>>,
    keys: Option<Vec<String>>,
    minimum: Option<u64>,
    maximum: Option<u64>,
    #[serde(rename = "type")]
    kind: Option<String>,
    inclusive: Option<bool>,
    exact: Option<bool>,
}

/// A key or an index.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[schema(as = PathSegment)]
pub enum PathSegmentDoc {
    Key(String),
    Index(u64),
}

/// The errors of a route without a body.
#[derive(IntoResponses)]
pub enum ReadErrors {
    /// Invalid route or query parameters.
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// No session, or one that does not open (tampered, expired, another password).
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// The session's user is not the route's.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// No such chat of the caller's (or no such route).
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// The method is not one the path has.
    #[response(status = 405)]
    MethodNotAllowed(ErrorBody),
    /// An internal failure; the log has its cause under the response's request id.
    #[response(status = 500)]
    Internal(ErrorBody),
    /// The database cannot be reached in time; retry after `Retry-After` seconds.
    #[response(status = 503)]
    Unavailable(ErrorBody),
}

/// The errors of a route with a JSON body: the read errors, and the body's own.
#[derive(IntoResponses)]
pub enum WriteErrors {
    /// Invalid route parameters, invalid JSON, or a body that breaks its rules (every issue).
    #[response(status = 400)]
    BadRequest(ErrorBody),
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    #[response(status = 403)]
    Forbidden(ErrorBody),
    #[response(status = 404)]
    NotFound(ErrorBody),
    #[response(status = 405)]
    MethodNotAllowed(ErrorBody),
    /// The body is larger than `limits.max_body_bytes`.
    #[response(status = 413)]
    PayloadTooLarge(ErrorBody),
    /// The body is not `application/json`.
    #[response(status = 415)]
    UnsupportedMediaType(ErrorBody),
    #[response(status = 500)]
    Internal(ErrorBody),
    #[response(status = 503)]
    Unavailable(ErrorBody),
}

/// The session, as the app's cookie or as the header h3 also reads.
struct SessionSecurity;

impl Modify for SessionSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                COOKIE_NAME,
                "The app's iron-sealed session (h3 useSession / nuxt-auth-utils)",
            ))),
        );
        components.add_security_scheme(
            "session_header",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                HEADER_NAME,
                "The same seal, as a header; read before the cookie",
            ))),
        );
    }
}

/// The route table: `path => [METHOD module::handler, ...]`. It registers each route with
/// actix (path segments may be empty, so that an empty id is a 400, not a 404; other methods
/// get 405 with `Allow`), and lists the handlers in the OpenAPI document.
macro_rules! routes {
    ($($path:literal => [$($method:ident $module:ident :: $handler:ident),+ $(,)?]),+ $(,)?) => {
        /// Every `(method, path)` the service serves, as the OpenAPI document names them.
        pub const ROUTES: &[(&str, &str)] = &[$($((stringify!($method), $path)),+),+];

        /// Registers the routes, with handlers over the service's store and session verifier.
        pub fn register<S: chat_domain::ChatStore, V: chat_domain::SessionVerifier>(
            cfg: &mut actix_web::web::ServiceConfig,
        ) {
            use actix_web::{http::Method, web};
            use crate::routes::*;
            $(
                cfg.service(
                    web::resource(actix_pattern($path))
                        $(.route(web::route().method(Method::$method).to($module::$handler::<S, V>)))+
                        .default_service(crate::method_not_allowed(&[$(stringify!($method)),+])),
                );
            )+
        }

        #[derive(OpenApi)]
        #[openapi(
            info(
                title = "chat-service",
                description = "Stores the messages of neptun chat conversations. Every route \
                               needs the app's session (cookie `neptun-session` or header \
                               `x-neptun-session-session`) of the user the path names.",
            ),
            paths($($(crate::routes::$module::$handler),+),+),
            // The error responses name these; IntoResponses does not register them.
            components(schemas(ErrorBody, ErrorData, IssueDoc, PathSegmentDoc)),
            modifiers(&SessionSecurity),
            security(("session_cookie" = []), ("session_header" = [])),
        )]
        pub struct ApiDoc;
    };
}

routes! {
    "/api/users/{user_id}/chats" => [
        GET chats::list,
        POST chats::create,
        DELETE chats::delete_many,
    ],
    "/api/users/{user_id}/chats/{chat_id}" => [
        GET chats::get,
        PATCH chats::rename,
        DELETE chats::delete,
    ],
    "/api/users/{user_id}/chats/{chat_id}/messages" => [
        GET messages::list,
        POST messages::post,
    ],
    "/api/users/{user_id}/chats/{chat_id}/messages/last" => [
        DELETE messages::delete_last,
    ],
}

/// `{user_id}` → `{user_id:[^/]*}`: a segment that may be empty.
fn actix_pattern(path: &str) -> String {
    path.replace('}', ":[^/]*}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registered_route_is_in_the_document() {
        let doc = ApiDoc::openapi();
        for (method, path) in ROUTES {
            let item = doc
                .paths
                .paths
                .get(*path)
                .unwrap_or_else(|| panic!("{path} is not documented"));
            let operation = match *method {
                "GET" => &item.get,
                "POST" => &item.post,
                "PATCH" => &item.patch,
                "DELETE" => &item.delete,
                other => panic!("no check for {other}"),
            };
            assert!(operation.is_some(), "{method} {path} is not documented");
        }
        let documented: usize = doc
            .paths
            .paths
            .values()
            .map(|i| {
                [&i.get, &i.post, &i.patch, &i.delete, &i.put]
                    .iter()
                    .filter(|o| o.is_some())
                    .count()
            })
            .sum();
        assert_eq!(
            documented,
            ROUTES.len(),
            "the document has no route the table lacks"
        );
    }

    #[test]
    fn the_document_is_openapi_3_1_with_the_session_schemes() {
        let json: serde_json::Value =
            serde_json::from_str(&ApiDoc::openapi().to_json().unwrap()).unwrap();
        assert!(json["openapi"].as_str().unwrap().starts_with("3.1"));
        assert_eq!(
            json["components"]["securitySchemes"]["session_cookie"]["in"],
            "cookie"
        );
        let ids: Vec<&str> = json["paths"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|item| item.as_object().unwrap().values())
            .filter_map(|op| op["operationId"].as_str())
            .collect();
        let mut unique = ids.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(ids.len(), unique.len(), "operation ids are unique: {ids:?}");
    }
}
