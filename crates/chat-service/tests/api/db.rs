//! A fresh database for each test, on PostgreSQL or SQLite, dropped again when the test ends
//! (even when it fails), and the test's own connections to it.

use std::path::PathBuf;

use diesel::prelude::*;
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};

/// The backends every API test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// Runs each listed test (an `async fn(Backend)` of the calling module) once per backend, as
/// `<module>::postgres::<test>` and `<module>::sqlite::<test>`.
#[macro_export]
macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {
        mod postgres {
            $(
                #[tokio::test]
                async fn $test() {
                    super::$test($crate::helpers::Backend::Postgres).await
                }
            )*
        }
        mod sqlite {
            $(
                #[tokio::test]
                async fn $test() {
                    super::$test($crate::helpers::Backend::Sqlite).await
                }
            )*
        }
    };
}

/// The test role's URL, set by `scripts/test`.
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .expect("TEST_DATABASE_URL is not set: run the tests with ./scripts/test")
}

/// A fresh database for one test: a PostgreSQL database, or an SQLite file in a folder of its
/// own. Dropped when the test ends, even when it fails.
pub enum TestDb {
    Postgres {
        name: String,
        url: String,
        admin_url: String,
    },
    Sqlite {
        dir: PathBuf,
        url: String,
    },
}

/// A connection of the test's own, to seed and inspect the database as other suites do.
#[expect(
    clippy::large_enum_variant,
    reason = "a few short-lived connections per test; boxing would only add noise"
)]
pub enum TestConn {
    Postgres(AsyncPgConnection),
    Sqlite(SyncConnectionWrapper<SqliteConnection>),
}

/// Runs `$body` with `$c` bound to the connection and `$s` to that backend's diesel schema.
macro_rules! with_schema {
    ($conn:expr, |$c:ident, $s:ident| $body:expr) => {
        match $conn {
            TestConn::Postgres($c) => {
                use chat_persistence::schema::postgres as $s;
                $body
            }
            TestConn::Sqlite($c) => {
                use chat_persistence::schema::sqlite as $s;
                $body
            }
        }
    };
}
pub(crate) use with_schema;

impl TestDb {
    pub async fn create(backend: Backend) -> Self {
        let id = uuid::Uuid::new_v4().simple();
        match backend {
            Backend::Postgres => {
                let admin_url = admin_url();
                let name = format!("chat_test_{id}");
                let mut conn = AsyncPgConnection::establish(&admin_url)
                    .await
                    .expect("connecting to TEST_DATABASE_URL");
                // UTF8 whatever the cluster's default; C collation is valid with any locale.
                diesel::sql_query(format!(
                    r#"CREATE DATABASE "{name}" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"#
                ))
                .execute(&mut conn)
                .await
                .expect("creating the test database");
                let mut url = reqwest::Url::parse(&admin_url).expect("TEST_DATABASE_URL is a URL");
                url.set_path(&name);
                Self::Postgres {
                    name,
                    url: url.to_string(),
                    admin_url,
                }
            }
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(format!("chat-service-test-{id}"));
                std::fs::create_dir_all(&dir).expect("creating the test folder");
                let url = format!("sqlite://{}", dir.join("chat.db").display());
                Self::Sqlite { dir, url }
            }
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Self::Postgres { .. } => Backend::Postgres,
            Self::Sqlite { .. } => Backend::Sqlite,
        }
    }

    /// The PostgreSQL database's name (for `pg_stat_activity` and the like).
    pub fn postgres_name(&self) -> &str {
        match self {
            Self::Postgres { name, .. } => name,
            Self::Sqlite { .. } => panic!("an SQLite test has no PostgreSQL database"),
        }
    }

    pub fn url(&self) -> &str {
        match self {
            Self::Postgres { url, .. } | Self::Sqlite { url, .. } => url,
        }
    }

    pub async fn conn(&self) -> TestConn {
        match self {
            Self::Postgres { url, .. } => TestConn::Postgres(
                AsyncPgConnection::establish(url)
                    .await
                    .expect("connecting to the test database"),
            ),
            Self::Sqlite { url, .. } => {
                let path = url.trim_start_matches("sqlite://");
                let mut conn = SyncConnectionWrapper::<SqliteConnection>::establish(path)
                    .await
                    .expect("opening the test database");
                conn.batch_execute("PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;")
                    .await
                    .expect("configuring the test connection");
                TestConn::Sqlite(conn)
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match self {
            Self::Sqlite { dir, .. } => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Self::Postgres {
                name, admin_url, ..
            } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop cannot await; a thread with its own runtime can, even while the test's
                // runtime is shutting down or unwinding.
                let dropped = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()?;
                    rt.block_on(async {
                        let mut conn = AsyncPgConnection::establish(&admin_url).await?;
                        diesel::sql_query(format!(
                            r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#
                        ))
                        .execute(&mut conn)
                        .await?;
                        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
                    })
                })
                .join();
                if !matches!(dropped, Ok(Ok(()))) {
                    eprintln!("could not drop a test database");
                }
            }
        }
    }
}
