-- Drops the tables only if this migration created them: on an adopted database they are the
-- app's, and stay with their rows.
DO $$
BEGIN
    IF to_regclass('chat_service_schema') IS NULL
       OR NOT (SELECT bool_or(adopted) FROM chat_service_schema) THEN
        DROP TABLE IF EXISTS chat_conversation_message;
        DROP TABLE IF EXISTS chat_conversation;
        DROP TABLE IF EXISTS neptun_user;
    END IF;
    DROP TABLE IF EXISTS chat_service_schema;
END
$$;
