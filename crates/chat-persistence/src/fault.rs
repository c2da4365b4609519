//! The one place that sorts storage errors into the domain's [`StoreFailure`]: the database
//! could not be reached or locked in time (the client may retry: 503), or anything else (500).
//! Adapters map the constraint violations an operation expects before falling back to this.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::pooled_connection::deadpool::PoolError;

use chat_domain::{CreateChatError, CreateUserError, EmailAddress, NewChat, StoreFailure};

/// No connection from the pool.
pub fn pool_failure(e: PoolError) -> StoreFailure {
    match e {
        // Misconfiguration of the pool itself, not the database being away.
        PoolError::NoRuntimeSpecified => StoreFailure::Unknown(e.into()),
        // Timeouts, a database that refuses or drops connections, a closed pool.
        _ => StoreFailure::Unavailable(anyhow::Error::new(e).context("no database connection")),
    }
}

/// A query that failed.
pub fn failure(e: DieselError) -> StoreFailure {
    match &e {
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection
            | DatabaseErrorKind::UnableToSendCommand
            | DatabaseErrorKind::SerializationFailure,
            _,
        ) => StoreFailure::Unavailable(e.into()),
        // SQLite's SQLITE_BUSY/SQLITE_LOCKED past the busy timeout: contention, not a fault.
        // diesel passes no error code for these, only SQLite's fixed English message.
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, info)
            if is_sqlite_lock_message(info.message()) =>
        {
            StoreFailure::Unavailable(e.into())
        }
        _ => StoreFailure::Unknown(e.into()),
    }
}

fn is_sqlite_lock_message(message: &str) -> bool {
    message.starts_with("database is locked") || message.starts_with("database table is locked")
}

/// Creating a user: the unique e-mail constraint means the address is taken.
pub fn create_user_error(e: DieselError, email: &EmailAddress) -> CreateUserError {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
            CreateUserError::DuplicateEmail {
                email: email.as_str().to_owned(),
            }
        }
        other => failure(other).into(),
    }
}

/// Creating a chat: the owner's foreign key means there is no such user.
pub fn create_chat_error(e: DieselError, chat: &NewChat) -> CreateChatError {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
            CreateChatError::OwnerNotFound { owner: chat.owner }
        }
        other => failure(other).into(),
    }
}
