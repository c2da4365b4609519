//! The connection pool both backends use: deadpool over diesel-async connections, each set up
//! by a batch of statements when it is opened. A checkout costs no round trip: a connection
//! whose socket has closed or whose transaction state is broken is dropped on checkout (diesel's
//! `is_broken`), and one that breaks in use is dropped when its lease ends.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

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
    let home = Arc::new(OnceLock::new());
    if let Ok(handle) = tokio::runtime::Handle::try_current() {
        let _ = home.set(handle);
    }
    build_sized(url, connect, setup, settings, settings.pool_size, home)
}

/// `settings.pool_size` connections split among a pool for each of `settings.pool_threads`
/// HTTP workers (see [`PerThread`]).
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
        .map(|size| {
            let home = Arc::new(OnceLock::new());
            let pool = build_sized(
                url,
                connect.clone(),
                setup.clone(),
                settings,
                size,
                home.clone(),
            )?;
            Ok(Owned { pool, home })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(PerThread {
        pools: pools.into(),
        lent: Arc::new(AtomicUsize::new(0)),
    })
}

/// `total` split into `parts` sizes as even as may be, none empty: fewer parts when `total` is
/// smaller.
fn shares(total: usize, parts: usize) -> impl Iterator<Item = usize> {
    let parts = parts.clamp(1, total.max(1));
    (0..parts).map(move |i| total / parts + usize::from(i < total % parts))
}

/// Where a pool opens its connections: the runtime that drives them (see `on_home`), once known.
type Home = Arc<OnceLock<tokio::runtime::Handle>>;

fn build_sized<C>(
    url: &str,
    connect: Connect<C>,
    setup: String,
    settings: &DatabaseSettings,
    size: usize,
    home: Home,
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
            home.get(),
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

/// A pool for each HTTP worker, which opens its connections on the worker's own runtime: the
/// worker's statements and their answers then never pass through another thread (a hand-off
/// to a thread that drives the connection and back; docs/performance.md). A worker is a
/// thread with a runtime of its own (`current_thread`); it keeps one pool for life, and workers
/// past the pools' number share them in turn. The main runtime's tasks (the append groups, the
/// housekeeping) borrow from the workers' pools in turn, and what they open is opened on the
/// pool's worker too.
pub struct PerThread<C: PoolableConnection + 'static>
where
    AsyncDieselConnectionManager<C>: deadpool::managed::Manager<Type = C>,
{
    pools: Arc<[Owned<C>]>,
    /// The pool lent next to a thread that is no worker.
    lent: Arc<AtomicUsize>,
}

/// A worker's pool, and the worker's runtime once it has asked.
struct Owned<C: PoolableConnection + 'static>
where
    AsyncDieselConnectionManager<C>: deadpool::managed::Manager<Type = C>,
{
    pool: Pool<C>,
    home: Home,
}

impl<C: PoolableConnection + 'static> Clone for PerThread<C>
where
    AsyncDieselConnectionManager<C>: deadpool::managed::Manager<Type = C>,
{
    fn clone(&self) -> Self {
        Self {
            pools: self.pools.clone(),
            lent: self.lent.clone(),
        }
    }
}

impl<C: PoolableConnection + 'static> PerThread<C>
where
    AsyncDieselConnectionManager<C>: deadpool::managed::Manager<Type = C>,
{
    /// This worker's pool, or one lent in turn to a thread that is no worker.
    pub fn local(&self) -> &Pool<C> {
        let current = tokio::runtime::Handle::try_current().ok();
        let worker = current
            .as_ref()
            .filter(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::CurrentThread);
        match worker {
            Some(handle) => {
                let owned = self.of_worker(worker_number());
                owned.home.get_or_init(|| handle.clone());
                &owned.pool
            }
            None => {
                &self
                    .of_worker(self.lent.fetch_add(1, Ordering::Relaxed))
                    .pool
            }
        }
    }

    fn of_worker(&self, number: usize) -> &Owned<C> {
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
        for status in self.pools.iter().map(|owned| owned.pool.status()) {
            total.max_size += status.max_size;
            total.size += status.size;
            total.available += status.available;
            total.waiting += status.waiting;
        }
        total
    }
}

/// This worker's number: workers are numbered in the order they first ask.
fn worker_number() -> usize {
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
    fn a_worker_keeps_to_its_pool_and_other_threads_borrow_in_turn() -> std::io::Result<()> {
        let pools = per_thread(10, 2);
        assert_eq!(pools.status().max_size, 10);
        let at = |pool: &Pool<SqliteConn>| std::ptr::from_ref(pool) as usize;
        let worker = tokio::runtime::Builder::new_current_thread().build()?;
        let mine = worker.block_on(async { at(pools.local()) });
        assert_eq!(mine, worker.block_on(async { at(pools.local()) }));
        let owned = pools.pools.iter().find(|o| at(&o.pool) == mine);
        assert!(
            owned.is_some_and(|o| o.home.get().is_some()),
            "the worker's runtime opens its connections"
        );
        let main = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build()?;
        let lent = [0, 1].map(|_| main.block_on(async { at(pools.local()) }));
        assert_ne!(lent[0], lent[1]);
        Ok(())
    }

    #[test]
    fn workers_are_numbered_apart_and_share_pools_past_their_number() {
        let pools = per_thread(10, 3);
        assert_eq!(worker_number(), worker_number());
        let other = std::thread::scope(|s| s.spawn(worker_number).join());
        assert_ne!(other.ok(), Some(worker_number()));
        let pool = |n| std::ptr::from_ref(&pools.of_worker(n).pool);
        assert!(pool(0) != pool(1) && pool(1) != pool(2) && pool(0) != pool(2));
        assert_eq!(pool(3), pool(0));
    }
}
