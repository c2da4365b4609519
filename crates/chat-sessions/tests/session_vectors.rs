//! Every session cookie in `vectors/sessions.json` (made by h3 1.15.3's own `useSession`; a
//! copy of `shared/vectors/sessions.json`) is accepted or refused exactly as it says.

use chat_domain::SessionVerifier;
use chat_sessions::{IronSessions, Password};
use secrecy::SecretString;
use serde_json::Value;

/// The first vector's password is the current one; the third vector's is an older one still
/// accepted during a rotation.
const CURRENT: &str = "vector-password-one-0123456789-abcdefghij";

#[test]
fn every_vector_is_accepted_or_refused_as_it_says() {
    let vectors: Value =
        serde_json::from_str(include_str!("vectors/sessions.json")).expect("vectors parse");
    let vectors = vectors["vectors"].as_array().expect("a list of vectors");
    assert_eq!(vectors.len(), 11);
    for v in vectors {
        let name = v["name"].as_str().unwrap();
        let own = v["password"].as_str().unwrap();
        let mut previous = vec![];
        if own != CURRENT {
            previous.push(Password::new(SecretString::from(own)).unwrap());
        }
        let current = Password::new(SecretString::from(CURRENT)).unwrap();
        let sessions = IronSessions::new(current, previous, None);
        let got = sessions.verify(v["value"].as_str().unwrap());
        match v["expect"].get("user_id").and_then(Value::as_i64) {
            Some(user) => assert_eq!(got.map(|u| i64::from(u.get())).ok(), Some(user), "{name}"),
            None => assert!(got.is_err(), "{name}: expected a refusal, got {got:?}"),
        }
    }
}

#[test]
fn the_rotated_vector_is_refused_once_its_password_is_dropped() {
    let vectors: Value = serde_json::from_str(include_str!("vectors/sessions.json")).unwrap();
    let rotated = vectors["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["password"] != CURRENT)
        .unwrap();
    let current = Password::new(SecretString::from(CURRENT)).unwrap();
    let sessions = IronSessions::new(current, vec![], None);
    assert!(sessions.verify(rotated["value"].as_str().unwrap()).is_err());
}
