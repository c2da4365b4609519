use std::process::ExitCode;

use chat_service::cli::{Cli, Command};
use chat_service::settings::Settings;
use clap::Parser as _;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::from_process_env() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("chat-service: configuration: {e:#}");
            return ExitCode::from(2);
        }
    };
    chat_service::telemetry::init(settings.log.format);
    // A multi-threaded runtime: the migration harness blocks on it from a blocking thread, and
    // actix-web runs its own worker threads beside it.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("chat-service: starting the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(chat_service::run(
        cli.command.unwrap_or(Command::Serve),
        settings,
    )) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %format_args!("{e:#}"), "chat-service failed");
            eprintln!("chat-service: {e:#}");
            ExitCode::FAILURE
        }
    }
}
