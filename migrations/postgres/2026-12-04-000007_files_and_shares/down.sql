-- Drops only the tables the service made; on an adopted database the app's stay with their rows.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['chat_conversation_share_whitelist_entry', 'chat_conversation_share',
                             'chat_conversation_file', 'neptun_user_file'] LOOP
        IF EXISTS (SELECT 1 FROM chat_service_owned_table WHERE name = t) THEN
            EXECUTE format('DROP TABLE IF EXISTS %I', t);
        END IF;
    END LOOP;
END
$$;
DROP TABLE chat_service_owned_table;
