-- The cascade from a deleted user.
CREATE INDEX CONCURRENTLY IF NOT EXISTS chat_conversation_message_user_idx
    ON chat_conversation_message (neptun_user_id);
