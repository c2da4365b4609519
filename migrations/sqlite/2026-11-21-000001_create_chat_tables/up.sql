-- The same tables as migrations/postgres, in SQLite's terms. Timestamps are UTC text as diesel
-- writes them ("2024-03-20 10:00:00.123+00:00"); AUTOINCREMENT so that ids are never reused,
-- as PostgreSQL never reuses them. Foreign keys are enforced because every connection turns
-- them on (PRAGMA foreign_keys = ON).

CREATE TABLE neptun_user (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    primary_email TEXT    NOT NULL UNIQUE,
    created_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    updated_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'))
);

CREATE TABLE chat_conversation (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT    NOT NULL,
    model          TEXT    NOT NULL,
    neptun_user_id INTEGER NOT NULL REFERENCES neptun_user (id) ON DELETE CASCADE,
    created_at     TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    updated_at     TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'))
);

CREATE INDEX chat_conversation_user_activity_idx
    ON chat_conversation (neptun_user_id, updated_at DESC, id DESC);

CREATE TABLE chat_conversation_message (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    message              TEXT    NOT NULL,
    actor                TEXT    NOT NULL CHECK (actor IN ('user', 'assistant', 'system')),
    neptun_user_id       INTEGER NOT NULL REFERENCES neptun_user (id) ON DELETE CASCADE,
    chat_conversation_id INTEGER NOT NULL REFERENCES chat_conversation (id) ON DELETE CASCADE,
    created_at           TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    updated_at           TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'))
);

CREATE INDEX chat_conversation_message_chat_idx
    ON chat_conversation_message (chat_conversation_id, id);
CREATE INDEX chat_conversation_message_user_idx
    ON chat_conversation_message (neptun_user_id);
