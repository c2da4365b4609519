//! The body of `POST .../messages`: one message, or an ordered batch. Parsed here into the
//! domain's `MessageBatch` (every broken rule its own issue, as zod reports them), and
//! described here for the document.

use chat_domain::{
    Actor, BatchSizeError, MessageBatch, MessageLimits, MessageText, NewMessage, TextViolation,
};
use serde_json::{Map, Value};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{OneOfBuilder, Schema};
use utoipa::{PartialSchema, ToSchema};

use crate::error::ApiError;
use crate::issue::{Issue, Issues, Path, PathSegment, at, enum_list};
use crate::schema::{array, object, reference, string};
use crate::wire::{ActorName, actor_names};

pub const INVALID_BODY: &str = "Bad Request. Invalid body(message | messages).";

/// Which of the two body shapes was sent: the answer has the same shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `{"message": "...", "actor": "..."}`
    Single,
    /// `{"messages": [{"content": "...", "role": "..."}, ...]}`
    Batch,
}

/// A valid body: its shape, and its messages in request order.
#[derive(Debug)]
pub struct PostMessagesRequest {
    pub shape: Shape,
    pub batch: MessageBatch,
}

fn invalid_body(issues: Issues) -> ApiError {
    ApiError::bad_request(INVALID_BODY, issues.into_vec())
}

impl PostMessagesRequest {
    /// Validates a request body; every broken rule becomes its own issue.
    pub fn parse(value: Value, limits: &MessageLimits) -> Result<Self, ApiError> {
        let Value::Object(mut obj) = value else {
            let mut issues = Issues::default();
            issues.push(Issue::invalid_type(vec![], "object", &value));
            return Err(invalid_body(issues));
        };
        let mut issues = Issues::default();
        let parsed = match obj.remove("messages") {
            Some(messages) => {
                if obj.contains_key("message") {
                    issues.push(Issue::unrecognized_keys(vec![], vec!["message".to_owned()]));
                }
                parse_batch(messages, limits, &mut issues).map(|batch| (Shape::Batch, batch))
            }
            None => parse_message(&mut obj, ["message", "actor"], vec![], limits, &mut issues)
                .map(|message| (Shape::Single, MessageBatch::single(message))),
        };
        match parsed {
            Some((shape, batch)) if issues.is_empty() => Ok(Self { shape, batch }),
            _ => Err(invalid_body(issues)),
        }
    }
}

fn parse_batch(
    messages: Value,
    limits: &MessageLimits,
    issues: &mut Issues,
) -> Option<MessageBatch> {
    let Value::Array(items) = messages else {
        issues.push(Issue::invalid_type(at("messages"), "array", &messages));
        return None;
    };
    match MessageBatch::check_len(items.len(), limits) {
        Err(BatchSizeError::Empty) => issues.push(Issue::array_too_short(at("messages"), 1)),
        Err(BatchSizeError::TooMany { max }) => {
            issues.push(Issue::array_too_long(at("messages"), max))
        }
        Ok(()) => {}
    }
    let mut parsed = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let path = vec![PathSegment::Key("messages"), PathSegment::Index(i)];
        match item {
            Value::Object(mut obj) => parsed.extend(parse_message(
                &mut obj,
                ["content", "role"],
                path,
                limits,
                issues,
            )),
            other => issues.push(Issue::invalid_type(path, "object", &other)),
        }
    }
    MessageBatch::new(parsed, limits).ok()
}

/// Reads one message from `obj`: its text and its actor under the two `keys`.
fn parse_message(
    obj: &mut Map<String, Value>,
    [text_key, actor_key]: [&'static str; 2],
    path: Path,
    limits: &MessageLimits,
    issues: &mut Issues,
) -> Option<NewMessage> {
    let field = |key| [path.as_slice(), &[PathSegment::Key(key)]].concat();
    let text = parse_text(obj.remove(text_key), field(text_key), limits, issues);
    let actor = parse_actor(obj.remove(actor_key), field(actor_key), issues);
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

fn text_issue(path: Path, violation: TextViolation) -> Issue {
    match violation {
        TextViolation::Blank => Issue::string_too_short(path, 1),
        TextViolation::TooLong { max } => Issue::string_too_long(path, max),
        TextViolation::ContainsNul => Issue::contains_nul(path),
    }
}

fn parse_actor(value: Option<Value>, path: Path, issues: &mut Issues) -> Option<Actor> {
    let names = actor_names();
    let expected = enum_list(&names);
    match value {
        None => issues.push(Issue::required(path, &expected)),
        Some(Value::String(s)) => match s.parse::<Actor>() {
            Ok(actor) => return Some(actor),
            Err(_) => issues.push(Issue::invalid_enum_value(path, &names, &s)),
        },
        Some(other) => issues.push(Issue::invalid_type(path, &expected, &other)),
    }
    None
}

impl PartialSchema for PostMessagesRequest {
    fn schema() -> RefOr<Schema> {
        let text = "Stored exactly as sent: at least one character other than white space, \
                    no NUL, at most `limits.max_message_chars` characters.";
        let single = object(
            Some("One message: `{\"message\", \"actor\"}`, answered with `chatMessage`."),
            [
                ("message", string(1, None, Some(text))),
                ("actor", reference::<ActorName>()),
            ],
        );
        let item = object(
            None,
            [
                ("content", string(1, None, Some(text))),
                ("role", reference::<ActorName>()),
            ],
        );
        let batch = object(
            Some(
                "An ordered batch, stored atomically and answered with `chatMessages` in the same order.",
            ),
            [(
                "messages",
                array(
                    item,
                    Some(1),
                    None,
                    Some("1 to `limits.max_batch` messages."),
                ),
            )],
        );
        OneOfBuilder::new()
            .item(single)
            .item(batch)
            .description(Some(
                "The body of `POST .../messages`: one message, or a batch (the key `messages` decides).",
            ))
            .into()
    }
}

impl ToSchema for PostMessagesRequest {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((ActorName::name().into(), ActorName::schema()));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn issues_of(body: Value) -> Value {
        let err = PostMessagesRequest::parse(body, &MessageLimits::default()).unwrap_err();
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
        let single =
            PostMessagesRequest::parse(json!({"message": "hi", "actor": "user"}), &l).unwrap();
        assert_eq!(single.shape, Shape::Single);
        assert_eq!(single.batch.len(), 1);
        let batch = PostMessagesRequest::parse(
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
}
