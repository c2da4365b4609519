//! The `Idempotency-Key` header on the writes a client may retry: the key (400 if malformed),
//! the request's fingerprint, and the answer, fresh or replayed (`Idempotent-Replayed: true`).
//! The rules themselves are the domain's ([`chat_domain::idempotency`]); the store keeps keys.

use std::collections::BTreeMap;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use chat_domain::{IdempotencyKey, Once, Record, Recorded, Written};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use utoipa::openapi::{RefOr, Response};
use utoipa::{IntoParams, IntoResponses};

use crate::error::{ApiError, ErrorBody, ReadErrors, WriteErrors};
use crate::issue::{Issue, at};

pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
pub const IDEMPOTENT_REPLAYED: &str = "idempotent-replayed";
pub const INVALID_KEY: &str = "Bad Request. Invalid Idempotency-Key header.";

/// The request's `Idempotency-Key`, if it sent one.
pub struct KeyHeader(pub Option<IdempotencyKey>);

impl FromRequest for KeyHeader {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse(req).map(Self))
    }
}

fn parse(req: &HttpRequest) -> Result<Option<IdempotencyKey>, ApiError> {
    let mut values = req.headers().get_all(IDEMPOTENCY_KEY);
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let invalid = |message: &str| {
        ApiError::bad_request(
            INVALID_KEY,
            vec![Issue::invalid_string(at("Idempotency-Key"), message)],
        )
    };
    if values.next().is_some() {
        return Err(invalid("Idempotency-Key must be sent once"));
    }
    let text = value
        .to_str()
        .map_err(|_| invalid("Idempotency-Key may hold printable ASCII characters only"))?;
    IdempotencyKey::new(text)
        .map(Some)
        .map_err(|e| invalid(&format!("Idempotency-Key {e}")))
}

impl KeyHeader {
    /// The key with the request's fingerprint: the method, the path and the body as parsed (so
    /// whitespace and the order of keys do not count, a changed value does).
    pub fn fingerprint(self, req: &HttpRequest, body: Option<&Value>) -> Fingerprinted {
        Fingerprinted(self.0.map(|key| {
            let mut print = Sha256::new();
            print.update(req.method().as_str());
            print.update(b" ");
            print.update(req.path());
            print.update(b"\n");
            if let Some(body) = body {
                print.update(body.to_string());
            }
            (key, print.finalize().to_vec())
        }))
    }
}

/// A request's key and fingerprint, if it sent a key.
pub struct Fingerprinted(Option<(IdempotencyKey, Vec<u8>)>);

impl Fingerprinted {
    /// The write `operation`, to make at most once under the key, its result recorded so.
    pub fn once<T>(self, operation: &'static str, record: &Record<T>) -> Option<Once<T>> {
        self.0.map(|(key, fingerprint)| Once {
            key,
            operation,
            fingerprint,
            record: record.clone(),
        })
    }
}

/// A 200 with `body` as JSON, as it is sent and as it is kept with a key.
pub fn ok_json<T: Serialize>(body: &T) -> anyhow::Result<Recorded> {
    Ok(Recorded {
        status: StatusCode::OK.as_u16(),
        body: serde_json::to_vec(body)?,
    })
}

/// The answer to a write: its result, recorded as a keyed write's would be, or the kept one.
pub fn reply<T>(written: Written<T>, record: &Record<T>) -> Result<HttpResponse, ApiError> {
    let (answer, replayed) = match written {
        Written::Done(value) => (record(&value).map_err(|e| ApiError::internal(&e))?, false),
        Written::Kept { answer, replayed } => (answer, replayed),
    };
    let status = StatusCode::from_u16(answer.status)
        .map_err(|e| ApiError::internal(&format_args!("kept status: {e}")))?;
    let mut res = HttpResponse::build(status);
    res.insert_header((CONTENT_TYPE, HeaderValue::from_static("application/json")));
    if replayed {
        res.insert_header((
            HeaderName::from_static(IDEMPOTENT_REPLAYED),
            HeaderValue::from_static("true"),
        ));
    }
    Ok(res.body(answer.body))
}

/// How a write's result is recorded: `render` then [`ok_json`].
pub fn record_with<T, B: Serialize>(
    render: impl Fn(&T) -> anyhow::Result<B> + Send + Sync + 'static,
) -> Record<T> {
    Arc::new(move |value| ok_json(&render(value)?))
}

/// The header, for the document.
#[derive(IntoParams, serde::Deserialize)]
#[into_params(parameter_in = Header)]
pub struct KeyParam {
    /// Makes the write at most once: a retry with the same key and request gets the first
    /// answer again (`Idempotent-Replayed: true`), for `idempotency.ttl` (24 h by default).
    /// 1 to 255 printable ASCII characters, per user.
    #[serde(rename = "Idempotency-Key")]
    #[param(
        min_length = 1,
        max_length = 255,
        pattern = "^[!-~]([ -~]{0,253}[!-~])?$"
    )]
    pub key: Option<String>,
}

/// The answers a key adds to a write's.
#[derive(IntoResponses)]
#[expect(
    dead_code,
    reason = "a description for the document: errors are ApiError values"
)]
enum KeyErrors {
    /// A request with this `Idempotency-Key` is still in progress; retry after it ends.
    #[response(status = 409)]
    Conflict(ErrorBody),
    /// This `Idempotency-Key` was used for a different request (method, path or body).
    #[response(status = 422)]
    Mismatch(ErrorBody),
}

/// The errors of a keyed write with a JSON body.
pub struct KeyedWriteErrors;

impl IntoResponses for KeyedWriteErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let mut responses = WriteErrors::responses();
        responses.extend(KeyErrors::responses());
        responses
    }
}

/// The errors of a keyed write without a body.
pub struct KeyedErrors;

impl IntoResponses for KeyedErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let mut responses = ReadErrors::responses();
        responses.extend(KeyErrors::responses());
        responses
    }
}
