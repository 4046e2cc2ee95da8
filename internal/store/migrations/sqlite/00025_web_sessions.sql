-- +goose Up
-- Server-side sessions of the web pages (see the postgres migration).
CREATE TABLE web_sessions (
    token_hash VARCHAR(64) PRIMARY KEY,
    data       BLOB        NOT NULL,
    expires_at TIMESTAMP   NOT NULL
);
CREATE INDEX web_sessions_expires_idx ON web_sessions (expires_at);

-- +goose Down
DROP TABLE web_sessions;
