//! What the list routes' query strings share: reading the parameters, the page size, and how
//! the document describes a query parameter. Each resource's own parameters are in its module.

use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use chat_domain::{PageLimit, PageLimitError};
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::{ObjectBuilder, Required};

use crate::error::ApiError;
use crate::issue::{Issue, Issues, at};

/// The query string's parameters; the first of a repeated name wins, unknown names are ignored.
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn of(req: &HttpRequest) -> Result<Self, ApiError> {
        serde_urlencoded::from_str(req.query_string())
            .map(Self)
            .map_err(|_| ApiError::for_status(StatusCode::BAD_REQUEST))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// `limit`: 1 to `max`; when absent, the whole list up to the ceiling `read_ceiling`.
pub fn limit(
    raw: Option<&str>,
    read_ceiling: PageLimit,
    max: usize,
    issues: &mut Issues,
) -> Option<PageLimit> {
    let Some(raw) = raw else {
        return Some(PageLimit::whole(read_ceiling));
    };
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        issues.push(Issue::invalid_type_named(at("limit"), "number", "nan"));
        return None;
    }
    // All digits: only a number too large for u64 fails to parse, and that is too big too.
    let value = raw.parse::<u64>().unwrap_or(u64::MAX);
    match PageLimit::new(value, max) {
        Ok(limit) => Some(limit),
        Err(PageLimitError::TooSmall) => {
            let message = "Number must be greater than or equal to 1".to_owned();
            issues.push(Issue::too_small(at("limit"), "number", 1, message));
            None
        }
        Err(PageLimitError::TooBig { max }) => {
            let message = format!("Number must be less than or equal to {max}");
            issues.push(Issue::too_big(at("limit"), "number", max as u64, message));
            None
        }
    }
}

/// An optional query parameter of the given schema, for the document.
pub fn param(name: &str, schema: ObjectBuilder, description: &str) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(schema))
        .build()
}

/// `limit`, for the document.
pub fn limit_param(max: usize) -> Parameter {
    use utoipa::openapi::{KnownFormat, SchemaFormat, Type};
    let schema = ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
        .minimum(Some(1))
        .maximum(Some(max));
    let doc = "Page size; without it, the whole list, up to `limits.read_ceiling` rows \
               (default 10000), then pages";
    param("limit", schema, doc)
}

/// A `Link` header value for the next page: this request's path with `query`.
pub fn next_link(req: &HttpRequest, query: &[(&str, String)]) -> String {
    let query = serde_urlencoded::to_string(query).unwrap_or_default();
    format!("<{}?{query}>; rel=\"next\"", req.path())
}
