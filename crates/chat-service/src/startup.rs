//! Startup: the service (see `service`) served by the HTTP servers (see `http_server`), with
//! its housekeeping, until a signal drains it.

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::web;
use anyhow::Context as _;

use crate::http_server::{api_server, metrics_server};
use crate::service::{Service, build_service};
use crate::settings::Settings;

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

/// Waits for SIGINT (Ctrl+C) or SIGTERM, then stops the servers gracefully.
async fn stop_on_signal(servers: Vec<ServerHandle>) {
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
    for server in servers {
        server.stop(true).await;
    }
}

fn bind(address: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(address).with_context(|| format!("binding {address}"))
}

pub struct Application {
    port: u16,
    metrics_address: Option<std::net::SocketAddr>,
    server: Server,
    metrics: Option<Server>,
    service: web::Data<Service>,
    purge_interval: Duration,
    migrations: String,
}

impl Application {
    /// Builds the service, binds `server.host:server.port` (port 0 picks a free one) and
    /// `metrics.address` if set, and prepares the servers; [`Application::run_until_stopped`]
    /// runs them.
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        let (service, migrations) = build_service(settings).await?;
        let service = web::Data::new(service);
        let handle = crate::metrics::recorder()?;
        let api = bind(&format!(
            "{}:{}",
            settings.server.host, settings.server.port
        ))?;
        let port = api.local_addr()?.port();
        let (metrics, metrics_address, on_api) = match &settings.metrics.address {
            Some(address) => {
                let listener = bind(address)?;
                let address = listener.local_addr()?;
                let server = metrics_server(handle, service.clone(), listener)?;
                (Some(server), Some(address), None)
            }
            None => (None, None, Some(handle)),
        };
        Ok(Self {
            port,
            metrics_address,
            server: api_server(settings, service.clone(), on_api, api)?,
            metrics,
            service,
            purge_interval: settings.idempotency.purge_interval,
            migrations,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Where `/metrics` is served apart from the API (`metrics.address`), if it is.
    pub fn metrics_address(&self) -> Option<std::net::SocketAddr> {
        self.metrics_address
    }

    /// What the migrations did when the service was built.
    pub fn migrations(&self) -> &str {
        &self.migrations
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
        let mut handles = vec![self.server.handle()];
        handles.extend(self.metrics.as_ref().map(Server::handle));
        let signals = tokio::spawn(stop_on_signal(handles));
        let metrics = async {
            match self.metrics {
                Some(server) => server.await,
                None => Ok(()),
            }
        };
        let (served, metrics) = tokio::join!(self.server, metrics);
        purge.abort();
        signals.abort();
        tracing::info!("stopped");
        served.and(metrics)
    }
}
