//! Logs: tracing to stderr (stdout is for what commands print), JSON or readable text, filtered
//! by `RUST_LOG` (default `info`).

use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::settings::LogFormat;

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour only for a person at a terminal, never in a file or a collector.
        .with_ansi(std::io::stderr().is_terminal())
        // Reporting a failed write would go to the same closed stderr and panic: a service must
        // not die because whoever read its logs went away.
        .log_internal_errors(false);
    // actix-http logs at ERROR every connection it ends on a malformed request, which anyone
    // can send; the service logs those endings itself, below ERROR (chat_http::codec_errors).
    let not_codec_errors = filter_fn(|meta| {
        !(*meta.level() == tracing::Level::ERROR
            && meta.target().starts_with("actix_http::h1::dispatcher"))
    });
    // A second initialisation (tests that start several apps) keeps the first subscriber.
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .finish()
            .with(not_codec_errors)
            .try_init(),
        LogFormat::Text => builder
            .with_target(false)
            .finish()
            .with(not_codec_errors)
            .try_init(),
    };
}
