//! Users. The app owns sign-up; this service only needs to create users for tests and tools.

use validator::ValidateEmail;

/// A syntactically valid e-mail address (as the `validator` crate judges it), trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a valid e-mail address")]
pub struct InvalidEmail(pub String);

impl EmailAddress {
    pub fn new(raw: &str) -> Result<Self, InvalidEmail> {
        let email = crate::text::trim(raw);
        if email.validate_email() {
            Ok(Self(email.to_owned()))
        } else {
            Err(InvalidEmail(raw.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_validated() {
        assert_eq!(
            EmailAddress::new(" ada@example.com ").map(|e| e.0),
            Ok("ada@example.com".into())
        );
        assert!(EmailAddress::new("not an email").is_err());
        assert!(EmailAddress::new("").is_err());
    }
}
