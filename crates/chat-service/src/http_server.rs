//! The HTTP servers. The API's is built from actix's parts (actix-server running actix-http's
//! HTTP/1 service around the actix-web app), not by `HttpServer`, for two things `HttpServer`
//! cannot be told: how to answer `Expect: 100-continue` (chat_http::expect) and what wraps
//! each connection (chat_http::codec_errors, chat_http::write_deadline). Its settings are the
//! ones `HttpServer` was given.

use std::future::ready;
use std::net::TcpListener;
use std::time::Duration;

use actix_http::HttpService;
use actix_http::error::DispatchError;
use actix_server::Server;
use actix_service::{ServiceFactoryExt as _, fn_service, map_config};
use actix_web::dev::AppConfig;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use chat_http::codec_errors::{ContractWire, log_connection_error};
use chat_http::expect::{decide_continue, refuse_unknown_expectations};
use chat_http::middleware::{contract_errors, head_as_get, request_telemetry};
use chat_http::unread_body::close_unread_bodies;
use chat_http::write_deadline::WriteDeadline;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpStream;

use crate::service::Service;
use crate::settings::Settings;

/// How long a connection answered before its body was read lingers for the client to close
/// it (actix-web's default).
const CLIENT_DISCONNECT: Duration = Duration::from_secs(1);

/// The API's server; `/metrics` too when `metrics` is given (no address of its own).
pub fn api_server(
    settings: &Settings,
    service: web::Data<Service>,
    metrics: Option<PrometheusHandle>,
    listener: TcpListener,
) -> anyhow::Result<Server> {
    let (http, server) = (settings.http.clone(), settings.server.clone());
    let local = listener.local_addr()?;
    let app = move || {
        let app = App::new()
            .wrap(from_fn(contract_errors))
            .wrap(from_fn(refuse_unknown_expectations))
            .wrap(from_fn(request_telemetry))
            .wrap(from_fn(head_as_get))
            .wrap(from_fn(close_unread_bodies))
            .configure(chat_http::configure(service.clone(), http.clone()));
        let app = match &metrics {
            Some(handle) => {
                app.configure(crate::metrics::configure(handle.clone(), service.clone()))
            }
            None => app,
        };
        (app, service.clone(), http.max_body_bytes)
    };
    let builder = Server::build()
        // Signals are ours (see `Application::run_until_stopped`).
        .disable_signals()
        .shutdown_timeout(server.shutdown_timeout_s)
        .listen("api", listener, move || {
            let (app, service, max_body_bytes) = app();
            let expect =
                fn_service(move |req| ready(decide_continue(&service, max_body_bytes, req)));
            let http = HttpService::build()
                .keep_alive(Duration::from_secs(server.keep_alive_s))
                .client_request_timeout(Duration::from_millis(server.head_timeout_ms))
                .client_disconnect_timeout(CLIENT_DISCONNECT)
                .local_addr(local)
                .expect(expect)
                .h1(map_config(app, |()| AppConfig::default()));
            let write_timeout = Duration::from_millis(server.write_timeout_ms);
            fn_service(move |io: TcpStream| {
                // An answer may go in several writes (a streamed page): Nagle's algorithm would
                // hold each behind the client's delayed ACK.
                if let Err(e) = io.set_nodelay(true) {
                    tracing::debug!(error = %e, "TCP_NODELAY");
                }
                let peer = io.peer_addr().ok();
                let io = WriteDeadline::new(io, write_timeout);
                ready(Ok::<_, DispatchError>((ContractWire::new(io), peer)))
            })
            .and_then(http)
            .map_err(|e| {
                log_connection_error(&e);
                e
            })
        })?;
    Ok(builder
        .workers(crate::threads::http_workers(settings.server.workers))
        .run())
}

/// `/metrics` alone, on an address of its own (one worker: a scrape is rare and cheap).
pub fn metrics_server(
    handle: PrometheusHandle,
    service: web::Data<Service>,
    listener: TcpListener,
) -> anyhow::Result<Server> {
    let server = HttpServer::new(move || {
        App::new()
            .wrap(from_fn(head_as_get))
            .configure(crate::metrics::configure(handle.clone(), service.clone()))
    })
    .disable_signals()
    .workers(1)
    .listen(listener)?;
    Ok(server.run())
}
