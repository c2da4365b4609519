//! The command line.

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "chat-service",
    version,
    about = "Stores the messages of neptun chat conversations."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API (the default).
    Serve,
    /// Apply the pending database migrations (on the app's database: adopt its tables).
    Migrate {
        /// Revert every migration of the service instead; the app's tables and rows stay.
        #[arg(long)]
        revert: bool,
    },
    /// Manage users.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Manage chats.
    #[command(subcommand)]
    Chats(ChatsCommand),
    /// Manage sessions.
    #[command(subcommand)]
    Sessions(SessionsCommand),
    /// Exit 0 if the service on this machine (`server.port`) answers `/healthz` within 2 s:
    /// a container's health check that needs no curl.
    Healthcheck,
}

impl Command {
    /// Whether the command cannot run without `database.url`.
    pub fn needs_database(&self) -> bool {
        !matches!(self, Command::Sessions(_) | Command::Healthcheck)
    }
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create a user; prints its id.
    Create {
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ChatsCommand {
    /// Create a chat; prints its id.
    Create {
        #[arg(long)]
        user: i64,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "default")]
        model: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// Print a session cookie value for a user, sealed with the configured session password,
    /// as the app itself would seal it.
    Mint {
        #[arg(long)]
        user: i64,
        /// Seconds until the seal expires (none: it does not expire).
        #[arg(long)]
        max_age: Option<u64>,
    },
}
