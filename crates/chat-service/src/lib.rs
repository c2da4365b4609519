//! The chat-messages service: settings, telemetry, wiring and the command line. `main.rs` only
//! parses the command line and calls [`run`].

pub mod cli;
pub mod demo;
pub mod healthcheck;
pub mod http_server;
pub mod metrics;
pub mod service;
pub mod settings;
pub mod startup;
pub mod telemetry;
pub mod threads;

use std::io::Write as _;
use std::time::Duration;

use anyhow::Context as _;
use chat_domain::{ChatName, EmailAddress, ModelName, NewChat, UserId};
use chat_persistence::Store;

use crate::cli::{ChatsCommand, Command, SessionsCommand, UsersCommand};
use crate::service::{build_service, describe_migrations, migrate, revert, sessions};
use crate::settings::{AppEnv, Settings};
use crate::startup::Application;

/// Every connection is a file: at the usual soft limit of 1024, a thousand slow clients would
/// lock everyone else out. The soft limit goes up to the hard limit, which an operator sets.
fn raise_open_file_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => tracing::info!(limit, "open-file limit raised to the hard limit"),
        Err(e) => tracing::warn!(error = %e, "could not raise the open-file limit"),
    }
}

/// The one line that says what is serving: version, addresses, database, migrations.
fn log_start(settings: &Settings, app: &Application) {
    let service = app.service();
    let store = service.store();
    let metrics = app
        .metrics_address()
        .map_or_else(|| "on the API's address".to_owned(), |a| a.to_string());
    tracing::info!(
        version = metrics::VERSION,
        commit = metrics::COMMIT,
        env = settings.env.as_str(),
        address = %format_args!("{}:{}", settings.server.host, app.port()),
        metrics,
        database = store.backend_name(),
        location = %store.location(),
        migrations = app.migrations(),
        config = ?settings.files,
        "serving"
    );
}

/// Serves until stopped.
async fn serve(settings: &Settings) -> anyhow::Result<()> {
    raise_open_file_limit();
    let app = Application::build(settings).await?;
    log_start(settings, &app);
    // The first run in development seeds a demo and says how to use it.
    if settings.env == AppEnv::Development
        && let Some(curl) = demo::seed_if_empty(&app.service(), settings, app.port()).await?
    {
        // Not println!: a closed stdout must not stop the server.
        let _ = writeln!(
            std::io::stdout(),
            "\nThe database was empty: a demo user and chat were created. \
             Post a message with:\n\n{curl}\n"
        );
    }
    Ok(app.run_until_stopped().await?)
}

/// Runs one command; what it prints for the user goes to stdout, logs to stderr.
pub async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    for variable in &settings.unknown_variables {
        tracing::warn!(variable, "ignored: an APP__ variable that names no setting");
    }
    tracing::debug!(files = ?settings.files, "configuration read");
    match command {
        Command::Serve => serve(&settings).await?,
        Command::Migrate { revert: false } => {
            let store = Store::new(settings.database()?)?;
            let applied = migrate(&store).await?;
            let migrations = describe_migrations(&applied);
            tracing::info!(database = %store.location(), migrations, "migrated");
        }
        Command::Migrate { revert: true } => {
            let store = Store::new(settings.database()?)?;
            let reverted = revert(&store).await?;
            tracing::info!(database = %store.location(), ?reverted, "reverted migrations");
        }
        Command::Users(UsersCommand::Create { email }) => {
            let email = EmailAddress::new(&email)?;
            let id = build_service(&settings)
                .await?
                .0
                .create_user(&email)
                .await?;
            println!("{id}");
        }
        Command::Chats(ChatsCommand::Create { user, name, model }) => {
            let chat = NewChat {
                owner: UserId::new(user).context("--user")?,
                name: ChatName::new(&name).context("--name")?,
                model: ModelName::new(&model).context("--model")?,
            };
            let chat = build_service(&settings).await?.0.create_chat(&chat).await?;
            println!("{}", chat.id);
        }
        // main.rs runs it before the settings are checked.
        Command::Healthcheck => healthcheck::check(settings.server.port)?,
        Command::Sessions(SessionsCommand::Mint { user, max_age }) => {
            let user = UserId::new(user).context("--user")?;
            let token = sessions(&settings)
                .mint(user, max_age.map(Duration::from_secs))
                .context("sealing the session")?;
            println!("{token}");
        }
    }
    Ok(())
}
