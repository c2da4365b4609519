DROP TABLE chat_conversation_message;
DROP TABLE chat_conversation;
DROP TABLE neptun_user;
