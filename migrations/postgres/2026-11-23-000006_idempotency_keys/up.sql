-- Idempotency keys: a write's first answer, kept with the key that named it so that a retry
-- gets it back (see the README, "Retries"). The service's own table: the app has none.
-- Keys are per user; no foreign key, so the table fits either shape of the app's ids, and a
-- key outlives nothing: keys are purged after `idempotency.ttl`.
CREATE TABLE IF NOT EXISTS chat_service_idempotency_key (
    neptun_user_id bigint NOT NULL,
    key text NOT NULL,
    operation text NOT NULL,
    fingerprint bytea NOT NULL,
    status smallint NOT NULL,
    body bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (neptun_user_id, key)
);
-- The purge deletes by age.
CREATE INDEX IF NOT EXISTS chat_service_idempotency_key_created_at
    ON chat_service_idempotency_key (created_at);
