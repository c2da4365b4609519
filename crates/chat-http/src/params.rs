//! Route parameters: positive integers written in plain decimal, at most 2147483647.

use chat_domain::{ChatId, IdError, UserId};

use crate::issue::{Issue, Path, PathSegment};

/// Parses a positive integer as the contract reads ids: `42` is one; `0` and negatives are too
/// small; above `max` too big; anything that is not an optionally signed run of ASCII digits
/// (`1e2`, `0x10`, `4.0`, `abc`, the empty string) is not a number at all.
pub fn parse_positive(raw: &str, name: &'static str, max: i64) -> Result<i64, Issue> {
    let path = || -> Path { vec![PathSegment::Key(name)] };
    let digits = raw.strip_prefix('-').unwrap_or(raw);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Issue::invalid_type_named(path(), "number", "nan"));
    }
    if raw.starts_with('-') || digits.bytes().all(|b| b == b'0') {
        return Err(Issue::not_positive(path()));
    }
    match digits.parse::<i64>() {
        Ok(value) if value <= max => Ok(value),
        // Digits only and not zero: what is left is a number too large.
        _ => Err(Issue::too_big(
            path(),
            "number",
            max.unsigned_abs(),
            format!("Number must be less than or equal to {max}"),
        )),
    }
}

/// One id segment; `make` is the id's own validating constructor (it cannot fail on a value
/// `parse_positive` let through, but the type says what it checks).
fn parse_id<T>(
    raw: &str,
    name: &'static str,
    make: fn(i64) -> Result<T, IdError>,
) -> Result<T, Issue> {
    let value = parse_positive(raw, name, UserId::MAX)?;
    make(value).map_err(|_| Issue::not_positive(vec![PathSegment::Key(name)]))
}

/// The user id of a user route.
pub fn user_route(user_id: &str) -> Result<UserId, Vec<Issue>> {
    parse_id(user_id, "user_id", UserId::new).map_err(|issue| vec![issue])
}

/// Both ids of a chat route, with an issue for each that is wrong.
pub fn chat_route(user_id: &str, chat_id: &str) -> Result<(UserId, ChatId), Vec<Issue>> {
    match (
        parse_id(user_id, "user_id", UserId::new),
        parse_id(chat_id, "chat_id", ChatId::new),
    ) {
        (Ok(user), Ok(chat)) => Ok((user, chat)),
        (user, chat) => Err([user.err(), chat.err()].into_iter().flatten().collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issue::Detail;

    fn code(raw: &str) -> Result<i32, (&'static str, Option<String>)> {
        parse_id(raw, "user_id", UserId::new)
            .map(UserId::get)
            .map_err(|i| match i.detail {
                Detail::Type { received, .. } => (i.code, Some(received)),
                _ => (i.code, None),
            })
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
        let issues = chat_route("x", "0").unwrap_err();
        assert_eq!(issues.len(), 2);
        assert_eq!(issues[0].path, vec![PathSegment::Key("user_id")]);
        assert_eq!(issues[1].path, vec![PathSegment::Key("chat_id")]);
    }
}
