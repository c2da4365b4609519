DROP TABLE IF EXISTS chat_service_idempotency_key;
