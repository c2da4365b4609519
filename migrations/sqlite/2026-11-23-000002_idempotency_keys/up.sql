-- Idempotency keys: a write's first answer, kept with the key that named it so that a retry
-- gets it back (see the README, "Retries"). Timestamps as the other tables write them.
CREATE TABLE chat_service_idempotency_key (
    neptun_user_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    operation TEXT NOT NULL,
    fingerprint BLOB NOT NULL,
    status INTEGER NOT NULL,
    body BLOB NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (neptun_user_id, key)
);
CREATE INDEX chat_service_idempotency_key_created_at ON chat_service_idempotency_key (created_at);
