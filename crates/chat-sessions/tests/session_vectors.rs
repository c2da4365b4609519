//! Every session cookie in `vectors/sessions.json` (made by h3 1.15.3's own `useSession`; a
//! copy of the vectors the app's team made with its own session code) is accepted or refused
//! exactly as it says.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chat_sessions::{IronSessions, Password};
use secrecy::SecretString;
use serde_json::Value;

/// The first vector's password is the current one; the third vector's is an older one still
/// accepted during a rotation.
const CURRENT: &str = "vector-password-one-0123456789-abcdefghij";

/// The vectors were sealed on 2026-11-21 at 19:24:38Z; they are checked the day after, on
/// 2026-11-22T00:00:00Z, whatever the date the tests run (the long-lived one expires a year
/// after it was sealed).
const CHECKED_AT_MS: i64 = 1_795_305_600_000;
/// A day past the long-lived seal's expiry (2027-11-21T19:24:38Z, plus iron's 60 s of skew).
const A_YEAR_LATER_MS: i64 = 1_826_928_000_000;

fn vectors() -> Vec<Value> {
    let vectors: Value =
        serde_json::from_str(include_str!("vectors/sessions.json")).expect("vectors parse");
    vectors["vectors"]
        .as_array()
        .expect("a list of vectors")
        .clone()
}

#[test]
fn every_vector_is_accepted_or_refused_as_it_says() {
    let vectors = vectors();
    assert_eq!(vectors.len(), 11);
    for v in &vectors {
        let name = v["name"].as_str().unwrap();
        let own = v["password"].as_str().unwrap();
        let mut previous = vec![];
        if own != CURRENT {
            previous.push(Password::new(SecretString::from(own)).unwrap());
        }
        let current = Password::new(SecretString::from(CURRENT)).unwrap();
        let sessions = IronSessions::new(current, previous, None);
        let got = sessions.verify_at(v["value"].as_str().unwrap(), CHECKED_AT_MS);
        match v["expect"].get("user_id").and_then(Value::as_i64) {
            Some(user) => assert_eq!(got.map(|u| i64::from(u.get())).ok(), Some(user), "{name}"),
            None => assert!(got.is_err(), "{name}: expected a refusal, got {got:?}"),
        }
    }
}

/// The clock is the check's: the long-lived seal, accepted above, is refused once it expired.
#[test]
fn the_long_lived_vector_is_refused_after_its_expiry() {
    let long_lived = vectors()
        .into_iter()
        .find(|v| v["name"].as_str().unwrap().contains("long-lived"))
        .unwrap();
    let current = Password::new(SecretString::from(CURRENT)).unwrap();
    let sessions = IronSessions::new(current, vec![], None);
    let token = long_lived["value"].as_str().unwrap();
    assert!(sessions.verify_at(token, CHECKED_AT_MS).is_ok());
    assert!(matches!(
        sessions.verify_at(token, A_YEAR_LATER_MS),
        Err(chat_domain::SessionError::Expired)
    ));
}

#[test]
fn the_rotated_vector_is_refused_once_its_password_is_dropped() {
    let rotated = vectors()
        .into_iter()
        .find(|v| v["password"] != CURRENT)
        .unwrap();
    let current = Password::new(SecretString::from(CURRENT)).unwrap();
    let sessions = IronSessions::new(current, vec![], None);
    assert!(
        sessions
            .verify_at(rotated["value"].as_str().unwrap(), CHECKED_AT_MS)
            .is_err()
    );
}
