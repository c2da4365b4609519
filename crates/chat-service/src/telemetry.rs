//! Logs: tracing to stderr (stdout is for what commands print), JSON or readable text, filtered
//! by `RUST_LOG` (default `info`).

use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;

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
    // A second initialisation (tests that start several apps) keeps the first subscriber.
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Text => builder.with_target(false).try_init(),
    };
}
