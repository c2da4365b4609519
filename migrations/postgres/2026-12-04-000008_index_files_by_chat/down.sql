DROP INDEX CONCURRENTLY IF EXISTS chat_conversation_file_chat_idx;
