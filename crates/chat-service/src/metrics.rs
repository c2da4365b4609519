//! Prometheus metrics: one recorder per process (the `metrics` facade's), rendered at
//! `/metrics`, on the API's address or on `metrics.address` of its own. Requests are measured
//! by the HTTP middleware and store operations by the store; the pool is sampled when scraped.

use std::sync::OnceLock;

use actix_web::{HttpResponse, web};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::service::Service;

/// The version and commit the binary was built from.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const COMMIT: &str = env!("CHAT_SERVICE_COMMIT");

/// Latency buckets, in seconds: from a cached read to a request that waited for a lock.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static RECORDER: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();

/// The process's recorder, installed on first use (tests start several apps in one process).
pub fn recorder() -> anyhow::Result<PrometheusHandle> {
    let installed = RECORDER.get_or_init(|| {
        let handle = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)
            .and_then(PrometheusBuilder::install_recorder)
            .map_err(|e| e.to_string())?;
        metrics::gauge!("chat_service_build_info", "version" => VERSION, "commit" => COMMIT)
            .set(1.0);
        Ok(handle)
    });
    installed
        .clone()
        .map_err(|e| anyhow::anyhow!("installing the metrics recorder: {e}"))
}

/// `GET /metrics`: the Prometheus text format.
pub async fn scrape(
    handle: web::Data<PrometheusHandle>,
    service: web::Data<Service>,
) -> HttpResponse {
    let pool = service.store().pool_status();
    metrics::gauge!("db_pool_max_connections").set(pool.max as f64);
    metrics::gauge!("db_pool_connections", "state" => "open").set(pool.open as f64);
    metrics::gauge!("db_pool_connections", "state" => "in_use").set(pool.in_use as f64);
    metrics::gauge!("db_pool_waiting_requests").set(pool.waiting as f64);
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(handle.render())
}

/// Registers `/metrics` (with what it reads) on an app.
pub fn configure(
    handle: PrometheusHandle,
    service: web::Data<Service>,
) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.app_data(web::Data::new(handle))
            .app_data(service)
            .route("/metrics", web::get().to(scrape));
    }
}
