//! The bodies of the chat routes: create (`{"name", "model"}`), rename (`{"name"}`), delete
//! many (`{"chat_ids"}`). Parsed here into the domain's types, every broken rule its own
//! issue, and described here for the document with the domain's limits.

use chat_domain::{ChatId, ChatName, ChatSelection, ModelName, NameError};
use serde_json::{Map, Value};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{KnownFormat, RefOr, SchemaFormat};
use utoipa::{PartialSchema, ToSchema};

use crate::body::object;
use crate::error::{ApiError, INVALID_NEW_CHAT};
use crate::issue::{Issue, Issues, PathSegment, at};
use crate::schema::{array, object as object_schema, string};

/// A trimmed name field, checked by the domain's constructor `make`.
fn name_field<T>(
    obj: &mut Map<String, Value>,
    key: &'static str,
    make: fn(&str) -> Result<T, NameError>,
    issues: &mut Issues,
) -> Option<T> {
    match obj.remove(key) {
        None => issues.push(Issue::required(at(key), "string")),
        Some(Value::String(s)) => match make(&s) {
            Ok(name) => return Some(name),
            Err(NameError::Blank) => issues.push(Issue::string_too_short(at(key), 1)),
            Err(NameError::TooLong { max }) => issues.push(Issue::string_too_long(at(key), max)),
            Err(NameError::ContainsNul) => issues.push(Issue::contains_nul(at(key))),
        },
        Some(other) => issues.push(Issue::invalid_type(at(key), "string", &other)),
    }
    None
}

fn chat_name_schema() -> RefOr<Schema> {
    let doc = format!("Trimmed; 1 to {} characters.", ChatName::MAX_CHARS);
    string(1, Some(ChatName::MAX_CHARS), Some(&doc))
}

/// The body of `POST .../chats`.
pub struct NewChatRequest {
    pub name: ChatName,
    pub model: ModelName,
}

impl NewChatRequest {
    const INVALID: &str = INVALID_NEW_CHAT;

    pub fn parse(value: Value) -> Result<Self, ApiError> {
        let mut obj = object(value, Self::INVALID)?;
        let mut issues = Issues::default();
        let name = name_field(&mut obj, "name", ChatName::new, &mut issues);
        let model = name_field(&mut obj, "model", ModelName::new, &mut issues);
        match (name, model) {
            (Some(name), Some(model)) if issues.is_empty() => Ok(Self { name, model }),
            _ => Err(ApiError::bad_request(Self::INVALID, issues.into_vec())),
        }
    }
}

impl PartialSchema for NewChatRequest {
    fn schema() -> RefOr<Schema> {
        let model_doc = format!("Trimmed; 1 to {} characters.", ModelName::MAX_CHARS);
        let model = string(1, Some(ModelName::MAX_CHARS), Some(&model_doc));
        object_schema(None, [("name", chat_name_schema()), ("model", model)])
    }
}

impl ToSchema for NewChatRequest {}

/// The body of `PATCH .../chats/{chat_id}`.
pub struct RenameChatRequest {
    pub name: ChatName,
}

impl RenameChatRequest {
    const INVALID: &str = "Bad Request. Invalid body(name).";

    pub fn parse(value: Value) -> Result<Self, ApiError> {
        let mut obj = object(value, Self::INVALID)?;
        let mut issues = Issues::default();
        name_field(&mut obj, "name", ChatName::new, &mut issues)
            .filter(|_| issues.is_empty())
            .map(|name| Self { name })
            .ok_or_else(|| ApiError::bad_request(Self::INVALID, issues.into_vec()))
    }
}

impl PartialSchema for RenameChatRequest {
    fn schema() -> RefOr<Schema> {
        object_schema(None, [("name", chat_name_schema())])
    }
}

impl ToSchema for RenameChatRequest {}

/// The body of `DELETE .../chats`.
pub struct ChatIdsRequest(pub ChatSelection);

impl ChatIdsRequest {
    const INVALID: &str = "Bad Request. Invalid body(chat_ids).";

    pub fn parse(value: Value) -> Result<Self, ApiError> {
        let mut obj = object(value, Self::INVALID)?;
        let mut issues = Issues::default();
        let ids = match obj.remove("chat_ids") {
            None => {
                issues.push(Issue::required(at("chat_ids"), "array"));
                Vec::new()
            }
            Some(Value::Array(items)) => chat_ids(&items, &mut issues),
            Some(other) => {
                issues.push(Issue::invalid_type(at("chat_ids"), "array", &other));
                Vec::new()
            }
        };
        match ChatSelection::new(ids) {
            Ok(selection) if issues.is_empty() => Ok(Self(selection)),
            _ => Err(ApiError::bad_request(Self::INVALID, issues.into_vec())),
        }
    }
}

fn chat_ids(items: &[Value], issues: &mut Issues) -> Vec<ChatId> {
    if let Err(e) = ChatSelection::check_len(items.len()) {
        issues.push(Issue::array_too_long(at("chat_ids"), e.max));
    }
    let mut ids = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let path = vec![PathSegment::Key("chat_ids"), PathSegment::Index(i)];
        match item.as_i64().map(ChatId::new) {
            Some(Ok(id)) => ids.push(id),
            Some(Err(_)) => issues.push(Issue::not_positive(path)),
            None => issues.push(Issue::invalid_type(path, "number", item)),
        }
    }
    ids
}

impl PartialSchema for ChatIdsRequest {
    fn schema() -> RefOr<Schema> {
        let id = ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)));
        let doc = format!(
            "At most {} ids; chats that are not the caller's are left alone.",
            ChatSelection::MAX
        );
        let ids = array(id, None, Some(ChatSelection::MAX), Some(&doc));
        object_schema(None, [("chat_ids", ids)])
    }
}

impl ToSchema for ChatIdsRequest {}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn chat_bodies_are_checked_by_the_domains_rules() {
        let new = NewChatRequest::parse(json!({"name": "  Plans ", "model": "llama3"})).unwrap();
        assert_eq!((new.name.as_str(), new.model.as_str()), ("Plans", "llama3"));
        assert!(NewChatRequest::parse(json!({"name": " ", "model": ""})).is_err());
        assert!(RenameChatRequest::parse(json!({"name": "x".repeat(201)})).is_err());
        let ChatIdsRequest(ids) = ChatIdsRequest::parse(json!({"chat_ids": [1, 2]})).unwrap();
        assert_eq!(
            ids.ids().iter().map(|c| c.get()).collect::<Vec<_>>(),
            [1, 2]
        );
        for bad in [
            json!({}),
            json!({"chat_ids": [0]}),
            json!({"chat_ids": ["1"]}),
            json!([]),
        ] {
            assert!(ChatIdsRequest::parse(bad).is_err());
        }
    }
}
