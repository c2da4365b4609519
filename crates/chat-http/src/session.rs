//! Where a request carries the app's session (h3 `useSession`, behind nuxt-auth-utils): the
//! `x-neptun-session-session` header or the `neptun-session` cookie. What the token means is
//! the sessions adapter's business, behind the domain's `SessionVerifier`.

use actix_web::HttpRequest;
use actix_web::cookie::Cookie;
use actix_web::http::header::{COOKIE, HeaderMap};

pub const COOKIE_NAME: &str = "neptun-session";
/// h3 names the header `x-${name}-session`.
pub const HEADER_NAME: &str = "x-neptun-session-session";

/// The session token of a request, read as h3 reads it: the header if it is present and not
/// empty, else the cookie (the first of that name; percent-decoded).
pub fn token_of(req: &HttpRequest) -> Option<String> {
    token_in(req.headers())
}

/// [`token_of`] from a request's headers alone (before actix has made a request of them).
pub fn token_in(headers: &HeaderMap) -> Option<String> {
    let header = headers
        .get(HEADER_NAME)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty());
    match header {
        Some(value) => Some(value.to_owned()),
        None => cookie(headers, COOKIE_NAME),
    }
}

/// The first cookie named `name`, as actix's `HttpRequest::cookie` finds it: every `Cookie`
/// header split at `;`, each pair percent-decoded, pairs that do not parse skipped; a header
/// that is not UTF-8 means none at all.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    let mut found = None;
    for header in headers.get_all(COOKIE) {
        let pairs = std::str::from_utf8(header.as_bytes()).ok()?;
        for pair in pairs.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            if let Ok(cookie) = Cookie::parse_encoded(pair)
                && found.is_none()
                && cookie.name() == name
            {
                found = Some(cookie.value().to_owned());
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn the_cookie_is_read_as_actix_reads_it() {
        for cookies in [
            vec!["a=1; neptun-session=Fe26.2%2Ax; neptun-session=second"],
            vec!["a=1", "neptun-session=one;b=2"],
            vec!["neptun-session="],
            vec!["no-session=1"],
            vec!["bad cookie; neptun-session=x"],
            vec!["=x; neptun-session=%zz; neptun-session=y"],
        ] {
            let mut req = TestRequest::default();
            for value in &cookies {
                req = req.append_header((COOKIE, *value));
            }
            let req = req.to_http_request();
            let actix = req.cookie(COOKIE_NAME).map(|c| c.value().to_owned());
            assert_eq!(token_of(&req), actix, "{cookies:?}");
        }
    }
}
