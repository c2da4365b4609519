//! Validation issues, shaped as zod shapes them (the app validated with zod, and clients read
//! these fields): `code`, `path`, `message`, and the fields each code carries.

use serde::Serialize;
use serde_json::Value;

/// One step of an issue's path: an object key or an array index, as in `["messages", 3, "role"]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum PathSegment {
    Key(&'static str),
    Index(usize),
}

pub type Path = Vec<PathSegment>;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Issue {
    pub code: &'static str,
    /// The fields that go with `code`, written between `code` and `path` as zod writes them.
    #[serde(flatten)]
    pub detail: Detail,
    pub path: Path,
    pub message: String,
}

/// The fields each kind of issue carries beside code, path and message.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Detail {
    Type {
        expected: String,
        received: String,
    },
    Enum {
        options: Vec<&'static str>,
        received: String,
    },
    Minimum {
        minimum: u64,
        #[serde(rename = "type")]
        kind: &'static str,
        inclusive: bool,
        exact: bool,
    },
    Maximum {
        maximum: u64,
        #[serde(rename = "type")]
        kind: &'static str,
        inclusive: bool,
        exact: bool,
    },
    Keys {
        keys: Vec<String>,
    },
    None {},
}

impl Issue {
    fn new(code: &'static str, detail: Detail, path: Path, message: String) -> Self {
        Self {
            code,
            detail,
            path,
            message,
        }
    }

    /// A required field that is absent.
    pub fn required(path: Path, expected: &str) -> Self {
        let detail = Detail::Type {
            expected: expected.to_owned(),
            received: "undefined".to_owned(),
        };
        Self::new("invalid_type", detail, path, "Required".to_owned())
    }

    /// A value of the wrong JSON type.
    pub fn invalid_type(path: Path, expected: &str, got: &Value) -> Self {
        Self::invalid_type_named(path, expected, zod_type_name(got))
    }

    pub fn invalid_type_named(path: Path, expected: &str, received: &str) -> Self {
        let message = format!("Expected {expected}, received {received}");
        let detail = Detail::Type {
            expected: expected.to_owned(),
            received: received.to_owned(),
        };
        Self::new("invalid_type", detail, path, message)
    }

    pub fn invalid_enum_value(path: Path, options: &[&'static str], received: &str) -> Self {
        let message = format!(
            "Invalid enum value. Expected {}, received '{received}'",
            enum_list(options)
        );
        let detail = Detail::Enum {
            options: options.to_vec(),
            received: received.to_owned(),
        };
        Self::new("invalid_enum_value", detail, path, message)
    }

    /// `kind` is zod's `type`: "string", "array", "number", or "body" (the request body's size).
    pub fn too_small(path: Path, kind: &'static str, minimum: u64, message: String) -> Self {
        let detail = Detail::Minimum {
            minimum,
            kind,
            inclusive: true,
            exact: false,
        };
        Self::new("too_small", detail, path, message)
    }

    pub fn too_big(path: Path, kind: &'static str, maximum: u64, message: String) -> Self {
        let detail = Detail::Maximum {
            maximum,
            kind,
            inclusive: true,
            exact: false,
        };
        Self::new("too_big", detail, path, message)
    }

    /// zod's `.positive()`: greater than 0, exclusive.
    pub fn not_positive(path: Path) -> Self {
        let detail = Detail::Minimum {
            minimum: 0,
            kind: "number",
            inclusive: false,
            exact: false,
        };
        Self::new(
            "too_small",
            detail,
            path,
            "Number must be greater than 0".to_owned(),
        )
    }

    pub fn invalid_string(path: Path, message: &str) -> Self {
        Self::new("invalid_string", Detail::None {}, path, message.to_owned())
    }

    pub fn unrecognized_keys(path: Path, keys: Vec<String>) -> Self {
        let list = keys
            .iter()
            .map(|k| format!("'{k}'"))
            .collect::<Vec<_>>()
            .join(", ");
        let message = format!("Unrecognized key(s) in object: {list}");
        Self::new("unrecognized_keys", Detail::Keys { keys }, path, message)
    }

    pub fn invalid_json(message: String) -> Self {
        Self::new("invalid_json", Detail::None {}, vec![], message)
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
pub fn enum_list(options: &[&str]) -> String {
    options
        .iter()
        .map(|o| format!("'{o}'"))
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
