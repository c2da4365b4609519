//! Sessions as the app keeps them: an iron seal whose plaintext is
//! `{"id": "<uuid>", "createdAt": <ms>, "data": {"user": {"id": <int>, ...}, ...}}`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chat_domain::{SessionError, SessionVerifier, UserId};
use serde_json::{Value, json};

use crate::iron::{self, Password, SealError, UnsealError};

/// iron's default `timestampSkewSec`.
const EXPIRY_SKEW: Duration = Duration::from_secs(60);

/// Verifies and mints iron-sealed sessions.
#[derive(Debug, Clone)]
pub struct IronSessions {
    /// The current password first, then older ones still accepted during a rotation.
    passwords: Vec<Password>,
    max_age: Option<Duration>,
}

impl IronSessions {
    pub fn new(current: Password, previous: Vec<Password>, max_age: Option<Duration>) -> Self {
        let mut passwords = vec![current];
        passwords.extend(previous);
        Self { passwords, max_age }
    }

    /// A session for `user`, sealed with the current password, that h3 itself would accept.
    /// With `max_age`, the seal expires that long from now (as h3 seals with `maxAge`).
    pub fn mint(&self, user: UserId, max_age: Option<Duration>) -> Result<String, SealError> {
        let now = now_ms();
        let payload = json!({
            "id": uuid::Uuid::new_v4().to_string(),
            "createdAt": now,
            "data": { "user": { "id": user.get() } },
        });
        let expires = max_age.map(|age| now.saturating_add(millis(age)));
        iron::seal(payload.to_string().as_bytes(), &self.passwords[0], expires)
    }

    /// [`SessionVerifier::verify`] at the instant `now` (milliseconds since the epoch)
    /// instead of the system clock's, so that seals that expire can be checked at any date.
    pub fn verify_at(&self, token: &str, now: i64) -> Result<UserId, SessionError> {
        let plaintext = iron::unseal(token, &self.passwords, now, millis(EXPIRY_SKEW)).map_err(
            |e| match e {
                UnsealError::Malformed(why) => SessionError::Malformed(why),
                UnsealError::Expired => SessionError::Expired,
                UnsealError::BadMac => SessionError::BadSeal,
            },
        )?;
        let session: Value = serde_json::from_slice(&plaintext)
            .map_err(|_| SessionError::Malformed("the payload is not JSON"))?;
        if let Some(max_age) = self.max_age {
            // h3: a session without createdAt is infinitely old.
            let created = session.get("createdAt").and_then(Value::as_f64);
            let fresh = created.is_some_and(|c| (now as f64) - c <= millis(max_age) as f64);
            if !fresh {
                return Err(SessionError::TooOld);
            }
        }
        let id = session
            .pointer("/data/user/id")
            .ok_or(SessionError::NoUser("no data.user.id"))?
            .as_i64()
            .ok_or(SessionError::NoUser("data.user.id is not an integer"))?;
        UserId::new(id).map_err(|_| SessionError::NoUser("data.user.id is out of range"))
    }
}

impl SessionVerifier for IronSessions {
    fn verify(&self, token: &str) -> Result<UserId, SessionError> {
        self.verify_at(token, now_ms())
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn now_ms() -> i64 {
    // A clock before 1970 is a broken host; treating it as the epoch refuses expiring seals.
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(millis)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::*;

    fn sessions(max_age: Option<Duration>) -> IronSessions {
        let pw = Password::new(SecretString::from("0123456789abcdef0123456789abcdef")).unwrap();
        IronSessions::new(pw, vec![], max_age)
    }

    fn seal_json(s: &IronSessions, v: Value) -> String {
        iron::seal(v.to_string().as_bytes(), &s.passwords[0], None).unwrap()
    }

    #[test]
    fn minted_sessions_verify() {
        let s = sessions(None);
        let token = s.mint(UserId::new(42).unwrap(), None).unwrap();
        assert_eq!(s.verify(&token).unwrap().get(), 42);
    }

    #[test]
    fn minted_sessions_with_max_age_carry_an_expiry() {
        let s = sessions(None);
        let token = s
            .mint(UserId::new(1).unwrap(), Some(Duration::from_secs(10)))
            .unwrap();
        let expiry: i64 = token.split('*').nth(5).unwrap().parse().unwrap();
        assert!((expiry - now_ms() - 10_000).abs() < 5_000);
        assert!(matches!(
            s.verify_at(&token, expiry + 60_000),
            Err(SessionError::Expired)
        ));
    }

    #[test]
    fn max_age_refuses_old_sessions() {
        let s = sessions(Some(Duration::from_secs(60)));
        let now = now_ms();
        let old = seal_json(
            &s,
            json!({"createdAt": now - 61_000, "data": {"user": {"id": 1}}}),
        );
        assert!(matches!(s.verify_at(&old, now), Err(SessionError::TooOld)));
        let none = seal_json(&s, json!({"data": {"user": {"id": 1}}}));
        assert!(matches!(s.verify_at(&none, now), Err(SessionError::TooOld)));
        let fresh = seal_json(
            &s,
            json!({"createdAt": now - 1_000, "data": {"user": {"id": 1}}}),
        );
        assert_eq!(s.verify_at(&fresh, now).unwrap().get(), 1);
    }

    #[test]
    fn user_id_must_be_a_positive_integer() {
        let s = sessions(None);
        for bad in [
            json!({"data": {}}),
            json!({"data": {"user": {"id": "7"}}}),
            json!({"data": {"user": {"id": 7.5}}}),
            json!({"data": {"user": {"id": 0}}}),
            json!({"data": {"user": {"id": 2_147_483_648_i64}}}),
            json!([1, 2]),
        ] {
            let token = seal_json(&s, bad.clone());
            assert!(
                matches!(s.verify(&token), Err(SessionError::NoUser(_))),
                "{bad}"
            );
        }
        let not_json = iron::seal(b"not json", &s.passwords[0], None).unwrap();
        assert!(matches!(
            s.verify(&not_json),
            Err(SessionError::Malformed(_))
        ));
    }
}
