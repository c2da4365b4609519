//! The domain service as the binary runs it: the store `database.url` names and the app's
//! sessions, built from the settings; and the migrations.

use chat_domain::ChatService;
use chat_persistence::{MigrationDirection, Store};
use chat_sessions::IronSessions;

use crate::settings::Settings;

/// The service as the binary runs it.
pub type Service = ChatService<Store, IronSessions>;

/// Builds the store `database.url` names (migrated if `database.migrate_on_start`) and the
/// domain service over it; says what the migrations did.
pub async fn build_service(settings: &Settings) -> anyhow::Result<(Service, String)> {
    let store = Store::new(settings.database()?)?;
    let migrations = if settings.migrate_on_start {
        describe_migrations(&migrate(&store).await?)
    } else {
        "not run (database.migrate_on_start = false)".to_owned()
    };
    let service = ChatService::new(store, sessions(settings), settings.limits);
    Ok((service, migrations))
}

pub fn sessions(settings: &Settings) -> IronSessions {
    IronSessions::new(
        settings.session_password.clone(),
        settings.previous_passwords.clone(),
        settings.session_max_age,
    )
}

/// Applies the pending migrations; returns their versions.
pub async fn migrate(store: &Store) -> anyhow::Result<Vec<String>> {
    store.migrate(MigrationDirection::Up).await
}

pub fn describe_migrations(applied: &[String]) -> String {
    if applied.is_empty() {
        "schema up to date".to_owned()
    } else {
        format!("applied {}", applied.join(", "))
    }
}

/// Reverts every migration of the service; on a database adopted from the app, the app's
/// tables and rows stay (see the first migration).
pub async fn revert(store: &Store) -> anyhow::Result<Vec<String>> {
    store.migrate(MigrationDirection::Down).await
}
