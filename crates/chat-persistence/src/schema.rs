//! The app's tables, as diesel sees them, once per backend: only the timestamp type differs.
//! Kept by hand in step with `migrations/postgres` and `migrations/sqlite`.

/// SQL types of the service's own.
pub mod sql_types {
    use diesel::deserialize::{self, FromSql};
    use diesel::pg::{Pg, PgValue};
    use diesel::serialize::{self, Output, ToSql};
    use diesel::sql_types::BigInt;
    use diesel::sqlite::Sqlite;

    /// A message id on PostgreSQL: `integer` in the app's tables, `bigint` in the service's
    /// own. Read from either width; bound as `bigint` (PostgreSQL compares the two).
    #[derive(Debug, Clone, Copy, diesel::sql_types::SqlType, diesel::query_builder::QueryId)]
    #[diesel(postgres_type(oid = 20, array_oid = 1016))]
    pub struct AnyInt;

    impl FromSql<AnyInt, Pg> for i64 {
        fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
            match value.as_bytes() {
                &[a, b, c, d] => Ok(i32::from_be_bytes([a, b, c, d]).into()),
                bytes => Ok(i64::from_be_bytes(bytes.try_into()?)),
            }
        }
    }

    /// A message id bound in a query, on either backend (`i64` itself cannot be given
    /// [`AnyInt`]'s expression type: diesel owns both).
    #[derive(Debug, Clone, Copy, diesel::expression::AsExpression)]
    #[diesel(sql_type = AnyInt)]
    #[diesel(sql_type = BigInt)]
    pub struct IdBind(pub i64);

    impl ToSql<AnyInt, Pg> for IdBind {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
            <i64 as ToSql<BigInt, Pg>>::to_sql(&self.0, out)
        }
    }

    impl ToSql<BigInt, Sqlite> for IdBind {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
            <i64 as ToSql<BigInt, Sqlite>>::to_sql(&self.0, out)
        }
    }
}

macro_rules! chat_tables {
    ($Timestamp:ident, $MessageId:ty) => {
        diesel::table! {
            use diesel::sql_types::*;

            neptun_user (id) {
                id -> Int4,
                primary_email -> Text,
                created_at -> $Timestamp,
                updated_at -> $Timestamp,
            }
        }

        diesel::table! {
            use diesel::sql_types::*;

            chat_conversation (id) {
                id -> Int4,
                name -> Text,
                model -> Text,
                neptun_user_id -> Int4,
                created_at -> $Timestamp,
                updated_at -> $Timestamp,
            }
        }

        diesel::table! {
            use diesel::sql_types::*;

            chat_conversation_message (id) {
                id -> $MessageId,
                message -> Text,
                actor -> Text,
                neptun_user_id -> Int4,
                chat_conversation_id -> Int4,
                created_at -> $Timestamp,
                updated_at -> $Timestamp,
            }
        }

        diesel::joinable!(chat_conversation -> neptun_user (neptun_user_id));
        diesel::joinable!(chat_conversation_message -> chat_conversation (chat_conversation_id));
        diesel::joinable!(chat_conversation_message -> neptun_user (neptun_user_id));

        diesel::allow_tables_to_appear_in_same_query!(
            neptun_user,
            chat_conversation,
            chat_conversation_message,
        );
    };
}

pub mod postgres {
    chat_tables!(Timestamptz, crate::schema::sql_types::AnyInt);
}

pub mod sqlite {
    // Text in the database ("2024-03-20 10:00:00.123+00:00"); diesel reads and writes it as UTC.
    chat_tables!(TimestamptzSqlite, Int8);
}
