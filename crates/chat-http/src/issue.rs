//! Validation issues, shaped as zod shapes them (the app validated with zod, and clients read
//! these fields): `code`, `path`, `message`, and the fields each code carries.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// A key or an index.
// One step of an issue's path, as in `["messages", 3, "role"]`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum PathSegment {
    Key(&'static str),
    Index(usize),
}

pub type Path = Vec<PathSegment>;

/// The path of a top-level field.
pub fn at(key: &'static str) -> Path {
    vec![PathSegment::Key(key)]
}

// The fields of each code are written between `code` and `path`, as zod writes them, and only
// the constructors below fill them, so that each code carries exactly its own.
/// One broken rule, as zod reports it: `code`, `path`, `message`, and the fields of its code.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Issue {
    pub code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum: Option<u64>,
    // zod's `type`: "string", "array", "number", or "body" (the request body's size).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inclusive: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exact: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keys: Option<Vec<String>>,
    #[schema(value_type = Vec<PathSegment>)]
    pub path: Path,
    pub message: String,
}

impl Issue {
    fn new(code: &'static str, path: Path, message: String) -> Self {
        Self {
            code,
            expected: None,
            options: None,
            received: None,
            minimum: None,
            maximum: None,
            kind: None,
            inclusive: None,
            exact: None,
            keys: None,
            path,
            message,
        }
    }

    /// A required field that is absent.
    pub fn required(path: Path, expected: &str) -> Self {
        Self {
            expected: Some(expected.to_owned()),
            received: Some("undefined".to_owned()),
            ..Self::new("invalid_type", path, "Required".to_owned())
        }
    }

    /// A value of the wrong JSON type.
    pub fn invalid_type(path: Path, expected: &str, got: &Value) -> Self {
        Self::invalid_type_named(path, expected, zod_type_name(got))
    }

    pub fn invalid_type_named(path: Path, expected: &str, received: &str) -> Self {
        let message = format!("Expected {expected}, received {received}");
        Self {
            expected: Some(expected.to_owned()),
            received: Some(received.to_owned()),
            ..Self::new("invalid_type", path, message)
        }
    }

    pub fn invalid_enum_value<S: AsRef<str>>(path: Path, options: &[S], received: &str) -> Self {
        let options: Vec<String> = options.iter().map(|o| o.as_ref().to_owned()).collect();
        let message = format!(
            "Invalid enum value. Expected {}, received '{received}'",
            enum_list(&options)
        );
        Self {
            options: Some(options),
            received: Some(received.to_owned()),
            ..Self::new("invalid_enum_value", path, message)
        }
    }

    /// `kind` is zod's `type`: "string", "array", "number", or "body".
    pub fn too_small(path: Path, kind: &'static str, minimum: u64, message: String) -> Self {
        Self {
            minimum: Some(minimum),
            ..Self::bounded("too_small", path, kind, true, message)
        }
    }

    pub fn too_big(path: Path, kind: &'static str, maximum: u64, message: String) -> Self {
        Self {
            maximum: Some(maximum),
            ..Self::bounded("too_big", path, kind, true, message)
        }
    }

    /// zod's `.positive()`: greater than 0, exclusive.
    pub fn not_positive(path: Path) -> Self {
        let message = "Number must be greater than 0".to_owned();
        Self {
            minimum: Some(0),
            ..Self::bounded("too_small", path, "number", false, message)
        }
    }

    fn bounded(
        code: &'static str,
        path: Path,
        kind: &'static str,
        inclusive: bool,
        message: String,
    ) -> Self {
        Self {
            kind: Some(kind),
            inclusive: Some(inclusive),
            exact: Some(false),
            ..Self::new(code, path, message)
        }
    }

    /// A text shorter than `min` characters (zod's message).
    pub fn string_too_short(path: Path, min: usize) -> Self {
        let message = format!("String must contain at least {min} character(s)");
        Self::too_small(path, "string", min as u64, message)
    }

    /// A text longer than `max` characters (zod's message).
    pub fn string_too_long(path: Path, max: usize) -> Self {
        let message = format!("String must contain at most {max} character(s)");
        Self::too_big(path, "string", max as u64, message)
    }

    /// An array with fewer than `min` elements (zod's message).
    pub fn array_too_short(path: Path, min: usize) -> Self {
        let message = format!("Array must contain at least {min} element(s)");
        Self::too_small(path, "array", min as u64, message)
    }

    /// An array with more than `max` elements (zod's message).
    pub fn array_too_long(path: Path, max: usize) -> Self {
        let message = format!("Array must contain at most {max} element(s)");
        Self::too_big(path, "array", max as u64, message)
    }

    pub fn invalid_string(path: Path, message: &str) -> Self {
        Self::new("invalid_string", path, message.to_owned())
    }

    /// U+0000, which PostgreSQL cannot store: refused in every text, on every backend.
    pub fn contains_nul(path: Path) -> Self {
        Self::invalid_string(path, "Text must not contain NUL characters")
    }

    pub fn unrecognized_keys(path: Path, keys: Vec<String>) -> Self {
        let list = keys
            .iter()
            .map(|k| format!("'{k}'"))
            .collect::<Vec<_>>()
            .join(", ");
        let message = format!("Unrecognized key(s) in object: {list}");
        Self {
            keys: Some(keys),
            ..Self::new("unrecognized_keys", path, message)
        }
    }

    pub fn invalid_json(message: String) -> Self {
        Self::new("invalid_json", vec![], message)
    }
}

/// The type names zod reports in `received`.
pub fn zod_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// `'user' | 'assistant' | 'system'`: how zod names an enum in `expected` and in messages.
pub fn enum_list<S: AsRef<str>>(options: &[S]) -> String {
    options
        .iter()
        .map(|o| format!("'{}'", o.as_ref()))
        .collect::<Vec<_>>()
        .join(" | ")
}

/// Collects issues up to a cap: a 2 MiB body of tiny wrong items would otherwise be answered
/// with a body a hundred times its size.
#[derive(Debug, Default)]
pub struct Issues(Vec<Issue>);

impl Issues {
    pub const MAX: usize = 1000;

    pub fn push(&mut self, issue: Issue) {
        if self.0.len() < Self::MAX {
            self.0.push(issue);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_vec(self) -> Vec<Issue> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn issues_serialise_as_zod_does() {
        let issue = Issue::invalid_enum_value(
            vec![
                PathSegment::Key("messages"),
                PathSegment::Index(3),
                PathSegment::Key("role"),
            ],
            &["user", "assistant", "system"],
            "bot",
        );
        assert_eq!(
            serde_json::to_value(issue).unwrap(),
            json!({
                "code": "invalid_enum_value",
                "options": ["user", "assistant", "system"],
                "received": "bot",
                "path": ["messages", 3, "role"],
                "message": "Invalid enum value. Expected 'user' | 'assistant' | 'system', received 'bot'"
            })
        );
        assert_eq!(
            serde_json::to_value(Issue::required(vec![PathSegment::Key("message")], "string"))
                .unwrap(),
            json!({"code": "invalid_type", "expected": "string", "received": "undefined",
                   "path": ["message"], "message": "Required"})
        );
    }

    #[test]
    fn issues_are_capped() {
        let mut issues = Issues::default();
        for _ in 0..Issues::MAX + 5 {
            issues.push(Issue::invalid_json("x".into()));
        }
        assert_eq!(issues.into_vec().len(), Issues::MAX);
    }
}
