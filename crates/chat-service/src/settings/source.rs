//! Where the configuration files come from, so that the development defaults work from any
//! folder: `APP_CONFIG_DIR`; else `./config`; else the workspace's `config/` the binary was built
//! in (`target/<profile>/chat-service` → `config/`); else the copies built into the binary.
//! Also: which `APP__` variables name no setting (a typo would otherwise go unnoticed).

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use anyhow::bail;
use config::{Config, File, FileFormat, Value, ValueKind};

use crate::settings::raw::AppEnv;

/// The files in `config/`, as built into the binary.
pub const EMBEDDED_DEFAULTS: &str = include_str!("../../../../config/default.toml");
const EMBEDDED_ENVS: [(AppEnv, &str); 3] = [
    (
        AppEnv::Development,
        include_str!("../../../../config/development.toml"),
    ),
    (AppEnv::Test, include_str!("../../../../config/test.toml")),
    (
        AppEnv::Production,
        include_str!("../../../../config/production.toml"),
    ),
];

/// Settings `default.toml` leaves commented out (they have no default).
const OPTIONAL_KEYS: [&str; 6] = [
    "server.workers",
    "app.crypto_secret",
    "database.url",
    "session.password",
    "session.max_age",
    "metrics.address",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    Folder(PathBuf),
    Embedded,
}

impl ConfigSource {
    /// The folder to read, found as the module says.
    pub fn find(vars: &HashMap<String, String>) -> anyhow::Result<Self> {
        if let Some(dir) = vars.get("APP_CONFIG_DIR") {
            let dir = PathBuf::from(dir);
            if !dir.is_dir() {
                bail!("APP_CONFIG_DIR={} is not a folder", dir.display());
            }
            return Ok(Self::Folder(dir));
        }
        let beside_binary = std::env::current_exe().ok().and_then(|exe| {
            exe.parent()?
                .parent()?
                .parent()
                .map(|root| root.join("config"))
        });
        let found = [Some(PathBuf::from("config")), beside_binary]
            .into_iter()
            .flatten()
            .find(|dir| is_config_folder(dir));
        Ok(found.map_or(Self::Embedded, Self::Folder))
    }

    /// The files, in the order they apply: `(name for the log, source)`.
    pub fn files(&self, env: AppEnv) -> Vec<(String, File<config::FileSourceString, FileFormat>)> {
        let embedded = |name: &str, text: &str| {
            (
                format!("{name} (built in)"),
                File::from_str(text, FileFormat::Toml),
            )
        };
        let mut files = vec![embedded("default.toml", EMBEDDED_DEFAULTS)];
        match self {
            Self::Folder(dir) => {
                for name in ["default.toml".to_owned(), format!("{}.toml", env.as_str())] {
                    let path = dir.join(&name);
                    if let Ok(text) = std::fs::read_to_string(&path) {
                        files.push((
                            path.display().to_string(),
                            File::from_str(&text, FileFormat::Toml),
                        ));
                    }
                }
            }
            Self::Embedded => {
                if let Some((_, text)) = EMBEDDED_ENVS.iter().find(|(e, _)| *e == env) {
                    files.push(embedded(&format!("{}.toml", env.as_str()), text));
                }
            }
        }
        files
    }
}

/// The `APP__SECTION__KEY` variables that name no setting.
pub fn unknown_variables(vars: &HashMap<String, String>) -> Vec<String> {
    let known = known_keys();
    let mut unknown: Vec<String> = vars
        .keys()
        .filter_map(|var| {
            let key = var.strip_prefix("APP__")?.to_lowercase().replace("__", ".");
            (!known.contains(&key)).then(|| var.clone())
        })
        .collect();
    unknown.sort();
    unknown
}

fn known_keys() -> BTreeSet<String> {
    let mut keys: BTreeSet<String> = OPTIONAL_KEYS.iter().map(|k| (*k).to_owned()).collect();
    let defaults = Config::builder()
        .add_source(File::from_str(EMBEDDED_DEFAULTS, FileFormat::Toml))
        .build()
        .and_then(|c| c.try_deserialize::<HashMap<String, Value>>());
    if let Ok(table) = defaults {
        for (section, value) in table {
            collect_keys(&section, &value, &mut keys);
        }
    }
    keys
}

fn collect_keys(prefix: &str, value: &Value, keys: &mut BTreeSet<String>) {
    match &value.kind {
        ValueKind::Table(table) => {
            for (key, value) in table {
                collect_keys(&format!("{prefix}.{key}"), value, keys);
            }
        }
        _ => {
            keys.insert(prefix.to_owned());
        }
    }
}

fn is_config_folder(dir: &Path) -> bool {
    dir.join("default.toml").is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_that_name_no_setting_are_found() {
        let vars: HashMap<String, String> = [
            ("APP__SERVER__PORT", "1"),
            ("APP__DATABASE__URL", "sqlite::memory:"),
            ("APP__DATABASE__POOL_SIZ", "3"),
            ("APP__IDEMPOTENCY__TTL", "1h"),
            ("APP__SESSION__PREVIOUS_PASSWORDS", "a,b"),
            ("APP_ENV", "test"),
            ("HOME", "/root"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(unknown_variables(&vars), ["APP__DATABASE__POOL_SIZ"]);
    }

    #[test]
    fn without_a_folder_the_built_in_files_are_read() {
        let files = ConfigSource::Embedded.files(AppEnv::Development);
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["default.toml (built in)", "development.toml (built in)"]
        );
    }
}
