//! The persistence adapter: the domain's `ChatStore` port on PostgreSQL, with diesel +
//! diesel-async, and the embedded migrations.

mod fault;
pub mod migrate;
pub mod postgres;
mod rows;
pub mod schema;

pub use migrate::run_postgres_migrations;
pub use postgres::{PgSettings, PgStore};
