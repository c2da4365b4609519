-- The app's tables for a chat's code blocks (files) and its public shares, as in
-- migrations/postgres. The share's uuid is made by the service (SQLite has no generator).
CREATE TABLE neptun_user_file (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    title          TEXT,
    text           TEXT    NOT NULL,
    language       TEXT    NOT NULL DEFAULT 'text',
    file_extension TEXT    NOT NULL DEFAULT 'txt',
    created_at     TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    updated_at     TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    neptun_user_id INTEGER NOT NULL REFERENCES neptun_user (id) ON DELETE CASCADE
);

CREATE TABLE chat_conversation_file (
    id                           INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at                   TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    updated_at                   TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    neptun_user_id               INTEGER NOT NULL REFERENCES neptun_user (id) ON DELETE CASCADE,
    chat_conversation_id         INTEGER NOT NULL REFERENCES chat_conversation (id) ON DELETE CASCADE,
    chat_conversation_message_id INTEGER NOT NULL REFERENCES chat_conversation_message (id) ON DELETE CASCADE,
    neptun_user_file_id          INTEGER NOT NULL REFERENCES neptun_user_file (id) ON DELETE CASCADE
);
CREATE INDEX chat_conversation_file_chat_idx ON chat_conversation_file (chat_conversation_id);

CREATE TABLE chat_conversation_share (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    is_shared            INTEGER NOT NULL DEFAULT 1,
    share_id             TEXT    NOT NULL UNIQUE,
    is_protected         INTEGER NOT NULL DEFAULT 0,
    hashed_password      TEXT,
    created_at           TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    updated_at           TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    chat_conversation_id INTEGER NOT NULL UNIQUE REFERENCES chat_conversation (id) ON DELETE CASCADE
);

CREATE TABLE chat_conversation_share_whitelist_entry (
    id                         INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at                 TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    updated_at                 TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
    whitelisted_neptun_user_id INTEGER NOT NULL REFERENCES neptun_user (id) ON DELETE CASCADE,
    chat_conversation_share_id INTEGER NOT NULL REFERENCES chat_conversation_share (id) ON DELETE CASCADE
);
CREATE INDEX chat_conversation_share_whitelist_share_idx
    ON chat_conversation_share_whitelist_entry (chat_conversation_share_id);
