-- The app's actor enum (an adopted database) has only 'user' and 'assistant'; the service
-- also stores 'system'. Adding a value rewrites nothing. A fresh database has no such type.
DO $$
BEGIN
    IF to_regtype('chat_conversation_message_actor_enum') IS NOT NULL THEN
        ALTER TYPE chat_conversation_message_actor_enum ADD VALUE IF NOT EXISTS 'system';
    END IF;
END
$$;
