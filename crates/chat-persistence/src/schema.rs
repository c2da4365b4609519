//! The app's tables, as diesel sees them, once per backend: only the timestamp type differs.
//! Kept by hand in step with `migrations/postgres` and `migrations/sqlite`.

macro_rules! chat_tables {
    ($Timestamp:ident) => {
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
                id -> Int8,
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
    chat_tables!(Timestamptz);
}

pub mod sqlite {
    // Text in the database ("2024-03-20 10:00:00.123+00:00"); diesel reads and writes it as UTC.
    chat_tables!(TimestamptzSqlite);
}
