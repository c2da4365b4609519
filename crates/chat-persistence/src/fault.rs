//! Sorting storage failures into the two kinds the domain distinguishes: the database could not
//! be reached or locked in time (the client may retry: 503), or anything else (500).

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::pooled_connection::deadpool::PoolError;

use chat_domain::{
    ChatError, CreateChatError, CreateUserError, EmailAddress, NewChat, PostMessagesError,
    StoreError,
};

#[derive(Debug)]
pub enum Fault {
    Unavailable(anyhow::Error),
    Unknown(anyhow::Error),
}

impl From<PoolError> for Fault {
    fn from(e: PoolError) -> Self {
        match e {
            // Misconfiguration of the pool itself, not the database being away.
            PoolError::NoRuntimeSpecified => Fault::Unknown(e.into()),
            // Timeouts, a database that refuses or drops connections, a closed pool.
            _ => Fault::Unavailable(anyhow::Error::new(e).context("no database connection")),
        }
    }
}

impl From<DieselError> for Fault {
    fn from(e: DieselError) -> Self {
        match &e {
            DieselError::DatabaseError(
                DatabaseErrorKind::ClosedConnection
                | DatabaseErrorKind::UnableToSendCommand
                | DatabaseErrorKind::SerializationFailure,
                _,
            ) => Fault::Unavailable(e.into()),
            // SQLite's SQLITE_BUSY/SQLITE_LOCKED past the busy timeout: contention, not a fault.
            // diesel passes no error code for these, only SQLite's fixed English message.
            DieselError::DatabaseError(DatabaseErrorKind::Unknown, info)
                if is_sqlite_lock_message(info.message()) =>
            {
                Fault::Unavailable(e.into())
            }
            _ => Fault::Unknown(e.into()),
        }
    }
}

fn is_sqlite_lock_message(message: &str) -> bool {
    message.starts_with("database is locked") || message.starts_with("database table is locked")
}

macro_rules! fault_into {
    ($($op:ty),*) => {$(
        impl From<Fault> for $op {
            fn from(f: Fault) -> Self {
                match f {
                    Fault::Unavailable(e) => Self::Unavailable(e),
                    Fault::Unknown(e) => Self::Unknown(e),
                }
            }
        }
    )*};
}

fault_into!(
    PostMessagesError,
    CreateUserError,
    CreateChatError,
    StoreError,
    ChatError
);

/// Creating a user: the unique e-mail constraint means the address is taken.
pub fn create_user_error(e: DieselError, email: &EmailAddress) -> CreateUserError {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
            CreateUserError::DuplicateEmail {
                email: email.as_str().to_owned(),
            }
        }
        other => Fault::from(other).into(),
    }
}

/// Creating a chat: the owner's foreign key means there is no such user.
pub fn create_chat_error(e: DieselError, chat: &NewChat) -> CreateChatError {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
            CreateChatError::OwnerNotFound { owner: chat.owner }
        }
        other => Fault::from(other).into(),
    }
}
