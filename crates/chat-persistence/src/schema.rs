//! The app's tables, as diesel sees them. Kept by hand in step with `migrations/postgres`.

diesel::table! {
    neptun_user (id) {
        id -> Int4,
        primary_email -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    chat_conversation (id) {
        id -> Int4,
        name -> Text,
        model -> Text,
        neptun_user_id -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    chat_conversation_message (id) {
        id -> Int8,
        message -> Text,
        actor -> Text,
        neptun_user_id -> Int4,
        chat_conversation_id -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
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
