//! The OpenAPI 3.1 document, made from the code: the route table below registers every route
//! with actix and lists the same handlers' `#[utoipa::path]` in the document, so a route cannot
//! be served undocumented (a test checks the table against the document too).

use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::{ErrorBody, ErrorData};
use crate::issue::{Issue, PathSegment};
use crate::session::{COOKIE_NAME, HEADER_NAME};

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
            use crate::{chats, files, messages, probes, shared, shares};
            $(
                cfg.service(
                    web::resource(actix_pattern($path))
                        $(.route(web::route().method(Method::$method).to($module::$handler::<S, V>)))+
                        .default_service(crate::fallback::method_not_allowed(&[$(stringify!($method)),+])),
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
            paths($($(crate::$module::$handler),+),+),
            // The error responses name these; IntoResponses does not register them.
            components(schemas(ErrorBody, ErrorData, Issue, PathSegment)),
            modifiers(&SessionSecurity),
            security(("session_cookie" = []), ("session_header" = [])),
        )]
        pub struct ApiDoc;
    };
}

routes! {
    "/" => [GET probes::index],
    "/healthz" => [GET probes::healthz],
    "/readyz" => [GET probes::readyz],
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
    "/api/users/{user_id}/chats/{chat_id}/files" => [GET files::list],
    "/api/users/{user_id}/chats/{chat_id}/files/{message_id}" => [POST files::save],
    "/api/users/{user_id}/chats/{chat_id}/shares" => [
        GET shares::get,
        POST shares::publish,
    ],
    "/api/users/{user_id}/chats/{chat_id}/shares/{share_id}/whitelist-entries" => [
        POST shares::whitelist,
    ],
    "/api/shared/chats/{uuid}" => [GET shared::read],
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
