//! Logs: tracing to stderr (stdout is for what commands print), JSON or readable text, filtered
//! by `RUST_LOG` (default `info`), written by a thread of their own.

use std::io::{BufWriter, IsTerminal as _};

use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::settings::LogFormat;

/// Lines that may wait for the log thread; past them a request waits for it (a line is never
/// dropped), and the queue's memory stays a few MiB.
const QUEUED_LINES: usize = 8192;

/// Starts the logs. Keep the guard while the process runs: dropping it writes what is queued.
///
/// Requests hand their lines to the log thread, which writes what has queued up in one write:
/// a line a request written to stderr from the request's thread cost about a tenth of a read's
/// CPU (docs/performance.md).
pub fn init(format: LogFormat) -> WorkerGuard {
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(false)
        .buffered_lines_limit(QUEUED_LINES)
        .thread_name("logs")
        .finish(BufWriter::with_capacity(64 * 1024, std::io::stderr()));
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
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
    guard
}
