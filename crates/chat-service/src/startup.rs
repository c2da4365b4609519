//! Wiring: adapters built from the settings, given to the domain service, served by actix.

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use anyhow::Context as _;
use chat_domain::ChatService;
use chat_http::middleware::{contract_errors, head_as_get, request_telemetry};
use chat_persistence::{MigrationDirection, Store};
use chat_sessions::IronSessions;

use crate::settings::Settings;

/// The service as the binary runs it.
pub type Service = ChatService<Store, IronSessions>;

/// Builds the store `database.url` names (migrated if `database.migrate_on_start`) and the
/// domain service over it.
pub async fn build_service(settings: &Settings) -> anyhow::Result<Service> {
    let store = Store::new(settings.database()?)?;
    if settings.migrate_on_start {
        migrate(&store).await?;
    }
    Ok(ChatService::new(store, sessions(settings), settings.limits))
}

pub fn sessions(settings: &Settings) -> IronSessions {
    IronSessions::new(
        settings.session_password.clone(),
        settings.previous_passwords.clone(),
        settings.session_max_age,
    )
}

pub async fn migrate(store: &Store) -> anyhow::Result<()> {
    let applied = store.migrate(MigrationDirection::Up).await?;
    let backend = store.backend_name();
    if applied.is_empty() {
        tracing::info!(backend, "database schema is up to date");
    } else {
        tracing::info!(backend, ?applied, "applied migrations");
    }
    Ok(())
}

/// Reverts every migration of the service; on a database adopted from the app, the app's
/// tables and rows stay (see the first migration).
pub async fn revert(store: &Store) -> anyhow::Result<()> {
    let reverted = store.migrate(MigrationDirection::Down).await?;
    tracing::info!(
        backend = store.backend_name(),
        ?reverted,
        "reverted migrations"
    );
    Ok(())
}

/// Waits for SIGINT (Ctrl+C) or SIGTERM, then stops the server gracefully.
async fn stop_on_signal(server: ServerHandle) {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    let name = tokio::select! {
        _ = tokio::signal::ctrl_c() => "SIGINT",
        () = terminate => "SIGTERM",
    };
    tracing::info!(
        signal = name,
        "draining: no new connections; finishing requests in flight"
    );
    server.stop(true).await;
}

pub struct Application {
    port: u16,
    server: Server,
    service: web::Data<Service>,
    purge_interval: Duration,
}

/// Deletes expired idempotency keys every `interval`, for as long as it runs. Every instance
/// runs one; the deletes are idempotent, so several on one database only repeat each other.
async fn purge_keys(service: web::Data<Service>, interval: Duration) {
    // The first purge one interval after start, not during it.
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match service.purge_expired_keys().await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "purged expired idempotency keys"),
            Err(e) => tracing::warn!(error = %format_args!("{e:#}"), "purging idempotency keys"),
        }
    }
}

impl Application {
    /// Builds the service, binds `server.host:server.port` (port 0 picks a free one) and
    /// prepares the server; [`Application::run_until_stopped`] runs it.
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        let service = web::Data::new(build_service(settings).await?);
        let address = (settings.server.host.as_str(), settings.server.port);
        let listener = TcpListener::bind(address)
            .with_context(|| format!("binding {}:{}", address.0, address.1))?;
        let port = listener.local_addr()?.port();
        let http = settings.http.clone();
        let routes = service.clone();
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(contract_errors))
                .wrap(from_fn(request_telemetry))
                .wrap(from_fn(head_as_get))
                .configure(chat_http::configure(routes.clone(), http.clone()))
        })
        // Signals are ours (see `run_until_stopped`): actix stops at once on SIGINT.
        .disable_signals()
        .shutdown_timeout(settings.server.shutdown_timeout_s)
        .client_request_timeout(Duration::from_millis(settings.server.head_timeout_ms))
        .keep_alive(Duration::from_secs(settings.server.keep_alive_s))
        .listen(listener)?;
        if let Some(workers) = settings.server.workers {
            server = server.workers(workers);
        }
        Ok(Self {
            port,
            server: server.run(),
            service,
            purge_interval: settings.idempotency.purge_interval,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The service the server runs (shared: it is an `Arc`).
    pub fn service(&self) -> web::Data<Service> {
        self.service.clone()
    }

    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGINT or SIGTERM, then drains: stops accepting, finishes the requests in
    /// flight (up to `server.shutdown_timeout_s`) and returns.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let purge = tokio::spawn(purge_keys(self.service, self.purge_interval));
        let signals = tokio::spawn(stop_on_signal(self.server.handle()));
        let served = self.server.await;
        purge.abort();
        signals.abort();
        tracing::info!("stopped");
        served
    }
}
