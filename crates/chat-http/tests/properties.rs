//! Property tests of what the HTTP adapter parses from clients (bodies, route parameters,
//! query strings, cursors): any input gives a value or an error in the contract's shape (a
//! 400 with issues), never a panic.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use actix_web::ResponseError as _;
use actix_web::body::MessageBody as _;
use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use chat_domain::{Chat, ChatCursor, ChatId, ChatOrder, ChatSortField, MessageLimits, UserId};
use chat_http::ApiError;
use chat_http::chats::{
    ChatIdsRequest, ChatListParams, NewChatRequest, RenameChatRequest, decode_cursor, encode_cursor,
};
use chat_http::messages::{MessageListParams, PostMessagesRequest};
use chat_http::path::{ChatPath, parse_positive};
use chrono::DateTime;
use proptest::prelude::*;
use serde_json::Value;

/// Keys the parsers look for, and others, so that generated bodies reach their rules.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "message", "messages", "actor", "content", "role", "name", "model", "chat_ids", "o",
            "k", "i",
        ])
        .prop_map(str::to_owned),
        ".{0,12}",
    ]
}

/// A chat list's order as clients write it: one to five distinct fields, each either way.
fn order() -> impl Strategy<Value = ChatOrder> {
    let field = prop::sample::select(ChatSortField::ALL.to_vec());
    let pair = (field, prop::bool::ANY)
        .prop_map(|(f, asc)| format!("{}:{}", f.as_str(), if asc { "asc" } else { "desc" }));
    prop::collection::vec(pair, 1..6).prop_filter_map("distinct fields", |pairs| {
        pairs.join(",").parse::<ChatOrder>().ok()
    })
}

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop::sample::select(vec!["user", "assistant", "system", ""]).prop_map(Value::from),
        ".{0,40}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

/// An error in the contract's shape: a 400 whose body says so.
fn assert_contract_400(e: &ApiError) {
    assert_eq!(e.status(), StatusCode::BAD_REQUEST);
    let res = e.error_response();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body = res
        .into_body()
        .try_into_bytes()
        .unwrap_or_else(|_| panic!("a body in memory"));
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["statusCode"], 400);
    assert!(body["statusMessage"].is_string());
}

fn check<T>(parsed: Result<T, ApiError>) {
    if let Err(e) = parsed {
        assert_contract_400(&e);
    }
}

proptest! {
    #[test]
    fn any_json_body_is_parsed_or_refused_with_a_400(body in json()) {
        check(PostMessagesRequest::parse(body.clone(), &MessageLimits::default()));
        check(NewChatRequest::parse(body.clone()));
        check(RenameChatRequest::parse(body.clone()));
        check(ChatIdsRequest::parse(body));
    }

    #[test]
    fn any_bytes_that_are_json_are_parsed_or_refused(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(body) = serde_json::from_slice::<Value>(&bytes) {
            check(PostMessagesRequest::parse(body, &MessageLimits::default()));
        }
    }

    #[test]
    fn any_route_id_is_a_positive_number_or_an_issue(raw in ".{0,24}") {
        if let Ok(n) = parse_positive(&raw, "chat_id", i64::from(i32::MAX)) {
            prop_assert!((1..=i64::from(i32::MAX)).contains(&n));
        }
        let expected = parse_positive(&raw, "chat_id", i64::from(i32::MAX)).ok();
        let req = TestRequest::default()
            .param("user_id", raw.clone())
            .param("chat_id", raw)
            .to_http_request();
        match (ChatPath::of(&req), expected) {
            (Ok(ChatPath(user, chat)), Some(n)) => {
                prop_assert_eq!(i64::from(user.get()), n);
                prop_assert_eq!(i64::from(chat.get()), n);
            }
            // The same bad value in both segments: one issue for each.
            (Err(issues), None) => prop_assert_eq!(issues.len(), 2),
            (got, expected) => prop_assert!(false, "{:?} against {:?}", got.is_ok(), expected),
        }
    }

    #[test]
    fn every_cursor_the_service_makes_round_trips(
        order in order(),
        name in ".{0,30}",
        model in ".{0,30}",
        created in 0i64..4_102_444_800_000_000,
        updated in 0i64..4_102_444_800_000_000,
        id in 1i32..=i32::MAX,
    ) {
        let chat = Chat {
            id: ChatId::new(id.into()).unwrap(),
            owner: UserId::new(1).unwrap(),
            name: name.replace('\0', ""),
            model: model.replace('\0', ""),
            created_at: DateTime::from_timestamp_micros(created).unwrap(),
            updated_at: DateTime::from_timestamp_micros(updated).unwrap(),
        };
        let cursor = ChatCursor::after(&chat, &order);
        prop_assert_eq!(decode_cursor(&encode_cursor(&cursor)), Some(cursor));
    }

    #[test]
    fn any_query_string_is_parsed_or_refused_with_a_400(query in "[a-z_=&%0-9A-Za-z:,.\\-+]{0,60}") {
        let req = TestRequest::with_uri(&format!("/x?{query}")).to_http_request();
        check(MessageListParams::of(&req));
        check(ChatListParams::of(&req));
    }

    #[test]
    fn any_cursor_decodes_or_is_refused(raw in ".{0,80}") {
        if let Some(cursor) = decode_cursor(&raw) {
            prop_assert_eq!(decode_cursor(&encode_cursor(&cursor)), Some(cursor));
        }
    }

    #[test]
    fn any_json_as_a_cursor_decodes_or_is_refused(value in json()) {
        use base64::Engine as _;
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string());
        if let Some(cursor) = decode_cursor(&raw) {
            prop_assert_eq!(decode_cursor(&encode_cursor(&cursor)), Some(cursor));
        }
    }
}
