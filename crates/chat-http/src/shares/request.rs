//! The bodies of the share routes: how to publish (`{"is_shared", "is_protected",
//! "hashed_password"}`, the app's `InsertChatConversationShareSchema`) and whom to whitelist
//! (`["e-mail", ...]`, its `EmailListToCreateSchema`).

use chat_domain::{EmailAddress, SharePassword, ShareSettings};
use serde_json::Value;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::body::object;
use crate::error::ApiError;
use crate::issue::{Issue, Issues, PathSegment, at};
use crate::schema::{array, string};

pub const INVALID_SHARE: &str = "Bad Request. Invalid body({ is_shared?(true), is_protected?(false), hashed_password?(null) }).";
pub const INVALID_WHITELIST: &str = "Bad Request. Invalid body(e-mail addresses).";

/// How many addresses one request may whitelist.
pub const MAX_EMAILS: usize = 1000;
/// zod's `.min(5)` on each address.
const MIN_EMAIL_CHARS: usize = 5;

pub struct ShareRequest(pub ShareSettings);

impl ShareRequest {
    pub fn parse(value: Value) -> Result<Self, ApiError> {
        let mut obj = object(value, INVALID_SHARE)?;
        let mut issues = Issues::default();
        let mut flag = |key: &'static str, default: bool| match obj.remove(key) {
            None => default,
            Some(Value::Bool(b)) => b,
            Some(other) => {
                issues.push(Issue::invalid_type(at(key), "boolean", &other));
                default
            }
        };
        let shared = flag("is_shared", true);
        let protected = flag("is_protected", false);
        let password = match obj.remove("hashed_password") {
            None | Some(Value::Null) => None,
            Some(Value::String(p)) if p.contains('\0') => {
                issues.push(Issue::contains_nul(at("hashed_password")));
                None
            }
            Some(Value::String(p)) => SharePassword::new(p),
            Some(other) => {
                issues.push(Issue::invalid_type(at("hashed_password"), "string", &other));
                None
            }
        };
        if !issues.is_empty() {
            return Err(ApiError::bad_request(INVALID_SHARE, issues.into_vec()));
        }
        Ok(Self(ShareSettings {
            shared,
            protected,
            password,
        }))
    }
}

impl PartialSchema for ShareRequest {
    fn schema() -> RefOr<Schema> {
        let boolean = |d: &str| {
            ObjectBuilder::new()
                .schema_type(Type::Boolean)
                .description(Some(d))
        };
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .property("is_shared", boolean("Default true"))
            .property("is_protected", boolean("Default false"))
            .property(
                "hashed_password",
                ObjectBuilder::new()
                    .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                    .description(Some(
                        "The password in plain text (the service encrypts it); blank or null: none",
                    )),
            )
            .into()
    }
}

impl ToSchema for ShareRequest {}

pub struct EmailListRequest(pub Vec<EmailAddress>);

impl EmailListRequest {
    pub fn parse(value: Value) -> Result<Self, ApiError> {
        let Value::Array(items) = value else {
            let issue = Issue::invalid_type(vec![], "array", &value);
            return Err(ApiError::bad_request(INVALID_WHITELIST, vec![issue]));
        };
        let mut issues = Issues::default();
        if items.is_empty() {
            issues.push(Issue::array_too_short(vec![], 1));
        }
        if items.len() > MAX_EMAILS {
            issues.push(Issue::array_too_long(vec![], MAX_EMAILS));
        }
        let mut emails = Vec::with_capacity(items.len().min(MAX_EMAILS));
        for (i, item) in items.iter().enumerate().take(MAX_EMAILS) {
            let path = vec![PathSegment::Index(i)];
            match item {
                Value::String(s) if s.chars().count() < MIN_EMAIL_CHARS => {
                    issues.push(Issue::string_too_short(path, MIN_EMAIL_CHARS));
                }
                Value::String(s) => match EmailAddress::new(s) {
                    Ok(email) => emails.push(email),
                    Err(_) => issues.push(Issue::invalid_string(path, "Invalid email")),
                },
                other => issues.push(Issue::invalid_type(path, "string", other)),
            }
        }
        if !issues.is_empty() {
            return Err(ApiError::bad_request(INVALID_WHITELIST, issues.into_vec()));
        }
        Ok(Self(emails))
    }
}

impl PartialSchema for EmailListRequest {
    fn schema() -> RefOr<Schema> {
        let email = string(MIN_EMAIL_CHARS, None, Some("An e-mail address"));
        array(email, Some(1), Some(MAX_EMAILS), None)
    }
}

impl ToSchema for EmailListRequest {}
