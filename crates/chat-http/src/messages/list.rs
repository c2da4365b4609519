//! The query of `GET .../messages`: `limit`, `after`, `before`, `order`; parsed and
//! documented here.

use actix_web::HttpRequest;
use chat_domain::{Direction, MessageId, MessageListQuery, PageLimit};
use utoipa::IntoParams;
use utoipa::openapi::path::{Parameter, ParameterIn};
use utoipa::openapi::{KnownFormat, ObjectBuilder, SchemaFormat, Type};

use crate::HttpSettings;
use crate::error::ApiError;
use crate::issue::{Issue, Issues, at};
use crate::path::parse_positive;
use crate::query::{Params, limit, limit_param, param};

pub const INVALID_MESSAGE_QUERY: &str =
    "Bad Request. Invalid query parameters(limit | after | before | order).";

const DIRECTIONS: [Direction; 2] = [Direction::Asc, Direction::Desc];

/// The parsed query; the document's description of it is its `IntoParams`.
pub struct MessageListParams {
    pub query: MessageListQuery,
    /// Whether the client asked for a page size (else the whole chat, up to the ceiling).
    limit_given: bool,
}

impl MessageListParams {
    pub fn of(req: &HttpRequest) -> Result<Self, ApiError> {
        let params = Params::of(req)?;
        let mut issues = Issues::default();
        let ceiling = HttpSettings::of(req).read_ceiling;
        let limit = limit(
            params.get("limit"),
            ceiling,
            PageLimit::MESSAGES_MAX,
            &mut issues,
        );
        let mut bound = |name: &'static str| -> Option<MessageId> {
            let raw = params.get(name)?;
            parse_positive(raw, name, i64::MAX)
                .map(MessageId::new)
                .map_err(|issue| issues.push(issue))
                .ok()
        };
        let (after, before) = (bound("after"), bound("before"));
        let direction = match params.get("order") {
            None => Some(MessageListQuery::DEFAULT_DIRECTION),
            Some(raw) => raw.parse::<Direction>().ok().or_else(|| {
                let names = DIRECTIONS.map(Direction::as_str);
                issues.push(Issue::invalid_enum_value(at("order"), &names, raw));
                None
            }),
        };
        match (limit, direction) {
            (Some(limit), Some(direction)) if issues.is_empty() => Ok(Self {
                query: MessageListQuery {
                    after,
                    before,
                    direction,
                    limit,
                },
                limit_given: params.get("limit").is_some(),
            }),
            _ => Err(ApiError::bad_request(
                INVALID_MESSAGE_QUERY,
                issues.into_vec(),
            )),
        }
    }

    /// The query string of `query` (a page after this one), for a `Link` to it: the bound it
    /// moves first.
    pub fn to_query(&self, query: &MessageListQuery) -> Vec<(&'static str, String)> {
        let mut params = Vec::new();
        if self.limit_given {
            params.push(("limit", query.limit.get().to_string()));
        }
        params.push(("order", query.direction.as_str().to_owned()));
        for (name, bound) in query.bounds() {
            params.extend(bound.map(|id| (name, id.get().to_string())));
        }
        params
    }
}

impl IntoParams for MessageListParams {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let id = |description| {
            let schema = ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                .minimum(Some(1));
            (schema, description)
        };
        let (after, after_doc) = id("Only messages with a greater id");
        let (before, before_doc) = id("Only messages with a smaller id");
        let names = DIRECTIONS.map(Direction::as_str).join("|");
        let order = ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(format!("^({names})$")));
        vec![
            limit_param(PageLimit::MESSAGES_MAX),
            param("after", after, after_doc),
            param("before", before, before_doc),
            param("order", order, "asc (default): oldest first"),
        ]
    }
}
