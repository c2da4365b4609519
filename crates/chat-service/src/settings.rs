//! Configuration: an embedded copy of `config/default.toml`, then the files in the config folder
//! (see [`ConfigSource`]): `default.toml`, then `{APP_ENV}.toml`; then
//! `DATABASE_URL` and `NUXT_SESSION_PASSWORD`; then `APP__SECTION__KEY` variables over all.
//! Read once at start and passed down; there is no global.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, bail};
use chat_domain::{MessageLimits, PageLimit};
use chat_http::HttpSettings;
use chat_persistence::DatabaseSettings as StoreSettings;
use chat_sessions::{MIN_PASSWORD_LEN, Password};
use config::{Config, Environment as EnvSource};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::config_source::{ConfigSource, unknown_variables};

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

/// Settings checked and turned into what the adapters take.
#[derive(Debug, Clone)]
pub struct Settings {
    pub env: AppEnv,
    pub server: ServerSettings,
    /// None when no URL is configured: only commands that need no database can run then.
    pub database: Option<StoreSettings>,
    pub migrate_on_start: bool,
    pub session_password: Password,
    pub previous_passwords: Vec<Password>,
    pub session_max_age: Option<Duration>,
    pub limits: MessageLimits,
    pub http: HttpSettings,
    pub idempotency: IdempotencySettings,
    pub metrics: MetricsSettings,
    pub log: LogSettings,
    /// The files read, in order, for the log.
    pub files: Vec<String>,
    /// `APP__` variables that name no setting, for a warning.
    pub unknown_variables: Vec<String>,
}

impl Settings {
    /// Reads the process's environment: `APP_ENV`, `APP_CONFIG_DIR` and the variables above.
    pub fn from_process_env() -> anyhow::Result<Self> {
        let vars: HashMap<String, String> = std::env::vars().collect();
        let env = AppEnv::parse(vars.get("APP_ENV").map_or("development", String::as_str))?;
        Self::load_from(&ConfigSource::find(&vars)?, env, &vars)
    }

    /// Reads `dir` and the variables in `vars` (not the process's, so tests can pass their own).
    pub fn load(dir: &Path, env: AppEnv, vars: &HashMap<String, String>) -> anyhow::Result<Self> {
        Self::load_from(&ConfigSource::Folder(dir.to_owned()), env, vars)
    }

    pub fn load_from(
        source: &ConfigSource,
        env: AppEnv,
        vars: &HashMap<String, String>,
    ) -> anyhow::Result<Self> {
        let (raw, files) = Self::load_raw(source, env, vars)?;
        let mut settings = Self::check(raw, env)
            .map_err(|e| anyhow::anyhow!("{e:#} (configuration read from {})", files.join(", ")))?;
        settings.files = files;
        settings.unknown_variables = unknown_variables(vars);
        Ok(settings)
    }

    /// The settings as written, and the files read.
    pub fn load_raw(
        source: &ConfigSource,
        env: AppEnv,
        vars: &HashMap<String, String>,
    ) -> anyhow::Result<(RawSettings, Vec<String>)> {
        let mut builder = Config::builder();
        let mut names = vec![];
        for (name, file) in source.files(env) {
            names.push(name);
            builder = builder.add_source(file);
        }
        // The names the app and diesel's CLI already use; APP__... still wins over them.
        for (var, key, own) in [
            ("DATABASE_URL", "database.url", "APP__DATABASE__URL"),
            (
                "NUXT_SESSION_PASSWORD",
                "session.password",
                "APP__SESSION__PASSWORD",
            ),
        ] {
            if let (Some(value), false) = (vars.get(var), vars.contains_key(own)) {
                builder = builder.set_override(key, value.as_str())?;
            }
        }
        let app_vars: HashMap<String, String> = vars
            .iter()
            .filter(|(k, _)| k.starts_with("APP__"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        builder = builder.add_source(
            EnvSource::with_prefix("APP")
                .prefix_separator("__")
                .separator("__")
                .source(Some(app_vars)),
        );
        let raw = builder
            .build()
            .context("reading the configuration")?
            .try_deserialize()
            .with_context(|| format!("reading the configuration from {}", names.join(", ")))?;
        Ok((raw, names))
    }

    /// The database settings, or the error that names the missing setting.
    pub fn database(&self) -> anyhow::Result<&StoreSettings> {
        self.database.as_ref().ok_or_else(|| {
            anyhow::anyhow!("database.url is not set: set DATABASE_URL (or APP__DATABASE__URL)")
        })
    }

    fn check(raw: RawSettings, env: AppEnv) -> anyhow::Result<Self> {
        let url = raw
            .database
            .url
            .clone()
            .filter(|u| !u.expose_secret().is_empty());
        check_bounds(&raw)?;
        let session_password = session_password(&raw)?;
        let previous_passwords = previous_passwords(raw.session.previous_passwords)?;
        let limits = MessageLimits::new(raw.limits.max_message_chars, raw.limits.max_batch)?;
        let body_timeout = Duration::from_millis(raw.server.body_timeout_ms);
        Ok(Self {
            env,
            database: url.map(|url| StoreSettings {
                url,
                pool_size: raw.database.pool_size,
                pool_wait: Duration::from_millis(raw.database.pool_wait_ms),
                connect_timeout: Duration::from_millis(raw.database.connect_timeout_ms),
                statement_timeout: Duration::from_millis(raw.database.statement_timeout_ms),
                busy_timeout: Duration::from_millis(raw.database.busy_timeout_ms),
                append_queue: raw.database.append_queue,
                key_ttl: raw.idempotency.ttl,
                statement_cache: raw.database.statement_cache,
                migration_url: raw.database.migration_url.clone(),
            }),
            migrate_on_start: raw.database.migrate_on_start,
            server: raw.server,
            session_password,
            previous_passwords,
            session_max_age: raw.session.max_age.map(Duration::from_secs),
            limits,
            http: HttpSettings {
                max_body_bytes: raw.limits.max_body_bytes,
                read_ceiling: PageLimit::new(raw.limits.read_ceiling, usize::MAX)
                    .context("limits.read_ceiling must be at least 1")?,
                body_timeout,
            },
            idempotency: raw.idempotency,
            metrics: raw.metrics,
            log: raw.log,
            files: vec![],
            unknown_variables: vec![],
        })
    }
}

/// Older session passwords, each checked as the current one is.
fn previous_passwords(raw: Vec<SecretString>) -> anyhow::Result<Vec<Password>> {
    raw.into_iter()
        .enumerate()
        .map(|(i, p)| {
            Password::new(p).with_context(|| {
                format!(
                    "session.previous_passwords[{i}] must be at least {MIN_PASSWORD_LEN} characters"
                )
            })
        })
        .collect()
}

/// The app's session password, which must be set.
fn session_password(raw: &RawSettings) -> anyhow::Result<Password> {
    let password = raw
        .session
        .password
        .clone()
        .filter(|p| !p.expose_secret().is_empty());
    let Some(password) = password else {
        bail!(
            "session.password is not set: set NUXT_SESSION_PASSWORD (or APP__SESSION__PASSWORD) \
             to the app's session password ({MIN_PASSWORD_LEN}+ characters)"
        );
    };
    Password::new(password)
        .with_context(|| format!("session.password must be at least {MIN_PASSWORD_LEN} characters"))
}

/// The settings that must not be zero.
fn check_bounds(raw: &RawSettings) -> anyhow::Result<()> {
    if raw.server.head_timeout_ms == 0 || raw.server.body_timeout_ms == 0 {
        bail!("server.head_timeout_ms and server.body_timeout_ms must be at least 1");
    }
    if raw.database.pool_size == 0 {
        bail!("database.pool_size must be at least 1");
    }
    if raw.limits.max_body_bytes == 0 {
        bail!("limits.max_body_bytes must be at least 1");
    }
    if raw.idempotency.ttl.is_zero() || raw.idempotency.purge_interval.is_zero() {
        bail!("idempotency.ttl and idempotency.purge_interval must be longer than 0s");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_dir() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config")
    }

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const PW: &str = "a-production-password-of-32-characters";

    #[test]
    fn files_then_well_known_variables_then_app_variables() {
        let s = Settings::load(&config_dir(), AppEnv::Development, &vars(&[])).unwrap();
        assert_eq!(s.server.port, 8080);
        assert_eq!(
            s.database().unwrap().url.expose_secret(),
            "sqlite://data/chat-service.db"
        );
        assert_eq!(s.limits.max_batch(), 100);

        let s = Settings::load(
            &config_dir(),
            AppEnv::Development,
            &vars(&[
                ("DATABASE_URL", "postgres://a@h/one"),
                ("APP__SERVER__PORT", "9000"),
                ("APP__LIMITS__MAX_BATCH", "5"),
                ("APP__SESSION__PREVIOUS_PASSWORDS", &format!("{PW}1,{PW}2")),
            ]),
        )
        .unwrap();
        assert_eq!(
            s.database().unwrap().url.expose_secret(),
            "postgres://a@h/one"
        );
        assert_eq!(s.server.port, 9000);
        assert_eq!(s.limits.max_batch(), 5);
        assert_eq!(s.previous_passwords.len(), 2);

        let s = Settings::load(
            &config_dir(),
            AppEnv::Development,
            &vars(&[
                ("DATABASE_URL", "postgres://a@h/one"),
                ("APP__DATABASE__URL", "postgres://a@h/two"),
            ]),
        )
        .unwrap();
        assert_eq!(
            s.database().unwrap().url.expose_secret(),
            "postgres://a@h/two"
        );
    }

    #[test]
    fn production_needs_a_database_and_a_password() {
        let s = Settings::load(
            &config_dir(),
            AppEnv::Production,
            &vars(&[("NUXT_SESSION_PASSWORD", PW)]),
        )
        .unwrap();
        let err = s.database().unwrap_err();
        assert!(err.to_string().contains("DATABASE_URL"), "{err:#}");

        let err = Settings::load(
            &config_dir(),
            AppEnv::Production,
            &vars(&[("DATABASE_URL", "postgres://a@h/db")]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("NUXT_SESSION_PASSWORD"), "{err:#}");

        let err = Settings::load(
            &config_dir(),
            AppEnv::Production,
            &vars(&[
                ("DATABASE_URL", "postgres://a@h/db"),
                ("NUXT_SESSION_PASSWORD", "short"),
            ]),
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("at least 32"), "{err:#}");

        let s = Settings::load(
            &config_dir(),
            AppEnv::Production,
            &vars(&[
                ("DATABASE_URL", "postgres://a@h/db"),
                ("NUXT_SESSION_PASSWORD", PW),
            ]),
        )
        .unwrap();
        assert_eq!(s.log.format, LogFormat::Json);
        assert_eq!(s.server.host, "0.0.0.0");
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let s = Settings::load(
            &config_dir(),
            AppEnv::Production,
            &vars(&[
                ("DATABASE_URL", "postgres://user:hunter2@h/db"),
                ("NUXT_SESSION_PASSWORD", PW),
            ]),
        )
        .unwrap();
        let debug = format!("{s:?}");
        assert!(!debug.contains("hunter2") && !debug.contains(PW), "{debug}");
    }

    #[test]
    fn unknown_environments_are_refused() {
        assert!(AppEnv::parse("staging").is_err());
        assert_eq!(AppEnv::parse("PRODUCTION").unwrap(), AppEnv::Production);
    }
}
