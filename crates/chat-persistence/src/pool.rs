//! The connection pool both backends use: deadpool over diesel-async connections, each set up
//! by a batch of statements when it is opened. A checkout costs no round trip: a connection
//! whose socket has closed or whose transaction state is broken is dropped on checkout (diesel's
//! `is_broken`), and one that breaks in use is dropped when its lease ends.

use std::sync::Arc;

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
    let mut config = ManagerConfig::default();
    // No health query on checkout (it cost a round trip a request): diesel-async's recycle
    // still refuses a connection that `is_broken` (closed socket, broken transaction).
    config.recycling_method = RecyclingMethod::Fast;
    let home = tokio::runtime::Handle::try_current().ok();
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
        .max_size(settings.pool_size)
        .wait_timeout(Some(settings.pool_wait))
        .create_timeout(Some(settings.connect_timeout))
        .recycle_timeout(Some(settings.connect_timeout))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .context("building the connection pool")
}

/// Opens a connection on `home`, the runtime the pool was built on (the service's main one), so
/// that its driver (diesel-async spawns one per connection, where it is opened) runs there, not
/// on whichever HTTP worker happened to open it: a worker busy with its own requests then never
/// holds up the statements of another worker's (docs/performance.md).
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
