//! Authorization as extractors: a handler that takes [`Authorized`] or [`AuthorizedChat`]
//! runs only for a caller whose session is the route's user. Checks run in the contract's
//! order: route ids (400), session (401), owner (403). Whether the chat is the caller's is the
//! store's answer (404) when the operation runs, so that it costs no extra query.

use std::future::{Ready, ready};
use std::marker::PhantomData;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use chat_domain::{Caller, ChatId, ChatService, ChatStore, MessageId, SessionVerifier, UserId};

use crate::error::ApiError;
use crate::path::{ChatItemPath, ChatPath, UserPath};
use crate::session::token_of;

const INVALID_USER_ROUTE: &str = "Bad Request. Invalid route parameters(user_id).";

/// The caller, authorized for the route's `{user_id}`. Generic over the service's ports only
/// to find the service the routes were registered with.
pub struct Authorized<S, V> {
    pub caller: Caller,
    service: PhantomData<fn() -> (S, V)>,
}

/// The caller, authorized for the route's `{user_id}`, and the route's `{chat_id}`.
pub struct AuthorizedChat<S, V> {
    pub caller: Caller,
    pub chat: ChatId,
    service: PhantomData<fn() -> (S, V)>,
}

impl<S: ChatStore, V: SessionVerifier> Authorized<S, V> {
    fn of(req: &HttpRequest) -> Result<Self, ApiError> {
        let UserPath(owner) = UserPath::of(req)
            .map_err(|issues| ApiError::bad_request(INVALID_USER_ROUTE, issues))?;
        Ok(Self {
            caller: authorize::<S, V>(req, owner)?,
            service: PhantomData,
        })
    }
}

impl<S: ChatStore, V: SessionVerifier> AuthorizedChat<S, V> {
    fn of(req: &HttpRequest) -> Result<Self, ApiError> {
        let ChatPath(owner, chat) = ChatPath::of(req).map_err(ApiError::invalid_route)?;
        Ok(Self {
            caller: authorize::<S, V>(req, owner)?,
            chat,
            service: PhantomData,
        })
    }
}

/// The caller, authorized for the route's `{user_id}`, the route's `{chat_id}`, and a third
/// id under the chat (`{message_id}`, `{share_id}`): route ids (all of them) first, then the
/// session and the owner.
pub struct AuthorizedItem<S, V, T> {
    pub caller: Caller,
    pub chat: ChatId,
    pub item: T,
    service: PhantomData<fn() -> (S, V)>,
}

/// The ids' parser of a route under a chat, and its message for a 400.
pub trait ChatItem: Sized + 'static {
    const INVALID_ROUTE: &'static str;
    fn parse(req: &HttpRequest) -> Result<ChatItemPath<Self>, Vec<crate::issue::Issue>>;
}

impl ChatItem for MessageId {
    const INVALID_ROUTE: &'static str =
        "Bad Request. Invalid route parameters(user_id | chat_id | message_id).";
    fn parse(req: &HttpRequest) -> Result<ChatItemPath<Self>, Vec<crate::issue::Issue>> {
        ChatItemPath::message(req)
    }
}

impl ChatItem for i32 {
    const INVALID_ROUTE: &'static str =
        "Bad Request. Invalid route parameters(user_id | chat_id | share_id).";
    fn parse(req: &HttpRequest) -> Result<ChatItemPath<Self>, Vec<crate::issue::Issue>> {
        ChatItemPath::share(req)
    }
}

impl<S: ChatStore, V: SessionVerifier, T: ChatItem> FromRequest for AuthorizedItem<S, V, T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            T::parse(req)
                .map_err(|issues| ApiError::bad_request(T::INVALID_ROUTE, issues))
                .and_then(|ChatItemPath(owner, chat, item)| {
                    Ok(Self {
                        caller: authorize::<S, V>(req, owner)?,
                        chat,
                        item,
                        service: PhantomData,
                    })
                }),
        )
    }
}

/// The session, then the owner, checked by the service the routes were registered with.
fn authorize<S: ChatStore, V: SessionVerifier>(
    req: &HttpRequest,
    owner: UserId,
) -> Result<Caller, ApiError> {
    let service = req
        .app_data::<web::Data<ChatService<S, V>>>()
        .ok_or_else(|| ApiError::internal(&"the routes were registered without their service"))?;
    Ok(service.authorize(token_of(req).as_deref(), owner)?)
}

impl<S: ChatStore, V: SessionVerifier> FromRequest for Authorized<S, V> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Self::of(req))
    }
}

impl<S: ChatStore, V: SessionVerifier> FromRequest for AuthorizedChat<S, V> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Self::of(req))
    }
}
