//! Query-string parameters of the list routes, with the same zod-shaped issues as bodies.

use actix_web::HttpRequest;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chat_domain::{
    ChatCursor, ChatId, ChatListQuery, ChatOrder, ChatSortField, Direction, MessageId,
    MessageListQuery, PageLimit, PageLimitError, SortKey,
};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::issue::{Issue, Issues, PathSegment};
use crate::params::parse_positive;

pub const INVALID_CHAT_QUERY: &str =
    "Bad Request. Invalid query parameters(order_by | limit | cursor).";
pub const INVALID_MESSAGE_QUERY: &str =
    "Bad Request. Invalid query parameters(limit | after | before | order).";

/// The query string's parameters; the first of a repeated name wins, unknown names are ignored.
struct Params(Vec<(String, String)>);

impl Params {
    fn of(req: &HttpRequest) -> Result<Self, ApiError> {
        serde_urlencoded::from_str(req.query_string())
            .map(Self)
            .map_err(|_| ApiError::for_status(actix_web::http::StatusCode::BAD_REQUEST))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn limit(raw: Option<&str>, default: usize, max: usize, issues: &mut Issues) -> Option<PageLimit> {
    let path = || vec![PathSegment::Key("limit")];
    let Some(raw) = raw else {
        return PageLimit::new(default as u64, max).ok();
    };
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        issues.push(Issue::invalid_type_named(path(), "number", "nan"));
        return None;
    }
    // All digits: only a number too large for u64 fails to parse, and that is too big too.
    let value = raw.parse::<u64>().unwrap_or(u64::MAX);
    match PageLimit::new(value, max) {
        Ok(limit) => Some(limit),
        Err(PageLimitError::TooSmall) => {
            issues.push(Issue::too_small(
                path(),
                "number",
                1,
                "Number must be greater than or equal to 1".to_owned(),
            ));
            None
        }
        Err(PageLimitError::TooBig { max }) => {
            issues.push(Issue::too_big(
                path(),
                "number",
                max as u64,
                format!("Number must be less than or equal to {max}"),
            ));
            None
        }
    }
}

/// `order_by`, `limit` (default 50, at most 200) and `cursor` of `GET .../chats`.
pub fn chat_list_query(req: &HttpRequest) -> Result<ChatListQuery, ApiError> {
    let params = Params::of(req)?;
    let mut issues = Issues::default();
    let order = match params.get("order_by") {
        None => Some(ChatOrder::default()),
        Some(raw) => raw
            .parse::<ChatOrder>()
            .map_err(|e| {
                issues.push(Issue::invalid_string(
                    vec![PathSegment::Key("order_by")],
                    &e.to_string(),
                ))
            })
            .ok(),
    };
    let limit = limit(
        params.get("limit"),
        PageLimit::CHATS_DEFAULT,
        PageLimit::CHATS_MAX,
        &mut issues,
    );
    let after = match (params.get("cursor"), order) {
        (Some(raw), Some(order)) => match decode_cursor(raw) {
            Some(cursor) if cursor.order == order => Some(cursor),
            Some(_) => {
                issues.push(Issue::invalid_string(
                    vec![PathSegment::Key("cursor")],
                    "The cursor belongs to another order_by",
                ));
                None
            }
            None => {
                issues.push(Issue::invalid_string(
                    vec![PathSegment::Key("cursor")],
                    "Invalid cursor",
                ));
                None
            }
        },
        _ => None,
    };
    match (order, limit) {
        (Some(order), Some(limit)) if issues.is_empty() => Ok(ChatListQuery {
            order,
            limit,
            after,
        }),
        _ => Err(ApiError::with_issues(
            actix_web::http::StatusCode::BAD_REQUEST,
            INVALID_CHAT_QUERY,
            issues.into_vec(),
        )),
    }
}

/// `limit` (default 100, at most 1000), `after`, `before` and `order` of `GET .../messages`.
pub fn message_list_query(req: &HttpRequest) -> Result<MessageListQuery, ApiError> {
    let params = Params::of(req)?;
    let mut issues = Issues::default();
    let limit = limit(
        params.get("limit"),
        PageLimit::MESSAGES_DEFAULT,
        PageLimit::MESSAGES_MAX,
        &mut issues,
    );
    let mut bound = |name: &'static str| -> Option<MessageId> {
        let raw = params.get(name)?;
        match parse_positive(raw, name, i64::MAX) {
            Ok(id) => Some(MessageId::new(id)),
            Err(issue) => {
                issues.push(issue);
                None
            }
        }
    };
    let after = bound("after");
    let before = bound("before");
    let direction = match params.get("order") {
        None => Some(Direction::Asc),
        Some(raw) => raw
            .parse::<Direction>()
            .map_err(|()| {
                issues.push(Issue::invalid_enum_value(
                    vec![PathSegment::Key("order")],
                    &["asc", "desc"],
                    raw,
                ))
            })
            .ok(),
    };
    match (limit, direction) {
        (Some(limit), Some(direction)) if issues.is_empty() => Ok(MessageListQuery {
            after,
            before,
            direction,
            limit,
        }),
        _ => Err(ApiError::with_issues(
            actix_web::http::StatusCode::BAD_REQUEST,
            INVALID_MESSAGE_QUERY,
            issues.into_vec(),
        )),
    }
}

/// A cursor as clients see it: opaque base64url of `{"o": order, "k": key, "i": id}`.
pub fn encode_cursor(cursor: &ChatCursor) -> String {
    let key = match &cursor.key {
        SortKey::Id => Value::Null,
        SortKey::Text(text) => json!(text),
        // Full precision: a page boundary between rows of the same millisecond must hold.
        SortKey::Time(t) => json!(t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
    };
    let body = json!({"o": cursor.order.to_string(), "k": key, "i": cursor.id.get()});
    B64.encode(body.to_string())
}

/// The cursor `raw` encodes, if it is one this service made (and fits its order).
pub fn decode_cursor(raw: &str) -> Option<ChatCursor> {
    let bytes = B64.decode(raw).ok()?;
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    let order: ChatOrder = value.get("o")?.as_str()?.parse().ok()?;
    let id = ChatId::new(value.get("i")?.as_i64()?).ok()?;
    let key = value.get("k")?;
    let key = match order.field {
        ChatSortField::Id => SortKey::Id,
        ChatSortField::Name | ChatSortField::Model => SortKey::Text(key.as_str()?.to_owned()),
        ChatSortField::CreatedAt | ChatSortField::UpdatedAt => SortKey::Time(
            DateTime::parse_from_rfc3339(key.as_str()?)
                .ok()?
                .with_timezone(&Utc),
        ),
    };
    let cursor = ChatCursor { order, key, id };
    cursor.fits().then_some(cursor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_forgeries() {
        let t = DateTime::parse_from_rfc3339("2024-03-20T10:00:00.123456Z")
            .unwrap()
            .with_timezone(&Utc);
        for (order, key) in [
            ("updated_at:desc", SortKey::Time(t)),
            ("name:asc", SortKey::Text("Plans 🗓".into())),
            ("id:desc", SortKey::Id),
        ] {
            let cursor = ChatCursor {
                order: order.parse().unwrap(),
                key,
                id: ChatId::new(7).unwrap(),
            };
            assert_eq!(decode_cursor(&encode_cursor(&cursor)), Some(cursor));
        }
        for bad in [
            "",
            "!!",
            "e30",
            &B64.encode(r#"{"o":"name:asc","k":5,"i":1}"#),
        ] {
            assert_eq!(decode_cursor(bad), None, "{bad}");
        }
    }
}
