//! The body of a save of code blocks: one block `{"text", "title", "language", "extension"}`,
//! or several `{"files": [block, ...]}` (the app's `InsertFileUniversalSchema`). Unknown keys
//! (the front end also sends the ids of the route) are ignored.

use chat_domain::{FileTextError, NewChatFile};
use serde_json::{Map, Value};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::body::object;
use crate::error::ApiError;
use crate::issue::{Issue, Issues, Path, PathSegment};
use crate::schema::array;

pub const INVALID_FILES: &str = "Bad Request. Invalid body(file | files).";

/// The code blocks to save, and whether one was sent alone (the answer says `chatFile` then).
pub struct FilesRequest {
    pub single: bool,
    pub files: Vec<NewChatFile>,
}

impl FilesRequest {
    pub fn parse(value: Value) -> Result<Self, ApiError> {
        let mut obj = object(value, INVALID_FILES)?;
        let mut issues = Issues::default();
        let (single, files) = match obj.remove("files") {
            None => (true, vec![block(&mut obj, vec![], &mut issues)]),
            Some(Value::Array(items)) => (false, blocks(items, &mut issues)),
            Some(other) => {
                let path = vec![PathSegment::Key("files")];
                issues.push(Issue::invalid_type(path, "array", &other));
                (false, vec![])
            }
        };
        match files.into_iter().collect::<Option<Vec<_>>>() {
            Some(files) if issues.is_empty() => Ok(Self { single, files }),
            _ => Err(ApiError::bad_request(INVALID_FILES, issues.into_vec())),
        }
    }
}

fn blocks(items: Vec<Value>, issues: &mut Issues) -> Vec<Option<NewChatFile>> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let path = vec![PathSegment::Key("files"), PathSegment::Index(i)];
            match item {
                Value::Object(mut obj) => block(&mut obj, path, issues),
                other => {
                    issues.push(Issue::invalid_type(path, "object", &other));
                    None
                }
            }
        })
        .collect()
}

/// One code block at `path`.
fn block(obj: &mut Map<String, Value>, path: Path, issues: &mut Issues) -> Option<NewChatFile> {
    let at = |key: &'static str| {
        let mut p = path.clone();
        p.push(PathSegment::Key(key));
        p
    };
    let mut field = |key: &'static str, required: bool, nullable: bool| match obj.remove(key) {
        Some(Value::String(s)) => Some(Some(s)),
        None if !required => Some(None),
        Some(Value::Null) if nullable => Some(None),
        None => {
            issues.push(Issue::required(at(key), "string"));
            None
        }
        Some(other) => {
            issues.push(Issue::invalid_type(at(key), "string", &other));
            None
        }
    };
    let text = field("text", true, false);
    let title = field("title", false, true);
    let language = field("language", false, false);
    let extension = field("extension", false, false);
    let (Some(Some(text)), Some(title), Some(language), Some(extension)) =
        (text, title, language, extension)
    else {
        return None;
    };
    NewChatFile::new(title, text, language, extension)
        .map_err(|refused| {
            for (key, FileTextError::ContainsNul) in refused {
                issues.push(Issue::contains_nul(at(key)));
            }
        })
        .ok()
}

fn block_schema() -> RefOr<Schema> {
    let string = |description: &str| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(description))
    };
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("text", string("The code"))
        .required("text")
        .property(
            "title",
            ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
                    Type::String,
                    Type::Null,
                ]))
                .description(Some("A file name, or null")),
        )
        .property("language", string("Default `text`"))
        .property("extension", string("Default `txt`"))
        .into()
}

impl PartialSchema for FilesRequest {
    fn schema() -> RefOr<Schema> {
        let many = ObjectBuilder::new()
            .schema_type(Type::Object)
            .property("files", array(block_schema(), None, None, None))
            .required("files");
        OneOfBuilder::new().item(block_schema()).item(many).into()
    }
}

impl ToSchema for FilesRequest {}
