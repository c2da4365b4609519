//! A pool for each HTTP worker (see [`PerThread`]).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use diesel_async::SimpleAsyncConnection;
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, PoolableConnection};

use super::{Connect, Home, build_sized};
use crate::DatabaseSettings;

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
