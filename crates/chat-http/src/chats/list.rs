//! The query of `GET .../chats`: `order_by`, `limit`, `cursor`; parsed and documented here,
//! with the cursor's encoding.

use actix_web::HttpRequest;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chat_domain::{
    ChatCursor, ChatId, ChatListQuery, ChatOrder, ChatSortField, Direction, PageLimit, SortKey,
};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use utoipa::IntoParams;
use utoipa::openapi::path::{Parameter, ParameterIn};
use utoipa::openapi::{ObjectBuilder, Type};

use crate::HttpSettings;
use crate::error::ApiError;
use crate::issue::{Issue, Issues, at};
use crate::query::{Params, limit, limit_param, param};

pub const INVALID_CHAT_QUERY: &str =
    "Bad Request. Invalid query parameters(order_by | limit | cursor).";

/// The parsed query; the document's description of it is its `IntoParams`.
pub struct ChatListParams {
    pub query: ChatListQuery,
    /// Whether the client asked for a page size (else the whole list, up to the ceiling).
    limit_given: bool,
}

impl ChatListParams {
    pub fn of(req: &HttpRequest) -> Result<Self, ApiError> {
        let params = Params::of(req)?;
        let mut issues = Issues::default();
        let order = match params.get("order_by") {
            None => Some(ChatOrder::default()),
            Some(raw) => raw
                .parse::<ChatOrder>()
                .map_err(|e| issues.push(Issue::invalid_string(at("order_by"), &e.to_string())))
                .ok(),
        };
        let ceiling = HttpSettings::of(req).read_ceiling;
        let limit = limit(
            params.get("limit"),
            ceiling,
            PageLimit::CHATS_MAX,
            &mut issues,
        );
        let after = match (params.get("cursor"), &order) {
            (Some(raw), Some(order)) => cursor(raw, order, &mut issues),
            _ => None,
        };
        match (order, limit) {
            (Some(order), Some(limit)) if issues.is_empty() => Ok(Self {
                query: ChatListQuery {
                    order,
                    limit,
                    after,
                },
                limit_given: params.get("limit").is_some(),
            }),
            _ => Err(ApiError::bad_request(INVALID_CHAT_QUERY, issues.into_vec())),
        }
    }

    /// The query string of the next page, for a `Link` to it.
    pub fn next_query(&self, cursor: String) -> Vec<(&'static str, String)> {
        let mut params = vec![("order_by", self.query.order.to_string())];
        if self.limit_given {
            params.push(("limit", self.query.limit.get().to_string()));
        }
        params.push(("cursor", cursor));
        params
    }
}

/// The cursor `raw`, if it is one this service made for `order`.
fn cursor(raw: &str, order: &ChatOrder, issues: &mut Issues) -> Option<ChatCursor> {
    match decode_cursor(raw) {
        Some(cursor) if &cursor.order == order => Some(cursor),
        Some(_) => {
            let message = "The cursor belongs to another order_by";
            issues.push(Issue::invalid_string(at("cursor"), message));
            None
        }
        None => {
            issues.push(Issue::invalid_string(at("cursor"), "Invalid cursor"));
            None
        }
    }
}

impl IntoParams for ChatListParams {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let names = |all: &[&str]| all.join("|");
        let fields = ChatSortField::ALL.map(ChatSortField::as_str);
        let directions = [Direction::Asc, Direction::Desc].map(Direction::as_str);
        let pair = format!("({}):({})", names(&fields), names(&directions));
        let pattern = format!("^{pair}(,{pair})*$");
        let order_by = ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(pattern));
        let default = ChatOrder::default();
        vec![
            param(
                "order_by",
                order_by,
                &format!(
                    "column:direction pairs, comma-separated, most significant first; \
                     default {default}"
                ),
            ),
            limit_param(PageLimit::CHATS_MAX),
            param(
                "cursor",
                ObjectBuilder::new().schema_type(Type::String),
                "next_cursor of the previous page",
            ),
        ]
    }
}

/// A cursor as clients see it: opaque base64url of `{"o": order, "k": [key, ...], "i": id}`.
pub fn encode_cursor(cursor: &ChatCursor) -> String {
    let keys: Vec<Value> = cursor.keys.iter().map(encode_key).collect();
    let body = json!({"o": cursor.order.to_string(), "k": keys, "i": cursor.id.get()});
    B64.encode(body.to_string())
}

fn encode_key(key: &SortKey) -> Value {
    match key {
        SortKey::Id => Value::Null,
        SortKey::Text(text) => json!(text),
        // Full precision: a page boundary between rows of the same millisecond must hold.
        SortKey::Time(t) => json!(t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
    }
}

/// The cursor `raw` encodes, if it is one this service made (and fits its order).
pub fn decode_cursor(raw: &str) -> Option<ChatCursor> {
    let bytes = B64.decode(raw).ok()?;
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    let order: ChatOrder = value.get("o")?.as_str()?.parse().ok()?;
    let id = ChatId::new(value.get("i")?.as_i64()?).ok()?;
    let raw_keys = value.get("k")?.as_array()?;
    let keys = order
        .keys()
        .iter()
        .zip(raw_keys)
        .map(|(sort, key)| decode_key(sort.field, key))
        .collect::<Option<Vec<_>>>()?;
    let cursor = ChatCursor { order, keys, id };
    (raw_keys.len() == cursor.keys.len() && cursor.fits()).then_some(cursor)
}

fn decode_key(field: ChatSortField, key: &Value) -> Option<SortKey> {
    Some(match field {
        ChatSortField::Id => SortKey::Id,
        // A NUL cannot be in a stored name (PostgreSQL refuses it): no cursor of ours has one.
        ChatSortField::Name | ChatSortField::Model => {
            SortKey::Text(key.as_str().filter(|k| !k.contains('\0'))?.to_owned())
        }
        ChatSortField::CreatedAt | ChatSortField::UpdatedAt => SortKey::Time(
            DateTime::parse_from_rfc3339(key.as_str()?)
                .ok()?
                .with_timezone(&Utc),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_forgeries() {
        let t = DateTime::parse_from_rfc3339("2024-03-20T10:00:00.123456Z")
            .unwrap()
            .with_timezone(&Utc);
        for (order, keys) in [
            ("updated_at:desc", vec![SortKey::Time(t)]),
            ("name:asc", vec![SortKey::Text("Plans 🗓".into())]),
            ("id:desc", vec![SortKey::Id]),
            (
                "updated_at:asc,name:desc",
                vec![SortKey::Time(t), SortKey::Text("b".into())],
            ),
        ] {
            let cursor = ChatCursor {
                order: order.parse().unwrap(),
                keys,
                id: ChatId::new(7).unwrap(),
            };
            assert_eq!(decode_cursor(&encode_cursor(&cursor)), Some(cursor));
        }
        for bad in [
            "",
            "!!",
            "e30",
            &B64.encode(r#"{"o":"name:asc","k":[5],"i":1}"#),
            &B64.encode(r#"{"o":"name:asc","k":"a","i":1}"#),
            &B64.encode(r#"{"o":"name:asc,id:asc","k":["a"],"i":1}"#),
            &B64.encode(r#"{"o":"name:asc","k":["a\u0000"],"i":1}"#),
        ] {
            assert_eq!(decode_cursor(bad), None, "{bad}");
        }
    }
}
