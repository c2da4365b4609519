//! Property tests of the iron unseal: any token gives an answer (a user or a refusal), never a
//! panic; a valid session changed anywhere is refused.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chat_domain::{SessionVerifier, UserId};
use chat_sessions::{IronSessions, Password};
use proptest::prelude::*;
use secrecy::SecretString;

fn sessions() -> IronSessions {
    let password = Password::new(SecretString::from(
        "property-password-0123456789-abcdefghij",
    ));
    IronSessions::new(password.unwrap(), vec![], None)
}

/// Tokens shaped like seals (eight `*`-separated parts, the right prefix) with arbitrary
/// parts, so that the unseal gets past its first checks.
fn seal_shaped() -> impl Strategy<Value = String> {
    prop::collection::vec("[A-Za-z0-9_\\-]{0,40}", 7)
        .prop_map(|parts| format!("Fe26.2*{}", parts.join("*")))
}

proptest! {
    #[test]
    fn any_token_is_answered_without_a_panic(token in ".*") {
        let _ = sessions().verify(&token);
    }

    #[test]
    fn seal_shaped_tokens_are_refused(token in seal_shaped()) {
        prop_assert!(sessions().verify(&token).is_err());
    }

    #[test]
    fn a_session_changed_anywhere_is_refused(
        at in any::<prop::sample::Index>(),
        with in prop::char::range('!', '~'),
        cut in any::<bool>(),
    ) {
        let sessions = sessions();
        let token = sessions.mint(UserId::new(7).unwrap(), None).unwrap();
        let i = at.index(token.len());
        let changed = if cut {
            token[..i].to_owned()
        } else {
            format!("{}{with}{}", &token[..i], &token[i + 1..])
        };
        prop_assume!(changed != token);
        prop_assert!(sessions.verify(&changed).is_err(), "{changed}");
    }
}
