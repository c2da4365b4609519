//! Request and response bodies of the messages route, and their conversion to and from domain
//! types. The rules themselves live in the domain (`MessageText`, `MessageBatch`); this module
//! reads the JSON and names each broken rule as the contract does.

use chat_domain::{
    Actor, BatchSizeError, Chat, ChatId, ChatMessage, ChatName, MessageBatch, MessageLimits,
    MessageText, ModelName, NameError, NewMessage, TextViolation,
};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::issue::{Issue, Issues, Path, PathSegment};

const ACTORS: [&str; 3] = [
    Actor::ALL[0].as_str(),
    Actor::ALL[1].as_str(),
    Actor::ALL[2].as_str(),
];

/// Which of the two body shapes was sent: the answer has the same shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `{"message": "...", "actor": "..."}`
    Single,
    /// `{"messages": [{"content": "...", "role": "..."}, ...]}`
    Batch,
}

#[derive(Debug)]
pub struct PostMessagesBody {
    pub shape: Shape,
    pub batch: MessageBatch,
}

/// Validates a request body; every broken rule becomes its own issue.
pub fn parse_post_messages(
    value: Value,
    limits: &MessageLimits,
) -> Result<PostMessagesBody, ApiError> {
    let mut obj = match value {
        Value::Object(obj) => obj,
        other => {
            return Err(ApiError::invalid_body(vec![Issue::invalid_type(
                vec![],
                "object",
                &other,
            )]));
        }
    };
    let mut issues = Issues::default();
    let parsed = match obj.remove("messages") {
        Some(messages) => {
            if obj.contains_key("message") {
                issues.push(Issue::unrecognized_keys(vec![], vec!["message".to_owned()]));
            }
            parse_batch(messages, limits, &mut issues).map(|batch| PostMessagesBody {
                shape: Shape::Batch,
                batch,
            })
        }
        None => parse_message(&mut obj, "message", "actor", vec![], limits, &mut issues).map(
            |message| PostMessagesBody {
                shape: Shape::Single,
                batch: MessageBatch::single(message),
            },
        ),
    };
    match parsed {
        Some(body) if issues.is_empty() => Ok(body),
        _ => Err(ApiError::invalid_body(issues.into_vec())),
    }
}

fn parse_batch(
    messages: Value,
    limits: &MessageLimits,
    issues: &mut Issues,
) -> Option<MessageBatch> {
    let path = || vec![PathSegment::Key("messages")];
    let items = match messages {
        Value::Array(items) => items,
        other => {
            issues.push(Issue::invalid_type(path(), "array", &other));
            return None;
        }
    };
    if let Err(e) = MessageBatch::check_len(items.len(), limits) {
        issues.push(batch_size_issue(path(), e));
    }
    let mut parsed = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let item_path = vec![PathSegment::Key("messages"), PathSegment::Index(i)];
        match item {
            Value::Object(mut obj) => {
                if let Some(message) =
                    parse_message(&mut obj, "content", "role", item_path, limits, issues)
                {
                    parsed.push(message);
                }
            }
            other => issues.push(Issue::invalid_type(item_path, "object", &other)),
        }
    }
    MessageBatch::new(parsed, limits).ok()
}

/// Reads one message from `obj`: its text under `text_key`, its actor under `actor_key`.
fn parse_message(
    obj: &mut Map<String, Value>,
    text_key: &'static str,
    actor_key: &'static str,
    path: Path,
    limits: &MessageLimits,
    issues: &mut Issues,
) -> Option<NewMessage> {
    let at = |key| {
        let mut p = path.clone();
        p.push(PathSegment::Key(key));
        p
    };
    let text = parse_text(obj.remove(text_key), at(text_key), limits, issues);
    let actor = parse_actor(obj.remove(actor_key), at(actor_key), issues);
    Some(NewMessage {
        text: text?,
        actor: actor?,
    })
}

fn parse_text(
    value: Option<Value>,
    path: Path,
    limits: &MessageLimits,
    issues: &mut Issues,
) -> Option<MessageText> {
    match value {
        None => issues.push(Issue::required(path, "string")),
        Some(Value::String(s)) => match MessageText::new(s, limits) {
            Ok(text) => return Some(text),
            Err(e) => {
                for violation in e.violations {
                    issues.push(text_issue(path.clone(), violation));
                }
            }
        },
        Some(other) => issues.push(Issue::invalid_type(path, "string", &other)),
    }
    None
}

fn parse_actor(value: Option<Value>, path: Path, issues: &mut Issues) -> Option<Actor> {
    let expected = crate::issue::enum_list(&ACTORS);
    match value {
        None => issues.push(Issue::required(path, &expected)),
        Some(Value::String(s)) => match s.parse::<Actor>() {
            Ok(actor) => return Some(actor),
            Err(_) => issues.push(Issue::invalid_enum_value(path, &ACTORS, &s)),
        },
        Some(other) => issues.push(Issue::invalid_type(path, &expected, &other)),
    }
    None
}

fn text_issue(path: Path, violation: TextViolation) -> Issue {
    match violation {
        TextViolation::Blank => Issue::too_small(
            path,
            "string",
            1,
            "String must contain at least 1 character(s)".to_owned(),
        ),
        TextViolation::TooLong { max } => Issue::too_big(
            path,
            "string",
            max as u64,
            format!("String must contain at most {max} character(s)"),
        ),
        TextViolation::ContainsNul => {
            Issue::invalid_string(path, "Text must not contain NUL characters")
        }
    }
}

fn batch_size_issue(path: Path, e: BatchSizeError) -> Issue {
    match e {
        BatchSizeError::Empty => Issue::too_small(
            path,
            "array",
            1,
            "Array must contain at least 1 element(s)".to_owned(),
        ),
        BatchSizeError::TooMany { max } => Issue::too_big(
            path,
            "array",
            max as u64,
            format!("Array must contain at most {max} element(s)"),
        ),
    }
}

/// The body of `POST .../chats`: `{"name": string, "model": string}`.
pub fn parse_new_chat(value: Value) -> Result<(ChatName, ModelName), ApiError> {
    const INVALID: &str = "Bad Request. Invalid body(model, name).";
    let mut obj = object(value, INVALID)?;
    let mut issues = Issues::default();
    let name = name_field(
        &mut obj,
        "name",
        ChatName::new,
        ChatName::MAX_CHARS,
        &mut issues,
    );
    let model = name_field(
        &mut obj,
        "model",
        ModelName::new,
        ModelName::MAX_CHARS,
        &mut issues,
    );
    match (name, model) {
        (Some(name), Some(model)) if issues.is_empty() => Ok((name, model)),
        _ => Err(ApiError::with_issues(
            actix_web::http::StatusCode::BAD_REQUEST,
            INVALID,
            issues.into_vec(),
        )),
    }
}

/// The body of `PATCH .../chats/{chat_id}`: `{"name": string}`.
pub fn parse_rename(value: Value) -> Result<ChatName, ApiError> {
    const INVALID: &str = "Bad Request. Invalid body(name).";
    let mut obj = object(value, INVALID)?;
    let mut issues = Issues::default();
    name_field(
        &mut obj,
        "name",
        ChatName::new,
        ChatName::MAX_CHARS,
        &mut issues,
    )
    .filter(|_| issues.is_empty())
    .ok_or_else(|| {
        ApiError::with_issues(
            actix_web::http::StatusCode::BAD_REQUEST,
            INVALID,
            issues.into_vec(),
        )
    })
}

/// The most chat ids one bulk delete may name.
pub const MAX_CHAT_IDS: usize = 1000;

/// The body of `DELETE .../chats`: `{"chat_ids": [int, ...]}` (at most 1000).
pub fn parse_chat_ids(value: Value) -> Result<Vec<ChatId>, ApiError> {
    const INVALID: &str = "Bad Request. Invalid body(chat_ids).";
    let mut obj = object(value, INVALID)?;
    let mut issues = Issues::default();
    let path = || vec![PathSegment::Key("chat_ids")];
    let ids = match obj.remove("chat_ids") {
        None => {
            issues.push(Issue::required(path(), "array"));
            Vec::new()
        }
        Some(Value::Array(items)) => {
            if items.len() > MAX_CHAT_IDS {
                issues.push(Issue::too_big(
                    path(),
                    "array",
                    MAX_CHAT_IDS as u64,
                    format!("Array must contain at most {MAX_CHAT_IDS} element(s)"),
                ));
            }
            let mut ids = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let item_path = vec![PathSegment::Key("chat_ids"), PathSegment::Index(i)];
                match item.as_i64().map(ChatId::new) {
                    Some(Ok(id)) => ids.push(id),
                    Some(Err(_)) => issues.push(Issue::not_positive(item_path)),
                    None => issues.push(Issue::invalid_type(item_path, "number", item)),
                }
            }
            ids
        }
        Some(other) => {
            issues.push(Issue::invalid_type(path(), "array", &other));
            Vec::new()
        }
    };
    if issues.is_empty() {
        Ok(ids)
    } else {
        Err(ApiError::with_issues(
            actix_web::http::StatusCode::BAD_REQUEST,
            INVALID,
            issues.into_vec(),
        ))
    }
}

fn object(value: Value, invalid: &str) -> Result<Map<String, Value>, ApiError> {
    match value {
        Value::Object(obj) => Ok(obj),
        other => Err(ApiError::with_issues(
            actix_web::http::StatusCode::BAD_REQUEST,
            invalid,
            vec![Issue::invalid_type(vec![], "object", &other)],
        )),
    }
}

/// A trimmed name field, checked by the domain's constructor `make`.
fn name_field<T>(
    obj: &mut Map<String, Value>,
    key: &'static str,
    make: fn(&str) -> Result<T, NameError>,
    max: usize,
    issues: &mut Issues,
) -> Option<T> {
    let path = || vec![PathSegment::Key(key)];
    match obj.remove(key) {
        None => issues.push(Issue::required(path(), "string")),
        Some(Value::String(s)) => match make(&s) {
            Ok(name) => return Some(name),
            Err(NameError::Blank) => issues.push(Issue::too_small(
                path(),
                "string",
                1,
                "String must contain at least 1 character(s)".to_owned(),
            )),
            Err(NameError::TooLong { .. }) => issues.push(Issue::too_big(
                path(),
                "string",
                max as u64,
                format!("String must contain at most {max} character(s)"),
            )),
        },
        Some(other) => issues.push(Issue::invalid_type(path(), "string", &other)),
    }
    None
}

/// A chat as the app returns it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Chat)]
pub struct ChatDto {
    pub id: i32,
    pub name: String,
    pub model: String,
    pub neptun_user_id: i32,
    /// UTC, as JavaScript's `toISOString` writes it.
    #[schema(format = DateTime, example = "2024-03-20T10:00:00.000Z")]
    pub created_at: String,
    #[schema(format = DateTime, example = "2024-03-20T10:00:00.000Z")]
    pub updated_at: String,
}

impl From<Chat> for ChatDto {
    fn from(c: Chat) -> Self {
        Self {
            id: c.id.get(),
            name: c.name,
            model: c.model,
            neptun_user_id: c.owner.get(),
            created_at: js_iso(c.created_at),
            updated_at: js_iso(c.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChatResponse {
    pub chat: ChatDto,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChatListResponse {
    pub chats: Vec<ChatDto>,
    pub has_more: bool,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeletedResponse {
    pub deleted: u64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageListResponse {
    pub chat_messages: Vec<ChatMessageDto>,
    #[serde(rename = "has_more")]
    pub has_more: bool,
    /// Pass as `after` (ascending) or `before` (descending) for the next page.
    #[serde(rename = "next_cursor")]
    pub next_cursor: Option<i64>,
}

/// A stored message as the app returns it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ChatMessage)]
pub struct ChatMessageDto {
    pub id: i64,
    pub chat_conversation_id: i32,
    pub neptun_user_id: i32,
    pub message: String,
    #[schema(value_type = crate::openapi::ActorName)]
    pub actor: &'static str,
    /// UTC, as JavaScript's `toISOString` writes it; the same for every message of one request.
    #[schema(format = DateTime, example = "2024-03-20T10:00:00.000Z")]
    pub created_at: String,
    #[schema(format = DateTime, example = "2024-03-20T10:00:00.000Z")]
    pub updated_at: String,
}

impl From<ChatMessage> for ChatMessageDto {
    fn from(m: ChatMessage) -> Self {
        Self {
            id: m.id.get(),
            chat_conversation_id: m.chat_id.get(),
            neptun_user_id: m.user_id.get(),
            message: m.text,
            actor: m.actor.as_str(),
            created_at: js_iso(m.created_at),
            updated_at: js_iso(m.updated_at),
        }
    }
}

/// As JavaScript's `Date.prototype.toISOString` writes it: `2024-03-20T10:00:00.000Z`.
pub fn js_iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SingleMessageResponse {
    pub chat_message: ChatMessageDto,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BatchMessagesResponse {
    pub chat_messages: Vec<ChatMessageDto>,
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;

    fn issues_of(body: Value) -> Value {
        let err = parse_post_messages(body, &MessageLimits::default()).unwrap_err();
        let res = actix_web::ResponseError::error_response(&err);
        assert_eq!(res.status(), 400);
        let body = actix_web::body::to_bytes(res.into_body());
        let bytes = futures_util::FutureExt::now_or_never(body)
            .unwrap()
            .unwrap();
        serde_json::from_slice::<Value>(&bytes).unwrap()["data"]["issues"].clone()
    }

    #[test]
    fn both_shapes_become_one_batch() {
        let l = MessageLimits::default();
        let single = parse_post_messages(json!({"message": "hi", "actor": "user"}), &l).unwrap();
        assert_eq!(single.shape, Shape::Single);
        assert_eq!(single.batch.len(), 1);
        let batch = parse_post_messages(
            json!({"messages": [{"content": "q", "role": "user"},
                                {"content": "a", "role": "assistant"}], "x": 1}),
            &l,
        )
        .unwrap();
        assert_eq!(batch.shape, Shape::Batch);
        let texts: Vec<_> = batch
            .batch
            .messages()
            .iter()
            .map(|m| m.text.as_str())
            .collect();
        assert_eq!(texts, ["q", "a"]);
    }

    #[test]
    fn every_issue_is_reported_with_its_path() {
        let issues = issues_of(json!({"messages": [
            {"content": "ok", "role": "user"},
            {"content": 5, "role": "bot"},
            {},
            "x",
        ]}));
        let summary: Vec<(String, Value)> = issues
            .as_array()
            .unwrap()
            .iter()
            .map(|i| (i["code"].as_str().unwrap().to_owned(), i["path"].clone()))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("invalid_type".into(), json!(["messages", 1, "content"])),
                ("invalid_enum_value".into(), json!(["messages", 1, "role"])),
                ("invalid_type".into(), json!(["messages", 2, "content"])),
                ("invalid_type".into(), json!(["messages", 2, "role"])),
                ("invalid_type".into(), json!(["messages", 3])),
            ]
        );
        assert_eq!(issues[0]["message"], "Expected string, received number");
        assert_eq!(issues[3]["expected"], "'user' | 'assistant' | 'system'");
    }

    #[test]
    fn both_keys_is_an_unrecognized_key() {
        let issues =
            issues_of(json!({"message": "a", "messages": [{"content": "b", "role": "user"}]}));
        assert_eq!(issues[0]["code"], "unrecognized_keys");
        assert_eq!(issues[0]["keys"], json!(["message"]));
    }

    #[test]
    fn body_must_be_an_object() {
        for body in [json!(null), json!([]), json!("x"), json!(1)] {
            let issues = issues_of(body);
            assert_eq!(issues[0]["code"], "invalid_type");
            assert_eq!(issues[0]["expected"], "object");
        }
    }

    #[test]
    fn chat_bodies_are_checked_by_the_domains_rules() {
        let (name, model) = parse_new_chat(json!({"name": "  Plans ", "model": "llama3"})).unwrap();
        assert_eq!((name.as_str(), model.as_str()), ("Plans", "llama3"));
        assert!(parse_new_chat(json!({"name": " ", "model": ""})).is_err());
        assert!(parse_rename(json!({"name": "x".repeat(201)})).is_err());
        let ids = parse_chat_ids(json!({"chat_ids": [1, 2]})).unwrap();
        assert_eq!(ids.iter().map(|c| c.get()).collect::<Vec<_>>(), [1, 2]);
        for bad in [
            json!({}),
            json!({"chat_ids": [0]}),
            json!({"chat_ids": ["1"]}),
            json!([]),
        ] {
            assert!(parse_chat_ids(bad).is_err());
        }
    }

    #[test]
    fn timestamps_are_written_as_javascript_does() {
        let t = Utc.with_ymd_and_hms(2024, 3, 20, 10, 0, 0).unwrap();
        assert_eq!(js_iso(t), "2024-03-20T10:00:00.000Z");
        let t = t + chrono::Duration::microseconds(123_456);
        assert_eq!(js_iso(t), "2024-03-20T10:00:00.123Z");
    }
}
