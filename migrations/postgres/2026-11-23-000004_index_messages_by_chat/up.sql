-- A chat's messages in id order (paging), and the cascade from a deleted chat.
CREATE INDEX CONCURRENTLY IF NOT EXISTS chat_conversation_message_chat_idx
    ON chat_conversation_message (chat_conversation_id, id);
