//! Route parameters: positive integers in plain decimal, at most 2147483647.

use serde_json::json;

use crate::helpers::{Backend, assert_error, spawn_app};

const INVALID: &str = "Bad Request. Invalid route parameters(user_id | chat_id).";

pub async fn bad_ids_are_400_with_zods_issue(backend: Backend) {
    let app = spawn_app(backend).await;
    let cases = [
        ("abc", "invalid_type"),
        ("1e2", "invalid_type"),
        ("0x10", "invalid_type"),
        ("4.0", "invalid_type"),
        ("%20", "invalid_type"),
        ("0", "too_small"),
        ("-1", "too_small"),
        ("2147483648", "too_big"),
        ("99999999999999999999999", "too_big"),
    ];
    for (raw, code) in cases {
        for (user, chat, name) in [(raw, "1", "user_id"), ("1", raw, "chat_id")] {
            let res = app
                .client
                .post(app.messages_url(user, chat))
                .send()
                .await
                .unwrap();
            let body = assert_error(res, 400, INVALID).await;
            let issues = body["data"]["issues"].as_array().unwrap();
            assert_eq!(issues.len(), 1, "{raw}");
            assert_eq!(issues[0]["code"], code, "{raw}");
            assert_eq!(issues[0]["path"], json!([name]), "{raw}");
            if code == "invalid_type" {
                assert_eq!(issues[0]["expected"], "number");
                assert_eq!(issues[0]["received"], "nan");
            }
        }
    }
}

pub async fn empty_segments_and_two_bad_ids_are_reported(backend: Backend) {
    let app = spawn_app(backend).await;
    let res = app
        .client
        .post(format!("{}/api/users//chats//messages", app.address))
        .send()
        .await
        .unwrap();
    let body = assert_error(res, 400, INVALID).await;
    assert_eq!(body["data"]["issues"][0]["path"], json!(["user_id"]));
    assert_eq!(body["data"]["issues"][1]["path"], json!(["chat_id"]));
}

pub async fn the_largest_id_is_valid(backend: Backend) {
    let app = spawn_app(backend).await;
    let res = app
        .client
        .post(app.messages_url(2_147_483_647, 2_147_483_647))
        .send()
        .await
        .unwrap();
    // Valid ids, no session: the next check answers.
    assert_error(res, 401, "Unauthorized.").await;
}

crate::on_both_backends!(
    bad_ids_are_400_with_zods_issue,
    empty_segments_and_two_bad_ids_are_reported,
    the_largest_id_is_valid,
);
