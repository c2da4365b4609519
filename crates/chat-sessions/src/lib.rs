//! The sessions adapter: the app's iron-sealed sessions (h3 `useSession`, behind
//! nuxt-auth-utils), opened to implement the domain's `SessionVerifier` port and sealed to mint
//! cookies the app accepts. Knows nothing of HTTP: where the token travels is the web adapter's
//! business.

pub mod iron;
mod verifier;

pub use iron::{MIN_PASSWORD_LEN, Password, PasswordTooShort, SealError};
pub use verifier::IronSessions;
