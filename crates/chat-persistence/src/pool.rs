//! The connection pool both backends use: deadpool over diesel-async connections, each set up
//! by a batch of statements when it is opened. A checkout costs no round trip: a connection
//! whose socket has closed or whose transaction state is broken is dropped on checkout (diesel's
//! `is_broken`), and one that breaks in use is dropped when its lease ends.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context as _;
use diesel_async::SimpleAsyncConnection;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, PoolableConnection, RecyclingMethod,
};
use futures_util::future::BoxFuture;

use crate::DatabaseSettings;

/// How a backend opens one connection.
pub type Connect<C> =
    Arc<dyn Fn() -> BoxFuture<'static, diesel::ConnectionResult<C>> + Send + Sync>;

/// A pool of connections opened by `connect` (to `url`, which names the pool), each of which
/// runs `setup` (SQL) once when it is opened. No connection is opened until one is needed, so
/// the service starts (and answers 503) while the database is away, and heals when it is back.
/// Connections are opened on the runtime the pool was built on (see `on_home`).
pub fn build<C>(
    url: &str,
    connect: Connect<C>,
    setup: String,
    settings: &DatabaseSettings,
) -> anyhow::Result<Pool<C>>
where
    C: PoolableConnection + SimpleAsyncConnection + Send + 'static,
    AsyncDieselConnectionManager<C>: deadpool::managed::Manager,
{
    let home = tokio::runtime::Handle::try_current().ok();
    build_sized(url, connect, setup, settings, settings.pool_size, home)
}

/// `settings.pool_size` connections split among `settings.pool_threads` pools, one for each
/// thread that runs requests (see [`PerThread`]); each connection is opened, and so driven, on
/// the thread that first needs it.
pub fn build_per_thread<C>(
    url: &str,
    connect: Connect<C>,
    setup: String,
    settings: &DatabaseSettings,
) -> anyhow::Result<PerThread<C>>
where
    C: PoolableConnection + SimpleAsyncConnection + Send + 'static,
    AsyncDieselConnectionManager<C>: deadpool::managed::Manager<Type = C>,
{
    let pools = shares(settings.pool_size, settings.pool_threads)
        .map(|size| build_sized(url, connect.clone(), setup.clone(), settings, size, None))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(PerThread {
        pools: pools.into(),
    })
}

/// `total` split into `parts` sizes as even as may be, none empty: fewer parts when `total` is
/// smaller.
fn shares(total: usize, parts: usize) -> impl Iterator<Item = usize> {
    let parts = parts.clamp(1, total.max(1));
    (0..parts).map(move |i| total / parts + usize::from(i < total % parts))
}

fn build_sized<C>(
    url: &str,
    connect: Connect<C>,
    setup: String,
    settings: &DatabaseSettings,
    size: usize,
    home: Option<tokio::runtime::Handle>,
) -> anyhow::Result<Pool<C>>
where
    C: PoolableConnection + SimpleAsyncConnection + Send + 'static,
    AsyncDieselConnectionManager<C>: deadpool::managed::Manager,
{
    let mut config = ManagerConfig::default();
    // No health query on checkout (it cost a round trip a request): diesel-async's recycle
    // still refuses a connection that `is_broken` (closed socket, broken transaction).
    config.recycling_method = RecyclingMethod::Fast;
    config.custom_setup = Box::new(move |_url| {
        let (setup, connect) = (setup.clone(), connect.clone());
        on_home(
            home.as_ref(),
            Box::pin(async move {
                let mut conn = connect().await?;
                if !setup.is_empty() {
                    conn.batch_execute(&setup)
                        .await
                        .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                }
                Ok(conn)
            }),
        )
    });
    let manager = AsyncDieselConnectionManager::<C>::new_with_config(url, config);
    Pool::builder(manager)
        .max_size(size)
        .wait_timeout(Some(settings.pool_wait))
        .create_timeout(Some(settings.connect_timeout))
        .recycle_timeout(Some(settings.connect_timeout))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .context("building the connection pool")
}

/// Opens a connection on `home` if given, so that its driver (diesel-async spawns one per
/// connection, where it is opened) runs there, not on whichever thread happened to open it.
fn on_home<C: Send + 'static>(
    home: Option<&tokio::runtime::Handle>,
    open: BoxFuture<'static, diesel::ConnectionResult<C>>,
) -> BoxFuture<'static, diesel::ConnectionResult<C>> {
    let Some(home) = home else { return open };
    let opened = home.spawn(open);
    Box::pin(async move {
        opened.await.map_err(|e| {
            diesel::ConnectionError::BadConnection(format!("opening a connection: {e}"))
        })?
    })
}

/// A pool for each thread that runs requests (each HTTP worker, each of the main runtime's
/// threads): a thread takes its connections from its own pool, which opened them on that
/// thread, so a statement's answer wakes the thread that waits for it, with no hand-off to a
/// thread that drives the connection and back (docs/performance.md). A thread keeps its pool
/// for life; threads past the pools' number share them in turn.
pub struct PerThread<C: PoolableConnection + 'static>
where
    AsyncDieselConnectionManager<C>: deadpool::managed::Manager<Type = C>,
{
    pools: Arc<[Pool<C>]>,
}

impl<C: PoolableConnection + 'static> Clone for PerThread<C>
where
    AsyncDieselConnectionManager<C>: deadpool::managed::Manager<Type = C>,
{
    fn clone(&self) -> Self {
        Self {
            pools: self.pools.clone(),
        }
    }
}

impl<C: PoolableConnection + 'static> PerThread<C>
where
    AsyncDieselConnectionManager<C>: deadpool::managed::Manager<Type = C>,
{
    /// This thread's pool.
    pub fn local(&self) -> &Pool<C> {
        self.of_thread(thread_number())
    }

    fn of_thread(&self, number: usize) -> &Pool<C> {
        &self.pools[number % self.pools.len()]
    }

    /// All the pools' status, added up.
    pub fn status(&self) -> deadpool::Status {
        let mut total = deadpool::Status {
            max_size: 0,
            size: 0,
            available: 0,
            waiting: 0,
        };
        for status in self.pools.iter().map(Pool::status) {
            total.max_size += status.max_size;
            total.size += status.size;
            total.available += status.available;
            total.waiting += status.waiting;
        }
        total
    }
}

/// This thread's number: threads are numbered in the order they first ask.
fn thread_number() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static NUMBER: usize = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    NUMBER.with(|n| *n)
}

/// A connection taken from the pool for one operation. Dropped with a transaction still open
/// or a connection that is closed (the operation's future was dropped at an await: a client
/// reset, a timeout, a forced shutdown), it is closed rather than pooled, so that no
/// transaction, and no lock it holds, waits in the pool for the next checkout.
pub struct Lease<C>(Option<Object<C>>)
where
    C: PoolableConnection + 'static,
    AsyncDieselConnectionManager<C>: deadpool::managed::Manager<Type = C>;

impl<C> Lease<C>
where
    C: PoolableConnection + 'static,
    AsyncDieselConnectionManager<C>: deadpool::managed::Manager<Type = C>,
{
    pub fn new(conn: Object<C>) -> Self {
        Self(Some(conn))
    }
}

impl<C> std::ops::Deref for Lease<C>
where
    C: PoolableConnection + 'static,
    AsyncDieselConnectionManager<C>: deadpool::managed::Manager<Type = C>,
{
    type Target = C;

    fn deref(&self) -> &C {
        // Some until dropped.
        self.0
            .as_deref()
            .unwrap_or_else(|| unreachable!("a lease is emptied only on drop"))
    }
}

impl<C> std::ops::DerefMut for Lease<C>
where
    C: PoolableConnection + 'static,
    AsyncDieselConnectionManager<C>: deadpool::managed::Manager<Type = C>,
{
    fn deref_mut(&mut self) -> &mut C {
        self.0
            .as_deref_mut()
            .unwrap_or_else(|| unreachable!("a lease is emptied only on drop"))
    }
}

impl<C> Drop for Lease<C>
where
    C: PoolableConnection + 'static,
    AsyncDieselConnectionManager<C>: deadpool::managed::Manager<Type = C>,
{
    fn drop(&mut self) {
        if let Some(mut conn) = self.0.take()
            && conn.is_broken()
        {
            tracing::debug!("closing a connection left inside a transaction");
            drop(Object::take(conn));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use secrecy::SecretString;

    use super::*;
    use crate::sqlite::connection::SqliteConn;

    #[test]
    fn the_pool_is_split_evenly_and_never_past_its_size() {
        let split = |total, parts| shares(total, parts).collect::<Vec<_>>();
        assert_eq!(split(10, 3), [4, 3, 3]);
        assert_eq!(split(10, 1), [10]);
        assert_eq!(split(4, 4), [1, 1, 1, 1]);
        // Fewer connections than threads: a pool of one each, shared in turn.
        assert_eq!(split(2, 5), [1, 1]);
        assert_eq!(split(1, 0), [1]);
    }

    fn settings(pool_size: usize, pool_threads: usize) -> DatabaseSettings {
        DatabaseSettings {
            url: SecretString::from("sqlite::memory:"),
            pool_size,
            pool_threads,
            pool_wait: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(1),
            statement_timeout: Duration::from_secs(1),
            busy_timeout: Duration::from_secs(1),
            append_queue: 1,
            key_ttl: Duration::from_secs(1),
            statement_cache: true,
            app_secret: SecretString::from("unused"),
            app_system_actor: false,
            migration_url: None,
        }
    }

    fn per_thread(pool_size: usize, pool_threads: usize) -> PerThread<SqliteConn> {
        // Never called: no connection is opened until one is needed.
        let connect: Connect<SqliteConn> = Arc::new(|| {
            Box::pin(async {
                Err(diesel::ConnectionError::BadConnection(
                    "not in this test".into(),
                ))
            })
        });
        build_per_thread(
            "test",
            connect,
            String::new(),
            &settings(pool_size, pool_threads),
        )
        .expect("pools build without connecting")
    }

    #[test]
    fn each_thread_keeps_to_one_pool_of_its_own() {
        let pools = per_thread(10, 3);
        assert_eq!(pools.status().max_size, 10);
        assert_eq!(thread_number(), thread_number());
        let other = std::thread::scope(|s| s.spawn(thread_number).join());
        assert_ne!(other.ok(), Some(thread_number()));
        let pool = |n| std::ptr::from_ref(pools.of_thread(n));
        assert!(pool(0) != pool(1) && pool(1) != pool(2) && pool(0) != pool(2));
        // A thread past the pools' number shares one.
        assert_eq!(pool(3), pool(0));
    }
}
