-- A user's chats, newest activity first; also serves the owner check (id is the primary key).
CREATE INDEX CONCURRENTLY IF NOT EXISTS chat_conversation_user_activity_idx
    ON chat_conversation (neptun_user_id, updated_at DESC, id DESC);
