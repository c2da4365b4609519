//! Request and response bodies of the messages route, and their conversion to and from domain
//! types. The rules themselves live in the domain (`MessageText`, `MessageBatch`); this module
//! reads the JSON and names each broken rule as the contract does.

use chat_domain::{
    Actor, BatchSizeError, ChatMessage, MessageBatch, MessageLimits, MessageText, NewMessage,
    TextViolation,
};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

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

/// Parses and validates a request body; every broken rule becomes its own issue.
pub fn parse_post_messages(
    body: &[u8],
    limits: &MessageLimits,
) -> Result<PostMessagesBody, ApiError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| ApiError::invalid_json(e.to_string()))?;
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

/// A stored message as the app returns it.
#[derive(Debug, Serialize)]
pub struct ChatMessageDto {
    pub id: i64,
    pub chat_conversation_id: i32,
    pub neptun_user_id: i32,
    pub message: String,
    pub actor: &'static str,
    pub created_at: String,
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

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SingleMessageResponse {
    pub chat_message: ChatMessageDto,
}

#[derive(Debug, Serialize)]
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
        let err = parse_post_messages(body.to_string().as_bytes(), &MessageLimits::default())
            .unwrap_err();
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
        let single = parse_post_messages(br#"{"message":"hi","actor":"user"}"#, &l).unwrap();
        assert_eq!(single.shape, Shape::Single);
        assert_eq!(single.batch.len(), 1);
        let batch = parse_post_messages(
            br#"{"messages":[{"content":"q","role":"user"},{"content":"a","role":"assistant"}],"x":1}"#,
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
    fn invalid_json_is_its_own_error() {
        for body in [&b"{"[..], b"", b"\xff\xfe", br#"{"message": "\ud800"}"#] {
            let err = parse_post_messages(body, &MessageLimits::default()).unwrap_err();
            assert_eq!(err.status(), 400);
            assert!(err.to_string().contains("Invalid JSON body"), "{err}");
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
