//! The connection pool both backends use: deadpool over diesel-async connections, each set up
//! by a batch of statements when it is opened. A checkout costs no round trip: a connection
//! whose socket has closed or whose transaction state is broken is dropped on checkout (diesel's
//! `is_broken`), and one that breaks in use is dropped when its lease ends.

use std::sync::{Arc, OnceLock};

use anyhow::Context as _;
use diesel_async::SimpleAsyncConnection;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, PoolableConnection, RecyclingMethod,
};
use futures_util::future::BoxFuture;

use crate::DatabaseSettings;

mod per_thread;
pub use per_thread::{PerThread, build_per_thread};

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
        let open = move || -> BoxFuture<'static, diesel::ConnectionResult<C>> {
            let (setup, connect) = (setup.clone(), connect.clone());
            Box::pin(async move {
                let mut conn = connect().await?;
                if !setup.is_empty() {
                    conn.batch_execute(&setup)
                        .await
                        .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                }
                Ok(conn)
            })
        };
        on_home(home.get().cloned(), open)
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
/// Where `home` has stopped (its worker ended: actix starts another), it opens here instead.
fn on_home<C, F>(
    home: Option<tokio::runtime::Handle>,
    open: F,
) -> BoxFuture<'static, diesel::ConnectionResult<C>>
where
    C: Send + 'static,
    F: Fn() -> BoxFuture<'static, diesel::ConnectionResult<C>> + Send + 'static,
{
    let Some(home) = home else { return open() };
    let opened = home.spawn(open());
    Box::pin(async move {
        match opened.await {
            Ok(result) => result,
            Err(e) if e.is_cancelled() => open().await,
            Err(e) => Err(diesel::ConnectionError::BadConnection(format!(
                "opening a connection: {e}"
            ))),
        }
    })
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
    use super::*;
    use crate::sqlite::connection::SqliteConn;

    #[test]
    fn a_pool_whose_worker_has_stopped_opens_its_connections_where_it_is_asked() {
        let open = || -> BoxFuture<'static, diesel::ConnectionResult<SqliteConn>> {
            Box::pin(<SqliteConn as diesel_async::AsyncConnection>::establish(
                ":memory:",
            ))
        };
        let worker = tokio::runtime::Builder::new_current_thread().build();
        let stopped = worker.map(|w| w.handle().clone());
        let main = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build();
        let (Ok(stopped), Ok(main)) = (stopped, main) else {
            panic!("runtimes for the test");
        };
        // The worker's runtime was dropped with `worker` above: its handle spawns nothing.
        let opened = main.block_on(on_home(Some(stopped), open));
        assert!(opened.is_ok(), "{:?}", opened.err());
    }
}
