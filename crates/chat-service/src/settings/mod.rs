//! Configuration: an embedded copy of `config/default.toml`, then the files in the config folder
//! (see [`ConfigSource`]): `default.toml`, then `{APP_ENV}.toml`; then
//! `DATABASE_URL` and `NUXT_SESSION_PASSWORD`; then `APP__SECTION__KEY` variables over all.
//! Read once at start and passed down; there is no global.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, bail};
use chat_domain::{MessageLimits, PageLimit, ReadBudget};
use chat_http::HttpSettings;
use chat_persistence::DatabaseSettings as StoreSettings;
use chat_sessions::{MIN_PASSWORD_LEN, Password};
use config::{Config, Environment as EnvSource};
use secrecy::{ExposeSecret, SecretString};

mod raw;
pub mod source;

pub use self::raw::{
    AppEnv, DatabaseSettings, IdempotencySettings, LimitSettings, LogFormat, LogSettings,
    MetricsSettings, RawSettings, ServerSettings, SessionSettings,
};
use self::source::{ConfigSource, unknown_variables};

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
    /// With `require_database`, a missing `database.url` is one of the problems named.
    pub fn from_process_env(require_database: bool) -> anyhow::Result<Self> {
        let vars: HashMap<String, String> = std::env::vars().collect();
        let env = AppEnv::parse(vars.get("APP_ENV").map_or("development", String::as_str))?;
        Self::read(&ConfigSource::find(&vars)?, env, &vars, require_database)
    }

    /// Only `server.port`, read as [`Self::from_process_env`] reads it, nothing else checked.
    pub fn port_from_process_env() -> anyhow::Result<u16> {
        let vars: HashMap<String, String> = std::env::vars().collect();
        let env = AppEnv::parse(vars.get("APP_ENV").map_or("development", String::as_str))?;
        let (raw, _) = Self::load_raw(&ConfigSource::find(&vars)?, env, &vars)?;
        Ok(raw.server.port)
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
        Self::read(source, env, vars, false)
    }

    fn read(
        source: &ConfigSource,
        env: AppEnv,
        vars: &HashMap<String, String>,
        require_database: bool,
    ) -> anyhow::Result<Self> {
        let (raw, files) = Self::load_raw(source, env, vars)?;
        let mut settings = Self::check(raw, env, require_database)
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
            (
                "CRYPTO_SECRET",
                "app.crypto_secret",
                "APP__APP__CRYPTO_SECRET",
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
        self.database
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!(NO_DATABASE))
    }

    /// The settings checked; every setting that is missing or wrong is named, all at once.
    fn check(raw: RawSettings, env: AppEnv, require_database: bool) -> anyhow::Result<Self> {
        let mut problems = bound_problems(&raw);
        let mut note = |e: anyhow::Error| problems.push(format!("{e:#}"));
        let url = raw
            .database
            .url
            .clone()
            .filter(|u| !u.expose_secret().is_empty());
        if require_database && url.is_none() {
            note(anyhow::anyhow!(NO_DATABASE));
        }
        let session_password = session_password(&raw).map_err(&mut note).ok();
        let crypto_secret = crypto_secret(&raw).map_err(&mut note).ok();
        let previous_passwords = previous_passwords(&raw.session.previous_passwords)
            .map_err(&mut note)
            .ok();
        let limits = MessageLimits::new(raw.limits.max_message_chars, raw.limits.max_batch)
            .map_err(&mut note)
            .ok();
        let read_budget = ReadBudget::new(raw.limits.read_budget_bytes).or_else(|| {
            note(anyhow::anyhow!(
                "limits.read_budget_bytes must be at least 1"
            ));
            None
        });
        let read_ceiling = PageLimit::new(raw.limits.read_ceiling, usize::MAX)
            .map_err(|_| note(anyhow::anyhow!("limits.read_ceiling must be at least 1")))
            .ok();
        let (
            Some(session_password),
            Some(crypto_secret),
            Some(previous_passwords),
            Some(limits),
            Some(read_ceiling),
            Some(read_budget),
        ) = (
            session_password,
            crypto_secret,
            previous_passwords,
            limits,
            read_ceiling,
            read_budget,
        )
        else {
            bail!("{}", problems.join("; "));
        };
        if !problems.is_empty() {
            bail!("{}", problems.join("; "));
        }
        Ok(Self {
            env,
            database: url.map(|url| store_settings(url, crypto_secret, &raw)),
            migrate_on_start: raw.database.migrate_on_start,
            session_password,
            previous_passwords,
            session_max_age: raw.session.max_age.map(Duration::from_secs),
            limits,
            http: HttpSettings {
                max_body_bytes: raw.limits.max_body_bytes,
                read_ceiling,
                read_budget,
                body_timeout: Duration::from_millis(raw.server.body_timeout_ms),
            },
            server: raw.server,
            idempotency: raw.idempotency,
            metrics: raw.metrics,
            log: raw.log,
            files: vec![],
            unknown_variables: vec![],
        })
    }
}

const NO_DATABASE: &str = "database.url is not set: set DATABASE_URL (or APP__DATABASE__URL)";

/// What the store takes from the settings.
fn store_settings(url: SecretString, app_secret: SecretString, raw: &RawSettings) -> StoreSettings {
    let db = &raw.database;
    StoreSettings {
        url,
        pool_size: db.pool_size,
        pool_threads: crate::threads::http_workers(raw.server.workers),
        pool_wait: Duration::from_millis(db.pool_wait_ms),
        connect_timeout: Duration::from_millis(db.connect_timeout_ms),
        statement_timeout: Duration::from_millis(db.statement_timeout_ms),
        busy_timeout: Duration::from_millis(db.busy_timeout_ms),
        append_queue: db.append_queue,
        key_ttl: raw.idempotency.ttl,
        statement_cache: db.statement_cache,
        migration_url: db.migration_url.clone(),
        app_secret,
        app_system_actor: db.app_system_actor,
    }
}

/// Older session passwords, each checked as the current one is.
fn previous_passwords(raw: &[SecretString]) -> anyhow::Result<Vec<Password>> {
    raw.iter()
        .cloned()
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

/// The app's `CRYPTO_SECRET`, which must be set.
fn crypto_secret(raw: &RawSettings) -> anyhow::Result<SecretString> {
    raw.app
        .crypto_secret
        .clone()
        .filter(|s| !s.expose_secret().is_empty())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "app.crypto_secret is not set: set CRYPTO_SECRET (or APP__APP__CRYPTO_SECRET) to \
                 the app's, which encrypts e-mail addresses and share passwords"
            )
        })
}

/// The settings that must not be zero, each that is.
fn bound_problems(raw: &RawSettings) -> Vec<String> {
    [
        (
            raw.server.head_timeout_ms == 0,
            "server.head_timeout_ms must be at least 1",
        ),
        (
            raw.server.body_timeout_ms == 0,
            "server.body_timeout_ms must be at least 1",
        ),
        (
            raw.server.write_timeout_ms == 0,
            "server.write_timeout_ms must be at least 1",
        ),
        (
            raw.database.pool_size == 0,
            "database.pool_size must be at least 1",
        ),
        (
            raw.limits.max_body_bytes == 0,
            "limits.max_body_bytes must be at least 1",
        ),
        (
            raw.idempotency.ttl.is_zero(),
            "idempotency.ttl must be longer than 0s",
        ),
        (
            raw.idempotency.purge_interval.is_zero(),
            "idempotency.purge_interval must be longer than 0s",
        ),
    ]
    .into_iter()
    .filter(|(wrong, _)| *wrong)
    .map(|(_, problem)| problem.to_owned())
    .collect()
}

#[cfg(test)]
mod tests;
