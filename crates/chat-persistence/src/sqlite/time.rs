//! Time as the SQLite adapter writes it.

use chrono::{DateTime, SubsecRound, Utc};
use diesel::serialize::{IsNull, Output, ToSql};
use diesel::sql_types::TimestamptzSqlite;
use diesel::sqlite::Sqlite;

/// A timestamp as this adapter writes and compares it: UTC text with exactly three fraction
/// digits (`2024-03-20 10:00:00.120+00:00`), the format of the schema's defaults too. One fixed
/// format makes text order time order, which keyset paging relies on; diesel's own encoding
/// drops trailing zeros (`10:00:00.12`), which would not compare right.
#[derive(Debug, Clone, Copy, diesel::expression::AsExpression)]
#[diesel(sql_type = TimestamptzSqlite)]
pub struct SqliteTime(pub DateTime<Utc>);

impl ToSql<TimestamptzSqlite, Sqlite> for SqliteTime {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> diesel::serialize::Result {
        out.set_value(self.0.format("%Y-%m-%d %H:%M:%S%.3f+00:00").to_string());
        Ok(IsNull::No)
    }
}

/// Now, in the millisecond precision both backends answer with.
pub(crate) fn now() -> SqliteTime {
    SqliteTime(Utc::now().trunc_subsecs(3))
}
