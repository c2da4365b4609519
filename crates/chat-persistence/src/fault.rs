//! The one place that sorts storage errors into the domain's [`StoreFailure`]: a fault the
//! client may retry, with nothing stored (503), or anything else, a bug (500).
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

/// A query that failed: a fault the client may retry (503), or anything else (500).
pub fn failure(e: DieselError) -> StoreFailure {
    match &e {
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection
            | DatabaseErrorKind::UnableToSendCommand
            | DatabaseErrorKind::SerializationFailure
            // A primary that became a replica (failover): the next connection may find the new one.
            | DatabaseErrorKind::ReadOnlyTransaction,
            _,
        ) => StoreFailure::Unavailable(e.into()),
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, info)
            if is_postgres_retryable(info.message()) =>
        {
            StoreFailure::Unavailable(e.into())
        }
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

/// PostgreSQL's faults that a retry may get past: the statement was cancelled or its
/// connection ended, so nothing of it was stored. diesel-async passes no SQLSTATE for these,
/// only the server's message, in English unless the server's `lc_messages` says otherwise
/// (see the README).
const POSTGRES_RETRYABLE: &[&str] = &[
    "canceling statement due to statement timeout", // 57014
    "canceling statement due to lock timeout",      // 55P03
    "canceling statement due to user request",      // 57014: pg_cancel_backend
    "canceling statement due to conflict with recovery", // 40001: a replica
    "could not obtain lock",                        // 55P03: NOWAIT
    "deadlock detected",                            // 40P01
    "could not serialize access",                   // 40001
    "terminating connection due to administrator command", // 57P01: shutdown, terminate
    "terminating connection due to conflict with recovery", // 40001
    "terminating connection because of crash of another server process", // 57P02
    "the database system is shutting down",         // 57P03
    "the database system is starting up",           // 57P03
    "the database system is in recovery mode",      // 57P03
    "the database system is not yet accepting connections", // 57P03
    "sorry, too many clients already",              // 53300
    "remaining connection slots are reserved",      // 53300
];

/// The server ended the session while a statement ran: PostgreSQL aborts the statement's
/// transaction, so nothing of it was stored (a commit that completed was answered first).
pub fn terminated_by_server(cause: &anyhow::Error) -> bool {
    const TERMINATED: &[&str] = &[
        "terminating connection due to administrator command", // 57P01
        "terminating connection because of crash of another server process", // 57P02
    ];
    match cause.downcast_ref::<DieselError>() {
        Some(DieselError::DatabaseError(_, info)) => {
            TERMINATED.iter().any(|m| info.message().starts_with(m))
        }
        _ => false,
    }
}

fn is_postgres_retryable(message: &str) -> bool {
    POSTGRES_RETRYABLE.iter().any(|m| message.starts_with(m))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn database_error(kind: DatabaseErrorKind, message: &str) -> DieselError {
        DieselError::DatabaseError(kind, Box::new(message.to_owned()))
    }

    #[test]
    fn faults_a_retry_may_get_past_are_unavailable() {
        for message in [
            "canceling statement due to statement timeout",
            "canceling statement due to lock timeout",
            "deadlock detected",
            "terminating connection due to administrator command",
            "the database system is shutting down",
            "database is locked",
        ] {
            let failure = failure(database_error(DatabaseErrorKind::Unknown, message));
            assert!(matches!(failure, StoreFailure::Unavailable(_)), "{message}");
        }
        for kind in [
            DatabaseErrorKind::SerializationFailure,
            DatabaseErrorKind::ClosedConnection,
            DatabaseErrorKind::UnableToSendCommand,
            DatabaseErrorKind::ReadOnlyTransaction,
        ] {
            let failure = failure(database_error(kind, "x"));
            assert!(matches!(failure, StoreFailure::Unavailable(_)), "{kind:?}");
        }
    }

    #[test]
    fn anything_else_is_unknown() {
        for message in [
            "injected failure",
            "syntax error at or near",
            "relation does not exist",
        ] {
            let failure = failure(database_error(DatabaseErrorKind::Unknown, message));
            assert!(matches!(failure, StoreFailure::Unknown(_)), "{message}");
        }
        let check = database_error(DatabaseErrorKind::CheckViolation, "deadlock detected");
        assert!(matches!(failure(check), StoreFailure::Unknown(_)));
    }
}
