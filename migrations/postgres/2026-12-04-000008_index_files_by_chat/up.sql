-- A chat's files (the Code Blocks panel), the cascade from a deleted chat, and a share's
-- whitelist: none has an index on the app's database.
CREATE INDEX CONCURRENTLY IF NOT EXISTS chat_conversation_file_chat_idx
    ON chat_conversation_file (chat_conversation_id);
