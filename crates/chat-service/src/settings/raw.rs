//! The settings as written in the files and variables, before they are checked.

use std::time::Duration;

use anyhow::bail;
use secrecy::SecretString;
use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Test,
    Production,
}

impl AppEnv {
    pub fn parse(s: &str) -> anyhow::Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "development" | "dev" => Ok(Self::Development),
            "test" => Ok(Self::Test),
            "production" | "prod" => Ok(Self::Production),
            other => bail!("APP_ENV={other:?}: expected development, test or production"),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Test => "test",
            Self::Production => "production",
        }
    }
}

/// The settings as written in files and variables.
#[derive(Debug, Clone, Deserialize)]
pub struct RawSettings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub session: SessionSettings,
    pub limits: LimitSettings,
    pub idempotency: IdempotencySettings,
    #[serde(default)]
    pub metrics: MetricsSettings,
    pub log: LogSettings,
    #[serde(default)]
    pub app: AppSecrets,
}

/// The app's secrets beyond its session password.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AppSecrets {
    /// The app's `CRYPTO_SECRET`, which encrypts e-mail addresses and share passwords.
    pub crypto_secret: Option<SecretString>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct MetricsSettings {
    /// `host:port` to serve `/metrics` on, apart from the API; none: on the API's address.
    pub address: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
pub struct IdempotencySettings {
    /// How long a key and its answer are kept and replayed ("24h").
    #[serde(with = "humantime_serde")]
    pub ttl: Duration,
    /// How often keys past `ttl` are deleted ("10m").
    #[serde(with = "humantime_serde")]
    pub purge_interval: Duration,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub workers: Option<usize>,
    /// How long a client may take to send a request's head (then 408 and the connection closes).
    pub head_timeout_ms: u64,
    /// How long a client may take to send a request's body, from the end of its head (then 408).
    pub body_timeout_ms: u64,
    /// How long a client may take nothing of an answer before the connection closes.
    pub write_timeout_ms: u64,
    /// How long an idle keep-alive connection stays open.
    pub keep_alive_s: u64,
    /// How long a stop (SIGINT, SIGTERM) waits for requests in flight before it drops them.
    pub shutdown_timeout_s: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    pub url: Option<SecretString>,
    pub pool_size: usize,
    pub pool_wait_ms: u64,
    pub connect_timeout_ms: u64,
    pub statement_timeout_ms: u64,
    pub busy_timeout_ms: u64,
    pub append_queue: usize,
    pub migrate_on_start: bool,
    #[serde(default)]
    pub app_system_actor: bool,
    pub statement_cache: bool,
    pub migration_url: Option<SecretString>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SessionSettings {
    pub password: Option<SecretString>,
    /// A list in files; a comma-separated string in an environment variable.
    #[serde(default, deserialize_with = "list_or_comma_separated")]
    pub previous_passwords: Vec<SecretString>,
    /// Seconds.
    pub max_age: Option<u64>,
}

fn list_or_comma_separated<'de, D>(deserializer: D) -> Result<Vec<SecretString>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ListOrString {
        List(Vec<String>),
        String(String),
    }
    let items = match ListOrString::deserialize(deserializer)? {
        ListOrString::List(items) => items,
        ListOrString::String(s) => s.split(',').map(str::to_owned).collect(),
    };
    Ok(items
        .into_iter()
        .filter(|s| !s.is_empty())
        .map(SecretString::from)
        .collect())
}

#[derive(Debug, Clone, Deserialize)]
pub struct LimitSettings {
    pub max_body_bytes: usize,
    pub read_ceiling: u64,
    pub read_budget_bytes: usize,
    pub max_message_chars: usize,
    pub max_batch: usize,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    pub format: LogFormat,
}
