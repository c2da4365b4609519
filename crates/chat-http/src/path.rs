//! Route parameters: the ids in the path, positive integers written in plain decimal, at most
//! the ids' bound. Parsed and documented here, once, for every route.

use actix_web::HttpRequest;
use chat_domain::{ChatId, IdError, MessageId, UserId};
use utoipa::IntoParams;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::{KnownFormat, ObjectBuilder, Required, SchemaFormat, Type};

use crate::issue::{Issue, at};

/// Parses a positive integer as the contract reads ids: `42` is one; `0` and negatives are too
/// small; above `max` too big; anything that is not an optionally signed run of ASCII digits
/// (`1e2`, `0x10`, `4.0`, `abc`, the empty string) is not a number at all.
#[expect(
    clippy::result_large_err,
    reason = "the issue is the answer itself, built only when the id is refused"
)]
pub fn parse_positive(raw: &str, name: &'static str, max: i64) -> Result<i64, Issue> {
    let digits = raw.strip_prefix('-').unwrap_or(raw);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Issue::invalid_type_named(at(name), "number", "nan"));
    }
    if raw.starts_with('-') || digits.bytes().all(|b| b == b'0') {
        return Err(Issue::not_positive(at(name)));
    }
    match digits.parse::<i64>() {
        Ok(value) if value <= max => Ok(value),
        // Digits only and not zero: what is left is a number too large.
        _ => Err(Issue::too_big(
            at(name),
            "number",
            max.unsigned_abs(),
            format!("Number must be less than or equal to {max}"),
        )),
    }
}

/// One id segment; `make` is the id's own validating constructor (it cannot fail on a value
/// `parse_positive` let through, but the type says what it checks).
#[expect(clippy::result_large_err, reason = "as parse_positive")]
fn parse_id<T>(
    raw: &str,
    name: &'static str,
    max: i64,
    make: fn(i64) -> Result<T, IdError>,
) -> Result<T, Issue> {
    let value = parse_positive(raw, name, max)?;
    make(value).map_err(|_| Issue::not_positive(at(name)))
}

fn segment<'a>(req: &'a HttpRequest, name: &str) -> &'a str {
    req.match_info().get(name).unwrap_or_default()
}

/// `{user_id}`: the user the route acts for.
pub struct UserPath(pub UserId);

impl UserPath {
    pub fn of(req: &HttpRequest) -> Result<Self, Vec<Issue>> {
        parse_id(segment(req, "user_id"), "user_id", UserId::MAX, UserId::new)
            .map(Self)
            .map_err(|issue| vec![issue])
    }
}

/// `{user_id}` and `{chat_id}`, with an issue for each that is wrong.
pub struct ChatPath(pub UserId, pub ChatId);

impl ChatPath {
    pub fn of(req: &HttpRequest) -> Result<Self, Vec<Issue>> {
        let user = parse_id(segment(req, "user_id"), "user_id", UserId::MAX, UserId::new);
        let chat = parse_id(segment(req, "chat_id"), "chat_id", ChatId::MAX, ChatId::new);
        match (user, chat) {
            (Ok(user), Ok(chat)) => Ok(Self(user, chat)),
            (user, chat) => Err([user.err(), chat.err()].into_iter().flatten().collect()),
        }
    }
}

/// `{user_id}`, `{chat_id}` and a third id (`{message_id}`, `{share_id}`) under the chat.
pub struct ChatItemPath<T>(pub UserId, pub ChatId, pub T);

impl ChatItemPath<MessageId> {
    pub fn message(req: &HttpRequest) -> Result<Self, Vec<Issue>> {
        Self::of(req, "message_id", i64::MAX, |n| Ok(MessageId::new(n)))
    }
}

impl ChatItemPath<i32> {
    pub fn share(req: &HttpRequest) -> Result<Self, Vec<Issue>> {
        Self::of(req, "share_id", i64::from(i32::MAX), |n| {
            i32::try_from(n).map_err(|_| IdError::NotPositive)
        })
    }
}

impl<T> ChatItemPath<T> {
    fn of(
        req: &HttpRequest,
        name: &'static str,
        max: i64,
        make: fn(i64) -> Result<T, IdError>,
    ) -> Result<Self, Vec<Issue>> {
        let chat = ChatPath::of(req);
        let item = parse_id(segment(req, name), name, max, make);
        match (chat, item) {
            (Ok(ChatPath(user, chat)), Ok(item)) => Ok(Self(user, chat, item)),
            (chat, item) => Err(chat
                .err()
                .unwrap_or_default()
                .into_iter()
                .chain(item.err())
                .collect()),
        }
    }
}

impl IntoParams for ChatItemPath<MessageId> {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let mut params = ChatPath::into_params(|| None);
        params.push(id_param("message_id", i64::MAX, "A message of that chat"));
        params
    }
}

impl IntoParams for ChatItemPath<i32> {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let mut params = ChatPath::into_params(|| None);
        params.push(id_param(
            "share_id",
            i64::from(i32::MAX),
            "The share of that chat",
        ));
        params
    }
}

/// An id in the path, as the document describes it.
fn id_param(name: &str, max: i64, description: &str) -> Parameter {
    let schema = ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(
            if max > i64::from(i32::MAX) {
                KnownFormat::Int64
            } else {
                KnownFormat::Int32
            },
        )))
        .minimum(Some(1))
        .maximum(Some(max));
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(description))
        .schema(Some(schema))
        .build()
}

fn user_param() -> Parameter {
    id_param("user_id", UserId::MAX, "The caller's user id")
}

impl IntoParams for UserPath {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![user_param()]
    }
}

impl IntoParams for ChatPath {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let chat = id_param("chat_id", ChatId::MAX, "One of the caller's chats");
        vec![user_param(), chat]
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;
    use crate::issue::PathSegment;

    fn code(raw: &str) -> Result<i32, (&'static str, Option<String>)> {
        parse_id(raw, "user_id", UserId::MAX, UserId::new)
            .map(UserId::get)
            .map_err(|i| (i.code, i.received))
    }

    #[test]
    fn plain_positive_decimals_are_ids() {
        assert_eq!(code("42"), Ok(42));
        assert_eq!(code("007"), Ok(7));
        assert_eq!(code("2147483647"), Ok(i32::MAX));
    }

    #[test]
    fn zero_and_negatives_are_too_small() {
        for raw in ["0", "-1", "-0", "000", "-99999999999999999999"] {
            assert_eq!(code(raw).map_err(|e| e.0), Err("too_small"), "{raw}");
        }
    }

    #[test]
    fn non_numbers_are_nan() {
        for raw in ["", "abc", "1e2", "0x10", "4.0", "+5", " 5", "5 ", "-", "١٢"] {
            assert_eq!(
                code(raw),
                Err(("invalid_type", Some("nan".to_owned()))),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn too_large_numbers_are_too_big() {
        for raw in ["2147483648", "99999999999999999999999999"] {
            assert_eq!(code(raw).map_err(|e| e.0), Err("too_big"), "{raw}");
        }
    }

    #[test]
    fn both_ids_are_reported() {
        let req = TestRequest::default()
            .param("user_id", "x")
            .param("chat_id", "0")
            .to_http_request();
        let Err(issues) = ChatPath::of(&req) else {
            panic!("both ids are wrong")
        };
        assert_eq!(issues.len(), 2);
        assert_eq!(issues[0].path, vec![PathSegment::Key("user_id")]);
        assert_eq!(issues[1].path, vec![PathSegment::Key("chat_id")]);
    }
}
