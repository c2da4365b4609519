//! Identifiers. User and chat ids come from clients (route segments, sessions), so they are
//! validated: positive and within PostgreSQL's `integer`. Message ids are only ever handed out
//! by the store.

use std::fmt;

/// Why a number is not a valid user or chat id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("an id must be greater than 0")]
    NotPositive,
    #[error("an id must be at most {max}")]
    TooLarge { max: i64 },
}

macro_rules! positive_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(i32);

        impl $name {
            /// The largest id: the upper bound of PostgreSQL's `integer`.
            pub const MAX: i64 = i32::MAX as i64;

            pub fn new(raw: i64) -> Result<Self, IdError> {
                if raw < 1 {
                    return Err(IdError::NotPositive);
                }
                i32::try_from(raw)
                    .map(Self)
                    .map_err(|_| IdError::TooLarge { max: Self::MAX })
            }

            pub fn get(self) -> i32 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

positive_id!(
    /// The id of a `neptun_user` row.
    UserId
);
positive_id!(
    /// The id of a `chat_conversation` row.
    ChatId
);

/// The id of a stored message, as the store assigned it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId(i64);

impl MessageId {
    pub fn new(raw: i64) -> Self {
        Self(raw)
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_positive_and_fit_an_integer_column() {
        assert_eq!(UserId::new(0), Err(IdError::NotPositive));
        assert_eq!(UserId::new(-1), Err(IdError::NotPositive));
        assert_eq!(UserId::new(1).map(UserId::get), Ok(1));
        assert_eq!(ChatId::new(2_147_483_647).map(ChatId::get), Ok(i32::MAX));
        assert_eq!(
            ChatId::new(2_147_483_648),
            Err(IdError::TooLarge { max: 2_147_483_647 })
        );
    }
}
