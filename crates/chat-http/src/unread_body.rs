//! Connections whose request body was not read are closed, not drained without end.
//!
//! A response may go out before its request's body was read: a 401, 403, 413 or 415 is decided
//! from the head, a 408 when the body stops arriving. actix-http closes such a connection after
//! the response if the body's reader is still alive, but once the reader is dropped it drains
//! a chunked body for as long as the client keeps the connection open, with no bound: a client
//! that sends a chunked head and then nothing held a file descriptor forever. So the reader is
//! kept alive inside the response's body until actix has sent the head and decided.

use std::cell::RefCell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{Error, HttpMessage as _};
use futures_util::Stream;

/// The middleware: outermost, so that no other replaces the body that holds the reader.
pub async fn close_unread_bodies(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let held = has_body(&req).then(|| {
        let shared = SharedPayload(Rc::new(RefCell::new(req.take_payload())));
        req.set_payload(Payload::Stream {
            payload: Box::pin(shared.clone()),
        });
        shared
    });
    let res = next.call(req).await?.map_into_boxed_body();
    Ok(res.map_body(|_, body| Holding { body, _held: held }))
}

fn has_body(req: &ServiceRequest) -> bool {
    let headers = req.headers();
    headers.contains_key(TRANSFER_ENCODING)
        || headers
            .get(CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0")
}

/// The request's body reader, shared by the handler (which reads it) and the response.
#[derive(Clone)]
struct SharedPayload(Rc<RefCell<Payload>>);

impl Stream for SharedPayload {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut payload = self.0.borrow_mut();
        Pin::new(&mut *payload).poll_next(cx)
    }
}

/// A response body that keeps the request's body reader alive while it is sent.
struct Holding {
    body: BoxBody,
    _held: Option<SharedPayload>,
}

impl MessageBody for Holding {
    type Error = <BoxBody as MessageBody>::Error;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Pin::new(&mut self.body).poll_next(cx)
    }
}
