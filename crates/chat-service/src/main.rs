use std::process::ExitCode;

use chat_service::cli::{Cli, Command};
use chat_service::settings::Settings;
use clap::Parser as _;

fn main() -> ExitCode {
    let command = Cli::parse().command.unwrap_or(Command::Serve);
    let settings = Settings::from_process_env().and_then(|settings| {
        if command.needs_database() {
            settings.database()?;
        }
        Ok(settings)
    });
    let settings = match settings {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("chat-service: configuration: {e:#}");
            return ExitCode::from(2);
        }
    };
    chat_service::telemetry::init(settings.log.format);
    // A multi-threaded runtime: the migration harness blocks on it from a blocking thread, and
    // actix-web runs its own worker threads beside it. It drives the database connections and
    // the append groups; requests run on the actix workers. Half the cores: on two, a second
    // thread only competed with the workers (and a co-located database) for them.
    let threads = std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1));
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
