use std::process::ExitCode;

use chat_service::cli::{Cli, Command};
use chat_service::settings::Settings;
use clap::Parser as _;

fn main() -> ExitCode {
    let command = Cli::parse().command.unwrap_or(Command::Serve);
    // The health check needs only the port: it must work whatever else is (mis)configured.
    if matches!(command, Command::Healthcheck) {
        let checked = Settings::port_from_process_env().and_then(chat_service::healthcheck::check);
        return match checked {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("chat-service: healthcheck: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    let settings = match Settings::from_process_env(command.needs_database()) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("chat-service: configuration: {e:#}");
            return ExitCode::from(2);
        }
    };
    let _logs = chat_service::telemetry::init(settings.log.format);
    // A multi-threaded runtime: the migration harness blocks on it from a blocking thread, and
    // actix-web runs its own worker threads beside it.
    let threads = chat_service::threads::runtime_threads();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("chat-service: starting the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let serving = matches!(command, Command::Serve);
    match runtime.block_on(chat_service::run(command, settings)) {
        Ok(()) => ExitCode::SUCCESS,
        // Said once: in the log for the server (JSON in production), plainly for a command.
        Err(e) if serving => {
            tracing::error!(error = %format_args!("{e:#}"), "chat-service failed");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("chat-service: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// jemalloc rather than the C library's allocator: a read allocates a few values a row, and
/// glibc's took a sixth of the service's CPU there (docs/adr/0015-jemalloc.md).
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
