//! Where a request carries the app's session (h3 `useSession`, behind nuxt-auth-utils): the
//! `x-neptun-session-session` header or the `neptun-session` cookie. What the token means is
//! the sessions adapter's business, behind the domain's `SessionVerifier`.

use actix_web::HttpRequest;

pub const COOKIE_NAME: &str = "neptun-session";
/// h3 names the header `x-${name}-session`.
pub const HEADER_NAME: &str = "x-neptun-session-session";

/// The session token of a request, read as h3 reads it: the header if it is present and not
/// empty, else the cookie (the first of that name; percent-decoded).
pub fn token_of(req: &HttpRequest) -> Option<String> {
    let header = req
        .headers()
        .get(HEADER_NAME)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty());
    match header {
        Some(value) => Some(value.to_owned()),
        None => req.cookie(COOKIE_NAME).map(|c| c.value().to_owned()),
    }
}
