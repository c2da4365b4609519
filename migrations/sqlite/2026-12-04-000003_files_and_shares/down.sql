DROP TABLE chat_conversation_share_whitelist_entry;
DROP TABLE chat_conversation_share;
DROP TABLE chat_conversation_file;
DROP TABLE neptun_user_file;
