//! How a PostgreSQL operation gets its connection and gives it back: one checkout with no
//! health query, a second attempt on a new connection only where the first cannot have stored
//! anything, and, with the statement cache off, a transaction around the whole operation.
//!
//! Why the transaction: a PgBouncer before 1.21 in transaction pooling mode hands each
//! transaction to any server connection. tokio-postgres names every statement it prepares and
//! prepares it in a round trip of its own, so an autocommit statement's prepare and execute
//! could land on two server connections. Inside one transaction, the prepare, the execute and
//! the statement's close (the cache is off: nothing outlives its use) all stay on one, as do the
//! settings, which are `SET LOCAL` for the same reason.

use std::time::Duration;

use chat_domain::{ChatError, CreateChatError, CreateUserError, StoreFailure};
use diesel_async::{AnsiTransactionManager as Tm, AsyncPgConnection, TransactionManager as _};
use scoped_futures::ScopedBoxFuture;

use crate::fault::{failure, pool_failure, terminated_by_server};
use crate::pool::{Lease, PerThread};

/// The settings every statement runs under, as SQL: for the session, or (`local`) for the
/// transaction only.
pub fn settings_sql(statement_timeout: Duration, local: bool) -> String {
    let scope = if local { "SET LOCAL" } else { "SET" };
    // client_connection_check_interval (PostgreSQL 14+): a statement whose connection the
    // service closed (a dropped request, see `pool::Lease`) ends within a second, even while
    // it waits for a lock, instead of holding its locks until then.
    format!(
        "{scope} statement_timeout = {}; {scope} TIME ZONE 'UTC'; \
         DO $$ BEGIN IF current_setting('server_version_num')::int >= 140000 THEN \
             PERFORM set_config('client_connection_check_interval', '1000', {local}); \
         END IF; END $$;",
        statement_timeout.as_millis()
    )
}

/// When an operation that failed may be tried once more, on a new connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// It writes nothing: whenever its connection broke.
    Read,
    /// It writes in one statement (or under an idempotency key, whose retry replays): when the
    /// server ended the session while the statement ran, which aborts it uncommitted.
    Aborted,
    /// Never (several statements whose commit's fate a broken connection leaves unknown).
    Never,
}

/// The errors of operations that carry a [`StoreFailure`].
pub trait Failing: From<StoreFailure> + std::fmt::Debug {
    fn store_failure(&self) -> Option<&StoreFailure>;
}

/// One operation on a connection, which [`Checkout::run`] may call twice.
pub trait Operation<'a, T, E>:
    for<'c> FnMut(&'c mut AsyncPgConnection) -> ScopedBoxFuture<'a, 'c, Result<T, E>> + Send
{
}

impl<'a, T, E, F> Operation<'a, T, E> for F where
    F: for<'c> FnMut(&'c mut AsyncPgConnection) -> ScopedBoxFuture<'a, 'c, Result<T, E>> + Send
{
}

impl Failing for StoreFailure {
    fn store_failure(&self) -> Option<&StoreFailure> {
        Some(self)
    }
}

macro_rules! failing {
    ($($error:ty),*) => {$(
        impl Failing for $error {
            fn store_failure(&self) -> Option<&StoreFailure> {
                match self {
                    Self::Store(f) => Some(f),
                    _ => None,
                }
            }
        }
    )*};
}
failing!(ChatError, CreateChatError, CreateUserError);

#[derive(Clone)]
pub struct Checkout {
    pools: PerThread<AsyncPgConnection>,
    /// With the statement cache off: how each operation's transaction begins.
    pinned: Option<String>,
}

impl Checkout {
    pub fn new(
        pools: PerThread<AsyncPgConnection>,
        statement_cache: bool,
        timeout: Duration,
    ) -> Self {
        let pinned = (!statement_cache).then(|| format!("BEGIN; {}", settings_sql(timeout, true)));
        Self { pools, pinned }
    }

    pub fn pool_status(&self) -> deadpool::Status {
        self.pools.status()
    }

    /// A connection for one step of an operation that handles its own connections.
    pub async fn conn(&self) -> Result<Lease<AsyncPgConnection>, StoreFailure> {
        self.pools
            .local()
            .get()
            .await
            .map(Lease::new)
            .map_err(pool_failure)
    }

    /// Runs `op` on a connection, and once more on a new one where `retry` allows.
    /// Write it `|conn| async move { ... }.scope_boxed()` (`scoped_futures::ScopedFutureExt`).
    pub async fn run<'a, T, E: Failing>(
        &self,
        retry: Retry,
        mut op: impl Operation<'a, T, E>,
    ) -> Result<T, E> {
        match self.attempt(&mut op).await {
            Err((e, broken)) if retry.allows(e.store_failure(), broken) => {
                tracing::debug!(error = ?e, "trying once more on a new connection");
                self.attempt(&mut op).await.map_err(|(e, _)| e)
            }
            result => result.map_err(|(e, _)| e),
        }
    }

    /// One try; on failure, whether trying again is safe as far as the connection goes: it
    /// broke, and not while committing (whether a commit went through is then unknown).
    async fn attempt<'a, T, E: Failing>(
        &self,
        op: &mut impl Operation<'a, T, E>,
    ) -> Result<T, (E, bool)> {
        let mut conn = self.conn().await.map_err(|f| (E::from(f), false))?;
        let result = match &self.pinned {
            None => op(&mut conn).await.map_err(|e| (e, false)),
            Some(begin) => pinned(&mut conn, begin, op).await,
        };
        result.map_err(|(e, committing)| {
            let broken = diesel_async::pooled_connection::PoolableConnection::is_broken(&mut *conn);
            (e, broken && !committing)
        })
    }
}

/// `op` inside a transaction of its own, committed when it succeeds. On failure, whether it
/// was the commit that failed.
async fn pinned<'a, T, E: Failing>(
    conn: &mut AsyncPgConnection,
    begin: &str,
    op: &mut impl Operation<'a, T, E>,
) -> Result<T, (E, bool)> {
    let failed = |e, committing| (E::from(failure(e)), committing);
    Tm::begin_transaction_sql(conn, begin)
        .await
        .map_err(|e| failed(e, false))?;
    match op(conn).await {
        Ok(value) => {
            Tm::commit_transaction(conn)
                .await
                .map_err(|e| failed(e, true))?;
            Ok(value)
        }
        Err(e) => {
            // A failed rollback leaves the connection broken; the lease closes it.
            let _ = Tm::rollback_transaction(conn).await;
            Err((e, false))
        }
    }
}

impl Retry {
    fn allows(self, failure: Option<&StoreFailure>, broken: bool) -> bool {
        // `broken`: the connection broke, and not while committing.
        let Some(StoreFailure::Unavailable(cause)) = failure else {
            return false;
        };
        match self {
            Retry::Read => broken,
            Retry::Aborted => broken && terminated_by_server(cause),
            Retry::Never => false,
        }
    }
}
