//! Tests of the settings: layering, checks, and the embedded copies.

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
    assert_eq!(s.limits.max_batch(), 10_000);

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
        &vars(&[("NUXT_SESSION_PASSWORD", PW), ("CRYPTO_SECRET", "s")]),
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
    // Every missing secret is named at once.
    assert!(err.to_string().contains("NUXT_SESSION_PASSWORD"), "{err:#}");
    assert!(err.to_string().contains("CRYPTO_SECRET"), "{err:#}");

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
            ("CRYPTO_SECRET", "s"),
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
            ("CRYPTO_SECRET", "the-crypto-secret"),
        ]),
    )
    .unwrap();
    let debug = format!("{s:?}");
    let leaked = ["hunter2", PW, "the-crypto-secret"]
        .iter()
        .any(|x| debug.contains(x));
    assert!(!leaked, "{debug}");
}

#[test]
fn unknown_environments_are_refused() {
    assert!(AppEnv::parse("staging").is_err());
    assert_eq!(AppEnv::parse("PRODUCTION").unwrap(), AppEnv::Production);
}
